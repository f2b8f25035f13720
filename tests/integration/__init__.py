# SPDX-License-Identifier: MIT
"""Tests of invenio-workflow-records."""

# SPDX-License-Identifier: MIT
"""Tests of workflow definitions, plans and the workflow task decorator."""

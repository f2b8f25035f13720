# SPDX-License-Identifier: MIT
"""Part of invenio-workflow-records."""

# SPDX-License-Identifier: MIT
"""Search mappings of invenio-workflow-records."""

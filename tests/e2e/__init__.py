# SPDX-License-Identifier: MIT
"""Browser (E2E) tests of the workflow dashboards."""

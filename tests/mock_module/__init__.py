# SPDX-License-Identifier: MIT
"""Workflows and tasks that the test suite registers."""

# SPDX-License-Identifier: MIT
"""Errors of the engine."""


class WorkflowStateError(Exception):
    """The action is not allowed in the current state (HTTP 409)."""

    def __init__(self, message):
        """The reason, for the user."""
        super().__init__(message)
        self.description = message

# SPDX-License-Identifier: MIT
"""``python -m invenio_workflow_records.demo [--once] [--no-ui] [--port N]``: the demo."""

from .cli import demo

if __name__ == "__main__":  # pragma: no cover
    demo(prog_name="python -m invenio_workflow_records.demo")

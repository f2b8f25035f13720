# SPDX-License-Identifier: MIT
"""Serve the browser tests' site with sample workflows, until Ctrl-C.

``python -m tests.e2e.serve``: prints the URLs and the two users' logins.
For looking at the pages while writing them (and the README screenshots).
"""

import os
import sys
import tempfile
import time

from .site import Actions, Site
from .users import ADMIN, READER, create_users


def seed(actions, marker):
    """A finished, a failed, a running and a wide workflow; their ids."""
    ids = {
        "succeeded": actions.create(
            "e2e-pipeline", subject={"type": "record", "id": "r-1"}
        ),
        "failed": actions.create(
            "e2e-pipeline",
            {"marker": marker},
            subject={"type": "record", "id": "r-1"},
        ),
        "running": actions.create("e2e-slow", {"seconds": 3600}),
        "wide": actions.create("e2e-wide"),
        "created": actions.create("e2e-pipeline", start=False),
    }
    actions.wait_status(ids["succeeded"], {"succeeded"})
    actions.wait_status(ids["failed"], {"failed"})
    actions.wait_status(ids["wide"], {"succeeded"}, timeout=120)
    actions.wait_indexed()
    return ids


def main():
    """Start the site, seed it, print the URLs, serve until Ctrl-C."""
    site = Site().start()
    try:
        actions = Actions(site)
        create_users(site)
        marker = os.path.join(tempfile.gettempdir(), "workflows-e2e-serve-marker")
        open(marker, "w").close()
        ids = seed(actions, marker)
        print(
            f"Login:      {site.url}/login/  {ADMIN} / {READER} (password: e2e-password)"
        )
        print(f"Workflows:  {site.url}/administration/workflows")
        print(f"Tasks:      {site.url}/administration/workflow-tasks")
        for label, workflow_id in ids.items():
            print(f"{label:11} {site.url}/administration/workflows/{workflow_id}")
        print(f"Subject:    {site.url}/e2e/records/r-1")
        print(f"Marker:     rm {marker}  (then the failed task can succeed)")
        sys.stdout.flush()
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()

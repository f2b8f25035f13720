# SPDX-License-Identifier: MIT
"""Fixtures of the chromium tests: a running site and headless Chromium.

Collected only with ``WORKFLOWS_E2E=1`` (``.ci/run`` runs them once, on
PostgreSQL with a real worker and Redis); they need the ``ui`` extra,
Node.js 18+ for the asset build (cached, see
:mod:`invenio_workflow_records.demo.assets`) and Debian's ``chromium`` and
``chromium-driver``. Without ``WORKFLOWS_E2E=1`` nothing here is imported.
Under ``CI=true`` a missing chromium fails the run instead of skipping it.

Each test saves a screenshot of the chromium when it ends, pass or fail, into
``$WORKFLOWS_E2E_SCREENSHOTS`` (else ``$WORKFLOWS_TEST_WORKER_LOG_DIR/
e2e-screenshots``, else the site's temporary directory).
"""

import os
import shutil

import pytest

collect_ignore_glob = [] if os.environ.get("WORKFLOWS_E2E") == "1" else ["*.py"]


def _screenshot_dir(site):
    directory = os.environ.get("WORKFLOWS_E2E_SCREENSHOTS")
    if not directory and os.environ.get("WORKFLOWS_TEST_WORKER_LOG_DIR"):
        directory = os.path.join(
            os.environ["WORKFLOWS_TEST_WORKER_LOG_DIR"], "e2e-screenshots"
        )
    directory = directory or os.path.join(site.directory, "screenshots")
    os.makedirs(directory, exist_ok=True)
    return directory


@pytest.fixture(scope="session")
def site():
    """A running site: database, search, broker, worker, UI and API."""
    from .site import Site

    running = Site().start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def actions(site):
    """Database-side actions on the site (create, read, wait)."""
    from .site import Actions

    return Actions(site)


@pytest.fixture(scope="session")
def user_ids(site):
    """The admin and the reader: ``{email: id}``."""
    from .users import create_users

    return create_users(site)


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Selenium (no browser download)."""
    from .browser import CHROMEDRIVER, CHROMIUM, headless_chromium

    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            message = f"{path} is missing: apt-get install chromium chromium-driver"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
    driver = headless_chromium()
    yield driver
    driver.quit()


@pytest.fixture()
def snap(site, chromium):
    """A function that saves the browser's screenshot as ``<name>.png``."""
    directory = _screenshot_dir(site)

    def save(name):
        chromium.save_screenshot(os.path.join(directory, f"{name}.png"))

    return save


@pytest.fixture(autouse=True)
def screenshot(request, snap):
    """Save the browser's screenshot when the test ends (pass or fail)."""
    yield
    snap(request.node.name.replace("/", "_"))


@pytest.fixture()
def console_errors(chromium):
    """A function that returns the chromium console's errors since the last call."""

    def errors():
        return [
            entry
            for entry in chromium.get_log("browser")
            if entry.get("level") == "SEVERE"
        ]

    errors()
    return errors

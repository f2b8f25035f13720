# SPDX-License-Identifier: MIT
"""The built UI assets of the demo and the browser tests, cached between runs.

An Invenio instance builds its pages' JavaScript and CSS once, with
``invenio collect`` and ``invenio webpack buildall`` (npm and rspack, Node
18 or newer). The demo and ``tests/e2e`` do the same, into a cache folder
keyed by what the build depends on: this package's assets and the versions
of the installed packages that contribute webpack bundles. A second run with
the same key reuses the build; a changed asset makes a new one.

The cache lives in ``$WORKFLOWS_ASSETS_CACHE``, else
``$XDG_CACHE_HOME/invenio-workflow-records/assets`` (``~/.cache/...``).
"""

import fcntl
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager

NODE_MIN_MAJOR = 18
"""Oldest Node.js major version the build supports."""

PROJECT = "invenio_workflow_records.demo.theme:demo_project"
"""The webpack project: invenio-assets' rspack project plus the demo theme."""

MANIFEST = os.path.join("dist", "manifest.json")

KEEP_BUILDS = 3
"""Builds kept in the cache (each about 30 MB; the newest holds node_modules)."""


class AssetBuildError(Exception):
    """The assets could not be built (the message says why, in one line)."""


def node_problem():
    """Why Node.js cannot build the assets, or ``None`` when it can."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return f"Node.js {NODE_MIN_MAJOR}+ and npm are needed and were not found"
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        return f"`node --version` failed: {error}"
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < NODE_MIN_MAJOR:
        return f"Node.js {NODE_MIN_MAJOR}+ is needed, found {version or 'unknown'}"
    return None


def cache_root(environ=None):
    """The folder that holds the cached builds."""
    environ = os.environ if environ is None else environ
    if environ.get("WORKFLOWS_ASSETS_CACHE"):
        return environ["WORKFLOWS_ASSETS_CACHE"]
    base = environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(base, "invenio-workflow-records", "assets")


def _bundle_distributions():
    """``name==version`` of every distribution with a webpack bundle (sorted)."""
    names = set()
    for entry_point in importlib.metadata.entry_points(group="invenio_assets.webpack"):
        if entry_point.dist is not None:
            names.add(f"{entry_point.dist.name}=={entry_point.dist.version}")
    return sorted(names)


def build_key():
    """A short hash of everything the build depends on."""
    digest = hashlib.sha256()
    for line in _bundle_distributions():
        digest.update(line.encode() + b"\n")
    root = os.path.join(os.path.dirname(os.path.dirname(__file__)), "assets")
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as fp:
                digest.update(hashlib.sha256(fp.read()).digest())
    digest.update(PROJECT.encode())
    return digest.hexdigest()[:16]


class AssetBuild:
    """One cached build: ``<cache>/<key>/static`` (served) and ``assets`` (npm)."""

    def __init__(self, root=None, key=None):
        """The build for ``key`` (default: :func:`build_key`) under ``root``."""
        self.root = root or cache_root()
        self.key = key or build_key()
        self.directory = os.path.join(self.root, self.key)
        self.static_folder = os.path.join(self.directory, "static")
        self.project_folder = os.path.join(self.directory, "assets")
        self.log_path = os.path.join(self.directory, "build.log")

    @property
    def done(self):
        """Whether this build finished (its manifest exists)."""
        return os.path.isfile(os.path.join(self.static_folder, MANIFEST))

    def app_config(self):
        """The configuration that makes an app use (and build) these assets.

        The app's static folder must be :attr:`static_folder` as well: pass
        ``INVENIO_STATIC_FOLDER`` in the environment of ``create_app``.
        """
        return {
            "APP_THEME": ["semantic-ui"],
            "WEBPACKEXT_PROJECT": PROJECT,
            "WEBPACKEXT_PROJECT_BUILDDIR": self.project_folder,
            "WEBPACKEXT_PROJECT_DISTDIR": os.path.join(self.static_folder, "dist"),
            "COLLECT_STATIC_ROOT": self.static_folder,
        }

    @contextmanager
    def _lock(self):
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, f".{self.key}.lock"), "w") as fp:
            fcntl.flock(fp, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fp, fcntl.LOCK_UN)

    def ensure(self, app, say=print):
        """Build unless a finished build exists; seconds spent building (0.0).

        ``app`` is an application configured with :meth:`app_config`;
        ``say`` prints progress, one line a step. Raises
        :class:`AssetBuildError` when Node.js is missing or a step fails
        (the npm output is in :attr:`log_path`).
        """
        with self._lock():
            if self.done:
                return 0.0
            problem = node_problem()
            if problem:
                raise AssetBuildError(problem)
            began = time.monotonic()
            os.makedirs(self.directory, exist_ok=True)
            with app.app_context(), open(self.log_path, "w") as log:
                self._step(say, "collecting static files", self._collect, app)
                project = app.extensions["flask-webpackext"].project
                self._step(say, "writing the webpack project", project.create)
                self._adopt_node_modules()
                self._step(
                    say,
                    "npm install (about 1 min and 450 MB the first time)",
                    self._npm,
                    log,
                    "install",
                    "--no-audit",
                    "--no-fund",
                )
                self._step(say, "rspack build", self._npm, log, "run", "build")
            if not self.done:
                raise AssetBuildError(
                    f"the build wrote no {MANIFEST}; see {self.log_path}"
                )
            self._prune()
            return time.monotonic() - began

    def _other_builds(self):
        """``(mtime, folder)`` of the cache's other builds, newest first."""
        builds = []
        for name in os.listdir(self.root):
            folder = os.path.join(self.root, name)
            if name != self.key and os.path.isdir(folder):
                builds.append((os.path.getmtime(folder), folder))
        return sorted(builds, reverse=True)

    def _adopt_node_modules(self):
        """Take over ``node_modules`` of the newest other build that has one.

        A changed asset gives a new key; its npm install then only updates
        the packages instead of downloading all of them. The older build
        keeps its ``static`` folder, all that serving it needs.
        """
        target = os.path.join(self.project_folder, "node_modules")
        if os.path.exists(target):
            return
        for _, folder in self._other_builds():
            node_modules = os.path.join(folder, "assets", "node_modules")
            if os.path.isdir(node_modules):
                os.rename(node_modules, target)
                return

    def _prune(self, keep=KEEP_BUILDS):
        """Remove all but the ``keep`` newest builds (this one included).

        A running demo may still serve an older build: the newest few stay.
        """
        for _, folder in self._other_builds()[keep - 1 :]:
            shutil.rmtree(folder, ignore_errors=True)
            lock = os.path.join(self.root, f".{os.path.basename(folder)}.lock")
            if os.path.exists(lock):
                os.unlink(lock)

    @staticmethod
    def _step(say, label, function, *args):
        began = time.monotonic()
        say(f"  assets     {label} ...")
        function(*args)
        say(f"  assets     {label}: done in {time.monotonic() - began:.1f}s")

    @staticmethod
    def _collect(app):
        app.extensions["collect"].collect(verbose=False)

    def _npm(self, log, *args):
        log.write(f"$ npm {' '.join(args)}\n")
        log.flush()
        result = subprocess.run(
            ["npm", *args],
            cwd=self.project_folder,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if result.returncode:
            raise AssetBuildError(
                f"`npm {' '.join(args)}` exited with {result.returncode}; "
                f"see {self.log_path}"
            )


def build_app(build, directory):
    """An application that can only build ``build`` (throw-away SQLite in ``directory``)."""
    from invenio_app.factory import create_app

    os.environ["INVENIO_STATIC_FOLDER"] = build.static_folder
    return create_app(
        SECRET_KEY="assets-build-only",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{os.path.join(directory, 'build.db')}",
        JSONSCHEMAS_HOST="localhost",
        **build.app_config(),
    )

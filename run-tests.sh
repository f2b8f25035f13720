#!/usr/bin/env bash
# Run the test suite:  ./run-tests.sh [pytest options...]   e.g. ./run-tests.sh -x -k engine
#
# Works on a fresh checkout: without an active virtualenv it creates (or
# reuses) .venv here, installs the package with its test extras when needed,
# then runs pytest. Databases: SQLite by default; set SQLALCHEMY_DATABASE_URI
# for PostgreSQL (scripts/services.sh starts a throw-away PostgreSQL and Redis).
set -euo pipefail
cd "$(dirname "$0")"

# 1. Virtualenv: use the active one, else .venv (re-created if broken).
if [ -z "${VIRTUAL_ENV:-}" ]; then
    if ! .venv/bin/python -c '' 2>/dev/null; then
        echo "run-tests: creating .venv" >&2
        python3 -m venv --clear .venv
    fi
    VIRTUAL_ENV="$PWD/.venv"
    export VIRTUAL_ENV PATH="$VIRTUAL_ENV/bin:$PATH"
fi
PY="$VIRTUAL_ENV/bin/python"

# 2. Install when the package is missing or setup.cfg/setup.py changed since.
stamp="$VIRTUAL_ENV/.invenio-workflow-records.installed"
if ! "$PY" -c 'import importlib.metadata as m; m.distribution("invenio-workflow-records")' 2>/dev/null ||
    [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
    echo "run-tests: installing the package and its test dependencies" >&2
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install --progress-bar off -e ".[tests,postgresql]"
    touch "$stamp"
fi

# 3. Run pytest; options pass through.
exec "$PY" -m pytest "$@"

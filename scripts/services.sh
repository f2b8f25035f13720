#!/usr/bin/env bash
# Throw-away PostgreSQL and Redis for the test suite (CI and local use).
#
#   scripts/services.sh start   install (if missing) and start both, write
#                               STATE_DIR/env and print its path last
#   scripts/services.sh stop    stop both and remove STATE_DIR
#   scripts/services.sh env     print the path of STATE_DIR/env
#   scripts/services.sh status  say what is running
#
# Use:  scripts/services.sh start && source "$(scripts/services.sh env)"
#
# STATE_DIR is ${WORKFLOWS_SERVICES_DIR:-/tmp/invenio-workflow-records-services}.
# Preferred ports: WORKFLOWS_PG_PORT (5433) and WORKFLOWS_REDIS_PORT (6380);
# the next free port is taken when one is busy. Everything binds to
# 127.0.0.1 only. The data is disposable: fsync is off and nothing persists.
set -euo pipefail

STATE_DIR="${WORKFLOWS_SERVICES_DIR:-/tmp/invenio-workflow-records-services}"
PG_DIR="$STATE_DIR/pg"          # owned by the postgres OS user when root
PGDATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"           # Unix socket dir, so no clash with a system cluster
PG_LOG="$PG_DIR/postgresql.log"
REDIS_PID="$STATE_DIR/redis.pid"
REDIS_LOG="$STATE_DIR/redis.log"
ENV_FILE="$STATE_DIR/env"
DB_NAME=invenio_workflows_test
DB_USER=invenio
DB_PASS=invenio
WAIT_SECS="${WORKFLOWS_SERVICES_TIMEOUT:-60}"

log() { echo "services: $*" >&2; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

# --- helpers ---------------------------------------------------------------

# The newest PostgreSQL bin dir (Debian keeps them in /usr/lib/postgresql/N/bin).
pg_bindir() {
    if [ -n "${WORKFLOWS_PG_BINDIR:-}" ]; then echo "$WORKFLOWS_PG_BINDIR"; return; fi
    local d
    d=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n1 || true)
    if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then d=$(pg_config --bindir); fi
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# Run a command as the PostgreSQL owner: postgres refuses to run as root.
as_pg() {
    if [ "$(id -u)" -ne 0 ]; then (cd / && "$@"); return; fi
    if command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- "$@")
    else
        # shellcheck disable=SC2016  # expanded by the inner shell
        (cd / && su -s /bin/sh -c '"$0" "$@"' postgres -- "$@")
    fi
}

# True when nothing accepts TCP connections on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# First free port from $1 upwards.
free_port() {
    local p=$1
    while ! port_free "$p"; do
        p=$((p + 1))
        [ "$p" -lt $(($1 + 200)) ] || die "no free port in $1..$p"
    done
    echo "$p"
}

install_missing() {
    local pkgs=()
    pg_bindir >/dev/null || pkgs+=(postgresql)
    { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || pkgs+=(redis-server)
    [ ${#pkgs[@]} -eq 0 ] && return 0
    log "installing ${pkgs[*]} with apt-get"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "${pkgs[*]} missing and not root: install them first"
        sudo=(sudo -n)
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Lock timeout: fresh cloud machines often run unattended-upgrades at boot.
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
    "${apt[@]}" update </dev/null >&2 || die "apt-get update failed"
    "${apt[@]}" install -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${pkgs[@]}" </dev/null >&2 || die "apt-get install ${pkgs[*]} failed"
    pg_bindir >/dev/null || die "PostgreSQL installed but no initdb found under /usr/lib/postgresql/*/bin"
}

pg_running() { [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
pg_port()    { cat "$STATE_DIR/pg.port" 2>/dev/null || true; }

redis_port() { cat "$STATE_DIR/redis.port" 2>/dev/null || true; }
redis_running() {
    local port; port=$(redis_port)
    [ -n "$port" ] && [ -f "$REDIS_PID" ] && kill -0 "$(cat "$REDIS_PID")" 2>/dev/null &&
        [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]
}

psql_admin() {
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$(pg_port)" -U postgres -d postgres
}

# --- PostgreSQL --------------------------------------------------------------

start_pg() {
    PGBIN=$(pg_bindir) || die "PostgreSQL binaries not found"
    local ver; ver=$("$PGBIN/postgres" --version | awk '{print $3}')
    if pg_running && [ -n "$(pg_port)" ]; then
        log "PostgreSQL $ver already running on 127.0.0.1:$(pg_port)"
    else
        if [ "$(id -u)" -eq 0 ]; then
            id postgres >/dev/null 2>&1 || die "no 'postgres' OS user (is the postgresql package installed?)"
            mkdir -p "$PG_DIR"
            chown postgres: "$PG_DIR"
            chmod 700 "$PG_DIR"
            as_pg test -w "$PG_DIR" || die "user postgres cannot reach $PG_DIR; use a WORKFLOWS_SERVICES_DIR it can traverse (e.g. under /tmp)"
        else
            mkdir -p "$PG_DIR"
        fi
        # Throw-away data: re-create it when missing, broken or from another major version.
        if [ ! -f "$PGDATA/PG_VERSION" ] || [ "$(cat "$PGDATA/PG_VERSION")" != "${ver%%.*}" ]; then
            rm -rf "$PGDATA"
            log "initdb $PGDATA (PostgreSQL $ver)"
            as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C \
                >"$STATE_DIR/initdb.log" 2>&1 || { cat "$STATE_DIR/initdb.log" >&2; die "initdb failed"; }
            echo "include_if_exists = 'test_services.conf'" | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
        fi
        local port; port=$(free_port "${WORKFLOWS_PG_PORT:-5433}")
        as_pg mkdir -p "$PG_SOCK"
        # Rewritten on every start so that the port can change.
        as_pg tee "$PGDATA/test_services.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$PG_SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
checkpoint_timeout = 30min
max_wal_size = 1GB
shared_buffers = 128MB
log_min_messages = warning
log_min_duration_statement = -1
EOF
        echo "$port" >"$STATE_DIR/pg.port"
        log "starting PostgreSQL $ver on 127.0.0.1:$port"
        # 9>&-: the daemons must not inherit (and hold) the lock file descriptor.
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t "$WAIT_SECS" start >/dev/null 2>&1 9>&- || {
            tail -n 30 "$PG_LOG" >&2 || true
            die "PostgreSQL did not start within ${WAIT_SECS}s (log: $PG_LOG)"
        }
    fi
    local i=0
    until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$(pg_port)" -t 1; do
        i=$((i + 1))
        [ "$i" -lt "$WAIT_SECS" ] || die "PostgreSQL on 127.0.0.1:$(pg_port) not accepting connections after ${WAIT_SECS}s (log: $PG_LOG)"
        sleep 1
    done
    # Role and database (idempotent).
    psql_admin <<EOF
SELECT 'CREATE ROLE $DB_USER LOGIN PASSWORD ''$DB_PASS'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
EOF
}

stop_pg() {
    PGBIN=$(pg_bindir) || return 0
    if pg_running; then
        log "stopping PostgreSQL"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$WAIT_SECS" stop >/dev/null ||
            log "WARNING: pg_ctl stop failed"
    fi
}

# --- Redis -------------------------------------------------------------------

start_redis() {
    if redis_running; then
        log "Redis already running on 127.0.0.1:$(redis_port)"
        return
    fi
    local port; port=$(free_port "${WORKFLOWS_REDIS_PORT:-6380}")
    echo "$port" >"$STATE_DIR/redis.port"
    rm -f "$REDIS_PID"
    log "starting Redis on 127.0.0.1:$port"
    redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
        --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --dir "$STATE_DIR" \
        --save "" --appendonly no </dev/null >/dev/null 9>&- ||
        die "redis-server failed to start (log: $REDIS_LOG)"
    local i=0
    until [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; do
        i=$((i + 1))
        [ "$i" -lt $((WAIT_SECS * 4)) ] || {
            tail -n 20 "$REDIS_LOG" >&2 || true
            die "Redis on 127.0.0.1:$port not answering PING after ${WAIT_SECS}s (log: $REDIS_LOG)"
        }
        sleep 0.25
    done
}

stop_redis() {
    local port pid; port=$(redis_port)
    pid=$(cat "$REDIS_PID" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    log "stopping Redis"
    if [ -n "$port" ]; then redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true; fi
    local i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -ge 40 ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
        sleep 0.25
    done
}

# --- commands ----------------------------------------------------------------

MARKER=.invenio-workflow-records-services
# Lock STATE_DIR, and refuse a directory this script did not create (stop
# removes it recursively).
lock() {
    case "$STATE_DIR" in /|/tmp|/tmp/|"$HOME"|"$HOME"/|"") die "unsafe state dir '$STATE_DIR'" ;; esac
    if [ -d "$STATE_DIR" ] && [ ! -e "$STATE_DIR/$MARKER" ] && [ -n "$(ls -A "$STATE_DIR")" ]; then
        die "$STATE_DIR exists and was not created by $0; set WORKFLOWS_SERVICES_DIR to a new directory"
    fi
    mkdir -p "$STATE_DIR"
    touch "$STATE_DIR/$MARKER"
    chmod 755 "$STATE_DIR"
    exec 9>"$STATE_DIR/.lock"
    flock -w 120 9 || die "another services.sh (or a process it started) holds $STATE_DIR/.lock"
}

cmd_start() {
    install_missing
    lock
    start_pg
    start_redis
    cat >"$ENV_FILE" <<EOF
# Written by scripts/services.sh start; source this file.
export SQLALCHEMY_DATABASE_URI=postgresql+psycopg2://$DB_USER:$DB_PASS@127.0.0.1:$(pg_port)/$DB_NAME
export WORKFLOWS_TEST_REDIS_URL=redis://127.0.0.1:$(redis_port)/0
EOF
    log "PostgreSQL 127.0.0.1:$(pg_port)  Redis 127.0.0.1:$(redis_port)"
    echo "$ENV_FILE"
}

cmd_stop() {
    [ -d "$STATE_DIR" ] || { log "nothing to stop ($STATE_DIR absent)"; return 0; }
    lock
    stop_pg
    stop_redis
    rm -rf "$STATE_DIR"
    log "stopped, removed $STATE_DIR"
}

cmd_env() {
    [ -f "$ENV_FILE" ] || die "$ENV_FILE missing: run '$0 start' first"
    echo "$ENV_FILE"
}

cmd_status() {
    PGBIN=$(pg_bindir) || PGBIN=/nonexistent
    local rc=0
    if pg_running; then echo "postgresql: running on 127.0.0.1:$(pg_port)"; else echo "postgresql: stopped"; rc=1; fi
    if redis_running; then echo "redis: running on 127.0.0.1:$(redis_port)"; else echo "redis: stopped"; rc=1; fi
    return $rc
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac

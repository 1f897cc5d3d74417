# Settings of the local Flink session cluster; sourced by the scripts beside it.
# Builds on infra/local/env.sh (SLUICE_HOME, SLUICE_STATE, log, wait_for).
# shellcheck shell=bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../local" && pwd)/env.sh"

FLINK_VERSION="2.2.1"
# The distribution is shared by all checkouts (it is only a cache); the
# runtime state (pids, logs, uploaded jars) stays per checkout in SLUICE_STATE.
export FLINK_HOME="$SLUICE_HOME/flink-$FLINK_VERSION"
export FLINK_REST_PORT="${FLINK_REST_PORT:-8081}"
export FLINK_RPC_PORT="${FLINK_RPC_PORT:-6123}"
export FLINK_GATEWAY_PORT="${FLINK_GATEWAY_PORT:-8083}"
export FLINK_REST_URL="http://127.0.0.1:$FLINK_REST_PORT"
export FLINK_GATEWAY_URL="http://127.0.0.1:$FLINK_GATEWAY_PORT"
FLINK_RUNNER_DIR="$SLUICE_REPO/infra/flink-sql-runner"

# run_quiet LOGFILE COMMAND...: runs COMMAND with its output in LOGFILE, shown only if it fails
# (Maven 3.8's -q still prints stray colour codes, so Maven runs through this instead).
run_quiet() {
    local logfile="$1"
    shift
    mkdir -p "$(dirname "$logfile")"
    if ! "$@" >"$logfile" 2>&1; then
        cat "$logfile" >&2
        log "failed: $* (output in $logfile)"
        return 1
    fi
}

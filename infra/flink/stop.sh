#!/usr/bin/env bash
# Stops what start.sh started (SQL Gateway, TaskManager, JobManager): each recorded pid is the
# leader of its own process group, which gets SIGTERM, then SIGKILL after 30 s.
set -euo pipefail
source "$(dirname "$0")/env.sh"

stop_process() {
    local name="$1" pidfile="$SLUICE_STATE/flink-$1.pid"
    [[ -f "$pidfile" ]] || return 0
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping flink $name (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "flink $name did not stop within 30s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

stop_process sql-gateway
stop_process taskmanager
stop_process jobmanager

#!/usr/bin/env bash
# Stops what up.sh started, by the PIDs it recorded (whole process groups).
set -uo pipefail
source "$(dirname "$0")/env.sh"

quiet=false
[[ "${1:-}" == "--quiet" ]] && quiet=true

# Flink, the databases and Kafka have their own stop scripts (by PID too).
[[ -d "$SLUICE_STATE" ]] && {
    "$SLUICE_REPO/infra/flink/stop.sh" >/dev/null 2>&1 || true
    "$SLUICE_REPO/infra/db/stop.sh" >/dev/null 2>&1 || true
    "$SLUICE_REPO/infra/kafka/stop.sh" >/dev/null 2>&1 || true
}

# The bridge first: it invokes the functions.
for name in bridge watch moto; do
    pidfile="$SLUICE_STATE/$name.pid"
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        $quiet || log "stopping $name (pid $pid)"
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
done

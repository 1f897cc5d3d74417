#!/usr/bin/env bash
# Stops what start.sh started: the recorded pid is the leader of its own process group, which
# gets SIGTERM (the broker shuts down cleanly in a few seconds), then SIGKILL after 30 s.
set -euo pipefail
source "$(dirname "$0")/env.sh"

pidfile="$SLUICE_STATE/kafka.pid"
[[ -f "$pidfile" ]] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
    log "stopping kafka (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "kafka did not stop within 30s; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$pidfile"

#!/usr/bin/env bash
# Stops the PostgreSQL and MariaDB instances that start.sh started, by the pids it recorded in
# $SLUICE_STATE/{postgres,mariadb}.pid: PostgreSQL gets SIGINT (fast shutdown: disconnects the
# clients), MariaDB SIGTERM (clean shutdown), both at once; SIGKILL for whichever still runs
# after 30 s.
set -uo pipefail
source "$(dirname "$0")/env.sh"

declare -A pids=()
signal_server() { # signal_server NAME SIGNAL
    local name="$1" signal="$2" pidfile="$SLUICE_STATE/$1.pid"
    [[ -f "$pidfile" ]] || return 0
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping $name (pid $pid)"
        kill "-$signal" "$pid" 2>/dev/null || true
        pids[$name]="$pid"
    else
        rm -f "$pidfile"
    fi
}

signal_server postgres INT
signal_server mariadb TERM

deadline=$((SECONDS + 30))
for name in "${!pids[@]}"; do
    pid="${pids[$name]}"
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop within 30s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$SLUICE_STATE/$name.pid"
done

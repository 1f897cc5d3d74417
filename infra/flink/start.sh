#!/usr/bin/env bash
# Starts the local Flink session cluster: 1 JobManager + 1 TaskManager (2 slots), on 127.0.0.1
# only, small memory. Writes its configuration to $SLUICE_STATE/flink/conf (FLINK_CONF_DIR: the
# distribution in $FLINK_HOME stays read-only, so checkouts sharing it do not overwrite each
# other's settings); pids in $SLUICE_STATE/flink-*.pid,
# logs in $SLUICE_STATE/flink/. Waits until the REST API reports the TaskManager, then starts the
# SQL Gateway (REST endpoint on 127.0.0.1:$FLINK_GATEWAY_PORT, submitting to this cluster: the
# `gateway` Flink target) and waits until it answers.
#   start.sh               the cluster and the SQL Gateway
#   start.sh --no-gateway  the cluster only
# (--gateway, the former way to ask for the gateway, is still accepted.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

with_gateway=true
for arg in "$@"; do
    case "$arg" in
    --gateway) with_gateway=true ;;
    --no-gateway) with_gateway=false ;;
    *)
        echo "usage: $0 [--no-gateway]" >&2
        exit 2
        ;;
    esac
done

"$here/install.sh" >/dev/null

mkdir -p "$SLUICE_STATE/flink/log" "$SLUICE_STATE/flink/tmp" "$SLUICE_STATE/flink/upload"

running() { # running NAME: the process recorded in $SLUICE_STATE/flink-NAME.pid is alive
    local pidfile="$SLUICE_STATE/flink-$1.pid"
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

taskmanager_registered() {
    curl -fsS --max-time 2 "$FLINK_REST_URL/overview" | grep -Eq '"taskmanagers":[1-9]'
}

gateway_up() {
    curl -fsS --max-time 2 "$FLINK_GATEWAY_URL/v1/info" >/dev/null
}

# The JVM options of the wheel's config (--add-opens ... that Flink needs on Java 17).
java_opts="$(sed -n 's/^ *all: *//p' "$FLINK_HOME/conf/config.yaml.dist")"

# This checkout's configuration directory: the distribution's log4j/logback files and masters /
# workers, plus our config.yaml. Rewritten on every start.
export FLINK_CONF_DIR="$SLUICE_STATE/flink/conf"
mkdir -p "$FLINK_CONF_DIR"
for file in "$FLINK_HOME"/conf/*; do
    case "$(basename "$file")" in
    config.yaml | config.yaml.dist) ;;
    *) cp -f "$file" "$FLINK_CONF_DIR/" ;;
    esac
done

# Flattened keys are valid in Flink 2's config.yaml.
cat >"$FLINK_CONF_DIR/config.yaml" <<EOF
# Written by infra/flink/start.sh from \$FLINK_HOME/conf/config.yaml.dist; edits here are overwritten.
env.java.opts.all: $java_opts
env.java.opts.sql-gateway: -Xmx512m
env.log.dir: $SLUICE_STATE/flink/log
env.pid.dir: $SLUICE_STATE/flink
# stdout/stderr of the JVMs go to *.out/*.err beside the *.log files, not to the console.
env.stdout-err.redirect-to-file: true

jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $FLINK_RPC_PORT
jobmanager.bind-host: 127.0.0.1
jobmanager.memory.process.size: 1024m
jobmanager.execution.failover-strategy: region

taskmanager.host: 127.0.0.1
taskmanager.bind-host: 127.0.0.1
taskmanager.numberOfTaskSlots: 2
taskmanager.memory.process.size: 1536m

rest.address: 127.0.0.1
rest.bind-address: 127.0.0.1
rest.port: $FLINK_REST_PORT
blob.server.bind-host: 127.0.0.1
web.upload.dir: $SLUICE_STATE/flink/upload
io.tmp.dirs: $SLUICE_STATE/flink/tmp

parallelism.default: 1
# No restarts: a failed sync job fails at once and the reconciler sees it.
restart-strategy.type: none

sql-gateway.endpoint.rest.address: 127.0.0.1
sql-gateway.endpoint.rest.bind-address: 127.0.0.1
sql-gateway.endpoint.rest.port: $FLINK_GATEWAY_PORT
EOF

# The environment of the Flink processes. The runner's main() runs inside the JobManager
# (POST /jars/{id}/run) and opens sealed scripts with KMS (and reads them from S3), so the
# JobManager needs the AWS settings: those of the local stack (moto) from infra/local/env.sh, which
# the AWS SDK reads from the process environment (AWS_ENDPOINT_URL is honoured by SDK v2.57).
# They are passed explicitly below; SLUICE_RUNNER_ALLOW_PLAINTEXT (the runner's weaker
# --plaintext-script mode) only when set by the caller. Nothing of this goes into config.yaml (the
# REST API shows the configuration); Flink does not show the process environment.
flink_env=()
for var in AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID \
    AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED \
    SLUICE_S3_PATH_STYLE SLUICE_RUNNER_ALLOW_PLAINTEXT; do
    if [[ -n "${!var:-}" ]]; then
        flink_env+=("$var=${!var}")
    fi
done

# start_process NAME SCRIPT [supervised]: runs SCRIPT start-foreground in its own session
# (process group), records its pid; stop.sh kills the group. A supervised process is started
# again when it exits: a TaskManager dies with some failing jobs (a JDBC sink whose failure
# handler throws is FATAL for the whole TaskManager), and one bad job must not take the local
# cluster down for every run after it.
start_process() {
    local name="$1" script="$2" supervised="${3:-}"
    if running "$name"; then
        log "flink $name already running (pid $(cat "$SLUICE_STATE/flink-$name.pid"))"
        return
    fi
    log "starting flink $name"
    local command=("$FLINK_HOME/bin/$script" start-foreground)
    if [[ "$supervised" == supervised ]]; then
        command=(bash -c 'while :; do "$@"; echo "[sluice] $1 exited ($?); restarting" >&2; sleep 2; done' \
            supervise "${command[@]}")
    fi
    env "${flink_env[@]}" FLINK_LOG_DIR="$SLUICE_STATE/flink/log" \
        setsid "${command[@]}" </dev/null >"$SLUICE_STATE/flink/$name.out" 2>&1 &
    echo $! >"$SLUICE_STATE/flink-$name.pid"
}

port_taken() { # port_taken PORT: something listens on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ! running jobmanager && port_taken "$FLINK_REST_PORT"; then
    log "port $FLINK_REST_PORT is taken by another process; set FLINK_REST_PORT"
    exit 1
fi

start_process jobmanager jobmanager.sh
start_process taskmanager taskmanager.sh supervised
if ! wait_for "Flink (JobManager with a TaskManager on $FLINK_REST_URL)" 120 taskmanager_registered; then
    tail -n 30 "$SLUICE_STATE/flink/jobmanager.out" "$SLUICE_STATE/flink/taskmanager.out" >&2 || true
    exit 1
fi
log "Flink is up on $FLINK_REST_URL"

if $with_gateway; then
    if ! running sql-gateway && port_taken "$FLINK_GATEWAY_PORT"; then
        log "port $FLINK_GATEWAY_PORT is taken by another process; set FLINK_GATEWAY_PORT"
        exit 1
    fi
    # The gateway plans the scripts of `gateway` targets itself (plaintext SQL, no runner): it
    # reads this checkout's config.yaml (FLINK_CONF_DIR, exported above), so it binds to
    # 127.0.0.1:$FLINK_GATEWAY_PORT and submits to this JobManager ($FLINK_REST_URL).
    start_process sql-gateway sql-gateway.sh
    if ! wait_for "Flink SQL Gateway on $FLINK_GATEWAY_URL" 90 gateway_up; then
        tail -n 30 "$SLUICE_STATE/flink/sql-gateway.out" >&2 || true
        exit 1
    fi
    log "Flink SQL Gateway is up on $FLINK_GATEWAY_URL"
fi

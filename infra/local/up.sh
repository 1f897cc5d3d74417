#!/usr/bin/env bash
# Starts the local stack on 127.0.0.1: moto (DynamoDB, KMS, ...), the table
# and key inside it, PostgreSQL and MariaDB, a Kafka broker, a Flink 2.2
# session cluster, the functions under `cargo lambda watch`, and the
# scheduler bridge that fires moto's EventBridge Scheduler schedules.
# Stop it with infra/local/down.sh (by PID).
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$SLUICE_REPO/infra/local/install.sh"
"$SLUICE_REPO/infra/db/install.sh"
"$SLUICE_REPO/infra/flink/install.sh" >/dev/null
"$SLUICE_REPO/infra/kafka/install.sh" >/dev/null
"$SLUICE_REPO/infra/local/down.sh" --quiet
mkdir -p "$SLUICE_STATE"
source "$SLUICE_REPO/infra/flink/env.sh"

# start NAME LOGFILE COMMAND...: runs COMMAND in its own process group,
# recording its PID so down.sh can stop the whole group.
start() {
    local name="$1" logfile="$2"
    shift 2
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    echo $! >"$SLUICE_STATE/$name.pid"
}

log "starting moto on 127.0.0.1:$MOTO_PORT"
start moto "$SLUICE_STATE/moto.log" moto_server -H 127.0.0.1 -p "$MOTO_PORT"
wait_for moto 60 curl -sf "$AWS_ENDPOINT_URL/moto-api/"

log "starting PostgreSQL and MariaDB"
"$SLUICE_REPO/infra/db/start.sh" --fresh

# A real broker for the Kafka probe's tests (infra/kafka: one KRaft node, PLAINTEXT and SASL).
"$SLUICE_REPO/infra/kafka/start.sh"

log "building the runner jar"
runner_jar="$FLINK_RUNNER_DIR/target/flink-sql-runner.jar"
if [[ ! -f "$runner_jar" ]] || [[ -n "$(find "$FLINK_RUNNER_DIR/pom.xml" "$FLINK_RUNNER_DIR/src/main" -newer "$runner_jar" -print -quit)" ]]; then
    run_quiet "$SLUICE_STATE/runner-build.log" mvn -B -ntp -f "$FLINK_RUNNER_DIR/pom.xml" package -DskipTests
fi
# The jar's digest beside it: the trigger names the jar from it instead of
# reading and hashing the jar at its first run.
(cd "$(dirname "$runner_jar")" && sha256sum "$(basename "$runner_jar")" >"$runner_jar.sha256")

log "starting the Flink session cluster on $FLINK_REST_URL"
"$SLUICE_REPO/infra/flink/start.sh"

log "creating the table and the KMS key"
python_env="$("$SLUICE_VENV/bin/python" "$SLUICE_REPO/infra/local/bootstrap.py")"
{
    echo "$python_env"
    echo "SLUICE_TENANT_MODE=header"
    echo "SLUICE_TENANT_HEADER=x-sluice-tenant"
    echo "SLUICE_FLINK_REST_URL=$FLINK_REST_URL"
    # Two Flink targets: `session` (the default: sealed scripts through the
    # runner jar) and `gw` (plaintext SQL through the SQL Gateway, allowed
    # because it is on loopback). Single quotes: the env file is dotenv.
    echo "SLUICE_FLINK_TARGETS='[{\"name\":\"session\",\"kind\":\"session\",\"rest_url\":\"$FLINK_REST_URL\"},{\"name\":\"gw\",\"kind\":\"gateway\",\"gateway_url\":\"$FLINK_GATEWAY_URL\",\"rest_url\":\"$FLINK_REST_URL\",\"plaintext_credentials\":true}]'"
    echo "SLUICE_RUNNER_JAR=$runner_jar"
    echo "SLUICE_TRIGGER_FUNCTION=trigger"
    # Connection tests and discovery: the sources function invokes it.
    echo "SLUICE_DISCOVERY_FUNCTION=discovery"
    # EventBridge Scheduler (moto) schedules target the trigger; the
    # scheduler bridge below fires them.
    echo "SLUICE_SCHEDULER_TARGET_ARN=arn:aws:lambda:$AWS_REGION:123456789012:function:trigger"
    echo "SLUICE_SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/sluice-scheduler"
    echo "SLUICE_SCHEDULE_GROUP_PREFIX=sluice-"
    # Jobs may notify moto's SNS topics named sluice-* (the template's NotificationTopicPrefix).
    echo "SLUICE_NOTIFY_TOPIC_ARN_PREFIX=arn:aws:sns:$AWS_REGION:123456789012:sluice-"
    # The jobs function hands manual runs to the trigger through the
    # emulator's Lambda Invoke API; every other AWS call goes to moto.
    echo "AWS_ENDPOINT_URL_LAMBDA=$SLUICE_API_URL"
    echo "AWS_LAMBDA_LOG_FORMAT=JSON"
    echo "AWS_LAMBDA_LOG_LEVEL=INFO"
    for var in AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_EC2_METADATA_DISABLED; do
        echo "$var=${!var}"
    done
} >"$SLUICE_STATE/function.env"

log "building the functions and the scheduler bridge (debug, local-dev)"
(cd "$SLUICE_REPO" && cargo build --quiet -p sources -p discovery -p jobs -p trigger -p reconciler -p notifier -p scheduler-bridge --features sources/local-dev,jobs/local-dev,notifier/local-dev)

log "serving the functions on $SLUICE_API_URL"
start watch "$SLUICE_FUNCTION_LOG" \
    cargo lambda watch -A 127.0.0.1 -P "$SLUICE_API_PORT" --ignore-changes \
    --features local-dev --env-file "$SLUICE_STATE/function.env" \
    --manifest-path "$SLUICE_REPO/Cargo.toml"
# Each function answers 401 to a request without a tenant once it serves.
api_answers() {
    local route code
    for route in sources jobs; do
        code="$(curl -s -o /dev/null -w '%{http_code}' "$SLUICE_API_URL/$route")"
        [[ "$code" == "401" ]] || return 1
    done
}
wait_for "the HTTP functions" 300 api_answers || {
    tail -n 40 "$SLUICE_FUNCTION_LOG" >&2
    exit 1
}

# moto stores schedules but never fires them: the bridge does, invoking the
# targets through the functions' Invoke API, runs the reconciler as the
# template's one-minute rule would (every 5 s here), and hands the notifier
# rule's events (an SQS queue here) to the notifier, each twice.
log "starting the scheduler bridge"
notifier_queue_url="$(sed -n 's/^SLUICE_NOTIFIER_QUEUE_URL=//p' "$SLUICE_STATE/function.env")"
start bridge "$SLUICE_STATE/bridge.log" \
    env AWS_ENDPOINT_URL_LAMBDA="$SLUICE_API_URL" "$CARGO_TARGET_DIR/debug/scheduler-bridge" \
    --reconciler reconciler --reconcile-every 5 \
    --notifier notifier --notifier-queue-url "$notifier_queue_url"
wait_for "the scheduler bridge" 30 grep -q '"scheduler bridge started"' "$SLUICE_STATE/bridge.log" || {
    tail -n 20 "$SLUICE_STATE/bridge.log" >&2
    exit 1
}
log "local stack is up: API $SLUICE_API_URL, AWS endpoint $AWS_ENDPOINT_URL"

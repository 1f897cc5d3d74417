#!/usr/bin/env bash
# Starts the local Kafka broker: one KRaft node that is broker and controller, on 127.0.0.1 only
# (ports in env.sh), small heap, and waits until it answers on $SLUICE_KAFKA_BOOTSTRAP.
#   PLAINTEXT       127.0.0.1:$SLUICE_KAFKA_PORT
#   SASL_PLAINTEXT  127.0.0.1:$SLUICE_KAFKA_SASL_PORT, mechanism PLAIN, user $SLUICE_KAFKA_SASL_USER
#                   with password $SLUICE_KAFKA_SASL_PASSWORD (the only user)
# Configuration, data, log: $SLUICE_STATE/kafka/ (server.properties is mode 0600: it holds the
# SASL password); pid: $SLUICE_STATE/kafka.pid. Topics are never created automatically.
#   start.sh           start (format the data directory if it is new); a running broker is kept
#   start.sh --fresh   stop, wipe the data directory, format and start anew
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

fresh=false
for arg in "$@"; do
    case "$arg" in
    --fresh) fresh=true ;;
    *)
        echo "usage: $0 [--fresh]" >&2
        exit 2
        ;;
    esac
done

"$here/install.sh" >/dev/null
pidfile="$SLUICE_STATE/kafka.pid"
running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The broker logs this line once every listener serves requests.
answers() { grep -q 'Kafka Server started' "$KAFKA_STATE/server.log" && port_taken "$SLUICE_KAFKA_PORT"; }

if $fresh; then
    "$here/stop.sh"
    rm -rf "$KAFKA_STATE/data"
fi
if running; then
    log "kafka already running (pid $(cat "$pidfile"))"
    exit 0
fi
for port in "$SLUICE_KAFKA_PORT" "$SLUICE_KAFKA_SASL_PORT" "$SLUICE_KAFKA_CONTROLLER_PORT"; do
    if port_taken "$port"; then
        log "port $port is taken by another process; set SLUICE_KAFKA_PORT, SLUICE_KAFKA_SASL_PORT, SLUICE_KAFKA_CONTROLLER_PORT"
        exit 1
    fi
done

mkdir -p "$KAFKA_STATE"
chmod 700 "$KAFKA_STATE"
# Rewritten on every start. JAAS values are quoted: a backslash or a quote in the password would
# end the string, so they are refused.
if [[ "$SLUICE_KAFKA_SASL_PASSWORD" == *[\"\\]* ]]; then
    log "SLUICE_KAFKA_SASL_PASSWORD must not contain a quote or a backslash"
    exit 1
fi
(
    umask 077
    cat >"$KAFKA_STATE/server.properties" <<PROPERTIES
# Written by infra/kafka/start.sh; edits here are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$SLUICE_KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$SLUICE_KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$SLUICE_KAFKA_SASL_PORT,CONTROLLER://127.0.0.1:$SLUICE_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$SLUICE_KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$SLUICE_KAFKA_SASL_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SLUICE_KAFKA_SASL_USER="$SLUICE_KAFKA_SASL_PASSWORD";
log.dirs=$KAFKA_STATE/data
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES
)
cat >"$KAFKA_STATE/log4j2.properties" <<'LOG4J'
# Written by infra/kafka/start.sh. Everything goes to stdout, which start.sh sends to server.log.
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
LOG4J

java_cmd=(java $SLUICE_KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$KAFKA_STATE/log4j2.properties" -cp "$KAFKA_HOME/libs/*")

if [[ ! -f "$KAFKA_STATE/data/meta.properties" ]]; then
    # A cluster id is a random UUID in URL-safe base64 without padding (22 characters); not one
    # that starts with '-', which the tool's argument parser would take for an option.
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do
        cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    done
    log "formatting the Kafka data directory (cluster $cluster_id)"
    if ! "${java_cmd[@]}" kafka.tools.StorageTool format --cluster-id "$cluster_id" \
        --config "$KAFKA_STATE/server.properties" >"$KAFKA_STATE/format.log" 2>&1; then
        tail -n 20 "$KAFKA_STATE/format.log" >&2
        exit 1
    fi
fi

log "starting kafka on $SLUICE_KAFKA_BOOTSTRAP (SASL PLAIN on $SLUICE_KAFKA_SASL_BOOTSTRAP)"
setsid "${java_cmd[@]}" kafka.Kafka "$KAFKA_STATE/server.properties" \
    </dev/null >"$KAFKA_STATE/server.log" 2>&1 &
echo $! >"$pidfile"
if ! wait_for "Kafka on $SLUICE_KAFKA_BOOTSTRAP" 90 answers; then
    tail -n 30 "$KAFKA_STATE/server.log" >&2 || true
    exit 1
fi
log "kafka is up on $SLUICE_KAFKA_BOOTSTRAP"

# Settings of the local Kafka broker; sourced by the scripts beside it, by infra/local/test.sh
# and by tests. Builds on infra/local/env.sh (SLUICE_HOME, SLUICE_STATE, log, wait_for).
# shellcheck shell=bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../local" && pwd)/env.sh"

KAFKA_VERSION="4.4.0"
# The classpath (libs/) is shared by all checkouts (it is only a cache); the runtime state
# (configuration, data, log, pid) stays per checkout in SLUICE_STATE.
export KAFKA_HOME="$SLUICE_HOME/kafka-$KAFKA_VERSION"
KAFKA_STATE="$SLUICE_STATE/kafka"

# One KRaft node (broker and controller), on 127.0.0.1 only:
#   PLAINTEXT       $SLUICE_KAFKA_PORT (19092)
#   SASL_PLAINTEXT  $SLUICE_KAFKA_SASL_PORT (19094), SASL PLAIN, one user
#   controller      $SLUICE_KAFKA_CONTROLLER_PORT (19093), for the node itself
export SLUICE_KAFKA_PORT="${SLUICE_KAFKA_PORT:-19092}"
export SLUICE_KAFKA_SASL_PORT="${SLUICE_KAFKA_SASL_PORT:-19094}"
export SLUICE_KAFKA_CONTROLLER_PORT="${SLUICE_KAFKA_CONTROLLER_PORT:-19093}"
export SLUICE_KAFKA_BOOTSTRAP="127.0.0.1:$SLUICE_KAFKA_PORT"
export SLUICE_KAFKA_SASL_BOOTSTRAP="127.0.0.1:$SLUICE_KAFKA_SASL_PORT"
export SLUICE_KAFKA_SASL_USER="sluice"
# infra/local/test.sh sets a canary here: tests search reports and logs for it.
export SLUICE_KAFKA_SASL_PASSWORD="${SLUICE_KAFKA_SASL_PASSWORD:-sluice-local-kafka-pw}"
# The broker's heap: the stack shares 2 cores and a few GB with Flink and the databases.
SLUICE_KAFKA_HEAP="${SLUICE_KAFKA_HEAP:--Xmx256m -Xms256m}"

#!/usr/bin/env bash
# Every test of sluice: format and lint gates, the runner's JUnit tests, the
# deployment checks (cfn-lint, sam validate, sam build), unit tests, adapter
# tests against moto, HTTP tests through `cargo lambda watch`, end-to-end
# syncs on the local Flink cluster, and API fuzzing against the OpenAPI
# document. Starts the local stack it needs and stops it (by PID) on the way
# out.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SLUICE_REPO"
prune_build_cache

"$SLUICE_REPO/infra/local/install.sh"
# Flink 2.2 and its connector jars, for the planner test of rendered SQL.
"$SLUICE_REPO/infra/flink/install.sh" >/dev/null

log "cargo fmt --check"
cargo fmt --all --check
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

log "flink-sql-runner and JDBC dialects: mvn test (JUnit)"
(cd "$SLUICE_REPO/infra/flink-sql-runner" && mvn -B -ntp test)
(cd "$SLUICE_REPO/infra/flink-jdbc-dialects" && mvn -B -ntp test)

# The SAM template: cfn-lint, sam validate --lint, and sam build of the four
# functions (x86_64, cargo lambda, debug profile), offline.
log "deployment checks (infra/deploy/check.sh --debug-build)"
"$SLUICE_REPO/infra/deploy/check.sh" --debug-build

# The databases' password is a canary: tests search Flink's REST answers,
# run records, DynamoDB and the logs for it.
export SLUICE_DB_PASSWORD="canary-db-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# So is the Kafka broker's SASL password (infra/kafka/start.sh).
export SLUICE_KAFKA_SASL_PASSWORD="canary-kafka-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
source "$SLUICE_REPO/infra/db/env.sh"
source "$SLUICE_REPO/infra/kafka/env.sh"
source "$SLUICE_REPO/infra/flink/env.sh"
export SLUICE_STATE

trap '"$SLUICE_REPO/infra/local/down.sh"' EXIT
"$SLUICE_REPO/infra/local/up.sh"

log "cargo test: unit tests (parallel), then the tests against the stack (one at a time)"
results="$SLUICE_STATE/cargo-test.log"
# The stack tests run one at a time: moto rolls a cancelled DynamoDB
# transaction back by restoring a snapshot of every table, which would undo
# the writes of a test running beside it (real DynamoDB does not).
set +e
{
    cargo test --workspace --no-fail-fast
    unit=$?
    cargo test --workspace --no-fail-fast -- --ignored --test-threads=1
    stack=$?
    exit $((unit || stack))
} 2>&1 | tee "$results"
status=${PIPESTATUS[0]}

# The runner started as Managed Service for Apache Flink starts it: no
# arguments, its properties file naming a sealed script in moto S3.
log "runner as MSF starts it (infra/flink-sql-runner/msf-local-run.sh)"
"$SLUICE_REPO/infra/flink-sql-runner/msf-local-run.sh"
msf=$?

# The HTTP API against its OpenAPI document, with schemathesis (the stack is
# still up): no 5xx, no answer outside the document, at least 1,000 requests.
log "API fuzzing (infra/local/fuzz.sh)"
"$SLUICE_REPO/infra/local/fuzz.sh"
fuzz=$?
set -e
# One closing line for the whole run: cargo's own last line is often a
# doc-test binary with nothing in it. The MSF run and the fuzz run count as
# one test each.
awk -v scripts="$msf $fuzz" '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { n = split(scripts, code, " "); for (i = 1; i <= n; i++) { if (code[i] == 0) p += 1; else f += 1 }
           printf "tests: %d passed, %d failed\n", p, f }' "$results"
exit $((status || msf || fuzz))

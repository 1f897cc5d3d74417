#!/usr/bin/env bash
# The benchmarks of sluice, in one command that prints one table of figures
# (what each figure means: BENCHMARKS.md).
#
#   infra/bench/run.sh [--record] [--skip sizes|lambda|sync|tables]...
#
#   sizes   zip of each function's `bootstrap` (release profile)
#   lambda  cold start (init beside a lambda_runtime hello-world, cold
#           penalty), peak memory over warm invocations, the trigger under
#           concurrent duplicated deliveries, and the AWS and Flink calls of
#           one fire (counted at a proxy in front of moto and at the
#           recorder): against a private moto on 127.0.0.1:$BENCH_MOTO_PORT
#           (5077) that this script starts and stops, and a JobManager
#           recorder inside the harness
#   sync    event -> Flink job id on the real cluster, and 1,000,000 rows
#           PostgreSQL -> MariaDB: (a) the generated job, (b) the same INSERT
#           with Flink's JDBC sink defaults, (c) COPY | LOAD DATA LOCAL INFILE,
#           (d) the generated job with operator chaining on (no row counts),
#           then (a) and (d) in alternated pairs: a/d is what counting costs.
#           Needs the local stack running (make up); uses its own tenant and
#           tables and removes them afterwards.
#   tables  multi-table jobs (tests/tests/tables_bench.rs, debug profile):
#           discovery of a schema of 500 tables (listing, and a job resolved
#           over it), the compile time of that 500-table job, and 30 tables
#           in one job beside one table of the same rows and columns,
#           PostgreSQL -> MariaDB. Needs the local stack running (make up);
#           its figures are printed after the table (BENCH lines).
#
# --record writes the table, the machine and the date into BENCHMARKS.md.
# Knobs (environment): BENCH_STARTS (20), BENCH_INIT_ROUNDS (40), BENCH_WARM (20),
# BENCH_MEMORY_INVOCATIONS (1000), BENCH_TRIGGER_EVENTS (1000),
# BENCH_TRIGGER_CONCURRENCY (8), BENCH_DUPLICATE_PERCENT (20), BENCH_ROWS
# (1000000), BENCH_E2E_FIRES (5), BENCH_COPY_RUNS (3), BENCH_MOTO_PORT (5077),
# BENCH_ROUND_TRIP_FIRES (5), BENCH_ROUND_TRIP_DELAY_MS (20), BENCH_COUNT_PAIRS (5).
# Timing figures depend on machine load: run it on a quiet machine. On a
# machine shared with builds, the harness and the moto it starts run at a
# raised priority (BENCH_NICE, -10 when root; 0 turns it off).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../local/env.sh"
source "$SLUICE_REPO/infra/db/env.sh"
source "$SLUICE_REPO/infra/flink/env.sh"

command="infra/bench/run.sh${*:+ $*}"
record=false
skip=" "
while (($#)); do
    case "$1" in
    --record) record=true ;;
    --skip)
        shift
        skip+="${1:?--skip needs a phase} "
        ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
        exit 2
        ;;
    esac
    shift
done
runs() { [[ "$skip" != *" $1 "* ]]; }

BENCH_MOTO_PORT="${BENCH_MOTO_PORT:-5077}"
if ((EUID == 0)); then BENCH_NICE="${BENCH_NICE:--10}"; else BENCH_NICE="${BENCH_NICE:-0}"; fi
prio=(nice -n "$BENCH_NICE")
work="${BENCH_WORK:-$SLUICE_STATE/bench}"
results="$work/results"
rm -rf "$results"
mkdir -p "$results"

"$SLUICE_REPO/infra/local/install.sh"

# Two builds: the functions alone, so that the harness's dependencies do not
# change their features (what is measured is what ships), then the harness
# and the hello-world floor, with the same profile.
log "building the functions (release profile)"
(cd "$SLUICE_REPO" && cargo build --release --quiet -p sources -p jobs -p trigger -p reconciler -p discovery -p notifier)
log "building the harness (release profile)"
(cd "$SLUICE_REPO" && cargo build --release --quiet -p sluice-bench)
bin_dir="$CARGO_TARGET_DIR/release"
bench="$bin_dir/sluice-bench"

runner_jar="$FLINK_RUNNER_DIR/target/flink-sql-runner.jar"
if [[ ! -f "$runner_jar" ]]; then
    log "building the runner jar"
    run_quiet "$work/runner-build.log" mvn -B -ntp -f "$FLINK_RUNNER_DIR/pom.xml" package -DskipTests
fi
# As deployed: the jar's digest beside it (see infra/local/up.sh).
(cd "$(dirname "$runner_jar")" && sha256sum "$(basename "$runner_jar")" >"$runner_jar.sha256")

{
    echo "- \`nproc\`: $(nproc); CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
    echo "- memory: $(free -h | awk '/^Mem:/ {print $2}'); OS: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
    echo "- $(rustc -V); $(java -version 2>&1 | head -n 1); Flink $FLINK_VERSION; $(psql --version | head -n 1); $(mariadb --version | head -n 1 | sed 's/,.*//')"
    echo "- moto $MOTO_VERSION; harness and private moto at nice $BENCH_NICE; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results/machine.md"

if runs sizes; then
    log "zipping each function's bootstrap"
    {
        echo "{"
        sep=""
        for fn in sources jobs trigger reconciler discovery notifier; do
            dir="$work/zip/$fn"
            rm -rf "$dir" && mkdir -p "$dir"
            cp "$bin_dir/$fn" "$dir/bootstrap"
            (cd "$dir" && zip -q -9 -X "$fn.zip" bootstrap)
            printf '%s"%s": {"bootstrap": %d, "zip": %d}\n' "$sep" "$fn" \
                "$(stat -c %s "$dir/bootstrap")" "$(stat -c %s "$dir/$fn.zip")"
            sep=","
        done
        echo "}"
    } >"$results/sizes.json"
fi

moto_pid=""
stop_moto() {
    if [[ -n "$moto_pid" ]]; then
        kill -TERM -- "-$moto_pid" 2>/dev/null || kill -TERM "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
        moto_pid=""
    fi
}
trap stop_moto EXIT

if runs lambda; then
    log "starting a private moto on 127.0.0.1:$BENCH_MOTO_PORT"
    setsid "${prio[@]}" moto_server -H 127.0.0.1 -p "$BENCH_MOTO_PORT" >"$work/moto.log" 2>&1 </dev/null &
    moto_pid=$!
    private="http://127.0.0.1:$BENCH_MOTO_PORT"
    wait_for "moto on $BENCH_MOTO_PORT" 60 curl -sf "$private/moto-api/"
    key_id="$(AWS_ENDPOINT_URL="$private" SLUICE_TABLE=sluice-bench \
        "$SLUICE_VENV/bin/python" "$SLUICE_REPO/infra/local/bootstrap.py" | sed -n 's/^SLUICE_KMS_KEY_ID=//p')"
    log "cold starts, memory and trigger load (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    AWS_ENDPOINT_URL="$private" SLUICE_TABLE=sluice-bench SLUICE_KMS_KEY_ID="$key_id" \
        SLUICE_RUNNER_JAR="$runner_jar" BENCH_BIN_DIR="$bin_dir" BENCH_WORK="$work/lambda" \
        "${prio[@]}" "$bench" lambda "$results/lambda.json"
    stop_moto
fi

if runs sync; then
    curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null && curl -sf "$FLINK_REST_URL/overview" >/dev/null &&
        sluice_psql -c 'SELECT 1' >/dev/null && sluice_mariadb -e 'SELECT 1' >/dev/null || {
        log "the local stack is not running (make up): moto $AWS_ENDPOINT_URL, Flink $FLINK_REST_URL, PostgreSQL, MariaDB"
        exit 1
    }
    key_id="$("$SLUICE_VENV/bin/python" "$SLUICE_REPO/infra/local/bootstrap.py" | sed -n 's/^SLUICE_KMS_KEY_ID=//p')"
    tenant="bench-$(date -u +%Y%m%d%H%M%S)"
    log "event -> Flink job id and sync speed on the local stack (tenant $tenant)"
    status=0
    SLUICE_KMS_KEY_ID="$key_id" SLUICE_RUNNER_JAR="$runner_jar" BENCH_BIN_DIR="$bin_dir" \
        BENCH_WORK="$work/sync" BENCH_TENANT="$tenant" BENCH_PYTHON="$SLUICE_VENV/bin/python" \
        SLUICE_REPO="$SLUICE_REPO" FLINK_REST_URL="$FLINK_REST_URL" \
        "${prio[@]}" "$bench" sync "$results/sync.json" || status=$?
    "$SLUICE_VENV/bin/python" "$here/forget_tenant.py" "$tenant" || true
    ((status == 0)) || exit "$status"
fi

if runs tables; then
    curl -sf "$SLUICE_API_URL/jobs" -H 'x-sluice-tenant: bench' >/dev/null && curl -sf "$FLINK_REST_URL/overview" >/dev/null || {
        log "the local stack is not running (make up): API $SLUICE_API_URL, Flink $FLINK_REST_URL"
        exit 1
    }
    log "multi-table jobs: 500 tables discovered and compiled, 30 tables beside one (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    (cd "$SLUICE_REPO" && cargo test --quiet -p sluice-tests --test tables_bench -- --ignored --test-threads=1 --nocapture) \
        >"$work/tables.log" 2>&1 || { tail -n 40 "$work/tables.log"; exit 1; }
    grep -o 'BENCH .*' "$work/tables.log" >"$results/tables.txt"
fi

echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.md"
echo
if $record; then
    "$bench" report "$results" --record "$SLUICE_REPO/BENCHMARKS.md" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$command"
else
    "$bench" report "$results"
fi
if [[ -s "$results/tables.txt" ]]; then
    echo
    echo "Multi-table jobs (BENCHMARKS.md, \"Multi-table jobs\"):"
    sed 's/^BENCH /  /' "$results/tables.txt"
fi
echo
cat "$results/machine.md"

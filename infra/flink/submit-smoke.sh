#!/usr/bin/env bash
# End-to-end check of the Flink SQL runner on the local session cluster, by hand or from tests:
#   infra/flink/submit-smoke.sh [--keep]
# 1. Starts what is not running yet: moto (KMS, S3), the local PostgreSQL (infra/db) and the Flink
#    session cluster (start.sh, whose JobManager gets the AWS settings of the local stack).
# 2. Seals a small batch script with KMS (seal.py): datagen -> PostgreSQL over JDBC, and datagen
#    -> blackhole, as ONE job. The JDBC password is a fresh canary: a PostgreSQL role is created
#    with it, so the job only succeeds if the runner decrypted it.
# 3. Uploads the runner jar (POST /jars/upload) and runs it (POST /jars/{id}/run with
#    programArgsList): once with --sealed, once with --script-s3 (the envelope in moto S3); each
#    response must carry the job id, and the job must finish with its rows in PostgreSQL. Then a
#    run bound to another run id must be refused.
# 4. Checks that the canary (and the script) appear in none of /jobs/{id}, /jobs/{id}/config,
#    /jobs/{id}/plan, /jars and further REST endpoints, nor in the Flink logs.
# 5. Deletes the jar, the role and the table, and stops what it started (by pid), unless --keep.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
source "$SLUICE_REPO/infra/db/env.sh"

keep=false
for arg in "$@"; do
    case "$arg" in
    --keep) keep=true ;;
    *)
        echo "usage: $0 [--keep]" >&2
        exit 2
        ;;
    esac
done

python="$SLUICE_VENV/bin/python"
work="$(mktemp -d)"
started=()
jar_id=""
cleanup() {
    local rc=$?
    set +e
    if [[ -n "$jar_id" ]]; then
        curl -fsS -X DELETE "$FLINK_REST_URL/jars/$jar_id" >/dev/null 2>&1
    fi
    if pid_alive postgres; then
        sluice_psql_admin -d "$SLUICE_DB_NAME" -c 'DROP TABLE IF EXISTS smoke_rows' \
            -c 'DROP ROLE IF EXISTS sluice_smoke' >/dev/null 2>&1
    fi
    rm -rf "$work"
    if ! $keep; then
        local i
        for ((i = ${#started[@]} - 1; i >= 0; i--)); do
            case "${started[$i]}" in
            flink) "$here/stop.sh" ;;
            db) "$SLUICE_REPO/infra/db/stop.sh" ;;
            moto)
                local pid
                pid="$(cat "$SLUICE_STATE/smoke-moto.pid")"
                log "stopping moto (pid $pid)"
                kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
                rm -f "$SLUICE_STATE/smoke-moto.pid"
                ;;
            esac
        done
    fi
    exit "$rc"
}
trap cleanup EXIT

fail() {
    log "SMOKE FAILED: $*"
    exit 1
}

# --- 1. what the run needs ---------------------------------------------------------------------
jar="$FLINK_RUNNER_DIR/target/flink-sql-runner.jar"
if [[ ! -f "$jar" ]] || [[ -n "$(find "$FLINK_RUNNER_DIR/pom.xml" "$FLINK_RUNNER_DIR/src/main" -newer "$jar" -print -quit)" ]]; then
    log "building the runner jar"
    build=(mvn -B -f "$FLINK_RUNNER_DIR/pom.xml" package -DskipTests)
    build_log="$SLUICE_STATE/flink/runner-build.log"
    mkdir -p "$(dirname "$build_log")"
    "${build[@]}" -o >"$build_log" 2>&1 || run_quiet "$build_log" "${build[@]}"
fi

if ! curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null; then
    log "starting moto on 127.0.0.1:$MOTO_PORT"
    mkdir -p "$SLUICE_STATE"
    setsid "$SLUICE_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" \
        >"$SLUICE_STATE/smoke-moto.log" 2>&1 </dev/null &
    echo $! >"$SLUICE_STATE/smoke-moto.pid"
    started+=(moto)
    wait_for moto 60 curl -sf "$AWS_ENDPOINT_URL/moto-api/" || fail "moto did not start"
fi
if ! pid_alive postgres || ! pid_alive mariadb; then
    "$SLUICE_REPO/infra/db/start.sh"
    started+=(db)
fi
if ! curl -fsS --max-time 2 "$FLINK_REST_URL/overview" 2>/dev/null | grep -Eq '"taskmanagers":[1-9]'; then
    "$here/start.sh"
    started+=(flink)
fi

# --- 2. the target, the canary and the sealed script -------------------------------------------
canary="canary-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
sluice_psql_admin -d "$SLUICE_DB_NAME" -v canary="$canary" >/dev/null <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS smoke_rows;
DROP ROLE IF EXISTS sluice_smoke;
CREATE ROLE sluice_smoke LOGIN PASSWORD :'canary';
CREATE TABLE smoke_rows (id BIGINT NOT NULL, name TEXT, run_id TEXT NOT NULL);
GRANT INSERT, SELECT ON smoke_rows TO sluice_smoke;
SQL

job_id="job_01JSMOKE0000000000000000AA"
write_script() { # write_script RUN_ID > FILE
    cat <<SQL
SET 'execution.runtime-mode' = 'batch';
SET 'parallelism.default' = '1';
SET 'pipeline.name' = 'sluice/$job_id/submit-smoke';

CREATE TEMPORARY TABLE gen (
    id BIGINT,
    name STRING
) WITH (
    'connector' = 'datagen',
    'number-of-rows' = '1000',
    'fields.id.kind' = 'sequence',
    'fields.id.start' = '1',
    'fields.id.end' = '1000',
    'fields.name.length' = '8'
);

CREATE TEMPORARY TABLE pg_rows (
    id BIGINT,
    name STRING,
    run_id STRING
) WITH (
    'connector' = 'jdbc',
    'url' = '$SLUICE_PG_JDBC_URL',
    'table-name' = 'smoke_rows',
    'username' = 'sluice_smoke',
    'password' = '$canary'
);

CREATE TEMPORARY TABLE nothing (id BIGINT) WITH ('connector' = 'blackhole');

INSERT INTO pg_rows SELECT id, name, '$1' FROM gen;
INSERT INTO nothing SELECT id FROM gen;
SQL
}

seal() { # seal RUN_ID: prints the envelope JSON
    write_script "$1" | "$python" "$here/seal.py" --job "$job_id" --run "$1" --tenant smoke --ensure-key
}

# --- 3. upload and run ---------------------------------------------------------------------------
upload="$(curl -fsS -F "jarfile=@$jar" "$FLINK_REST_URL/jars/upload")"
jar_id="$(jq -r '.filename' <<<"$upload" | xargs basename)"
[[ -n "$jar_id" && "$jar_id" != null ]] || fail "upload: $upload"
log "uploaded the runner jar ($(du -k "$jar" | cut -f1) KiB) as $jar_id"

run_jar() { # run_jar ARG...: POST /jars/{id}/run; prints "HTTP_CODE BODY"
    "$python" -c 'import json, sys
print(json.dumps({"entryClass": "dev.sluice.runner.Runner", "programArgsList": sys.argv[1:]}))' "$@" \
        >"$work/run.json"
    curl -sS -o "$work/run.out" -w '%{http_code} %{time_total}' -X POST \
        -H 'Content-Type: application/json' --data-binary @"$work/run.json" \
        "$FLINK_REST_URL/jars/$jar_id/run"
    echo -n " "
    cat "$work/run.out"
}

wait_job() { # wait_job JOB: waits for a final state; prints it
    local state="" deadline=$((SECONDS + 180))
    while ((SECONDS < deadline)); do
        state="$(curl -fsS "$FLINK_REST_URL/jobs/$1" | jq -r '.state')"
        case "$state" in
        FINISHED | FAILED | CANCELED) break ;;
        esac
        sleep 1
    done
    echo "$state"
}

rows_of() { # rows_of RUN_ID
    sluice_psql_admin -d "$SLUICE_DB_NAME" -At -v run="$1" <<<"SELECT count(*) FROM smoke_rows WHERE run_id = :'run'"
}

flink_jobs=()
check_run() { # check_run LABEL RUN_ID ARG...
    local label="$1" run="$2"
    shift 2
    local t0=$SECONDS response code body flink_job state rows
    local seconds
    response="$(run_jar "$@")"
    read -r code seconds body <<<"$response"
    [[ "$code" == 200 ]] || fail "$label: HTTP $code: $(head -c 2000 <<<"$body")"
    flink_job="$(jq -r '.jobid' <<<"$body")"
    log "$label: POST /jars/{id}/run -> HTTP $code in ${seconds}s: $body"
    state="$(wait_job "$flink_job")"
    rows="$(rows_of "$run")"
    log "$label: job $flink_job $state in $((SECONDS - t0))s, $rows rows in PostgreSQL for $run"
    [[ "$state" == FINISHED ]] || fail "$label: job $flink_job ended $state: $(curl -fsS "$FLINK_REST_URL/jobs/$flink_job/exceptions" | head -c 3000)"
    [[ "$rows" == 1000 ]] || fail "$label: expected 1000 rows, found $rows"
    local vertices
    vertices="$(curl -fsS "$FLINK_REST_URL/jobs/$flink_job" | jq -r '.vertices | length')"
    log "$label: one Flink job for both INSERTs ($vertices vertices)"
    flink_jobs+=("$flink_job")
}

# 3a. the envelope inline
run_a="run_01JSMOKE0000000000000000A1"
seal "$run_a" >"$work/envelope-a.json"
check_run "--sealed" "$run_a" --sealed "$(base64 -w0 "$work/envelope-a.json")" \
    --expect-job "$job_id" --expect-run "$run_a"

# 3b. the envelope in S3
run_b="run_01JSMOKE0000000000000000B2"
seal "$run_b" >"$work/envelope-b.json"
bucket="sluice-smoke"
"$python" - "$bucket" "runs/$run_b.json" "$work/envelope-b.json" <<'PY'
import sys, boto3
bucket, key, path = sys.argv[1:]
s3 = boto3.client("s3")
if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key=key, Body=open(path, "rb").read())
PY
check_run "--script-s3" "$run_b" --script-s3 "s3://$bucket/runs/$run_b.json" \
    --expect-job "$job_id" --expect-run "$run_b"

# 3c. an envelope bound to another run is refused, before KMS, and no job is created
jobs_before="$(curl -fsS "$FLINK_REST_URL/jobs" | jq '.jobs | length')"
response="$(run_jar --sealed "$(base64 -w0 "$work/envelope-a.json")" --expect-job "$job_id" --expect-run "$run_b")"
read -r code _ _ <<<"$response"
jobs_after="$(curl -fsS "$FLINK_REST_URL/jobs" | jq '.jobs | length')"
[[ "$code" != 200 && "$jobs_before" == "$jobs_after" ]] || fail "a run bound to another run id was not refused: $response"
reason="$(grep -o 'sealed script: [^"\\]*' <<<"$response" | head -n 1)"
log "wrong --expect-run: HTTP $code, no job created: $reason"
if grep -qF "$canary" <<<"$response"; then
    fail "the refusal carries the canary"
fi

# --- 4. the canary check -------------------------------------------------------------------------
endpoints=(/jars /jobs /jobs/overview /jobmanager/config /jobmanager/environment /taskmanagers)
for j in "${flink_jobs[@]}"; do
    endpoints+=("/jobs/$j" "/jobs/$j/config" "/jobs/$j/plan" "/jobs/$j/exceptions"
        "/jobs/$j/jobmanager/config" "/jobs/$j/jobmanager/environment" "/jobs/$j/accumulators")
    for v in $(curl -fsS "$FLINK_REST_URL/jobs/$j" | jq -r '.vertices[].id'); do
        endpoints+=("/jobs/$j/vertices/$v" "/jobs/$j/vertices/$v/subtasks/accumulators")
    done
done
leaks=0
checked=0
for endpoint in "${endpoints[@]}"; do
    body="$(curl -sS "$FLINK_REST_URL$endpoint")"
    checked=$((checked + 1))
    for needle in "$canary" "CREATE TEMPORARY TABLE" "sluice_smoke"; do
        if grep -qF "$needle" <<<"$body"; then
            log "LEAK: $endpoint contains '$needle'"
            leaks=$((leaks + 1))
        fi
    done
done
log_hits="$(grep -rlF "$canary" "$SLUICE_STATE/flink/log" "$SLUICE_STATE"/flink/*.out 2>/dev/null || true)"
if [[ -n "$log_hits" ]]; then
    log "LEAK: the canary is in $log_hits"
    leaks=$((leaks + 1))
fi
# Not a leak through the API, but worth knowing: the job's serialized operators (JDBC options
# included) live in the JobManager's memory and may be written to its blob store / temp dirs.
tmp_hits="$(grep -rlaF "$canary" "$SLUICE_STATE/flink/tmp" 2>/dev/null | head -n 3 || true)"
if [[ -n "$tmp_hits" ]]; then
    log "note: the canary is in Flink's working files (serialized job): $(tr '\n' ' ' <<<"$tmp_hits")"
fi
sluice_job_lines="$(grep -h '^sluice-job-id: ' "$SLUICE_STATE"/flink/log/*.out 2>/dev/null | tail -n 2 | tr '\n' ' ')"
log "runner stdout (JobManager .out): $sluice_job_lines"
((leaks == 0)) || fail "$leaks leak(s) of the canary or the script"
log "canary check: $checked REST responses and the Flink logs are free of the canary and the script"
log "SMOKE OK"

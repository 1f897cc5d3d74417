#!/usr/bin/env bash
# The runner started the way Managed Service for Apache Flink starts it, on the local stack:
#   infra/flink-sql-runner/msf-local-run.sh [ROWS]
# MSF runs the application jar's main class with NO program arguments; the application's
# properties are in /etc/flink/application_properties.json, written from the property groups the
# MSF adapter (shared/aws/src/msf.rs) sets. Here:
# 1. PostgreSQL gets a table of ROWS (default 5000) rows, MariaDB an empty one; the database
#    password is a fresh canary (a PostgreSQL role and a MariaDB user are created with it), so the
#    job can only succeed if the runner decrypted it.
# 2. A batch PostgreSQL -> MariaDB script with that password is sealed with KMS (moto) as the
#    trigger seals it (infra/flink/seal.py) and put into moto S3 at .../<job>/<run>/script.json.
# 3. An application_properties.json in MSF's format names it (group "sluice": script.s3,
#    expect.job, expect.run, status.s3, await=true), and the runner jar runs through
#    `flink run` with no arguments and SLUICE_APPLICATION_PROPERTIES pointing at that file; its
#    main() opens the script with KMS, submits the job to the local session cluster and waits for
#    it (as on MSF, where main() runs in the application's JobManager).
# 4. Checks: the runner printed the job id; the status object in S3 says FINISHED with that id;
#    MariaDB has every row, equal to PostgreSQL's (order-independent checksum); the canary is in
#    neither the runner's output nor the status object. A second run, bound to another run id,
#    must be refused and report FAILED to its status object.
# Needs the local stack up (moto, PostgreSQL, MariaDB, Flink: `make up`). Cleans up what it made.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../flink/env.sh"
source "$SLUICE_REPO/infra/db/env.sh"

rows="${1:-5000}"
python="$SLUICE_VENV/bin/python"
jar="$here/target/flink-sql-runner.jar"
work="$(mktemp -d)"
suffix="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
table="msf_rows_$suffix"
user="sluice_msf_$suffix"
canary="canary-msf-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
bucket="sluice-msf-local"
ulid() { "$python" -c 'import secrets; print("01J" + "".join(secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(23)))'; }
job="job_$(ulid)"
run="run_$(ulid)"

cleanup() {
    set +e
    sluice_psql_admin -d "$SLUICE_DB_NAME" -c "DROP TABLE IF EXISTS $table" -c "DROP ROLE IF EXISTS $user" >/dev/null 2>&1
    sluice_mariadb_admin -e "DROP TABLE IF EXISTS $SLUICE_DB_NAME.$table; DROP USER IF EXISTS '$user'@'%'" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    log "FAIL: $*"
    exit 1
}

curl -fsS --max-time 3 "$AWS_ENDPOINT_URL" >/dev/null 2>&1 || curl -sS --max-time 3 "$AWS_ENDPOINT_URL" >/dev/null ||
    fail "moto is not answering on $AWS_ENDPOINT_URL (make up)"
curl -fsS --max-time 3 "$FLINK_REST_URL/overview" >/dev/null || fail "Flink is not answering on $FLINK_REST_URL (make up)"
if [[ ! -f "$jar" ]]; then
    log "building the runner jar"
    run_quiet "$SLUICE_STATE/flink/runner-build.log" mvn -B -f "$here/pom.xml" -DskipTests package
fi

log "1. $rows rows in PostgreSQL $table; an empty MariaDB $table; canary credentials"
sluice_psql_admin -d "$SLUICE_DB_NAME" -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE $user LOGIN PASSWORD '$canary';
CREATE TABLE $table (id BIGINT PRIMARY KEY, note VARCHAR(100), amount NUMERIC(12,2));
INSERT INTO $table SELECT g, 'row ' || g, g * 1.25 FROM generate_series(1, $rows) g;
GRANT SELECT ON $table TO $user, $SLUICE_DB_USER;
SQL
sluice_mariadb_admin >/dev/null <<SQL
CREATE TABLE $SLUICE_DB_NAME.$table (id BIGINT PRIMARY KEY, note VARCHAR(100), amount DECIMAL(12,2));
CREATE USER '$user'@'%' IDENTIFIED BY '$canary';
GRANT INSERT, UPDATE, SELECT ON $SLUICE_DB_NAME.$table TO '$user'@'%';
SQL

log "2. the sealed script in moto S3"
cat >"$work/script.sql" <<SQL
SET 'execution.runtime-mode' = 'batch';
SET 'pipeline.name' = 'sluice msf-local-run $run';
CREATE TEMPORARY TABLE src (id BIGINT, note STRING, amount DECIMAL(12, 2)) WITH (
  'connector' = 'jdbc', 'url' = '$SLUICE_PG_JDBC_URL', 'table-name' = 'public.$table',
  'username' = '$user', 'password' = '$canary');
CREATE TEMPORARY TABLE dst (id BIGINT, note STRING, amount DECIMAL(12, 2), PRIMARY KEY (id) NOT ENFORCED) WITH (
  'connector' = 'jdbc', 'url' = '$SLUICE_MARIADB_JDBC_URL', 'table-name' = '$table',
  'username' = '$user', 'password' = '$canary');
INSERT INTO dst SELECT id, note, amount FROM src;
SQL
"$python" "$SLUICE_REPO/infra/flink/seal.py" --job "$job" --run "$run" --tenant msf-local --ensure-key \
    <"$work/script.sql" >"$work/envelope.json"
rm "$work/script.sql"
prefix="sluice/runs/$job/$run"
"$python" - "$bucket" "$prefix" "$work/envelope.json" <<'PY'
import sys, boto3
bucket, prefix, envelope = sys.argv[1:]
s3 = boto3.client("s3")
if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key=f"{prefix}/script.json", Body=open(envelope, "rb").read())
s3.delete_object(Bucket=bucket, Key=f"{prefix}/status.json")
PY

# properties FILE RUN: MSF's application_properties.json for RUN
properties() {
    cat >"$1" <<JSON
[{"PropertyGroupId": "sluice", "PropertyMap": {
  "script.s3": "s3://$bucket/$prefix/script.json",
  "status.s3": "s3://$bucket/sluice/runs/$job/$2/status.json",
  "expect.job": "$job", "expect.run": "$2", "await": "true"}}]
JSON
}
status_object() { # status_object RUN: the status object's JSON, or nothing
    "$python" - "$bucket" "sluice/runs/$job/$1/status.json" <<'PY'
import sys, boto3
try:
    print(boto3.client("s3").get_object(Bucket=sys.argv[1], Key=sys.argv[2])["Body"].read().decode())
except Exception:
    pass
PY
}
# The Flink CLI with this checkout's configuration (its JobManager), the AWS settings of the local
# stack from the environment, and no program arguments.
flink_run() { # flink_run PROPERTIES OUTPUT
    SLUICE_APPLICATION_PROPERTIES="$1" FLINK_CONF_DIR="$SLUICE_STATE/flink/conf" \
        FLINK_LOG_DIR="$work" "$FLINK_HOME/bin/flink" run "$jar" >"$2" 2>&1
}

log "3. flink run $(basename "$jar") (no arguments; properties in $work/application_properties.json)"
properties "$work/application_properties.json" "$run"
started=$SECONDS
flink_run "$work/application_properties.json" "$work/run.out" || {
    tail -n 40 "$work/run.out" >&2
    fail "the runner failed"
}
job_id="$(sed -n 's/^sluice-job-id: \([0-9a-f]\{32\}\)$/\1/p' "$work/run.out")"
[[ -n "$job_id" ]] || fail "the runner printed no job id: $(tail -n 5 "$work/run.out")"
log "   Flink job $job_id ran in $((SECONDS - started)) s"

log "4. checks"
status="$(status_object "$run")"
echo "   status object: $status"
[[ "$status" == *"\"state\":\"FINISHED\""* && "$status" == *"\"flink_job_id\":\"$job_id\""* ]] ||
    fail "the status object does not say FINISHED for $job_id"
state="$(curl -fsS "$FLINK_REST_URL/jobs/$job_id" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["state"])')"
[[ "$state" == FINISHED ]] || fail "Flink says $state"
pg="$(sluice_psql -At -c "SELECT id || '|' || note || '|' || to_char(amount, 'FM9999999990.00') FROM $table" | sort | sha256sum)"
maria="$(sluice_mariadb -N -e "SELECT CONCAT(id, '|', note, '|', amount) FROM $table" | sort | sha256sum)"
count="$(sluice_mariadb -N -e "SELECT COUNT(*) FROM $table")"
echo "   MariaDB rows: $count of $rows"
[[ "$count" == "$rows" && "$pg" == "$maria" ]] || fail "MariaDB's rows differ from PostgreSQL's"
if grep -q "$canary" "$work/run.out" || [[ "$status" == *"$canary"* ]]; then
    fail "the canary password leaked into the runner's output or the status object"
fi

log "5. an envelope bound to another run is refused, and the refusal is reported"
other="${run:0:29}Z"
properties "$work/other.json" "$other"
if flink_run "$work/other.json" "$work/other.out"; then
    fail "a run bound to $other ran $run's script"
fi
refused="$(status_object "$other")"
echo "   status object: $refused"
[[ "$refused" == *"\"state\":\"FAILED\""* && "$refused" != *"$canary"* ]] || fail "the refusal was not reported"
! grep -q "$canary" "$work/other.out" || fail "the canary leaked into the refused run's output"

log "msf-local-run: OK ($rows rows, job $job_id)"

#!/usr/bin/env bash
# The main job on the local stack, end to end: start the stack; register a
# PostgreSQL and a MariaDB source through the HTTP API (masked views beside
# the sealed DynamoDB items); build a sync job and show its Flink SQL; give it
# a schedule through the API (an EventBridge schedule in moto) and let the
# local scheduler bridge fire it as EventBridge would; follow the run until
# Flink has moved the rows; show the rows in MariaDB beside the source's.
# The stack keeps running afterwards; `make down` stops it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SLUICE_REPO"

"$SLUICE_REPO/infra/local/up.sh"
source "$SLUICE_REPO/infra/db/env.sh"
source "$SLUICE_REPO/infra/flink/env.sh"

tenant="demo"
py="$SLUICE_VENV/bin/python"
pretty() { "$py" -m json.tool; }
field() { "$py" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
api() { # api METHOD PATH [BODY]
    curl -sS -X "$1" "$SLUICE_API_URL$2" -H "x-sluice-tenant: $tenant" \
        ${3:+-H 'content-type: application/json' -d "$3"}
}
invoke() { # invoke FUNCTION EVENT: through the emulator's Lambda Invoke API
    curl -sS -X POST "$SLUICE_API_URL/2015-03-31/functions/$1/invocations" -d "$2"
}
psql_q() { PGPASSWORD="$SLUICE_DB_PASSWORD" psql -h 127.0.0.1 -p "$SLUICE_PG_PORT" -U sluice -d sluice -qAt -c "$1"; }
maria_q() { MYSQL_PWD="$SLUICE_DB_PASSWORD" mariadb -h 127.0.0.1 -P "$SLUICE_MARIADB_PORT" -u sluice sluice -BN -e "$1"; }

log "creating public.orders in PostgreSQL (50,000 rows) and an empty orders table in MariaDB"
psql_q "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(100), amount NUMERIC(12,2), updated_at TIMESTAMP(3));
        INSERT INTO orders SELECT g, 'customer ' || (g % 997), (g % 10000) / 100.0,
               TIMESTAMP '2026-01-01' + g * INTERVAL '1 minute' FROM generate_series(1, 50000) g;"
maria_q "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(100), amount DECIMAL(12,2), updated_at DATETIME(3))"

pg_body="{\"name\": \"orders (PostgreSQL)\", \"kind\": \"postgres\",
  \"config\": {\"host\": \"127.0.0.1\", \"port\": $SLUICE_PG_PORT, \"database\": \"sluice\", \"username\": \"sluice\", \"ssl_mode\": \"disable\"},
  \"secrets\": {\"password\": \"$SLUICE_DB_PASSWORD\"}}"
log "testing the PostgreSQL source before saving it (POST /sources/test)"
tested="$(api POST /sources/test "$pg_body")"
echo "$tested" | pretty
[[ "$(echo "$tested" | field '["ok"]')" == True ]] || { log "the connection test failed"; exit 1; }
log "registering the PostgreSQL source"
pg="$(api POST /sources "$pg_body")"
echo "$pg" | pretty
log "registering the MariaDB source"
my="$(api POST /sources "{\"name\": \"warehouse (MariaDB)\", \"kind\": \"mysql\",
  \"config\": {\"host\": \"127.0.0.1\", \"port\": $SLUICE_MARIADB_PORT, \"database\": \"sluice\", \"username\": \"sluice\", \"flavor\": \"mariadb\", \"ssl_mode\": \"disabled\"},
  \"secrets\": {\"password\": \"$SLUICE_DB_PASSWORD\"}}")"
echo "$my" | pretty
pg_id="$(echo "$pg" | field '["id"]')"
my_id="$(echo "$my" | field '["id"]')"

log "the PostgreSQL source as DynamoDB stores it: the password only sealed"
"$py" - "$pg_id" <<'PY'
import base64, json, os, sys
import boto3

item = boto3.client("dynamodb").get_item(
    TableName=os.environ["SLUICE_TABLE"],
    Key={"pk": {"S": "TENANT#demo"}, "sk": {"S": "SOURCE#" + sys.argv[1]}})["Item"]
def show(v):
    (t, x), = v.items()
    if t == "B": return "base64:" + base64.b64encode(x).decode()
    if t == "M": return {k: show(y) for k, y in x.items()}
    if t == "L": return [show(y) for y in x]
    return x
print(json.dumps({k: show(v) for k, v in item.items()}, indent=2, sort_keys=True))
assert os.environ["SLUICE_DB_PASSWORD"] not in json.dumps({k: show(v) for k, v in item.items()})
PY

log "discovering: the source's tables like 'orders', then the columns of public.orders"
api GET "/sources/$pg_id/objects?schema=public&like=orders" | pretty
api GET "/sources/$pg_id/objects/public.orders" | pretty

log "building a job from discovery: no columns typed by hand, the key from the table"
job="$(api POST /jobs "{\"name\": \"orders to warehouse\",
  \"source\": {\"source_id\": \"$pg_id\", \"object\": \"public.orders\",
    \"filter\": \"amount >= 0\"},
  \"target\": {\"source_id\": \"$my_id\", \"object\": \"orders\", \"write_mode\": \"upsert\"},
  \"mapping\": [{\"target\": \"id\", \"expr\": \"id\"}, {\"target\": \"customer\", \"expr\": \"UPPER(customer)\", \"type\": \"VARCHAR(100)\"},
               {\"target\": \"amount\", \"expr\": \"amount\"}, {\"target\": \"updated_at\", \"expr\": \"updated_at\"}],
  \"options\": {\"mode\": \"batch\", \"parallelism\": 2}}")"
echo "$job" | pretty
job_id="$(echo "$job" | field '["id"]')"

log "GET /jobs/$job_id/sql: the script a run submits, secrets masked"
api GET "/jobs/$job_id/sql"
echo

log "scheduling it every minute (imported from XXL-JOB's cron '0 * * * * ?'), Shanghai time"
schedule="$(api PUT "/jobs/$job_id/schedule" '{"xxl_cron": "0 * * * * ?", "timezone": "Asia/Shanghai",
  "overlap": "skip", "timeout_seconds": 600, "retry": {"max_attempts": 2, "backoff_seconds": 30}}')"
echo "$schedule" | pretty
"$py" - "$job_id" <<'PY'
import json, sys
import boto3

# The EventBridge schedule the jobs function made in moto: its target input
# carries ids and scheduler placeholders only.
scheduler = boto3.client("scheduler")
s = scheduler.get_schedule(GroupName="sluice-demo", Name=sys.argv[1])
print(json.dumps({k: s[k] for k in ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "State")}, indent=2))
print("Target.Input:", s["Target"]["Input"])
PY

log "waiting for the local scheduler bridge to fire it (at the next whole minute)"
run_id=""
for _ in $(seq 1 90); do
    runs="$(api GET "/jobs/$job_id/runs")"
    run_id="$(echo "$runs" | "$py" -c 'import json,sys; items=json.load(sys.stdin)["items"]; print(items[-1]["id"] if items else "")')"
    [[ -n "$run_id" ]] && break
    sleep 2
done
[[ -n "$run_id" ]] || { log "the schedule did not fire"; exit 1; }
log "fired: run $run_id; pausing the schedule so the demo shows one run"
api PUT "/jobs/$job_id/schedule" '{"xxl_cron": "0 * * * * ?", "timezone": "Asia/Shanghai", "enabled": false}' >/dev/null

log "following the run (the bridge also runs the reconciler every few seconds)"
for _ in $(seq 1 120); do
    state="$(api GET "/runs/$run_id" | field '["state"]')"
    [[ "$state" == pending || "$state" == submitting || "$state" == running ]] || break
    sleep 2
done
api GET "/runs/$run_id" | pretty
api GET "/runs/$run_id" | "$py" -c 'import json,sys; r=json.load(sys.stdin); print("  rows counted by Flink: read %s, written %s" % (r["rows_read"], r["rows_written"]))'

log "the run's state changes, as EventBridge delivered them (moto bus sluice-runs -> queue sluice-run-events)"
"$py" - "$run_id" "$SLUICE_STATE/function.env" <<'PY'
import json, sys, time
import boto3

run_id, env_file = sys.argv[1], sys.argv[2]
queue = next(l.split("=", 1)[1].strip() for l in open(env_file) if l.startswith("SLUICE_RUN_EVENTS_QUEUE_URL="))
sqs = boto3.client("sqs")
mine, deadline = [], time.time() + 20
while time.time() < deadline and not any(e["state"] in ("succeeded", "failed", "canceled", "timed_out", "lost") for e in mine):
    for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        event = json.loads(m["Body"])
        if event["detail"]["run_id"] == run_id:
            mine.append(event["detail"])
for d in sorted(mine, key=lambda d: d["version"]):
    print(f"  {d['time']}  {d['previous_state'] or '(new)':>10} -> {d['state']:<10} attempt {d['attempt']}"
          f"  rows {d['rows_read']}/{d['rows_written']}  error {d['error'] and d['error']['code']}")
PY

log "rows: PostgreSQL public.orders beside MariaDB orders"
printf '  PostgreSQL: %s rows, amount sum %s\n' "$(psql_q 'SELECT count(*) FROM orders')" "$(psql_q 'SELECT sum(amount) FROM orders')"
printf '  MariaDB:    %s rows, amount sum %s\n' "$(maria_q 'SELECT count(*) FROM orders')" "$(maria_q 'SELECT sum(amount) FROM orders')"
printf '  sample:     %s\n' "$(maria_q 'SELECT id, customer, amount, updated_at FROM orders ORDER BY id LIMIT 1')"

log "done. The stack is still running: API $SLUICE_API_URL (header x-sluice-tenant), Flink UI $FLINK_REST_URL."
log "stop it with: make down"

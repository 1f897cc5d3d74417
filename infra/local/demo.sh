#!/usr/bin/env bash
# The main job on the local stack, end to end: start the stack; register a
# PostgreSQL and a MariaDB source through the HTTP API (masked views beside
# the sealed DynamoDB items); build a sync job and show its Flink SQL; fire it
# as EventBridge Scheduler would; follow it with the reconciler until Flink
# has moved the rows; show the rows in MariaDB beside the source's count.
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

log "registering the PostgreSQL source"
pg="$(api POST /sources "{\"name\": \"orders (PostgreSQL)\", \"kind\": \"postgres\",
  \"config\": {\"host\": \"127.0.0.1\", \"port\": $SLUICE_PG_PORT, \"database\": \"sluice\", \"username\": \"sluice\", \"ssl_mode\": \"disable\"},
  \"secrets\": {\"password\": \"$SLUICE_DB_PASSWORD\"}}")"
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

log "building a job: orders upserted from PostgreSQL into MariaDB"
job="$(api POST /jobs "{\"name\": \"orders to warehouse\",
  \"source\": {\"source_id\": \"$pg_id\", \"object\": \"public.orders\",
    \"columns\": [{\"name\": \"id\", \"type\": \"BIGINT\"}, {\"name\": \"customer\", \"type\": \"VARCHAR(100)\"},
                  {\"name\": \"amount\", \"type\": \"DECIMAL(12,2)\"}, {\"name\": \"updated_at\", \"type\": \"TIMESTAMP(3)\"}],
    \"filter\": \"amount >= 0\"},
  \"target\": {\"source_id\": \"$my_id\", \"object\": \"orders\", \"write_mode\": \"upsert\", \"primary_key\": [\"id\"]},
  \"mapping\": [{\"target\": \"id\", \"expr\": \"id\"}, {\"target\": \"customer\", \"expr\": \"UPPER(customer)\", \"type\": \"VARCHAR(100)\"},
               {\"target\": \"amount\", \"expr\": \"amount\"}, {\"target\": \"updated_at\", \"expr\": \"updated_at\"}],
  \"options\": {\"mode\": \"batch\", \"parallelism\": 2}}")"
echo "$job" | pretty
job_id="$(echo "$job" | field '["id"]')"

log "GET /jobs/$job_id/sql: the script a run submits, secrets masked"
api GET "/jobs/$job_id/sql"
echo

fire_time="$(date -u +%Y-%m-%dT%H:%M:00Z)"
log "firing the job as EventBridge Scheduler would (scheduled time $fire_time)"
event="{\"tenant\": \"$tenant\", \"job_id\": \"$job_id\", \"scheduled_time\": \"$fire_time\",
        \"schedule_arn\": \"arn:aws:scheduler:us-east-1:000000000000:schedule/local/demo\", \"attempt\": \"1\"}"
answer="$(invoke trigger "$event")"
echo "$answer" | pretty
run_id="$(echo "$answer" | field '["run_id"]')"
log "delivering the same fire again: the trigger recognises it"
invoke trigger "$event" | pretty

log "running the reconciler until the run ends"
for _ in $(seq 1 90); do
    invoke reconciler '{}' >/dev/null
    state="$(api GET "/runs/$run_id" | field '["state"]')"
    [[ "$state" == pending || "$state" == submitting || "$state" == running ]] || break
    sleep 2
done
api GET "/runs/$run_id" | pretty

log "rows: PostgreSQL public.orders beside MariaDB orders"
printf '  PostgreSQL: %s rows, amount sum %s\n' "$(psql_q 'SELECT count(*) FROM orders')" "$(psql_q 'SELECT sum(amount) FROM orders')"
printf '  MariaDB:    %s rows, amount sum %s\n' "$(maria_q 'SELECT count(*) FROM orders')" "$(maria_q 'SELECT sum(amount) FROM orders')"
printf '  sample:     %s\n' "$(maria_q 'SELECT id, customer, amount, updated_at FROM orders ORDER BY id LIMIT 1')"

log "done. The stack is still running: API $SLUICE_API_URL (header x-sluice-tenant), Flink UI $FLINK_REST_URL."
log "stop it with: make down"

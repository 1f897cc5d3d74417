#!/usr/bin/env bash
# The main job on the local stack: start it, register a PostgreSQL and a
# MySQL source through the HTTP API, show what the API returns (masked)
# beside what DynamoDB stores (sealed), build a sync job between them and
# show the Flink SQL it renders. The stack keeps running afterwards;
# `make down` stops it.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SLUICE_REPO"

"$SLUICE_REPO/infra/local/up.sh"

tenant="demo"
pretty() { "$SLUICE_VENV/bin/python" -m json.tool; }
post_source() {
    curl -sS -X POST "$SLUICE_API_URL/sources" \
        -H "x-sluice-tenant: $tenant" -H 'content-type: application/json' -d "$1"
}

log "registering a PostgreSQL source (password: demo-pg-secret)"
pg="$(post_source '{"name": "orders (PostgreSQL)", "kind": "postgres",
  "config": {"host": "127.0.0.1", "port": 5432, "database": "shop", "username": "sluice"},
  "secrets": {"password": "demo-pg-secret"}}')"
echo "$pg" | pretty

log "registering a MySQL/MariaDB source (password: demo-mysql-secret)"
my="$(post_source '{"name": "warehouse (MariaDB)", "kind": "mysql",
  "config": {"host": "127.0.0.1", "port": 3306, "database": "warehouse", "username": "sluice", "flavor": "mariadb"},
  "secrets": {"password": "demo-mysql-secret"}}')"
echo "$my" | pretty

log "GET /sources: the API's view; secrets appear only as names"
curl -sS "$SLUICE_API_URL/sources" -H "x-sluice-tenant: $tenant" | pretty

log "DynamoDB items as stored (binary fields base64): only ciphertext"
"$SLUICE_VENV/bin/python" - <<'PY'
import base64, json, os
import boto3

table = boto3.resource("dynamodb").Table(os.environ["SLUICE_TABLE"])
items = table.query(
    KeyConditionExpression=boto3.dynamodb.conditions.Key("pk").eq("TENANT#demo"))["Items"]

def plain(v):
    if isinstance(v, boto3.dynamodb.types.Binary):
        return "base64:" + base64.b64encode(bytes(v)).decode()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return str(v) if not isinstance(v, str) else v

for item in items[-2:]:
    print(json.dumps(plain(item), indent=2, sort_keys=True))
blob = json.dumps([plain(i) for i in items])
for secret in ("demo-pg-secret", "demo-mysql-secret"):
    assert secret not in blob, f"{secret} is stored in plain form"
print("checked: neither password appears in the stored items")
PY

log "building a job: orders from PostgreSQL, upserted into MariaDB"
pg_id="$(echo "$pg" | "$SLUICE_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
my_id="$(echo "$my" | "$SLUICE_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
job="$(curl -sS -X POST "$SLUICE_API_URL/jobs" -H "x-sluice-tenant: $tenant" \
    -H 'content-type: application/json' -d @- <<JSON
{"name": "orders to warehouse",
 "source": {"source_id": "$pg_id", "object": "public.orders",
            "columns": [{"name": "id", "type": "BIGINT"}, {"name": "customer", "type": "VARCHAR(100)"},
                        {"name": "amount", "type": "DECIMAL(12,2)"}, {"name": "updated_at", "type": "TIMESTAMP(3)"}],
            "filter": "amount > 0",
            "incremental": {"column": "updated_at", "start": "2026-01-01T00:00:00Z", "lag_seconds": 60}},
 "target": {"source_id": "$my_id", "object": "orders", "write_mode": "upsert", "primary_key": ["id"]},
 "mapping": [{"target": "id", "expr": "id"}, {"target": "customer", "expr": "UPPER(customer)", "type": "VARCHAR(100)"},
             {"target": "amount", "expr": "amount"}, {"target": "updated_at", "expr": "updated_at"}],
 "options": {"mode": "batch", "parallelism": 2}}
JSON
)"
echo "$job" | pretty
job_id="$(echo "$job" | "$SLUICE_VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"

log "GET /jobs/$job_id/sql: the Flink SQL of a run now (secrets masked)"
curl -sS "$SLUICE_API_URL/jobs/$job_id/sql" -H "x-sluice-tenant: $tenant"
echo

log "done. The stack is still running: API $SLUICE_API_URL (header x-sluice-tenant), moto $AWS_ENDPOINT_URL."
log "stop it with: make down"

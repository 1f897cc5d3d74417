#!/usr/bin/env bash
# API fuzzing of the running local stack with schemathesis, from the OpenAPI
# document (infra/openapi.json): schema-driven and negative requests to every
# operation, then stateful sequences. Fails unless at least
# SLUICE_FUZZ_MIN_REQUESTS requests were sent and
#   - no answer is a 5xx,
#   - every answer conforms to the document (status code, content type,
#     headers, body schema),
#   - every request that breaks the schema is refused with a 4xx,
#   - undocumented methods are refused (405 with Allow).
# Three checks of schemathesis are left out, with reason:
#   - positive_data_acceptance: the document cannot say which strings are
#     tokens this API issued, or which jobs its compiler accepts; such
#     schema-valid requests are rightly 400s.
#   - ignored_auth: in the local header mode any well-formed tenant header is
#     a tenant (deployed, API Gateway's JWT authorizer refuses bad tokens
#     before a function runs).
#   - missing_required_header: a PUT without If-Match is 428 Precondition
#     Required (RFC 6585), as documented; the check accepts only 400, 401,
#     403, 406, 415 or 422. The functions' own tests pin the 428.
# Requests the local emulator cannot carry (non-UTF-8 bodies, non-ASCII header
# values) go to the functions through Lambda's Invoke API instead
# (infra/deploy/fuzz_hooks.py, infra/deploy/fuzz_invoke.py).
# Usage: infra/local/fuzz.sh [API_URL]   (the stack must be up: make up)
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$SLUICE_REPO/infra/deploy/env.sh"

api_url="${1:-$SLUICE_API_URL}"
min_requests="${SLUICE_FUZZ_MIN_REQUESTS:-1000}"
# Test cases per operation and phase; 40 gives about 2,000 requests.
examples="${SLUICE_FUZZ_EXAMPLES:-40}"
seed="${SLUICE_FUZZ_SEED:-$RANDOM}"
# A tenant of its own: the run's records mix with nobody's.
tenant="fuzz-$(date +%s)-$RANDOM"
out="$SLUICE_STATE/fuzz"
mkdir -p "$out"
rm -f "$out/requests.har" "$out/junit.xml"

code="$(curl -s -o /dev/null -w '%{http_code}' -H "x-sluice-tenant: $tenant" "$api_url/sources" || true)"
if [[ "$code" != "200" ]]; then
    log "the API at $api_url does not answer (GET /sources: $code); start the stack first (make up)"
    exit 1
fi

log "schemathesis $SCHEMATHESIS_VERSION against $api_url (tenant $tenant, seed $seed, $examples examples per operation)"
status=0
# From $out: schemathesis keeps its replay cache (.schemathesis/) in the
# working directory.
(cd "$out" && SCHEMATHESIS_HOOKS=fuzz_hooks PYTHONPATH="$SLUICE_REPO/infra/deploy" \
    "$SLUICE_TOOLS_VENV/bin/st" run "$SLUICE_REPO/infra/openapi.json" \
    --url "$api_url" \
    --header "x-sluice-tenant: $tenant" \
    --checks all \
    --exclude-checks positive_data_acceptance,ignored_auth,missing_required_header \
    --max-examples "$examples" \
    --seed "$seed" \
    --workers 2 \
    --request-timeout 30 \
    --generation-database none \
    --no-color \
    --report har,junit \
    --report-har-path "$out/requests.har" \
    --report-junit-path "$out/junit.xml" \
    >"$out/schemathesis.log" 2>&1) || status=$?
# The failures in full when there are some, then the summary.
if ((status != 0)); then
    sed -n '/= FAILURES =/,/= SUMMARY =/p' "$out/schemathesis.log" | head -n 300
fi
sed -n '/= SUMMARY =/,$p' "$out/schemathesis.log"
if ((status != 0)); then
    log "schemathesis found failures (exit $status); full log: $out/schemathesis.log (replay: cd $out && st replay <id>)"
fi

# What the emulator's HTTP front cannot carry reaches the functions directly.
python3 "$SLUICE_REPO/infra/deploy/fuzz_invoke.py" "$api_url" "$tenant" || status=1
# At least the requests asked for, and no 5xx among them.
python3 "$SLUICE_REPO/infra/deploy/fuzz_report.py" "$out/requests.har" "$min_requests" || status=1
exit "$status"

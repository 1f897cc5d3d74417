"""Requests the local emulator's HTTP front cannot carry, sent to the HTTP
functions the way API Gateway delivers them, through the Lambda Invoke API of
`cargo lambda watch`: bodies that are not UTF-8 (base64, `isBase64Encoded`)
and header values outside visible ASCII. Every answer must be a 4xx
problem+json. (The emulator answers such HTTP requests 500 itself, before any
function runs; fuzz_hooks.py keeps schemathesis from sending them there.)

Usage: fuzz_invoke.py API_URL TENANT
"""

import base64
import json
import sys
import urllib.request

api_url, tenant = sys.argv[1], sys.argv[2]
SOURCE = "/sources/src_01J0000000000000000000000A"
JOB = "/jobs/job_01J0000000000000000000000A"
VALID = b'{"name": "n", "kind": "postgres", "config": {}, "secrets": {}}'
BODIES = [b"\xff\xfe\x00garbage", b'{"name": "\xff\xfe"}', b"{\x80\x81}"]
ROUTES = [
    ("sources", "POST", "/sources"),
    ("sources", "PUT", SOURCE),
    ("jobs", "POST", "/jobs"),
    ("jobs", "PUT", JOB),
    ("jobs", "POST", f"{JOB}/runs"),
]
# Header values API Gateway may pass on: latin-1 and other non-ASCII text.
IF_MATCH = ["\u00e9", "\"1\u00ff\"", "\u2603"]
HEADER_ROUTES = [
    ("sources", "PUT", SOURCE, VALID),
    ("sources", "DELETE", SOURCE, None),
    ("jobs", "PUT", JOB, VALID),
    ("jobs", "DELETE", JOB, None),
]


def invoke(function, method, path, body, headers):
    event = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"x-sluice-tenant": tenant, **headers},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "sluice-fuzz",
            },
            "requestId": "sluice-fuzz-invoke",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "isBase64Encoded": body is not None,
    }
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
    request = urllib.request.Request(
        f"{api_url}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(event).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    content_type = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    return answer.get("statusCode", 0), content_type.get("content-type", "")


cases = [
    (fn, m, p, body, {"content-type": "application/json", "if-match": "*"})
    for fn, m, p in ROUTES
    for body in BODIES
] + [
    (fn, m, p, body, {"content-type": "application/json", "if-match": value})
    for fn, m, p, body in HEADER_ROUTES
    for value in IF_MATCH
]
failures = 0
for function, method, path, body, headers in cases:
    status, content_type = invoke(function, method, path, body, headers)
    if not (400 <= status < 500 and content_type == "application/problem+json"):
        failures += 1
        print(f"  invoke: {method} {path} {headers} {body!r} -> {status} {content_type}")
print(f"fuzz: {len(cases)} requests through the Invoke API (non-UTF-8 bodies, non-ASCII headers), {failures} not a 4xx problem")
sys.exit(1 if failures else 0)

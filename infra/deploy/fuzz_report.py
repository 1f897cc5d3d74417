"""Reads the HAR file of a schemathesis run (infra/local/fuzz.sh) and fails
unless it holds at least MIN requests and no 5xx answer.

Usage: fuzz_report.py HAR MIN
Prints one line: `fuzz: N requests, S distinct statuses {...}, F 5xx`.
"""

import collections
import json
import sys

har_path, minimum = sys.argv[1], int(sys.argv[2])
with open(har_path, encoding="utf-8") as f:
    entries = json.load(f)["log"]["entries"]

statuses = collections.Counter(e["response"]["status"] for e in entries)
server_errors = [e for e in entries if e["response"]["status"] >= 500]
by_status = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
print(f"fuzz: {len(entries)} requests ({by_status}); {len(server_errors)} 5xx")
for e in server_errors[:20]:
    request = e["request"]
    print(f"  5xx: {request['method']} {request['url']} -> {e['response']['status']}")

failed = False
if len(entries) < minimum:
    print(f"fuzz: fewer than {minimum} requests were sent")
    failed = True
if server_errors:
    failed = True
sys.exit(1 if failed else 0)

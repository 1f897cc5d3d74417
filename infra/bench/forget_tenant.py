"""Deletes every item of one tenant from the sluice table (the benchmark's
sources, jobs and runs on the shared local stack). Every key of the table
starts with the tenant, so one Query per page finds them all.

    forget_tenant.py TENANT      (AWS_ENDPOINT_URL and SLUICE_TABLE from the environment)
"""

import os
import sys

import boto3

tenant = sys.argv[1]
if not tenant.startswith("bench-"):
    raise SystemExit(f"refusing to delete tenant {tenant!r}: only bench-* tenants")
table = boto3.resource("dynamodb").Table(os.environ["SLUICE_TABLE"])
deleted = 0
kwargs = {
    "KeyConditionExpression": "pk = :pk",
    "ExpressionAttributeValues": {":pk": f"TENANT#{tenant}"},
    "ProjectionExpression": "pk, sk",
}
while True:
    page = table.query(**kwargs)
    with table.batch_writer() as batch:
        for item in page["Items"]:
            batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
    if "LastEvaluatedKey" not in page:
        break
    kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
print(f"deleted {deleted} items of {tenant}", file=sys.stderr)

"""Creates the local stack's AWS resources in moto, as the SAM template does
in an account: the DynamoDB table (with the runs' indexes), the KMS key
with its alias, and the SQS dead-letter queue of the schedules' fires.
Idempotent: on a table that exists it only adds missing indexes. Prints
KEY=VALUE lines for the functions' environment."""

import json
import os
import time

import boto3

table_name = os.environ["SLUICE_TABLE"]
alias = os.environ["SLUICE_KMS_ALIAS"]

dynamodb = boto3.client("dynamodb")


def gsi(name, pk, sk):
    """A global secondary index projecting every attribute."""
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": pk, "KeyType": "HASH"},
            {"AttributeName": sk, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


# Runs: a job's history (`by_job`) and the sparse index of active runs
# (`active`); see shared/aws/src/dynamo_runs.rs.
indexes = [
    gsi("by_job", "job_pk", "job_sk"),
    gsi("active", "active_pk", "active_sk"),
]
key_attributes = ["pk", "sk", "job_pk", "job_sk", "active_pk", "active_sk"]


def definitions(names):
    return [{"AttributeName": n, "AttributeType": "S"} for n in names]


def wait_for_indexes():
    """Until the table and every index are ACTIVE (an index is backfilled)."""
    for _ in range(240):
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        statuses = [i.get("IndexStatus") for i in table.get("GlobalSecondaryIndexes", [])]
        if table["TableStatus"] == "ACTIVE" and all(s == "ACTIVE" for s in statuses):
            return
        time.sleep(0.5)
    raise SystemExit(f"the indexes of {table_name} did not become ACTIVE")


if table_name not in dynamodb.list_tables()["TableNames"]:
    dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=definitions(key_attributes),
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=indexes,
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)
else:
    # A table from before the indexes (moto kept running, or a table made by
    # hand): add what is missing, one index per UpdateTable as DynamoDB wants.
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    present = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    for index in indexes:
        if index["IndexName"] in present:
            continue
        dynamodb.update_table(
            TableName=table_name,
            # All of them: moto replaces the definitions rather than merging.
            AttributeDefinitions=definitions(key_attributes),
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        wait_for_indexes()

kms = boto3.client("kms")
aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
key_id = aliases.get(alias)
if key_id is None:
    key_id = kms.create_key(
        Description="sluice local: wraps data keys of source secrets",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
    )["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]

# The dead-letter queue of the schedules' fires (the scheduler bridge sends
# what it could not deliver there, as EventBridge Scheduler does).
sqs = boto3.client("sqs")
dlq_url = sqs.create_queue(QueueName="sluice-scheduler-dlq")["QueueUrl"]
dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
    "Attributes"
]["QueueArn"]

# Run events: the functions publish to the bus `sluice-runs`; a rule sends
# every sluice event to the queue `sluice-run-events`, which the stack tests
# (and `make demo`) read. In AWS the bus is the template's EventBusName.
events = boto3.client("events")
bus = "sluice-runs"
if not any(b["Name"] == bus for b in events.list_event_buses()["EventBuses"]):
    events.create_event_bus(Name=bus)
events_url = sqs.create_queue(QueueName="sluice-run-events")["QueueUrl"]
events_arn = sqs.get_queue_attributes(
    QueueUrl=events_url, AttributeNames=["QueueArn"]
)["Attributes"]["QueueArn"]
events.put_rule(
    Name="sluice-run-events",
    EventBusName=bus,
    EventPattern=json.dumps({"source": ["sluice"]}),
    State="ENABLED",
)
events.put_targets(
    Rule="sluice-run-events",
    EventBusName=bus,
    Targets=[{"Id": "queue", "Arn": events_arn}],
)

# The notifier's events: in AWS the template's rule targets the notifier function with runs'
# final state changes; moto cannot invoke a function under cargo lambda watch, so the same rule
# sends them to a queue, which the scheduler bridge reads and hands to the notifier.
notifier_url = sqs.create_queue(QueueName="sluice-notifier-events")["QueueUrl"]
notifier_arn = sqs.get_queue_attributes(
    QueueUrl=notifier_url, AttributeNames=["QueueArn"]
)["Attributes"]["QueueArn"]
events.put_rule(
    Name="sluice-notifier",
    EventBusName=bus,
    EventPattern=json.dumps(
        {
            "source": ["sluice"],
            "detail-type": ["Sluice Run State Change"],
            "detail": {"final": [True]},
        }
    ),
    State="ENABLED",
)
events.put_targets(
    Rule="sluice-notifier",
    EventBusName=bus,
    Targets=[{"Id": "notifier", "Arn": notifier_arn}],
)

print(f"SLUICE_TABLE={table_name}")
print(f"SLUICE_KMS_KEY_ID={key_arn}")
print(f"SLUICE_SCHEDULER_DLQ_ARN={dlq_arn}")
print(f"SLUICE_EVENT_BUS={bus}")
print(f"SLUICE_RUN_EVENTS_QUEUE_URL={events_url}")
print(f"SLUICE_NOTIFIER_QUEUE_URL={notifier_url}")

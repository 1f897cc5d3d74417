"""Creates the local stack's AWS resources in moto, as the SAM template does
in an account: the DynamoDB table and the KMS key with its alias.
Idempotent. Prints KEY=VALUE lines for the functions' environment."""

import os

import boto3

table_name = os.environ["SLUICE_TABLE"]
alias = os.environ["SLUICE_KMS_ALIAS"]

dynamodb = boto3.client("dynamodb")
if table_name not in dynamodb.list_tables()["TableNames"]:
    dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table_name)

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

print(f"SLUICE_TABLE={table_name}")
print(f"SLUICE_KMS_KEY_ID={key_arn}")

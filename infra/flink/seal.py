"""Seals a Flink SQL script as the trigger does, for local runs and tests of the runner.

    seal.py --job JOB_ID --run RUN_ID --tenant TENANT [--key-id KEY] [--ensure-key] < script.sql

Prints the envelope JSON (the contract of dev.sluice.runner.Envelope):
{"v":1,"alg":"AES_256_GCM","key_id":<KMS key ARN>,"edk":<b64>,"nonce":<b64>,"ct":<b64>,"ctx":{...}}
KMS GenerateDataKey (AES_256) with the encryption context {job_id, purpose: flink-script, run_id,
tenant}, then AES-256-GCM with a fresh 96-bit nonce and the canonical context (compact JSON, keys
sorted, serde_json's escaping) as associated data. KMS is whatever AWS_ENDPOINT_URL points at (moto
on the local stack). --ensure-key creates the key and its alias in KMS if the alias is missing
(default alias: $SLUICE_KMS_ALIAS, alias/sluice-local). Needs boto3 and cryptography (the local
stack's venv has both).
"""

import argparse
import base64
import json
import os
import sys

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def canonical(ctx):
    # Python's json with these settings writes what serde_json writes for a BTreeMap<String,
    # String>: code-point order equals UTF-8 byte order, control characters as \n or \u00xx
    # (lowercase), '/' and non-ASCII unescaped.
    return json.dumps(ctx, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ensure_key(kms, alias):
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    if aliases.get(alias) is None:
        key_id = kms.create_key(Description="sluice local: seals Flink scripts")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--key-id", default=os.environ.get("SLUICE_KMS_ALIAS", "alias/sluice-local"))
    parser.add_argument("--ensure-key", action="store_true")
    args = parser.parse_args()

    script = sys.stdin.buffer.read()
    ctx = {"job_id": args.job, "purpose": "flink-script", "run_id": args.run, "tenant": args.tenant}
    kms = boto3.client("kms")
    if args.ensure_key and args.key_id.startswith("alias/"):
        ensure_key(kms, args.key_id)
    data_key = kms.generate_data_key(KeyId=args.key_id, KeySpec="AES_256", EncryptionContext=ctx)
    key = bytearray(data_key["Plaintext"])
    nonce = os.urandom(12)
    ct = AESGCM(bytes(key)).encrypt(nonce, script, canonical(ctx))
    for i in range(len(key)):
        key[i] = 0
    b64 = lambda b: base64.b64encode(b).decode("ascii")
    envelope = {
        "v": 1,
        "alg": "AES_256_GCM",
        "key_id": data_key["KeyId"],
        "edk": b64(data_key["CiphertextBlob"]),
        "nonce": b64(nonce),
        "ct": b64(ct),
        "ctx": ctx,
    }
    sys.stdout.write(json.dumps(envelope, separators=(",", ":"), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

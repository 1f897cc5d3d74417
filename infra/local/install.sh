#!/usr/bin/env bash
# Installs the local stack's tools into $SLUICE_HOME (idempotent, cached):
# a Python venv with moto[server] and cargo-lambda, a second one with the AWS
# SAM CLI, cfn-lint and schemathesis, plus rustfmt and clippy.
set -euo pipefail
source "$(dirname "$0")/env.sh"

mkdir -p "$SLUICE_HOME"
if [[ ! -x "$SLUICE_VENV/bin/python" ]]; then
    log "creating the virtualenv in $SLUICE_VENV"
    python3 -m venv "$SLUICE_VENV"
fi
stamp="$SLUICE_VENV/.sluice-tools-$MOTO_VERSION-$CARGO_LAMBDA_VERSION"
if [[ ! -f "$stamp" ]]; then
    log "installing moto[server]==$MOTO_VERSION and cargo-lambda==$CARGO_LAMBDA_VERSION"
    "$SLUICE_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION" "cargo-lambda==$CARGO_LAMBDA_VERSION"
    touch "$stamp"
fi
# The deployment checks and the API fuzz run (infra/deploy/env.sh): the AWS
# SAM CLI, cfn-lint and schemathesis, in a venv of their own (the SAM CLI pins
# an older boto3 than moto).
source "$SLUICE_REPO/infra/deploy/env.sh"
if [[ ! -x "$SLUICE_TOOLS_VENV/bin/python" ]]; then
    log "creating the virtualenv in $SLUICE_TOOLS_VENV"
    python3 -m venv "$SLUICE_TOOLS_VENV"
fi
tools_stamp="$SLUICE_TOOLS_VENV/.sluice-tools-$SAM_CLI_VERSION-$CFN_LINT_VERSION-$SCHEMATHESIS_VERSION"
if [[ ! -f "$tools_stamp" ]]; then
    log "installing aws-sam-cli==$SAM_CLI_VERSION, cfn-lint==$CFN_LINT_VERSION, schemathesis==$SCHEMATHESIS_VERSION"
    "$SLUICE_TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" "schemathesis==$SCHEMATHESIS_VERSION"
    touch "$tools_stamp"
fi
if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

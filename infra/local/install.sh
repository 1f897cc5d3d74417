#!/usr/bin/env bash
# Installs the local stack's tools into $SLUICE_HOME (idempotent, cached):
# a Python venv with moto[server] and cargo-lambda, plus rustfmt and clippy.
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
if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

#!/usr/bin/env bash
# The deployment checks of CI, offline (no AWS account, no Docker):
#   1. cfn-lint on the SAM template (informational findings included);
#   2. sam validate --lint;
#   3. sam build: the six functions built for Lambda with cargo lambda
#      (BuildMethod rust-cargolambda), for the template's default
#      architecture (x86_64), without the local-dev feature.
# Usage: infra/deploy/check.sh [--no-build | --debug-build]
# `make test` uses --debug-build (SAM_BUILD_MODE=debug): the same template,
# builder and cargo lambda, sharing the tests' debug target directory. The
# shipped release profile (fat LTO, codegen-units 1) costs ~20 minutes
# cold on 2 cores, so it is built by `make build` and `make bench` instead.
set -euo pipefail
source "$(dirname "$0")/../local/env.sh"
source "$SLUICE_REPO/infra/deploy/env.sh"

build=1
mode=release
target_dir="$SLUICE_RELEASE_TARGET_DIR"
case "${1:-}" in
--no-build) build=0 ;;
--debug-build)
    mode=debug
    target_dir="$CARGO_TARGET_DIR"
    export SAM_BUILD_MODE=debug
    ;;
"") ;;
*) log "usage: $0 [--no-build | --debug-build]"; exit 2 ;;
esac

template="$SLUICE_REPO/infra/template.yaml"
# The SAM CLI's tools by path: PATH keeps the local stack's venv first, whose
# python3 has the Zig that cargo lambda links with (`python3 -m ziglang`).
sam="$SLUICE_TOOLS_VENV/bin/sam"
# sam validate reads a region; nothing here calls AWS.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

log "cfn-lint $CFN_LINT_VERSION: $template"
"$SLUICE_TOOLS_VENV/bin/cfn-lint" --include-checks I -- "$template"

log "sam validate --lint"
(cd "$SLUICE_REPO/infra" && "$sam" validate --lint --template-file "$template")

((build)) || exit 0

build_dir="$SLUICE_STATE/sam-build"
mkdir -p "$SLUICE_STATE"
log "sam build (cargo lambda, $mode, x86_64) into $build_dir; cargo target $target_dir"
# Offline: every crate comes from the lock file and cargo's local cache
# (`cargo fetch` fills it once on a new machine, from crates.io).
(cd "$SLUICE_REPO" && cargo fetch --locked --quiet)
started=$SECONDS
CARGO_TARGET_DIR="$target_dir" CARGO_NET_OFFLINE=true \
    "$sam" build --template-file "$template" --build-dir "$build_dir" --no-cached \
    --parameter-overrides Architecture=x86_64
log "sam build took $((SECONDS - started))s"

# What was built is what Lambda runs: an x86-64 ELF named bootstrap per
# function, built without the local-dev (header tenant) feature.
for fn in SourcesFunction DiscoveryFunction JobsFunction TriggerFunction ReconcilerFunction NotifierFunction; do
    bootstrap="$build_dir/$fn/bootstrap"
    [[ -x "$bootstrap" ]] || { log "missing $bootstrap"; exit 1; }
    file_kind="$(od -An -tx1 -j18 -N2 "$bootstrap" | tr -d ' \n')"
    [[ "$file_kind" == "3e00" ]] || { log "$bootstrap is not an x86-64 executable (e_machine $file_kind)"; exit 1; }
    printf '  %-20s %s bytes\n' "$fn" "$(stat -c %s "$bootstrap")"
done
# The HTTP functions' tenant code differs by build: only a build without the
# local-dev feature carries the refusal of header mode.
for fn in SourcesFunction JobsFunction; do
    grep -aq "header mode exists only in local-dev builds" "$build_dir/$fn/bootstrap" || {
        log "$fn was built with the local-dev feature (header tenant mode)"
        exit 1
    }
done
log "deployment checks passed"

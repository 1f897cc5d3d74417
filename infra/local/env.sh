# Shared settings of the local stack; sourced by the other scripts.
# Everything binds to 127.0.0.1 and talks to moto, never to AWS.

SLUICE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Tools, virtualenv and build cache live outside the checkout so that clean
# clones (CI) reuse them; the per-checkout runtime state lives in .local/.
SLUICE_HOME="${SLUICE_HOME:-$HOME/.cache/sluice}"
SLUICE_VENV="$SLUICE_HOME/venv"
SLUICE_STATE="${SLUICE_STATE:-$SLUICE_REPO/.local}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SLUICE_HOME/target}"

MOTO_VERSION="5.2.5"
CARGO_LAMBDA_VERSION="1.9.2"

export MOTO_PORT="${MOTO_PORT:-5055}"
export SLUICE_API_PORT="${SLUICE_API_PORT:-9000}"
export SLUICE_API_URL="http://127.0.0.1:$SLUICE_API_PORT"

# The AWS SDKs talk to moto with dummy credentials; disabling the instance
# metadata lookup keeps them from probing an address off loopback.
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_ACCESS_KEY_ID="local"
export AWS_SECRET_ACCESS_KEY="local"
export AWS_REGION="us-east-1"
export AWS_DEFAULT_REGION="us-east-1"
export AWS_EC2_METADATA_DISABLED="true"

export SLUICE_TABLE="${SLUICE_TABLE:-sluice}"
export SLUICE_KMS_ALIAS="alias/sluice-local"
export SLUICE_FUNCTION_LOG="$SLUICE_STATE/functions.log"

export PATH="$SLUICE_VENV/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m[sluice]\033[0m %s\n' "$*" >&2; }

# CI builds once per clean clone: incremental state (16 GB once) buys nothing.
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL=0; fi

# prune_build_cache: the shared target directory collects every build of
# every branch; once it filled the disk and the linker died with SIGBUS.
# Below 15 GB free (or past 40 GB of debug builds: the tests' and those of
# `sam build --debug-build`, which cargo lambda makes per target triple) the
# debug builds go.
prune_build_cache() {
    local dirs=("$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/debug")
    local free_gb used_gb=0 dir
    free_gb="$(df --output=avail -BG "$HOME" | tail -1 | tr -dc 0-9)"
    for dir in "${dirs[@]}"; do
        [[ -d "$dir" ]] && used_gb=$((used_gb + $(du -s -BG "$dir" | cut -f1 | tr -dc 0-9)))
    done
    if ((free_gb < 15 || used_gb > 40)); then
        log "disk: ${free_gb} GB free, debug builds ${used_gb} GB: emptying them"
        rm -rf "${dirs[@]}"
    fi
}

# wait_for NAME SECONDS COMMAND...: polls until COMMAND succeeds.
wait_for() {
    local name="$1" seconds="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            log "$name did not come up within ${seconds}s"
            return 1
        fi
        sleep 0.5
    done
}

# Settings of the deployment checks and the API fuzz run; sourced after
# infra/local/env.sh. The AWS SAM CLI pins an older boto3 than moto, so its
# tools live in a virtualenv of their own beside the local stack's.
SLUICE_TOOLS_VENV="${SLUICE_TOOLS_VENV:-$SLUICE_HOME/tools-venv}"
SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
SCHEMATHESIS_VERSION="4.32.5"

# Release builds (sam build) get a target directory of their own, outside
# the clone: a clean clone reuses it, and a release build never holds the
# lock of the debug builds' directory.
SLUICE_RELEASE_TARGET_DIR="${SLUICE_RELEASE_TARGET_DIR:-$SLUICE_HOME/target-release}"

# No telemetry, no update check.
export SAM_CLI_TELEMETRY=0

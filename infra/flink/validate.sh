#!/usr/bin/env bash
# Validates Flink SQL scripts without a cluster and without running them:
#   infra/flink/validate.sh [--explain] FILE.sql...
# Plans every file with Flink's planner and the connector jars of $FLINK_HOME/lib in one JVM
# (dev.sluice.runner.SqlValidator); prints "OK <file>" or "FAIL <file>: <error>" per file and
# exits non-zero if any failed. Builds the runner jar if it is missing or older than its sources,
# and installs Flink if needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

if (($# == 0)); then
    echo "usage: $0 [--explain] FILE.sql..." >&2
    exit 2
fi

"$here/install.sh" >/dev/null

jar="$FLINK_RUNNER_DIR/target/flink-sql-runner.jar"
if [[ ! -f "$jar" ]] || [[ -n "$(find "$FLINK_RUNNER_DIR/pom.xml" "$FLINK_RUNNER_DIR/src/main" -newer "$jar" -print -quit)" ]]; then
    log "building the runner jar"
    build=(mvn -B -f "$FLINK_RUNNER_DIR/pom.xml" package -DskipTests)
    build_log="$SLUICE_STATE/flink/runner-build.log"
    mkdir -p "$(dirname "$build_log")"
    # offline first (after the first build everything is in ~/.m2), online if that fails
    "${build[@]}" -o >"$build_log" 2>&1 || run_quiet "$build_log" "${build[@]}"
fi
mkdir -p "$SLUICE_STATE/flink/log"

# The wheel's JVM options (--add-opens ... that Flink needs on Java 17).
read -ra java_opts <<<"$(sed -n 's/^ *all: *//p' "$FLINK_HOME/conf/config.yaml.dist")"
exec java "${java_opts[@]}" -Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configurationFile="$FLINK_HOME/conf/log4j-cli.properties" \
    -Dlog.file="$SLUICE_STATE/flink/log/validate.log" \
    -cp "$jar:$FLINK_HOME/lib/*" dev.sluice.runner.SqlValidator "$@"

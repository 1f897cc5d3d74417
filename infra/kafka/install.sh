#!/usr/bin/env bash
# Assembles the local Kafka broker's classpath in $KAFKA_HOME/libs (= $SLUICE_HOME/kafka-4.4.0),
# idempotent and cached: the jars that jars.pom.xml names with their runtime dependencies, fetched
# from Maven Central (local repository ~/.m2, the cache of every download). There is no Apache
# tarball: the broker runs its main classes from these jars (start.sh). Prints KAFKA_HOME.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

# Bump when the layout built below changes; the stamp also covers the jar list.
LAYOUT=1
stamp_value="$LAYOUT $KAFKA_VERSION $(sha256sum "$here/jars.pom.xml" | cut -d' ' -f1)"
stamp_file="$KAFKA_HOME/.sluice-install"
installed() { [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; }

if installed; then
    echo "$KAFKA_HOME"
    exit 0
fi
mkdir -p "$SLUICE_HOME"
# Two checkouts (or up.sh and a test) may install at once.
exec 9>"$SLUICE_HOME/.kafka-install.lock"
flock 9
if installed; then
    echo "$KAFKA_HOME"
    exit 0
fi

log "fetching Kafka $KAFKA_VERSION (broker and its runtime dependencies) from Maven Central"
partial="$KAFKA_HOME.partial"
rm -rf "$partial"
mkdir -p "$partial/libs"
mvn_log="$SLUICE_HOME/kafka-install-mvn.log"
if ! mvn -B -ntp -f "$here/jars.pom.xml" dependency:copy-dependencies \
    -Dkafka.libs="$partial/libs" >"$mvn_log" 2>&1; then
    cat "$mvn_log" >&2
    log "failed to fetch the Kafka classpath (output in $mvn_log)"
    exit 1
fi
rm -rf "$here/target" # mvn leaves an empty target/ beside the pom

echo "$stamp_value" >"$partial/.sluice-install"
rm -rf "$KAFKA_HOME"
mv "$partial" "$KAFKA_HOME"
log "Kafka $KAFKA_VERSION is ready ($(ls "$KAFKA_HOME/libs" | wc -l) jars)"
echo "$KAFKA_HOME"

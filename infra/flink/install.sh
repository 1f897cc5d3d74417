#!/usr/bin/env bash
# Assembles a Flink distribution in $FLINK_HOME (= $SLUICE_HOME/flink-$FLINK_VERSION), idempotent
# and cached: bin/ conf/ lib/ opt/ plugins/ from the PyPI wheels apache-flink and
# apache-flink-libraries, plus the connector, format and SQL Gateway jars listed in jars.pom.xml,
# fetched from Maven Central (local repository ~/.m2). Prints FLINK_HOME.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

# Bump when the layout built below changes; the stamp also covers the jar list.
LAYOUT=2
dialects="$here/../flink-jdbc-dialects"
# The stamp covers the jar list and the sources of sluice's JDBC dialects.
stamp_value="$LAYOUT $FLINK_VERSION $(sha256sum "$here/jars.pom.xml" | cut -d' ' -f1) $(
    cd "$dialects" && find pom.xml src/main -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
)"
stamp_file="$FLINK_HOME/.sluice-install"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
    echo "$FLINK_HOME"
    exit 0
fi

mkdir -p "$SLUICE_HOME"
# validate.sh and start.sh may both call this at once.
exec 9>"$SLUICE_HOME/.flink-install.lock"
flock 9
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp_value" ]]; then
    echo "$FLINK_HOME"
    exit 0
fi

# 1. The wheels (cached; the download does not depend on the local Python: the apache-flink
#    wheel is only built per interpreter for its Cython parts, we only take bin/ and conf/).
wheels="$SLUICE_HOME/downloads/flink-$FLINK_VERSION"
if ! compgen -G "$wheels/apache_flink-$FLINK_VERSION-*.whl" >/dev/null ||
    ! compgen -G "$wheels/apache_flink_libraries-$FLINK_VERSION-*.whl" >/dev/null; then
    python="$SLUICE_HOME/venv/bin/python"
    [[ -x "$python" ]] || python=python3
    log "downloading the apache-flink $FLINK_VERSION wheels (about 320 MB)"
    mkdir -p "$wheels"
    "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 \
        --implementation cp --abi cp311 --dest "$wheels" \
        "apache-flink==$FLINK_VERSION" "apache-flink-libraries==$FLINK_VERSION"
fi

# 2. Unpack into a fresh directory beside the final one, then swap it in.
partial="$FLINK_HOME.partial"
rm -rf "$partial"
mkdir -p "$partial/unpacked"
log "assembling Flink $FLINK_VERSION in $FLINK_HOME"
# apache-flink holds bin/ and conf/; apache-flink-libraries lib/, opt/, plugins/ and
# bin/bash-java-utils.jar.
unzip -q -o "$wheels"/apache_flink-"$FLINK_VERSION"-*.whl 'pyflink/bin/*' 'pyflink/conf/*' \
    -d "$partial/unpacked"
unzip -q -o "$wheels"/apache_flink_libraries-"$FLINK_VERSION"-*.whl 'pyflink/bin/*' 'pyflink/lib/*' \
    'pyflink/opt/*' 'pyflink/plugins/*' -d "$partial/unpacked"
for dir in bin conf lib opt plugins; do
    mv "$partial/unpacked/pyflink/$dir" "$partial/$dir"
done
rm -rf "$partial/unpacked"
mkdir -p "$partial/log"
chmod +x "$partial"/bin/*.sh "$partial/bin/flink"
# The wheel's config.yaml, kept pristine: start.sh writes conf/config.yaml from it.
cp "$partial/conf/config.yaml" "$partial/conf/config.yaml.dist"

# 3. Connector, format and SQL Gateway jars from Maven Central.
log "fetching connector and format jars from Maven Central"
run_quiet "$SLUICE_HOME/flink-install-mvn.log" \
    mvn -B -f "$here/jars.pom.xml" dependency:copy@lib dependency:copy@opt \
    -Dflink.lib="$partial/lib" -Dflink.opt="$partial/opt"
rm -rf "$here/target" # mvn leaves an empty target/ beside the pom

# 4. sluice's PostgreSQL and MySQL dialects of the JDBC connector (infra/flink-jdbc-dialects):
#    the only JdbcFactory for their URLs, so Flink's own dialect modules are not installed.
log "building sluice's JDBC dialects"
run_quiet "$SLUICE_HOME/flink-install-dialects.log" mvn -B -f "$dialects/pom.xml" package
cp "$dialects/target/sluice-flink-jdbc-dialects.jar" "$partial/lib/"

echo "$stamp_value" >"$partial/.sluice-install"
rm -rf "$FLINK_HOME"
mv "$partial" "$FLINK_HOME"
log "Flink $FLINK_VERSION is ready"
echo "$FLINK_HOME"

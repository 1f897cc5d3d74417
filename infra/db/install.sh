#!/usr/bin/env bash
# Installs the PostgreSQL and MariaDB server and client binaries from the Debian packages
# (postgresql, mariadb-server, mariadb-client) if they are missing. Idempotent and
# non-interactive. The packages' own system services are not started (and not used): a
# policy-rc.d that refuses service starts is put in place for the install if there is none.
# start.sh runs our own instances.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

need=()
if [[ -z "$SLUICE_PG_BIN" || ! -x "$SLUICE_PG_BIN/initdb" ]] || ! command -v psql >/dev/null; then
    need+=(postgresql postgresql-client)
fi
if [[ ! -x "$SLUICE_MARIADBD" ]] || ! command -v mariadb-install-db >/dev/null ||
    ! command -v mariadb >/dev/null; then
    need+=(mariadb-server mariadb-client)
fi
if ((${#need[@]} == 0)); then
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        log "missing packages (${need[*]}) and not root: install them with apt-get"
        exit 1
    fi
fi

policy=/usr/sbin/policy-rc.d
remove_policy=false
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# written by sluice infra/db/install.sh for the install only\nexit 101\n' |
        "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    remove_policy=true
fi
cleanup() {
    if $remove_policy; then
        "${sudo[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

log "installing ${need[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt_quiet=(-q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y "${apt_quiet[@]}" --no-install-recommends "${need[@]}" >/dev/null
log "installed: $(psql --version | head -n 1); $(mariadbd --version 2>/dev/null | head -n 1)"

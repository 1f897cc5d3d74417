# Settings of the local PostgreSQL and MariaDB instances; sourced by the scripts beside it and by
# tests. Builds on infra/local/env.sh (SLUICE_HOME, SLUICE_STATE, log, wait_for).
# shellcheck shell=bash
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../local" && pwd)/env.sh"

export SLUICE_PG_PORT="${SLUICE_PG_PORT:-55432}"
export SLUICE_MARIADB_PORT="${SLUICE_MARIADB_PORT:-53306}"
export SLUICE_DB_NAME="sluice"
export SLUICE_DB_USER="sluice"
export SLUICE_DB_PASSWORD="${SLUICE_DB_PASSWORD:-sluice-local-pw}"
export SLUICE_DB_HOST="127.0.0.1"

# Data directories (re-creatable: start.sh --fresh wipes them), sockets, pids and logs.
SLUICE_PG_DATA="$SLUICE_STATE/pg"
SLUICE_PG_RUN="$SLUICE_STATE/pg-run"          # unix socket directory, mode 0700
SLUICE_PG_LOG="$SLUICE_STATE/postgres.log"
SLUICE_MARIADB_DATA="$SLUICE_STATE/mariadb"
SLUICE_MARIADB_RUN="$SLUICE_STATE/mariadb-run" # socket and mariadbd's own pid file, mode 0700
export SLUICE_MARIADB_SOCKET="$SLUICE_MARIADB_RUN/mariadb.sock"
SLUICE_MARIADB_LOG="$SLUICE_STATE/mariadb.log"

# JDBC URLs for Flink SQL scripts and tests (see infra/flink/README.md for the MySQL dialect).
export SLUICE_PG_JDBC_URL="jdbc:postgresql://127.0.0.1:$SLUICE_PG_PORT/$SLUICE_DB_NAME"
export SLUICE_MARIADB_JDBC_URL="jdbc:mysql://127.0.0.1:$SLUICE_MARIADB_PORT/$SLUICE_DB_NAME"

# The newest installed PostgreSQL's server binaries (initdb, postgres, pg_isready).
SLUICE_PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"

# The MariaDB server binary (in /usr/sbin, which a normal user's PATH may lack).
SLUICE_MARIADBD="$(command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd)"

# The OS users the servers run as: their own users when we are root (initdb refuses root), else
# the calling user.
if ((EUID == 0)); then
    SLUICE_PG_OS_USER="postgres"
    SLUICE_MARIADB_OS_USER="mysql"
else
    SLUICE_PG_OS_USER="$(id -un)"
    SLUICE_MARIADB_OS_USER="$(id -un)"
fi

# Client commands, as the application user over TCP (password from the environment, never on the
# command line):
#   sluice_psql -c 'SELECT 1'            sluice_mariadb -e 'SELECT 1'
#   sluice_psql -f file.sql              sluice_mariadb < file.sql
sluice_psql() {
    PGPASSWORD="$SLUICE_DB_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$SLUICE_PG_PORT" -U "$SLUICE_DB_USER" -d "$SLUICE_DB_NAME" "$@"
}
sluice_mariadb() {
    MYSQL_PWD="$SLUICE_DB_PASSWORD" mariadb --no-defaults --protocol=TCP --local-infile=1 \
        -h 127.0.0.1 -P "$SLUICE_MARIADB_PORT" -u "$SLUICE_DB_USER" "$SLUICE_DB_NAME" "$@"
}
# Administrators, over the unix sockets (trust/unix_socket authentication; the socket
# directories are private to the server's OS user, and root):
#   sluice_psql_admin -c 'CREATE DATABASE shop OWNER sluice'
#   sluice_mariadb_admin -e 'CREATE DATABASE shop'
sluice_psql_admin() {
    psql -X -q -v ON_ERROR_STOP=1 -h "$SLUICE_PG_RUN" -p "$SLUICE_PG_PORT" -U postgres -d postgres "$@"
}
sluice_mariadb_admin() {
    mariadb --no-defaults --local-infile=1 --socket="$SLUICE_MARIADB_SOCKET" -u root "$@"
}

# pid_alive NAME: the process recorded in $SLUICE_STATE/NAME.pid is alive.
pid_alive() {
    local pidfile="$SLUICE_STATE/$1.pid"
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

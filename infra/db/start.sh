#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB instances on 127.0.0.1 (our own instances, not the
# distribution's services), each initialised on first use, and waits until both accept
# connections as the application user:
#   PostgreSQL  port $SLUICE_PG_PORT (55432), data $SLUICE_STATE/pg, socket dir $SLUICE_STATE/pg-run
#   MariaDB     port $SLUICE_MARIADB_PORT (53306), data $SLUICE_STATE/mariadb,
#               socket $SLUICE_STATE/mariadb-run/mariadb.sock, local_infile=1
# Each has a database `sluice` and a user `sluice` (for MariaDB 'sluice'@'127.0.0.1' and
# 'sluice'@'localhost') with the password $SLUICE_DB_PASSWORD (default sluice-local-pw); the user
# may also create databases (PostgreSQL: CREATEDB; MariaDB: all privileges on `sluice` and on
# `sluice\_%`). As root the servers run as the postgres and mysql OS users.
# Pids in $SLUICE_STATE/{postgres,mariadb}.pid, logs in $SLUICE_STATE/{postgres,mariadb}.log.
# Stop them with stop.sh.
#   start.sh            start (initialise if needed); a running instance is left as it is
#   start.sh --fresh    stop, wipe both data directories, initialise and start anew
# These are throw-away test instances tuned for speed, not durability (PostgreSQL fsync=off).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"

fresh=false
for arg in "$@"; do
    case "$arg" in
    --fresh) fresh=true ;;
    *)
        echo "usage: $0 [--fresh]" >&2
        exit 2
        ;;
    esac
done

started_at=$SECONDS
"$here/install.sh"
mkdir -p "$SLUICE_STATE"

if $fresh; then
    "$here/stop.sh"
    log "wiping $SLUICE_PG_DATA and $SLUICE_MARIADB_DATA"
    rm -rf "$SLUICE_PG_DATA" "$SLUICE_PG_RUN" "$SLUICE_MARIADB_DATA" "$SLUICE_MARIADB_RUN"
fi

# as_user USER COMMAND...: runs COMMAND as USER (exec, no extra process: the pid stays the
# server's), or directly when USER is the current user.
as_user() {
    local user="$1"
    shift
    if [[ "$user" == "$(id -un)" ]]; then
        "$@"
    else
        (cd / && exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@")
    fi
}

# private_dir DIR USER: DIR exists, owned by USER, mode 0700.
private_dir() {
    mkdir -p "$1"
    if ((EUID == 0)); then
        chown "$2:" "$1"
    fi
    chmod 700 "$1"
}

port_taken() { # port_taken PORT: something listens on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The server's OS user must reach the data directory, which lives in the checkout.
check_reachable() {
    local user="$1"
    if ! as_user "$user" test -x "$SLUICE_STATE"; then
        log "$SLUICE_STATE is not reachable by the OS user $user (a parent directory lacks o+x)"
        exit 1
    fi
}

# --- PostgreSQL ----------------------------------------------------------------------------------
start_postgres() {
    if pid_alive postgres; then
        log "postgres already running (pid $(cat "$SLUICE_STATE/postgres.pid"))"
        return
    fi
    if port_taken "$SLUICE_PG_PORT"; then
        log "port $SLUICE_PG_PORT is taken by another process; set SLUICE_PG_PORT"
        exit 1
    fi
    check_reachable "$SLUICE_PG_OS_USER"
    private_dir "$SLUICE_PG_RUN" "$SLUICE_PG_OS_USER"
    if [[ ! -f "$SLUICE_PG_DATA/PG_VERSION" ]]; then
        log "initialising PostgreSQL in $SLUICE_PG_DATA"
        rm -rf "$SLUICE_PG_DATA"
        private_dir "$SLUICE_PG_DATA" "$SLUICE_PG_OS_USER"
        # Local (socket) connections are trusted: the socket directory is private to the
        # server's OS user (and root). TCP needs a password.
        as_user "$SLUICE_PG_OS_USER" "$SLUICE_PG_BIN/initdb" -D "$SLUICE_PG_DATA" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
            >"$SLUICE_STATE/postgres-initdb.log" 2>&1 || {
            cat "$SLUICE_STATE/postgres-initdb.log" >&2
            exit 1
        }
    fi
    rm -f "$SLUICE_PG_DATA/postmaster.pid" # stale after a kill; the server checks the port itself
    log "starting PostgreSQL on 127.0.0.1:$SLUICE_PG_PORT"
    : >"$SLUICE_PG_LOG"
    (
        exec </dev/null >>"$SLUICE_PG_LOG" 2>&1
        if [[ "$SLUICE_PG_OS_USER" == "$(id -un)" ]]; then
            exec setsid "$SLUICE_PG_BIN/postgres" -D "$SLUICE_PG_DATA" "${pg_options[@]}"
        else
            exec setsid setpriv --reuid="$SLUICE_PG_OS_USER" --regid="$SLUICE_PG_OS_USER" --init-groups -- \
                "$SLUICE_PG_BIN/postgres" -D "$SLUICE_PG_DATA" "${pg_options[@]}"
        fi
    ) &
    echo $! >"$SLUICE_STATE/postgres.pid"
}

pg_options=(
    -c listen_addresses=127.0.0.1
    -c port="$SLUICE_PG_PORT"
    -c unix_socket_directories="$SLUICE_PG_RUN"
    -c max_connections=100
    -c shared_buffers=128MB
    -c max_wal_size=2GB
    # throw-away test data: speed over durability
    -c fsync=off
    -c synchronous_commit=off
    -c full_page_writes=off
)

pg_ready() {
    "$SLUICE_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$SLUICE_PG_PORT"
}

setup_postgres() {
    # Idempotent: the role's password follows $SLUICE_DB_PASSWORD.
    sluice_psql_admin -v user="$SLUICE_DB_USER" -v password="$SLUICE_DB_PASSWORD" \
        -v db="$SLUICE_DB_NAME" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user')
    WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN CREATEDB PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
    WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
}

# --- MariaDB -------------------------------------------------------------------------------------
start_mariadb() {
    if pid_alive mariadb; then
        log "mariadb already running (pid $(cat "$SLUICE_STATE/mariadb.pid"))"
        return
    fi
    if port_taken "$SLUICE_MARIADB_PORT"; then
        log "port $SLUICE_MARIADB_PORT is taken by another process; set SLUICE_MARIADB_PORT"
        exit 1
    fi
    check_reachable "$SLUICE_MARIADB_OS_USER"
    private_dir "$SLUICE_MARIADB_RUN" "$SLUICE_MARIADB_OS_USER"
    if [[ ! -d "$SLUICE_MARIADB_DATA/mysql" ]]; then
        log "initialising MariaDB in $SLUICE_MARIADB_DATA"
        rm -rf "$SLUICE_MARIADB_DATA"
        private_dir "$SLUICE_MARIADB_DATA" "$SLUICE_MARIADB_OS_USER"
        # root@localhost authenticates by unix_socket as the OS user running this script.
        mariadb-install-db --no-defaults --datadir="$SLUICE_MARIADB_DATA" \
            --user="$SLUICE_MARIADB_OS_USER" --auth-root-authentication-method=socket \
            --auth-root-socket-user="$(id -un)" --skip-test-db --skip-name-resolve \
            >"$SLUICE_STATE/mariadb-install-db.log" 2>&1 || {
            cat "$SLUICE_STATE/mariadb-install-db.log" >&2
            exit 1
        }
    fi
    log "starting MariaDB on 127.0.0.1:$SLUICE_MARIADB_PORT"
    : >"$SLUICE_MARIADB_LOG"
    if ((EUID == 0)); then
        chown "$SLUICE_MARIADB_OS_USER:" "$SLUICE_MARIADB_LOG"
    fi
    # mariadbd runs in the foreground (no mysqld_safe); as root it switches to --user itself.
    (
        exec </dev/null >>"$SLUICE_MARIADB_LOG" 2>&1
        exec setsid "$SLUICE_MARIADBD" --no-defaults \
            --datadir="$SLUICE_MARIADB_DATA" \
            --user="$SLUICE_MARIADB_OS_USER" \
            --bind-address=127.0.0.1 --port="$SLUICE_MARIADB_PORT" \
            --socket="$SLUICE_MARIADB_SOCKET" \
            --pid-file="$SLUICE_MARIADB_RUN/mariadbd.pid" \
            --log-error="$SLUICE_MARIADB_LOG" \
            --local-infile=1 \
            --skip-name-resolve \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
            --innodb-buffer-pool-size=256M \
            --innodb-flush-log-at-trx-commit=2 \
            --max-connections=200
    ) &
    echo $! >"$SLUICE_STATE/mariadb.pid"
}

mariadb_ready() {
    mariadb-admin --no-defaults --socket="$SLUICE_MARIADB_SOCKET" -u root ping >/dev/null 2>&1
}

setup_mariadb() {
    local pw="$SLUICE_DB_PASSWORD"
    pw="${pw//\\/\\\\}"
    pw="${pw//\'/\\\'}"
    local db="$SLUICE_DB_NAME" user="$SLUICE_DB_USER"
    sluice_mariadb_admin <<SQL
CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$pw';
ALTER USER '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER '$user'@'localhost' IDENTIFIED BY '$pw';
GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'127.0.0.1', '$user'@'localhost';
GRANT ALL PRIVILEGES ON \`${db}\\_%\`.* TO '$user'@'127.0.0.1', '$user'@'localhost';
FLUSH PRIVILEGES;
SQL
}

# --- both ----------------------------------------------------------------------------------------
# Initialised and launched side by side (a fresh start spends most of its time there).
start_postgres &
pg_job=$!
start_mariadb &
mariadb_job=$!
failed=false
wait "$pg_job" || failed=true
wait "$mariadb_job" || failed=true
if $failed; then
    exit 1
fi

if ! wait_for "PostgreSQL on 127.0.0.1:$SLUICE_PG_PORT" 60 pg_ready; then
    tail -n 30 "$SLUICE_PG_LOG" >&2
    exit 1
fi
setup_postgres
if ! wait_for "MariaDB on 127.0.0.1:$SLUICE_MARIADB_PORT" 90 mariadb_ready; then
    tail -n 30 "$SLUICE_MARIADB_LOG" >&2
    exit 1
fi
setup_mariadb

# Ready means: the application user gets in over TCP.
if ! wait_for "PostgreSQL login as $SLUICE_DB_USER" 20 sluice_psql -c 'SELECT 1'; then
    exit 1
fi
if ! wait_for "MariaDB login as $SLUICE_DB_USER" 20 sluice_mariadb -e 'SELECT 1'; then
    exit 1
fi
log "databases are up in $((SECONDS - started_at))s: PostgreSQL 127.0.0.1:$SLUICE_PG_PORT (pid $(cat "$SLUICE_STATE/postgres.pid")), MariaDB 127.0.0.1:$SLUICE_MARIADB_PORT (pid $(cat "$SLUICE_STATE/mariadb.pid"))"

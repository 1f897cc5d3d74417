//! The PostgreSQL probe: a connection test (`connect`, `authenticate`,
//! `database`, `read_privilege`), the tables and views of the schemas the
//! user may use, and one object's columns with their proposed Flink types.
//!
//! Connections are made with sqlx from options built field by field (never
//! a URL holding the password), `~/.pgpass` is not read, and statements are
//! not logged. A failure is classified by its kind and SQLSTATE only: the
//! driver's text is never shown or logged.

use secrecy::SecretString;
use sluice_domain::model::discovery::{
    Check, CheckCode, ConnectionReport, DiscoveredColumn, ObjectDescription, ObjectKind,
    ObjectPage, ObjectQuery, ObjectRef, RowCount, TableColumn, TableSpec,
};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};
use sluice_flinksql::native_types::{self, NativeColumn, NativeKind};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::ddl::Dialect;
use crate::sql::{self, Deadline, Settings};

const DEFAULT_PORT: u16 = 5432;

// The statements are literals (sqlx takes no other SQL text); these
// fragments are spliced into them with `concat!`.

/// Schemas that are PostgreSQL's own: `pg_*` (reserved to the system:
/// `pg_catalog`, `pg_toast`, temporary schemas) and `information_schema`.
macro_rules! user_schema {
    () => {
        "(n.nspname !~ '^pg_' AND n.nspname <> 'information_schema')"
    };
}

/// Relation kinds a job can read or write: tables, partitioned tables,
/// views, materialized views, foreign tables.
macro_rules! object_kinds {
    () => {
        "c.relkind IN ('r', 'p', 'v', 'm', 'f')"
    };
}

pub async fn test(source: &Source, secrets: &Secrets) -> ConnectionReport {
    let deadline = Deadline::start();
    let mut checks = Vec::new();
    let mut version = None;
    match open(source, secrets, &deadline).await {
        Err(failed) => checks.push(failed),
        Ok((mut conn, settings)) => {
            checks.push(Check::passed(
                "connect",
                format!("reached {}", settings.address()),
            ));
            checks.push(Check::passed(
                "authenticate",
                format!("signed in as {}", settings.username),
            ));
            checks.push(Check::passed(
                "database",
                format!("opened database {}", settings.database),
            ));
            match deadline
                .run(sqlx::query_scalar::<_, String>("SHOW server_version").fetch_one(&mut conn))
                .await
            {
                Some(Ok(v)) => version = Some(format!("PostgreSQL {v}")),
                Some(Err(_)) => {}
                None => checks.push(sql::timeout("server_version", "asking the version")),
            }
            if checks.iter().all(|c| c.ok) {
                checks.push(read_privilege(&mut conn, &deadline).await);
            }
            close(conn, &deadline).await;
        }
    }
    let report = ConnectionReport::new(deadline.elapsed_ms(), version, checks);
    tracing::info!(
        kind = "postgres",
        ok = report.ok,
        code = report.first_failure().map(|c| c.as_str()),
        latency_ms = report.latency_ms,
        "connection test"
    );
    report
}

/// Whether the user can read anything: USAGE on some schema that is not
/// PostgreSQL's own, and SELECT (on the table or on a column of it) on at
/// least one of the tables and views there, as `has_*_privilege` answer
/// with every role membership counted. A database without tables passes:
/// there is nothing to deny yet.
async fn read_privilege(conn: &mut PgConnection, deadline: &Deadline) -> Check {
    const QUERY: &str = concat!(
        "SELECT (SELECT count(*) FROM pg_catalog.pg_namespace n WHERE ",
        user_schema!(),
        " AND has_schema_privilege(n.oid, 'USAGE')), ",
        "(SELECT count(*) FROM pg_catalog.pg_class c ",
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ",
        user_schema!(),
        " AND ",
        object_kinds!(),
        "), (SELECT count(*) FROM pg_catalog.pg_class c ",
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ",
        user_schema!(),
        " AND ",
        object_kinds!(),
        " AND has_schema_privilege(n.oid, 'USAGE') ",
        "AND has_any_column_privilege(c.oid, 'SELECT'))"
    );
    let row = match deadline.run(sqlx::query(QUERY).fetch_one(&mut *conn)).await {
        None => return sql::timeout("read_privilege", "reading the privileges"),
        Some(Err(e)) => return query_check("read_privilege", &e),
        Some(Ok(row)) => row,
    };
    let (schemas, objects, readable): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    if schemas == 0 {
        Check::failed(
            "read_privilege",
            CheckCode::Permission,
            "the user has USAGE on no schema of the database (besides PostgreSQL's own)",
        )
    } else if objects > 0 && readable == 0 {
        Check::failed(
            "read_privilege",
            CheckCode::Permission,
            format!("the user may SELECT none of the database's {objects} tables and views"),
        )
    } else if objects == 0 {
        Check::passed(
            "read_privilege",
            format!("the user may use {schemas} schema(s); the database has no tables yet"),
        )
    } else {
        Check::passed(
            "read_privilege",
            format!("the user may SELECT {readable} of {objects} tables and views"),
        )
    }
}

pub async fn list(
    source: &Source,
    secrets: &Secrets,
    query: &ObjectQuery,
) -> Result<ObjectPage, DiscoveryError> {
    let after = match &query.after {
        None => None,
        Some(after) => match sql::object_parts("after", after, 2)?.as_slice() {
            [schema, table] => Some((schema.clone(), table.clone())),
            _ => {
                return Err(DiscoveryError::Invalid {
                    field: "after",
                    reason: "must be an object name of a previous page (schema.table)".into(),
                });
            }
        },
    };
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let limit = sql::page_size(query.limit);
    // Objects the user may read or write, in the schemas it may use: the
    // system ones unless named. Names sort by their bytes (COLLATE "C").
    const STATEMENT: &str = concat!(
        "SELECT n.nspname::text, c.relname::text, c.relkind::text ",
        "FROM pg_catalog.pg_class c ",
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ",
        object_kinds!(),
        " AND (($1::text IS NULL AND ",
        user_schema!(),
        ") OR n.nspname = $1::text) ",
        "AND has_schema_privilege(n.oid, 'USAGE') ",
        "AND (has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE') ",
        "OR has_any_column_privilege(c.oid, 'SELECT, INSERT, UPDATE')) ",
        "AND ($2::text IS NULL OR c.relname LIKE $2::text) ",
        "AND ($3::text IS NULL ",
        "OR (n.nspname::text COLLATE \"C\", c.relname::text COLLATE \"C\") ",
        "> ($3::text COLLATE \"C\", $4::text COLLATE \"C\")) ",
        "ORDER BY n.nspname::text COLLATE \"C\", c.relname::text COLLATE \"C\" ",
        "LIMIT $5"
    );
    let (after_schema, after_table) = after.unzip();
    let rows = deadline
        .run(
            sqlx::query(STATEMENT)
                .bind(query.schema.as_deref())
                .bind(query.like.as_deref())
                .bind(after_schema)
                .bind(after_table)
                .bind(limit + 1)
                .fetch_all(&mut conn),
        )
        .await;
    close(conn, &deadline).await;
    let rows = rows
        .ok_or_else(|| DiscoveryError::Unreachable(sql::timeout("list", "listing the tables")))?
        .map_err(|e| query_error("list", &e))?;
    let mut items: Vec<ObjectRef> = rows
        .iter()
        .map(|row| {
            let (schema, table, kind): (String, String, String) =
                (row.get(0), row.get(1), row.get(2));
            ObjectRef {
                name: sql::object_name(&[&schema, &table]),
                kind: object_kind(&kind),
            }
        })
        .collect();
    let next_after = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|o| o.name.clone())
    } else {
        None
    };
    Ok(ObjectPage { items, next_after })
}

fn object_kind(relkind: &str) -> ObjectKind {
    match relkind {
        "v" | "m" => ObjectKind::View,
        _ => ObjectKind::Table,
    }
}

pub async fn describe(
    source: &Source,
    secrets: &Secrets,
    name: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    let parts = sql::object_parts("name", name, 2)?;
    let (schema, table) = match parts.as_slice() {
        [table] => (None, table.clone()),
        [schema, table] => (Some(schema.clone()), table.clone()),
        _ => unreachable!("object_parts takes one or two parts"),
    };
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let described = describe_on(&mut conn, &deadline, schema.as_deref(), &table).await;
    close(conn, &deadline).await;
    described
}

/// Tables described one after the other on one connection, each in a
/// time bound of its own.
pub async fn describe_many(
    source: &Source,
    secrets: &Secrets,
    names: &[String],
) -> Result<Vec<Option<ObjectDescription>>, DiscoveryError> {
    let mut wanted = Vec::with_capacity(names.len());
    for name in names {
        let parts = sql::object_parts("name", name, 2)?;
        wanted.push(match parts.as_slice() {
            [table] => (None, table.clone()),
            [schema, table] => (Some(schema.clone()), table.clone()),
            _ => unreachable!("object_parts takes one or two parts"),
        });
    }
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let mut out = Vec::with_capacity(wanted.len());
    for (schema, table) in &wanted {
        let each = Deadline::start();
        match describe_on(&mut conn, &each, schema.as_deref(), table).await {
            Ok(found) => out.push(found),
            Err(e) => {
                close(conn, &each).await;
                return Err(e);
            }
        }
    }
    close(conn, &Deadline::start()).await;
    Ok(out)
}

async fn describe_on(
    conn: &mut PgConnection,
    deadline: &Deadline,
    schema: Option<&str>,
    table: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    // `schema.table`, or `table` as the search path finds it (as Flink's
    // JDBC connector would).
    const FIND: &str = concat!(
        "SELECT c.oid::bigint, n.nspname::text, c.relname::text, c.relkind::text ",
        "FROM pg_catalog.pg_class c ",
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ",
        object_kinds!(),
        " AND c.relname = $2::text ",
        "AND (($1::text IS NOT NULL AND n.nspname = $1::text) ",
        "OR ($1::text IS NULL AND n.nspname = ANY (current_schemas(false)))) ",
        "ORDER BY array_position(current_schemas(false), n.nspname) ",
        "LIMIT 1"
    );
    let found = deadline
        .run(
            sqlx::query(FIND)
                .bind(schema)
                .bind(table)
                .fetch_optional(&mut *conn),
        )
        .await
        .ok_or_else(|| DiscoveryError::Unreachable(sql::timeout("describe", "finding the table")))?
        .map_err(|e| query_error("describe", &e))?;
    let Some(found) = found else {
        return Ok(None);
    };
    let (oid, schema, table, relkind): (i64, String, String, String) =
        (found.get(0), found.get(1), found.get(2), found.get(3));
    // Each column with its type resolved through domains (the innermost
    // type modifier that is set), and its place in the primary key.
    const COLUMNS: &str = "WITH RECURSIVE cols AS ( \
           SELECT a.attnum, a.attname::text AS name, a.attnotnull AS notnull, \
                  format_type(a.atttypid, a.atttypmod) AS native, \
                  a.atttypid AS typid, a.atttypmod AS typmod, 0 AS depth \
             FROM pg_catalog.pg_attribute a \
            WHERE a.attrelid = $1::bigint::oid AND a.attnum > 0 AND NOT a.attisdropped \
           UNION ALL \
           SELECT c.attnum, c.name, c.notnull OR t.typnotnull, c.native, t.typbasetype, \
                  CASE WHEN c.typmod >= 0 THEN c.typmod ELSE t.typtypmod END, c.depth + 1 \
             FROM cols c JOIN pg_catalog.pg_type t ON t.oid = c.typid \
            WHERE t.typtype = 'd' AND c.depth < 32 \
         ) \
         SELECT DISTINCT ON (c.attnum) c.name, c.notnull, c.native, t.typname::text, \
                t.typtype::text, t.typcategory::text, c.typmod, \
                (SELECT k.pos::bigint \
                   FROM pg_catalog.pg_index i, \
                        unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos) \
                  WHERE i.indrelid = $1::bigint::oid AND i.indisprimary \
                    AND k.attnum = c.attnum) \
           FROM cols c JOIN pg_catalog.pg_type t ON t.oid = c.typid \
          ORDER BY c.attnum, c.depth DESC";
    let rows = deadline
        .run(sqlx::query(COLUMNS).bind(oid).fetch_all(&mut *conn))
        .await
        .ok_or_else(|| {
            DiscoveryError::Unreachable(sql::timeout("describe", "reading the columns"))
        })?
        .map_err(|e| query_error("describe", &e))?;
    let mut keyed = Vec::new();
    let columns = rows
        .iter()
        .map(|row| {
            let name: String = row.get(0);
            let notnull: bool = row.get(1);
            let native: String = row.get(2);
            let typname: String = row.get(3);
            let typtype: String = row.get(4);
            let category: String = row.get(5);
            let typmod: i32 = row.get(6);
            let key: Option<i64> = row.get(7);
            let position = key.and_then(|k| u32::try_from(k).ok());
            if let Some(p) = position {
                keyed.push((p, name.clone()));
            }
            let column = native_column(&typname, &typtype, &category, typmod);
            DiscoveredColumn {
                name,
                native_type: native,
                nullable: !notnull,
                primary_key_position: position,
                proposal: native_types::propose(&column),
            }
        })
        .collect();
    keyed.sort();
    Ok(Some(ObjectDescription {
        name: sql::object_name(&[&schema, &table]),
        kind: object_kind(&relkind),
        columns,
        primary_key: keyed.into_iter().map(|(_, n)| n).collect(),
    }))
}

/// Creates the target table unless it exists (README, "Target tables and
/// schema drift").
/// `true` when this call created it; a concurrent creation of the same
/// table is a table that exists.
pub async fn create_table(
    source: &Source,
    secrets: &Secrets,
    table: &TableSpec,
) -> Result<bool, DiscoveryError> {
    let parts = sql::object_parts("object", &table.object, 2)?;
    let statement = Dialect::Postgres
        .create_table(&parts, table)
        .map_err(|reason| DiscoveryError::Invalid {
            field: "columns",
            reason,
        })?;
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let created = create_on(&mut conn, &deadline, &parts, statement).await;
    close(conn, &deadline).await;
    created
}

async fn create_on(
    conn: &mut PgConnection,
    deadline: &Deadline,
    parts: &[String],
    statement: String,
) -> Result<bool, DiscoveryError> {
    let (schema, name) = split(parts);
    if describe_on(conn, deadline, schema, name).await?.is_some() {
        return Ok(false);
    }
    // Audited: every name is quoted by `Dialect::quote`, every type is one
    // of the mapping's; DDL takes no bound parameters.
    let run = sqlx::query(AssertSqlSafe(statement)).execute(&mut *conn);
    match deadline.run(run).await {
        None => Err(DiscoveryError::Unreachable(sql::timeout(
            "create_table",
            "creating the table",
        ))),
        Some(Ok(_)) => Ok(true),
        // Another run created it meanwhile: the relation (42P07), its row
        // type or key's name (42710), or the catalog's unique index (23505).
        Some(Err(e)) if matches!(sqlstate(&e).as_deref(), Some("42P07" | "42710" | "23505")) => {
            Ok(false)
        }
        Some(Err(e)) => Err(query_error("create_table", &e)),
    }
}

/// `validate: count`: the rows of each table, or of a run's window, over
/// one connection, within [`crate::COUNT_TIME_BOUND`] in all.
pub async fn count_rows(
    source: &Source,
    secrets: &Secrets,
    counts: &[RowCount],
) -> Result<Vec<u64>, DiscoveryError> {
    let statements = counts
        .iter()
        .map(|count| {
            let parts = sql::object_parts("object", &count.object, 2)?;
            Ok(Dialect::Postgres.count(&parts, count.window.as_ref()))
        })
        .collect::<Result<Vec<_>, DiscoveryError>>()?;
    let deadline = Deadline::within(crate::COUNT_TIME_BOUND);
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let mut rows = Vec::with_capacity(statements.len());
    for statement in statements {
        // Every name is quoted and the bounds are rendered from instants.
        let counted = sqlx::query_scalar::<_, i64>(AssertSqlSafe(statement)).fetch_one(&mut conn);
        match deadline.run(counted).await {
            None => {
                return Err(DiscoveryError::Unreachable(sql::timeout(
                    "count_rows",
                    "counting rows",
                )));
            }
            Some(Ok(n)) => rows.push(u64::try_from(n).unwrap_or_default()),
            Some(Err(e)) => return Err(query_error("count_rows", &e)),
        }
    }
    close(conn, &deadline).await;
    Ok(rows)
}

/// Adds the columns the table lacks (`ADD COLUMN IF NOT EXISTS`).
pub async fn add_columns(
    source: &Source,
    secrets: &Secrets,
    object: &str,
    columns: &[TableColumn],
) -> Result<Vec<String>, DiscoveryError> {
    let parts = sql::object_parts("object", object, 2)?;
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let added = add_on(&mut conn, &deadline, &parts, columns).await;
    close(conn, &deadline).await;
    added
}

async fn add_on(
    conn: &mut PgConnection,
    deadline: &Deadline,
    parts: &[String],
    columns: &[TableColumn],
) -> Result<Vec<String>, DiscoveryError> {
    let (schema, name) = split(parts);
    let Some(before) = describe_on(conn, deadline, schema, name).await? else {
        return Err(DiscoveryError::Invalid {
            field: "object",
            reason: format!(
                "the target table {} does not exist",
                sql::object_name(&parts.iter().map(String::as_str).collect::<Vec<_>>())
            ),
        });
    };
    let mut added = Vec::new();
    for column in columns {
        if before.columns.iter().any(|c| c.name == column.name) {
            continue;
        }
        let statement = Dialect::Postgres
            .add_column(parts, column)
            .map_err(|reason| DiscoveryError::Invalid {
                field: "columns",
                reason,
            })?;
        // Audited as in `create_on`.
        let run = sqlx::query(AssertSqlSafe(statement)).execute(&mut *conn);
        match deadline.run(run).await {
            None => {
                return Err(DiscoveryError::Unreachable(sql::timeout(
                    "add_columns",
                    "adding a column",
                )));
            }
            Some(Ok(_)) => added.push(column.name.clone()),
            Some(Err(e)) => return Err(query_error("add_columns", &e)),
        }
    }
    Ok(added)
}

fn split(parts: &[String]) -> (Option<&str>, &str) {
    match parts {
        [table] => (None, table),
        [schema, table] => (Some(schema), table),
        _ => unreachable!("object_parts takes one or two parts"),
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// A column's type as the mapping takes it, from `pg_type` and the type
/// modifier (`atttypmod`, decoded as PostgreSQL 15 encodes it).
pub(crate) fn native_column(
    typname: &str,
    typtype: &str,
    category: &str,
    typmod: i32,
) -> NativeColumn {
    let kind = match (category, typtype) {
        ("A", _) => NativeKind::Array,
        (_, "e") => NativeKind::Enum,
        (_, "c") => NativeKind::Composite,
        (_, "r" | "m") => NativeKind::Range,
        _ => NativeKind::Scalar,
    };
    let mut column = NativeColumn::postgres(typname).kind(kind);
    if typmod < 0 || kind != NativeKind::Scalar {
        return column;
    }
    const VARHDRSZ: i32 = 4;
    match typname {
        "bpchar" | "varchar" if typmod >= VARHDRSZ => {
            column.length = u32::try_from(typmod - VARHDRSZ).ok();
        }
        "bit" | "varbit" => column.length = u32::try_from(typmod).ok(),
        "numeric" if typmod >= VARHDRSZ => {
            let t = typmod - VARHDRSZ;
            let precision = (t >> 16) & 0xffff;
            // An 11-bit two's-complement scale (PostgreSQL 15: -1000..1000).
            let scale = ((t & 0x7ff) ^ 1024) - 1024;
            column.precision = u32::try_from(precision).ok();
            column.scale = Some(scale);
        }
        "time" | "timetz" | "timestamp" | "timestamptz" => {
            column.datetime_precision = u32::try_from(typmod).ok();
        }
        "interval" => {
            let precision = typmod & 0xffff;
            if precision != 0xffff {
                column.datetime_precision = u32::try_from(precision).ok();
            }
        }
        _ => {}
    }
    column
}

/// Resolves the host, then connects within the deadline.
async fn open(
    source: &Source,
    secrets: &Secrets,
    deadline: &Deadline,
) -> Result<(PgConnection, Settings), Check> {
    let settings = Settings::read(source, DEFAULT_PORT, "prefer")?;
    sql::resolve(&settings, deadline).await?;
    let options = connect_options(&settings, sql::password(secrets));
    let conn = sql::connect::<PgConnection>(options, &settings, deadline, connect_error).await?;
    Ok((conn, settings))
}

fn connect_options(settings: &Settings, password: Option<&SecretString>) -> PgConnectOptions {
    // `new_without_pgpass`: a password file on this machine never stands
    // in for the source's own; every field that matters is set here.
    PgConnectOptions::new_without_pgpass()
        .host(&settings.host)
        .port(settings.port)
        .username(&settings.username)
        .password(sql::expose(password))
        .database(&settings.database)
        .ssl_mode(ssl_mode(&settings.ssl_mode))
        .application_name("sluice-probe")
        .disable_statement_logging()
}

fn ssl_mode(mode: &str) -> PgSslMode {
    match mode {
        "disable" => PgSslMode::Disable,
        "allow" => PgSslMode::Allow,
        "require" => PgSslMode::Require,
        "verify-ca" => PgSslMode::VerifyCa,
        "verify-full" => PgSslMode::VerifyFull,
        _ => PgSslMode::Prefer,
    }
}

/// A failed connect as a check, from the error's kind and SQLSTATE.
fn connect_error(e: &sqlx::Error, settings: &Settings) -> Check {
    match e {
        sqlx::Error::Io(io) => sql::io_check(io, settings),
        sqlx::Error::Tls(_) => Check::failed(
            "tls",
            CheckCode::Tls,
            format!(
                "the TLS handshake with {} failed (ssl_mode {}): the server offers no TLS, or \
                 its certificate is not trusted for this host",
                settings.address(),
                settings.ssl_mode
            ),
        ),
        sqlx::Error::Database(db) => {
            let state = db.code().map(|c| c.into_owned()).unwrap_or_default();
            match state.as_str() {
                "28P01" | "28000" => Check::failed(
                    "authenticate",
                    CheckCode::Auth,
                    format!(
                        "the server refused the user name or password ({state}) for user {}",
                        settings.username
                    ),
                ),
                "3D000" => Check::failed(
                    "database",
                    CheckCode::DatabaseMissing,
                    format!("the database {} does not exist", settings.database),
                ),
                "42501" => Check::failed(
                    "database",
                    CheckCode::Permission,
                    format!(
                        "the user {} may not connect to the database {} (42501)",
                        settings.username, settings.database
                    ),
                ),
                _ => Check::failed(
                    "connect",
                    CheckCode::Refused,
                    format!("the server refused the connection ({state})"),
                ),
            }
        }
        sqlx::Error::Protocol(_) => Check::failed(
            "connect",
            CheckCode::Refused,
            format!(
                "{} did not answer as a PostgreSQL server does",
                settings.address()
            ),
        ),
        _ => Check::failed(
            "connect",
            CheckCode::Refused,
            format!("the connection to {} failed", settings.address()),
        ),
    }
}

/// A failed catalog query as a check: SQLSTATE 42501 is a privilege.
fn query_check(name: &str, e: &sqlx::Error) -> Check {
    let state = match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    let permission = state.as_deref() == Some("42501");
    sql::query_failed(name, state.as_deref(), permission)
}

fn query_error(name: &str, e: &sqlx::Error) -> DiscoveryError {
    DiscoveryError::Unreachable(query_check(name, e))
}

async fn close(conn: PgConnection, deadline: &Deadline) {
    // A polite Terminate if there is time; dropping closes the socket anyway.
    let _closed = deadline.run(conn.close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_modifiers_decode_as_postgres_encodes_them() {
        // numeric(12,2): ((12 << 16) | 2) + 4
        let c = native_column("numeric", "b", "N", ((12 << 16) | 2) + 4);
        assert_eq!((c.precision, c.scale), (Some(12), Some(2)));
        // numeric(2,-3): the scale as 11-bit two's complement.
        let c = native_column("numeric", "b", "N", ((2 << 16) | (-3i32 & 0x7ff)) + 4);
        assert_eq!((c.precision, c.scale), (Some(2), Some(-3)));
        let c = native_column("numeric", "b", "N", -1);
        assert_eq!((c.precision, c.scale), (None, None));
        assert_eq!(native_column("varchar", "b", "S", 44).length, Some(40));
        assert_eq!(native_column("bpchar", "b", "S", 5).length, Some(1));
        assert_eq!(native_column("bit", "b", "V", 8).length, Some(8));
        assert_eq!(
            native_column("timestamptz", "b", "D", 3).datetime_precision,
            Some(3)
        );
        assert_eq!(native_column("time", "b", "D", -1).datetime_precision, None);
        assert_eq!(native_column("_int4", "b", "A", -1).kind, NativeKind::Array);
        assert_eq!(native_column("mood", "e", "E", -1).kind, NativeKind::Enum);
        assert_eq!(
            native_column("int4range", "r", "R", -1).kind,
            NativeKind::Range
        );
    }

    #[test]
    fn ssl_modes_map_one_to_one() {
        for (mode, expected) in [
            ("disable", "Disable"),
            ("allow", "Allow"),
            ("prefer", "Prefer"),
            ("require", "Require"),
            ("verify-ca", "VerifyCa"),
            ("verify-full", "VerifyFull"),
        ] {
            assert_eq!(format!("{:?}", ssl_mode(mode)), expected);
        }
    }
}

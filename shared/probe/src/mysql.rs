//! The MySQL, MariaDB and TiDB probe: a connection test (`connect`,
//! `authenticate`, `database`, `read_privilege`), the tables and views of the
//! source's database, and one table's columns with their proposed Flink
//! types.
//!
//! Connections are made with sqlx from options built field by field (never
//! a URL holding the password) and statements are not logged. A failure is
//! classified by its kind and error number only: the driver's text is never
//! shown or logged.

use secrecy::SecretString;
use sluice_domain::model::discovery::{
    Check, CheckCode, ConnectionReport, DiscoveredColumn, ObjectDescription, ObjectKind,
    ObjectPage, ObjectQuery, ObjectRef, RowCount, TableColumn, TableSpec,
};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};
use sluice_flinksql::native_types::{self, NativeColumn, NativeKind};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlSslMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use crate::ddl::Dialect;
use crate::sql::{self, Deadline, Settings};

const DEFAULT_PORT: u16 = 3306;

// The statements are literals (sqlx takes no other SQL text, but for the
// one audited `AssertSqlSafe`); these fragments are spliced in with `concat!`.

/// The table types a job can read or write (MariaDB's system-versioned
/// tables are tables; sequences and system views are left out).
macro_rules! object_types {
    () => {
        "TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')"
    };
}

/// The one table named by the two bound parameters: `TABLE_NAME = ?` lets
/// the server look it up alone; the binary comparison makes the match exact
/// (information_schema compares without case).
macro_rules! the_table {
    () => {
        "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? \
         AND CAST(TABLE_NAME AS BINARY) = CAST(? AS BINARY)"
    };
}

/// How many tables the privilege check tries to read (with `LIMIT 0`).
const PRIVILEGE_PROBES: i64 = 10;

/// MySQL's error numbers the probe tells apart.
mod er {
    pub const TABLE_EXISTS: u16 = 1050;
    pub const DUP_FIELDNAME: u16 = 1060;
    pub const DBACCESS_DENIED: u16 = 1044;
    pub const ACCESS_DENIED: u16 = 1045;
    pub const BAD_DB: u16 = 1049;
    pub const HOST_NOT_PRIVILEGED: u16 = 1130;
    pub const TABLEACCESS_DENIED: u16 = 1142;
    pub const COLUMNACCESS_DENIED: u16 = 1143;
    pub const SPECIFIC_ACCESS_DENIED: u16 = 1227;
    pub const NOT_SUPPORTED_AUTH_MODE: u16 = 1251;
    pub const ACCESS_DENIED_NO_PASSWORD: u16 = 1698;
    pub const MUST_CHANGE_PASSWORD_LOGIN: u16 = 1862;
    pub const SECURE_TRANSPORT_REQUIRED: u16 = 3159;
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
                .run(
                    sqlx::query_scalar::<_, String>("SELECT CAST(VERSION() AS CHAR)")
                        .fetch_one(&mut conn),
                )
                .await
            {
                Some(Ok(v)) => version = Some(v),
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
        kind = "mysql",
        ok = report.ok,
        code = report.first_failure().map(|c| c.as_str()),
        latency_ms = report.latency_ms,
        "connection test"
    );
    report
}

/// Whether the user can SELECT from the database: the server is asked
/// itself, with `SELECT * FROM t LIMIT 0` on up to [`PRIVILEGE_PROBES`] of
/// the tables and views the user can see (MySQL shows only those the user
/// holds some privilege on), so global, database, table and column grants
/// and roles all count as the server counts them, on MySQL, MariaDB and
/// TiDB alike. Denied on every one tried (1142/1143) is `permission`; a
/// user with no privilege on the database at all was already refused at
/// connect (1044). A database without tables passes: nothing to deny yet.
async fn read_privilege(conn: &mut MySqlConnection, deadline: &Deadline) -> Check {
    const LIST: &str = concat!(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES ",
        "WHERE TABLE_SCHEMA = DATABASE() AND ",
        object_types!(),
        " ORDER BY TABLE_TYPE, CAST(TABLE_NAME AS BINARY) LIMIT ?"
    );
    let tables = match deadline
        .run(
            sqlx::query_scalar::<_, String>(LIST)
                .bind(PRIVILEGE_PROBES)
                .fetch_all(&mut *conn),
        )
        .await
    {
        None => return sql::timeout("read_privilege", "reading the tables"),
        Some(Err(e)) => return query_check("read_privilege", &e),
        Some(Ok(tables)) => tables,
    };
    if tables.is_empty() {
        return Check::passed(
            "read_privilege",
            "the user sees no table in the database (it has none yet)",
        );
    }
    let mut denied = 0;
    for table in &tables {
        // Audited: the name comes from the server's catalog and is quoted
        // as MySQL quotes identifiers; an identifier cannot be bound.
        let probe = AssertSqlSafe(format!("SELECT * FROM {} LIMIT 0", quote(table)));
        match deadline.run(sqlx::query(probe).fetch_all(&mut *conn)).await {
            None => return sql::timeout("read_privilege", "reading a table"),
            Some(Ok(_)) => {
                return Check::passed("read_privilege", "the user may SELECT from the database");
            }
            Some(Err(e)) => {
                if matches!(
                    error_number(&e),
                    Some(er::TABLEACCESS_DENIED | er::COLUMNACCESS_DENIED)
                ) {
                    denied += 1;
                }
            }
        }
    }
    if denied > 0 {
        Check::failed(
            "read_privilege",
            CheckCode::Permission,
            format!(
                "the user may SELECT none of the {} table(s) it sees in the database",
                tables.len()
            ),
        )
    } else {
        // Every table tried failed for another reason (a view whose
        // definer is gone, ...): not a missing privilege.
        Check::passed(
            "read_privilege",
            "no SELECT was denied (the tables tried could not be read for other reasons)",
        )
    }
}

/// Whether every character is in the Basic Multilingual Plane, as every
/// character of a MySQL identifier is.
fn in_bmp(text: &str) -> bool {
    text.chars().all(|c| u32::from(c) <= 0xFFFF)
}

/// An identifier in backticks, a backtick doubled.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

pub async fn list(
    source: &Source,
    secrets: &Secrets,
    query: &ObjectQuery,
) -> Result<ObjectPage, DiscoveryError> {
    let after = match &query.after {
        None => None,
        Some(after) => sql::object_parts("after", after, 1)?.pop(),
    };
    // MySQL names hold only characters of the Basic Multilingual Plane
    // (information_schema is utf8mb3, which the server will not compare
    // with anything wider): a pattern beyond it matches nothing, and no
    // page ends with such a name.
    if !in_bmp(query.like.as_deref().unwrap_or_default()) {
        return Ok(ObjectPage {
            items: Vec::new(),
            next_after: None,
        });
    }
    if !in_bmp(after.as_deref().unwrap_or_default()) {
        return Err(DiscoveryError::Invalid {
            field: "after",
            reason: "must be an object name of a previous page".into(),
        });
    }
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let limit = sql::page_size(query.limit);
    // The source's database only (`query.schema` is PostgreSQL's); names
    // sort by their bytes, as `after` compares them.
    const STATEMENT: &str = concat!(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) ",
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND ",
        object_types!(),
        " AND (? IS NULL OR TABLE_NAME LIKE ?) ",
        "AND (? IS NULL OR CAST(TABLE_NAME AS BINARY) > CAST(? AS BINARY)) ",
        "ORDER BY CAST(TABLE_NAME AS BINARY) LIMIT ?"
    );
    let like = query.like.as_deref();
    let rows = deadline
        .run(
            sqlx::query(STATEMENT)
                .bind(like)
                .bind(like)
                .bind(after.as_deref())
                .bind(after.as_deref())
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
            let (table, kind): (String, String) = (row.get(0), row.get(1));
            ObjectRef {
                name: sql::object_name(&[&table]),
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

fn object_kind(table_type: &str) -> ObjectKind {
    if table_type == "VIEW" {
        ObjectKind::View
    } else {
        ObjectKind::Table
    }
}

pub async fn describe(
    source: &Source,
    secrets: &Secrets,
    name: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    let table = sql::object_parts("name", name, 1)?.pop().expect("one part");
    if !in_bmp(&table) {
        // No MySQL name holds such a character (see `list`).
        return Ok(None);
    }
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let described = describe_on(&mut conn, &deadline, &table).await;
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
        wanted.push(sql::object_parts("name", name, 1)?.pop().expect("one part"));
    }
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let mut out = Vec::with_capacity(wanted.len());
    for table in &wanted {
        if !in_bmp(table) {
            // No MySQL name holds such a character (see `list`).
            out.push(None);
            continue;
        }
        let each = Deadline::start();
        match describe_on(&mut conn, &each, table).await {
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
    conn: &mut MySqlConnection,
    deadline: &Deadline,
    table: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    const FIND: &str = concat!(
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) ",
        "FROM information_schema.TABLES WHERE ",
        the_table!(),
        " AND ",
        object_types!()
    );
    let timed_out = |what: &str| DiscoveryError::Unreachable(sql::timeout("describe", what));
    let found = deadline
        .run(
            sqlx::query(FIND)
                .bind(table)
                .bind(table)
                .fetch_optional(&mut *conn),
        )
        .await
        .ok_or_else(|| timed_out("finding the table"))?
        .map_err(|e| query_error("describe", &e))?;
    let Some(found) = found else {
        return Ok(None);
    };
    let (table, table_type): (String, String) = (found.get(0), found.get(1));
    const COLUMNS: &str = concat!(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), ",
        "CAST(DATA_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), ",
        "CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED), CAST(NUMERIC_PRECISION AS SIGNED), ",
        "CAST(NUMERIC_SCALE AS SIGNED), CAST(DATETIME_PRECISION AS SIGNED) ",
        "FROM information_schema.COLUMNS WHERE ",
        the_table!(),
        " ORDER BY ORDINAL_POSITION"
    );
    let rows = deadline
        .run(
            sqlx::query(COLUMNS)
                .bind(&table)
                .bind(&table)
                .fetch_all(&mut *conn),
        )
        .await
        .ok_or_else(|| timed_out("reading the columns"))?
        .map_err(|e| query_error("describe", &e))?;
    const KEY: &str = concat!(
        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.STATISTICS WHERE ",
        the_table!(),
        " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX"
    );
    let primary_key: Vec<String> = deadline
        .run(
            sqlx::query_scalar(KEY)
                .bind(&table)
                .bind(&table)
                .fetch_all(&mut *conn),
        )
        .await
        .ok_or_else(|| timed_out("reading the primary key"))?
        .map_err(|e| query_error("describe", &e))?;
    let columns = rows
        .iter()
        .map(|row| {
            let name: String = row.get(0);
            let column_type: String = row.get(1);
            let data_type: String = row.get(2);
            let nullable: String = row.get(3);
            let number = |i: usize| -> Option<u32> {
                row.get::<Option<i64>, _>(i)
                    .and_then(|n| u32::try_from(n).ok())
            };
            let column = native_column(
                &data_type,
                &column_type,
                number(4),
                number(5),
                row.get::<Option<i64>, _>(6),
                number(7),
            );
            DiscoveredColumn {
                primary_key_position: primary_key
                    .iter()
                    .position(|k| *k == name)
                    .and_then(|p| u32::try_from(p + 1).ok()),
                name,
                native_type: column_type,
                nullable: nullable == "YES",
                proposal: native_types::propose(&column),
            }
        })
        .collect();
    Ok(Some(ObjectDescription {
        name: sql::object_name(&[&table]),
        kind: object_kind(&table_type),
        columns,
        primary_key,
    }))
}

/// A column's type as the mapping takes it, from `information_schema.COLUMNS`.
pub(crate) fn native_column(
    data_type: &str,
    column_type: &str,
    char_length: Option<u32>,
    numeric_precision: Option<u32>,
    numeric_scale: Option<i64>,
    datetime_precision: Option<u32>,
) -> NativeColumn {
    let data_type = data_type.to_ascii_lowercase();
    let column_type = column_type.to_ascii_lowercase();
    let kind = match data_type.as_str() {
        "enum" => NativeKind::Enum,
        "set" => NativeKind::Set,
        _ => NativeKind::Scalar,
    };
    let mut column = NativeColumn::mysql(&data_type).kind(kind);
    column.unsigned = column_type.contains(" unsigned") || column_type.contains(" zerofill");
    match data_type.as_str() {
        // A BIT column's length is its NUMERIC_PRECISION.
        "bit" => column.length = numeric_precision,
        "decimal" | "numeric" => {
            column.precision = numeric_precision;
            column.scale = numeric_scale.and_then(|s| i32::try_from(s).ok());
        }
        "char" | "varchar" | "binary" | "varbinary" => column.length = char_length,
        "time" | "datetime" | "timestamp" => column.datetime_precision = datetime_precision,
        _ => {}
    }
    column
}

/// Resolves the host, then connects within the deadline.
async fn open(
    source: &Source,
    secrets: &Secrets,
    deadline: &Deadline,
) -> Result<(MySqlConnection, Settings), Check> {
    let settings = Settings::read(source, DEFAULT_PORT, "preferred")?;
    sql::resolve(&settings, deadline).await?;
    let options = connect_options(&settings, sql::password(secrets));
    let conn = sql::connect::<MySqlConnection>(options, &settings, deadline, connect_error).await?;
    Ok((conn, settings))
}

fn connect_options(settings: &Settings, password: Option<&SecretString>) -> MySqlConnectOptions {
    MySqlConnectOptions::new()
        .host(&settings.host)
        .port(settings.port)
        .username(&settings.username)
        .password(sql::expose(password))
        .database(&settings.database)
        .ssl_mode(ssl_mode(&settings.ssl_mode))
        .disable_statement_logging()
}

fn ssl_mode(mode: &str) -> MySqlSslMode {
    match mode {
        "disabled" => MySqlSslMode::Disabled,
        "required" => MySqlSslMode::Required,
        "verify_ca" => MySqlSslMode::VerifyCa,
        "verify_identity" => MySqlSslMode::VerifyIdentity,
        _ => MySqlSslMode::Preferred,
    }
}

fn error_number(e: &sqlx::Error) -> Option<u16> {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(MySqlDatabaseError::number),
        _ => None,
    }
}

/// Creates the target table unless it exists (README, "Target tables and
/// schema drift"), `utf8mb4` with a binary collation. `true` when this call created it;
/// `CREATE TABLE IF NOT EXISTS` lets concurrent runs race safely.
pub async fn create_table(
    source: &Source,
    secrets: &Secrets,
    table: &TableSpec,
) -> Result<bool, DiscoveryError> {
    let parts = sql::object_parts("object", &table.object, 1)?;
    let statement = Dialect::Mysql
        .create_table(&parts, table)
        .map_err(|reason| DiscoveryError::Invalid {
            field: "columns",
            reason,
        })?;
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let created = create_on(&mut conn, &deadline, &parts[0], statement).await;
    close(conn, &deadline).await;
    created
}

async fn create_on(
    conn: &mut MySqlConnection,
    deadline: &Deadline,
    table: &str,
    statement: String,
) -> Result<bool, DiscoveryError> {
    if describe_on(conn, deadline, table).await?.is_some() {
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
        Some(Err(e)) if error_number(&e) == Some(er::TABLE_EXISTS) => Ok(false),
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
            Ok(Dialect::Mysql.count(&parts, count.window.as_ref()))
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

/// Adds the columns the table lacks; one another run added meanwhile
/// (1060, a duplicate column) counts as there.
pub async fn add_columns(
    source: &Source,
    secrets: &Secrets,
    object: &str,
    columns: &[TableColumn],
) -> Result<Vec<String>, DiscoveryError> {
    let parts = sql::object_parts("object", object, 1)?;
    let deadline = Deadline::start();
    let (mut conn, _) = open(source, secrets, &deadline)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let added = add_on(&mut conn, &deadline, &parts, columns).await;
    close(conn, &deadline).await;
    added
}

async fn add_on(
    conn: &mut MySqlConnection,
    deadline: &Deadline,
    parts: &[String],
    columns: &[TableColumn],
) -> Result<Vec<String>, DiscoveryError> {
    let Some(before) = describe_on(conn, deadline, &parts[0]).await? else {
        return Err(DiscoveryError::Invalid {
            field: "object",
            reason: format!("the target table {} does not exist", parts[0]),
        });
    };
    let mut added = Vec::new();
    for column in columns {
        if before.columns.iter().any(|c| c.name == column.name) {
            continue;
        }
        let statement =
            Dialect::Mysql
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
            Some(Err(e)) if error_number(&e) == Some(er::DUP_FIELDNAME) => {}
            Some(Err(e)) => return Err(query_error("add_columns", &e)),
        }
    }
    Ok(added)
}

/// A failed connect as a check, from the error's kind and number.
fn connect_error(e: &sqlx::Error, settings: &Settings) -> Check {
    let address = settings.address();
    let tls = |why: &str| {
        Check::failed(
            "tls",
            CheckCode::Tls,
            format!(
                "TLS with {address} failed (ssl_mode {}): {why}",
                settings.ssl_mode
            ),
        )
    };
    match e {
        sqlx::Error::Io(io) => sql::io_check(io, settings),
        sqlx::Error::Tls(_) => {
            tls("the server offers no TLS, or its certificate is not trusted for this host")
        }
        // sqlx's only configuration failure at connect: caching_sha2_password
        // full authentication without TLS, which needs RSA (not built in).
        sqlx::Error::Configuration(_) => tls(
            "the server asks for the password over an unencrypted connection \
             (caching_sha2_password): use ssl_mode preferred or required",
        ),
        sqlx::Error::Database(_) => match error_number(e) {
            Some(
                n @ (er::ACCESS_DENIED
                | er::ACCESS_DENIED_NO_PASSWORD
                | er::HOST_NOT_PRIVILEGED
                | er::NOT_SUPPORTED_AUTH_MODE
                | er::MUST_CHANGE_PASSWORD_LOGIN),
            ) => Check::failed(
                "authenticate",
                CheckCode::Auth,
                format!(
                    "the server refused the user name or password ({n}) for user {}",
                    settings.username
                ),
            ),
            Some(er::BAD_DB) => Check::failed(
                "database",
                CheckCode::DatabaseMissing,
                format!("the database {} does not exist", settings.database),
            ),
            Some(n @ er::DBACCESS_DENIED) => Check::failed(
                "database",
                CheckCode::Permission,
                format!(
                    "the user {} holds no privilege on the database {} ({n})",
                    settings.username, settings.database
                ),
            ),
            Some(er::SECURE_TRANSPORT_REQUIRED) => {
                tls("the server requires TLS: use ssl_mode required")
            }
            n => Check::failed(
                "connect",
                CheckCode::Refused,
                format!(
                    "the server refused the connection ({})",
                    n.map(|n| n.to_string()).unwrap_or_default()
                ),
            ),
        },
        sqlx::Error::Protocol(_) => Check::failed(
            "connect",
            CheckCode::Refused,
            format!("{address} did not answer as a MySQL server does"),
        ),
        _ => Check::failed(
            "connect",
            CheckCode::Refused,
            format!("the connection to {address} failed"),
        ),
    }
}

/// A failed catalog query as a check: a denied privilege is `permission`.
fn query_check(name: &str, e: &sqlx::Error) -> Check {
    let number = error_number(e);
    let permission = matches!(
        number,
        Some(
            er::DBACCESS_DENIED
                | er::TABLEACCESS_DENIED
                | er::COLUMNACCESS_DENIED
                | er::SPECIFIC_ACCESS_DENIED
        )
    );
    sql::query_failed(name, number.map(|n| n.to_string()).as_deref(), permission)
}

fn query_error(name: &str, e: &sqlx::Error) -> DiscoveryError {
    DiscoveryError::Unreachable(query_check(name, e))
}

async fn close(conn: MySqlConnection, deadline: &Deadline) {
    // A polite COM_QUIT if there is time; dropping closes the socket anyway.
    let _closed = deadline.run(conn.close()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_as_information_schema_describes_them() {
        let c = native_column("INT", "int(10) unsigned", None, Some(10), Some(0), None);
        assert!(c.unsigned);
        assert_eq!(c.type_name, "int");
        let c = native_column(
            "tinyint",
            "tinyint(3) unsigned zerofill",
            None,
            None,
            None,
            None,
        );
        assert!(c.unsigned);
        let c = native_column("decimal", "decimal(12,2)", None, Some(12), Some(2), None);
        assert_eq!(
            (c.precision, c.scale, c.unsigned),
            (Some(12), Some(2), false)
        );
        assert_eq!(
            native_column("bit", "bit(5)", None, Some(5), None, None).length,
            Some(5)
        );
        assert_eq!(
            native_column("varchar", "varchar(40)", Some(40), None, None, None).length,
            Some(40)
        );
        assert_eq!(
            native_column("datetime", "datetime(3)", None, None, None, Some(3)).datetime_precision,
            Some(3)
        );
        assert_eq!(
            native_column("enum", "enum('a','b')", Some(1), None, None, None).kind,
            NativeKind::Enum
        );
        assert_eq!(
            native_column("set", "set('a','b')", Some(3), None, None, None).kind,
            NativeKind::Set
        );
    }

    #[test]
    fn identifiers_are_quoted_with_backticks() {
        assert_eq!(quote("order"), "`order`");
        assert_eq!(quote("back`tick"), "`back``tick`");
    }

    #[test]
    fn ssl_modes_map_one_to_one() {
        for (mode, expected) in [
            ("disabled", "Disabled"),
            ("preferred", "Preferred"),
            ("required", "Required"),
            ("verify_ca", "VerifyCa"),
            ("verify_identity", "VerifyIdentity"),
        ] {
            assert_eq!(format!("{:?}", ssl_mode(mode)), expected);
        }
    }
}

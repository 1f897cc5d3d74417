//! The PostgreSQL and MySQL-family probes against the local stack's
//! databases (infra/db: PostgreSQL 15 on $SLUICE_PG_PORT, MariaDB 10.11 on
//! $SLUICE_MARIADB_PORT, user and database `sluice`, password
//! $SLUICE_DB_PASSWORD; administrators over the unix sockets in
//! $SLUICE_STATE). Ignored by default; infra/local/test.sh runs them with
//! `--ignored --test-threads=1`.
//!
//! Each test makes its own schema (PostgreSQL) or database (MariaDB, named
//! `sluice_probe_…`, which the `sluice` user may create) and users, with a
//! canary password, and drops them at the end.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::model::discovery::{
    CheckCode, ConnectionReport, ObjectDescription, ObjectKind, ObjectQuery, TableColumn,
    TableSpec, TypeProposal,
};
use sluice_domain::ports::{DiscoveryError, SourceProbe};
use sluice_domain::{Secrets, Source, SourceId, SourceKind, TenantId};
use sluice_flinksql::native_types::{NativeColumn, NativeKind, propose};
use sluice_probe::{DirectProbe, TIME_BOUND};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

// --- the stack ------------------------------------------------------------------------------

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn host() -> String {
    env("SLUICE_DB_HOST", "127.0.0.1")
}

fn pg_port() -> u16 {
    env("SLUICE_PG_PORT", "55432").parse().unwrap()
}

fn mariadb_port() -> u16 {
    env("SLUICE_MARIADB_PORT", "53306").parse().unwrap()
}

fn db_password() -> String {
    env("SLUICE_DB_PASSWORD", "sluice-local-pw")
}

fn state_dir() -> String {
    std::env::var("SLUICE_STATE")
        .unwrap_or_else(|_| format!("{}/../../.local", env!("CARGO_MANIFEST_DIR")))
}

/// A fresh token for names and canaries of this run.
fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", std::process::id(), nanos % 0xffff_ffff)
}

fn fresh_canary() -> String {
    format!("canary-probe-{}", unique())
}

fn source(kind: SourceKind, config: Value) -> Source {
    let now = chrono::Utc::now();
    Source {
        id: SourceId::generate(),
        tenant: TenantId::parse("probe-tests").unwrap(),
        name: format!("{kind} probe"),
        kind,
        config: config.as_object().cloned().unwrap(),
        secret_fields: vec!["password".into()],
        sealed_secrets: None,
        secrets_updated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn secrets(password: &str) -> Secrets {
    let mut s = Secrets::new();
    s.insert("password", SecretString::from(password.to_owned()));
    s
}

fn postgres(host: &str, port: u16, database: &str, user: &str, ssl_mode: &str) -> Source {
    source(
        SourceKind::Postgres,
        json!({"host": host, "port": port, "database": database, "username": user,
               "ssl_mode": ssl_mode}),
    )
}

fn mariadb(host: &str, port: u16, database: &str, user: &str, ssl_mode: &str) -> Source {
    source(
        SourceKind::Mysql,
        json!({"host": host, "port": port, "database": database, "username": user,
               "flavor": "mariadb", "ssl_mode": ssl_mode}),
    )
}

/// PostgreSQL's superuser over the unix socket (trust).
async fn pg_admin() -> PgConnection {
    let options = PgConnectOptions::new_without_pgpass()
        .socket(format!("{}/pg-run", state_dir()))
        .port(pg_port())
        .username("postgres")
        .database(&env("SLUICE_DB_NAME", "sluice"))
        .disable_statement_logging();
    PgConnection::connect_with(&options)
        .await
        .expect("postgres as superuser over the unix socket")
}

/// MariaDB's root over the unix socket (unix_socket authentication).
async fn mariadb_admin() -> MySqlConnection {
    let options = MySqlConnectOptions::new()
        .socket(format!("{}/mariadb-run/mariadb.sock", state_dir()))
        .username("root")
        .disable_statement_logging();
    MySqlConnection::connect_with(&options)
        .await
        .expect("mariadb as root over the unix socket")
}

async fn pg_exec(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn my_exec(conn: &mut MySqlConnection, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn pg_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn my_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

// --- what the probe logs --------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything any test of this binary logged, at every level (sqlx's own
/// events included), since the first call.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

/// The canary is nowhere: not in the report's Debug or JSON, not in the logs.
fn assert_no_canary(report: &ConnectionReport, canary: &str) {
    assert!(!format!("{report:?}").contains(canary), "{report:?}");
    let json = serde_json::to_string(report).unwrap();
    assert!(!json.contains(canary), "{json}");
    assert!(!logged().contains(canary), "the canary was logged");
}

/// Runs one failing connection test and checks its code, time and secrecy.
async fn fails_with(
    label: &str,
    source: &Source,
    password: &str,
    code: CheckCode,
) -> ConnectionReport {
    let started = Instant::now();
    let report = DirectProbe.test(source, &secrets(password)).await;
    let elapsed = started.elapsed();
    eprintln!(
        "{label}: {} in {} ms: {:?}",
        report.first_failure().map(|c| c.as_str()).unwrap_or("ok"),
        elapsed.as_millis(),
        report.checks.last().map(|c| &c.message)
    );
    assert!(!report.ok, "{label}: {report:?}");
    assert_eq!(report.first_failure(), Some(code), "{label}: {report:?}");
    assert!(
        elapsed < TIME_BOUND + Duration::from_secs(1),
        "{label} took {elapsed:?}"
    );
    assert_no_canary(&report, password);
    report
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A listener that takes connections (the kernel's backlog) and never says
/// a word: a host that does not answer.
fn silent_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

const MISSING_HOST: &str = "sluice-probe-missing.invalid";

fn query(
    schema: Option<&str>,
    like: Option<&str>,
    limit: usize,
    after: Option<&str>,
) -> ObjectQuery {
    ObjectQuery {
        schema: schema.map(str::to_owned),
        like: like.map(str::to_owned),
        limit,
        after: after.map(str::to_owned),
    }
}

/// Every page of a listing, following `next_after`.
async fn list_all(source: &Source, password: &str, q: ObjectQuery) -> Vec<String> {
    let mut names = Vec::new();
    let mut q = q;
    loop {
        let page = DirectProbe
            .list(source, &secrets(password), &q)
            .await
            .expect("a page");
        assert!(page.items.len() <= q.limit);
        names.extend(page.items.iter().map(|o| o.name.clone()));
        match page.next_after {
            Some(after) => q.after = Some(after),
            None => return names,
        }
    }
}

fn supported(flink_type: &str) -> TypeProposal {
    TypeProposal::Supported {
        flink_type: flink_type.to_owned(),
    }
}

/// Each column as discovered: its native type as the database spells it,
/// and its proposal both as hard-coded here (`expected`: a Flink type, or
/// `!` and a word of the reason) and as the mapping answers for `native`.
fn check_columns(described: &ObjectDescription, expected: &[(String, &str, &str, NativeColumn)]) {
    assert_eq!(
        described.columns.len(),
        expected.len(),
        "{:#?}",
        described.columns
    );
    for (column, (name, native_type, flink, native)) in described.columns.iter().zip(expected) {
        assert_eq!(&column.name, name);
        assert_eq!(column.native_type, *native_type, "{name}");
        assert_eq!(column.proposal, propose(native), "{name}: the mapping");
        match flink.strip_prefix('!') {
            None => assert_eq!(column.proposal, supported(flink), "{name}"),
            Some(word) => match &column.proposal {
                TypeProposal::Unsupported { reason } => {
                    assert!(reason.contains(word), "{name}: {reason}")
                }
                other => panic!("{name}: expected unsupported, got {other:?}"),
            },
        }
    }
}

// --- PostgreSQL -----------------------------------------------------------------------------

fn pg_source() -> Source {
    postgres(
        &host(),
        pg_port(),
        &env("SLUICE_DB_NAME", "sluice"),
        &env("SLUICE_DB_USER", "sluice"),
        "prefer",
    )
}

/// Columns of the PostgreSQL table: name, DDL type, `format_type`, proposal, mapping input.
fn pg_columns(schema: &str) -> Vec<(String, String, String, &'static str, NativeColumn)> {
    let pg = NativeColumn::postgres;
    let q = pg_ident(schema);
    let rows: Vec<(&str, String, String, &str, NativeColumn)> = vec![
        ("id", "bigint".into(), "bigint".into(), "BIGINT", pg("int8")),
        (
            "select",
            "integer".into(),
            "integer".into(),
            "INT",
            pg("int4"),
        ),
        (
            "a b",
            "boolean".into(),
            "boolean".into(),
            "BOOLEAN",
            pg("bool"),
        ),
        (
            "名称",
            "smallint".into(),
            "smallint".into(),
            "SMALLINT",
            pg("int2"),
        ),
        ("quo\"te", "oid".into(), "oid".into(), "BIGINT", pg("oid")),
        ("real", "real".into(), "real".into(), "FLOAT", pg("float4")),
        (
            "double",
            "double precision".into(),
            "double precision".into(),
            "DOUBLE",
            pg("float8"),
        ),
        (
            "n12_2",
            "numeric(12,2)".into(),
            "numeric(12,2)".into(),
            "DECIMAL(12, 2)",
            pg("numeric").numeric(12, 2),
        ),
        (
            "n38_38",
            "numeric(38,38)".into(),
            "numeric(38,38)".into(),
            "DECIMAL(38, 38)",
            pg("numeric").numeric(38, 38),
        ),
        (
            "n2_-3",
            "numeric(2,-3)".into(),
            "numeric(2,-3)".into(),
            "DECIMAL(5, 0)",
            pg("numeric").numeric(2, -3),
        ),
        (
            "n3_5",
            "numeric(3,5)".into(),
            "numeric(3,5)".into(),
            "DECIMAL(5, 5)",
            pg("numeric").numeric(3, 5),
        ),
        (
            "n39_2",
            "numeric(39,2)".into(),
            "numeric(39,2)".into(),
            "!38 digits",
            pg("numeric").numeric(39, 2),
        ),
        (
            "numeric",
            "numeric".into(),
            "numeric".into(),
            "STRING",
            pg("numeric"),
        ),
        (
            "money",
            "money".into(),
            "money".into(),
            "!lc_monetary",
            pg("money"),
        ),
        (
            "char10",
            "char(10)".into(),
            "character(10)".into(),
            "CHAR(10)",
            pg("bpchar").length(10),
        ),
        (
            "qchar",
            "\"char\"".into(),
            "\"char\"".into(),
            "STRING",
            pg("char"),
        ),
        (
            "varchar40",
            "varchar(40)".into(),
            "character varying(40)".into(),
            "VARCHAR(40)",
            pg("varchar").length(40),
        ),
        (
            "varchar",
            "varchar".into(),
            "character varying".into(),
            "STRING",
            pg("varchar"),
        ),
        ("text", "text".into(), "text".into(), "STRING", pg("text")),
        ("name", "name".into(), "name".into(), "STRING", pg("name")),
        (
            "bytea",
            "bytea".into(),
            "bytea".into(),
            "BYTES",
            pg("bytea"),
        ),
        ("date", "date".into(), "date".into(), "DATE", pg("date")),
        (
            "time0",
            "time(0)".into(),
            "time(0) without time zone".into(),
            "TIME(0)",
            pg("time").datetime_precision(0),
        ),
        (
            "time3",
            "time(3)".into(),
            "time(3) without time zone".into(),
            "TIME(3)",
            pg("time").datetime_precision(3),
        ),
        (
            "time6",
            "time(6)".into(),
            "time(6) without time zone".into(),
            "STRING",
            pg("time").datetime_precision(6),
        ),
        (
            "time",
            "time".into(),
            "time without time zone".into(),
            "STRING",
            pg("time"),
        ),
        (
            "timetz",
            "timetz(3)".into(),
            "time(3) with time zone".into(),
            "STRING",
            pg("timetz").datetime_precision(3),
        ),
        (
            "ts0",
            "timestamp(0)".into(),
            "timestamp(0) without time zone".into(),
            "TIMESTAMP(0)",
            pg("timestamp").datetime_precision(0),
        ),
        (
            "ts3",
            "timestamp(3)".into(),
            "timestamp(3) without time zone".into(),
            "TIMESTAMP(3)",
            pg("timestamp").datetime_precision(3),
        ),
        (
            "ts",
            "timestamp".into(),
            "timestamp without time zone".into(),
            "TIMESTAMP(6)",
            pg("timestamp"),
        ),
        (
            "tstz3",
            "timestamptz(3)".into(),
            "timestamp(3) with time zone".into(),
            "TIMESTAMP_LTZ(3)",
            pg("timestamptz").datetime_precision(3),
        ),
        (
            "tstz",
            "timestamptz".into(),
            "timestamp with time zone".into(),
            "TIMESTAMP_LTZ(6)",
            pg("timestamptz"),
        ),
        (
            "interval",
            "interval".into(),
            "interval".into(),
            "STRING",
            pg("interval"),
        ),
        (
            "interval ds",
            "interval day to second(3)".into(),
            "interval day to second(3)".into(),
            "STRING",
            pg("interval").datetime_precision(3),
        ),
        ("json", "json".into(), "json".into(), "STRING", pg("json")),
        (
            "jsonb",
            "jsonb".into(),
            "jsonb".into(),
            "STRING",
            pg("jsonb"),
        ),
        ("uuid", "uuid".into(), "uuid".into(), "STRING", pg("uuid")),
        ("xml", "xml".into(), "xml".into(), "STRING", pg("xml")),
        ("inet", "inet".into(), "inet".into(), "STRING", pg("inet")),
        ("cidr", "cidr".into(), "cidr".into(), "STRING", pg("cidr")),
        (
            "macaddr",
            "macaddr".into(),
            "macaddr".into(),
            "STRING",
            pg("macaddr"),
        ),
        (
            "macaddr8",
            "macaddr8".into(),
            "macaddr8".into(),
            "STRING",
            pg("macaddr8"),
        ),
        (
            "bit1",
            "bit(1)".into(),
            "bit(1)".into(),
            "STRING",
            pg("bit").length(1),
        ),
        (
            "bit8",
            "bit(8)".into(),
            "bit(8)".into(),
            "STRING",
            pg("bit").length(8),
        ),
        (
            "varbit",
            "varbit(16)".into(),
            "bit varying(16)".into(),
            "STRING",
            pg("varbit").length(16),
        ),
        (
            "point",
            "point".into(),
            "point".into(),
            "STRING",
            pg("point"),
        ),
        ("line", "line".into(), "line".into(), "STRING", pg("line")),
        ("lseg", "lseg".into(), "lseg".into(), "STRING", pg("lseg")),
        ("box", "box".into(), "box".into(), "STRING", pg("box")),
        ("path", "path".into(), "path".into(), "STRING", pg("path")),
        (
            "polygon",
            "polygon".into(),
            "polygon".into(),
            "STRING",
            pg("polygon"),
        ),
        (
            "circle",
            "circle".into(),
            "circle".into(),
            "STRING",
            pg("circle"),
        ),
        (
            "tsvector",
            "tsvector".into(),
            "tsvector".into(),
            "STRING",
            pg("tsvector"),
        ),
        (
            "tsquery",
            "tsquery".into(),
            "tsquery".into(),
            "STRING",
            pg("tsquery"),
        ),
        (
            "pg_lsn",
            "pg_lsn".into(),
            "pg_lsn".into(),
            "STRING",
            pg("pg_lsn"),
        ),
        (
            "int4range",
            "int4range".into(),
            "int4range".into(),
            "STRING",
            pg("int4range").kind(NativeKind::Range),
        ),
        (
            "multirange",
            "tstzmultirange".into(),
            "tstzmultirange".into(),
            "STRING",
            pg("tstzmultirange").kind(NativeKind::Range),
        ),
        (
            "int[]",
            "integer[]".into(),
            "integer[]".into(),
            "STRING",
            pg("int4").kind(NativeKind::Array),
        ),
        (
            "text[][]",
            "text[][]".into(),
            "text[]".into(),
            "STRING",
            pg("text").kind(NativeKind::Array),
        ),
        (
            "mood",
            format!("{q}.mood"),
            format!("{q}.mood"),
            "STRING",
            pg("mood").kind(NativeKind::Enum),
        ),
        (
            "pair",
            format!("{q}.pair"),
            format!("{q}.pair"),
            "STRING",
            pg("pair").kind(NativeKind::Composite),
        ),
        (
            "amount",
            format!("{q}.amount"),
            format!("{q}.amount"),
            "DECIMAL(10, 2)",
            pg("numeric").numeric(10, 2),
        ),
        (
            "price",
            format!("{q}.price"),
            format!("{q}.price"),
            "DECIMAL(10, 2)",
            pg("numeric").numeric(10, 2),
        ),
        (
            "code",
            format!("{q}.code"),
            format!("{q}.code"),
            "VARCHAR(20)",
            pg("varchar").length(20),
        ),
    ];
    rows.into_iter()
        .map(|(n, ddl, native, flink, column)| (n.to_owned(), ddl, native, flink, column))
        .collect()
}

/// A schema of this run with the types the columns use; dropped by `drop`.
async fn pg_schema(admin: &mut PgConnection, schema: &str) {
    let q = pg_ident(schema);
    let user = pg_ident(&env("SLUICE_DB_USER", "sluice"));
    pg_exec(
        admin,
        &format!(
            "CREATE SCHEMA {q} AUTHORIZATION {user};
             SET search_path = {q};
             CREATE TYPE {q}.mood AS ENUM ('sad', 'ok', 'happy');
             CREATE TYPE {q}.pair AS (a integer, b text);
             CREATE DOMAIN {q}.amount AS numeric(10,2) NOT NULL;
             CREATE DOMAIN {q}.price AS {q}.amount;
             CREATE DOMAIN {q}.code AS varchar(20);
             ALTER TYPE {q}.mood OWNER TO {user};
             ALTER TYPE {q}.pair OWNER TO {user};
             ALTER DOMAIN {q}.amount OWNER TO {user};
             ALTER DOMAIN {q}.price OWNER TO {user};
             ALTER DOMAIN {q}.code OWNER TO {user};"
        ),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the local stack's PostgreSQL (infra/db)"]
async fn postgres_describes_every_type_of_the_mapping() {
    let mut admin = pg_admin().await;
    let schema = format!("probe {} ü", unique());
    pg_schema(&mut admin, &schema).await;
    let q = pg_ident(&schema);
    let columns = pg_columns(&schema);
    let ddl: Vec<String> = columns
        .iter()
        .map(|(name, ty, ..)| format!("{} {ty}", pg_ident(name)))
        .collect();
    // A reserved word, a space and unicode; the key in another order than
    // the columns.
    let table = "order by 名";
    pg_exec(
        &mut admin,
        &format!(
            "CREATE TABLE {q}.{} ({}, PRIMARY KEY ({}, \"id\"));
             ALTER TABLE {q}.{} OWNER TO {};",
            pg_ident(table),
            ddl.join(", "),
            pg_ident("select"),
            pg_ident(table),
            pg_ident(&env("SLUICE_DB_USER", "sluice")),
        ),
    )
    .await;

    let password = db_password();
    let name = format!("{q}.{}", pg_ident(table));
    let described = DirectProbe
        .describe(&pg_source(), &secrets(&password), &name)
        .await
        .expect("described")
        .expect("the table exists");
    // Named as a job's source.object takes it: the schema holds no dot or
    // quote, so it is written bare.
    assert_eq!(described.name, format!("{schema}.{table}"));
    assert_eq!(described.kind, ObjectKind::Table);
    assert_eq!(described.primary_key, ["select", "id"]);
    let expected: Vec<(String, &str, &str, NativeColumn)> = columns
        .iter()
        .map(|(n, _, native, flink, column)| (n.clone(), native.as_str(), *flink, column.clone()))
        .collect();
    check_columns(&described, &expected);
    let by_name = |n: &str| described.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by_name("select").primary_key_position, Some(1));
    assert_eq!(by_name("id").primary_key_position, Some(2));
    assert_eq!(by_name("text").primary_key_position, None);
    assert!(!by_name("id").nullable);
    assert!(by_name("text").nullable);
    assert!(!by_name("amount").nullable, "a NOT NULL domain");

    // The name as the job would also write it, and as the described name.
    let again = DirectProbe
        .describe(&pg_source(), &secrets(&password), &described.name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.columns.len(), columns.len());
    // No such object; a name that cannot be one.
    for missing in [
        format!("{q}.nope"),
        "public.\"order by 名\"".into(),
        "nope".into(),
    ] {
        assert_eq!(
            DirectProbe
                .describe(&pg_source(), &secrets(&password), &missing)
                .await
                .unwrap(),
            None,
            "{missing}"
        );
    }
    assert!(matches!(
        DirectProbe
            .describe(&pg_source(), &secrets(&password), "a.b.c")
            .await,
        Err(DiscoveryError::Invalid { field: "name", .. })
    ));

    pg_exec(&mut admin, &format!("DROP SCHEMA {q} CASCADE")).await;
}

#[tokio::test]
#[ignore = "needs the local stack's PostgreSQL (infra/db)"]
async fn postgres_lists_tables_and_views_by_schema_pattern_and_page() {
    let mut admin = pg_admin().await;
    let run = unique();
    let schema = format!("probe list {run}");
    let other = format!("probe.other {run}");
    let user = pg_ident(&env("SLUICE_DB_USER", "sluice"));
    let (q, o) = (pg_ident(&schema), pg_ident(&other));
    pg_exec(
        &mut admin,
        &format!(
            "CREATE SCHEMA {q} AUTHORIZATION {user}; CREATE SCHEMA {o} AUTHORIZATION {user};
             SET ROLE {user};
             CREATE TABLE {q}.\"order\" (id int); CREATE TABLE {q}.\"a b\" (id int);
             CREATE TABLE {q}.\"v1.2\" (id int); CREATE TABLE {q}.\"名称\" (id int);
             CREATE TABLE {q}.\"quo\"\"te\" (id int); CREATE TABLE {q}.\"Upper\" (id int);
             CREATE VIEW {q}.\"order view\" AS SELECT 1 AS one;
             CREATE MATERIALIZED VIEW {q}.mat AS SELECT 1 AS one;
             CREATE TABLE {o}.\"order\" (id int);
             CREATE SEQUENCE {q}.seq;
             RESET ROLE;
             CREATE TABLE {q}.hidden (id int);"
        ),
    )
    .await;
    let password = db_password();
    let source = pg_source();
    let s = |t: &str| format!("{schema}.{t}");
    // Byte order (COLLATE "C"): upper case before lower case, unicode last.
    let mut expected = vec![
        s("Upper"),
        s("a b"),
        s("mat"),
        s("order"),
        s("order view"),
        format!("{schema}.\"quo\"\"te\""),
        format!("{schema}.\"v1.2\""),
        s("名称"),
    ];
    for limit in [1, 2, 3, 100] {
        let names = list_all(&source, &password, query(Some(&schema), None, limit, None)).await;
        assert_eq!(names, expected, "limit {limit}");
    }
    let page = DirectProbe
        .list(
            &source,
            &secrets(&password),
            &query(Some(&schema), None, 100, None),
        )
        .await
        .unwrap();
    let kind = |n: &str| page.items.iter().find(|o| o.name == n).unwrap().kind;
    assert_eq!(kind(&s("order")), ObjectKind::Table);
    assert_eq!(kind(&s("order view")), ObjectKind::View);
    assert_eq!(kind(&s("mat")), ObjectKind::View);
    // A LIKE pattern on the object's own name, bound (never spliced).
    let names = list_all(
        &source,
        &password,
        query(Some(&schema), Some("order%"), 1, None),
    )
    .await;
    assert_eq!(names, [s("order"), s("order view")]);
    let names = list_all(
        &source,
        &password,
        query(Some(&schema), Some("x' OR '1'='1"), 10, None),
    )
    .await;
    assert!(names.is_empty(), "{names:?}");
    // Every schema: both of this run's, the other one's name quoted.
    let names = list_all(&source, &password, query(None, Some("order"), 1, None)).await;
    let ours: Vec<_> = names.iter().filter(|n| n.contains(&run)).cloned().collect();
    // Sorted by schema, then name (not by the written name): ' ' < '.'.
    assert_eq!(ours, [s("order"), format!("\"{other}\".order")]);
    // The described name lists back.
    expected.retain(|n| n.contains("v1.2"));
    let described = DirectProbe
        .describe(&source, &secrets(&password), &expected[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(described.name, expected[0]);
    // A table the user has no privilege on is not listed.
    let hidden = list_all(
        &source,
        &password,
        query(Some(&schema), Some("hidden"), 10, None),
    )
    .await;
    assert!(hidden.is_empty(), "{hidden:?}");
    assert!(matches!(
        DirectProbe
            .list(
                &source,
                &secrets(&password),
                &query(None, None, 10, Some("a.b.c"))
            )
            .await,
        Err(DiscoveryError::Invalid { field: "after", .. })
    ));

    pg_exec(
        &mut admin,
        &format!("DROP SCHEMA {q} CASCADE; DROP SCHEMA {o} CASCADE"),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the local stack's PostgreSQL (infra/db)"]
async fn postgres_connection_tests_name_what_failed_within_the_bound() {
    let password = db_password();
    let db = env("SLUICE_DB_NAME", "sluice");
    let user = env("SLUICE_DB_USER", "sluice");

    let started = Instant::now();
    let report = DirectProbe.test(&pg_source(), &secrets(&password)).await;
    eprintln!("postgres ok in {} ms", started.elapsed().as_millis());
    assert!(report.ok, "{report:?}");
    let names: Vec<_> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["connect", "authenticate", "database", "read_privilege"]
    );
    assert!(
        report
            .server_version
            .as_deref()
            .unwrap()
            .starts_with("PostgreSQL 15"),
        "{report:?}"
    );
    assert!(
        logged().contains("connection test"),
        "the probe logs its tests"
    );

    let canary = fresh_canary();
    fails_with(
        "postgres dns",
        &postgres(MISSING_HOST, pg_port(), &db, &user, "prefer"),
        &canary,
        CheckCode::Dns,
    )
    .await;
    fails_with(
        "postgres refused",
        &postgres("127.0.0.1", closed_port(), &db, &user, "prefer"),
        &canary,
        CheckCode::Refused,
    )
    .await;
    let (_silent, port) = silent_listener();
    fails_with(
        "postgres timeout",
        &postgres("127.0.0.1", port, &db, &user, "prefer"),
        &canary,
        CheckCode::Timeout,
    )
    .await;
    fails_with(
        "postgres auth",
        &postgres(&host(), pg_port(), &db, &user, "prefer"),
        &canary,
        CheckCode::Auth,
    )
    .await;
    fails_with(
        "postgres database_missing",
        &postgres(&host(), pg_port(), "sluice_no_such_db", &user, "prefer"),
        &password,
        CheckCode::DatabaseMissing,
    )
    .await;
    // The local server has no TLS: `require` cannot be met.
    fails_with(
        "postgres tls",
        &postgres(&host(), pg_port(), &db, &user, "require"),
        &canary,
        CheckCode::Tls,
    )
    .await;

    // A user that may connect and use `public` but SELECT nothing.
    let mut admin = pg_admin().await;
    let reader = format!("probe_noread_{}", unique());
    let secret = fresh_canary();
    pg_exec(
        &mut admin,
        &format!(
            "CREATE ROLE {} LOGIN PASSWORD '{secret}'",
            pg_ident(&reader)
        ),
    )
    .await;
    let schema = format!("probe perm {}", unique());
    pg_exec(
        &mut admin,
        &format!(
            "CREATE SCHEMA {q}; CREATE TABLE {q}.t (id int); GRANT USAGE ON SCHEMA {q} TO {r}",
            q = pg_ident(&schema),
            r = pg_ident(&reader)
        ),
    )
    .await;
    let report = fails_with(
        "postgres permission",
        &postgres(&host(), pg_port(), &db, &reader, "prefer"),
        &secret,
        CheckCode::Permission,
    )
    .await;
    assert_eq!(report.checks.last().unwrap().name, "read_privilege");
    assert!(report.server_version.is_some());
    // With SELECT on one table it passes.
    pg_exec(
        &mut admin,
        &format!(
            "GRANT SELECT ON {}.t TO {}",
            pg_ident(&schema),
            pg_ident(&reader)
        ),
    )
    .await;
    let report = DirectProbe
        .test(
            &postgres(&host(), pg_port(), &db, &reader, "prefer"),
            &secrets(&secret),
        )
        .await;
    assert!(report.ok, "{report:?}");
    assert_no_canary(&report, &secret);
    pg_exec(
        &mut admin,
        &format!(
            "DROP SCHEMA {} CASCADE; DROP ROLE {}",
            pg_ident(&schema),
            pg_ident(&reader)
        ),
    )
    .await;

    // Discovery on an unreachable source says why, with the same codes.
    let page = DirectProbe
        .list(
            &postgres("127.0.0.1", closed_port(), &db, &user, "prefer"),
            &secrets(&canary),
            &query(None, None, 10, None),
        )
        .await;
    assert!(
        matches!(&page, Err(DiscoveryError::Unreachable(c)) if c.code == Some(CheckCode::Refused)),
        "{page:?}"
    );
    let described = DirectProbe
        .describe(
            &postgres(&host(), pg_port(), &db, &user, "prefer"),
            &secrets(&canary),
            "public.orders",
        )
        .await;
    let Err(DiscoveryError::Unreachable(check)) = &described else {
        panic!("{described:?}");
    };
    assert_eq!(check.code, Some(CheckCode::Auth));
    assert!(!format!("{described:?}").contains(&canary));
    assert!(!logged().contains(&canary));
}

// --- MariaDB --------------------------------------------------------------------------------

/// A database of this run, which the `sluice` user may use (`sluice\_%`).
async fn mariadb_database(admin: &mut MySqlConnection) -> String {
    let database = format!("sluice_probe_{}", unique());
    my_exec(
        admin,
        &format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4",
            my_ident(&database)
        ),
    )
    .await;
    database
}

fn my_source(database: &str) -> Source {
    mariadb(
        &host(),
        mariadb_port(),
        database,
        &env("SLUICE_DB_USER", "sluice"),
        "preferred",
    )
}

fn mariadb_columns() -> Vec<(
    String,
    &'static str,
    &'static str,
    &'static str,
    NativeColumn,
)> {
    let my = NativeColumn::mysql;
    let rows: Vec<(&str, &str, &str, &str, NativeColumn)> = vec![
        ("id", "bigint", "bigint(20)", "BIGINT", my("bigint")),
        ("select", "int", "int(11)", "INT", my("int")),
        ("a b", "tinyint", "tinyint(4)", "TINYINT", my("tinyint")),
        ("名称", "boolean", "tinyint(1)", "TINYINT", my("tinyint")),
        (
            "back`tick",
            "tinyint unsigned",
            "tinyint(3) unsigned",
            "SMALLINT",
            my("tinyint").unsigned(),
        ),
        (
            "quo\"te",
            "smallint",
            "smallint(6)",
            "SMALLINT",
            my("smallint"),
        ),
        (
            "smallint u",
            "smallint unsigned",
            "smallint(5) unsigned",
            "INT",
            my("smallint").unsigned(),
        ),
        (
            "mediumint",
            "mediumint",
            "mediumint(9)",
            "INT",
            my("mediumint"),
        ),
        (
            "mediumint u",
            "mediumint unsigned",
            "mediumint(8) unsigned",
            "INT",
            my("mediumint").unsigned(),
        ),
        (
            "int u",
            "int unsigned",
            "int(10) unsigned",
            "BIGINT",
            my("int").unsigned(),
        ),
        (
            "int zf",
            "int zerofill",
            "int(10) unsigned zerofill",
            "BIGINT",
            my("int").unsigned(),
        ),
        (
            "bigint u",
            "bigint unsigned",
            "bigint(20) unsigned",
            "DECIMAL(20, 0)",
            my("bigint").unsigned(),
        ),
        (
            "dec",
            "decimal",
            "decimal(10,0)",
            "DECIMAL(10, 0)",
            my("decimal").numeric(10, 0),
        ),
        (
            "dec12_2",
            "decimal(12,2)",
            "decimal(12,2)",
            "DECIMAL(12, 2)",
            my("decimal").numeric(12, 2),
        ),
        (
            "dec38_30",
            "decimal(38,30)",
            "decimal(38,30)",
            "DECIMAL(38, 30)",
            my("decimal").numeric(38, 30),
        ),
        (
            "dec65_30",
            "decimal(65,30)",
            "decimal(65,30)",
            "!38 digits",
            my("decimal").numeric(65, 30),
        ),
        ("float", "float", "float", "FLOAT", my("float")),
        ("double", "double", "double", "DOUBLE", my("double")),
        ("bit1", "bit(1)", "bit(1)", "BOOLEAN", my("bit").length(1)),
        ("bit10", "bit(10)", "bit(10)", "BYTES", my("bit").length(10)),
        (
            "char10",
            "char(10)",
            "char(10)",
            "CHAR(10)",
            my("char").length(10),
        ),
        (
            "char0",
            "char(0)",
            "char(0)",
            "STRING",
            my("char").length(0),
        ),
        (
            "varchar40",
            "varchar(40)",
            "varchar(40)",
            "VARCHAR(40)",
            my("varchar").length(40),
        ),
        ("tinytext", "tinytext", "tinytext", "STRING", my("tinytext")),
        ("text", "text", "text", "STRING", my("text")),
        (
            "mediumtext",
            "mediumtext",
            "mediumtext",
            "STRING",
            my("mediumtext"),
        ),
        ("longtext", "longtext", "longtext", "STRING", my("longtext")),
        ("json", "json", "longtext", "STRING", my("longtext")),
        (
            "enum",
            "enum('a','b c')",
            "enum('a','b c')",
            "STRING",
            my("enum").kind(NativeKind::Enum),
        ),
        (
            "set",
            "set('x','y')",
            "set('x','y')",
            "STRING",
            my("set").kind(NativeKind::Set),
        ),
        ("uuid", "uuid", "uuid", "STRING", my("uuid")),
        ("inet6", "inet6", "inet6", "STRING", my("inet6")),
        (
            "binary16",
            "binary(16)",
            "binary(16)",
            "BYTES",
            my("binary").length(16),
        ),
        (
            "varbinary",
            "varbinary(255)",
            "varbinary(255)",
            "BYTES",
            my("varbinary").length(255),
        ),
        ("tinyblob", "tinyblob", "tinyblob", "BYTES", my("tinyblob")),
        ("blob", "blob", "blob", "BYTES", my("blob")),
        (
            "mediumblob",
            "mediumblob",
            "mediumblob",
            "BYTES",
            my("mediumblob"),
        ),
        ("longblob", "longblob", "longblob", "BYTES", my("longblob")),
        ("date", "date", "date", "DATE", my("date")),
        (
            "datetime",
            "datetime",
            "datetime",
            "TIMESTAMP(0)",
            my("datetime").datetime_precision(0),
        ),
        (
            "datetime3",
            "datetime(3)",
            "datetime(3)",
            "TIMESTAMP(3)",
            my("datetime").datetime_precision(3),
        ),
        (
            "datetime6",
            "datetime(6)",
            "datetime(6)",
            "TIMESTAMP(6)",
            my("datetime").datetime_precision(6),
        ),
        (
            "timestamp",
            "timestamp(6) NULL",
            "timestamp(6)",
            "!time zone",
            my("timestamp").datetime_precision(6),
        ),
        (
            "time",
            "time",
            "time",
            "TIME(0)",
            my("time").datetime_precision(0),
        ),
        (
            "time3",
            "time(3)",
            "time(3)",
            "TIME(3)",
            my("time").datetime_precision(3),
        ),
        (
            "time6",
            "time(6)",
            "time(6)",
            "STRING",
            my("time").datetime_precision(6),
        ),
        ("year", "year", "year(4)", "SMALLINT", my("year")),
        (
            "geometry",
            "geometry",
            "geometry",
            "!spatial",
            my("geometry"),
        ),
        ("point", "point", "point", "!spatial", my("point")),
        (
            "linestring",
            "linestring",
            "linestring",
            "!spatial",
            my("linestring"),
        ),
        ("polygon", "polygon", "polygon", "!spatial", my("polygon")),
        (
            "multipoint",
            "multipoint",
            "multipoint",
            "!spatial",
            my("multipoint"),
        ),
        (
            "multilinestring",
            "multilinestring",
            "multilinestring",
            "!spatial",
            my("multilinestring"),
        ),
        (
            "multipolygon",
            "multipolygon",
            "multipolygon",
            "!spatial",
            my("multipolygon"),
        ),
        (
            "geometrycollection",
            "geometrycollection",
            "geometrycollection",
            "!spatial",
            my("geometrycollection"),
        ),
    ];
    rows.into_iter()
        .map(|(n, ddl, native, flink, column)| (n.to_owned(), ddl, native, flink, column))
        .collect()
}

#[tokio::test]
#[ignore = "needs the local stack's MariaDB (infra/db)"]
async fn mariadb_describes_every_type_of_the_mapping() {
    let mut admin = mariadb_admin().await;
    let database = mariadb_database(&mut admin).await;
    let columns = mariadb_columns();
    let ddl: Vec<String> = columns
        .iter()
        .map(|(name, ty, ..)| format!("{} {ty}", my_ident(name)))
        .collect();
    let table = "order by 名";
    my_exec(
        &mut admin,
        &format!(
            "CREATE TABLE {}.{} ({}, PRIMARY KEY ({}, `id`))",
            my_ident(&database),
            my_ident(table),
            ddl.join(", "),
            my_ident("select")
        ),
    )
    .await;
    let password = db_password();
    let source = my_source(&database);
    let described = DirectProbe
        .describe(&source, &secrets(&password), table)
        .await
        .expect("described")
        .expect("the table exists");
    assert_eq!(described.name, table);
    assert_eq!(described.kind, ObjectKind::Table);
    assert_eq!(described.primary_key, ["select", "id"]);
    let expected: Vec<(String, &str, &str, NativeColumn)> = columns
        .iter()
        .map(|(n, _, native, flink, column)| (n.clone(), *native, *flink, column.clone()))
        .collect();
    check_columns(&described, &expected);
    let by_name = |n: &str| described.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(by_name("select").primary_key_position, Some(1));
    assert_eq!(by_name("id").primary_key_position, Some(2));
    assert_eq!(by_name("text").primary_key_position, None);
    assert!(!by_name("id").nullable);
    assert!(by_name("text").nullable);

    // Names match exactly: not another case, not a pattern.
    for missing in ["ORDER BY 名", "order by _", "nope", "order by 😀"] {
        assert_eq!(
            DirectProbe
                .describe(&source, &secrets(&password), missing)
                .await
                .unwrap(),
            None,
            "{missing}"
        );
    }
    assert!(matches!(
        DirectProbe
            .describe(&source, &secrets(&password), "sluice.orders")
            .await,
        Err(DiscoveryError::Invalid { field: "name", .. })
    ));
    my_exec(
        &mut admin,
        &format!("DROP DATABASE {}", my_ident(&database)),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the local stack's MariaDB (infra/db)"]
async fn mariadb_lists_tables_and_views_by_pattern_and_page() {
    let mut admin = mariadb_admin().await;
    let database = mariadb_database(&mut admin).await;
    let d = my_ident(&database);
    my_exec(
        &mut admin,
        &format!(
            "CREATE TABLE {d}.`order` (id int); CREATE TABLE {d}.`a b` (id int);
             CREATE TABLE {d}.`v1.2` (id int); CREATE TABLE {d}.`名称` (id int);
             CREATE TABLE {d}.`quo\"te` (id int); CREATE TABLE {d}.`Upper` (id int);
             CREATE TABLE {d}.`back``tick` (id int);
             CREATE VIEW {d}.`order view` AS SELECT 1 AS one;
             CREATE SEQUENCE {d}.seq;"
        ),
    )
    .await;
    let password = db_password();
    let source = my_source(&database);
    // Byte order: upper case before lower case, unicode last.
    let expected = [
        "Upper",
        "a b",
        "back`tick",
        "order",
        "order view",
        "\"quo\"\"te\"",
        "\"v1.2\"",
        "名称",
    ];
    for limit in [1, 2, 3, 100] {
        let names = list_all(&source, &password, query(None, None, limit, None)).await;
        assert_eq!(names, expected, "limit {limit}");
    }
    let page = DirectProbe
        .list(&source, &secrets(&password), &query(None, None, 100, None))
        .await
        .unwrap();
    let kind = |n: &str| page.items.iter().find(|o| o.name == n).unwrap().kind;
    assert_eq!(kind("order"), ObjectKind::Table);
    assert_eq!(kind("order view"), ObjectKind::View);
    let names = list_all(&source, &password, query(None, Some("order%"), 1, None)).await;
    assert_eq!(names, ["order", "order view"]);
    for pattern in ["x' OR '1'='1", "😀%"] {
        let names = list_all(&source, &password, query(None, Some(pattern), 10, None)).await;
        assert!(names.is_empty(), "{pattern}: {names:?}");
    }
    // `schema` is PostgreSQL's: ignored here.
    let names = list_all(
        &source,
        &password,
        query(Some("other"), Some("名%"), 10, None),
    )
    .await;
    assert_eq!(names, ["名称"]);
    let described = DirectProbe
        .describe(&source, &secrets(&password), "\"v1.2\"")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(described.name, "\"v1.2\"");
    my_exec(&mut admin, &format!("DROP DATABASE {d}")).await;
}

#[tokio::test]
#[ignore = "needs the local stack's MariaDB (infra/db)"]
async fn mariadb_connection_tests_name_what_failed_within_the_bound() {
    let password = db_password();
    let db = env("SLUICE_DB_NAME", "sluice");
    let user = env("SLUICE_DB_USER", "sluice");
    let ok_source = mariadb(&host(), mariadb_port(), &db, &user, "preferred");
    let started = Instant::now();
    let report = DirectProbe.test(&ok_source, &secrets(&password)).await;
    eprintln!("mariadb ok in {} ms", started.elapsed().as_millis());
    assert!(report.ok, "{report:?}");
    let names: Vec<_> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["connect", "authenticate", "database", "read_privilege"]
    );
    assert!(
        report
            .server_version
            .as_deref()
            .unwrap()
            .contains("MariaDB"),
        "{report:?}"
    );

    let canary = fresh_canary();
    fails_with(
        "mariadb dns",
        &mariadb(MISSING_HOST, mariadb_port(), &db, &user, "preferred"),
        &canary,
        CheckCode::Dns,
    )
    .await;
    fails_with(
        "mariadb refused",
        &mariadb("127.0.0.1", closed_port(), &db, &user, "preferred"),
        &canary,
        CheckCode::Refused,
    )
    .await;
    let (_silent, port) = silent_listener();
    fails_with(
        "mariadb timeout",
        &mariadb("127.0.0.1", port, &db, &user, "preferred"),
        &canary,
        CheckCode::Timeout,
    )
    .await;
    fails_with(
        "mariadb auth",
        &mariadb(&host(), mariadb_port(), &db, &user, "preferred"),
        &canary,
        CheckCode::Auth,
    )
    .await;
    fails_with(
        "mariadb database_missing",
        &mariadb(
            &host(),
            mariadb_port(),
            "sluice_no_such_db",
            &user,
            "preferred",
        ),
        &password,
        CheckCode::DatabaseMissing,
    )
    .await;
    fails_with(
        "mariadb tls",
        &mariadb(&host(), mariadb_port(), &db, &user, "required"),
        &canary,
        CheckCode::Tls,
    )
    .await;

    // Users with a canary password: one with no privilege on the database
    // (refused at connect, 1044), one that may only INSERT into a table.
    let mut admin = mariadb_admin().await;
    let database = mariadb_database(&mut admin).await;
    let d = my_ident(&database);
    let secret = fresh_canary();
    let nothing = format!("probe_none_{}", unique());
    let insert_only = format!("probe_ins_{}", unique());
    my_exec(
        &mut admin,
        &format!(
            "CREATE TABLE {d}.t (id int);
             CREATE USER '{nothing}'@'127.0.0.1' IDENTIFIED BY '{secret}';
             CREATE USER '{insert_only}'@'127.0.0.1' IDENTIFIED BY '{secret}';
             GRANT INSERT ON {d}.t TO '{insert_only}'@'127.0.0.1';"
        ),
    )
    .await;
    let report = fails_with(
        "mariadb permission (no privilege)",
        &mariadb(&host(), mariadb_port(), &database, &nothing, "preferred"),
        &secret,
        CheckCode::Permission,
    )
    .await;
    assert_eq!(report.checks.last().unwrap().name, "database");
    let report = fails_with(
        "mariadb permission (no SELECT)",
        &mariadb(
            &host(),
            mariadb_port(),
            &database,
            &insert_only,
            "preferred",
        ),
        &secret,
        CheckCode::Permission,
    )
    .await;
    assert_eq!(report.checks.last().unwrap().name, "read_privilege");
    my_exec(
        &mut admin,
        &format!("GRANT SELECT (id) ON {d}.t TO '{insert_only}'@'127.0.0.1'"),
    )
    .await;
    let report = DirectProbe
        .test(
            &mariadb(
                &host(),
                mariadb_port(),
                &database,
                &insert_only,
                "preferred",
            ),
            &secrets(&secret),
        )
        .await;
    assert!(report.ok, "a column grant is a SELECT: {report:?}");
    assert_no_canary(&report, &secret);
    my_exec(
        &mut admin,
        &format!(
            "DROP USER '{nothing}'@'127.0.0.1'; DROP USER '{insert_only}'@'127.0.0.1';
             DROP DATABASE {d};"
        ),
    )
    .await;

    let page = DirectProbe
        .list(
            &mariadb(MISSING_HOST, mariadb_port(), &db, &user, "preferred"),
            &secrets(&canary),
            &query(None, None, 10, None),
        )
        .await;
    assert!(
        matches!(&page, Err(DiscoveryError::Unreachable(c)) if c.code == Some(CheckCode::Dns)),
        "{page:?}"
    );
    let described = DirectProbe
        .describe(
            &mariadb(
                &host(),
                mariadb_port(),
                "sluice_no_such_db",
                &user,
                "preferred",
            ),
            &secrets(&password),
            "orders",
        )
        .await;
    assert!(
        matches!(&described, Err(DiscoveryError::Unreachable(c)) if c.code == Some(CheckCode::DatabaseMissing)),
        "{described:?}"
    );
    assert!(!logged().contains(&canary));
}

// --- target tables (README, "Target tables and schema drift") ------------------------------

/// Every Flink type the mapping proposes, as a created column, and the type
/// discovery proposes for the column created (PostgreSQL, MariaDB): each
/// carries every value of the type it was made for.
fn created_types() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("BOOLEAN", "BOOLEAN", "TINYINT"),
        ("TINYINT", "SMALLINT", "TINYINT"),
        ("SMALLINT", "SMALLINT", "SMALLINT"),
        ("INT", "INT", "INT"),
        ("BIGINT", "BIGINT", "BIGINT"),
        ("DECIMAL(20, 0)", "DECIMAL(20, 0)", "DECIMAL(20, 0)"),
        ("DECIMAL(38, 30)", "DECIMAL(38, 30)", "DECIMAL(38, 30)"),
        ("FLOAT", "FLOAT", "FLOAT"),
        ("DOUBLE", "DOUBLE", "DOUBLE"),
        ("CHAR(10)", "VARCHAR(10)", "VARCHAR(10)"),
        ("VARCHAR(255)", "VARCHAR(255)", "VARCHAR(255)"),
        ("VARCHAR(300)", "VARCHAR(300)", "STRING"),
        ("STRING", "STRING", "STRING"),
        ("BYTES", "BYTES", "BYTES"),
        ("VARBINARY(16)", "BYTES", "BYTES"),
        ("DATE", "DATE", "DATE"),
        ("TIME(0)", "TIME(0)", "TIME(0)"),
        ("TIME(3)", "TIME(3)", "TIME(3)"),
        ("TIMESTAMP(0)", "TIMESTAMP(0)", "TIMESTAMP(0)"),
        ("TIMESTAMP(6)", "TIMESTAMP(6)", "TIMESTAMP(6)"),
        ("TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(3)", "TIMESTAMP(3)"),
        ("TIMESTAMP_LTZ(6)", "TIMESTAMP_LTZ(6)", "TIMESTAMP(6)"),
    ]
}

/// A table named with a reserved word, a space, a quote and unicode; a
/// column of every created type (named after it, with unicode); a key of a
/// string and a number.
fn target_spec(object: &str) -> TableSpec {
    let mut columns = vec![
        TableColumn {
            name: "select".into(),
            flink_type: "STRING".into(),
            nullable: false,
        },
        TableColumn {
            name: "id".into(),
            flink_type: "BIGINT".into(),
            nullable: false,
        },
    ];
    for (i, (flink, _, _)) in created_types().into_iter().enumerate() {
        columns.push(TableColumn {
            name: format!("{i} {flink} é名\"`"),
            flink_type: flink.into(),
            nullable: true,
        });
    }
    TableSpec {
        object: object.into(),
        columns,
        primary_key: vec!["select".into(), "id".into()],
    }
}

/// The described table has the spec's columns, key and the proposals of
/// `created_types` (`mysql` picks MariaDB's column).
fn check_created(described: &ObjectDescription, spec: &TableSpec, mysql: bool) {
    let names: Vec<&str> = described.columns.iter().map(|c| c.name.as_str()).collect();
    let expected: Vec<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(described.primary_key, ["select", "id"]);
    let key = if mysql { "VARCHAR(763)" } else { "STRING" };
    assert_eq!(described.columns[0].proposal, supported(key));
    assert!(!described.columns[0].nullable && !described.columns[1].nullable);
    for (column, (flink, postgres, mariadb)) in described.columns[2..].iter().zip(created_types()) {
        let back = if mysql { mariadb } else { postgres };
        assert_eq!(
            column.proposal,
            supported(back),
            "{flink} created as {}",
            column.native_type
        );
        assert!(column.nullable, "{}", column.name);
    }
}

/// Creates the table, then again (nothing changes, a row stays), twice at
/// once, and adds a column twice.
async fn target_table_lifecycle(source: &Source, object: &str, other: &str, mysql: bool) {
    let password = db_password();
    let spec = target_spec(object);
    let created = DirectProbe
        .create_table(source, &secrets(&password), &spec)
        .await
        .expect("created");
    assert!(created, "a new table");
    let described = DirectProbe
        .describe(source, &secrets(&password), object)
        .await
        .unwrap()
        .expect("the table exists");
    check_created(&described, &spec, mysql);

    // Idempotent: a table that exists is left alone (here: narrower spec).
    let mut narrower = spec.clone();
    narrower.columns.truncate(3);
    let again = DirectProbe
        .create_table(source, &secrets(&password), &narrower)
        .await
        .expect("no error the second time");
    assert!(!again, "not created again");
    let still = DirectProbe
        .describe(source, &secrets(&password), object)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.columns.len(), spec.columns.len(), "left as it was");

    // Two runs at once: neither fails.
    let other_spec = target_spec(other);
    let (one, two) = (secrets(&password), secrets(&password));
    let (a, b) = tokio::join!(
        DirectProbe.create_table(source, &one, &other_spec),
        DirectProbe.create_table(source, &two, &other_spec),
    );
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert!(a || b, "one of them created it");

    // New columns, nullable; one that exists is skipped, and a second call
    // adds nothing.
    let new = vec![
        TableColumn {
            name: "from 新".into(),
            flink_type: "DECIMAL(12, 2)".into(),
            nullable: true,
        },
        TableColumn {
            name: "id".into(),
            flink_type: "BIGINT".into(),
            nullable: true,
        },
    ];
    let added = DirectProbe
        .add_columns(source, &secrets(&password), object, &new)
        .await
        .expect("added");
    assert_eq!(added, ["from 新"]);
    let added = DirectProbe
        .add_columns(source, &secrets(&password), object, &new)
        .await
        .expect("idempotent");
    assert!(added.is_empty(), "{added:?}");
    let extended = DirectProbe
        .describe(source, &secrets(&password), object)
        .await
        .unwrap()
        .unwrap();
    let last = extended.columns.last().unwrap();
    assert_eq!(last.name, "from 新");
    assert!(last.nullable);
    assert_eq!(last.proposal, supported("DECIMAL(12, 2)"));

    // A table that is not there cannot be extended.
    assert!(matches!(
        DirectProbe
            .add_columns(source, &secrets(&password), "nope_nope", &new)
            .await,
        Err(DiscoveryError::Invalid { .. })
    ));
}

#[tokio::test]
#[ignore = "needs the local stack's PostgreSQL (infra/db)"]
async fn postgres_creates_and_extends_target_tables_idempotently() {
    let mut admin = pg_admin().await;
    let schema = format!("target {} ü", unique());
    pg_schema(&mut admin, &schema).await;
    let object = |table: &str| format!("{}.{}", pg_ident(&schema), pg_ident(table));
    target_table_lifecycle(
        &pg_source(),
        &object("order by 名 \"q"),
        &object("group"),
        false,
    )
    .await;
    // Every created type takes the limits of the Flink type it was made
    // for.
    let table = object("order by 名 \"q");
    pg_exec(
        &mut admin,
        &format!(
            "INSERT INTO {table} VALUES ('ü', 9223372036854775807, true, 32767, -32768, \
             2147483647, -9223372036854775808, 99999999999999999999, \
             99999999.999999999999999999999999999999, '3.4028235e38', '1.7976931348623157e308', \
             'ab        ', repeat('名', 255), repeat('x', 300), 'any', '\\x00ff', '\\x01', \
             '0001-01-01', '23:59:59', '23:59:59.999', '9999-12-31 23:59:59', \
             '1970-01-01 00:00:00.000001', '2000-01-01 00:00:00.123+00', \
             '2000-01-01 00:00:00.123456+00', 1.5)"
        ),
    )
    .await;
    pg_exec(
        &mut admin,
        &format!("DROP SCHEMA {} CASCADE", pg_ident(&schema)),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the local stack's MariaDB (infra/db)"]
async fn mariadb_creates_and_extends_target_tables_idempotently() {
    let mut admin = mariadb_admin().await;
    let database = mariadb_database(&mut admin).await;
    let source = my_source(&database);
    // As a job's target.object names it: a quote inside double quotes.
    target_table_lifecycle(&source, "\"order by 名 \"\"q\"", "group", true).await;
    let table = format!("{}.{}", my_ident(&database), my_ident("order by 名 \"q"));
    // utf8mb4 with a binary collation: characters beyond the BMP, and keys
    // that differ only in case or accents are two rows.
    my_exec(
        &mut admin,
        &format!(
            "INSERT INTO {table} (`select`, `id`) VALUES ('😀', 1), ('a', 1), ('A', 1), ('á', 1)"
        ),
    )
    .await;
    let (charset, collation): (String, String) = sqlx::query_as(
        "SELECT CAST(CCSA.CHARACTER_SET_NAME AS CHAR), CAST(T.TABLE_COLLATION AS CHAR) \
         FROM information_schema.TABLES T JOIN \
         information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA \
         ON CCSA.COLLATION_NAME = T.TABLE_COLLATION \
         WHERE T.TABLE_SCHEMA = ? AND T.TABLE_NAME = ?",
    )
    .bind(&database)
    .bind("order by 名 \"q")
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(
        (charset.as_str(), collation.as_str()),
        ("utf8mb4", "utf8mb4_bin")
    );
    my_exec(
        &mut admin,
        &format!("DROP DATABASE {}", my_ident(&database)),
    )
    .await;
}

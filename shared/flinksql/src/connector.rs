//! Per kind: what a source can do (read, append, upsert), which formats it
//! takes, and the `WITH (...)` options of its Flink table.

use serde_json::{Map, Value};
use sluice_domain::model::job::{FormatSpec, JobOptions, PartitionedRead, RuntimeMode, WriteMode};
use sluice_domain::{Source, SourceKind, ValidationErrors};

use crate::ident::{
    check_jdbc_table, check_relative_path, check_topic, jdbc_name, jdbc_table_name,
    jdbc_table_parts, quote_identifier,
};
use crate::literal::url_component;

/// Which end of the job a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

/// The shaded JAAS login modules of flink-sql-connector-kafka (checked in
/// flink-sql-connector-kafka-5.0.0-2.2.jar).
pub const PLAIN_LOGIN_MODULE: &str =
    "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule";
pub const SCRAM_LOGIN_MODULE: &str =
    "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule";

/// JDBC driver classes of the jars in the Flink distribution.
pub const POSTGRES_DRIVER: &str = "org.postgresql.Driver";
pub const MYSQL_DRIVER: &str = "com.mysql.cj.jdbc.Driver";
pub const MARIADB_DRIVER: &str = "org.mariadb.jdbc.Driver";

/// Rows per round trip when the job does not say.
pub const DEFAULT_FETCH_SIZE: u32 = 10_000;

/// Rows per batch a JDBC sink writes when the job does not say. Flink's own
/// default (100) spends most of a sync on round trips and commits: on the
/// local stack 1,000,000 rows PostgreSQL -> MariaDB ran about 1.4x faster
/// with 5,000 (BENCHMARKS.md). A batch is buffered in the TaskManager's heap
/// (a few hundred bytes a row) and flushed at the latest after
/// `sink.buffer-flush.interval` (Flink's default, 1 s), so streaming jobs
/// keep their latency.
pub const DEFAULT_FLUSH_MAX_ROWS: u32 = 5_000;

/// A connector option's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    Text(String),
    /// The named secret of this side, as is.
    Secret(&'static str),
    /// A JAAS configuration: `<module> required username="..." password="<secret>";`.
    Jaas {
        module: &'static str,
        username: String,
        secret: &'static str,
    },
}

/// The options of one table, in rendering order.
pub type Options = Vec<(String, OptionValue)>;

fn text(key: &str, value: impl Into<String>) -> (String, OptionValue) {
    (key.to_owned(), OptionValue::Text(value.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Mysql,
    Mariadb,
    Tidb,
}

/// How CSV files of sluice's jobs write NULL.
pub const CSV_NULL_LITERAL: &str = "\\N";

/// A row format that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub kind: &'static str,
    pub field_delimiter: Option<char>,
    pub ignore_parse_errors: Option<bool>,
}

impl Format {
    /// `format`-style options, each key after `prefix` (`""`, `key.` or
    /// `value.`): `<prefix>format` and `<prefix><kind>.<option>`.
    fn options(&self, prefix: &str) -> Options {
        let mut out = vec![text(&format!("{prefix}format"), self.kind)];
        if let Some(c) = self.field_delimiter {
            // The CSV format unescapes Java escapes in this value: a tab is
            // written \t, everything else allowed is a plain character.
            let value = if c == '\t' {
                "\\t".to_owned()
            } else {
                c.to_string()
            };
            out.push(text(
                &format!("{prefix}{}.field-delimiter", self.kind),
                value,
            ));
        }
        if self.kind == "csv" {
            // Without it Flink writes NULL as an empty field, which it cannot
            // read back into a number, and which an empty string also is.
            // `\N` (as PostgreSQL's and MySQL's text formats): NULL and ""
            // stay apart; a string that is exactly `\N` reads back as NULL.
            out.push(text(&format!("{prefix}csv.null-literal"), CSV_NULL_LITERAL));
        }
        if let Some(ignore) = self.ignore_parse_errors {
            out.push(text(
                &format!("{prefix}{}.ignore-parse-errors", self.kind),
                ignore.to_string(),
            ));
        }
        out
    }
}

/// Delimiters allowed in CSV: visible ASCII punctuation without quotes and
/// backslash, space and tab.
fn delimiter_ok(c: char) -> bool {
    c == '\t' || c == ' ' || (c.is_ascii_punctuation() && !matches!(c, '\\' | '\'' | '"' | '`'))
}

/// Checks the `format` of an endpoint and returns it.
pub fn check_format(
    side: Side,
    kind: SourceKind,
    spec: Option<&FormatSpec>,
    errors: &mut ValidationErrors,
) -> Option<Format> {
    let path = format!("{}.format", side.as_str());
    let allowed: &[&'static str] = match kind {
        SourceKind::Kafka => &["json", "csv", "avro"],
        SourceKind::Filesystem => &["csv", "json", "parquet"],
        SourceKind::Postgres | SourceKind::Mysql => {
            if spec.is_some() {
                errors.push(
                    path,
                    format!("must not be set for a {kind} {}", side.as_str()),
                );
            }
            return None;
        }
    };
    let Some(spec) = spec else {
        errors.push(path, format!("is required for a {kind} {}", side.as_str()));
        return None;
    };
    let mut ok = true;
    let kind_name = allowed.iter().copied().find(|k| *k == spec.kind);
    if kind_name.is_none() {
        errors.push(
            format!("{path}.type"),
            format!("must be one of {} for {kind}", allowed.join(", ")),
        );
        ok = false;
    }
    let mut delimiter = None;
    if let Some(d) = &spec.field_delimiter {
        let mut chars = d.chars();
        match (chars.next(), chars.next()) {
            _ if kind_name.is_some_and(|k| k != "csv") => {
                errors.push(format!("{path}.field_delimiter"), "only applies to csv");
                ok = false;
            }
            (Some(c), None) if delimiter_ok(c) => delimiter = Some(c),
            _ => {
                errors.push(
                    format!("{path}.field_delimiter"),
                    "must be one character: a tab, a space or ASCII punctuation other than \
                     quotes and backslash",
                );
                ok = false;
            }
        }
    }
    if spec.ignore_parse_errors.is_some() {
        if side == Side::Target {
            errors.push(
                format!("{path}.ignore_parse_errors"),
                "only applies to reads",
            );
            ok = false;
        } else if kind_name.is_some_and(|k| k != "csv" && k != "json") {
            errors.push(
                format!("{path}.ignore_parse_errors"),
                "only applies to csv and json",
            );
            ok = false;
        }
    }
    (ok && kind_name.is_some()).then(|| Format {
        kind: kind_name.expect("checked"),
        field_delimiter: delimiter,
        ignore_parse_errors: spec.ignore_parse_errors,
    })
}

/// Checks an endpoint's object name for its kind.
pub fn check_object(side: Side, kind: SourceKind, object: &str, errors: &mut ValidationErrors) {
    let path = format!("{}.object", side.as_str());
    let result = match kind {
        SourceKind::Postgres | SourceKind::Mysql => {
            check_jdbc_table(&path, object, kind, side == Side::Target).map(|_| ())
        }
        SourceKind::Kafka => check_topic(&path, object),
        SourceKind::Filesystem => check_relative_path(&path, object),
    };
    if let Err(e) = result {
        errors.add(e);
    }
}

/// The JDBC settings of a registered postgres or mysql source.
#[derive(Debug, Clone)]
struct Jdbc {
    kind: SourceKind,
    flavor: Flavor,
    host: String,
    port: u64,
    database: String,
    username: String,
    ssl_mode: String,
}

/// The Kafka settings of a registered source.
#[derive(Debug, Clone)]
struct Kafka {
    bootstrap_servers: String,
    security_protocol: String,
    sasl: Option<(String, String)>,
}

/// What a registered source's config gives; read once, checked.
#[derive(Debug, Clone)]
pub struct Endpoint {
    side: Side,
    conn: Conn,
}

#[derive(Debug, Clone)]
enum Conn {
    Jdbc(Jdbc),
    Kafka(Kafka),
    Filesystem { path: String },
}

fn config_str<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

/// Reads the settings of `source` for one side of a job. A config that
/// lacks what the catalog guarantees is reported on `<side>.source_id`.
pub fn endpoint(side: Side, source: &Source, errors: &mut ValidationErrors) -> Option<Endpoint> {
    let path = format!("{}.source_id", side.as_str());
    let config = &source.config;
    let mut missing = Vec::new();
    let mut get = |key: &'static str| {
        let v = config_str(config, key);
        if v.is_none() {
            missing.push(key);
        }
        v.unwrap_or_default().to_owned()
    };
    let conn = match source.kind {
        SourceKind::Postgres | SourceKind::Mysql => {
            let host = get("host");
            let database = get("database");
            let username = get("username");
            let ssl_mode = get("ssl_mode");
            let flavor = if source.kind == SourceKind::Mysql {
                match get("flavor").as_str() {
                    "mariadb" => Flavor::Mariadb,
                    "tidb" => Flavor::Tidb,
                    _ => Flavor::Mysql,
                }
            } else {
                Flavor::Mysql
            };
            let port = config.get("port").and_then(Value::as_u64);
            if port.is_none() {
                missing.push("port");
            }
            if flavor == Flavor::Mariadb && url_component(&database) != database {
                // MariaDB Connector/J does not percent-decode the database
                // of its URL, so only URL-safe names can be passed.
                errors.push(
                    path.clone(),
                    "the MariaDB source's database name must consist of letters, digits and \
                     - . _ ~ to be passed in a JDBC URL",
                );
            }
            Conn::Jdbc(Jdbc {
                kind: source.kind,
                flavor,
                host,
                port: port.unwrap_or_default(),
                database,
                username,
                ssl_mode,
            })
        }
        SourceKind::Kafka => {
            let bootstrap_servers = get("bootstrap_servers");
            let security_protocol = config_str(config, "security_protocol")
                .unwrap_or("PLAINTEXT")
                .to_owned();
            let sasl = if security_protocol.starts_with("SASL_") {
                Some((get("sasl_mechanism"), get("sasl_username")))
            } else {
                None
            };
            Conn::Kafka(Kafka {
                bootstrap_servers,
                security_protocol,
                sasl,
            })
        }
        SourceKind::Filesystem => {
            let path_value = get("path");
            if config.contains_key("access_key_id")
                || source
                    .secret_fields
                    .iter()
                    .any(|s| s == "secret_access_key")
            {
                errors.push(
                    path.clone(),
                    "the filesystem source has S3 credentials, which a Flink table cannot \
                     carry: give the Flink cluster access to the bucket instead",
                );
            }
            Conn::Filesystem { path: path_value }
        }
    };
    if !missing.is_empty() {
        errors.push(
            path,
            format!(
                "the {} source's config lacks {}",
                source.kind,
                missing.join(", ")
            ),
        );
        return None;
    }
    Some(Endpoint { side, conn })
}

/// Checks the job options against the kinds of both ends.
pub fn check_options(
    options: &JobOptions,
    source_kind: SourceKind,
    target_kind: SourceKind,
    errors: &mut ValidationErrors,
) {
    let jdbc_source = matches!(source_kind, SourceKind::Postgres | SourceKind::Mysql);
    let jdbc_target = matches!(target_kind, SourceKind::Postgres | SourceKind::Mysql);
    if !(1..=256).contains(&options.parallelism) {
        errors.push("options.parallelism", "must be 1 to 256");
    }
    if let Some(pr) = &options.partitioned_read {
        if !jdbc_source {
            errors.push(
                "options.partitioned_read",
                format!("only applies to JDBC sources, not {source_kind}"),
            );
        }
        check_partitioned_read(pr, errors);
    }
    let bounded = |value: Option<u32>, path: &str, min: u32, max: u32, jdbc: bool, what: &str| {
        let mut out = Vec::new();
        if let Some(v) = value {
            if !jdbc {
                out.push((path.to_owned(), format!("only applies to {what}")));
            } else if !(min..=max).contains(&v) {
                out.push((path.to_owned(), format!("must be {min} to {max}")));
            }
        }
        out
    };
    for (field, reason) in [
        bounded(
            options.fetch_size,
            "options.fetch_size",
            1,
            1_000_000,
            jdbc_source,
            "JDBC sources",
        ),
        bounded(
            options.flush_max_rows,
            "options.flush_max_rows",
            1,
            1_000_000,
            jdbc_target,
            "JDBC targets",
        ),
        bounded(
            options.flush_interval_ms,
            "options.flush_interval_ms",
            0,
            3_600_000,
            jdbc_target,
            "JDBC targets",
        ),
        bounded(
            options.max_retries,
            "options.max_retries",
            0,
            100,
            jdbc_target,
            "JDBC targets",
        ),
    ]
    .into_iter()
    .flatten()
    {
        errors.push(field, reason);
    }
}

fn check_partitioned_read(pr: &PartitionedRead, errors: &mut ValidationErrors) {
    if !(1..=10_000).contains(&pr.num) {
        errors.push("options.partitioned_read.num", "must be 1 to 10000");
    }
    if pr.lower_bound > pr.upper_bound {
        errors.push(
            "options.partitioned_read.upper_bound",
            "must not be below lower_bound",
        );
    }
}

/// Whether a kind can be written in this mode (every kind can be read).
pub fn can_write(kind: SourceKind, mode: WriteMode) -> bool {
    match (kind, mode) {
        (_, WriteMode::Append) => true,
        (SourceKind::Filesystem, WriteMode::Upsert) => false,
        (_, WriteMode::Upsert) => true,
    }
}

/// Everything a table's options depend on besides the endpoint.
pub struct TableContext<'a> {
    pub object: &'a str,
    pub format: Option<&'a Format>,
    pub mode: RuntimeMode,
    pub options: &'a JobOptions,
    /// Source side: Kafka startup mode; target side: unused.
    pub startup_mode: Option<&'a str>,
    /// Target side: the write mode.
    pub write_mode: WriteMode,
    /// Source side: the Kafka consumer group.
    pub group_id: &'a str,
}

impl Endpoint {
    pub fn side(&self) -> Side {
        self.side
    }

    /// A JDBC table: its Flink field names are [`jdbc_name`]-encoded.
    pub fn is_jdbc(&self) -> bool {
        matches!(self.conn, Conn::Jdbc(_))
    }

    /// The `WITH (...)` options of this end's table.
    pub fn options(&self, cx: &TableContext<'_>) -> Options {
        match &self.conn {
            Conn::Jdbc(j) => self.jdbc_options(j, cx),
            Conn::Kafka(k) => self.kafka_options(k, cx),
            Conn::Filesystem { path } => {
                let mut out = vec![
                    text("connector", "filesystem"),
                    text("path", join_path(path, cx.object)),
                ];
                if let Some(f) = cx.format {
                    out.extend(f.options(""));
                }
                out
            }
        }
    }

    fn jdbc_options(&self, j: &Jdbc, cx: &TableContext<'_>) -> Options {
        let host = if j.host.contains(':') && !j.host.starts_with('[') {
            format!("[{}]", j.host)
        } else {
            j.host.clone()
        };
        let base = |scheme: &str| {
            format!(
                "jdbc:{scheme}://{host}:{}/{}",
                j.port,
                url_component(&j.database)
            )
        };
        let reading = self.side == Side::Source;
        let mut params: Vec<String> = Vec::new();
        let (url_scheme, driver) = match (j.kind, j.flavor) {
            (SourceKind::Postgres, _) => {
                params.push(format!("sslmode={}", j.ssl_mode));
                if !reading {
                    params.push("reWriteBatchedInserts=true".into());
                    // Strings bound untyped, so that a STRING column writes
                    // json, jsonb, uuid and other text-input types exactly.
                    params.push("stringtype=unspecified".into());
                }
                ("postgresql", POSTGRES_DRIVER)
            }
            // MariaDB Connector/J 3.5 sends batched `ON DUPLICATE KEY
            // UPDATE` statements as invalid SQL (seen end to end on MariaDB
            // 10.11, with and without its bulk options), so upserts into
            // MariaDB go through MySQL Connector/J, which speaks to MariaDB
            // and batches them correctly.
            (_, Flavor::Mariadb) if reading || cx.write_mode == WriteMode::Append => {
                // Flink's MySQL dialect only takes jdbc:mysql: URLs, which
                // MariaDB Connector/J accepts with permitMysqlScheme.
                params.push("permitMysqlScheme".into());
                if let Some(mode) = mariadb_ssl_mode(&j.ssl_mode) {
                    params.push(format!("sslMode={mode}"));
                }
                if reading {
                    // The binary protocol: FLOAT values arrive as their four
                    // bytes, not as the six digits MariaDB prints them with.
                    params.push("useServerPrepStmts=true".into());
                } else {
                    params.push("useBulkStmtsForInserts=true".into());
                    params.push("rewriteBatchedStatements=true".into());
                }
                ("mysql", MARIADB_DRIVER)
            }
            (_, flavor) => {
                params.push(format!("sslMode={}", j.ssl_mode.to_ascii_uppercase()));
                if reading && flavor == Flavor::Mysql {
                    // Without it Connector/J ignores the fetch size and
                    // buffers the whole result.
                    params.push("useCursorFetch=true".into());
                }
                if !reading {
                    params.push("rewriteBatchedStatements=true".into());
                }
                ("mysql", MYSQL_DRIVER)
            }
        };
        let url = format!("{}?{}", base(url_scheme), params.join("&"));
        let mut out = vec![
            text("connector", "jdbc"),
            text("url", url),
            text(
                "table-name",
                jdbc_table_name(&jdbc_table_parts(cx.object).unwrap_or_default()),
            ),
            text("driver", driver),
            text("username", j.username.clone()),
            ("password".to_owned(), OptionValue::Secret("password")),
        ];
        let o = cx.options;
        if reading {
            out.push(text(
                "scan.fetch-size",
                o.fetch_size.unwrap_or(DEFAULT_FETCH_SIZE).to_string(),
            ));
            if j.kind == SourceKind::Postgres {
                // PostgreSQL streams with a cursor only outside auto-commit.
                out.push(text("scan.auto-commit", "false"));
            }
            if let Some(pr) = &o.partitioned_read {
                out.push(text("scan.partition.column", jdbc_name(&pr.column)));
                out.push(text("scan.partition.num", pr.num.to_string()));
                out.push(text(
                    "scan.partition.lower-bound",
                    pr.lower_bound.to_string(),
                ));
                out.push(text(
                    "scan.partition.upper-bound",
                    pr.upper_bound.to_string(),
                ));
            }
        } else {
            out.push(text(
                "sink.buffer-flush.max-rows",
                o.flush_max_rows
                    .unwrap_or(DEFAULT_FLUSH_MAX_ROWS)
                    .to_string(),
            ));
            if let Some(ms) = o.flush_interval_ms {
                out.push(text("sink.buffer-flush.interval", format!("{ms}ms")));
            }
            if let Some(n) = o.max_retries {
                out.push(text("sink.max-retries", n.to_string()));
            }
        }
        out
    }

    fn kafka_options(&self, k: &Kafka, cx: &TableContext<'_>) -> Options {
        let upsert = self.side == Side::Target && cx.write_mode == WriteMode::Upsert;
        let mut out = vec![
            text("connector", if upsert { "upsert-kafka" } else { "kafka" }),
            text("topic", cx.object),
            text("properties.bootstrap.servers", k.bootstrap_servers.clone()),
        ];
        if self.side == Side::Source {
            let startup = cx.startup_mode.unwrap_or("earliest-offset");
            out.push(text("properties.group.id", cx.group_id));
            out.push(text("scan.startup.mode", startup));
            if startup == "group-offsets" {
                // Where the group has no committed offset yet.
                out.push(text("properties.auto.offset.reset", "earliest"));
            }
            if cx.mode == RuntimeMode::Batch {
                out.push(text("scan.bounded.mode", "latest-offset"));
            }
        }
        if k.security_protocol != "PLAINTEXT" {
            out.push(text(
                "properties.security.protocol",
                k.security_protocol.clone(),
            ));
        }
        if let Some((mechanism, username)) = &k.sasl {
            let module = if mechanism == "PLAIN" {
                PLAIN_LOGIN_MODULE
            } else {
                SCRAM_LOGIN_MODULE
            };
            out.push(text("properties.sasl.mechanism", mechanism.clone()));
            out.push((
                "properties.sasl.jaas.config".to_owned(),
                OptionValue::Jaas {
                    module,
                    username: username.clone(),
                    secret: "sasl_password",
                },
            ));
        }
        if let Some(f) = cx.format {
            if upsert {
                out.extend(f.options("key."));
                out.extend(f.options("value."));
            } else {
                out.extend(f.options(""));
            }
        }
        out
    }
}

/// MariaDB Connector/J's `sslMode` for the catalog's MySQL-style modes.
/// `preferred` has no MariaDB equivalent (it would need a fallback to
/// plaintext): the driver's default (no TLS) applies.
fn mariadb_ssl_mode(mode: &str) -> Option<&'static str> {
    match mode {
        "disabled" => Some("disable"),
        "required" => Some("trust"),
        "verify_ca" => Some("verify-ca"),
        "verify_identity" => Some("verify-full"),
        _ => None,
    }
}

/// The source's path joined with the job's relative object.
pub fn join_path(base: &str, object: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), object)
}

/// Column list of a PRIMARY KEY clause, in the table's Flink field names.
pub fn key_columns(columns: &[String], jdbc: bool) -> String {
    columns
        .iter()
        .map(|c| quote_identifier(&if jdbc { jdbc_name(c) } else { c.clone() }))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_with_one_slash() {
        assert_eq!(join_path("/data/in", "orders"), "/data/in/orders");
        assert_eq!(join_path("s3://b/data/", "x/y"), "s3://b/data/x/y");
        assert_eq!(join_path("s3://bucket", "x"), "s3://bucket/x");
    }

    #[test]
    fn roles() {
        for kind in SourceKind::ALL {
            assert!(can_write(kind, WriteMode::Append));
        }
        assert!(can_write(SourceKind::Postgres, WriteMode::Upsert));
        assert!(can_write(SourceKind::Mysql, WriteMode::Upsert));
        assert!(can_write(SourceKind::Kafka, WriteMode::Upsert));
        assert!(!can_write(SourceKind::Filesystem, WriteMode::Upsert));
    }

    #[test]
    fn formats_per_kind_and_side() {
        let spec = |kind: &str, d: Option<&str>, i: Option<bool>| FormatSpec {
            kind: kind.into(),
            field_delimiter: d.map(Into::into),
            ignore_parse_errors: i,
        };
        let check = |side, kind, s: Option<FormatSpec>| {
            let mut e = ValidationErrors::new();
            let f = check_format(side, kind, s.as_ref(), &mut e);
            (
                f,
                e.errors()
                    .iter()
                    .map(|e| e.field.clone())
                    .collect::<Vec<_>>(),
            )
        };
        let (f, e) = check(
            Side::Source,
            SourceKind::Kafka,
            Some(spec("avro", None, None)),
        );
        assert_eq!((f.unwrap().kind, e.len()), ("avro", 0));
        let (_, e) = check(
            Side::Source,
            SourceKind::Kafka,
            Some(spec("parquet", None, None)),
        );
        assert_eq!(e, ["source.format.type"]);
        let (_, e) = check(
            Side::Target,
            SourceKind::Filesystem,
            Some(spec("avro", None, None)),
        );
        assert_eq!(e, ["target.format.type"]);
        let (_, e) = check(Side::Source, SourceKind::Filesystem, None);
        assert_eq!(e, ["source.format"]);
        let (_, e) = check(
            Side::Target,
            SourceKind::Postgres,
            Some(spec("csv", None, None)),
        );
        assert_eq!(e, ["target.format"]);
        let (f, e) = check(
            Side::Source,
            SourceKind::Filesystem,
            Some(spec("csv", Some("\t"), Some(true))),
        );
        assert!(e.is_empty());
        assert_eq!(
            f.unwrap().options(""),
            vec![
                text("format", "csv"),
                text("csv.field-delimiter", "\\t"),
                text("csv.null-literal", "\\N"),
                text("csv.ignore-parse-errors", "true"),
            ]
        );
        for bad in ["", ";;", "a", "'", "\\", "\"", "\n", "\0", "；"] {
            let (_, e) = check(
                Side::Source,
                SourceKind::Filesystem,
                Some(spec("csv", Some(bad), None)),
            );
            assert_eq!(e, ["source.format.field_delimiter"], "{bad:?}");
        }
        let (_, e) = check(
            Side::Source,
            SourceKind::Kafka,
            Some(spec("json", Some(";"), None)),
        );
        assert_eq!(e, ["source.format.field_delimiter"]);
        let (_, e) = check(
            Side::Target,
            SourceKind::Kafka,
            Some(spec("json", None, Some(true))),
        );
        assert_eq!(e, ["target.format.ignore_parse_errors"]);
        let (_, e) = check(
            Side::Source,
            SourceKind::Filesystem,
            Some(spec("parquet", None, Some(true))),
        );
        assert_eq!(e, ["source.format.ignore_parse_errors"]);
    }

    #[test]
    fn mariadb_ssl_modes() {
        assert_eq!(mariadb_ssl_mode("disabled"), Some("disable"));
        assert_eq!(mariadb_ssl_mode("preferred"), None);
        assert_eq!(mariadb_ssl_mode("required"), Some("trust"));
        assert_eq!(mariadb_ssl_mode("verify_ca"), Some("verify-ca"));
        assert_eq!(mariadb_ssl_mode("verify_identity"), Some("verify-full"));
    }
}

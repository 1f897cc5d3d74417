//! The Flink type discovery proposes for a database column (README, "Type
//! mapping (discovery)"). Pure: the probe describes a column as its database
//! does ([`NativeColumn`]) and [`propose`] answers with a type that
//! `source.columns[].type` takes, that the compiler accepts for a JDBC table
//! and that carries every value of the column exactly through sluice's JDBC
//! dialects (README, "Exact values"), or says why there is none.
//!
//! What "exactly" rests on (infra/flink-jdbc-dialects, `ExactConverter`):
//! every column is read through the typed getter of its Flink type; a
//! `STRING` is read with `getString`, which PostgreSQL answers with the
//! type's own text output (the text its input reads back: the contract of
//! `pg_dump`), and a MySQL `TIME` read as `STRING` is formatted from its
//! `LocalTime`, to the nanosecond. `TIME` holds milliseconds and the
//! compiler refuses `TIME` above precision 3 on JDBC, so finer times travel
//! as `STRING`; binary columns are `BYTES` only; DECIMAL holds 38 digits.

use sluice_domain::model::discovery::TypeProposal;

use crate::types::{FlinkType, MAX_DECIMAL_PRECISION};

/// Which family of database a column comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeDatabase {
    Postgres,
    /// MySQL, MariaDB and TiDB.
    Mysql,
}

/// What sort of type a column has besides its base type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NativeKind {
    /// A built-in or extension base type (or a domain over one, resolved).
    #[default]
    Scalar,
    /// A PostgreSQL array of any element type.
    Array,
    /// A PostgreSQL enum type, or MySQL `ENUM(...)`.
    Enum,
    /// MySQL `SET(...)`.
    Set,
    /// A PostgreSQL composite (row) type.
    Composite,
    /// A PostgreSQL range or multirange type.
    Range,
}

/// One column's type as its database describes it.
///
/// `type_name` is the base type's name in lower case: PostgreSQL's
/// `pg_type.typname` (`int4`, `numeric`, `bpchar`, `timestamptz`, ...; the
/// SQL spellings `integer`, `character varying`, ... are taken too), MySQL's
/// `information_schema.COLUMNS.DATA_TYPE` (`int`, `decimal`, `varchar`, ...).
/// Lengths count characters (bits for `bit`); `scale` may be negative
/// (PostgreSQL 15's `numeric(p, s)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeColumn {
    pub database: NativeDatabase,
    pub kind: NativeKind,
    pub type_name: String,
    /// Declared length of character, binary and bit strings.
    pub length: Option<u32>,
    /// Declared precision of `numeric`/`decimal` (digits).
    pub precision: Option<u32>,
    /// Declared scale of `numeric`/`decimal`.
    pub scale: Option<i32>,
    /// Declared fractional-second precision of times and timestamps.
    pub datetime_precision: Option<u32>,
    /// MySQL `UNSIGNED` (or `ZEROFILL`, which implies it).
    pub unsigned: bool,
}

impl NativeColumn {
    /// A scalar column of `type_name`, nothing declared.
    pub fn new(database: NativeDatabase, type_name: &str) -> Self {
        Self {
            database,
            kind: NativeKind::Scalar,
            type_name: type_name.trim().to_ascii_lowercase(),
            length: None,
            precision: None,
            scale: None,
            datetime_precision: None,
            unsigned: false,
        }
    }

    pub fn postgres(type_name: &str) -> Self {
        Self::new(NativeDatabase::Postgres, type_name)
    }

    pub fn mysql(type_name: &str) -> Self {
        Self::new(NativeDatabase::Mysql, type_name)
    }

    pub fn kind(mut self, kind: NativeKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn length(mut self, length: u32) -> Self {
        self.length = Some(length);
        self
    }

    pub fn numeric(mut self, precision: u32, scale: i32) -> Self {
        self.precision = Some(precision);
        self.scale = Some(scale);
        self
    }

    pub fn datetime_precision(mut self, precision: u32) -> Self {
        self.datetime_precision = Some(precision);
        self
    }

    pub fn unsigned(mut self) -> Self {
        self.unsigned = true;
        self
    }
}

/// The Flink type that carries every value of `column` exactly, or why
/// there is none. Every proposed type parses with [`FlinkType::parse`] and
/// passes the compiler's JDBC checks.
pub fn propose(column: &NativeColumn) -> TypeProposal {
    let proposal = match column.database {
        NativeDatabase::Postgres => postgres(column),
        NativeDatabase::Mysql => mysql(column),
    };
    match proposal {
        Ok(ty) => TypeProposal::Supported {
            flink_type: ty.sql(),
        },
        Err(reason) => TypeProposal::Unsupported { reason },
    }
}

type Proposal = Result<FlinkType, String>;

const DECIMAL_TOO_WIDE: &str = "Flink's DECIMAL holds at most 38 digits";

/// `DECIMAL(p, s)` for a declared precision and scale, if Flink holds it.
/// A negative scale (PostgreSQL: `numeric(2, -3)` holds 12000) needs
/// `p - s` integer digits; a scale above the precision (`numeric(2, 4)`
/// holds 0.0012) needs `s` digits, all after the point.
fn decimal(precision: u32, scale: i32, native: &str) -> Proposal {
    let integer_digits = i64::from(precision) - i64::from(scale);
    let fraction_digits = i64::from(scale.max(0));
    let digits = integer_digits.max(0) + fraction_digits;
    if (1..=i64::from(MAX_DECIMAL_PRECISION)).contains(&digits) {
        Ok(FlinkType::Decimal {
            precision: digits as u32,
            scale: fraction_digits as u32,
        })
    } else {
        Err(format!(
            "{native} needs {digits} digits and {DECIMAL_TOO_WIDE}: declare STRING to carry \
             the value as exact text, or narrow the column"
        ))
    }
}

/// `TIME(p)` up to the millisecond; finer times as their exact text.
fn time(precision: u32) -> Proposal {
    Ok(if precision <= 3 {
        FlinkType::Time(precision)
    } else {
        FlinkType::STRING
    })
}

fn timestamp(precision: u32, zoned: bool) -> Proposal {
    if precision > 6 {
        return Err("the JDBC connector carries at most 6 fractional digits".into());
    }
    Ok(if zoned {
        FlinkType::TimestampLtz(precision)
    } else {
        FlinkType::Timestamp(precision)
    })
}

/// `CHAR(n)`/`VARCHAR(n)` for a declared length, `STRING` without one (or
/// with a length of 0, which Flink's types do not have).
fn chars(length: Option<u32>, fixed: bool) -> Proposal {
    Ok(match length {
        Some(n) if n >= 1 && fixed => FlinkType::Char(n),
        Some(n) if n >= 1 => FlinkType::Varchar(n),
        _ => FlinkType::STRING,
    })
}

fn postgres(c: &NativeColumn) -> Proposal {
    match c.kind {
        // The type's text form: `{1,2,NULL}`, the enum label, `(1,"a b")`,
        // `[1,5)`, which PostgreSQL reads back.
        NativeKind::Array
        | NativeKind::Enum
        | NativeKind::Set
        | NativeKind::Composite
        | NativeKind::Range => return Ok(FlinkType::STRING),
        NativeKind::Scalar => {}
    }
    match c.type_name.as_str() {
        "bool" | "boolean" => Ok(FlinkType::Boolean),
        "int2" | "smallint" | "smallserial" | "serial2" => Ok(FlinkType::SmallInt),
        "int4" | "integer" | "int" | "serial" | "serial4" => Ok(FlinkType::Int),
        "int8" | "bigint" | "bigserial" | "serial8" => Ok(FlinkType::BigInt),
        // An unsigned 32-bit number.
        "oid" => Ok(FlinkType::BigInt),
        "float4" | "real" => Ok(FlinkType::Float),
        "float8" | "double precision" => Ok(FlinkType::Double),
        "numeric" | "decimal" => match (c.precision, c.scale) {
            (Some(p), s) => decimal(
                p,
                s.unwrap_or(0),
                &format!("numeric({p}, {})", s.unwrap_or(0)),
            ),
            // Any number of digits on either side of the point (and NaN,
            // ±Infinity): its exact text.
            (None, _) => Ok(FlinkType::STRING),
        },
        "money" => Err(
            "money's text depends on the server's lc_monetary (currency sign, separators): \
             read it through a view as numeric(p, 2), or cast it to numeric"
                .into(),
        ),
        "bpchar" | "character" | "char" => chars(c.length, true),
        "varchar" | "character varying" => chars(c.length, false),
        "text" | "name" | "citext" => Ok(FlinkType::STRING),
        "bytea" => Ok(FlinkType::BYTES),
        "date" => Ok(FlinkType::Date),
        "time" | "time without time zone" => time(c.datetime_precision.unwrap_or(6)),
        // Flink has no time with an offset: its text, `12:00:00.5+02`.
        "timetz" | "time with time zone" => Ok(FlinkType::STRING),
        "timestamp" | "timestamp without time zone" => {
            timestamp(c.datetime_precision.unwrap_or(6), false)
        }
        "timestamptz" | "timestamp with time zone" => {
            timestamp(c.datetime_precision.unwrap_or(6), true)
        }
        // Everything else is carried as the text PostgreSQL writes and
        // reads back: interval, json, jsonb, uuid, xml, inet, cidr,
        // macaddr, bit strings, geometric types, text search types, pg_lsn,
        // extension types (citext, hstore, PostGIS geometry as hex EWKB).
        // `bit(1)` too: read as BOOLEAN it could not be written back, as
        // PostgreSQL has no cast from boolean to bit (a sync of a bit(1)
        // column into its twin failed end to end); its text `0`/`1` goes
        // into bit and boolean columns alike.
        _ => Ok(FlinkType::STRING),
    }
}

const SPATIAL: &[&str] = &[
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
];

fn mysql(c: &NativeColumn) -> Proposal {
    match c.kind {
        NativeKind::Enum | NativeKind::Set => return Ok(FlinkType::STRING),
        NativeKind::Array | NativeKind::Composite | NativeKind::Range => {
            return Err("MySQL has no such type".into());
        }
        NativeKind::Scalar => {}
    }
    let unsigned = c.unsigned;
    match c.type_name.as_str() {
        // TINYINT(1) is MySQL's BOOLEAN, but it holds -128..127: TINYINT
        // carries every value, BOOLEAN only 0 and 1.
        "tinyint" | "bool" | "boolean" if unsigned => Ok(FlinkType::SmallInt),
        "tinyint" | "bool" | "boolean" => Ok(FlinkType::TinyInt),
        "smallint" if unsigned => Ok(FlinkType::Int),
        "smallint" => Ok(FlinkType::SmallInt),
        // Signed or not (at most 16,777,215), it fits INT.
        "mediumint" => Ok(FlinkType::Int),
        "int" | "integer" if unsigned => Ok(FlinkType::BigInt),
        "int" | "integer" => Ok(FlinkType::Int),
        "bigint" if unsigned => Ok(FlinkType::Decimal {
            precision: 20,
            scale: 0,
        }),
        "bigint" => Ok(FlinkType::BigInt),
        "decimal" | "numeric" | "dec" | "fixed" => {
            let p = c.precision.unwrap_or(10);
            let s = c.scale.unwrap_or(0);
            decimal(p, s, &format!("decimal({p},{s})"))
        }
        "float" => Ok(FlinkType::Float),
        "double" | "double precision" | "real" => Ok(FlinkType::Double),
        "bit" if c.length.unwrap_or(1) == 1 => Ok(FlinkType::Boolean),
        // Its ⌈n/8⌉ bytes, most significant first, as the drivers return them.
        "bit" => Ok(FlinkType::BYTES),
        "char" => chars(c.length, true),
        "varchar" => chars(c.length, false),
        "tinytext" | "text" | "mediumtext" | "longtext" | "json" | "enum" | "set" | "uuid"
        | "inet4" | "inet6" => Ok(FlinkType::STRING),
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            Ok(FlinkType::BYTES)
        }
        "date" => Ok(FlinkType::Date),
        "datetime" => timestamp(c.datetime_precision.unwrap_or(0), false),
        "timestamp" => Err(
            "MySQL converts a TIMESTAMP by the session's time zone, which sluice's JDBC \
             connections do not fix, so no Flink type carries it exactly: store instants as \
             DATETIME(p) in UTC (README, \"Exact values\"), or read the column through a view \
             that converts it to UTC"
                .into(),
        ),
        "time" => time(c.datetime_precision.unwrap_or(0)),
        "year" => Ok(FlinkType::SmallInt),
        name if SPATIAL.contains(&name) => Err(
            "Flink has no spatial type: read the column through a view as ST_AsText (STRING) \
             or ST_AsWKB (BYTES)"
                .into(),
        ),
        name => Err(format!(
            "sluice has no mapping for the MySQL type {}",
            printable(name)
        )),
    }
}

/// A type name for a message: ASCII letters, digits, `_` and spaces only
/// (names come from the database, but a message quotes nothing odd).
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ' ')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use sluice_domain::model::job::JobSpec;
    use sluice_domain::{Source, SourceId, SourceKind, TenantId};

    use super::*;
    use crate::FlinkSqlCompiler;

    use NativeKind::{Array, Composite, Enum, Range, Set};

    fn pg(name: &str) -> NativeColumn {
        NativeColumn::postgres(name)
    }

    fn my(name: &str) -> NativeColumn {
        NativeColumn::mysql(name)
    }

    /// Every row of the README's PostgreSQL table: the column, then the
    /// proposed type or `!` and a word of the reason.
    fn postgres_rows() -> Vec<(NativeColumn, &'static str)> {
        vec![
            (pg("bool"), "BOOLEAN"),
            (pg("boolean"), "BOOLEAN"),
            (pg("int2"), "SMALLINT"),
            (pg("smallint"), "SMALLINT"),
            (pg("int4"), "INT"),
            (pg("integer"), "INT"),
            (pg("int8"), "BIGINT"),
            (pg("bigint"), "BIGINT"),
            (pg("oid"), "BIGINT"),
            (pg("float4"), "FLOAT"),
            (pg("real"), "FLOAT"),
            (pg("float8"), "DOUBLE"),
            (pg("double precision"), "DOUBLE"),
            (pg("numeric").numeric(12, 2), "DECIMAL(12, 2)"),
            (pg("numeric").numeric(38, 0), "DECIMAL(38, 0)"),
            (pg("numeric").numeric(38, 38), "DECIMAL(38, 38)"),
            (pg("numeric").numeric(1, 0), "DECIMAL(1, 0)"),
            (pg("decimal").numeric(9, 4), "DECIMAL(9, 4)"),
            (pg("numeric").numeric(2, -3), "DECIMAL(5, 0)"),
            (pg("numeric").numeric(2, 4), "DECIMAL(4, 4)"),
            (pg("numeric").numeric(39, 2), "!38 digits"),
            (pg("numeric").numeric(36, -3), "!38 digits"),
            (pg("numeric").numeric(1000, 0), "!38 digits"),
            (pg("numeric"), "STRING"),
            (pg("money"), "!lc_monetary"),
            (pg("bpchar").length(10), "CHAR(10)"),
            (pg("character").length(1), "CHAR(1)"),
            (pg("bpchar"), "STRING"),
            (pg("char"), "STRING"),
            (pg("varchar").length(255), "VARCHAR(255)"),
            (
                pg("character varying").length(10485760),
                "VARCHAR(10485760)",
            ),
            (pg("varchar"), "STRING"),
            (pg("text"), "STRING"),
            (pg("name"), "STRING"),
            (pg("citext"), "STRING"),
            (pg("bytea"), "BYTES"),
            (pg("date"), "DATE"),
            (pg("time").datetime_precision(0), "TIME(0)"),
            (pg("time").datetime_precision(3), "TIME(3)"),
            (pg("time").datetime_precision(4), "STRING"),
            (pg("time").datetime_precision(6), "STRING"),
            (pg("time"), "STRING"),
            (
                pg("time without time zone").datetime_precision(2),
                "TIME(2)",
            ),
            (pg("timetz").datetime_precision(3), "STRING"),
            (pg("time with time zone"), "STRING"),
            (pg("timestamp").datetime_precision(0), "TIMESTAMP(0)"),
            (pg("timestamp").datetime_precision(3), "TIMESTAMP(3)"),
            (pg("timestamp"), "TIMESTAMP(6)"),
            (pg("timestamp without time zone"), "TIMESTAMP(6)"),
            (pg("timestamptz").datetime_precision(0), "TIMESTAMP_LTZ(0)"),
            (pg("timestamptz").datetime_precision(3), "TIMESTAMP_LTZ(3)"),
            (pg("timestamptz"), "TIMESTAMP_LTZ(6)"),
            (pg("timestamp with time zone"), "TIMESTAMP_LTZ(6)"),
            (pg("interval"), "STRING"),
            (pg("interval").datetime_precision(3), "STRING"),
            (pg("json"), "STRING"),
            (pg("jsonb"), "STRING"),
            (pg("uuid"), "STRING"),
            (pg("xml"), "STRING"),
            (pg("inet"), "STRING"),
            (pg("cidr"), "STRING"),
            (pg("macaddr"), "STRING"),
            (pg("macaddr8"), "STRING"),
            (pg("bit").length(1), "STRING"),
            (pg("bit").length(8), "STRING"),
            (pg("varbit").length(16), "STRING"),
            (pg("varbit"), "STRING"),
            (pg("point"), "STRING"),
            (pg("line"), "STRING"),
            (pg("lseg"), "STRING"),
            (pg("box"), "STRING"),
            (pg("path"), "STRING"),
            (pg("polygon"), "STRING"),
            (pg("circle"), "STRING"),
            (pg("tsvector"), "STRING"),
            (pg("tsquery"), "STRING"),
            (pg("pg_lsn"), "STRING"),
            (pg("hstore"), "STRING"),
            (pg("int4").kind(Array), "STRING"),
            (pg("text").kind(Array), "STRING"),
            (pg("mood").kind(Enum), "STRING"),
            (pg("address").kind(Composite), "STRING"),
            (pg("int4range").kind(Range), "STRING"),
            (pg("tstzmultirange").kind(Range), "STRING"),
        ]
    }

    fn mysql_rows() -> Vec<(NativeColumn, &'static str)> {
        vec![
            (my("tinyint"), "TINYINT"),
            (my("tinyint").length(1), "TINYINT"),
            (my("tinyint").unsigned(), "SMALLINT"),
            (my("smallint"), "SMALLINT"),
            (my("smallint").unsigned(), "INT"),
            (my("mediumint"), "INT"),
            (my("mediumint").unsigned(), "INT"),
            (my("int"), "INT"),
            (my("integer"), "INT"),
            (my("int").unsigned(), "BIGINT"),
            (my("bigint"), "BIGINT"),
            (my("bigint").unsigned(), "DECIMAL(20, 0)"),
            (my("decimal").numeric(12, 2), "DECIMAL(12, 2)"),
            (my("decimal").numeric(38, 30), "DECIMAL(38, 30)"),
            (my("decimal").numeric(10, 0).unsigned(), "DECIMAL(10, 0)"),
            (my("decimal"), "DECIMAL(10, 0)"),
            (my("numeric").numeric(5, 5), "DECIMAL(5, 5)"),
            (my("decimal").numeric(39, 0), "!38 digits"),
            (my("decimal").numeric(65, 30), "!38 digits"),
            (my("float"), "FLOAT"),
            (my("float").unsigned(), "FLOAT"),
            (my("double"), "DOUBLE"),
            (my("real"), "DOUBLE"),
            (my("bit").length(1), "BOOLEAN"),
            (my("bit").length(2), "BYTES"),
            (my("bit").length(64), "BYTES"),
            (my("bool"), "TINYINT"),
            (my("char").length(10), "CHAR(10)"),
            (my("char").length(255), "CHAR(255)"),
            (my("char").length(0), "STRING"),
            (my("varchar").length(40), "VARCHAR(40)"),
            (my("varchar").length(65535), "VARCHAR(65535)"),
            (my("varchar").length(0), "STRING"),
            (my("tinytext"), "STRING"),
            (my("text"), "STRING"),
            (my("mediumtext"), "STRING"),
            (my("longtext"), "STRING"),
            (my("json"), "STRING"),
            (my("enum").kind(Enum), "STRING"),
            (my("set").kind(Set), "STRING"),
            (my("uuid"), "STRING"),
            (my("inet4"), "STRING"),
            (my("inet6"), "STRING"),
            (my("binary").length(16), "BYTES"),
            (my("varbinary").length(255), "BYTES"),
            (my("tinyblob"), "BYTES"),
            (my("blob"), "BYTES"),
            (my("mediumblob"), "BYTES"),
            (my("longblob"), "BYTES"),
            (my("date"), "DATE"),
            (my("datetime"), "TIMESTAMP(0)"),
            (my("datetime").datetime_precision(3), "TIMESTAMP(3)"),
            (my("datetime").datetime_precision(6), "TIMESTAMP(6)"),
            (my("timestamp"), "!time zone"),
            (my("timestamp").datetime_precision(6), "!time zone"),
            (my("time"), "TIME(0)"),
            (my("time").datetime_precision(3), "TIME(3)"),
            (my("time").datetime_precision(4), "STRING"),
            (my("time").datetime_precision(6), "STRING"),
            (my("year"), "SMALLINT"),
            (my("geometry"), "!spatial"),
            (my("point"), "!spatial"),
            (my("linestring"), "!spatial"),
            (my("polygon"), "!spatial"),
            (my("multipoint"), "!spatial"),
            (my("multilinestring"), "!spatial"),
            (my("multipolygon"), "!spatial"),
            (my("geometrycollection"), "!spatial"),
            (my("vector"), "!no mapping"),
        ]
    }

    fn check_rows(rows: Vec<(NativeColumn, &'static str)>) -> Vec<String> {
        let mut supported = Vec::new();
        for (column, expected) in rows {
            match (propose(&column), expected.strip_prefix('!')) {
                (TypeProposal::Supported { flink_type }, None) => {
                    assert_eq!(flink_type, expected, "{column:?}");
                    let parsed = FlinkType::parse(&flink_type).expect("a proposal parses");
                    assert_eq!(parsed.sql(), flink_type, "canonical: {column:?}");
                    supported.push(flink_type);
                }
                (TypeProposal::Unsupported { reason }, Some(word)) => {
                    assert!(reason.contains(word), "{column:?}: {reason}");
                }
                (got, _) => panic!("{column:?}: expected {expected}, got {got:?}"),
            }
        }
        supported
    }

    fn source(id: &str, kind: SourceKind) -> Source {
        let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let config = match kind {
            SourceKind::Postgres => json!({"host": "db", "port": 5432, "database": "d",
                "username": "u", "ssl_mode": "prefer"}),
            _ => json!({"host": "db", "port": 3306, "database": "d", "username": "u",
                "flavor": "mariadb", "ssl_mode": "preferred"}),
        };
        Source {
            id: SourceId::parse(id).unwrap(),
            tenant: TenantId::parse("acme").unwrap(),
            name: "db".into(),
            kind,
            config: config.as_object().unwrap().clone(),
            secret_fields: vec!["password".into()],
            sealed_secrets: None,
            secrets_updated_at: Some(at),
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// The compiler takes every proposed type on both ends of a job
    /// between two databases of the kind.
    fn compiler_accepts(kind: SourceKind, types: &[String]) {
        let columns: Vec<_> = types
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"name": format!("c{i}"), "type": t}))
            .collect();
        let spec: JobSpec = serde_json::from_value(json!({
            "name": "discovered",
            "source": {"source_id": "src_01J0000000000000000000000A", "object": "t",
                       "columns": columns},
            "target": {"source_id": "src_01J0000000000000000000000B", "object": "u",
                       "write_mode": "append"},
            "options": {"mode": "batch", "parallelism": 1}
        }))
        .unwrap();
        let plan = FlinkSqlCompiler.plan(
            &spec,
            &source("src_01J0000000000000000000000A", kind),
            &source("src_01J0000000000000000000000B", kind),
        );
        if let Err(errors) = plan {
            panic!("{kind}: {errors:?}");
        }
    }

    #[test]
    fn every_postgres_row_proposes_its_documented_type() {
        let supported = check_rows(postgres_rows());
        compiler_accepts(SourceKind::Postgres, &supported);
    }

    #[test]
    fn every_mysql_row_proposes_its_documented_type() {
        let supported = check_rows(mysql_rows());
        compiler_accepts(SourceKind::Mysql, &supported);
    }

    #[test]
    fn names_are_taken_in_any_case_and_reasons_quote_nothing_odd() {
        assert_eq!(
            propose(&NativeColumn::postgres(" TimestampTZ ")),
            TypeProposal::Supported {
                flink_type: "TIMESTAMP_LTZ(6)".into()
            }
        );
        let TypeProposal::Unsupported { reason } =
            propose(&NativeColumn::mysql("x'); DROP TABLE t; --"))
        else {
            panic!("an unknown type is unsupported");
        };
        assert!(!reason.contains('\''), "{reason}");
        assert!(!reason.contains(';'), "{reason}");
    }

    #[test]
    fn times_finer_than_the_millisecond_and_wide_decimals_never_get_a_lossy_type() {
        for p in 0..=6 {
            for db in [NativeDatabase::Postgres, NativeDatabase::Mysql] {
                let got = propose(&NativeColumn::new(db, "time").datetime_precision(p));
                let expected = if p <= 3 {
                    format!("TIME({p})")
                } else {
                    "STRING".to_owned()
                };
                assert_eq!(
                    got,
                    TypeProposal::Supported {
                        flink_type: expected
                    }
                );
            }
        }
        for p in 1..=1000u32 {
            for s in [-10, 0, 5] {
                let got = propose(&pg("numeric").numeric(p, s));
                let digits = i64::from(p) - i64::from(s).min(0);
                match got {
                    TypeProposal::Supported { flink_type } => {
                        let Ok(FlinkType::Decimal { precision, scale }) =
                            FlinkType::parse(&flink_type)
                        else {
                            panic!("{flink_type}");
                        };
                        assert!(i64::from(precision) >= digits.min(38), "{p},{s}");
                        assert_eq!(i64::from(scale), i64::from(s.max(0)));
                    }
                    TypeProposal::Unsupported { .. } => {
                        assert!(digits.max(i64::from(s)) > 38, "{p},{s}")
                    }
                }
            }
        }
    }
}

//! The DDL of target tables sluice creates or extends (README, "Target
//! tables and schema drift"): each column's Flink type mapped to the target's own type that
//! sluice's JDBC dialects write exactly (infra/flink-jdbc-dialects,
//! `ExactConverter`), every name quoted. Pure: the probes run the text.
//!
//! The types are chosen so that what Flink carries is stored as it is:
//! `CHAR(n)` becomes a `VARCHAR(n)` (a `CHAR` column pads or strips trailing
//! spaces), strings and bytes without a small bound the unbounded text and
//! binary types, `TIMESTAMP_LTZ` an instant (PostgreSQL) or the UTC
//! `DATETIME` the MySQL dialect writes, MySQL tables `utf8mb4` with a
//! binary collation (keys that differ only in case or accents stay apart),
//! a string key column sized to its share of InnoDB's 3072-byte key.

use chrono::{DateTime, NaiveTime, Utc};
use sluice_domain::model::discovery::{CountWindow, TableColumn, TableSpec, WindowBound};
use sluice_flinksql::types::FlinkType;

/// Which SQL a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    /// MySQL and MariaDB.
    Mysql,
}

/// PostgreSQL's widest `varchar(n)`; wider strings are `text`.
const POSTGRES_VARCHAR_MAX: u32 = 10_485_760;
/// MySQL's widest bounded string kept inline; longer ones are `LONGTEXT`.
const MYSQL_VARCHAR_MAX: u32 = 255;
/// The widest key InnoDB indexes (bytes, all key columns together).
const MYSQL_KEY_BYTES: u32 = 3072;
/// What a key column of a fixed-width type takes of it at most (DECIMAL(38)
/// takes 17 bytes, DATETIME(6) 8).
const MYSQL_FIXED_KEY_BYTES: u32 = 17;
/// Bytes a utf8mb4 character may take.
const UTF8MB4_BYTES: u32 = 4;
/// Digits after the point MySQL's DECIMAL holds.
const MYSQL_MAX_SCALE: u32 = 30;

impl Dialect {
    /// An identifier quoted, its quote character doubled.
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A table name of one or two parts, quoted.
    pub fn table(self, parts: &[String]) -> String {
        parts
            .iter()
            .map(|p| self.quote(p))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The target type of a column of `flink_type`; `key_bytes` for a
    /// column of the primary key: what its share of MySQL's index width is
    /// (MySQL indexes bounded strings only).
    pub fn column_type(self, flink_type: &str, key_bytes: Option<u32>) -> Result<String, String> {
        let ty = FlinkType::parse(flink_type)?;
        match self {
            Dialect::Postgres => Ok(postgres_type(ty)),
            Dialect::Mysql => mysql_type(ty, key_bytes),
        }
    }

    /// Each string or binary key column's share of MySQL's index width:
    /// what the fixed-width key columns leave, split evenly.
    fn key_share(spec: &TableSpec) -> u32 {
        let key_types: Vec<Option<FlinkType>> = spec
            .primary_key
            .iter()
            .map(|k| {
                spec.columns
                    .iter()
                    .find(|c| &c.name == k)
                    .and_then(|c| FlinkType::parse(&c.flink_type).ok())
            })
            .collect();
        let strings = key_types.iter().filter(|t| is_string(**t)).count() as u32;
        let fixed = key_types.len() as u32 - strings;
        MYSQL_KEY_BYTES.saturating_sub(fixed * MYSQL_FIXED_KEY_BYTES) / strings.max(1)
    }

    /// `CREATE TABLE IF NOT EXISTS` of `spec` on the table `parts`.
    pub fn create_table(self, parts: &[String], spec: &TableSpec) -> Result<String, String> {
        let mut defs = Vec::with_capacity(spec.columns.len() + 1);
        let share = Self::key_share(spec);
        for column in &spec.columns {
            let in_key = spec.primary_key.contains(&column.name);
            let ty = self
                .column_type(&column.flink_type, in_key.then_some(share))
                .map_err(|reason| format!("column {}: {reason}", column.name))?;
            let null = if column.nullable && !in_key {
                ""
            } else {
                " NOT NULL"
            };
            defs.push(format!("{} {ty}{null}", self.quote(&column.name)));
        }
        if !spec.primary_key.is_empty() {
            let key: Vec<String> = spec.primary_key.iter().map(|k| self.quote(k)).collect();
            defs.push(format!("PRIMARY KEY ({})", key.join(", ")));
        }
        let tail = match self {
            Dialect::Postgres => "",
            Dialect::Mysql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
        };
        Ok(format!(
            "CREATE TABLE IF NOT EXISTS {} ({}){tail}",
            self.table(parts),
            defs.join(", ")
        ))
    }

    /// `ALTER TABLE ... ADD COLUMN` of one nullable column. PostgreSQL
    /// skips a column that exists; MySQL answers 1060, which the probe
    /// takes as the same.
    pub fn add_column(self, parts: &[String], column: &TableColumn) -> Result<String, String> {
        let ty = self
            .column_type(&column.flink_type, None)
            .map_err(|reason| format!("column {}: {reason}", column.name))?;
        let if_missing = match self {
            Dialect::Postgres => "IF NOT EXISTS ",
            Dialect::Mysql => "",
        };
        Ok(format!(
            "ALTER TABLE {} ADD COLUMN {if_missing}{} {ty} NULL",
            self.table(parts),
            self.quote(&column.name)
        ))
    }
}

fn postgres_type(ty: FlinkType) -> String {
    match ty {
        FlinkType::Boolean => "boolean".into(),
        // PostgreSQL has no one-byte integer.
        FlinkType::TinyInt | FlinkType::SmallInt => "smallint".into(),
        FlinkType::Int => "integer".into(),
        FlinkType::BigInt => "bigint".into(),
        FlinkType::Decimal { precision, scale } => format!("numeric({precision}, {scale})"),
        FlinkType::Float => "real".into(),
        FlinkType::Double => "double precision".into(),
        FlinkType::Char(n) | FlinkType::Varchar(n) if n <= POSTGRES_VARCHAR_MAX => {
            format!("varchar({n})")
        }
        FlinkType::Char(_) | FlinkType::Varchar(_) => "text".into(),
        FlinkType::Binary(_) | FlinkType::Varbinary(_) => "bytea".into(),
        FlinkType::Date => "date".into(),
        FlinkType::Time(p) => format!("time({p})"),
        FlinkType::Timestamp(p) => format!("timestamp({p})"),
        FlinkType::TimestampLtz(p) => format!("timestamptz({p})"),
    }
}

fn is_string(ty: Option<FlinkType>) -> bool {
    matches!(
        ty,
        Some(
            FlinkType::Char(_)
                | FlinkType::Varchar(_)
                | FlinkType::Binary(_)
                | FlinkType::Varbinary(_)
        )
    )
}

fn mysql_type(ty: FlinkType, key_bytes: Option<u32>) -> Result<String, String> {
    Ok(match ty {
        FlinkType::Boolean => "BOOLEAN".into(),
        FlinkType::TinyInt => "TINYINT".into(),
        FlinkType::SmallInt => "SMALLINT".into(),
        FlinkType::Int => "INT".into(),
        FlinkType::BigInt => "BIGINT".into(),
        FlinkType::Decimal { scale, .. } if scale > MYSQL_MAX_SCALE => {
            return Err(format!(
                "MySQL's DECIMAL holds at most {MYSQL_MAX_SCALE} digits after the point"
            ));
        }
        FlinkType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
        FlinkType::Float => "FLOAT".into(),
        FlinkType::Double => "DOUBLE".into(),
        FlinkType::Char(n) | FlinkType::Varchar(n) if let Some(bytes) = key_bytes => {
            format!("VARCHAR({})", n.min(bytes / UTF8MB4_BYTES))
        }
        FlinkType::Char(n) | FlinkType::Varchar(n) if n <= MYSQL_VARCHAR_MAX => {
            format!("VARCHAR({n})")
        }
        FlinkType::Char(_) | FlinkType::Varchar(_) => "LONGTEXT".into(),
        FlinkType::Binary(n) | FlinkType::Varbinary(n) if let Some(bytes) = key_bytes => {
            format!("VARBINARY({})", n.min(bytes))
        }
        FlinkType::Binary(n) | FlinkType::Varbinary(n) if n <= MYSQL_VARCHAR_MAX => {
            format!("VARBINARY({n})")
        }
        FlinkType::Binary(_) | FlinkType::Varbinary(_) => "LONGBLOB".into(),
        FlinkType::Date => "DATE".into(),
        FlinkType::Time(p) => format!("TIME({p})"),
        // The dialect writes an instant as its UTC date and time.
        FlinkType::Timestamp(p) | FlinkType::TimestampLtz(p) => format!("DATETIME({p})"),
    })
}

/// `validate: count` (README, "Validation"): the rows of a table, or those
/// of a run's window compared as Flink compares it (the bounds come from
/// instants, never from a user's text).
impl Dialect {
    pub fn count(self, parts: &[String], window: Option<&CountWindow>) -> String {
        let table = self.table(parts);
        let Some(w) = window else {
            return format!("SELECT COUNT(*) FROM {table}");
        };
        let column = self.quote(&w.column);
        let (from, to) = (self.bound(w.bound, w.from), self.bound(w.bound, w.to));
        format!("SELECT COUNT(*) FROM {table} WHERE {column} >= {from} AND {column} < {to}")
    }

    /// A window's end as a literal of the column's kind: a date moves to
    /// the next midnight, a timestamp keeps its wall-clock time in UTC (up
    /// to the microseconds both databases store, rounded up so that `<` and
    /// `>=` keep their meaning), an instant Flink's milliseconds.
    fn bound(self, bound: WindowBound, at: DateTime<Utc>) -> String {
        let naive = at.naive_utc();
        match bound {
            WindowBound::Date => {
                let mut day = naive.date();
                if naive.time() != NaiveTime::MIN {
                    day = day.succ_opt().unwrap_or(day);
                }
                format!("DATE '{}'", day.format("%Y-%m-%d"))
            }
            WindowBound::Timestamp => {
                let nanos = naive.and_utc().timestamp_subsec_nanos();
                let rounded = match nanos % 1000 {
                    0 => naive,
                    rest => naive + chrono::Duration::nanoseconds(i64::from(1000 - rest)),
                };
                format!("TIMESTAMP '{}'", rounded.format("%Y-%m-%d %H:%M:%S%.6f"))
            }
            WindowBound::Instant => {
                let millis = DateTime::<Utc>::from_timestamp_millis(at.timestamp_millis())
                    .unwrap_or(at)
                    .naive_utc();
                let text = millis.format("%Y-%m-%d %H:%M:%S%.3f");
                match self {
                    Dialect::Postgres => format!("TIMESTAMPTZ '{text}+00'"),
                    // The MySQL dialect writes instants as UTC DATETIMEs.
                    Dialect::Mysql => format!("TIMESTAMP '{text}'"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TableSpec {
        let col = |name: &str, ty: &str, nullable| TableColumn {
            name: name.into(),
            flink_type: ty.into(),
            nullable,
        };
        TableSpec {
            object: "x".into(),
            columns: vec![
                col("select", "STRING", false),
                col("id", "BIGINT", false),
                col("名 \"`", "DECIMAL(12, 2)", true),
                col("at", "TIMESTAMP_LTZ(3)", true),
            ],
            primary_key: vec!["select".into(), "id".into()],
        }
    }

    #[test]
    fn every_flink_type_has_a_target_type_in_each_dialect() {
        for (flink, postgres, mysql) in [
            ("BOOLEAN", "boolean", "BOOLEAN"),
            ("TINYINT", "smallint", "TINYINT"),
            ("SMALLINT", "smallint", "SMALLINT"),
            ("INT", "integer", "INT"),
            ("BIGINT", "bigint", "BIGINT"),
            ("DECIMAL(38, 38)", "numeric(38, 38)", "!30 digits"),
            ("DECIMAL(20, 0)", "numeric(20, 0)", "DECIMAL(20,0)"),
            ("FLOAT", "real", "FLOAT"),
            ("DOUBLE", "double precision", "DOUBLE"),
            ("CHAR(10)", "varchar(10)", "VARCHAR(10)"),
            ("VARCHAR(255)", "varchar(255)", "VARCHAR(255)"),
            ("VARCHAR(256)", "varchar(256)", "LONGTEXT"),
            ("STRING", "text", "LONGTEXT"),
            ("BYTES", "bytea", "LONGBLOB"),
            ("VARBINARY(16)", "bytea", "VARBINARY(16)"),
            ("DATE", "date", "DATE"),
            ("TIME(3)", "time(3)", "TIME(3)"),
            ("TIMESTAMP(6)", "timestamp(6)", "DATETIME(6)"),
            ("TIMESTAMP_LTZ(0)", "timestamptz(0)", "DATETIME(0)"),
        ] {
            assert_eq!(
                Dialect::Postgres.column_type(flink, None).unwrap(),
                postgres
            );
            match mysql.strip_prefix('!') {
                Some(reason) => {
                    let e = Dialect::Mysql.column_type(flink, None).unwrap_err();
                    assert!(e.contains(reason), "{flink}: {e}");
                }
                None => assert_eq!(Dialect::Mysql.column_type(flink, None).unwrap(), mysql),
            }
        }
        assert_eq!(
            Dialect::Mysql.column_type("STRING", Some(3072)).unwrap(),
            "VARCHAR(768)"
        );
        assert_eq!(
            Dialect::Mysql
                .column_type("VARCHAR(10)", Some(3072))
                .unwrap(),
            "VARCHAR(10)"
        );
        assert_eq!(
            Dialect::Mysql.column_type("BYTES", Some(1000)).unwrap(),
            "VARBINARY(1000)"
        );
    }

    #[test]
    fn names_are_quoted_and_the_key_is_not_null() {
        let parts = vec!["my \"schema".to_owned(), "order".to_owned()];
        assert_eq!(
            Dialect::Postgres.create_table(&parts, &spec()).unwrap(),
            "CREATE TABLE IF NOT EXISTS \"my \"\"schema\".\"order\" (\"select\" text NOT NULL, \
             \"id\" bigint NOT NULL, \"名 \"\"`\" numeric(12, 2), \"at\" timestamptz(3), \
             PRIMARY KEY (\"select\", \"id\"))"
        );
        assert_eq!(
            Dialect::Mysql
                .create_table(&["order".to_owned()], &spec())
                .unwrap(),
            "CREATE TABLE IF NOT EXISTS `order` (`select` VARCHAR(763) NOT NULL, \
             `id` BIGINT NOT NULL, `名 \"``` DECIMAL(12,2), `at` DATETIME(3), \
             PRIMARY KEY (`select`, `id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 \
             COLLATE=utf8mb4_bin"
        );
        let column = TableColumn {
            name: "new`".into(),
            flink_type: "INT".into(),
            nullable: true,
        };
        assert_eq!(
            Dialect::Mysql
                .add_column(&["t".to_owned()], &column)
                .unwrap(),
            "ALTER TABLE `t` ADD COLUMN `new``` INT NULL"
        );
        assert_eq!(
            Dialect::Postgres
                .add_column(&["t".to_owned()], &column)
                .unwrap(),
            "ALTER TABLE \"t\" ADD COLUMN IF NOT EXISTS \"new`\" integer NULL"
        );
    }

    #[test]
    fn counts_read_the_window_as_flink_does() {
        use chrono::TimeZone;
        let parts = vec!["public".to_owned(), "Order \"x\"".to_owned()];
        assert_eq!(
            Dialect::Postgres.count(&parts, None),
            "SELECT COUNT(*) FROM \"public\".\"Order \"\"x\"\"\""
        );
        let window = |bound| CountWindow {
            column: "up`d".into(),
            bound,
            from: Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap(),
            to: Utc.timestamp_opt(1_706_742_000, 123_456_789).unwrap() + chrono::Duration::days(1),
        };
        let mysql = |bound| Dialect::Mysql.count(&["t".to_owned()], Some(&window(bound)));
        assert_eq!(
            mysql(WindowBound::Date),
            "SELECT COUNT(*) FROM `t` WHERE `up``d` >= DATE '2024-02-01' AND `up``d` < DATE '2024-02-02'"
        );
        assert_eq!(
            mysql(WindowBound::Timestamp),
            "SELECT COUNT(*) FROM `t` WHERE `up``d` >= TIMESTAMP '2024-01-31 23:00:00.000000' \
             AND `up``d` < TIMESTAMP '2024-02-01 23:00:00.123457'"
        );
        assert_eq!(
            mysql(WindowBound::Instant),
            "SELECT COUNT(*) FROM `t` WHERE `up``d` >= TIMESTAMP '2024-01-31 23:00:00.000' \
             AND `up``d` < TIMESTAMP '2024-02-01 23:00:00.123'"
        );
        assert_eq!(
            Dialect::Postgres.count(&["t".to_owned()], Some(&window(WindowBound::Instant))),
            "SELECT COUNT(*) FROM \"t\" WHERE \"up`d\" >= TIMESTAMPTZ '2024-01-31 23:00:00.000+00' \
             AND \"up`d\" < TIMESTAMPTZ '2024-02-01 23:00:00.123+00'"
        );
    }
}

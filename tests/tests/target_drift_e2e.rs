//! Target tables and schema drift end to end (issue #14, README "Target
//! tables", "Schema drift"), from PostgreSQL into MariaDB on the local
//! stack:
//! - a job with `target.create: if_missing` over a table with a column of
//!   every kind of type discovery maps (names with a reserved word, spaces
//!   and unicode) creates its missing MariaDB table before Flink starts; the
//!   run succeeds and every column's values are equal in the target (each
//!   value compared as exact text, floats as the same double); a second run
//!   changes nothing;
//! - with `never`, a missing target fails the run `target_missing` naming
//!   the table, and no Flink job starts;
//! - a column added, one dropped and one retyped in the source between runs
//!   fail the next run `schema_drift` (no Flink job), the message naming
//!   each; with `add_columns`, an added column is added to the target and
//!   the job, and its values are copied.
//!
//! Run with `make test`.

use serde_json::{Value, json};
use sluice_tests::{Api, create_job, db, fresh_tenant, wait_for_run_end};

/// How a column's values are compared: the text each database writes for
/// them, chosen to be the same text for the same value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Integers and decimals (every digit of the scale).
    Number,
    Bool,
    /// Parsed as a double on both sides: the same bits.
    Float,
    /// The UTF-8 bytes as hex (PostgreSQL: the type's output text).
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    /// An instant: PostgreSQL's in UTC; MariaDB's DATETIME holds UTC.
    Instant,
}

struct Col {
    name: &'static str,
    ddl: &'static str,
    kind: Kind,
    /// PostgreSQL literals.
    values: Vec<&'static str>,
}

fn col(name: &'static str, ddl: &'static str, kind: Kind, values: &[&'static str]) -> Col {
    Col {
        name,
        ddl,
        kind,
        values: values.to_vec(),
    }
}

/// Every kind of column discovery maps, from PostgreSQL, with values
/// MariaDB can hold (no NaN or infinite floats, years 1000 to 9999); the
/// key (`select`, `id`) comes first.
fn columns() -> Vec<Col> {
    use Kind::*;
    vec![
        col(
            "select",
            "text NOT NULL",
            Text,
            &["'a'", "'A'", "'ü'", "'😀'", "''"],
        ),
        col("id", "bigint NOT NULL", Number, &["1"]),
        col("bool", "boolean", Bool, &["true", "false"]),
        col("small int", "smallint", Number, &["-32768", "32767", "0"]),
        col(
            "int 名",
            "integer",
            Number,
            &["-2147483648", "2147483647", "42"],
        ),
        col(
            "from",
            "bigint",
            Number,
            &["-9223372036854775808", "9223372036854775807", "0"],
        ),
        col(
            "dec 20",
            "numeric(20,0)",
            Number,
            &["-99999999999999999999", "99999999999999999999", "0"],
        ),
        col(
            "dec 12 2",
            "numeric(12,2)",
            Number,
            &["-9999999999.99", "0.01", "1.5", "0"],
        ),
        col(
            "dec 38 30",
            "numeric(38,30)",
            Number,
            &[
                "99999999.999999999999999999999999999999",
                "-0.000000000000000000000000000001",
                "0",
            ],
        ),
        col(
            "numeric",
            "numeric",
            Text,
            &["123456789012345678901234567890.123456789", "-0.5", "'NaN'"],
        ),
        col(
            "real",
            "real",
            Float,
            &["'3.4028235e38'", "'-1.5'", "'1.1754944e-38'", "'0.1'"],
        ),
        col(
            "double",
            "double precision",
            Float,
            &[
                "'1.7976931348623157e308'",
                "'-2.2250738585072014e-308'",
                "'0.1'",
                "'9007199254740993'",
            ],
        ),
        col("char", "char(10)", Text, &["'ab'", "'名前'", "''"]),
        col(
            "varchar",
            "varchar(255)",
            Text,
            &["repeat('名', 255)", "''", "E'tab\\there'"],
        ),
        col("long", "varchar(300)", Text, &["repeat('x', 300)", "'y'"]),
        col(
            "text",
            "text",
            Text,
            &["'😀 emoji'", "''", "E'line\\nbreak'"],
        ),
        col(
            "bytes",
            "bytea",
            Bytes,
            &["'\\x00ff10'::bytea", "''::bytea", "'\\x7f'::bytea"],
        ),
        col(
            "date",
            "date",
            Date,
            &["'1000-01-01'", "'9999-12-31'", "'2024-02-29'"],
        ),
        col(
            "time 3",
            "time(3)",
            Time,
            &["'00:00:00'", "'23:59:59.999'", "'12:34:56.5'"],
        ),
        col("time 0", "time(0)", Time, &["'23:59:59'", "'00:00:00'"]),
        col("time 6", "time", Text, &["'23:59:59.999999'", "'00:00:00'"]),
        col(
            "ts 0",
            "timestamp(0)",
            Timestamp,
            &["'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'"],
        ),
        col(
            "ts 6",
            "timestamp(6)",
            Timestamp,
            &[
                "'2024-02-29 12:34:56.123456'",
                "'1970-01-01 00:00:00.000001'",
            ],
        ),
        col(
            "tz 3",
            "timestamptz(3)",
            Instant,
            &[
                "'2024-02-29 12:34:56.789+05:30'",
                "'1970-01-01 00:00:00+00'",
            ],
        ),
        col(
            "tz 6",
            "timestamptz",
            Instant,
            &[
                "'2000-01-01 00:00:00.000001+00'",
                "'2038-01-19 03:14:08.999999-08'",
            ],
        ),
        col("json", "jsonb", Text, &["'{\"a\": [1, \"名\"]}'", "'null'"]),
        col(
            "uuid",
            "uuid",
            Text,
            &[
                "'00000000-0000-0000-0000-000000000000'",
                "gen_random_uuid()",
            ],
        ),
        col(
            "interval",
            "interval",
            Text,
            &["'1 year 2 mons 3 days 04:05:06.789'", "'-1 day'"],
        ),
    ]
}

fn pg_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn my_quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The rows: row `r` takes each column's value `r` (cycled), then a row of
/// NULLs but the key.
fn insert_sql(table: &str, columns: &[Col]) -> String {
    let n = columns.iter().map(|c| c.values.len()).max().unwrap();
    let names: Vec<String> = columns.iter().map(|c| pg_quote(c.name)).collect();
    let mut sql = String::new();
    for r in 0..=n {
        let row: Vec<String> = columns
            .iter()
            .map(|c| match (c.name, r == n) {
                ("id", _) => (r + 1).to_string(),
                ("select", _) => c.values[r % c.values.len()].to_owned(),
                (_, true) => "NULL".to_owned(),
                _ => c.values[r % c.values.len()].to_owned(),
            })
            .collect();
        sql.push_str(&format!(
            "INSERT INTO {table} ({}) VALUES ({});\n",
            names.join(", "),
            row.join(", ")
        ));
    }
    sql
}

/// A value as the text both databases write for it; NULL as `NULL`.
fn pg_text(c: &Col) -> String {
    let q = pg_quote(c.name);
    let text = match c.kind {
        Kind::Number => format!("{q}::text"),
        Kind::Bool => format!("{q}::int::text"),
        Kind::Float => format!("{q}::float8::text"),
        // The output function (bpchar keeps its padding), as Flink reads it.
        Kind::Text => format!("encode(convert_to(format('%s', {q}), 'UTF8'), 'hex')"),
        Kind::Bytes => format!("encode({q}, 'hex')"),
        Kind::Date => format!("to_char({q}, 'YYYY-MM-DD')"),
        Kind::Time => format!("to_char(date '2000-01-01' + {q}, 'HH24:MI:SS.US')"),
        Kind::Timestamp => format!("to_char({q}, 'YYYY-MM-DD HH24:MI:SS.US')"),
        Kind::Instant => {
            format!("to_char({q} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
        }
    };
    format!("CASE WHEN {q} IS NULL THEN 'NULL' ELSE {text} END")
}

fn my_text(c: &Col) -> String {
    let q = my_quote(c.name);
    let text = match c.kind {
        Kind::Number | Kind::Bool => format!("CAST({q} AS CHAR)"),
        Kind::Float => format!("CAST(CAST({q} AS DOUBLE) AS CHAR)"),
        Kind::Text => format!("LOWER(HEX(CONVERT({q} USING utf8mb4)))"),
        Kind::Bytes => format!("LOWER(HEX({q}))"),
        Kind::Date => format!("DATE_FORMAT({q}, '%Y-%m-%d')"),
        Kind::Time => format!("TIME_FORMAT({q}, '%H:%i:%s.%f')"),
        Kind::Timestamp | Kind::Instant => format!("DATE_FORMAT({q}, '%Y-%m-%d %H:%i:%s.%f')"),
    };
    format!("CASE WHEN {q} IS NULL THEN 'NULL' ELSE {text} END")
}

/// Each column's values in key order, as exact text (floats as parsed).
fn values(output: &str, columns: &[Col]) -> Vec<Vec<String>> {
    let mut by_column = vec![Vec::new(); columns.len()];
    for line in output.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), columns.len(), "a row: {line}");
        for ((out, c), field) in by_column.iter_mut().zip(columns).zip(fields) {
            let value = match (c.kind, field) {
                (_, "NULL") => "NULL".to_owned(),
                (Kind::Float, f) => {
                    let parsed: f64 = f.parse().unwrap_or_else(|_| panic!("{}: {f}", c.name));
                    format!("{:#x}", parsed.to_bits())
                }
                (_, f) => f.to_owned(),
            };
            out.push(value);
        }
    }
    by_column
}

fn pg_values(table: &str, columns: &[Col]) -> Vec<Vec<String>> {
    let fields: Vec<String> = columns.iter().map(pg_text).collect();
    let out = db::psql(&format!(
        "SELECT {} FROM {table} ORDER BY \"id\"",
        fields.join(", ")
    ));
    values(&out, columns)
}

fn my_values(table: &str, columns: &[Col]) -> Vec<Vec<String>> {
    let fields: Vec<String> = columns.iter().map(my_text).collect();
    let out = db::mariadb(&format!(
        "SELECT {} FROM {table} ORDER BY `id`",
        fields.join(", ")
    ));
    values(&out, columns)
}

/// Every column equal, else the columns that differ with their values.
fn assert_same(label: &str, source: &[Vec<String>], target: &[Vec<String>], columns: &[Col]) {
    let differ: Vec<String> = columns
        .iter()
        .zip(source.iter().zip(target))
        .filter(|(_, (s, t))| s != t)
        .map(|(c, (s, t))| format!("{} ({}): source {s:?}, target {t:?}", c.name, c.ddl))
        .collect();
    assert!(differ.is_empty(), "{label}: {}", differ.join("\n"));
}

/// A PostgreSQL schema, a MariaDB database and both registered as sources.
struct Stack {
    api: Api,
    tenant: String,
    schema: String,
    database: String,
    pg: String,
    maria: String,
}

impl Stack {
    async fn new(label: &str) -> Self {
        let api = Api::new();
        let tenant = fresh_tenant(label);
        let suffix = &tenant[tenant.len() - 8..];
        let schema = format!("drift 名 {suffix}");
        db::psql(&format!("CREATE SCHEMA {}", pg_quote(&schema)));
        let database = format!("sluice_drift_{suffix}");
        db::mariadb(&format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4",
            my_quote(&database)
        ));
        let pg = api.register_source(&tenant, db::postgres_source()).await;
        let mut maria = db::mariadb_source();
        maria["config"]["database"] = json!(database);
        let maria = api.register_source(&tenant, maria).await;
        Stack {
            api,
            tenant,
            schema,
            database,
            pg,
            maria,
        }
    }

    /// A source table: its SQL name and its `source.object`.
    fn pg_table(&self, name: &str) -> (String, String) {
        let sql = format!("{}.{}", pg_quote(&self.schema), pg_quote(name));
        (sql.clone(), sql)
    }

    fn my_table(&self, name: &str) -> String {
        format!("{}.{}", my_quote(&self.database), my_quote(name))
    }

    /// A job from `source` into `target`, its columns discovered.
    async fn job(&self, source: &str, target: &str, create: &str, on_change: &str) -> String {
        let body = json!({
            "name": format!("{source} -> {target}"),
            "source": {"source_id": self.pg, "object": source},
            "target": {"source_id": self.maria, "object": format!("\"{}\"", target.replace('"', "\"\"")),
                       "write_mode": "upsert", "create": create},
            "options": {"mode": "batch", "parallelism": 1, "on_schema_change": on_change}
        });
        create_job(&self.api, &self.tenant, &body).await
    }

    async fn run(&self, job_id: &str) -> Value {
        let reply = self
            .api
            .post(&format!("/jobs/{job_id}/runs"), &self.tenant, &json!({}))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let run_id = reply.json()["id"].as_str().unwrap().to_owned();
        wait_for_run_end(&self.api, &self.tenant, &run_id, 300).await
    }

    async fn succeeds(&self, job_id: &str) -> Value {
        let run = self.run(job_id).await;
        assert_eq!(
            run["state"], "succeeded",
            "{run:#} (see also $SLUICE_STATE/flink/log)"
        );
        run
    }

    /// The run failed before Flink with `code`; its message.
    async fn fails_before_flink(&self, job_id: &str, code: &str) -> String {
        let run = self.run(job_id).await;
        assert_eq!(run["state"], "failed", "{run:#}");
        assert_eq!(run["error"]["code"], code, "{run:#}");
        assert_eq!(run["error"]["retryable"], false, "{run:#}");
        assert!(run["flink_job_id"].is_null(), "no Flink job: {run:#}");
        run["error"]["message"].as_str().unwrap().to_owned()
    }

    fn drop(&self) {
        db::psql(&format!("DROP SCHEMA {} CASCADE", pg_quote(&self.schema)));
        db::mariadb(&format!("DROP DATABASE {}", my_quote(&self.database)));
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_missing_target_is_created_from_the_discovered_columns_and_synced_exactly() {
    let s = Stack::new("target-create").await;
    let columns = columns();
    let (source_sql, source_object) = s.pg_table("order 订单 src");
    let defs: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}", pg_quote(c.name), c.ddl))
        .collect();
    db::psql_script(&format!(
        "CREATE TABLE {source_sql} ({}, PRIMARY KEY (\"select\", \"id\"));\n{}",
        defs.join(", "),
        insert_sql(&source_sql, &columns)
    ));
    let target = "order 订单 \"new\"";
    let job_id = s.job(&source_object, target, "if_missing", "fail").await;
    let exists = format!(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' \
         AND TABLE_NAME = '{}'",
        s.database,
        target.replace('\'', "''")
    );
    assert_eq!(db::mariadb(&exists).trim(), "0", "no target yet");

    s.succeeds(&job_id).await;
    let expected = pg_values(&source_sql, &columns);
    let target_sql = s.my_table(target);
    assert_same(
        "first run",
        &expected,
        &my_values(&target_sql, &columns),
        &columns,
    );
    let rows = expected[0].len();
    eprintln!(
        "{} columns x {rows} rows equal in the created table",
        columns.len()
    );
    let charset = db::mariadb(&format!(
        "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}' \
         AND TABLE_NAME = '{}'",
        s.database,
        target.replace('\'', "''")
    ));
    assert_eq!(charset.trim(), "utf8mb4_bin");

    // The table exists now: the next run leaves it and upserts the same rows.
    s.succeeds(&job_id).await;
    assert_same(
        "second run",
        &expected,
        &my_values(&target_sql, &columns),
        &columns,
    );
    s.drop();
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_missing_target_fails_the_run_when_the_job_never_creates_it() {
    let s = Stack::new("target-never").await;
    let (source_sql, source_object) = s.pg_table("small");
    db::psql(&format!(
        "CREATE TABLE {source_sql} (id bigint PRIMARY KEY, a text); \
         INSERT INTO {source_sql} VALUES (1, 'x')"
    ));
    let job_id = s.job(&source_object, "absent 表", "never", "fail").await;
    let message = s.fails_before_flink(&job_id, "target_missing").await;
    assert!(message.contains("absent 表"), "{message}");
    assert_eq!(
        db::mariadb(&format!(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{}'",
            s.database
        ))
        .trim(),
        "0",
        "nothing created"
    );
    s.drop();
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_changed_source_fails_the_run_or_adds_the_new_columns() {
    let s = Stack::new("drift").await;
    let (fail_sql, fail_object) = s.pg_table("drift fail");
    let (add_sql, add_object) = s.pg_table("drift add");
    db::psql_script(&format!(
        "CREATE TABLE {fail_sql} (id bigint PRIMARY KEY, \"gone 列\" text, \"retyped\" integer);
         INSERT INTO {fail_sql} VALUES (1, 'a', 1), (2, 'b', 2);
         CREATE TABLE {add_sql} (id bigint PRIMARY KEY, a text);
         INSERT INTO {add_sql} VALUES (1, 'a'), (2, 'b');"
    ));
    let fail_job = s
        .job(&fail_object, "drift fail", "if_missing", "fail")
        .await;
    let add_job = s
        .job(&add_object, "drift add", "if_missing", "add_columns")
        .await;
    s.succeeds(&fail_job).await;
    s.succeeds(&add_job).await;

    // `fail`: one column added, one dropped, one retyped.
    db::psql_script(&format!(
        "ALTER TABLE {fail_sql} ADD COLUMN \"new 列\" date;
         ALTER TABLE {fail_sql} DROP COLUMN \"gone 列\";
         ALTER TABLE {fail_sql} ALTER COLUMN \"retyped\" TYPE bigint;"
    ));
    let message = s.fails_before_flink(&fail_job, "schema_drift").await;
    for part in [
        "added new 列 (date)",
        "removed gone 列 (text)",
        "changed retyped (integer -> bigint)",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }

    // `add_columns`: the new column reaches the target with its values.
    db::psql_script(&format!(
        "ALTER TABLE {add_sql} ADD COLUMN \"amount 金额\" numeric(12,2);
         UPDATE {add_sql} SET \"amount 金额\" = id * 1.25;
         INSERT INTO {add_sql} VALUES (3, 'c', -0.01);"
    ));
    s.succeeds(&add_job).await;
    let job = s
        .api
        .get(&format!("/jobs/{add_job}"), &s.tenant)
        .await
        .json();
    let last = job["source"]["columns"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"name": "amount 金额", "type": "DECIMAL(12, 2)"}),
        "{job:#}"
    );
    let target = db::mariadb(&format!(
        "SELECT id, a, `amount 金额` FROM {} ORDER BY id",
        s.my_table("drift add")
    ));
    assert_eq!(target, "1\ta\t1.25\n2\tb\t2.50\n3\tc\t-0.01\n");
    // Nothing changed since: the next run goes on as it is.
    s.succeeds(&add_job).await;
    // A dropped column still fails an add_columns job.
    db::psql(&format!("ALTER TABLE {add_sql} DROP COLUMN a"));
    let message = s.fails_before_flink(&add_job, "schema_drift").await;
    assert!(message.contains("removed a (text)"), "{message}");
    s.drop();
}

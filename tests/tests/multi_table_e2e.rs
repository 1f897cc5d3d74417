//! Whole-database sync end to end (issue #14, README "Whole-database and
//! multi-table jobs"), on the local stack:
//! - 30 PostgreSQL tables of different shapes (composite keys, a table
//!   without a key given one by its `source.objects` entry, reserved words
//!   and unicode in table and column names, an empty table, a 200,000-row
//!   table; NULLs beside empty strings) move into MariaDB in one job, one
//!   Flink job, `create: if_missing`: every table's row count and an
//!   order-independent checksum over every column are equal, and the run
//!   counts each table's rows exactly;
//! - the same tables back from MariaDB into a new PostgreSQL schema, matched
//!   by a pattern (`source.include`) and named by a template: equal again;
//! - 10% of every table's rows change in PostgreSQL; the next upsert run of
//!   each job converges (equal checksums on all three sides).
//!
//! Run with `make test`.

use serde_json::{Value, json};
use sluice_tests::{Api, create_job, db, fresh_tenant, wait_for_run_end};

/// How a column's values are written as text for the checksum: the same
/// text for the same value in both databases.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Number,
    Bool,
    Float,
    /// The UTF-8 bytes as hex.
    Text,
    Bytes,
    Date,
    Timestamp,
}

#[derive(Clone)]
struct Col {
    name: String,
    /// PostgreSQL type.
    ddl: &'static str,
    kind: Kind,
    /// The value of row `g` (PostgreSQL, over `g` from generate_series).
    value: String,
}

fn col(name: &str, ddl: &'static str, kind: Kind, value: &str) -> Col {
    Col {
        name: name.to_owned(),
        ddl,
        kind,
        value: value.to_owned(),
    }
}

struct Shape {
    /// The table's own name.
    name: String,
    columns: Vec<Col>,
    /// Its primary key; empty for none.
    key: Vec<String>,
    rows: u64,
    /// The key the job's entry names (a table without one).
    entry_key: Option<Vec<String>>,
    /// The column the 10% change rewrites (not in the key).
    changed: String,
}

const TEXT: &str = "CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN '' \
                    ELSE 'v' || g || ' 名 ü 😀' END";

/// Thirty tables: five of their own shape, twenty-five cycling through
/// four column sets.
fn shapes() -> Vec<Shape> {
    use Kind::*;
    let id = |name: &str| col(name, "bigint NOT NULL", Number, "g");
    let mut shapes = vec![
        Shape {
            name: "orders".into(),
            columns: vec![
                col("region", "text NOT NULL", Text, "'r' || (g % 3)"),
                id("id"),
                col(
                    "amount",
                    "numeric(12,2)",
                    Number,
                    "CASE WHEN g % 11 = 0 THEN NULL ELSE round(g * 1.37 - 50, 2) END",
                ),
                col("note", "text", Text, TEXT),
                col(
                    "created",
                    "timestamp(6)",
                    Timestamp,
                    "timestamp '2020-01-01' + g * interval '1 second' + (g % 997) * interval '1 microsecond'",
                ),
            ],
            key: vec!["region".into(), "id".into()],
            rows: 3000,
            entry_key: None,
            changed: "note".into(),
        },
        Shape {
            name: "select".into(),
            columns: vec![
                id("from"),
                col("where", "text", Text, TEXT),
                col("group", "integer", Number, "(g % 1000) - 500"),
            ],
            key: vec!["from".into()],
            rows: 500,
            entry_key: None,
            changed: "where".into(),
        },
        Shape {
            name: "客户 clients".into(),
            columns: vec![
                id("编号"),
                col("名前", "varchar(50)", Text, "'名' || g"),
                col("straße", "text", Text, TEXT),
                col("ok", "boolean", Bool, "g % 2 = 0"),
            ],
            key: vec!["编号".into()],
            rows: 250,
            entry_key: None,
            changed: "straße".into(),
        },
        Shape {
            name: "no key".into(),
            columns: vec![
                col("a", "bigint NOT NULL", Number, "g * 3"),
                col("b", "text", Text, TEXT),
            ],
            key: vec![],
            rows: 400,
            entry_key: Some(vec!["a".into()]),
            changed: "b".into(),
        },
        Shape {
            name: "empty".into(),
            columns: vec![id("id"), col("v", "text", Text, TEXT)],
            key: vec!["id".into()],
            rows: 0,
            entry_key: None,
            changed: "v".into(),
        },
        Shape {
            name: "big".into(),
            columns: vec![
                id("id"),
                col("a", "bigint", Number, "g * 7 - 3"),
                col("b", "text", Text, TEXT),
                col("c", "double precision", Float, "(g % 1000) / 4.0"),
                col("d", "date", Date, "date '2000-01-01' + (g % 3000)"),
            ],
            key: vec!["id".into()],
            rows: 200_000,
            entry_key: None,
            changed: "b".into(),
        },
    ];
    for n in 7..=30u64 {
        let (columns, key, changed) = match n % 4 {
            0 => (
                vec![
                    id("id"),
                    col("n", "integer", Number, "g % 100"),
                    col("t", "text", Text, TEXT),
                ],
                vec!["id"],
                "t",
            ),
            1 => (
                vec![
                    col("k1", "integer NOT NULL", Number, "g % 10"),
                    col("k2", "varchar(20) NOT NULL", Text, "'k' || (g / 10)"),
                    col("val", "numeric(10,3)", Number, "round(g / 7.0, 3)"),
                    col("t", "text", Text, TEXT),
                ],
                vec!["k1", "k2"],
                "t",
            ),
            2 => (
                vec![
                    id("id"),
                    col("bin", "bytea", Bytes, "decode(md5(g::text), 'hex')"),
                    col("day", "date", Date, "date '1999-12-31' + g"),
                    col("t", "text", Text, TEXT),
                ],
                vec!["id"],
                "t",
            ),
            _ => (
                vec![
                    id("id"),
                    col(
                        "flag",
                        "boolean",
                        Bool,
                        "CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 1 END",
                    ),
                    col("x", "double precision", Float, "g * 0.5"),
                    col("t", "text", Text, TEXT),
                ],
                vec!["id"],
                "t",
            ),
        };
        shapes.push(Shape {
            name: format!("t{n:02} 表"),
            columns,
            key: key.into_iter().map(String::from).collect(),
            rows: 10 * n,
            entry_key: None,
            changed: changed.into(),
        });
    }
    assert_eq!(shapes.len(), 30);
    shapes
}

fn pg_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn my_quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn pg_text(c: &Col) -> String {
    let q = pg_quote(&c.name);
    let text = match c.kind {
        Kind::Number => format!("{q}::text"),
        Kind::Bool => format!("{q}::int::text"),
        Kind::Float => format!("{q}::float8::text"),
        Kind::Text => format!("encode(convert_to({q}::text, 'UTF8'), 'hex')"),
        Kind::Bytes => format!("encode({q}, 'hex')"),
        Kind::Date => format!("to_char({q}, 'YYYY-MM-DD')"),
        Kind::Timestamp => format!("to_char({q}, 'YYYY-MM-DD HH24:MI:SS.US')"),
    };
    format!("CASE WHEN {q} IS NULL THEN 'NULL' ELSE {text} END")
}

fn my_text(c: &Col) -> String {
    let q = my_quote(&c.name);
    let text = match c.kind {
        Kind::Number | Kind::Bool => format!("CAST({q} AS CHAR)"),
        Kind::Float => format!("CAST(CAST({q} AS DOUBLE) AS CHAR)"),
        Kind::Text => format!("LOWER(HEX(CONVERT({q} USING utf8mb4)))"),
        Kind::Bytes => format!("LOWER(HEX({q}))"),
        Kind::Date => format!("DATE_FORMAT({q}, '%Y-%m-%d')"),
        Kind::Timestamp => format!("DATE_FORMAT({q}, '%Y-%m-%d %H:%i:%s.%f')"),
    };
    format!("CASE WHEN {q} IS NULL THEN 'NULL' ELSE {text} END")
}

/// `rows checksum` of a PostgreSQL table: the count and the sum of the
/// first 60 bits of each row's MD5 over every column's text.
fn pg_checksum(table: &str, columns: &[Col]) -> String {
    let fields: Vec<String> = columns.iter().map(pg_text).collect();
    db::psql(&format!(
        "SELECT count(*) || ' ' || coalesce(sum(('x' || substr(md5(concat_ws('|', {})), 1, 15))::bit(60)::bigint), 0) FROM {table}",
        fields.join(", ")
    ))
    .trim()
    .to_owned()
}

fn my_checksum(table: &str, columns: &[Col]) -> String {
    let fields: Vec<String> = columns.iter().map(my_text).collect();
    db::mariadb(&format!(
        "SELECT CONCAT(COUNT(*), ' ', COALESCE(SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS('|', {})), 1, 15), 16, 10) AS UNSIGNED)), 0)) FROM {table}",
        fields.join(", ")
    ))
    .trim()
    .to_owned()
}

/// A name as discovery writes it in `schema.table` (quoted when it holds
/// `.` or `"`).
fn object_part(name: &str) -> String {
    if name.contains(['.', '"']) {
        pg_quote(name)
    } else {
        name.to_owned()
    }
}

struct Stack {
    api: Api,
    tenant: String,
    /// The source schema and the schema the tables come back into.
    schema: String,
    back: String,
    database: String,
    pg: String,
    maria: String,
}

impl Stack {
    async fn new() -> Self {
        let api = Api::new();
        let tenant = fresh_tenant("multi-table");
        let suffix = tenant[tenant.len() - 8..].to_lowercase();
        let schema = format!("multi 名 {suffix}");
        let back = format!("back 名 {suffix}");
        let database = format!("sluice_multi_{suffix}");
        db::psql(&format!(
            "CREATE SCHEMA {}; CREATE SCHEMA {}",
            pg_quote(&schema),
            pg_quote(&back)
        ));
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
            back,
            database,
            pg,
            maria,
        }
    }

    fn pg_table(&self, schema: &str, name: &str) -> String {
        format!("{}.{}", pg_quote(schema), pg_quote(name))
    }

    fn my_table(&self, name: &str) -> String {
        format!("{}.{}", my_quote(&self.database), my_quote(name))
    }

    fn create_sources(&self, shapes: &[Shape]) {
        let mut sql = String::new();
        for s in shapes {
            let table = self.pg_table(&self.schema, &s.name);
            let mut defs: Vec<String> = s
                .columns
                .iter()
                .map(|c| format!("{} {}", pg_quote(&c.name), c.ddl))
                .collect();
            if !s.key.is_empty() {
                let key: Vec<String> = s.key.iter().map(|k| pg_quote(k)).collect();
                defs.push(format!("PRIMARY KEY ({})", key.join(", ")));
            }
            let names: Vec<String> = s.columns.iter().map(|c| pg_quote(&c.name)).collect();
            let values: Vec<&str> = s.columns.iter().map(|c| c.value.as_str()).collect();
            sql.push_str(&format!(
                "CREATE TABLE {table} ({});\nINSERT INTO {table} ({}) SELECT {} FROM generate_series(1, {}) g;\n",
                defs.join(", "),
                names.join(", "),
                values.join(", "),
                s.rows
            ));
        }
        db::psql_script(&sql);
    }

    /// Changes 10% of every table's rows (each tenth row's `changed`
    /// column, NULLs and empty strings included).
    fn change_sources(&self, shapes: &[Shape]) {
        let mut sql = String::new();
        for s in shapes {
            let table = self.pg_table(&self.schema, &s.name);
            // The last key column: about one row in ten ends in 0.
            let key = pg_quote(&s.key.last().cloned().unwrap_or_else(|| "a".into()));
            let changed = pg_quote(&s.changed);
            sql.push_str(&format!(
                "UPDATE {table} SET {changed} = 'changed ✓ ' || ctid::text WHERE ({key}::text ~ '0$');\n"
            ));
        }
        db::psql_script(&sql);
    }

    async fn run(&self, job_id: &str) -> Value {
        let reply = self
            .api
            .post(&format!("/jobs/{job_id}/runs"), &self.tenant, &json!({}))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let run_id = reply.json()["id"].as_str().unwrap().to_owned();
        let started = std::time::Instant::now();
        let run = wait_for_run_end(&self.api, &self.tenant, &run_id, 600).await;
        assert_eq!(
            run["state"], "succeeded",
            "{run:#} (see also $SLUICE_STATE/flink/log)"
        );
        eprintln!(
            "run {run_id}: {} rows in {:.1} s",
            run["rows_written"],
            started.elapsed().as_secs_f64()
        );
        run
    }

    fn drop(&self) {
        db::psql(&format!(
            "DROP SCHEMA {} CASCADE; DROP SCHEMA {} CASCADE",
            pg_quote(&self.schema),
            pg_quote(&self.back)
        ));
        db::mariadb(&format!("DROP DATABASE {}", my_quote(&self.database)));
    }
}

/// Every table's count and checksum equal on the three sides (the
/// PostgreSQL copy only once it was made).
fn assert_converged(s: &Stack, shapes: &[Shape], back_too: bool) {
    let mut differ = Vec::new();
    for shape in shapes {
        let source = pg_checksum(&s.pg_table(&s.schema, &shape.name), &shape.columns);
        let maria = my_checksum(&s.my_table(&shape.name), &shape.columns);
        assert_eq!(
            source.split(' ').next().unwrap(),
            shape.rows.to_string(),
            "{}",
            shape.name
        );
        if maria != source {
            differ.push(format!("{}: source {source}, MariaDB {maria}", shape.name));
        }
        if back_too {
            let back = pg_checksum(&s.pg_table(&s.back, &shape.name), &shape.columns);
            if back != source {
                differ.push(format!("{}: source {source}, back {back}", shape.name));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// The run's rows per table: each table's exactly, and totals that are
/// their sums.
fn assert_counted(run: &Value, expected: &[(String, u64)]) {
    let tables = run["tables"].as_array().expect("per-table rows");
    let counted: Vec<(String, u64, u64)> = tables
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["rows_read"].as_u64().unwrap(),
                t["rows_written"].as_u64().unwrap(),
            )
        })
        .collect();
    let wanted: Vec<(String, u64, u64)> =
        expected.iter().map(|(t, n)| (t.clone(), *n, *n)).collect();
    assert_eq!(counted, wanted, "{run:#}");
    let total: u64 = expected.iter().map(|(_, n)| n).sum();
    assert_eq!(run["rows_read"], total, "{run:#}");
    assert_eq!(run["rows_written"], total, "{run:#}");
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn thirty_tables_go_to_mariadb_and_back_in_one_job_each_and_converge_after_changes() {
    let s = Stack::new().await;
    let shapes = shapes();
    s.create_sources(&shapes);

    // PostgreSQL -> MariaDB: the tables listed, one given its key.
    let objects: Vec<Value> = shapes
        .iter()
        .map(|shape| {
            let name = format!("{}.{}", object_part(&s.schema), object_part(&shape.name));
            match &shape.entry_key {
                Some(key) => json!({"name": name, "primary_key": key}),
                None => json!(name),
            }
        })
        .collect();
    let forward = create_job(
        &s.api,
        &s.tenant,
        &json!({
            "name": "whole schema to MariaDB",
            "source": {"source_id": s.pg, "objects": objects},
            "target": {"source_id": s.maria, "write_mode": "upsert", "create": "if_missing"},
            "options": {"mode": "batch", "parallelism": 1}
        }),
    )
    .await;
    let job = s
        .api
        .get(&format!("/jobs/{forward}"), &s.tenant)
        .await
        .json();
    let tables = job["tables"].as_array().expect("the job's tables");
    assert_eq!(tables.len(), 30, "{job:#}");
    assert_eq!(tables[0]["target"], "orders");
    assert_eq!(tables[0]["primary_key"], json!(["region", "id"]));
    assert_eq!(tables[3]["target"], "no key");
    assert_eq!(tables[3]["primary_key"], json!(["a"]));
    assert_eq!(
        tables[2]["columns"],
        json!([
            {"name": "编号", "type": "BIGINT"},
            {"name": "名前", "type": "VARCHAR(50)"},
            {"name": "straße", "type": "STRING"},
            {"name": "ok", "type": "BOOLEAN"}
        ])
    );
    let script = s.api.get(&format!("/jobs/{forward}/sql"), &s.tenant).await;
    assert_eq!(script.text.matches("INSERT INTO").count(), 30);

    let source_names: Vec<(String, u64)> = shapes
        .iter()
        .map(|shape| {
            (
                format!("{}.{}", object_part(&s.schema), object_part(&shape.name)),
                shape.rows,
            )
        })
        .collect();
    let run = s.run(&forward).await;
    assert_counted(&run, &source_names);
    assert_converged(&s, &shapes, false);

    // MariaDB -> PostgreSQL: every table of the database, by pattern, into
    // the other schema by a template.
    let back = create_job(
        &s.api,
        &s.tenant,
        &json!({
            "name": "MariaDB back to PostgreSQL",
            "source": {"source_id": s.maria, "include": {"like": "%"}},
            "target": {"source_id": s.pg, "write_mode": "upsert", "create": "if_missing",
                       "naming": {"template": format!("{}.{{table}}", s.back)}},
            "options": {"mode": "batch", "parallelism": 1}
        }),
    )
    .await;
    let back_job = s.api.get(&format!("/jobs/{back}"), &s.tenant).await.json();
    let mut names: Vec<&str> = shapes.iter().map(|shape| shape.name.as_str()).collect();
    names.sort();
    let listed: Vec<&str> = back_job["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    assert_eq!(listed, names, "MariaDB lists them in name order");
    let back_names: Vec<(String, u64)> = {
        let mut rows: Vec<(String, u64)> = shapes
            .iter()
            .map(|shape| (shape.name.clone(), shape.rows))
            .collect();
        rows.sort();
        rows
    };
    let run = s.run(&back).await;
    assert_counted(&run, &back_names);
    assert_converged(&s, &shapes, true);

    // 10% of the rows change; the next runs upsert them.
    s.change_sources(&shapes);
    let big = &shapes[5];
    assert_ne!(
        pg_checksum(&s.pg_table(&s.schema, &big.name), &big.columns),
        my_checksum(&s.my_table(&big.name), &big.columns),
        "the checksum sees the changes"
    );
    s.run(&forward).await;
    s.run(&back).await;
    assert_converged(&s, &shapes, true);
    s.drop();
}

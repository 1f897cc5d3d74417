//! The data the benchmarks move: an `orders` table of realistic shape
//! (keys, amounts, short codes, a nullable free-text note, two timestamps;
//! about 130 bytes a row as text), its DDL on both sides, and the sources
//! and job that sluice is asked to sync it with.

use serde_json::{Value, json};

/// Columns as the job declares them (Flink types).
pub const COLUMNS: &[(&str, &str)] = &[
    ("id", "BIGINT"),
    ("customer_id", "BIGINT"),
    ("sku", "VARCHAR(32)"),
    ("qty", "INT"),
    ("unit_price", "DECIMAL(12,2)"),
    ("amount", "DECIMAL(14,2)"),
    ("currency", "VARCHAR(3)"),
    ("status", "VARCHAR(16)"),
    ("note", "VARCHAR(200)"),
    ("created_at", "TIMESTAMP(3)"),
    ("updated_at", "TIMESTAMP(3)"),
];

pub fn column_list() -> String {
    COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// PostgreSQL: the source table with `rows` rows.
pub fn postgres_source_sql(table: &str, rows: u64) -> String {
    format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (
           id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, sku VARCHAR(32) NOT NULL,
           qty INT NOT NULL, unit_price NUMERIC(12,2) NOT NULL, amount NUMERIC(14,2) NOT NULL,
           currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, note VARCHAR(200),
           created_at TIMESTAMP(3) NOT NULL, updated_at TIMESTAMP(3) NOT NULL);
         INSERT INTO {table}
         SELECT g, 1 + (g * 7919) % 50000, 'SKU-' || lpad(((g * 31) % 100000)::text, 6, '0'),
                1 + g % 9, ((g % 5000) + 99) / 100.0, (1 + g % 9) * (((g % 5000) + 99) / 100.0),
                (ARRAY['EUR','USD','GBP'])[1 + g % 3],
                (ARRAY['new','paid','shipped','delivered','refunded'])[1 + g % 5],
                CASE WHEN g % 4 = 0 THEN NULL ELSE 'order ' || g || ': ' || md5(g::text) END,
                TIMESTAMP '2025-01-01 00:00:00' + g * INTERVAL '17 second' + (g % 1000) * INTERVAL '1 millisecond',
                TIMESTAMP '2025-01-01 00:00:00' + g * INTERVAL '23 second'
         FROM generate_series(1::bigint, {rows}) g;
         ANALYZE {table};"
    )
}

/// MariaDB: an empty target table of the same shape.
pub fn mariadb_target_sql(table: &str, primary_key: bool) -> String {
    let key = if primary_key { " PRIMARY KEY" } else { "" };
    format!(
        "DROP TABLE IF EXISTS {table};
         CREATE TABLE {table} (
           id BIGINT NOT NULL{key}, customer_id BIGINT NOT NULL, sku VARCHAR(32) NOT NULL,
           qty INT NOT NULL, unit_price DECIMAL(12,2) NOT NULL, amount DECIMAL(14,2) NOT NULL,
           currency CHAR(3) NOT NULL, status VARCHAR(16) NOT NULL, note VARCHAR(200),
           created_at DATETIME(3) NOT NULL, updated_at DATETIME(3) NOT NULL
         ) ENGINE=InnoDB CHARACTER SET utf8mb4;"
    )
}

pub struct Databases {
    pub pg_port: u16,
    pub mariadb_port: u16,
    pub password: String,
}

pub fn postgres_source(db: &Databases) -> Value {
    json!({"name": "bench postgres", "kind": "postgres",
           "config": {"host": "127.0.0.1", "port": db.pg_port, "database": "sluice",
                      "username": "sluice", "ssl_mode": "disable"},
           "secrets": {"password": db.password}})
}

pub fn mariadb_source(db: &Databases) -> Value {
    json!({"name": "bench mariadb", "kind": "mysql",
           "config": {"host": "127.0.0.1", "port": db.mariadb_port, "database": "sluice",
                      "username": "sluice", "flavor": "mariadb", "ssl_mode": "disabled"},
           "secrets": {"password": db.password}})
}

/// The job: every column of `source_table` appended to `target_table`,
/// a batch run on the cluster's two slots reading two id ranges.
pub fn sync_job(
    name: &str,
    pg: &str,
    maria: &str,
    source_table: &str,
    target_table: &str,
    rows: u64,
    filter: Option<&str>,
) -> Value {
    let columns: Vec<Value> = COLUMNS
        .iter()
        .map(|(name, ty)| json!({"name": name, "type": ty}))
        .collect();
    let mut source = json!({"source_id": pg, "object": format!("public.{source_table}"),
                            "columns": columns});
    if let Some(f) = filter {
        source["filter"] = json!(f);
    }
    let mut options = json!({"mode": "batch", "parallelism": 2,
                             "partitioned_read": {"column": "id", "num": 2,
                                                  "lower_bound": 1, "upper_bound": rows.max(2)}});
    // Extra options to explore with (`BENCH_JOB_OPTIONS`, a JSON object).
    if let Some(extra) = std::env::var("BENCH_JOB_OPTIONS")
        .ok()
        .and_then(|v| serde_json::from_str::<serde_json::Map<String, Value>>(&v).ok())
    {
        for (k, v) in extra {
            options[k] = v;
        }
    }
    json!({
        "name": name,
        "source": source,
        "target": {"source_id": maria, "object": target_table, "write_mode": "append"},
        "options": options
    })
}

//! Figures of multi-table jobs (issue #14), printed, never asserted against
//! a time: `infra/bench/run.sh` runs them in its `tables` phase against the
//! running local stack (`make up`); BENCHMARKS.md, "Multi-table jobs", keeps
//! what they printed.
//!
//! - discovery of a schema of 500 tables: listing it (`GET
//!   /sources/{id}/objects`), and resolving a job over it (`POST /jobs`
//!   with `source.include`: the listing and 500 descriptions through the
//!   discovery function);
//! - the compile time of that 500-table job (the compiler in process, in
//!   this binary's profile), and its `GET /jobs/{id}/sql`;
//! - the sync rate of 30 tables in one job beside one table of the same
//!   rows and columns, PostgreSQL -> MariaDB (Flink's job durations).

use std::time::Instant;

use serde_json::{Value, json};
use sluice_domain::model::job::{JobId, JobSpec};
use sluice_domain::ports::{JobCompiler, SecretExposure};
use sluice_tests::{Api, create_job, db, flink_get, fresh_tenant, wait_for_run_end};

fn pg_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn my_quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, f64) {
    let started = Instant::now();
    let out = f.await;
    (out, started.elapsed().as_secs_f64() * 1e3)
}

/// The columns of every benchmark table, and their values for row `g`.
const COLUMNS: &str = "id bigint PRIMARY KEY, a bigint, b text, c double precision, d date";
const VALUES: &str = "g, g * 7, 'v' || g || ' 名', g / 4.0, date '2000-01-01' + (g % 3000)";

#[tokio::test]
#[ignore = "a benchmark on the local stack: infra/bench/run.sh --skip sizes --skip lambda --skip sync"]
async fn discovery_and_compile_of_500_tables() {
    let api = Api::new();
    let tenant = fresh_tenant("bench-500");
    let schema = format!("bench500_{}", tenant[tenant.len() - 8..].to_lowercase());
    let mut sql = format!("CREATE SCHEMA {};\n", pg_quote(&schema));
    for i in 0..500 {
        sql.push_str(&format!(
            "CREATE TABLE {}.{} ({COLUMNS}, e{i} varchar(40), f timestamp(3));\n",
            pg_quote(&schema),
            pg_quote(&format!("t{i:03}")),
        ));
    }
    db::psql_script(&sql);
    let pg = api.register_source(&tenant, db::postgres_source()).await;

    // The first call starts the discovery function (under `cargo lambda
    // watch`, a build may come first): not a figure.
    let objects = format!("/sources/{pg}/objects?schema={schema}&limit=1000");
    let deadline = Instant::now() + std::time::Duration::from_secs(180);
    while api.get(&objects, &tenant).await.status != 200 {
        assert!(Instant::now() < deadline, "discovery never answered");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    let mut list_ms = Vec::new();
    for _ in 0..5 {
        let (reply, ms) = timed(api.get(
            &format!("/sources/{pg}/objects?schema={schema}&limit=1000"),
            &tenant,
        ))
        .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.json()["items"].as_array().unwrap().len(), 500);
        list_ms.push(ms);
    }
    let body = json!({
        "name": "500 tables",
        "source": {"source_id": pg, "include": {"schema": schema}},
        "target": {"source_id": pg, "write_mode": "upsert",
                   "naming": {"template": "copy.{table}"}},
        "options": {"mode": "batch"}
    });
    let mut resolve_ms = Vec::new();
    let mut job_id = String::new();
    for _ in 0..3 {
        let (reply, ms) = timed(api.post("/jobs", &tenant, &body)).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        job_id = reply.json()["id"].as_str().unwrap().to_owned();
        resolve_ms.push(ms);
    }
    let job = api.get(&format!("/jobs/{job_id}"), &tenant).await.json();
    assert_eq!(job["tables"].as_array().unwrap().len(), 500);
    let mut sql_ms = Vec::new();
    for _ in 0..5 {
        let (reply, ms) = timed(api.get(&format!("/jobs/{job_id}/sql"), &tenant)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text.matches("INSERT INTO").count(), 500);
        sql_ms.push(ms);
    }

    // The compiler in process, on the stored job and its source.
    let mut spec = job.clone();
    for field in ["id", "version", "created_at", "updated_at", "schedule"] {
        spec.as_object_mut().unwrap().remove(field);
    }
    let spec: JobSpec = serde_json::from_value(spec).unwrap();
    let source = sluice_flinksql_source(&pg);
    let id = JobId::parse(&job_id).unwrap();
    let compiler = sluice_flinksql::FlinkSqlCompiler;
    let mut compile_ms = Vec::new();
    let mut check_ms = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        compiler.check(&spec, &source, &source).unwrap();
        check_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let script = compiler
            .render(&id, &spec, &source, &source, None, SecretExposure::Masked)
            .unwrap();
        compile_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(script.matches("INSERT INTO").count(), 500);
    }
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "BENCH tables.list_500_ms median {:.1} of {list_ms:.1?}",
        median(list_ms.clone())
    );
    println!(
        "BENCH tables.resolve_500_ms (POST /jobs, include) median {:.1} of {resolve_ms:.1?}",
        median(resolve_ms.clone())
    );
    println!(
        "BENCH tables.sql_500_ms (GET /jobs/{{id}}/sql) median {:.1} of {sql_ms:.1?}",
        median(sql_ms.clone())
    );
    println!(
        "BENCH tables.compile_500_ms ({profile}) check median {:.2} min {:.2}; render median {:.2} min {:.2}",
        median(check_ms.clone()),
        check_ms.iter().copied().fold(f64::MAX, f64::min),
        median(compile_ms.clone()),
        compile_ms.iter().copied().fold(f64::MAX, f64::min)
    );
    db::psql(&format!("DROP SCHEMA {} CASCADE", pg_quote(&schema)));
}

/// The registered source as the compiler takes it (its config only: the
/// render is masked).
fn sluice_flinksql_source(id: &str) -> sluice_domain::Source {
    let now = chrono::Utc::now();
    sluice_domain::Source {
        id: sluice_domain::SourceId::parse(id).unwrap(),
        tenant: sluice_domain::TenantId::parse("bench").unwrap(),
        name: "pg".into(),
        kind: sluice_domain::SourceKind::Postgres,
        config: db::postgres_source()["config"].as_object().unwrap().clone(),
        secret_fields: vec!["password".into()],
        sealed_secrets: None,
        secrets_updated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Seconds of the run's Flink job, and its rows written.
async fn flink_seconds(run: &Value) -> (f64, u64) {
    let (_, body) = flink_get(&format!("/jobs/{}", run["flink_job_id"].as_str().unwrap())).await;
    let job: Value = serde_json::from_str(&body).unwrap();
    (
        job["duration"].as_f64().unwrap() / 1e3,
        run["rows_written"].as_u64().unwrap(),
    )
}

#[tokio::test]
#[ignore = "a benchmark on the local stack: infra/bench/run.sh --skip sizes --skip lambda --skip sync"]
async fn thirty_tables_beside_one_table_of_the_same_rows() {
    let rows_per_table: u64 = std::env::var("BENCH_TABLE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let tables = 30u64;
    let api = Api::new();
    let tenant = fresh_tenant("bench-30");
    let suffix = tenant[tenant.len() - 8..].to_lowercase();
    let schema = format!("bench30_{suffix}");
    let database = format!("sluice_bench30_{suffix}");
    let mut sql = format!("CREATE SCHEMA {};\n", pg_quote(&schema));
    for i in 0..tables {
        sql.push_str(&format!(
            "CREATE TABLE {s}.t{i:02} ({COLUMNS});\nINSERT INTO {s}.t{i:02} SELECT {VALUES} FROM generate_series(1, {rows_per_table}) g;\n",
            s = pg_quote(&schema)
        ));
    }
    sql.push_str(&format!(
        "CREATE TABLE {s}.one ({COLUMNS});\nINSERT INTO {s}.one SELECT {VALUES} FROM generate_series(1, {}) g;\n",
        rows_per_table * tables,
        s = pg_quote(&schema)
    ));
    db::psql_script(&sql);
    db::mariadb(&format!(
        "CREATE DATABASE {} CHARACTER SET utf8mb4",
        my_quote(&database)
    ));
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let mut maria = db::mariadb_source();
    maria["config"]["database"] = json!(database);
    let maria = api.register_source(&tenant, maria).await;
    let options = json!({"mode": "batch", "parallelism": 1});
    let many = create_job(
        &api,
        &tenant,
        &json!({"name": "30 tables", "source": {"source_id": pg, "include": {"schema": schema, "like": "t%"}},
                "target": {"source_id": maria, "write_mode": "append", "create": "if_missing"},
                "options": options}),
    )
    .await;
    let one = create_job(
        &api,
        &tenant,
        &json!({"name": "one table", "source": {"source_id": pg, "object": format!("{schema}.one")},
                "target": {"source_id": maria, "object": "one", "write_mode": "append", "create": "if_missing"},
                "options": options}),
    )
    .await;
    let mut figures = Vec::new();
    for (label, job) in [
        ("30 tables", &many),
        ("1 table", &one),
        ("30 tables", &many),
        ("1 table", &one),
    ] {
        let reply = api
            .post(&format!("/jobs/{job}/runs"), &tenant, &json!({}))
            .await;
        assert_eq!(reply.status, 202, "{}", reply.text);
        let run_id = reply.json()["id"].as_str().unwrap().to_owned();
        let run = wait_for_run_end(&api, &tenant, &run_id, 600).await;
        assert_eq!(run["state"], "succeeded", "{run:#}");
        let (seconds, rows) = flink_seconds(&run).await;
        assert_eq!(rows, rows_per_table * tables);
        println!(
            "BENCH tables.sync {label}: {rows} rows in {seconds:.2} s (Flink job), {:.0} rows/s",
            rows as f64 / seconds
        );
        figures.push((label, rows as f64 / seconds));
        // The next run appends again: empty the targets first.
        let names: Vec<String> = if label == "1 table" {
            vec!["one".into()]
        } else {
            (0..tables).map(|i| format!("t{i:02}")).collect()
        };
        let truncate: Vec<String> = names
            .iter()
            .map(|n| format!("TRUNCATE TABLE {}.{};", my_quote(&database), my_quote(n)))
            .collect();
        db::mariadb_script(&truncate.join("\n"));
    }
    db::psql(&format!("DROP SCHEMA {} CASCADE", pg_quote(&schema)));
    db::mariadb(&format!("DROP DATABASE {}", my_quote(&database)));
}

//! Data really moves: jobs built through the HTTP API, fired through the
//! trigger, run by the SQL runner on the local Flink cluster, followed by
//! the reconciler. Run with `make test`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sluice_tests::{
    Api, Table, contains, db, flink_get, fresh_tenant, function_log, invoke, item_bytes,
    schedule_for_hand_delivery, scheduler_event, wait_for_run_end, wait_until_flink_canceled,
};

const ROWS: u32 = 100_000;

async fn postgres_source(api: &Api, tenant: &str) -> String {
    api.register_source(tenant, db::postgres_source()).await
}

async fn mariadb_source(api: &Api, tenant: &str) -> String {
    api.register_source(tenant, db::mariadb_source()).await
}

fn columns() -> Value {
    json!([
        {"name": "id", "type": "BIGINT"},
        {"name": "qty", "type": "INT"},
        {"name": "amount", "type": "DECIMAL(12,2)"},
        {"name": "note", "type": "VARCHAR(200)"},
        {"name": "updated_at", "type": "TIMESTAMP(3)"}
    ])
}

/// A schedule fire as EventBridge Scheduler delivers it, for a job given a
/// schedule (created on first use) whose policy lets fires overlap.
async fn fire(api: &Api, tenant: &str, job_id: &str, at: &str) -> Value {
    let path = format!("/jobs/{job_id}/schedule");
    if api.get(&path, tenant).await.status == StatusCode::NOT_FOUND {
        schedule_for_hand_delivery(api, tenant, job_id, json!({"overlap": "allow"})).await;
    }
    scheduler_event(tenant, job_id, at)
}

/// The run's end, waited for as the reconciler's schedule would.
async fn wait_for_end(api: &Api, tenant: &str, run_id: &str) -> Value {
    wait_for_run_end(api, tenant, run_id, 240).await
}

/// An order-independent checksum of normalized rows: the sorted lines' hash.
fn checksum(rows: &str) -> (usize, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut lines: Vec<&str> = rows.lines().collect();
    lines.sort_unstable();
    let mut h = DefaultHasher::new();
    lines.hash(&mut h);
    (lines.len(), h.finish())
}

fn pg_rows(table: &str) -> String {
    db::psql(&format!(
        "SELECT id, coalesce(qty::text, 'NULL'), to_char(amount, 'FM9999999990.00'), coalesce(note, 'NULL'), \
         to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.MS') FROM {table}"
    ))
}

fn maria_rows(table: &str) -> String {
    db::mariadb(&format!(
        "SELECT id, coalesce(qty, 'NULL'), amount, coalesce(note, 'NULL'), \
         LEFT(DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f'), 23) FROM {table}"
    ))
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn postgres_to_mariadb_append_then_upsert_moves_every_row() {
    let api = Api::new();
    let tenant = fresh_tenant("e2e");
    let table = format!("orders_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, qty INT, amount NUMERIC(12,2), note VARCHAR(200), updated_at TIMESTAMP(3));
         INSERT INTO {table}
         SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 1000 END, (g * 1.25)::numeric(12,2),
                CASE WHEN g % 11 = 0 THEN NULL ELSE 'it''s \"quoted\" ünïcødé 中文 ' || g END,
                TIMESTAMP '2026-01-01 00:00:00' + g * INTERVAL '1 second'
         FROM generate_series(1, {ROWS}) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, qty INT, amount DECIMAL(12,2), note VARCHAR(200), updated_at DATETIME(3)) CHARACTER SET utf8mb4"
    ));
    let pg = postgres_source(&api, &tenant).await;
    let maria = mariadb_source(&api, &tenant).await;

    let job = |mode: &str| {
        json!({
            "name": format!("e2e {mode}"),
            "source": {"source_id": pg, "object": format!("public.{table}"), "columns": columns()},
            "target": if mode == "upsert" {
                json!({"source_id": maria, "object": table, "write_mode": "upsert", "primary_key": ["id"]})
            } else {
                json!({"source_id": maria, "object": table, "write_mode": "append"})
            },
            "options": {"mode": "batch", "parallelism": 2}
        })
    };
    let append = api.post("/jobs", &tenant, &job("append")).await;
    assert_eq!(append.status, StatusCode::CREATED, "{}", append.text);
    let append_id = append.json()["id"].as_str().unwrap().to_owned();

    let delivered = invoke(
        "trigger",
        &fire(&api, &tenant, &append_id, "2026-06-01T00:00:00Z").await,
    )
    .await;
    assert_eq!(delivered["outcome"], "submitted", "{delivered}");
    let run_id = delivered["run_id"].as_str().unwrap().to_owned();
    let run = wait_for_end(&api, &tenant, &run_id).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(checksum(&pg_rows(&table)), checksum(&maria_rows(&table)));
    assert_eq!(checksum(&maria_rows(&table)).0, ROWS as usize);

    // Change source rows, then upsert them over the copy.
    db::psql(&format!(
        "UPDATE {table} SET amount = amount + 1, note = 'changed ''again'' ✓', updated_at = updated_at + INTERVAL '1 day' WHERE id % 10 = 0"
    ));
    let upsert = api.post("/jobs", &tenant, &job("upsert")).await;
    assert_eq!(upsert.status, StatusCode::CREATED, "{}", upsert.text);
    let upsert_id = upsert.json()["id"].as_str().unwrap().to_owned();
    let delivered = invoke(
        "trigger",
        &fire(&api, &tenant, &upsert_id, "2026-06-01T01:00:00Z").await,
    )
    .await;
    assert_eq!(delivered["outcome"], "submitted", "{delivered}");
    let run = wait_for_end(&api, &tenant, delivered["run_id"].as_str().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(checksum(&pg_rows(&table)), checksum(&maria_rows(&table)));

    // The password never left its envelopes in the clear.
    let password = db::password();
    let flink_job = run["flink_job_id"].as_str().unwrap();
    for path in [
        format!("/jobs/{flink_job}"),
        format!("/jobs/{flink_job}/config"),
        format!("/jobs/{flink_job}/plan"),
        format!("/jobs/{flink_job}/exceptions"),
        "/jars".to_owned(),
        "/jobmanager/config".to_owned(),
    ] {
        let (status, body) = flink_get(&path).await;
        assert!(status.is_success(), "{path}: {status}");
        assert!(
            !body.contains(&password),
            "Flink's {path} shows the password"
        );
    }
    let runs = api.get(&format!("/jobs/{upsert_id}/runs"), &tenant).await;
    assert!(!runs.text.contains(&password));
    for item in Table::connect().await.scan().await {
        assert!(
            !contains(&item_bytes(&item), &password),
            "a DynamoDB item holds the password"
        );
    }
    assert!(
        !function_log().contains(&password),
        "the function log shows the password"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn one_fire_delivered_many_times_is_one_run_and_one_flink_job() {
    let api = Api::new();
    let tenant = fresh_tenant("dup");
    let table = format!("dup_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT, qty INT, amount NUMERIC(12,2), note VARCHAR(200), updated_at TIMESTAMP(3));
         INSERT INTO {table} SELECT g, g, g, 'n', TIMESTAMP '2026-01-01' FROM generate_series(1, 100) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {table} (id BIGINT, qty INT, amount DECIMAL(12,2), note VARCHAR(200), updated_at DATETIME(3))"
    ));
    let pg = postgres_source(&api, &tenant).await;
    let maria = mariadb_source(&api, &tenant).await;
    let created = api.post("/jobs", &tenant, &json!({
        "name": "dup", "options": {"mode": "batch"},
        "source": {"source_id": pg, "object": format!("public.{table}"), "columns": columns()},
        "target": {"source_id": maria, "object": table, "write_mode": "append"}
    })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let job_id = created.json()["id"].as_str().unwrap().to_owned();

    // Twice in a row.
    let event = fire(&api, &tenant, &job_id, "2026-07-01T00:00:00Z").await;
    let first = invoke("trigger", &event).await;
    let second = invoke("trigger", &event).await;
    assert_eq!(first["outcome"], "submitted", "{first}");
    assert_eq!(second["outcome"], "already_handled", "{second}");
    assert_eq!(first["run_id"], second["run_id"]);

    // Eight at once.
    let event = fire(&api, &tenant, &job_id, "2026-07-01T01:00:00Z").await;
    let deliveries: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn({
                let event = event.clone();
                async move { invoke("trigger", &event).await }
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for d in deliveries {
        outcomes.push(d.await.unwrap());
    }
    let submitted = outcomes
        .iter()
        .filter(|o| o["outcome"] == "submitted")
        .count();
    assert_eq!(submitted, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o["run_id"] == outcomes[0]["run_id"])
    );

    let runs = api
        .get(&format!("/jobs/{job_id}/runs"), &tenant)
        .await
        .json();
    assert_eq!(runs["items"].as_array().unwrap().len(), 2, "{runs}");
    // Flink saw exactly two jobs named after this job.
    let (_, overview) = flink_get("/jobs/overview").await;
    let overview: Value = serde_json::from_str(&overview).unwrap();
    let ours = overview["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["name"].as_str().is_some_and(|n| n.contains(&job_id)))
        .count();
    assert_eq!(ours, 2, "{overview}");
    for run in runs["items"].as_array().unwrap() {
        let done = wait_for_end(&api, &tenant, run["id"].as_str().unwrap()).await;
        assert_eq!(done["state"], "succeeded", "{done}");
    }
    assert_eq!(
        db::mariadb(&format!("SELECT count(*) FROM {table}")).trim(),
        "200"
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn files_to_postgres_and_postgres_to_files() {
    let api = Api::new();
    let tenant = fresh_tenant("files");
    let suffix = &tenant[tenant.len() - 8..];
    let dir = std::path::PathBuf::from(std::env::var("SLUICE_STATE").unwrap())
        .join(format!("files-{suffix}"));
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let csv: String = (1..=500)
        .map(|i| {
            format!(
                "{i},{},{}.50,\"note, with comma {i}\",2026-02-01 10:00:00.000\n",
                i % 9,
                i
            )
        })
        .collect();
    std::fs::write(input.join("part-0.csv"), csv).unwrap();

    let table = format!("from_csv_{suffix}");
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT, qty INT, amount NUMERIC(12,2), note VARCHAR(200), updated_at TIMESTAMP(3))"
    ));
    let files = api
        .register_source(
            &tenant,
            json!({"name": "files", "kind": "filesystem",
        "config": {"path": dir.to_str().unwrap()}}),
        )
        .await;
    let pg = postgres_source(&api, &tenant).await;

    let csv_job = api.post("/jobs", &tenant, &json!({
        "name": "csv in", "options": {"mode": "batch"},
        "source": {"source_id": files, "object": "in", "columns": columns(), "format": {"type": "csv"}},
        "target": {"source_id": pg, "object": format!("public.{table}"), "write_mode": "append"}
    })).await;
    assert_eq!(csv_job.status, StatusCode::CREATED, "{}", csv_job.text);
    let id = csv_job.json()["id"].as_str().unwrap().to_owned();
    let delivered = invoke(
        "trigger",
        &fire(&api, &tenant, &id, "2026-08-01T00:00:00Z").await,
    )
    .await;
    let run = wait_for_end(&api, &tenant, delivered["run_id"].as_str().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(
        db::psql(&format!("SELECT count(*), sum(amount) FROM {table}")).trim(),
        "500\t125500.00"
    );

    let json_job = api.post("/jobs", &tenant, &json!({
        "name": "json out", "options": {"mode": "batch"},
        "source": {"source_id": pg, "object": format!("public.{table}"), "columns": columns()},
        "target": {"source_id": files, "object": "out", "write_mode": "append", "format": {"type": "json"}}
    })).await;
    assert_eq!(json_job.status, StatusCode::CREATED, "{}", json_job.text);
    let id = json_job.json()["id"].as_str().unwrap().to_owned();
    let delivered = invoke(
        "trigger",
        &fire(&api, &tenant, &id, "2026-08-01T01:00:00Z").await,
    )
    .await;
    let run = wait_for_end(&api, &tenant, delivered["run_id"].as_str().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let mut lines = Vec::new();
    for entry in walk(&dir.join("out")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        lines.extend(text.lines().map(str::to_owned));
    }
    assert_eq!(lines.len(), 500);
    let parsed: Value = serde_json::from_str(&lines[0]).unwrap();
    assert!(
        parsed["note"]
            .as_str()
            .unwrap()
            .starts_with("note, with comma")
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn manual_runs_through_the_api_run_and_cancel() {
    let api = Api::new();
    let tenant = fresh_tenant("manual");
    let table = format!("manual_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT, qty INT, amount NUMERIC(12,2), note VARCHAR(200), updated_at TIMESTAMP(3));
         INSERT INTO {table} SELECT g, g % 100, g, 'row ' || g, TIMESTAMP '2026-01-01' FROM generate_series(1, 1000) g;"
    ));
    let big = format!("big_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {big} (id BIGINT, qty INT, amount NUMERIC(12,2), note VARCHAR(200), updated_at TIMESTAMP(3));
         INSERT INTO {big} SELECT g, g % 100, g, repeat('x', 150), TIMESTAMP '2026-01-01' FROM generate_series(1, 2000000) g;"
    ));
    for t in [&table, &big] {
        db::mariadb(&format!(
            "CREATE TABLE {t} (id BIGINT, qty INT, amount DECIMAL(12,2), note VARCHAR(200), updated_at DATETIME(3))"
        ));
    }
    let pg = postgres_source(&api, &tenant).await;
    let maria = mariadb_source(&api, &tenant).await;
    let job_for = |t: &str| {
        json!({
            "name": format!("manual {t}"), "options": {"mode": "batch"},
            "source": {"source_id": pg, "object": format!("public.{t}"), "columns": columns()},
            "target": {"source_id": maria, "object": t, "write_mode": "append"}
        })
    };

    let job = api.post("/jobs", &tenant, &job_for(&table)).await.json();
    let job_id = job["id"].as_str().unwrap();
    let started = api
        .send(
            reqwest::Method::POST,
            &format!("/jobs/{job_id}/runs"),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let run = started.json();
    assert_eq!(run["trigger"], "manual");
    let done = wait_for_end(&api, &tenant, run["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(
        db::mariadb(&format!("SELECT count(*) FROM {table}")).trim(),
        "1000"
    );
    let history = api
        .get(&format!("/jobs/{job_id}/runs"), &tenant)
        .await
        .json();
    assert_eq!(history["items"][0]["id"], run["id"]);
    // An ended run cannot be canceled.
    let late = api
        .send(
            reqwest::Method::POST,
            &format!("/runs/{}/cancel", run["id"].as_str().unwrap()),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);

    // A long run is canceled on Flink.
    let job = api.post("/jobs", &tenant, &job_for(&big)).await.json();
    let job_id = job["id"].as_str().unwrap();
    let started = api
        .send(
            reqwest::Method::POST,
            &format!("/jobs/{job_id}/runs"),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    let run_id = started.json()["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    let flink_job = loop {
        let run = api.get(&format!("/runs/{run_id}"), &tenant).await.json();
        if let Some(id) = run["flink_job_id"].as_str() {
            break id.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached Flink: {run}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let canceled = api
        .send(
            reqwest::Method::POST,
            &format!("/runs/{run_id}/cancel"),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.text);
    assert_eq!(canceled.json()["state"], "canceled");
    wait_until_flink_canceled(&flink_job).await;
}

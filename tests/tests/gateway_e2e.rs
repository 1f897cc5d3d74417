//! The `gateway` Flink target end to end: jobs built through the HTTP API
//! with `flink_target: "gw"`, run through the trigger, submitted as
//! plaintext SQL to the local SQL Gateway, followed by the reconciler on the
//! JobManager, canceled through the API. Needs the functions configured with
//! a gateway target named `gw` (`SLUICE_FLINK_TARGETS`, as `infra/local/up.sh`
//! writes it) and the gateway running (`infra/flink/start.sh`). Run with
//! `make test`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sluice_tests::{
    Api, db, flink_get, fresh_tenant, function_log, reconcile_until, run_ended,
    wait_until_flink_canceled,
};

const GATEWAY_TARGET: &str = "gw";

async fn sources(api: &Api, tenant: &str) -> (String, String) {
    let pg = api.register_source(tenant, db::postgres_source()).await;
    let maria = api.register_source(tenant, db::mariadb_source()).await;
    (pg, maria)
}

fn job(name: &str, pg: &str, maria: &str, table: &str, target: Option<&str>) -> Value {
    let mut body = json!({
        "name": name,
        "source": {"source_id": pg, "object": format!("public.{table}"), "columns": [
            {"name": "id", "type": "BIGINT"},
            {"name": "qty", "type": "INT"},
            {"name": "amount", "type": "DECIMAL(12,2)"},
            {"name": "note", "type": "VARCHAR(200)"}
        ]},
        "target": {"source_id": maria, "object": table, "write_mode": "upsert", "primary_key": ["id"]},
        "options": {"mode": "batch", "parallelism": 2}
    });
    if let Some(target) = target {
        body["flink_target"] = json!(target);
    }
    body
}

async fn start_run(api: &Api, tenant: &str, job_id: &str) -> String {
    let started = api
        .send(
            Method::POST,
            &format!("/jobs/{job_id}/runs"),
            Some(tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.text);
    started.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
#[ignore = "needs the local stack with the gateway target: run `make test`"]
async fn postgres_to_mariadb_through_the_gateway_moves_every_row_and_cancels() {
    const ROWS: u32 = 20_000;
    let api = Api::new();
    let tenant = fresh_tenant("gw");
    let suffix = &tenant[tenant.len() - 8..];
    let table = format!("gw_{suffix}");
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, qty INT, amount NUMERIC(12,2), note VARCHAR(200));
         INSERT INTO {table}
         SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 1000 END, (g * 1.25)::numeric(12,2),
                'it''s row ' || g || ' ünïcødé'
         FROM generate_series(1, {ROWS}) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, qty INT, amount DECIMAL(12,2), note VARCHAR(200)) CHARACTER SET utf8mb4"
    ));
    let (pg, maria) = sources(&api, &tenant).await;

    // An unknown target is refused when the job is built, naming the field.
    let refused = api
        .post(
            "/jobs",
            &tenant,
            &job("nowhere", &pg, &maria, &table, Some("nowhere")),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.json()["field"], "flink_target", "{}", refused.text);

    let created = api
        .post(
            "/jobs",
            &tenant,
            &job(
                "through the gateway",
                &pg,
                &maria,
                &table,
                Some(GATEWAY_TARGET),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json()["flink_target"], GATEWAY_TARGET);
    let job_id = created.json()["id"].as_str().unwrap().to_owned();

    let run_id = start_run(&api, &tenant, &job_id).await;
    let run = reconcile_until(&api, &tenant, &run_id, 240, run_ended).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(run["flink_target"], GATEWAY_TARGET, "{run}");
    let flink_job = run["flink_job_id"].as_str().unwrap().to_owned();
    let normalized = |rows: String| {
        let mut lines: Vec<String> = rows.lines().map(str::to_owned).collect();
        lines.sort_unstable();
        lines
    };
    let source = normalized(db::psql(&format!(
        "SELECT id, coalesce(qty::text, 'NULL'), to_char(amount, 'FM9999999990.00'), note FROM {table}"
    )));
    let copied = normalized(db::mariadb(&format!(
        "SELECT id, coalesce(qty, 'NULL'), amount, note FROM {table}"
    )));
    assert_eq!(copied.len(), ROWS as usize);
    assert!(source == copied, "MariaDB's rows differ from PostgreSQL's");
    // The job ran on the gateway's cluster under the run's name.
    let (status, body) = flink_get(&format!("/jobs/{flink_job}")).await;
    assert!(status.is_success(), "{status}: {body}");
    let details: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(details["state"], "FINISHED");

    // Plaintext went to the gateway only: not into what the API, Flink's
    // job views or the functions' logs show.
    let password = db::password();
    for path in [
        format!("/jobs/{flink_job}"),
        format!("/jobs/{flink_job}/config"),
        format!("/jobs/{flink_job}/plan"),
    ] {
        let (_, body) = flink_get(&path).await;
        assert!(
            !body.contains(&password),
            "Flink's {path} shows the password"
        );
    }
    let runs = api.get(&format!("/jobs/{job_id}/runs"), &tenant).await;
    assert!(!runs.text.contains(&password));
    assert!(
        !function_log().contains(&password),
        "the function log shows the password"
    );

    // A long run is canceled through the API, on the JobManager.
    let big = format!("gwbig_{suffix}");
    db::psql(&format!(
        "CREATE TABLE {big} (id BIGINT PRIMARY KEY, qty INT, amount NUMERIC(12,2), note VARCHAR(200));
         INSERT INTO {big} SELECT g, g % 100, g, repeat('x', 150) FROM generate_series(1, 2000000) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {big} (id BIGINT PRIMARY KEY, qty INT, amount DECIMAL(12,2), note VARCHAR(200))"
    ));
    let created = api
        .post(
            "/jobs",
            &tenant,
            &job("long", &pg, &maria, &big, Some(GATEWAY_TARGET)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let long_id = created.json()["id"].as_str().unwrap().to_owned();
    let run_id = start_run(&api, &tenant, &long_id).await;
    let run = reconcile_until(&api, &tenant, &run_id, 240, |r| {
        r["flink_job_id"].is_string() || run_ended(r)
    })
    .await;
    assert_eq!(run["state"], "running", "{run}");
    let flink_job = run["flink_job_id"].as_str().unwrap().to_owned();
    let canceled = api
        .send(
            Method::POST,
            &format!("/runs/{run_id}/cancel"),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.text);
    assert_eq!(canceled.json()["state"], "canceled");
    wait_until_flink_canceled(&flink_job).await;
    let copied: u64 = db::mariadb(&format!("SELECT count(*) FROM {big}"))
        .trim()
        .parse()
        .unwrap();
    assert!(copied < 2_000_000, "the canceled run copied everything");
}

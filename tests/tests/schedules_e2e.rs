//! Scheduling end to end on the local stack (issue 5): schedules made
//! through the API, fired by the local scheduler bridge or delivered by
//! hand exactly as EventBridge delivers them, and the policies the trigger
//! and reconciler honour, checked on the rows Flink moved. Run with
//! `make test`.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sluice_tests::{
    Api, create_job, db, fresh_tenant, invoke, reconcile_until, run_ended,
    schedule_for_hand_delivery, scheduler_event, wait_until_flink_canceled,
};

/// A PostgreSQL and a MariaDB source of the local databases.
async fn endpoints(api: &Api, tenant: &str) -> (String, String) {
    let pg = api.register_source(tenant, db::postgres_source()).await;
    let maria = api.register_source(tenant, db::mariadb_source()).await;
    (pg, maria)
}

const COLUMNS: &str = r#"[{"name": "id", "type": "BIGINT"}, {"name": "amount", "type": "BIGINT"},
    {"name": "updated_at", "type": "TIMESTAMP(3)"}]"#;

/// A PostgreSQL table of `rows` rows and its empty MariaDB twin (created
/// only when `with_target`).
fn tables(name: &str, rows: u32, with_target: bool) {
    db::psql(&format!(
        "CREATE TABLE {name} (id BIGINT, amount BIGINT, updated_at TIMESTAMP(3));
         INSERT INTO {name} SELECT g, g, TIMESTAMP '2026-01-01' FROM generate_series(1, {rows}) g;"
    ));
    if with_target {
        maria_table(name);
    }
}

fn maria_table(name: &str) {
    db::mariadb(&format!(
        "CREATE TABLE {name} (id BIGINT, amount BIGINT, updated_at DATETIME(3))"
    ));
}

fn copy_job(pg: &str, maria: &str, table: &str) -> Value {
    json!({
        "name": format!("copy {table}"), "options": {"mode": "batch"},
        "source": {"source_id": pg, "object": format!("public.{table}"),
                   "columns": serde_json::from_str::<Value>(COLUMNS).unwrap()},
        "target": {"source_id": maria, "object": table, "write_mode": "append"}
    })
}

async fn put_schedule(api: &Api, tenant: &str, job_id: &str, body: &Value) -> (StatusCode, Value) {
    let reply = api
        .send(
            Method::PUT,
            &format!("/jobs/{job_id}/schedule"),
            Some(tenant),
            &[],
            Some(&body.to_string()),
        )
        .await;
    (
        reply.status,
        serde_json::from_str(&reply.text).unwrap_or(Value::Null),
    )
}

async fn run(api: &Api, tenant: &str, run_id: &str) -> Value {
    api.get(&format!("/runs/{run_id}"), tenant).await.json()
}

async fn runs_of(api: &Api, tenant: &str, job_id: &str) -> Vec<Value> {
    let page = api
        .get(&format!("/jobs/{job_id}/runs"), tenant)
        .await
        .json();
    page["items"].as_array().cloned().unwrap_or_default()
}

fn maria_count(sql: &str) -> u64 {
    db::mariadb(sql).trim().parse().unwrap()
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_schedule_made_through_the_api_fires_through_the_bridge() {
    let api = Api::new();
    let tenant = fresh_tenant("sched");
    let table = format!("bridge_{}", &tenant[tenant.len() - 8..]);
    tables(&table, 300, true);
    let (pg, maria) = endpoints(&api, &tenant).await;
    let job_id = create_job(&api, &tenant, &copy_job(&pg, &maria, &table)).await;

    // Bad schedules are refused with the field named, and nothing is kept.
    let (status, problem) = put_schedule(
        &api,
        &tenant,
        &job_id,
        &json!({"expression": "cron(0 12 * * * *)", "timezone": "Europe/Berlin"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "expression", "{problem}");
    let (status, problem) = put_schedule(
        &api,
        &tenant,
        &job_id,
        &json!({"xxl_cron": "*/30 * * * * ?"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "xxl_cron", "{problem}");
    let missing = api.get(&format!("/jobs/{job_id}/schedule"), &tenant).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Every minute, imported from XXL-JOB's form.
    let (status, schedule) = put_schedule(
        &api,
        &tenant,
        &job_id,
        &json!({"xxl_cron": "0 * * * * ?", "timezone": "Asia/Shanghai"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{schedule}");
    assert_eq!(schedule["expression"], "cron(* * * * ? *)");
    assert_eq!(schedule["state"], "ENABLED");
    let fires = schedule["next_fires"].as_array().unwrap();
    assert_eq!(fires.len(), 5, "{schedule}");
    let view = api.get(&format!("/jobs/{job_id}"), &tenant).await.json();
    assert_eq!(
        view["schedule"]["expression"], "cron(* * * * ? *)",
        "{view}"
    );

    // The bridge fires it within the next minute (plus a margin).
    let deadline = Instant::now() + Duration::from_secs(150);
    let fired = loop {
        let scheduled: Vec<Value> = runs_of(&api, &tenant, &job_id)
            .await
            .into_iter()
            .filter(|r| r["trigger"] == "schedule")
            .collect();
        if let Some(first) = scheduled.last() {
            break first.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the bridge never fired the schedule"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    // The fire time is a whole minute, as EventBridge's are.
    assert!(
        fired["scheduled_time"]
            .as_str()
            .unwrap()
            .ends_with(":00.000Z"),
        "{fired}"
    );
    // Stop further fires before checking the rows of exactly one run.
    let gone = api
        .delete(&format!("/jobs/{job_id}/schedule"), &tenant)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let done = reconcile_until(&api, &tenant, fired["id"].as_str().unwrap(), 240, run_ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let runs = runs_of(&api, &tenant, &job_id).await;
    let succeeded = runs.iter().filter(|r| r["state"] == "succeeded").count() as u64;
    assert_eq!(
        maria_count(&format!("SELECT count(*) FROM {table}")),
        300 * succeeded
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn three_fires_of_an_incremental_job_move_every_new_row_once() {
    let api = Api::new();
    let tenant = fresh_tenant("incr");
    let table = format!("incr_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT, amount BIGINT, updated_at TIMESTAMP(3));
         INSERT INTO {table} SELECT g, g, TIMESTAMP '2026-05-01 00:00' + g * INTERVAL '1 second'
         FROM generate_series(1, 1000) g;"
    ));
    maria_table(&table);
    let (pg, maria) = endpoints(&api, &tenant).await;
    let mut body = copy_job(&pg, &maria, &table);
    body["source"]["incremental"] =
        json!({"column": "updated_at", "start": "2026-05-01T00:00:00Z", "lag_seconds": 60});
    let job_id = create_job(&api, &tenant, &body).await;
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({})).await;

    // Fires an hour apart; between them the source changes: new rows, and
    // rows arriving with later timestamps.
    let fires = [
        "2026-05-01T01:00:00Z",
        "2026-05-01T02:00:00Z",
        "2026-05-01T03:00:00Z",
    ];
    let mut windows = Vec::new();
    for (i, at) in fires.iter().enumerate() {
        if i > 0 {
            let base = 1000 * (i as u64 + 1);
            db::psql(&format!(
                "INSERT INTO {table} SELECT {base} + g, g,
                   TIMESTAMP '{}' - INTERVAL '1 minute' + g * INTERVAL '1 second'
                 FROM generate_series(1, 500) g;",
                fires[i - 1].trim_end_matches('Z').replace('T', " ")
            ));
        }
        let delivered = invoke("trigger", &scheduler_event(&tenant, &job_id, at)).await;
        assert_eq!(delivered["outcome"], "submitted", "{delivered}");
        let run_id = delivered["run_id"].as_str().unwrap();
        let done = reconcile_until(&api, &tenant, run_id, 240, run_ended).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        windows.push(done["window"].clone());
    }
    // Each window starts where the previous one ended (the watermark).
    assert_eq!(windows[0]["from"], "2026-05-01T00:00:00Z", "{windows:?}");
    assert_eq!(windows[1]["from"], windows[0]["to"], "{windows:?}");
    assert_eq!(windows[2]["from"], windows[1]["to"], "{windows:?}");
    assert_eq!(windows[2]["to"], "2026-05-01T02:59:00Z", "{windows:?}");

    // Every row older than the last window's end arrived exactly once.
    let expected: u64 = db::psql(&format!(
        "SELECT count(*) FROM {table} WHERE updated_at < TIMESTAMP '2026-05-01 02:59:00'"
    ))
    .trim()
    .parse()
    .unwrap();
    assert_eq!(expected, 2000, "the source changed as planned");
    assert_eq!(
        maria_count(&format!("SELECT count(*) FROM {table}")),
        expected
    );
    assert_eq!(
        maria_count(&format!("SELECT count(DISTINCT id) FROM {table}")),
        expected
    );
}

/// A PostgreSQL view whose rows never end, each a few milliseconds late,
/// and its empty MariaDB twin: a job over it cannot finish on its own,
/// however fast the machine, so it is still running when its timeout
/// strikes. (A volatile function sleeps per row; the `generate_series` in
/// the select list streams, so a cursor gets rows as they come.)
fn endless_view(name: &str) {
    db::psql(&format!(
        "CREATE FUNCTION {name}_row(g BIGINT) RETURNS BIGINT LANGUAGE plpgsql VOLATILE
           AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN g; END $$;
         CREATE VIEW {name} AS SELECT {name}_row(g) AS id, g AS amount,
           CAST(TIMESTAMP '2026-01-01' AS TIMESTAMP(3)) AS updated_at
           FROM (SELECT generate_series(1::BIGINT, 9223372036854775806::BIGINT) AS g) s;"
    ));
    maria_table(name);
}

async fn flink_job_of(api: &Api, tenant: &str, run_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current = run(api, tenant, run_id).await;
        if let Some(id) = current["flink_job_id"].as_str() {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "never reached Flink: {current}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn overlap_skip_records_a_skipped_run_and_a_timeout_cancels_the_flink_job() {
    let api = Api::new();
    let tenant = fresh_tenant("long");
    let table = format!("long_{}", &tenant[tenant.len() - 8..]);
    endless_view(&table);
    let (pg, maria) = endpoints(&api, &tenant).await;
    let mut job = copy_job(&pg, &maria, &table);
    // Small fetches: the reader waits for a few rows at a time, so a
    // cancel reaches it at once.
    job["options"]["fetch_size"] = json!(50);
    let job_id = create_job(&api, &tenant, &job).await;
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({"timeout_seconds": 8})).await;

    let first = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-04-01T00:00:00Z"),
    )
    .await;
    assert_eq!(first["outcome"], "submitted", "{first}");
    let first_run = first["run_id"].as_str().unwrap().to_owned();
    let flink_job = flink_job_of(&api, &tenant, &first_run).await;

    // While it runs, the next fire is skipped and says why.
    let second = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-04-01T00:01:00Z"),
    )
    .await;
    assert_eq!(second["outcome"], "skipped", "{second}");
    let skipped = run(&api, &tenant, second["run_id"].as_str().unwrap()).await;
    assert_eq!(skipped["state"], "skipped", "{skipped}");
    assert_eq!(skipped["error"]["code"], "overlap");
    assert!(
        skipped["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&first_run)
    );

    // Past its timeout, the reconciler cancels the Flink job.
    let ended_run = reconcile_until(&api, &tenant, &first_run, 120, run_ended).await;
    assert_eq!(ended_run["state"], "timed_out", "{ended_run}");
    assert_eq!(ended_run["error"]["code"], "timed_out");
    wait_until_flink_canceled(&flink_job).await;
    // Stopped: nothing more arrives.
    let copied = maria_count(&format!("SELECT count(*) FROM {table}"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        maria_count(&format!("SELECT count(*) FROM {table}")),
        copied,
        "the job was stopped, it writes no more"
    );

    // With the slot free, the next fire runs again.
    let third = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-04-01T00:02:00Z"),
    )
    .await;
    assert_eq!(third["outcome"], "submitted", "{third}");
    let canceled = api
        .send(
            Method::POST,
            &format!("/runs/{}/cancel", third["run_id"].as_str().unwrap()),
            Some(&tenant),
            &[],
            None,
        )
        .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.text);
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_failed_run_is_retried_after_its_backoff_and_then_succeeds() {
    let api = Api::new();
    let tenant = fresh_tenant("retry");
    let table = format!("retry_{}", &tenant[tenant.len() - 8..]);
    // A target table without the job's columns: the first attempt gets past
    // the check that the table exists (README, "Target tables and schema
    // drift") and fails on Flink.
    tables(&table, 200, false);
    db::mariadb(&format!("CREATE TABLE {table} (id BIGINT)"));
    let (pg, maria) = endpoints(&api, &tenant).await;
    let job_id = create_job(&api, &tenant, &copy_job(&pg, &maria, &table)).await;
    schedule_for_hand_delivery(
        &api,
        &tenant,
        &job_id,
        json!({"retry": {"max_attempts": 3, "backoff_seconds": 10}}),
    )
    .await;

    let first = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-03-01T00:00:00Z"),
    )
    .await;
    assert_eq!(first["outcome"], "submitted", "{first}");
    let run_id = first["run_id"].as_str().unwrap().to_owned();
    let failed = reconcile_until(&api, &tenant, &run_id, 180, |r| r["state"] == "failed").await;
    assert_eq!(failed["attempts"], 1, "{failed}");
    let next_attempt = failed["next_attempt_at"]
        .as_str()
        .expect("a next attempt is planned");
    let failed_at = failed["finished_at"].as_str().unwrap();
    let gap = chrono_seconds(next_attempt) - chrono_seconds(failed_at);
    assert!((9.0..=11.0).contains(&gap), "backoff {gap}s: {failed}");

    // Fix the cause; the reconciler hands over the next attempt after the
    // backoff, as the same run.
    db::mariadb(&format!("DROP TABLE {table}"));
    maria_table(&table);
    let done = reconcile_until(&api, &tenant, &run_id, 240, |r| {
        r["state"] == "succeeded" || (r["state"] == "failed" && r["next_attempt_at"].is_null())
    })
    .await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["attempts"], 2, "{done}");
    assert_eq!(maria_count(&format!("SELECT count(*) FROM {table}")), 200);
    assert_eq!(runs_of(&api, &tenant, &job_id).await.len(), 1);
}

/// Seconds since the epoch of an RFC 3339 time (the API's millisecond form).
fn chrono_seconds(rfc3339: &str) -> f64 {
    let (date, time) = rfc3339.trim_end_matches('Z').split_once('T').unwrap();
    let parts: Vec<f64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let days: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    // Same day in these tests; the day only breaks ties across midnight.
    (days[2] * 86_400) as f64 + parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_child_job_runs_once_after_its_parent_succeeds() {
    let api = Api::new();
    let tenant = fresh_tenant("child");
    let parent_table = format!("parent_{}", &tenant[tenant.len() - 8..]);
    let child_table = format!("child_{}", &tenant[tenant.len() - 8..]);
    tables(&parent_table, 100, true);
    tables(&child_table, 70, true);
    let (pg, maria) = endpoints(&api, &tenant).await;
    let parent = create_job(&api, &tenant, &copy_job(&pg, &maria, &parent_table)).await;
    let child = create_job(&api, &tenant, &copy_job(&pg, &maria, &child_table)).await;
    schedule_for_hand_delivery(&api, &tenant, &parent, json!({"on_success": [child]})).await;
    // The child naming its parent back would be a cycle.
    let (status, problem) = put_schedule(
        &api,
        &tenant,
        &child,
        &json!({"expression": "rate(1 day)", "on_success": [parent]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "on_success[0]", "{problem}");

    let fired = invoke(
        "trigger",
        &scheduler_event(&tenant, &parent, "2026-02-01T00:00:00Z"),
    )
    .await;
    assert_eq!(fired["outcome"], "submitted", "{fired}");
    let parent_run = fired["run_id"].as_str().unwrap().to_owned();
    let done = reconcile_until(&api, &tenant, &parent_run, 240, run_ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");

    let deadline = Instant::now() + Duration::from_secs(240);
    let child_run = loop {
        invoke("reconciler", &json!({})).await;
        let runs = runs_of(&api, &tenant, &child).await;
        if let Some(r) = runs.first().filter(|r| run_ended(r)) {
            break r.clone();
        }
        assert!(Instant::now() < deadline, "the child never ran: {runs:?}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(child_run["state"], "succeeded", "{child_run}");
    assert_eq!(child_run["trigger"], "parent");
    assert_eq!(child_run["parent_run_id"], parent_run.as_str());
    // More reconciler passes start nothing more.
    for _ in 0..3 {
        invoke("reconciler", &json!({})).await;
    }
    assert_eq!(runs_of(&api, &tenant, &child).await.len(), 1);
    assert_eq!(
        maria_count(&format!("SELECT count(*) FROM {child_table}")),
        70
    );
}

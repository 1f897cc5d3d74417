//! Row counts and run events on the local stack: a JDBC -> JDBC run
//! (PostgreSQL -> MariaDB) records exact rows read and written, and each of
//! its state changes reaches EventBridge once, in order, with the documented
//! fields and no secret. moto's bus `sluice-runs` has a rule that sends
//! sluice's events to the queue `sluice-run-events` (infra/local/bootstrap.py).
//! Run with `make test`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sluice_tests::{
    Api, db, fresh_tenant, invoke, schedule_for_hand_delivery, scheduler_event, wait_for_run_end,
};

const ROWS: u64 = 20_000;

/// A value of the stack's function environment (infra/local/up.sh).
fn function_env(name: &str) -> String {
    let state = std::env::var("SLUICE_STATE").expect("SLUICE_STATE: run `make test`");
    let env = std::fs::read_to_string(format!("{state}/function.env")).expect("function.env");
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} is not in function.env"))
        .trim()
        .to_owned()
}

/// The bodies of the run events of `run_id` that reach the queue within
/// `seconds`, until one has the state `last`. Every message read is deleted
/// (other runs' events included: this is the queue's only reader).
async fn events_of(run_id: &str, last: &str, seconds: u64) -> Vec<Value> {
    let config = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue = function_env("SLUICE_RUN_EVENTS_QUEUE_URL");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut mine = Vec::new();
    while Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        for m in out.messages() {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .expect("delete");
            if body["detail"]["run_id"] == run_id {
                mine.push(body);
            }
        }
        if mine.iter().any(|e| e["detail"]["state"] == last) {
            // Late duplicates would arrive right behind it.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let more = sqs
                .receive_message()
                .queue_url(&queue)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for m in more.messages() {
                let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
                if body["detail"]["run_id"] == run_id {
                    mine.push(body);
                }
            }
            break;
        }
    }
    // The bus does not promise order: the run's version does.
    mine.sort_by_key(|e| e["detail"]["version"].as_u64());
    mine
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_jdbc_run_counts_its_rows_and_publishes_each_state_change_once() {
    let api = Api::new();
    let tenant = fresh_tenant("events");
    let table = format!("counted_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, note VARCHAR(100));
         INSERT INTO {table} SELECT g, 'row ' || g FROM generate_series(1, {ROWS}) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY, note VARCHAR(100)) CHARACTER SET utf8mb4"
    ));
    // The databases' password is the canary (infra/local/test.sh makes it one).
    let password = db::password();
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let maria = api.register_source(&tenant, db::mariadb_source()).await;
    let job = api
        .post(
            "/jobs",
            &tenant,
            &json!({
                "name": "counted",
                "source": {"source_id": pg, "object": format!("public.{table}"),
                           "columns": [{"name": "id", "type": "BIGINT"},
                                       {"name": "note", "type": "VARCHAR(100)"}]},
                "target": {"source_id": maria, "object": table, "write_mode": "append"},
                "options": {"mode": "batch", "parallelism": 2}
            }),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.text);
    let job_id = job.json()["id"].as_str().unwrap().to_owned();
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({"overlap": "allow"})).await;

    let at = "2026-06-01T00:00:00Z";
    let delivered = invoke("trigger", &scheduler_event(&tenant, &job_id, at)).await;
    assert_eq!(delivered["outcome"], "submitted", "{delivered}");
    let run_id = delivered["run_id"].as_str().unwrap().to_owned();
    // A duplicate delivery changes nothing, so it publishes nothing.
    let again = invoke("trigger", &scheduler_event(&tenant, &job_id, at)).await;
    assert_eq!(again["outcome"], "already_handled", "{again}");

    let run = wait_for_run_end(&api, &tenant, &run_id, 240).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let in_target: u64 = db::mariadb(&format!("SELECT count(*) FROM {table}"))
        .trim()
        .parse()
        .unwrap();
    assert_eq!(in_target, ROWS);
    assert_eq!(run["rows_read"], ROWS, "{run}");
    assert_eq!(run["rows_written"], ROWS, "{run}");

    let events = events_of(&run_id, "succeeded", 60).await;
    let states: Vec<(Value, Value)> = events
        .iter()
        .map(|e| {
            (
                e["detail"]["previous_state"].clone(),
                e["detail"]["state"].clone(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (Value::Null, json!("pending")),
            (json!("pending"), json!("submitting")),
            (json!("submitting"), json!("running")),
            (json!("running"), json!("succeeded")),
        ],
        "{events:#?}"
    );
    let flink_job_id = run["flink_job_id"].as_str().unwrap();
    for (n, event) in events.iter().enumerate() {
        assert_eq!(event["source"], "sluice");
        assert_eq!(event["detail-type"], "Sluice Run State Change");
        let d = &event["detail"];
        let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "attempt",
                "created_at",
                "error",
                "final",
                "flink_job_id",
                "job_id",
                "previous_state",
                "rows_read",
                "rows_written",
                "run_id",
                "scheduled_time",
                "state",
                "tenant",
                "time",
                "trigger",
                "version"
            ]
        );
        assert_eq!(d["tenant"], tenant.as_str());
        assert_eq!(d["job_id"], job_id.as_str());
        assert_eq!(d["trigger"], "schedule");
        assert_eq!(d["scheduled_time"], at);
        assert_eq!(d["error"], Value::Null);
        assert_eq!(d["attempt"], if n == 0 { 0 } else { 1 });
        // Only the end is final (the run succeeded on its first attempt).
        assert_eq!(d["final"], n == 3);
        if n >= 2 {
            assert_eq!(d["flink_job_id"], flink_job_id);
        }
        let text = event.to_string();
        assert!(!text.contains(&password), "an event shows the password");
        assert!(!text.contains("INSERT INTO"), "an event shows SQL");
    }
    let done = &events[3]["detail"];
    assert_eq!(
        (done["rows_read"].as_u64(), done["rows_written"].as_u64()),
        (Some(ROWS), Some(ROWS))
    );
    assert_eq!(done["version"], run["version"]);

    // The run report counts the run once, with its rows, tenant-wide and for the job.
    for query in [
        format!("/reports/runs?bucket=hour&job_id={job_id}"),
        "/reports/runs".to_owned(),
    ] {
        let report = api.get(&query, &tenant).await;
        assert_eq!(report.status, StatusCode::OK, "{}", report.text);
        let buckets = report.json()["buckets"].as_array().unwrap().clone();
        let total = |f: &dyn Fn(&Value) -> u64| buckets.iter().map(f).sum::<u64>();
        assert_eq!(
            total(&|b| b["runs"]["succeeded"].as_u64().unwrap()),
            1,
            "{query}"
        );
        assert_eq!(
            total(&|b| b["runs"]
                .as_object()
                .unwrap()
                .values()
                .map(|n| n.as_u64().unwrap())
                .sum()),
            1,
            "{query}"
        );
        assert_eq!(
            total(&|b| b["rows_written"].as_u64().unwrap()),
            ROWS,
            "{query}"
        );
    }
    // And its end is a metric in the function log (EMF), by state, with its rows.
    let log = sluice_tests::function_log();
    let emf: Vec<Value> = log
        .lines()
        .filter(|l| l.contains("CloudWatchMetrics") && l.contains(&run_id))
        .map(|l| serde_json::from_str(l).expect("an EMF line is one JSON document"))
        .collect();
    let end = emf
        .iter()
        .find(|d| d["State"] == "succeeded")
        .unwrap_or_else(|| panic!("no EMF line for the run's end: {emf:#?}"));
    assert_eq!(
        (end["Runs"].as_u64(), end["RowsWritten"].as_u64()),
        (Some(1), Some(ROWS))
    );
    assert!(emf.iter().any(|d| d["StartLag"].is_number()), "{emf:#?}");
    assert!(
        !log.contains(&password),
        "the function log shows the password"
    );
}

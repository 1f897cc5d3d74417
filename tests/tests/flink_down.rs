//! With the Flink cluster stopped, a fire ends in a failed run with a clear
//! error and a retryable answer, and nothing else changes. This test stops
//! and restarts the local cluster, so it lives alone in its binary (cargo
//! runs test binaries one after another). Run with `make test`.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use sluice_tests::{Api, Table, db, fresh_tenant, invoke, schedule_for_hand_delivery};

fn flink_script(name: &str) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../infra/flink/{name}.sh"));
    let status = Command::new(script)
        .status()
        .expect("the Flink script runs");
    assert!(status.success(), "infra/flink/{name}.sh failed");
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_fire_while_flink_is_down_fails_the_run_and_changes_nothing_else() {
    let api = Api::new();
    let table = Table::connect().await;
    let tenant = fresh_tenant("down");
    let mut ids = Vec::new();
    for (kind, port, extra) in [
        ("postgres", db::pg_port(), json!({})),
        ("mysql", db::mariadb_port(), json!({"flavor": "mariadb"})),
    ] {
        let mut config =
            json!({"host": "127.0.0.1", "port": port, "database": "sluice", "username": "sluice"});
        config
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let reply = api
            .post(
                "/sources",
                &tenant,
                &json!({"name": kind, "kind": kind, "config": config,
                "secrets": {"password": db::password()}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        ids.push(reply.json()["id"].as_str().unwrap().to_owned());
    }
    // The target table is created before the submission (README, "Target
    // tables and schema drift"): the run gets as far as Flink.
    let target = format!("down_{}", &tenant[tenant.len() - 8..]);
    let job = api
        .post("/jobs", &tenant, &json!({
            "name": "down", "options": {"mode": "batch"},
            "source": {"source_id": ids[0], "object": "public.nothing", "columns": [{"name": "id", "type": "BIGINT"}]},
            "target": {"source_id": ids[1], "object": target, "write_mode": "append",
                       "create": "if_missing"}
        }))
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.text);
    let job_id = job.json()["id"].as_str().unwrap().to_owned();
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({})).await;
    let before = table.tenant_items(&tenant).await;

    flink_script("stop");
    let answer = invoke(
        "trigger",
        &json!({"tenant": tenant, "job_id": job_id,
        "scheduled_time": "2026-09-01T00:00:00Z", "attempt": "1"}),
    )
    .await;
    flink_script("start");

    // The delivery failed retryably, so EventBridge would deliver again.
    assert_eq!(answer["errorType"], "Retryable", "{answer}");
    let runs = api
        .get(&format!("/jobs/{job_id}/runs"), &tenant)
        .await
        .json();
    let run = &runs["items"][0];
    assert_eq!(run["state"], "failed", "{runs}");
    assert_eq!(run["error"]["code"], "flink_unreachable");
    assert!(run["error"]["message"].as_str().unwrap().contains("Flink"));

    // Only the run was written.
    let after = table.tenant_items(&tenant).await;
    let without_runs: Vec<_> = after
        .into_iter()
        .filter(|i| !i["sk"].as_s().unwrap().starts_with("RUN#"))
        .collect();
    assert_eq!(without_runs, before);
    db::mariadb(&format!("DROP TABLE `{target}`"));
}

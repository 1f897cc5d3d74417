//! Notifications on the local stack: a webhook receiver started here on 127.0.0.1 (plain http
//! to loopback is allowed in the stack's local-dev builds) checks every notice's HMAC signature;
//! moto's SNS delivers a topic's notices to an SQS queue. The notifier gets the runs' final state
//! changes from moto's EventBridge rule through the scheduler bridge, which invokes it twice per
//! event, so every notice below also survived a duplicate delivery. Runs fail deterministically
//! and fast on a target table that does not exist (`target_missing`, before Flink).
//! Run with `make test`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use sluice_tests::{
    Api, Table, canary, contains, db, fresh_tenant, invoke, item_bytes, reconcile_until,
    schedule_for_hand_delivery, scheduler_event, wait_for_run_end,
};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    timestamp: String,
    signature: String,
    run_id: String,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A webhook receiver on 127.0.0.1: `/ok` answers 200, `/fail` 500; every request is kept.
async fn receiver() -> (SocketAddr, Log) {
    async fn hook(
        State(log): State<Log>,
        Path(name): Path<String>,
        headers: HeaderMap,
        body: Bytes,
    ) -> AxumStatus {
        let header = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        log.lock().unwrap().push(Received {
            path: name.clone(),
            timestamp: header("x-sluice-timestamp"),
            signature: header("x-sluice-signature"),
            run_id: header("x-sluice-run-id"),
            body: body.to_vec(),
        });
        if name == "ok" {
            AxumStatus::OK
        } else {
            AxumStatus::INTERNAL_SERVER_ERROR
        }
    }
    let log: Log = Arc::default();
    let app = Router::new()
        .route("/{name}", post(hook))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, log)
}

/// Checks the request's signature as a receiver would (README, "Notifications").
fn verify(secret: &str, r: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(r.timestamp.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let expected = format!("v1={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(r.signature, expected, "signature of {r:?}");
    let sent: i64 = r.timestamp.parse().expect("a unix timestamp");
    let now = chrono::Utc::now().timestamp();
    assert!((now - sent).abs() < 300, "timestamp {sent} vs now {now}");
}

/// The requests to `path`, once there are `count` of them (then `settle` longer, to catch any
/// extra), within `seconds`.
async fn wait_for(log: &Log, path: &str, count: usize, seconds: u64) -> Vec<Received> {
    let of_path = || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while of_path().len() < count {
        assert!(
            Instant::now() < deadline,
            "{path}: {} of {count} requests: {:#?}",
            of_path().len(),
            of_path()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Duplicate deliveries would land right behind.
    tokio::time::sleep(Duration::from_secs(4)).await;
    of_path()
}

/// A PostgreSQL table of three rows (a name with a space and a reserved word) and a job copying
/// it into MariaDB `target`, which does not exist yet.
async fn job(api: &Api, tenant: &str, suffix: &str, target: &str) -> String {
    let source = format!("alert src {suffix}");
    db::psql(&format!(
        "CREATE TABLE \"{source}\" (id BIGINT PRIMARY KEY, \"select\" VARCHAR(40));
         INSERT INTO \"{source}\" VALUES (1, 'ünï'), (2, ''), (3, NULL);"
    ));
    let pg = api.register_source(tenant, db::postgres_source()).await;
    let maria = api.register_source(tenant, db::mariadb_source()).await;
    sluice_tests::create_job(
        api,
        tenant,
        &json!({
            "name": format!("alerts → {suffix}"),
            "source": {"source_id": pg, "object": format!("public.{source}"),
                       "columns": [{"name": "id", "type": "BIGINT"},
                                   {"name": "select", "type": "VARCHAR(40)"}]},
            "target": {"source_id": maria, "object": target, "write_mode": "append"},
            "options": {"mode": "batch"}
        }),
    )
    .await
}

fn target_table(target: &str) {
    db::mariadb(&format!(
        "CREATE TABLE {target} (id BIGINT PRIMARY KEY, `select` VARCHAR(40)) CHARACTER SET utf8mb4"
    ));
}

/// The final change of `run` as EventBridge delivers it to the notifier.
fn final_event(run: &Value, tenant: &str) -> Value {
    json!({
        "version": "0",
        "id": "2f0a4c8e-0000-4000-8000-000000000000",
        "detail-type": "Sluice Run State Change",
        "source": "sluice",
        "account": "123456789012",
        "time": run["updated_at"],
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "tenant": tenant, "job_id": run["job_id"], "run_id": run["id"],
            "previous_state": "submitting", "state": run["state"], "trigger": run["trigger"],
            "scheduled_time": run["scheduled_time"], "flink_job_id": run["flink_job_id"],
            "rows_read": run["rows_read"], "rows_written": run["rows_written"],
            "error": {"code": run["error"]["code"], "message": run["error"]["message"]},
            "attempt": run["attempts"], "version": run["version"],
            "time": run["updated_at"], "created_at": run["created_at"], "final": true
        }
    })
}

async fn put_notifications(api: &Api, tenant: &str, job_id: &str, body: &Value) -> Value {
    let reply = api
        .put(&format!("/jobs/{job_id}/notifications"), tenant, "*", body)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// An SNS topic the deployment may notify (`sluice-*`) with an SQS queue subscribed (raw).
async fn topic_with_queue(suffix: &str) -> (String, String) {
    let config = aws_config::load_from_env().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic = sns
        .create_topic()
        .name(format!("sluice-alerts-{suffix}"))
        .send()
        .await
        .expect("create topic")
        .topic_arn
        .unwrap();
    let queue = sqs
        .create_queue()
        .queue_name(format!("alerts-{suffix}"))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .unwrap();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");
    (topic, queue)
}

/// The messages of `queue` until there are `count`, within `seconds`.
async fn sns_messages(queue: &str, count: usize, seconds: u64) -> Vec<Value> {
    let config = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut messages = Vec::new();
    while messages.len() < count && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        for m in out.messages() {
            messages.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    messages
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_run_alerts_once_after_its_retries_and_the_next_success_is_recovered() {
    let api = Api::new();
    let tenant = fresh_tenant("notify");
    let suffix = tenant[tenant.len() - 8..].to_owned();
    let target = format!("alerted_{suffix}");
    let (address, log) = receiver().await;
    let (topic, queue) = topic_with_queue(&suffix).await;
    let secret = canary("signing");
    let job_id = job(&api, &tenant, &suffix, &target).await;
    // Three attempts in all: two retries, one second apart.
    schedule_for_hand_delivery(
        &api,
        &tenant,
        &job_id,
        json!({"retry": {"max_attempts": 3, "backoff_seconds": 1}}),
    )
    .await;
    let saved = put_notifications(
        &api,
        &tenant,
        &job_id,
        &json!({
            "rules": [
                {"on": ["failed", "timed_out", "recovered"],
                 "channel": {"type": "webhook", "url": format!("http://{address}/ok"), "format": "json"}},
                {"on": ["failed", "recovered"], "channel": {"type": "sns", "topic_arn": topic}}
            ],
            "signing_secret": secret,
        }),
    )
    .await;
    assert_eq!(saved["signing_secret_set"], true);
    assert_eq!(saved["quiet_period_seconds"], 3600);
    let read = api
        .get(&format!("/jobs/{job_id}/notifications"), &tenant)
        .await;
    assert_eq!(read.json(), saved);
    assert!(!read.text.contains(&secret));

    // The first fire fails three times (target_missing); only the last failure is final.
    let fired = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-07-01T00:00:00Z"),
    )
    .await;
    assert_eq!(fired["outcome"], "failed", "{fired}");
    let failed_id = fired["run_id"].as_str().unwrap().to_owned();
    let failed = reconcile_until(&api, &tenant, &failed_id, 90, |run| {
        run["attempts"] == 3 && run["state"] == "failed" && run["next_attempt_at"].is_null()
    })
    .await;
    assert_eq!(failed["error"]["code"], "target_missing", "{failed}");

    let alerts = wait_for(&log, "ok", 1, 60).await;
    assert_eq!(
        alerts.len(),
        1,
        "one alert for three failed attempts: {alerts:#?}"
    );
    let alert = &alerts[0];
    verify(&secret, alert);
    assert_eq!(alert.run_id, failed_id);
    let notice = alert.json();
    assert_eq!(notice["kind"], "failed");
    assert_eq!(notice["run_id"], failed_id.as_str());
    assert_eq!(notice["job_id"], job_id.as_str());
    assert_eq!(notice["job_name"], format!("alerts → {suffix}"));
    assert_eq!(notice["attempts"], 3);
    assert_eq!(notice["error"]["code"], "target_missing");
    assert_eq!(notice["suppressed_failures"], 0);

    // Delivered again by hand: the run's claim absorbs it.
    let again = invoke("notifier", &final_event(&failed, &tenant)).await;
    assert_eq!(again["outcome"], "Duplicate", "{again}");

    // The run records how each channel took the notice, and is otherwise as it ended.
    let run = reconcile_until(&api, &tenant, &failed_id, 30, |run| {
        run["notifications"]
            .as_array()
            .is_some_and(|n| n.len() == 2)
    })
    .await;
    assert_eq!(run["state"], "failed");
    assert_eq!(run["attempts"], 3);
    let outcomes: Vec<(Value, Value, Value, Value)> = run["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["channel"].clone(),
                n["kind"].clone(),
                n["status"].clone(),
                n["attempts"].clone(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (
                json!(format!("http://{address}")),
                json!("failed"),
                json!("delivered"),
                json!(1)
            ),
            (json!(topic), json!("failed"), json!("delivered"), json!(1)),
        ]
    );

    // The table appears; the next fire succeeds: recovered.
    target_table(&target);
    let fired = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-07-01T01:00:00Z"),
    )
    .await;
    assert_eq!(fired["outcome"], "submitted", "{fired}");
    let ok_id = fired["run_id"].as_str().unwrap().to_owned();
    let ok = wait_for_run_end(&api, &tenant, &ok_id, 240).await;
    assert_eq!(ok["state"], "succeeded", "{ok}");
    assert_eq!(ok["rows_written"], 3, "{ok}");
    let alerts = wait_for(&log, "ok", 2, 60).await;
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    verify(&secret, &alerts[1]);
    let recovered = alerts[1].json();
    assert_eq!(recovered["kind"], "recovered");
    assert_eq!(recovered["run_id"], ok_id.as_str());
    assert_eq!(recovered["rows_written"], 3);

    // SNS: the same two notices, as JSON messages.
    let messages = sns_messages(&queue, 2, 30).await;
    let kinds: Vec<(&str, &str)> = messages
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["run_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("failed", failed_id.as_str()),
            ("recovered", ok_id.as_str())
        ]
    );

    // The signing secret is nowhere in plain form: the function log, the table.
    assert!(!sluice_tests::function_log().contains(&secret));
    let items = Table::connect().await.tenant_items(&tenant).await;
    assert!(
        items
            .iter()
            .any(|i| i["sk"].as_s().unwrap().starts_with("NOTIFY#")),
        "the settings are stored"
    );
    for item in &items {
        assert!(!contains(&item_bytes(item), &secret), "{item:?}");
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn failures_in_a_quiet_period_alert_once_and_the_next_alert_counts_them() {
    let api = Api::new();
    let tenant = fresh_tenant("quiet");
    let suffix = tenant[tenant.len() - 8..].to_owned();
    let target = format!("never_{suffix}");
    let (address, log) = receiver().await;
    let secret = canary("signing");
    let job_id = job(&api, &tenant, &suffix, &target).await;
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({})).await;
    const QUIET: u64 = 20;
    put_notifications(
        &api,
        &tenant,
        &job_id,
        &json!({
            "rules": [
                {"on": ["failed"], "channel": {"type": "webhook", "url": format!("http://{address}/ok")}},
                // A receiver that answers 500: retried, recorded failed, the run unchanged.
                {"on": ["failed"], "channel": {"type": "webhook", "url": format!("http://localhost:{}/fail", address.port()), "format": "slack"}}
            ],
            "quiet_period_seconds": QUIET,
            "signing_secret": secret,
        }),
    )
    .await;

    // Five failing fires in a row, within the quiet period.
    let started = Instant::now();
    let mut runs = Vec::new();
    for hour in 0..5 {
        let at = format!("2026-07-02T0{hour}:00:00Z");
        let fired = invoke("trigger", &scheduler_event(&tenant, &job_id, &at)).await;
        assert_eq!(fired["outcome"], "failed", "{fired}");
        runs.push(fired["run_id"].as_str().unwrap().to_owned());
    }
    let alerts = wait_for(&log, "ok", 1, 60).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    verify(&secret, &alerts[0]);
    assert_eq!(alerts[0].json()["suppressed_failures"], 0);
    let alerted = alerts[0].run_id.clone();
    assert!(runs.contains(&alerted));
    // The failing receiver was tried three times, each signed, the Slack body a text.
    let failing = wait_for(&log, "fail", 3, 30).await;
    assert_eq!(failing.len(), 3, "{failing:#?}");
    for r in &failing {
        verify(&secret, r);
        assert_eq!(r.run_id, alerted);
        let text = r.json()["text"].as_str().unwrap().to_owned();
        assert!(text.contains("failed after 1 attempt(s)"), "{text}");
    }
    let run = api.get(&format!("/runs/{alerted}"), &tenant).await.json();
    assert_eq!(run["state"], "failed");
    assert_eq!(run["error"]["code"], "target_missing");
    let outcomes = run["notifications"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2, "{run}");
    assert_eq!(outcomes[0]["status"], "delivered");
    assert_eq!(
        outcomes[1]["channel"],
        format!("http://localhost:{}", address.port())
    );
    assert_eq!(outcomes[1]["status"], "failed");
    assert_eq!(outcomes[1]["attempts"], 3);
    assert_eq!(outcomes[1]["error"], "the receiver answered 500");
    for other in runs.iter().filter(|r| **r != alerted) {
        let run = api.get(&format!("/runs/{other}"), &tenant).await.json();
        assert_eq!(run["state"], "failed");
        assert_eq!(run["notifications"], json!([]), "{run}");
    }

    // Past the quiet period, the next failure alerts with the four not sent.
    let wait = Duration::from_secs(QUIET + 2).saturating_sub(started.elapsed());
    tokio::time::sleep(wait).await;
    let fired = invoke(
        "trigger",
        &scheduler_event(&tenant, &job_id, "2026-07-02T06:00:00Z"),
    )
    .await;
    assert_eq!(fired["outcome"], "failed", "{fired}");
    let alerts = wait_for(&log, "ok", 2, 60).await;
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    let next = alerts[1].json();
    assert_eq!(next["run_id"], fired["run_id"]);
    assert_eq!(next["suppressed_failures"], 4, "{next}");
    assert!(!sluice_tests::function_log().contains(&secret));
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn bad_notification_settings_are_400s_naming_the_field() {
    let api = Api::new();
    let tenant = fresh_tenant("badnotify");
    let suffix = tenant[tenant.len() - 8..].to_owned();
    let job_id = job(&api, &tenant, &suffix, "unused").await;
    let uri = format!("/jobs/{job_id}/notifications");
    let secret = json!("0123456789abcdef0123");
    let hook = |url: &str| json!({"rules": [{"on": ["failed"], "channel": {"type": "webhook", "url": url}}], "signing_secret": secret});
    for (body, field) in [
        (hook("http://hooks.example.com/x"), "rules[0].channel.url"),
        (
            hook("https://169.254.169.254/latest/meta-data/"),
            "rules[0].channel.url",
        ),
        (hook("https://[fe80::1]/x"), "rules[0].channel.url"),
        (
            json!({"rules": [{"on": ["failed", "on_fire"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:sluice-a"}}]}),
            "rules[0].on[1]",
        ),
        (
            json!({"rules": [{"on": ["failed"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:eu-west-1:123456789012:sluice-a"}}]}),
            "rules[0].channel.topic_arn",
        ),
    ] {
        let reply = api.put(&uri, &tenant, "*", &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.content_type(), "application/problem+json");
        assert!(reply.text.contains(field), "{body}: {}", reply.text);
        assert!(!reply.text.contains("0123456789abcdef0123"));
    }
}

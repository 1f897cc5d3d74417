//! The EventBridge run-events adapter against moto: a bus with a rule that
//! sends sluice's events to an SQS queue, read back. Run through
//! `make test`, which starts moto and un-ignores these.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use sluice_aws::EventBridgeRunEvents;
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::{
    RunErrorCode, RunId, RunState, RunStateChange, RunStateChangeError, TriggerKind,
};
use sluice_domain::ports::RunEvents;

async fn config() -> aws_config::SdkConfig {
    let config = aws_config::load_from_env().await;
    if config.endpoint_url().is_none() {
        panic!("AWS_ENDPOINT_URL is not set: run `make test`");
    }
    config
}

/// A fresh bus whose rule sends `source: sluice` to a fresh queue: (bus,
/// queue URL).
async fn bus_to_queue(config: &aws_config::SdkConfig) -> (String, String) {
    let events = aws_sdk_eventbridge::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);
    let name = format!(
        "sluice-moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    events.create_event_bus().name(&name).send().await.unwrap();
    let queue = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(json!({"source": ["sluice"]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (name, queue)
}

async fn receive(config: &aws_config::SdkConfig, queue: &str) -> Vec<Value> {
    let out = aws_sdk_sqs::Client::new(config)
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
        .collect()
}

fn change() -> RunStateChange {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    let job_id = JobId::generate();
    RunStateChange {
        tenant: TenantId::parse("acme").unwrap(),
        run_id: RunId::for_fire(&job_id, at),
        job_id,
        previous_state: Some(RunState::Running),
        state: RunState::Failed,
        trigger: TriggerKind::Schedule,
        scheduled_time: at,
        flink_job_id: Some("0123456789abcdef0123456789abcdef".into()),
        rows_read: Some(7),
        rows_written: None,
        tables: Vec::new(),
        error: Some(RunStateChangeError {
            code: RunErrorCode::FlinkJobFailed,
            message: "the Flink job failed".into(),
        }),
        attempt: 2,
        version: 5,
        time: at + chrono::Duration::minutes(3),
        created_at: at + chrono::Duration::seconds(1),
        is_final: true,
    }
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_change_reaches_the_bus_as_a_sluice_run_state_change() {
    let config = config().await;
    let (bus, queue) = bus_to_queue(&config).await;
    let events = EventBridgeRunEvents::new(aws_sdk_eventbridge::Client::new(&config), &bus);
    let change = change();
    events.publish(&change).await.unwrap();

    let received = receive(&config, &queue).await;
    assert_eq!(received.len(), 1, "{received:#?}");
    let event = &received[0];
    assert_eq!(event["source"], "sluice");
    assert_eq!(event["detail-type"], "Sluice Run State Change");
    assert_eq!(event["time"], "2026-03-01T08:03:00Z");
    let detail = &event["detail"];
    assert_eq!(
        *detail,
        json!({
            "tenant": "acme",
            "job_id": change.job_id.as_str(),
            "run_id": change.run_id.as_str(),
            "previous_state": "running",
            "state": "failed",
            "trigger": "schedule",
            "scheduled_time": "2026-03-01T08:00:00Z",
            "flink_job_id": "0123456789abcdef0123456789abcdef",
            "rows_read": 7,
            "rows_written": null,
            "error": {"code": "flink_job_failed", "message": "the Flink job failed"},
            "attempt": 2,
            "version": 5,
            "time": "2026-03-01T08:03:00Z",
            "created_at": "2026-03-01T08:00:01Z",
            "final": true
        })
    );
    let back: RunStateChange = serde_json::from_value(detail.clone()).unwrap();
    assert_eq!(back, change);
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_bus_that_does_not_exist_is_an_error_after_a_few_tries() {
    let config = config().await;
    let events = EventBridgeRunEvents::new(
        aws_sdk_eventbridge::Client::new(&config),
        "sluice-no-such-bus",
    );
    let started = std::time::Instant::now();
    assert!(events.publish(&change()).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

//! The event the notifier receives: EventBridge's envelope around a run's state change.

use serde::Deserialize;
use sluice_domain::model::run::RunStateChange;

/// `source` of sluice's run events.
pub const SOURCE: &str = "sluice";
/// `detail-type` of a run's state change.
pub const DETAIL_TYPE: &str = "Sluice Run State Change";

#[derive(Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: serde_json::Value,
}

/// Why an event is not a run's state change: answered without a retry (another delivery of it
/// would not parse either).
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("an event of {event_source} / {detail_type}, not a run's state change")]
    OtherEvent {
        event_source: String,
        detail_type: String,
    },
    #[error("the detail is not a run's state change: {0}")]
    BadDetail(String),
}

/// The state change `payload` carries.
pub fn parse(payload: serde_json::Value) -> Result<RunStateChange, EventError> {
    let envelope: Envelope =
        serde_json::from_value(payload).map_err(|e| EventError::NotAnEvent(e.to_string()))?;
    if envelope.source != SOURCE || envelope.detail_type != DETAIL_TYPE {
        return Err(EventError::OtherEvent {
            event_source: envelope.source,
            detail_type: envelope.detail_type,
        });
    }
    serde_json::from_value(envelope.detail).map_err(|e| EventError::BadDetail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn detail() -> serde_json::Value {
        json!({
            "tenant": "acme",
            "job_id": "job_01J0000000000000000000000A",
            "run_id": "run_01J0000000000000000000000B",
            "previous_state": "running",
            "state": "failed",
            "trigger": "schedule",
            "scheduled_time": "2026-05-01T08:00:00Z",
            "flink_job_id": null,
            "rows_read": null,
            "rows_written": null,
            "error": {"code": "flink_job_failed", "message": "boom"},
            "attempt": 3,
            "version": 9,
            "time": "2026-05-01T08:01:00Z",
            "created_at": "2026-05-01T08:00:00Z",
            "final": true
        })
    }

    #[test]
    fn an_eventbridge_event_carries_the_change() {
        let change = parse(json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "Sluice Run State Change",
            "source": "sluice",
            "account": "123456789012",
            "time": "2026-05-01T08:01:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail(),
        }))
        .unwrap();
        assert!(change.is_final);
        assert_eq!(change.attempt, 3);
        assert_eq!(change.error.unwrap().code, "flink_job_failed");
    }

    #[test]
    fn other_events_and_bad_details_are_refused() {
        assert!(matches!(
            parse(json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}})),
            Err(EventError::OtherEvent { .. })
        ));
        assert!(matches!(
            parse(
                json!({"source": "sluice", "detail-type": "Sluice Run State Change", "detail": {"state": "failed"}})
            ),
            Err(EventError::BadDetail(_))
        ));
        assert!(matches!(parse(json!({})), Err(EventError::NotAnEvent(_))));
    }
}

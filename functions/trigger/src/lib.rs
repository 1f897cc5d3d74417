//! The trigger function: parses a delivery, runs the trigger use case, and
//! tells the caller whether a redelivery can help. `main.rs` wires AWS.

pub mod config;
pub mod event;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::{Value, json};
use sluice_aws::flink_cancel::{self, CancelFlinkJob};
use sluice_domain::ports::FlinkCanceler;
use sluice_domain::service::trigger::{TriggerError, TriggerOutcome, TriggerService};

/// Why a delivery did not end in a recorded outcome. `Retryable` makes the
/// invocation fail so Lambda / EventBridge Scheduler deliver again;
/// `NonRetryable` is reported the same way but is final for the caller.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{0}")]
    Retryable(String),
    #[error("{0}")]
    NonRetryable(String),
}

impl From<DeliveryError> for Diagnostic {
    fn from(e: DeliveryError) -> Self {
        let error_type = match e {
            DeliveryError::Retryable(_) => "Retryable",
            DeliveryError::NonRetryable(_) => "NonRetryable",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Handles one delivery. A final failure is not an error: the run records
/// it, and redelivering would change nothing.
pub async fn handle(
    service: &TriggerService,
    canceler: &dyn FlinkCanceler,
    event: LambdaEvent<Value>,
) -> Result<Value, DeliveryError> {
    // The jobs API's cancel of a run's Flink job (sluice_aws::flink_cancel).
    if let Some(request) = CancelFlinkJob::parse(&event.payload) {
        let request = request
            .map_err(|e| DeliveryError::NonRetryable(format!("invalid cancel request: {e}")))?;
        let outcome = flink_cancel::serve(canceler, &request).await;
        return Ok(serde_json::to_value(outcome).expect("outcomes serialize"));
    }
    let fire = event::parse(event.payload).map_err(|reason| {
        tracing::warn!(%reason, "invalid trigger event");
        DeliveryError::NonRetryable(format!("invalid event: {reason}"))
    })?;
    match service.fire(fire).await {
        Ok(TriggerOutcome::Ignored(reason)) => {
            tracing::info!(outcome = "ignored", %reason, "delivery handled");
            Ok(json!({"outcome": "ignored", "reason": reason}))
        }
        Ok(outcome) => {
            let (name, run) = match &outcome {
                TriggerOutcome::Submitted(run) => ("submitted", run),
                TriggerOutcome::AlreadyHandled(run) => ("already_handled", run),
                TriggerOutcome::Failed(run) => ("failed", run),
                TriggerOutcome::Skipped(run) => ("skipped", run),
                TriggerOutcome::Ignored(_) => unreachable!("answered above"),
            };
            tracing::info!(outcome = name, run_id = %run.id, state = run.state.as_str(), "delivery handled");
            Ok(json!({
                "outcome": name,
                "run_id": run.id.as_str(),
                "state": run.state.as_str(),
                "flink_job_id": run.flink_job_id,
                "error": run.error,
            }))
        }
        Err(e) => Err(delivery_error(e)),
    }
}

/// The one place a failed delivery is told `Retryable` or `NonRetryable`,
/// as the use case judges it ([`TriggerError::is_retryable`]).
fn delivery_error(e: TriggerError) -> DeliveryError {
    match e {
        e if e.is_retryable() => {
            tracing::warn!(error = %e, "delivery failed; a redelivery may succeed");
            DeliveryError::Retryable(e.to_string())
        }
        TriggerError::InvalidEvent(reason) => DeliveryError::NonRetryable(reason),
        e => DeliveryError::NonRetryable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_invalid_event_is_final_for_the_caller() {
        let invalid = delivery_error(TriggerError::InvalidEvent("job_id is not a job id".into()));
        assert!(
            matches!(&invalid, DeliveryError::NonRetryable(m) if m == "job_id is not a job id"),
            "{invalid:?}"
        );
        let unavailable = delivery_error(TriggerError::FlinkUnavailable);
        assert!(
            matches!(unavailable, DeliveryError::Retryable(_)),
            "{unavailable:?}"
        );
    }
}

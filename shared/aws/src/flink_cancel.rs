//! The jobs API's cancel of a run's Flink job, made by the trigger function
//! (ARCHITECTURE.md, "Functions"): the trigger holds the deployment's Flink
//! targets anyway, so the jobs function links no Flink client, no MSF or S3
//! SDK, and its role reaches neither Flink nor MSF. The jobs function asks
//! with one `RequestResponse` invoke ([`LambdaFlinkCanceler`]); the trigger
//! answers it with [`serve`] before it reads any trigger event.

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sluice_domain::model::job::FlinkTarget;
use sluice_domain::ports::{FlinkCanceler, FlinkError};

use crate::config::LazyClient;

/// The `op` of a cancel request; trigger events carry `kind`, never `op`.
pub const CANCEL_OP: &str = "cancel_flink_job";

/// Cancel the Flink job `flink_job_id` on the target `flink_target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelFlinkJob {
    op: String,
    pub flink_target: FlinkTarget,
    pub flink_job_id: String,
}

impl CancelFlinkJob {
    pub fn new(flink_target: FlinkTarget, flink_job_id: impl Into<String>) -> Self {
        Self {
            op: CANCEL_OP.to_owned(),
            flink_target,
            flink_job_id: flink_job_id.into(),
        }
    }

    /// The request `payload` holds, if it is one (`op: cancel_flink_job`).
    pub fn parse(payload: &Value) -> Option<Result<Self, serde_json::Error>> {
        (payload.get("op").and_then(Value::as_str) == Some(CANCEL_OP))
            .then(|| serde_json::from_value(payload.clone()))
    }
}

/// How a cancel went, as the trigger answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CancelOutcome {
    /// Canceled, or unknown to the target (it ended and was forgotten).
    Canceled,
    /// The target could not be reached (or is not configured).
    Unreachable,
    /// The target refused the cancel.
    Rejected { message: String },
}

/// The trigger's side: cancels through its own targets.
pub async fn serve(canceler: &dyn FlinkCanceler, request: &CancelFlinkJob) -> CancelOutcome {
    match canceler
        .cancel(request.flink_target, &request.flink_job_id)
        .await
    {
        Ok(()) => CancelOutcome::Canceled,
        Err(FlinkError::Rejected(message)) => CancelOutcome::Rejected { message },
        Err(e) => {
            tracing::warn!(error = %e, target = %request.flink_target, "could not cancel a Flink job");
            CancelOutcome::Unreachable
        }
    }
}

/// [`FlinkCanceler`] in the trigger function, through Lambda's Invoke API.
#[derive(Clone)]
pub struct LambdaFlinkCanceler {
    client: LazyClient<Client>,
    function_name: String,
    default_target: FlinkTarget,
}

impl LambdaFlinkCanceler {
    /// `trigger_function`: the trigger's name or ARN; `default_target`: the
    /// deployment's default Flink target (`SLUICE_FLINK_TARGETS`).
    pub fn new(
        client: impl Into<LazyClient<Client>>,
        trigger_function: impl Into<String>,
        default_target: FlinkTarget,
    ) -> Self {
        Self {
            client: client.into(),
            function_name: trigger_function.into(),
            default_target,
        }
    }
}

fn unreachable(what: &str) -> FlinkError {
    FlinkError::Unreachable(what.to_owned().into())
}

#[async_trait]
impl FlinkCanceler for LambdaFlinkCanceler {
    fn default_target(&self) -> FlinkTarget {
        self.default_target
    }

    async fn cancel(&self, target: FlinkTarget, flink_job_id: &str) -> Result<(), FlinkError> {
        let request = CancelFlinkJob::new(target, flink_job_id);
        let answer =
            crate::lambda::call(&self.client, &self.function_name, "the trigger", &request)
                .await
                .map_err(|failure| unreachable(&failure.reason("the trigger")))?;
        match answer {
            CancelOutcome::Canceled => Ok(()),
            CancelOutcome::Rejected { message } => Err(FlinkError::Rejected(message)),
            CancelOutcome::Unreachable => Err(unreachable("the Flink target is unreachable")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use sluice_domain::fakes::FakeFlink;
    use sluice_domain::ports::FlinkJobTargets;

    use super::*;

    #[test]
    fn a_cancel_request_is_told_apart_from_trigger_events() {
        let target = FlinkTarget::DEFAULT_SESSION;
        let request = serde_json::to_value(CancelFlinkJob::new(target, "abc")).unwrap();
        assert_eq!(
            request,
            json!({"op": "cancel_flink_job", "flink_target": "session", "flink_job_id": "abc"})
        );
        assert_eq!(
            CancelFlinkJob::parse(&request).unwrap().unwrap(),
            CancelFlinkJob::new(target, "abc")
        );
        let fire = json!({"kind": "manual", "tenant": "a"});
        assert!(CancelFlinkJob::parse(&fire).is_none());
        let scheduler = json!({"tenant": "a", "job_id": "job_x"});
        assert!(CancelFlinkJob::parse(&scheduler).is_none());
        let bad =
            json!({"op": "cancel_flink_job", "flink_target": "Bad Name", "flink_job_id": "x"});
        assert!(CancelFlinkJob::parse(&bad).unwrap().is_err());
    }

    #[tokio::test]
    async fn the_trigger_cancels_through_its_targets() {
        let flink = Arc::new(FakeFlink::default());
        let targets = FlinkJobTargets::from(flink.clone());
        let known = CancelFlinkJob::new(FlinkTarget::DEFAULT_SESSION, "job-1");
        assert_eq!(serve(&targets, &known).await, CancelOutcome::Canceled);
        assert_eq!(flink.canceled(), ["job-1"]);
        // A target this deployment does not have: nothing is canceled.
        let elsewhere = CancelFlinkJob::new(FlinkTarget::parse("other").unwrap(), "job-2");
        assert_eq!(
            serve(&targets, &elsewhere).await,
            CancelOutcome::Unreachable
        );
        assert_eq!(flink.canceled(), ["job-1"]);
    }

    #[test]
    fn outcomes_read_back_as_written() {
        for outcome in [
            CancelOutcome::Canceled,
            CancelOutcome::Unreachable,
            CancelOutcome::Rejected {
                message: "no".into(),
            },
        ] {
            let text = serde_json::to_string(&outcome).unwrap();
            assert_eq!(
                serde_json::from_str::<CancelOutcome>(&text).unwrap(),
                outcome
            );
        }
        assert_eq!(
            serde_json::to_value(CancelOutcome::Canceled).unwrap(),
            json!({"outcome": "canceled"})
        );
    }
}

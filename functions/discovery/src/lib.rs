//! The discovery function: one request of the sources API
//! (`sluice_aws::discovery`) in, one reply out. `main.rs` wires AWS and the
//! probe.

pub mod config;

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use sluice_aws::discovery::{DiscoveryRequest, serve};
use sluice_domain::ports::{RowCounter, RunPreparer, SecretSealer};
use sluice_domain::service::discovery::{DraftTester, SourceDiscovery};

/// A request that is not one: a caller's bug, never retried.
#[derive(Debug, thiserror::Error)]
#[error("invalid discovery request: {0}")]
pub struct InvalidRequest(String);

impl From<InvalidRequest> for Diagnostic {
    fn from(e: InvalidRequest) -> Self {
        Diagnostic {
            error_type: "InvalidRequest".to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// Answers one invocation. A failed use case is a reply (`outcome:
/// error`), not a function error: the caller maps it to its answer.
pub async fn handle<D: SourceDiscovery + DraftTester + RunPreparer + RowCounter>(
    discovery: &D,
    sealer: &dyn SecretSealer,
    event: LambdaEvent<Value>,
) -> Result<Value, InvalidRequest> {
    // The request is logged by kind only: a draft carries sealed secrets.
    let request: DiscoveryRequest =
        serde_json::from_value(event.payload).map_err(|e| InvalidRequest(e.to_string()))?;
    let reply = serve(discovery, sealer, request).await;
    Ok(serde_json::to_value(&reply).expect("replies serialize"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lambda_runtime::Context;
    use serde_json::json;
    use sluice_domain::fakes::{FakeProbe, FakeSealer, FixedClock, MemoryStore};
    use sluice_domain::service::discovery::DiscoveryService;

    use super::*;

    fn event(payload: Value) -> LambdaEvent<Value> {
        LambdaEvent::new(payload, Context::default())
    }

    #[tokio::test]
    async fn a_request_is_answered_and_a_malformed_one_refused() {
        let store = Arc::new(MemoryStore::default());
        let sealer = Arc::new(FakeSealer::default());
        let service = DiscoveryService::new(
            store,
            sealer.clone(),
            Arc::new(FakeProbe::default()),
            Arc::new(FixedClock::default()),
        );
        let reply = handle(
            &service,
            sealer.as_ref(),
            event(json!({"op": "test", "tenant": "acme",
                         "source_id": "src_01J0000000000000000000000A"})),
        )
        .await
        .unwrap();
        assert_eq!(reply["outcome"], "error");
        assert_eq!(reply["error"]["kind"], "not_found");

        for bad in [
            json!({"op": "drop", "tenant": "acme"}),
            json!({"op": "test", "tenant": "acme", "source_id": "x"}),
        ] {
            assert!(
                handle(&service, sealer.as_ref(), event(bad.clone()))
                    .await
                    .is_err(),
                "{bad}"
            );
        }
    }
}

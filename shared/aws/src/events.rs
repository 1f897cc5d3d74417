//! Publishes runs' state changes to an EventBridge bus (`PutEvents`).
//!
//! Each change is one event: `source: "sluice"`, `detail-type: "Sluice Run
//! State Change"`, `detail`: the [`RunStateChange`] as JSON (README, "Run
//! events"), `time`: when the change was recorded. The SDK retries throttles
//! and 5xx itself; an entry the bus refused (`FailedEntryCount`) is sent
//! again a few times, with short pauses, before the caller is told.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use sluice_domain::model::run::RunStateChange;
use sluice_domain::ports::{BoxError, RunEvents};

use crate::config::LazyClient;

/// The events' `source`.
pub const SOURCE: &str = "sluice";
/// The events' `detail-type`.
pub const DETAIL_TYPE: &str = "Sluice Run State Change";

/// Sends of one change at most (the first included).
const ATTEMPTS: u32 = 3;
/// The pause before the second send; doubled for each next one.
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// [`RunEvents`] on one EventBridge bus.
#[derive(Clone)]
pub struct EventBridgeRunEvents {
    client: LazyClient<Client>,
    bus: String,
}

impl EventBridgeRunEvents {
    /// `bus`: the bus's name or ARN (`default`: the account's default bus).
    /// `client`: a client, or one built on first use.
    pub fn new(client: impl Into<LazyClient<Client>>, bus: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            bus: bus.into(),
        }
    }

    fn entry(&self, change: &RunStateChange) -> Result<PutEventsRequestEntry, BoxError> {
        let time = change.time;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(serde_json::to_string(change)?)
            .time(DateTime::from_millis(time.timestamp_millis()))
            .build())
    }

    /// One `PutEvents` of `entry`: `Err` when the call failed or the bus
    /// refused the entry.
    async fn send(&self, entry: PutEventsRequestEntry) -> Result<(), BoxError> {
        let out = self.client.put_events().entries(entry).send().await?;
        if out.failed_entry_count == 0 {
            return Ok(());
        }
        let refused = out.entries().first();
        Err(format!(
            "the bus refused the event: {} {}",
            refused.and_then(|e| e.error_code()).unwrap_or("?"),
            refused.and_then(|e| e.error_message()).unwrap_or("")
        )
        .into())
    }
}

#[async_trait]
impl RunEvents for EventBridgeRunEvents {
    async fn publish(&self, change: &RunStateChange) -> Result<(), BoxError> {
        let entry = self.entry(change)?;
        let mut pause = FIRST_PAUSE;
        let mut attempt = 1;
        loop {
            match self.send(entry.clone()).await {
                Ok(()) => return Ok(()),
                Err(e) if attempt >= ATTEMPTS => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "publishing a run event failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

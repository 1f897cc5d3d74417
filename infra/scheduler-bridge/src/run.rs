//! The bridge's loops: the tick, each fire's delivery task, and the
//! periodic reconciler invocation.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::time::MissedTickBehavior;

use crate::bridge::Bridge;
use crate::delivery::{Deliverer, Invoker};

/// Ticks forever; each due fire is delivered by a task of its own, so a
/// slow target never holds up the tick.
pub async fn run_bridge(mut bridge: Bridge, deliverer: Arc<Deliverer>, tick: Duration) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        for fire in bridge.tick(Utc::now()).await {
            let deliverer = deliverer.clone();
            tokio::spawn(async move { deliverer.deliver(fire).await });
        }
    }
}

/// Invokes `function` with `{}` every `every`, one invocation at a time (in
/// AWS the template's one-minute schedule rule does this).
pub async fn run_reconciler(invoker: Arc<dyn Invoker>, function: String, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        interval.tick().await;
        match invoker.invoke(&function, "{}").await {
            Ok(()) if failing => {
                tracing::info!(
                    function,
                    outcome = "reconciled",
                    "the reconciler answers again"
                );
                failing = false;
            }
            Ok(()) => tracing::debug!(function, outcome = "reconciled", "reconciler invoked"),
            Err(e) => {
                tracing::warn!(function, outcome = "failed", error = %e, "the reconciler failed");
                failing = true;
            }
        }
    }
}

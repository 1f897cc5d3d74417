//! The use cases: each service takes its ports as required constructor
//! arguments and reads as a short sequence of port calls.

pub mod discovery;
pub mod jobs;
pub mod notifications;
pub mod outcomes;
pub mod reports;
pub mod runs;
pub mod schedules;
pub mod sources;
pub mod trigger;
pub mod validation;

use crate::model::run::{Run, RunState, RunStateChange};
use crate::ports::RunEvents;

/// Publishes how `run` changed from `previous` (`None`: just created), after
/// the write that made the change; nothing when its state did not change. A
/// failed publish is logged and dropped: the change stands.
pub(crate) async fn announce(events: &dyn RunEvents, previous: Option<RunState>, run: &Run) {
    let Some(change) = RunStateChange::between(previous, run) else {
        return;
    };
    if let Err(e) = events.publish(&change).await {
        tracing::warn!(
            error = %e,
            run_id = %run.id,
            state = run.state.as_str(),
            "could not publish the run's state change"
        );
    }
}

//! The local scheduler bridge: moto stores EventBridge Scheduler schedules
//! but never fires them; this process does, for the local stack only.
//!
//! Every tick (one second) it lists the schedule groups and their schedules,
//! reads each schedule (again only when its `LastModificationDate` moved),
//! and computes the fires due since the previous tick with
//! [`sluice_schedule::next_fires`] — the evaluator the API's preview uses, so
//! cron, rate, at(), time zones, DST, StartDate and EndDate mean the same
//! here as there. Each fire is delivered by its own task, so a slow or
//! failing target never holds up the tick.
//!
//! # As EventBridge Scheduler does
//!
//! * Only `ENABLED` schedules fire; a disabled schedule's missed fires are
//!   not made up when it is enabled again.
//! * A schedule fires from its creation on (a rate schedule without
//!   StartDate fires at once, then every interval from its creation), but
//!   never before the bridge started: fires missed while it was down are
//!   skipped, not delivered in bulk.
//! * A one-time `at()` schedule fires once and stays (sluice creates
//!   schedules with `ActionAfterCompletion: NONE`).
//! * The target input gets `<aws.scheduler.scheduled-time>` (RFC 3339, UTC,
//!   seconds: the fire time without the flexible-window offset),
//!   `<aws.scheduler.schedule-arn>`, `<aws.scheduler.attempt-number>` (1, 2,
//!   ...) and `<aws.scheduler.execution-id>` (one id per fire) substituted.
//! * With a flexible window, delivery waits a random time within it
//!   (`--ignore-flexible-window` delivers at once).
//! * A failed delivery is retried with exponential backoff up to the
//!   schedule's `RetryPolicy` (`MaximumRetryAttempts`, default 185, and
//!   `MaximumEventAgeInSeconds`, default 86400); then the event goes to the
//!   `DeadLetterConfig` SQS queue, if any, with the attributes
//!   `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION`,
//!   `RETRY_ATTEMPTS`, `SCHEDULE_ARN` and `TARGET_ARN`.
//!
//! # Unlike EventBridge Scheduler
//!
//! * Targets are Lambda functions only, invoked by name (the function part
//!   of `Target.Arn`, qualifier dropped) at the Invoke endpoint given by
//!   `AWS_ENDPOINT_URL_LAMBDA` (`cargo lambda watch` in the local stack).
//!   Other targets are logged and skipped.
//! * EventBridge invokes a Lambda target asynchronously; Lambda's async
//!   invocation then retries a *function error* twice on its own, and the
//!   schedule's retry policy only covers *delivery* failures (throttling,
//!   a missing function, ...). The bridge invokes synchronously
//!   (`RequestResponse`) and folds both into the schedule's retry policy: a
//!   function error is retried like a failed delivery, with the
//!   attempt number counting up. A trigger that answers an error asks for
//!   another delivery, so the effect is the same at a different cadence.
//! * The backoff starts at one second and doubles up to one minute
//!   (`--backoff-initial-ms`, `--backoff-max-ms`); EventBridge's own
//!   schedule is unpublished and slower.
//! * Fires are computed to the second, not within EventBridge's "within one
//!   minute" precision; `ListSchedules` is polled, so a schedule created less
//!   than a tick before its first fire may fire up to a tick late.
//! * `--reconciler NAME --reconcile-every SECONDS` also invokes the
//!   reconciler with `{}` periodically, which the SAM template's one-minute
//!   schedule rule does in AWS.
//! * `--notifier NAME --notifier-queue-url URL` stands in for the template's
//!   EventBridge rule that targets the notifier with runs' final state
//!   changes: moto's rule sends them to an SQS queue, and the bridge invokes
//!   the function with each, twice at once (`--notifier-copies`), so that
//!   duplicate deliveries happen on every event (`events.rs`).
//!
//! Logs are JSON lines (tracing), one per fire, attempt and outcome; the
//! events carry ids and placeholders only, never a secret.

pub mod aws;
pub mod bridge;
pub mod delivery;
pub mod events;
pub mod fires;
pub mod input;
pub mod options;
pub mod retry;
pub mod run;

pub use bridge::{Bridge, ScheduleSource, ScheduleSummary};
pub use delivery::{DeadLetters, Deliverer, DeliveryError, Invoker, Outcome};
pub use fires::{Fire, ScheduleDetails, TargetDetails};
pub use options::Options;
pub use retry::{Backoff, RetryLimits};

/// Any error of an adapter.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

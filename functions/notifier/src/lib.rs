//! The notifier function: each run's final state change, as EventBridge delivers it (locally the
//! scheduler bridge, from an SQS queue), becomes at most one notice per run, sent to the job's
//! SNS topics and signed webhooks (`sluice_domain::service::notifications::Notifier`). The
//! channels live here, not in `sluice-aws`: no other function links SNS or the webhook client.

pub mod channels;
pub mod config;
pub mod event;
pub mod sns;
pub mod webhook;

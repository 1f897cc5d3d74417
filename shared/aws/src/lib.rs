//! Adapters from sluice's ports to AWS: DynamoDB for records, KMS for keys,
//! Lambda and Scheduler for hand-overs, EventBridge for run events, MSF for the `managed` Flink target;
//! and the AWS configuration the functions build their clients from
//! ([`config::load`]).

pub mod config;
pub mod discovery;
pub mod dynamo;
pub mod dynamo_jobs;
pub mod dynamo_notifications;
pub mod dynamo_reports;
pub mod dynamo_runs;
pub mod dynamo_schedules;
pub mod events;
pub mod flink_cancel;
pub mod flink_targets;
pub mod kms;
pub mod lambda;
pub mod metrics;
pub mod msf;
pub mod outcomes;
pub mod scheduler;

pub use discovery::LambdaDiscovery;
pub use dynamo::DynamoSourceRepository;
pub use dynamo_jobs::DynamoJobRepository;
pub use dynamo_notifications::{DynamoAlertLedger, DynamoNotificationRepository};
pub use dynamo_reports::DynamoRunReports;
pub use dynamo_runs::DynamoRunRepository;
pub use dynamo_schedules::DynamoScheduleRepository;
pub use events::EventBridgeRunEvents;
pub use flink_cancel::LambdaFlinkCanceler;
pub use flink_targets::{following_targets, submitting_targets};
pub use kms::KmsKeyProvider;
pub use lambda::LambdaTriggerInvoker;
pub use metrics::EmfRunMetrics;
pub use msf::MsfTarget;
pub use outcomes::run_outcomes;
pub use scheduler::{EventBridgeScheduler, SchedulerTarget};

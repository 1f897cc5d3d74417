//! Typed configuration from the environment, checked at cold start.

use sluice_flink::{TargetsConfig, TargetsConfigError};
use sluice_http::TenantMode;
use sluice_http::tenant::tenant_mode_from_lookup;

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources, jobs and runs.
    pub table: String,
    pub tenant_mode: TenantMode,
    /// The trigger function that manual runs are handed to.
    pub trigger_function: String,
    /// The discovery function: columns of jobs that omit them.
    pub discovery_function: String,
    /// The EventBridge bus runs' state changes are published to.
    pub event_bus: String,
    /// The deployment's Flink targets: jobs choose among their names, runs
    /// are canceled on theirs.
    pub flink_targets: TargetsConfig,
    /// Where EventBridge Scheduler delivers fires, and how.
    pub scheduler: SchedulerSettings,
}

/// The settings of the schedules this function creates.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// The trigger function's ARN: every schedule's target.
    pub target_arn: String,
    /// The role EventBridge Scheduler assumes to invoke the trigger.
    pub role_arn: String,
    /// The SQS queue for deliveries that exhausted their retries.
    pub dead_letter_arn: Option<String>,
    /// Schedule groups are `<prefix><tenant>`.
    pub group_prefix: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Tenant(#[from] sluice_http::tenant::TenantConfigError),
    #[error(transparent)]
    FlinkTargets(#[from] TargetsConfigError),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            tenant_mode: tenant_mode_from_lookup(&get)?,
            trigger_function: required("SLUICE_TRIGGER_FUNCTION")?,
            discovery_function: required("SLUICE_DISCOVERY_FUNCTION")?,
            event_bus: required("SLUICE_EVENT_BUS")?,
            flink_targets: TargetsConfig::from_lookup(&get)?,
            scheduler: SchedulerSettings {
                target_arn: required("SLUICE_SCHEDULER_TARGET_ARN")?,
                role_arn: required("SLUICE_SCHEDULER_ROLE_ARN")?,
                dead_letter_arn: get("SLUICE_SCHEDULER_DLQ_ARN").filter(|v| !v.trim().is_empty()),
                group_prefix: get("SLUICE_SCHEDULE_GROUP_PREFIX")
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| "sluice-".to_owned()),
            },
        })
    }
}

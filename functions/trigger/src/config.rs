//! Typed configuration from the environment, checked at cold start.

use sluice_flink::{TargetsConfig, TargetsConfigError};

#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    /// The KMS key that wraps data keys of sealed scripts.
    pub kms_key_id: String,
    /// The deployment's Flink targets (`SLUICE_FLINK_TARGETS`, else the
    /// session cluster of `SLUICE_FLINK_REST_URL` with `SLUICE_RUNNER_JAR`).
    pub flink_targets: TargetsConfig,
    /// The EventBridge bus runs' state changes are published to.
    pub event_bus: String,
    /// The discovery function, which prepares a run's databases (drift
    /// check, target table) before Flink starts.
    pub discovery_function: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MissingSetting {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    FlinkTargets(#[from] TargetsConfigError),
}

impl Config {
    pub fn from_env() -> Result<Self, MissingSetting> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MissingSetting> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(MissingSetting::Missing(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            kms_key_id: required("SLUICE_KMS_KEY_ID")?,
            flink_targets: TargetsConfig::from_lookup(&get)?,
            event_bus: required("SLUICE_EVENT_BUS")?,
            discovery_function: required("SLUICE_DISCOVERY_FUNCTION")?,
        })
    }
}

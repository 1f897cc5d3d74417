//! Typed configuration from the environment, checked at cold start.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub table: String,
    /// The KMS key that wraps data keys of sealed scripts.
    pub kms_key_id: String,
    /// The session cluster's JobManager REST endpoint.
    pub flink_rest_url: String,
    /// The runner jar uploaded to the cluster (once per content hash).
    pub runner_jar: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not set")]
pub struct MissingSetting(pub &'static str);

impl Config {
    pub fn from_env() -> Result<Self, MissingSetting> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, MissingSetting> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(MissingSetting(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            kms_key_id: required("SLUICE_KMS_KEY_ID")?,
            flink_rest_url: required("SLUICE_FLINK_REST_URL")?,
            runner_jar: required("SLUICE_RUNNER_JAR")?.into(),
        })
    }
}

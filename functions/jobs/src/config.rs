//! Typed configuration from the environment, checked at cold start.

use sluice_http::TenantMode;
use sluice_http::tenant::tenant_mode_from_lookup;

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources, jobs and runs.
    pub table: String,
    pub tenant_mode: TenantMode,
    /// The trigger function that manual runs are handed to.
    pub trigger_function: String,
    /// The session cluster's JobManager REST endpoint, to cancel runs.
    pub flink_rest_url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Tenant(#[from] sluice_http::tenant::TenantConfigError),
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
            flink_rest_url: required("SLUICE_FLINK_REST_URL")?,
        })
    }
}

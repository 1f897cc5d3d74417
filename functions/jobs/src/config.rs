//! Typed configuration from the environment, checked at cold start.

use sluice_http::TenantMode;
use sluice_http::tenant::tenant_mode_from_lookup;

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources and jobs.
    pub table: String,
    pub tenant_mode: TenantMode,
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
        let table = get("SLUICE_TABLE")
            .filter(|v| !v.trim().is_empty())
            .ok_or(ConfigError::Missing("SLUICE_TABLE"))?;
        Ok(Self {
            table,
            tenant_mode: tenant_mode_from_lookup(&get)?,
        })
    }
}

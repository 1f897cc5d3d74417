//! Typed configuration from the environment, checked at cold start: a
//! missing or malformed setting stops the function before it serves.

use sluice_http::TenantMode;
use sluice_http::tenant::{TenantConfigError, tenant_mode_from_lookup};

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources.
    pub table: String,
    /// The KMS key (id, ARN or alias) that wraps data keys.
    pub kms_key_id: String,
    /// The discovery function (name or ARN): connection tests, objects.
    pub discovery_function: String,
    /// `arn:aws:sns:<region>:<account>:<prefix>`: the SNS topics jobs may notify
    /// (`SLUICE_NOTIFY_TOPIC_ARN_PREFIX`; the notifier's role may publish to those only).
    pub notify_topic_arn_prefix: String,
    pub tenant_mode: TenantMode,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Tenant(#[from] TenantConfigError),
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
            kms_key_id: required("SLUICE_KMS_KEY_ID")?,
            discovery_function: required("SLUICE_DISCOVERY_FUNCTION")?,
            notify_topic_arn_prefix: required("SLUICE_NOTIFY_TOPIC_ARN_PREFIX")?,
            tenant_mode: tenant_mode_from_lookup(&get)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_settings_fail_loudly() {
        let only_claim = [("SLUICE_TENANT_CLAIM", "sub"), ("SLUICE_TABLE", " ")];
        assert!(matches!(
            Config::from_lookup(lookup(&only_claim)),
            Err(ConfigError::Missing("SLUICE_TABLE"))
        ));
        let no_claim = [
            ("SLUICE_TABLE", "t"),
            ("SLUICE_KMS_KEY_ID", "k"),
            ("SLUICE_DISCOVERY_FUNCTION", "d"),
            (
                "SLUICE_NOTIFY_TOPIC_ARN_PREFIX",
                "arn:aws:sns:us-east-1:1:sluice-",
            ),
        ];
        assert!(matches!(
            Config::from_lookup(lookup(&no_claim)),
            Err(ConfigError::Tenant(TenantConfigError::Missing(
                "SLUICE_TENANT_CLAIM"
            )))
        ));
    }
}

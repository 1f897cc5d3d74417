//! Typed configuration from the environment, checked at cold start: a
//! missing or malformed setting stops the function before it serves.

use sluice_http::TenantMode;

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources.
    pub table: String,
    /// The KMS key (id, ARN or alias) that wraps data keys.
    pub kms_key_id: String,
    pub tenant_mode: TenantMode,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
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
        let tenant_mode = match get("SLUICE_TENANT_MODE").as_deref() {
            None | Some("jwt") => TenantMode::JwtClaim(required("SLUICE_TENANT_CLAIM")?),
            Some("header") => header_mode(get("SLUICE_TENANT_HEADER"))?,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "SLUICE_TENANT_MODE",
                    reason: format!("{other:?}; expected jwt or header"),
                });
            }
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            kms_key_id: required("SLUICE_KMS_KEY_ID")?,
            tenant_mode,
        })
    }
}

#[cfg(feature = "local-dev")]
fn header_mode(name: Option<String>) -> Result<TenantMode, ConfigError> {
    let name = name.unwrap_or_else(|| "x-sluice-tenant".to_owned());
    axum::http::HeaderName::try_from(name)
        .map(TenantMode::Header)
        .map_err(|e| ConfigError::Invalid {
            name: "SLUICE_TENANT_HEADER",
            reason: e.to_string(),
        })
}

#[cfg(not(feature = "local-dev"))]
fn header_mode(_name: Option<String>) -> Result<TenantMode, ConfigError> {
    Err(ConfigError::Invalid {
        name: "SLUICE_TENANT_MODE",
        reason: "header mode exists only in local-dev builds".to_owned(),
    })
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
    fn jwt_mode_needs_its_claim() {
        let base = [("SLUICE_TABLE", "t"), ("SLUICE_KMS_KEY_ID", "k")];
        assert!(matches!(
            Config::from_lookup(lookup(&base)),
            Err(ConfigError::Missing("SLUICE_TENANT_CLAIM"))
        ));
        let with_claim = [base[0], base[1], ("SLUICE_TENANT_CLAIM", "custom:tenant")];
        let c = Config::from_lookup(lookup(&with_claim)).unwrap();
        assert!(matches!(c.tenant_mode, TenantMode::JwtClaim(ref n) if n == "custom:tenant"));
    }

    #[test]
    fn missing_settings_fail_loudly() {
        let only_claim = [("SLUICE_TENANT_CLAIM", "sub"), ("SLUICE_TABLE", " ")];
        assert!(matches!(
            Config::from_lookup(lookup(&only_claim)),
            Err(ConfigError::Missing("SLUICE_TABLE"))
        ));
    }

    #[cfg(not(feature = "local-dev"))]
    #[test]
    fn header_mode_is_refused_outside_local_dev_builds() {
        let env = [
            ("SLUICE_TABLE", "t"),
            ("SLUICE_KMS_KEY_ID", "k"),
            ("SLUICE_TENANT_MODE", "header"),
        ];
        assert!(matches!(
            Config::from_lookup(lookup(&env)),
            Err(ConfigError::Invalid {
                name: "SLUICE_TENANT_MODE",
                ..
            })
        ));
    }
}

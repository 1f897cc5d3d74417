//! Typed configuration from the environment, checked at cold start.

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table holding sources.
    pub table: String,
    /// The KMS key (id, ARN or alias) of the deployment.
    pub kms_key_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not set")]
pub struct MissingSetting(&'static str);

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
        })
    }
}

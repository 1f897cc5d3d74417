//! Typed configuration from the environment, checked at cold start.

#[derive(Debug, Clone)]
pub struct Config {
    /// The DynamoDB table: jobs, runs, notification settings, claims, alert history.
    pub table: String,
    /// The KMS key that wraps the signing secrets' data keys.
    pub kms_key_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not set")]
pub struct Missing(pub &'static str);

impl Config {
    pub fn from_env() -> Result<Self, Missing> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Missing> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(Missing(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            kms_key_id: required("SLUICE_KMS_KEY_ID")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_settings_fail_loudly() {
        let none = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(none.0, "SLUICE_TABLE");
        let no_key =
            Config::from_lookup(|n| (n == "SLUICE_TABLE").then(|| "t".into())).unwrap_err();
        assert_eq!(no_key.0, "SLUICE_KMS_KEY_ID");
    }
}

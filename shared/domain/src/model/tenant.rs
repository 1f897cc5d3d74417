use std::fmt;

use crate::model::validation::FieldError;

/// The tenant every record belongs to. It comes from the caller's verified
/// identity (a JWT claim), never from a request body, and is part of every key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TryFrom<String> for TenantId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).map_err(|e| format!("tenant {raw:?} {}", e.reason))
    }
}

impl From<TenantId> for String {
    fn from(id: TenantId) -> Self {
        id.0
    }
}

impl TenantId {
    pub const MAX_LEN: usize = 128;

    /// Accepts 1..=128 characters of `[A-Za-z0-9._:@+-]`: enough for Cognito
    /// subs, emails and org slugs, and free of the `#` used as key separator.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "._:@+-".contains(c);
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.chars().all(ok_char) {
            return Err(FieldError::new(
                "tenant",
                "must be 1-128 characters of letters, digits and . _ : @ + -",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TenantId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_tenants() {
        for t in ["acme", "org-42", "user@example.com", "a1b2:c3", "x"] {
            assert!(TenantId::parse(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn rejects_separators_blank_and_long() {
        let long = "a".repeat(129);
        for t in ["", "a#b", "a b", "t/1", "é", long.as_str()] {
            assert!(TenantId::parse(t).is_err(), "{t}");
        }
    }
}

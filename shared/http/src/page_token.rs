//! Opaque pagination tokens.
//!
//! A token is base64url of `v1|<scope>|<cursor>|<check>`, where `check` is a
//! truncated SHA-256 over the tenant and the rest. Callers cannot read a
//! DynamoDB key out of it, an edited token or one from another tenant or list
//! is refused with 400, and the tenant from the JWT scopes every query anyway,
//! so a forged token could at most skip within the caller's own records.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sluice_domain::TenantId;

use crate::Problem;

const VERSION: &str = "v1";
const MAX_TOKEN_LEN: usize = 512;

/// Encodes and checks tokens for one list (`scope`, e.g. `sources`).
#[derive(Debug, Clone, Copy)]
pub struct PageTokenCodec {
    scope: &'static str,
}

impl PageTokenCodec {
    pub const fn new(scope: &'static str) -> Self {
        Self { scope }
    }

    pub fn encode(&self, tenant: &TenantId, cursor: &str) -> String {
        let body = format!("{VERSION}|{}|{cursor}", self.scope);
        let check = checksum(tenant, &body);
        URL_SAFE_NO_PAD.encode(format!("{body}|{check}"))
    }

    /// The cursor inside a token, or a 400 naming `next_token`.
    pub fn decode(&self, tenant: &TenantId, token: &str) -> Result<String, Problem> {
        let invalid = || {
            Problem::invalid_field(
                "next_token",
                "is not a token this list issued; start again without it",
            )
        };
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(invalid());
        }
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let (body, check) = text.rsplit_once('|').ok_or_else(invalid)?;
        if check != checksum(tenant, body) {
            return Err(invalid());
        }
        let mut parts = body.splitn(3, '|');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(VERSION), Some(scope), Some(cursor)) if scope == self.scope => {
                Ok(cursor.to_owned())
            }
            _ => Err(invalid()),
        }
    }
}

fn checksum(tenant: &TenantId, body: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(tenant.as_str().as_bytes());
    hasher.update([0u8]);
    hasher.update(body.as_bytes());
    let digest = hasher.finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: PageTokenCodec = PageTokenCodec::new("sources");

    fn t(s: &str) -> TenantId {
        TenantId::parse(s).unwrap()
    }

    #[test]
    fn round_trip() {
        let token = SOURCES.encode(&t("acme"), "src_01J0000000000000000000000A");
        assert!(!token.contains("SOURCE#") && !token.contains("TENANT"));
        assert_eq!(
            SOURCES.decode(&t("acme"), &token).unwrap(),
            "src_01J0000000000000000000000A"
        );
    }

    #[test]
    fn refuses_other_tenants_scopes_and_edits() {
        let token = SOURCES.encode(&t("acme"), "src_01J0000000000000000000000A");
        assert!(SOURCES.decode(&t("evil"), &token).is_err());
        assert!(
            PageTokenCodec::new("jobs")
                .decode(&t("acme"), &token)
                .is_err()
        );
        let mut edited = token.clone().into_bytes();
        edited[10] = if edited[10] == b'A' { b'B' } else { b'A' };
        let edited = String::from_utf8(edited).unwrap();
        assert!(SOURCES.decode(&t("acme"), &edited).is_err());
        for junk in ["", "!!!", "bm90IGEgdG9rZW4", &"A".repeat(600)] {
            let p = SOURCES.decode(&t("acme"), junk).unwrap_err();
            assert_eq!(p.field.as_deref(), Some("next_token"));
        }
    }
}

//! Who is calling: the tenant from the API Gateway JWT authorizer's claims.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use sluice_domain::TenantId;

use crate::Problem;

/// Where the tenant of a request comes from.
#[derive(Debug, Clone)]
pub enum TenantMode {
    /// A claim of the JWT verified by the HTTP API's authorizer.
    JwtClaim(String),
    /// A request header, for the local stack. Exists only in builds with the
    /// `local-dev` feature, which deployment builds never enable.
    #[cfg(feature = "local-dev")]
    Header(axum::http::HeaderName),
}

/// The verified tenant of a request. Answers 401 when there is none.
#[derive(Debug, Clone)]
pub struct Tenant(pub TenantId);

impl TenantMode {
    fn resolve(&self, parts: &Parts) -> Result<TenantId, Problem> {
        let raw = match self {
            TenantMode::JwtClaim(claim) => jwt_claim(parts, claim).ok_or_else(|| {
                Problem::unauthorized(format!("the token carries no {claim} claim"))
            })?,
            #[cfg(feature = "local-dev")]
            TenantMode::Header(name) => parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .ok_or_else(|| Problem::unauthorized(format!("send the {name} header")))?,
        };
        TenantId::parse(&raw)
            .map_err(|e| Problem::unauthorized(format!("invalid tenant: {}", e.reason)))
    }
}

fn jwt_claim(parts: &Parts, claim: &str) -> Option<String> {
    match parts.extensions.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx
            .authorizer
            .as_ref()?
            .jwt
            .as_ref()?
            .claims
            .get(claim)
            .cloned(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mode = parts
            .extensions
            .get::<TenantMode>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!("no TenantMode extension: the router was wired without one");
                Problem::internal()
            })?;
        mode.resolve(parts).map(Tenant)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TenantConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The tenant mode from `SLUICE_TENANT_MODE` (`jwt`, the default, or
/// `header`), `SLUICE_TENANT_CLAIM` (required for `jwt`) and
/// `SLUICE_TENANT_HEADER` (default `x-sluice-tenant`).
pub fn tenant_mode_from_lookup(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<TenantMode, TenantConfigError> {
    match get("SLUICE_TENANT_MODE").as_deref() {
        None | Some("jwt") => get("SLUICE_TENANT_CLAIM")
            .filter(|v| !v.trim().is_empty())
            .map(TenantMode::JwtClaim)
            .ok_or(TenantConfigError::Missing("SLUICE_TENANT_CLAIM")),
        Some("header") => header_mode(get("SLUICE_TENANT_HEADER")),
        Some(other) => Err(TenantConfigError::Invalid {
            name: "SLUICE_TENANT_MODE",
            reason: format!("{other:?}; expected jwt or header"),
        }),
    }
}

#[cfg(feature = "local-dev")]
fn header_mode(name: Option<String>) -> Result<TenantMode, TenantConfigError> {
    let name = name.unwrap_or_else(|| "x-sluice-tenant".to_owned());
    axum::http::HeaderName::try_from(name)
        .map(TenantMode::Header)
        .map_err(|e| TenantConfigError::Invalid {
            name: "SLUICE_TENANT_HEADER",
            reason: e.to_string(),
        })
}

#[cfg(not(feature = "local-dev"))]
fn header_mode(_name: Option<String>) -> Result<TenantMode, TenantConfigError> {
    Err(TenantConfigError::Invalid {
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
    fn jwt_is_the_default_and_needs_its_claim() {
        assert!(matches!(
            tenant_mode_from_lookup(&lookup(&[])),
            Err(TenantConfigError::Missing("SLUICE_TENANT_CLAIM"))
        ));
        let mode = tenant_mode_from_lookup(&lookup(&[("SLUICE_TENANT_CLAIM", "custom:tenant")]));
        assert!(matches!(mode, Ok(TenantMode::JwtClaim(ref c)) if c == "custom:tenant"));
        assert!(tenant_mode_from_lookup(&lookup(&[("SLUICE_TENANT_MODE", "cookie")])).is_err());
    }

    #[cfg(not(feature = "local-dev"))]
    #[test]
    fn header_mode_is_refused_outside_local_dev_builds() {
        assert!(matches!(
            tenant_mode_from_lookup(&lookup(&[("SLUICE_TENANT_MODE", "header")])),
            Err(TenantConfigError::Invalid {
                name: "SLUICE_TENANT_MODE",
                ..
            })
        ));
    }
}

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

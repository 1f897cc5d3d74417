//! The `limit` and `next_token` query parameters of list routes.

use std::collections::HashMap;

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use sluice_domain::TenantId;

use crate::{PageTokenCodec, Problem};

pub const DEFAULT_PAGE_SIZE: usize = 25;

/// A list request: how many, and after which cursor (as the token held it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<String>,
}

impl PageRequest {
    /// Reads `limit` and `next_token`; any other parameter is a 400 naming it.
    pub fn from_query(
        query: Result<Query<HashMap<String, String>>, QueryRejection>,
        tenant: &TenantId,
        codec: PageTokenCodec,
    ) -> Result<Self, Problem> {
        Self::with_filters(query, tenant, codec, &[]).map(|(page, _)| page)
    }

    /// Reads `limit`, `next_token` and the list's own `filters` (returned by
    /// name); any other parameter is a 400 naming it.
    pub fn with_filters(
        query: Result<Query<HashMap<String, String>>, QueryRejection>,
        tenant: &TenantId,
        codec: PageTokenCodec,
        filters: &[&str],
    ) -> Result<(Self, HashMap<String, String>), Problem> {
        let allowed: Vec<&str> = ["limit", "next_token"]
            .iter()
            .chain(filters)
            .copied()
            .collect();
        let mut params = known_parameters(query, &allowed)?;
        let limit = match params.remove("limit") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<usize>()
                .map_err(|_| Problem::invalid_field("limit", "must be a positive integer"))?,
        };
        let after = params
            .remove("next_token")
            .map(|token| codec.decode(tenant, &token))
            .transpose()?;
        Ok((Self { limit, after }, params))
    }
}

/// The query's parameters, when each is one of `allowed`; else a 400 naming the first other one
/// (or the query, when it does not parse).
pub fn known_parameters(
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    allowed: &[&str],
) -> Result<HashMap<String, String>, Problem> {
    let Query(params) =
        query.map_err(|_| Problem::invalid_field("query", "is not a valid query string"))?;
    if let Some(unknown) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
        let shown: String = unknown
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        return Err(Problem::invalid_field(
            shown,
            format!("unknown query parameter; expected {}", allowed.join(", ")),
        ));
    }
    Ok(params)
}

/// The problem for a token whose cursor does not parse as an id.
pub fn foreign_token() -> Problem {
    Problem::invalid_field("next_token", "is not a token this list issued")
}

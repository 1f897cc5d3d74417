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
        let Query(params) =
            query.map_err(|_| Problem::invalid_field("query", "is not a valid query string"))?;
        if let Some(unknown) = params
            .keys()
            .find(|k| !["limit", "next_token"].contains(&k.as_str()))
        {
            let shown: String = unknown
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect();
            return Err(Problem::invalid_field(
                shown,
                "unknown query parameter; expected limit or next_token",
            ));
        }
        let limit = match params.get("limit") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => raw
                .parse::<usize>()
                .map_err(|_| Problem::invalid_field("limit", "must be an integer from 1 to 100"))?,
        };
        let after = params
            .get("next_token")
            .map(|token| codec.decode(tenant, token))
            .transpose()?;
        Ok(Self { limit, after })
    }
}

/// The problem for a token whose cursor does not parse as an id.
pub fn foreign_token() -> Problem {
    Problem::invalid_field("next_token", "is not a token this list issued")
}

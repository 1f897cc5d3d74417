//! The filesystem probe. TODO(issue #14): being written.

use sluice_domain::model::discovery::{
    Check, CheckCode, ConnectionReport, ObjectDescription, ObjectPage, ObjectQuery,
};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};

pub async fn test(_source: &Source, _secrets: &Secrets) -> ConnectionReport {
    ConnectionReport::new(
        0,
        None,
        vec![Check::failed(
            "connect",
            CheckCode::Refused,
            "not implemented yet",
        )],
    )
}

pub async fn list(
    _source: &Source,
    _secrets: &Secrets,
    _query: &ObjectQuery,
) -> Result<ObjectPage, DiscoveryError> {
    Err(DiscoveryError::Invalid {
        field: "source",
        reason: "not implemented yet".into(),
    })
}

pub async fn describe(
    _source: &Source,
    _secrets: &Secrets,
    _name: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    Ok(None)
}

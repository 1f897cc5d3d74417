//! Every use-case error of the domain mapped to problem+json, in one
//! place. 5xx causes are logged here and never sent to the caller.

use crate::Problem;
use sluice_domain::ports::{RepositoryError, SealError};
use sluice_domain::sources_service::{
    DeleteSourceError, GetSourceError, ListSourcesError, RegisterSourceError, UpdateSourceError,
};

fn not_found(id: &str) -> Problem {
    Problem::not_found(format!("no source {id}"))
}

fn version_mismatch(expected: u64, current: u64) -> Problem {
    Problem::precondition_failed(format!(
        "If-Match names version {expected}, but the source is at version {current}"
    ))
}

fn repository(e: &RepositoryError) -> Problem {
    tracing::error!(error = %error_chain(e), "repository failure");
    match e {
        RepositoryError::Unavailable(_) => Problem::unavailable(),
        _ => Problem::internal(),
    }
}

fn sealing(e: &SealError) -> Problem {
    tracing::error!(error = %error_chain(e), "sealing failure");
    match e {
        SealError::KeyProvider(_) => Problem::unavailable(),
        _ => Problem::internal(),
    }
}

/// `e: cause: cause`, for logs. SDK errors carry no request payloads.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

impl From<RegisterSourceError> for Problem {
    fn from(e: RegisterSourceError) -> Self {
        match e {
            RegisterSourceError::Invalid(errors) => Problem::invalid(errors),
            RegisterSourceError::Sealing(e) => sealing(&e),
            RegisterSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetSourceError> for Problem {
    fn from(e: GetSourceError) -> Self {
        match e {
            GetSourceError::NotFound(id) => not_found(&id),
            GetSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<ListSourcesError> for Problem {
    fn from(e: ListSourcesError) -> Self {
        match e {
            ListSourcesError::Invalid(errors) => Problem::invalid(errors),
            ListSourcesError::Repository(e) => repository(&e),
        }
    }
}

impl From<UpdateSourceError> for Problem {
    fn from(e: UpdateSourceError) -> Self {
        match e {
            UpdateSourceError::Invalid(errors) => Problem::invalid(errors),
            UpdateSourceError::NotFound(id) => not_found(&id),
            UpdateSourceError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            UpdateSourceError::Sealing(e) => sealing(&e),
            UpdateSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<DeleteSourceError> for Problem {
    fn from(e: DeleteSourceError) -> Self {
        match e {
            DeleteSourceError::NotFound(id) => not_found(&id),
            DeleteSourceError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            DeleteSourceError::Repository(e) => repository(&e),
        }
    }
}

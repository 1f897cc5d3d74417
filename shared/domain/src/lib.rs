//! sluice's domain: what a data source is, how it is validated, the use cases
//! that change it, and the ports (traits) those use cases need.
//!
//! This crate imports no AWS crate and no HTTP client: adapters live in
//! `sluice-aws`, the HTTP edge in `sluice-http`, and the compiler keeps it so.

pub mod catalog;
pub mod job;
pub mod jobs_service;
pub mod ports;
pub mod run;
pub mod runs_service;
pub mod schedule;
pub mod secrets;
pub mod source;
pub mod sources_service;
pub mod tenant;
pub mod trigger_service;
pub mod validation;

#[cfg(any(test, feature = "test-fakes"))]
pub mod fakes;

pub use secrets::{EncryptionContext, Purpose, SealedSecrets, Secrets};
pub use source::{Source, SourceId, SourceKind};
pub use tenant::TenantId;
pub use validation::{FieldError, ValidationErrors};

//! sluice's domain, laid out as its architecture (ARCHITECTURE.md):
//!
//! - `model`: sources, jobs, schedules, runs and the rules that keep them
//!   valid; it imports neither ports nor services;
//! - `ports`: the traits the use cases need (storage, KMS sealing, Flink,
//!   the scheduler, the trigger), over model types only;
//! - `service`: the use cases, each over its ports.
//!
//! This crate imports no AWS crate and no HTTP client: adapters live in
//! `sluice-aws`, the HTTP edge in `sluice-http`, and the compiler keeps it so.

pub mod model;
pub mod ports;
pub mod service;

#[cfg(any(test, feature = "test-fakes"))]
pub mod fakes;

pub use model::secrets::{EncryptionContext, Purpose, SealedSecrets, Secrets};
pub use model::source::{Source, SourceId, SourceKind};
pub use model::tenant::TenantId;
pub use model::validation::{FieldError, ValidationErrors};

//! Flink adapters and the deployment's Flink targets ([`targets`]).
//!
//! [`FlinkSessionClient`] implements [`sluice_domain::ports::FlinkSubmitter`] and [`sluice_domain::ports::FlinkJobs`]
//! against a self-hosted session cluster through the JobManager's REST API
//! (ARCHITECTURE.md §5, target `session`): the runner jar is uploaded once per
//! cluster and found again by its content hash, each run is one
//! `POST /jars/{id}/run` of `dev.sluice.runner.Runner` with the sealed script
//! as a program argument, and the reconciler follows the job through
//! `GET /jobs/{id}`.
//!
//! [`FlinkGatewayClient`] implements it against a Flink SQL Gateway (target
//! `gateway`, plaintext scripts, see [`gateway`]); the `managed` target's
//! adapter (MSF) is `sluice_aws::msf`, which needs the AWS SDK.
//!
//! Nothing this crate logs or returns carries the sealed script: it is only
//! ever in the body of the run request.

mod flink_errors;
pub mod gateway;
pub mod http;
mod job_metrics;
mod session;
pub mod targets;

// Needs a cluster started with plaintext scripts allowed, which the local
// stack does not do (sealed scripts are the end-to-end tests' job):
// `cargo test -p sluice-flink --features plaintext-cluster-tests -- --ignored`.
#[cfg(all(test, feature = "plaintext-cluster-tests"))]
mod real_cluster_tests;

pub use gateway::{FlinkGatewayClient, FlinkGatewayConfig, GatewayConfigError};
pub use session::{FlinkConfigError, FlinkSessionClient, FlinkSessionConfig, RUNNER_ENTRY_CLASS};
pub use targets::{ManagedTargetConfig, TargetKind, TargetsConfig, TargetsConfigError};

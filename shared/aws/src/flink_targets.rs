//! The deployment's Flink targets (`SLUICE_FLINK_TARGETS`), built for what a
//! function does with them: the trigger submits ([`submitting_targets`]);
//! the reconciler and the jobs API only follow and cancel runs
//! ([`following_targets`]), so they never link the submit paths. Managed
//! targets (MSF) are built here because they need the function's AWS
//! configuration; session and gateway targets are built by `sluice_flink`.

use std::sync::Arc;
use std::time::Duration;

use sluice_domain::model::job::FlinkTarget;
use sluice_domain::ports::{FlinkCluster, FlinkJobTargets, FlinkJobs, FlinkTargets};
use sluice_flink::{TargetsConfig, TargetsConfigError};

use crate::msf::MsfTarget;

/// The targets the trigger submits runs to (and adopts or cancels them on).
pub fn submitting_targets(
    config: &TargetsConfig,
    aws: &aws_config::SdkConfig,
    request_timeout: Duration,
) -> Result<FlinkTargets, TargetsConfigError> {
    config.submitting(request_timeout, |_name: FlinkTarget, managed| {
        Arc::new(MsfTarget::from_sdk_config(aws, managed.clone())) as Arc<dyn FlinkCluster>
    })
}

/// The targets whose runs a function follows and cancels, never submits.
pub fn following_targets(
    config: &TargetsConfig,
    aws: &aws_config::SdkConfig,
    request_timeout: Duration,
) -> Result<FlinkJobTargets, TargetsConfigError> {
    config.following(request_timeout, |_name: FlinkTarget, managed| {
        Arc::new(MsfTarget::from_sdk_config(aws, managed.clone())) as Arc<dyn FlinkJobs>
    })
}

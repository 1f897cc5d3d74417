//! Schedules of jobs (README, "Scheduling"): what a user sets, how it is checked,
//! and the policies the trigger and reconciler honour on every run.
//!
//! The use cases are in `service::schedules`; the scheduler and the
//! record store are ports.
//!
//! A schedule is stored twice: the record in our table is the truth the
//! trigger reads (policies, watermarks, child jobs), and an EventBridge
//! Scheduler schedule delivers the fires. EventBridge validates little and
//! moto nothing, so every check happens here, before either is written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_schedule::{ScheduleExpression, next_fires, parse_timezone};

use crate::TenantId;
use crate::model::job::JobId;

/// How many fire times a schedule view previews.
pub const PREVIEW_FIRES: usize = 5;
/// Bounds of the job-level policies (EventBridge's own bounds are in
/// `sluice_schedule::validate`).
pub const MAX_TIMEOUT_SECONDS: u32 = 7 * 24 * 3600;
pub const MAX_RUN_ATTEMPTS: u32 = 10;
pub const MAX_BACKOFF_SECONDS: u32 = 24 * 3600;
pub const MAX_CHILDREN: usize = 10;

/// What happens when a fire comes while another run of the job is active.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// The new run is recorded as `skipped` (XXL-JOB's "discard later").
    #[default]
    Skip,
    /// The active run's Flink job is cancelled first ("cover early").
    CancelPrevious,
    /// Both run.
    Allow,
}

/// Job-level retry of failed runs: attempts of the same run, the n-th
/// retry waiting `backoff_seconds × 2^(n-1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    pub backoff_seconds: u32,
}

impl RetryPolicy {
    /// When the attempt after `attempts_made` may start, if one is left.
    pub fn next_attempt_at(
        &self,
        attempts_made: u32,
        failed_at: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if attempts_made >= self.max_attempts {
            return None;
        }
        let factor = 1i64 << attempts_made.saturating_sub(1).min(16);
        let wait = (i64::from(self.backoff_seconds) * factor).min(i64::from(MAX_BACKOFF_SECONDS));
        Some(failed_at + chrono::Duration::seconds(wait))
    }
}

/// EventBridge Scheduler's own retry of a delivery that could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRetry {
    pub max_attempts: u32,
    pub max_event_age_seconds: u32,
}

/// A schedule as a caller sends it (`PUT /jobs/{id}/schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// EventBridge form: `cron(...)`, `rate(...)` or `at(...)`.
    #[serde(default)]
    pub expression: Option<String>,
    /// XXL-JOB / Quartz cron (with seconds), converted when exact.
    #[serde(default)]
    pub xxl_cron: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub end_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub flexible_window_minutes: Option<u32>,
    #[serde(default)]
    pub delivery_retry: Option<DeliveryRetry>,
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default)]
    pub timeout_seconds: Option<u32>,
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
    #[serde(default)]
    pub on_success: Vec<String>,
}

fn enabled_by_default() -> bool {
    true
}

/// A stored schedule: the spec, checked and normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub tenant: TenantId,
    pub job_id: JobId,
    /// The EventBridge expression (converted when given as `xxl_cron`).
    pub expression: String,
    /// The XXL-JOB cron it was converted from, if it was.
    pub xxl_cron: Option<String>,
    pub timezone: String,
    pub enabled: bool,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    pub flexible_window_minutes: Option<u32>,
    pub delivery_retry: Option<DeliveryRetry>,
    pub policy: RunPolicy,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the trigger and the reconciler do with a job's runs. A run keeps
/// the policy it started with, so editing a schedule never changes a run
/// in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPolicy {
    #[serde(default)]
    pub overlap: Overlap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_success: Vec<JobId>,
}

impl Schedule {
    /// The next fire times after `now` (at most [`PREVIEW_FIRES`]); none
    /// while disabled.
    pub fn next_fires(&self, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        if !self.enabled {
            return Vec::new();
        }
        let (Ok(expression), Ok(tz)) = (
            ScheduleExpression::parse(&self.expression),
            parse_timezone(&self.timezone),
        ) else {
            return Vec::new();
        };
        // A rate schedule without a start counts from its creation, as
        // EventBridge (and the local bridge) do.
        let start = match (&expression, self.start_at) {
            (ScheduleExpression::Rate(_), None) => Some(self.created_at),
            (_, start) => start,
        };
        next_fires(&expression, tz, now, start, self.end_at, PREVIEW_FIRES)
    }
}

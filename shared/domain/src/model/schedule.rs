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
use sluice_schedule::{ScheduleExpression, Timezone, convert_quartz, next_fires, parse_timezone};

use crate::TenantId;
use crate::model::job::JobId;
use crate::model::validation::ValidationErrors;

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

/// When a spec fires, as far as it checks out.
#[derive(Debug, Clone)]
pub struct When {
    pub expression: Option<ScheduleExpression>,
    pub timezone_name: String,
    pub timezone: Option<Timezone>,
}

impl ScheduleSpec {
    /// The expression (EventBridge's, or XXL-JOB's converted) and the time
    /// zone; each problem is named in `errors`.
    pub fn check_when(&self, errors: &mut ValidationErrors) -> When {
        let expression = match (&self.expression, &self.xxl_cron) {
            (Some(_), Some(_)) => {
                errors.push("xxl_cron", "give either expression or xxl_cron, not both");
                None
            }
            (None, None) => {
                errors.push("expression", "is required (or give xxl_cron)");
                None
            }
            (Some(text), None) => ScheduleExpression::parse(text)
                .map_err(|e| errors.push("expression", e.to_string()))
                .ok(),
            (None, Some(quartz)) => convert_quartz(quartz)
                .map_err(|e| errors.push("xxl_cron", e.to_string()))
                .ok(),
        };
        let timezone_name = self.timezone.clone().unwrap_or_else(|| "UTC".to_owned());
        let timezone = parse_timezone(&timezone_name)
            .map_err(|e| errors.push("timezone", e.to_string()))
            .ok();
        When {
            expression,
            timezone_name,
            timezone,
        }
    }

    /// EventBridge's delivery settings, within its bounds.
    pub fn check_delivery(&self, errors: &mut ValidationErrors) {
        if let Some(minutes) = self.flexible_window_minutes
            && let Err(e) = sluice_schedule::validate_flexible_window_minutes(minutes.into())
        {
            errors.push("flexible_window_minutes", e.to_string());
        }
        if let Some(retry) = self.delivery_retry {
            if let Err(e) = sluice_schedule::validate_retry_attempts(retry.max_attempts.into()) {
                errors.push("delivery_retry.max_attempts", e.to_string());
            }
            if let Err(e) =
                sluice_schedule::validate_max_event_age_seconds(retry.max_event_age_seconds.into())
            {
                errors.push("delivery_retry.max_event_age_seconds", e.to_string());
            }
        }
        if let Err(e) = sluice_schedule::validate_start_end(self.start_at, self.end_at) {
            errors.push("end_at", e.to_string());
        }
    }

    /// The runs' timeout and retry, within sluice's bounds.
    pub fn check_run_policy(&self, errors: &mut ValidationErrors) {
        if let Some(timeout) = self.timeout_seconds
            && !(1..=MAX_TIMEOUT_SECONDS).contains(&timeout)
        {
            errors.push(
                "timeout_seconds",
                format!("must be between 1 and {MAX_TIMEOUT_SECONDS}"),
            );
        }
        if let Some(retry) = self.retry {
            if !(1..=MAX_RUN_ATTEMPTS).contains(&retry.max_attempts) {
                errors.push(
                    "retry.max_attempts",
                    format!("must be between 1 and {MAX_RUN_ATTEMPTS} (attempts in all)"),
                );
            }
            if !(1..=MAX_BACKOFF_SECONDS).contains(&retry.backoff_seconds) {
                errors.push(
                    "retry.backoff_seconds",
                    format!("must be between 1 and {MAX_BACKOFF_SECONDS}"),
                );
            }
        }
    }

    /// An enabled one-time `at()` schedule must still fire.
    pub fn check_fires(&self, when: &When, now: DateTime<Utc>, errors: &mut ValidationErrors) {
        if let (Some(ScheduleExpression::At(local)), Some(tz)) = (&when.expression, &when.timezone)
            && self.enabled
            && next_fires(
                &ScheduleExpression::At(*local),
                tz,
                now,
                self.start_at,
                self.end_at,
                1,
            )
            .is_empty()
        {
            errors.push(
                "expression",
                "the at() time is in the past (or outside start_at/end_at) and would never fire",
            );
        }
    }

    /// The schedule this spec makes once every check passed (`when` has an
    /// expression), with its child jobs parsed.
    pub fn into_schedule(
        self,
        tenant: &TenantId,
        job_id: &JobId,
        when: When,
        on_success: Vec<JobId>,
        now: DateTime<Utc>,
    ) -> Schedule {
        Schedule {
            tenant: tenant.clone(),
            job_id: job_id.clone(),
            expression: when
                .expression
                .expect("no errors means the expression parsed")
                .to_string(),
            xxl_cron: self.xxl_cron,
            timezone: when.timezone_name,
            enabled: self.enabled,
            start_at: self.start_at,
            end_at: self.end_at,
            flexible_window_minutes: self.flexible_window_minutes,
            delivery_retry: self.delivery_retry,
            policy: RunPolicy {
                overlap: self.overlap,
                timeout_seconds: self.timeout_seconds,
                retry: self.retry,
                on_success,
            },
            version: 0,
            created_at: now,
            updated_at: now,
        }
    }
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
        next_fires(&expression, &tz, now, start, self.end_at, PREVIEW_FIRES)
    }
}

//! What the jobs API returns: the job as sent, plus id, version and times.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sluice_domain::model::job::{Job, JobSpec};
use sluice_domain::model::run::TableRows;
use sluice_domain::model::schedule::{DeliveryRetry, Overlap, RetryPolicy, Schedule};

#[derive(Serialize)]
pub struct JobView<'a> {
    pub id: &'a str,
    #[serde(flatten)]
    pub spec: &'a JobSpec,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl<'a> From<&'a Job> for JobView<'a> {
    fn from(job: &'a Job) -> Self {
        Self {
            id: job.id.as_str(),
            spec: &job.spec,
            version: job.version,
            created_at: timestamp(job.created_at),
            updated_at: timestamp(job.updated_at),
        }
    }
}

/// The view of a job's schedule: the schedule as stored, its EventBridge
/// state, and the next fire times.
#[derive(Serialize)]
pub struct ScheduleView<'a> {
    pub job_id: &'a str,
    pub expression: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xxl_cron: Option<&'a str>,
    pub timezone: &'a str,
    pub enabled: bool,
    /// EventBridge's schedule state.
    pub state: &'static str,
    pub start_at: Option<String>,
    pub end_at: Option<String>,
    pub flexible_window_minutes: Option<u32>,
    pub delivery_retry: Option<DeliveryRetry>,
    pub overlap: Overlap,
    pub timeout_seconds: Option<u32>,
    pub retry: Option<RetryPolicy>,
    pub on_success: Vec<&'a str>,
    pub next_fires: Vec<String>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl<'a> ScheduleView<'a> {
    pub fn new(schedule: &'a Schedule, now: DateTime<Utc>) -> Self {
        Self {
            job_id: schedule.job_id.as_str(),
            expression: &schedule.expression,
            xxl_cron: schedule.xxl_cron.as_deref(),
            timezone: &schedule.timezone,
            enabled: schedule.enabled,
            state: if schedule.enabled {
                "ENABLED"
            } else {
                "DISABLED"
            },
            start_at: schedule.start_at.map(timestamp),
            end_at: schedule.end_at.map(timestamp),
            flexible_window_minutes: schedule.flexible_window_minutes,
            delivery_retry: schedule.delivery_retry,
            overlap: schedule.policy.overlap,
            timeout_seconds: schedule.policy.timeout_seconds,
            retry: schedule.policy.retry,
            on_success: schedule
                .policy
                .on_success
                .iter()
                .map(|j| j.as_str())
                .collect(),
            next_fires: schedule
                .next_fires(now)
                .into_iter()
                .map(timestamp)
                .collect(),
            version: schedule.version,
            created_at: timestamp(schedule.created_at),
            updated_at: timestamp(schedule.updated_at),
        }
    }
}

/// A job with its schedule (`GET /jobs/{id}`).
#[derive(Serialize)]
pub struct ScheduledJobView<'a> {
    #[serde(flatten)]
    pub job: JobView<'a>,
    pub schedule: Option<ScheduleView<'a>>,
}

#[derive(Serialize)]
pub struct JobList<'a> {
    pub items: Vec<JobView<'a>>,
    /// Pass as `next_token` for the next page; absent on the last page.
    pub next_token: Option<String>,
}

use sluice_domain::model::job::{FlinkTarget, Window};
use sluice_domain::model::run::{Run, RunError, TriggerKind, Validation};

/// The body of `POST /jobs/{id}/runs`: empty for a run now, or a window
/// to backfill.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRunRequest {
    #[serde(default)]
    pub window: Option<Window>,
}

#[derive(Serialize)]
pub struct RunView<'a> {
    pub id: &'a str,
    pub job_id: &'a str,
    pub trigger: TriggerKind,
    pub scheduled_time: String,
    pub window: Option<Window>,
    pub state: &'static str,
    pub flink_target: FlinkTarget,
    pub flink_job_id: Option<&'a str>,
    pub attempts: u32,
    pub error: Option<&'a RunError>,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    /// `validate: count`: the rows counted on each side after the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// A multi-table run's rows per table.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tables: &'a [TableRows],
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    /// When a running run is canceled as `timed_out` (its timeout policy).
    pub deadline: Option<String>,
    /// When a failed run's next attempt starts (its retry policy).
    pub next_attempt_at: Option<String>,
    /// The run whose success started this one (`trigger: parent`).
    pub parent_run_id: Option<&'a str>,
    /// How the run's notices were delivered, once it ended for good (README, "Notifications").
    pub notifications: &'a [sluice_domain::model::notification::NotificationOutcome],
    pub version: u64,
}

impl<'a> From<&'a Run> for RunView<'a> {
    fn from(run: &'a Run) -> Self {
        Self {
            id: run.id.as_str(),
            job_id: run.job_id.as_str(),
            trigger: run.trigger,
            scheduled_time: timestamp(run.scheduled_time),
            window: run.window,
            state: run.state.as_str(),
            flink_target: run.flink_target,
            flink_job_id: run.flink_job_id.as_deref(),
            attempts: run.attempts,
            error: run.error.as_ref(),
            rows_read: run.rows_read,
            rows_written: run.rows_written,
            validation: run.validation,
            tables: &run.tables,
            created_at: timestamp(run.created_at),
            updated_at: timestamp(run.updated_at),
            finished_at: run.finished_at.map(timestamp),
            deadline: run.deadline.map(timestamp),
            next_attempt_at: run.next_attempt_at.map(timestamp),
            parent_run_id: run.parent_run_id.as_ref().map(|id| id.as_str()),
            notifications: &run.notifications,
            version: run.version,
        }
    }
}

#[derive(Serialize)]
pub struct RunList<'a> {
    pub items: Vec<RunView<'a>>,
    pub next_token: Option<String>,
}

//! What the jobs API returns: the job as sent, plus id, version and times.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sluice_domain::job::{Job, JobSpec};

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

#[derive(Serialize)]
pub struct JobList<'a> {
    pub items: Vec<JobView<'a>>,
    /// Pass as `next_token` for the next page; absent on the last page.
    pub next_token: Option<String>,
}

use sluice_domain::job::{FlinkTarget, Window};
use sluice_domain::run::{Run, RunError, TriggerKind};

/// The body of `POST /jobs/{id}/runs`: empty for a run now, or a window
/// to backfill.
#[derive(serde::Deserialize, Default)]
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
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
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
            created_at: timestamp(run.created_at),
            updated_at: timestamp(run.updated_at),
            finished_at: run.finished_at.map(timestamp),
            version: run.version,
        }
    }
}

#[derive(Serialize)]
pub struct RunList<'a> {
    pub items: Vec<RunView<'a>>,
    pub next_token: Option<String>,
}

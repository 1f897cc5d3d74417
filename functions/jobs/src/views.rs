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

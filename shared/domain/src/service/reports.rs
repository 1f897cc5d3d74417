//! The run report (`GET /reports/runs`): counters kept as runs end, read back per bucket.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::job::JobId;
use crate::model::report::{Counters, Granularity, ReportBucket, ReportParams};
use crate::ports::{Clock, JobRepository, RepositoryError, RunReports};
use crate::{TenantId, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("invalid report request: {0}")]
    Invalid(ValidationErrors),
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("could not read the report")]
    Repository(#[source] RepositoryError),
}

/// A report as answered: every bucket of `[from, to)` in order, empty ones included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub bucket: Granularity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<JobId>,
    pub buckets: Vec<ReportBucket>,
}

pub struct ReportService {
    reports: Arc<dyn RunReports>,
    jobs: Arc<dyn JobRepository>,
    clock: Arc<dyn Clock>,
}

impl ReportService {
    pub fn new(
        reports: Arc<dyn RunReports>,
        jobs: Arc<dyn JobRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            reports,
            jobs,
            clock,
        }
    }

    /// The tenant's runs per bucket; a job filter names one of the tenant's jobs.
    pub async fn runs(
        &self,
        tenant: TenantId,
        params: ReportParams,
    ) -> Result<RunReport, ReportError> {
        let query = params
            .parse(tenant, self.clock.now())
            .map_err(ReportError::Invalid)?;
        if let Some(job) = &query.job_id {
            self.jobs
                .get(&query.tenant, job)
                .await
                .map_err(ReportError::Repository)?
                .ok_or_else(|| ReportError::JobNotFound(job.to_string()))?;
        }
        let stored = self
            .reports
            .counters(&query)
            .await
            .map_err(ReportError::Repository)?;
        let empty = Counters::default();
        let step = query.granularity.step();
        let buckets = std::iter::successors(Some(query.from), |s| Some(*s + step))
            .take_while(|s| *s < query.to)
            .map(|start| ReportBucket::new(start, stored.get(&start).unwrap_or(&empty)))
            .collect();
        Ok(RunReport {
            from: query.from,
            to: query.to,
            bucket: query.granularity,
            job_id: query.job_id,
            buckets,
        })
    }
}

//! Runs seen from the API (manual runs, history, cancel) and from the
//! reconciler (following Flink until each run ends).

use std::sync::Arc;

use chrono::Duration;

use crate::job::{FlinkTarget, JobId, Window};
use crate::ports::{
    Clock, FlinkCluster, FlinkError, FlinkJobState, JobRepository, RepositoryError, RunPage,
    RunRepository, TriggerInvoker,
};
use crate::run::{NewRun, Run, RunError, RunId, RunState, TriggerKind};
use crate::validation::FieldError;
use crate::{TenantId, ValidationErrors};

pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum StartRunError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("invalid run request: {0}")]
    Invalid(ValidationErrors),
    #[error("the trigger could not be reached")]
    TriggerUnavailable,
    #[error("could not record the run")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum GetRunError {
    #[error("run {0} not found")]
    NotFound(String),
    #[error("could not read the run")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum ListRunsError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("invalid page request: {0}")]
    Invalid(ValidationErrors),
    #[error("could not list runs")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum CancelRunError {
    #[error("run {0} not found")]
    NotFound(String),
    #[error("run {id} has already ended ({state})")]
    AlreadyEnded { id: String, state: &'static str },
    #[error("the Flink cluster could not be reached")]
    FlinkUnavailable,
    #[error("could not record the run")]
    Repository(#[source] RepositoryError),
}

#[derive(Clone)]
pub struct RunsService {
    jobs: Arc<dyn JobRepository>,
    runs: Arc<dyn RunRepository>,
    flink: Arc<dyn FlinkCluster>,
    trigger: Arc<dyn TriggerInvoker>,
    clock: Arc<dyn Clock>,
}

impl RunsService {
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        runs: Arc<dyn RunRepository>,
        flink: Arc<dyn FlinkCluster>,
        trigger: Arc<dyn TriggerInvoker>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            runs,
            flink,
            trigger,
            clock,
        }
    }

    /// Records a pending manual (or backfill, with a window) run and hands
    /// it to the trigger.
    pub async fn start(
        &self,
        tenant: &TenantId,
        job_id: &str,
        window: Option<Window>,
    ) -> Result<Run, StartRunError> {
        let not_found = || StartRunError::JobNotFound(job_id.to_owned());
        let parsed = JobId::parse(job_id).ok_or_else(not_found)?;
        let job = self
            .jobs
            .get(tenant, &parsed)
            .await
            .map_err(StartRunError::Repository)?
            .ok_or_else(not_found)?;
        if let Some(w) = window
            && w.from >= w.to
        {
            return Err(StartRunError::Invalid(
                FieldError::new("window.to", "must be after window.from").into(),
            ));
        }
        if window.is_some() && job.spec.source.incremental.is_none() {
            return Err(StartRunError::Invalid(
                FieldError::new("window", "only incremental jobs take a window").into(),
            ));
        }
        let now = self.clock.now();
        let trigger = if window.is_some() {
            TriggerKind::Backfill
        } else {
            TriggerKind::Manual
        };
        let run = Run::pending(
            NewRun {
                id: RunId::generate(),
                tenant: tenant.clone(),
                job_id: parsed,
                trigger,
                scheduled_time: now,
                window,
                flink_target: job.spec.flink_target.unwrap_or(FlinkTarget::Session),
            },
            now,
        );
        self.runs
            .create(&run)
            .await
            .map_err(StartRunError::Repository)?;
        let event = serde_json::json!({
            "kind": "manual",
            "tenant": tenant.as_str(),
            "job_id": run.job_id.as_str(),
            "run_id": run.id.as_str(),
            "scheduled_time": run.scheduled_time.to_rfc3339(),
            "trigger": trigger,
            "window": window,
        });
        if let Err(e) = self.trigger.invoke(&event).await {
            tracing::error!(error = %e, run_id = %run.id, "the trigger could not be invoked");
            let mut failed = run.transition(RunState::Failed, self.clock.now());
            failed.error = Some(RunError {
                code: "trigger_unavailable".into(),
                message: "the trigger could not be invoked".into(),
                retryable: true,
            });
            self.runs
                .update(&failed, run.version)
                .await
                .map_err(StartRunError::Repository)?;
            return Err(StartRunError::TriggerUnavailable);
        }
        Ok(run)
    }

    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<Run, GetRunError> {
        let not_found = || GetRunError::NotFound(id.to_owned());
        let parsed = RunId::parse(id).ok_or_else(not_found)?;
        self.runs
            .get(tenant, &parsed)
            .await
            .map_err(GetRunError::Repository)?
            .ok_or_else(not_found)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        job_id: &str,
        limit: usize,
        before: Option<&RunId>,
    ) -> Result<RunPage, ListRunsError> {
        let not_found = || ListRunsError::JobNotFound(job_id.to_owned());
        let parsed = JobId::parse(job_id).ok_or_else(not_found)?;
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ListRunsError::Invalid(
                FieldError::new("limit", format!("must be between 1 and {MAX_PAGE_SIZE}")).into(),
            ));
        }
        if self
            .jobs
            .get(tenant, &parsed)
            .await
            .map_err(ListRunsError::Repository)?
            .is_none()
        {
            return Err(not_found());
        }
        self.runs
            .list_for_job(tenant, &parsed, limit, before)
            .await
            .map_err(ListRunsError::Repository)
    }

    /// Cancels an active run, and its Flink job when it has one.
    pub async fn cancel(&self, tenant: &TenantId, id: &str) -> Result<Run, CancelRunError> {
        let not_found = || CancelRunError::NotFound(id.to_owned());
        let parsed = RunId::parse(id).ok_or_else(not_found)?;
        let run = self
            .runs
            .get(tenant, &parsed)
            .await
            .map_err(CancelRunError::Repository)?
            .ok_or_else(not_found)?;
        if !run.state.is_active() {
            return Err(CancelRunError::AlreadyEnded {
                id: id.to_owned(),
                state: run.state.as_str(),
            });
        }
        if let Some(flink_job_id) = &run.flink_job_id {
            match self.flink.cancel(flink_job_id).await {
                Ok(()) | Err(FlinkError::UnknownJob) => {}
                Err(_) => return Err(CancelRunError::FlinkUnavailable),
            }
        }
        let canceled = run.transition(RunState::Canceled, self.clock.now());
        match self.runs.update(&canceled, run.version).await {
            Ok(()) => Ok(canceled),
            // The run moved meanwhile (e.g. submitted): look again.
            Err(RepositoryError::VersionMismatch { .. }) => Box::pin(self.cancel(tenant, id)).await,
            Err(e) => Err(CancelRunError::Repository(e)),
        }
    }
}

/// What one reconciler pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReconcileReport {
    pub followed: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub canceled: usize,
    pub lost: usize,
    pub unreachable: usize,
}

/// Follows active runs on Flink and records how they end.
#[derive(Clone)]
pub struct Reconciler {
    runs: Arc<dyn RunRepository>,
    flink: Arc<dyn FlinkCluster>,
    clock: Arc<dyn Clock>,
    /// A run still pending or submitting after this long was dropped by its
    /// trigger (crashed, timed out) and is marked lost.
    stale_after: Duration,
}

impl Reconciler {
    pub fn new(
        runs: Arc<dyn RunRepository>,
        flink: Arc<dyn FlinkCluster>,
        clock: Arc<dyn Clock>,
        stale_after: Duration,
    ) -> Self {
        Self {
            runs,
            flink,
            clock,
            stale_after,
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self) -> Result<ReconcileReport, RepositoryError> {
        let mut report = ReconcileReport::default();
        for run in self.runs.list_active(500).await? {
            report.followed += 1;
            let now = self.clock.now();
            let next = match (&run.flink_job_id, run.state) {
                (Some(flink_job_id), RunState::Running) => {
                    match self.flink.status(flink_job_id).await {
                        Ok(status) => {
                            let mut next = match status.state {
                                FlinkJobState::InProgress => continue,
                                FlinkJobState::Finished => {
                                    report.succeeded += 1;
                                    run.transition(RunState::Succeeded, now)
                                }
                                FlinkJobState::Failed => {
                                    report.failed += 1;
                                    let mut failed = run.transition(RunState::Failed, now);
                                    failed.error = Some(RunError {
                                        code: "flink_job_failed".into(),
                                        message: status
                                            .failure
                                            .clone()
                                            .unwrap_or_else(|| "the Flink job failed".into()),
                                        retryable: false,
                                    });
                                    failed
                                }
                                FlinkJobState::Canceled => {
                                    report.canceled += 1;
                                    run.transition(RunState::Canceled, now)
                                }
                            };
                            next.rows_read = status.rows_read;
                            next.rows_written = status.rows_written;
                            next
                        }
                        Err(FlinkError::UnknownJob) => {
                            report.lost += 1;
                            lost(
                                &run,
                                now,
                                "flink_job_unknown",
                                "the Flink cluster no longer knows the job",
                            )
                        }
                        Err(_) => {
                            report.unreachable += 1;
                            continue;
                        }
                    }
                }
                _ if now - run.updated_at > self.stale_after => {
                    report.lost += 1;
                    lost(
                        &run,
                        now,
                        "stalled",
                        "the run stopped before it reached Flink",
                    )
                }
                _ => continue,
            };
            match self.runs.update(&next, run.version).await {
                Ok(()) => {
                    tracing::info!(run_id = %run.id, state = next.state.as_str(), "run ended")
                }
                // Someone else moved it (cancel, trigger): next pass sees it.
                Err(RepositoryError::VersionMismatch { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

fn lost(run: &Run, now: chrono::DateTime<chrono::Utc>, code: &str, message: &str) -> Run {
    let mut next = run.transition(RunState::Lost, now);
    next.error = Some(RunError {
        code: code.into(),
        message: message.into(),
        retryable: false,
    });
    next
}

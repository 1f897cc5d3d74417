//! Runs seen from the API (manual runs, history, cancel) and from the
//! reconciler (following Flink until each run ends).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::model::job::{Job, JobId, Window};
use crate::model::run::{
    NewRun, Run, RunError, RunErrorCode, RunId, RunState, TableRows, TriggerKind,
};
use crate::model::trigger_event::TriggerEvent;
use crate::model::validation::FieldError;
use crate::ports::{
    Clock, FlinkCanceler, FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobTargets, FlinkJobs,
    JobRepository, PrepareError, RepositoryError, RowCounter, RunEvents, RunPage, RunRepository,
    TriggerInvoker,
};
use crate::service::announce;
use crate::service::validation::{count_requests, judge, validates};
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
    flink: Arc<dyn FlinkCanceler>,
    trigger: Arc<dyn TriggerInvoker>,
    events: Arc<dyn RunEvents>,
    clock: Arc<dyn Clock>,
}

impl RunsService {
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        runs: Arc<dyn RunRepository>,
        flink: Arc<dyn FlinkCanceler>,
        trigger: Arc<dyn TriggerInvoker>,
        events: Arc<dyn RunEvents>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            runs,
            flink,
            trigger,
            events,
            clock,
        }
    }

    /// Records a pending manual (or backfill, with a window) run and hands
    /// it to the trigger.
    pub async fn start(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        window: Option<Window>,
    ) -> Result<Run, StartRunError> {
        let job = self
            .jobs
            .get(tenant, job_id)
            .await
            .map_err(StartRunError::Repository)?
            .ok_or_else(|| StartRunError::JobNotFound(job_id.to_string()))?;
        check_window(&job, window)?;
        let now = self.clock.now();
        let run = Run::pending(
            NewRun {
                id: RunId::generate(),
                tenant: tenant.clone(),
                job_id: job_id.clone(),
                trigger: window.map_or(TriggerKind::Manual, |_| TriggerKind::Backfill),
                scheduled_time: now,
                window,
                flink_target: job.spec.flink_target.unwrap_or(self.flink.default_target()),
            },
            now,
        );
        self.runs
            .create(&run)
            .await
            .map_err(StartRunError::Repository)?;
        announce(self.events.as_ref(), None, &run).await;
        self.hand_to_trigger(&run).await?;
        Ok(run)
    }

    /// Hands the recorded run to the trigger; if it cannot be reached, the
    /// run is recorded failed (it would never start).
    async fn hand_to_trigger(&self, run: &Run) -> Result<(), StartRunError> {
        let Err(e) = self.trigger.invoke(&TriggerEvent::manual(run)).await else {
            return Ok(());
        };
        tracing::error!(error = %e, run_id = %run.id, "the trigger could not be invoked");
        let failed = run.end(
            RunState::Failed,
            RunError::new(
                RunErrorCode::TriggerUnavailable,
                "the trigger could not be invoked",
            ),
            self.clock.now(),
        );
        self.runs
            .update(&failed, run.version)
            .await
            .map_err(StartRunError::Repository)?;
        announce(self.events.as_ref(), Some(run.state), &failed).await;
        Err(StartRunError::TriggerUnavailable)
    }

    pub async fn get(&self, tenant: &TenantId, id: &RunId) -> Result<Run, GetRunError> {
        let not_found = || GetRunError::NotFound(id.to_string());
        self.runs
            .get(tenant, id)
            .await
            .map_err(GetRunError::Repository)?
            .ok_or_else(not_found)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        limit: usize,
        before: Option<&RunId>,
    ) -> Result<RunPage, ListRunsError> {
        let not_found = || ListRunsError::JobNotFound(job_id.to_string());
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ListRunsError::Invalid(
                FieldError::new("limit", format!("must be between 1 and {MAX_PAGE_SIZE}")).into(),
            ));
        }
        if self
            .jobs
            .get(tenant, job_id)
            .await
            .map_err(ListRunsError::Repository)?
            .is_none()
        {
            return Err(not_found());
        }
        self.runs
            .list_for_job(tenant, job_id, limit, before)
            .await
            .map_err(ListRunsError::Repository)
    }

    /// Cancels an active run, and its Flink job when it has one.
    pub async fn cancel(&self, tenant: &TenantId, id: &RunId) -> Result<Run, CancelRunError> {
        let not_found = || CancelRunError::NotFound(id.to_string());
        let run = self
            .runs
            .get(tenant, id)
            .await
            .map_err(CancelRunError::Repository)?
            .ok_or_else(not_found)?;
        // A failed run waiting for its next attempt can be canceled too.
        if !run.state.is_active() && run.next_attempt_at.is_none() {
            return Err(CancelRunError::AlreadyEnded {
                id: id.to_string(),
                state: run.state.as_str(),
            });
        }
        if let Some(flink_job_id) = &run.flink_job_id
            && let Err(e) = self.flink.cancel(run.flink_target, flink_job_id).await
        {
            tracing::warn!(error = %e, run_id = %run.id, "the run's Flink job could not be canceled");
            return Err(CancelRunError::FlinkUnavailable);
        }
        let canceled = run.transition(RunState::Canceled, self.clock.now());
        match self.runs.update(&canceled, run.version).await {
            Ok(()) => {
                announce(self.events.as_ref(), Some(run.state), &canceled).await;
                if let Err(e) = self.runs.release_slot(tenant, &run.job_id, &run.id).await {
                    tracing::warn!(error = %e, run_id = %run.id, "could not release the run slot");
                }
                Ok(canceled)
            }
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
    pub timed_out: usize,
    pub lost: usize,
    pub unreachable: usize,
    /// Next attempts of failed runs handed to the trigger.
    pub retried: usize,
    /// Child runs handed to the trigger after their parent succeeded.
    pub children_started: usize,
}

/// The ports the reconciler needs.
#[derive(Clone)]
pub struct ReconcilerPorts {
    pub runs: Arc<dyn RunRepository>,
    pub jobs: Arc<dyn JobRepository>,
    /// The deployment's Flink targets; a run is followed on its own.
    pub flink: FlinkJobTargets,
    pub trigger: Arc<dyn TriggerInvoker>,
    /// Where each state change of a run is published.
    pub events: Arc<dyn RunEvents>,
    /// Counts a succeeded run's rows for jobs with `validate: count`.
    pub counter: Arc<dyn RowCounter>,
    pub clock: Arc<dyn Clock>,
}

/// Follows runs until they end and does what their policy asks then:
/// records how Flink ended them, cancels them at their deadline, starts the
/// next attempt of a failed run after its backoff, moves an incremental
/// job's watermark and starts child jobs when a run succeeds.
#[derive(Clone)]
pub struct Reconciler {
    ports: ReconcilerPorts,
    /// A run still pending or submitting after this long was dropped by its
    /// trigger (crashed, timed out) and is marked lost.
    stale_after: Duration,
}

impl Reconciler {
    pub fn new(ports: ReconcilerPorts, stale_after: Duration) -> Self {
        Self { ports, stale_after }
    }

    /// One pass over the active runs (oldest first, at most 500).
    #[tracing::instrument(skip_all)]
    pub async fn reconcile(&self) -> Result<ReconcileReport, RepositoryError> {
        let mut report = ReconcileReport::default();
        for run in self.ports.runs.list_active(500).await? {
            report.followed += 1;
            self.reconcile_run(&run, &mut report).await?;
        }
        Ok(report)
    }

    /// What this pass does for one run: its follow-ups after a success, its
    /// next attempt when due, else its next state as Flink reports it.
    async fn reconcile_run(
        &self,
        run: &Run,
        report: &mut ReconcileReport,
    ) -> Result<(), RepositoryError> {
        let now = self.ports.clock.now();
        match run.state {
            RunState::Succeeded if run.follow_up_pending => self.follow_up(run, report).await,
            RunState::Failed => {
                if run.next_attempt_at.is_some_and(|at| at <= now) {
                    self.start_next_attempt(run, report).await;
                }
                Ok(())
            }
            _ => match self.next_state(run, now, report).await {
                Some(next) => match self.validated(run, next, now, report).await? {
                    Some(next) => self.record(run, next, report).await,
                    None => Ok(()),
                },
                None => Ok(()),
            },
        }
    }

    /// The run's next version, if it moves: as Flink reports its job
    /// (canceled at its deadline), or lost when it stalled before reaching
    /// Flink. `None` while it runs on or Flink cannot be asked.
    async fn next_state(
        &self,
        run: &Run,
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
    ) -> Option<Run> {
        let cluster = self.ports.flink.get(&run.flink_target);
        match (&run.flink_job_id, run.state, cluster) {
            (Some(_), RunState::Running, None) => {
                tracing::error!(run_id = %run.id, target = %run.flink_target, "the run's Flink target is not configured");
                report.unreachable += 1;
                None
            }
            (Some(flink_job_id), RunState::Running, Some(cluster)) => {
                if run.deadline.is_some_and(|d| now >= d) {
                    time_out(run, cluster.as_ref(), flink_job_id, now, report).await
                } else {
                    follow(run, cluster.as_ref(), flink_job_id, now, report).await
                }
            }
            _ if now - run.updated_at > self.stale_after => {
                report.lost += 1;
                Some(lost(
                    run,
                    now,
                    RunErrorCode::Stalled,
                    "the run stopped before it reached Flink",
                ))
            }
            _ => None,
        }
    }

    /// `next` as its job's validation judges it (README, "Validation"): a
    /// run that succeeded on Flink keeps its success only when its rows
    /// count the same in the source and the target; else it fails with
    /// `validation_mismatch`, without follow-ups (the watermark stays).
    /// `None` while the rows cannot be counted: the next pass asks again,
    /// until the run's deadline (then `validation_unavailable`).
    async fn validated(
        &self,
        run: &Run,
        next: Run,
        now: DateTime<Utc>,
        report: &mut ReconcileReport,
    ) -> Result<Option<Run>, RepositoryError> {
        if next.state != RunState::Succeeded {
            return Ok(Some(next));
        }
        let Some(job) = self.ports.jobs.get(&run.tenant, &run.job_id).await? else {
            return Ok(Some(next));
        };
        if !validates(&job.spec) {
            return Ok(Some(next));
        }
        let requests = count_requests(&job.spec, run.window);
        let counted = match &requests {
            Ok(requests) => {
                self.ports
                    .counter
                    .count_rows(&job.tenant, &job.source_id, &job.target_id, requests)
                    .await
            }
            Err(reason) => Err(PrepareError::Invalid(reason.clone())),
        };
        let failure = match (counted, &requests) {
            (Ok(counts), Ok(requests)) => {
                let (validation, differing) = judge(requests, &counts);
                if validation.ok {
                    let mut next = next;
                    next.validation = Some(validation);
                    return Ok(Some(next));
                }
                let message = match requests.len() {
                    1 => format!(
                        "the target holds {} rows of the run's window, the source {}",
                        validation.target_rows, validation.source_rows
                    ),
                    _ => format!(
                        "target tables differ from their sources (rows of the run's window, target of source): {}",
                        differing.join(", ")
                    ),
                };
                (
                    RunError::new(RunErrorCode::ValidationMismatch, message),
                    Some(validation),
                )
            }
            (Err(e), _) if run.deadline.is_none_or(|d| now < d) => {
                tracing::warn!(error = %e, run_id = %run.id, "could not count the run's rows; the next pass tries again");
                report.succeeded -= 1;
                return Ok(None);
            }
            (Err(e), _) => (
                RunError::new(
                    RunErrorCode::ValidationUnavailable,
                    format!("the run's rows could not be counted before its deadline: {e}"),
                ),
                None,
            ),
            (Ok(_), Err(_)) => unreachable!("no counts without requests"),
        };
        report.succeeded -= 1;
        report.failed += 1;
        let mut failed = run.fail(failure.0, now);
        failed.rows_read = next.rows_read;
        failed.rows_written = next.rows_written;
        failed.validation = failure.1;
        Ok(Some(failed))
    }

    /// Writes `next` over `run`. A run that ended frees its job's slot and
    /// gets its follow-ups; one that someone else moved meanwhile (cancel,
    /// trigger) is left to the next pass.
    async fn record(
        &self,
        run: &Run,
        next: Run,
        report: &mut ReconcileReport,
    ) -> Result<(), RepositoryError> {
        let updated = self.ports.runs.update(&next, run.version).await;
        if updated.is_ok() {
            // Nothing when the state stays (a run marked as being canceled).
            announce(self.ports.events.as_ref(), Some(run.state), &next).await;
        }
        match updated {
            Ok(()) if next.state.is_active() => {
                tracing::info!(run_id = %run.id, "the run's Flink job is being canceled at its deadline");
                Ok(())
            }
            Ok(()) => {
                tracing::info!(run_id = %run.id, state = next.state.as_str(), "run ended");
                if let Err(e) = self
                    .ports
                    .runs
                    .release_slot(&next.tenant, &next.job_id, &next.id)
                    .await
                {
                    tracing::warn!(error = %e, run_id = %run.id, "could not release the run slot");
                }
                if next.follow_up_pending {
                    self.follow_up(&next, report).await?;
                }
                Ok(())
            }
            Err(RepositoryError::VersionMismatch { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Hands the next attempt of a failed run to the trigger, which claims it
    /// (so a second hand-over by a concurrent pass does nothing).
    async fn start_next_attempt(&self, run: &Run, report: &mut ReconcileReport) {
        match self.ports.trigger.invoke(&TriggerEvent::retry(run)).await {
            Ok(()) => {
                report.retried += 1;
                tracing::info!(run_id = %run.id, attempt = run.attempts + 1, "next attempt handed to the trigger");
            }
            Err(e) => {
                tracing::warn!(error = %e, run_id = %run.id, "could not hand the next attempt to the trigger")
            }
        }
    }

    /// After a success: the watermark moves to the end of the run's window
    /// (forward only; a backfill re-reads the past and moves nothing), and
    /// each child job gets its one run (ids derived from the parent's, so
    /// doing this again starts nothing twice). Then the run is marked done.
    async fn follow_up(
        &self,
        run: &Run,
        report: &mut ReconcileReport,
    ) -> Result<(), RepositoryError> {
        if let Some(window) = run.window
            && run.trigger != TriggerKind::Backfill
        {
            self.ports
                .jobs
                .advance_watermark(&run.tenant, &run.job_id, window.to)
                .await?;
        }
        for child in &run.policy.on_success {
            let event = TriggerEvent::child(child, run);
            if let Err(e) = self.ports.trigger.invoke(&event).await {
                // The run stays pending follow-up: the next pass tries again.
                tracing::warn!(error = %e, run_id = %run.id, child = %child, "could not start a child job");
                return Ok(());
            }
            report.children_started += 1;
        }
        let done = run.followed_up(self.ports.clock.now());
        match self.ports.runs.update(&done, run.version).await {
            Ok(()) | Err(RepositoryError::VersionMismatch { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A backfill's window: not empty, and only for an incremental job.
fn check_window(job: &Job, window: Option<Window>) -> Result<(), StartRunError> {
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
    Ok(())
}

/// Where Flink is with the run's job: the run as it ended, or `None` while
/// the job runs on (or Flink cannot be asked).
async fn follow(
    run: &Run,
    cluster: &dyn FlinkJobs,
    flink_job_id: &str,
    now: DateTime<Utc>,
    report: &mut ReconcileReport,
) -> Option<Run> {
    match job_status(run, cluster, flink_job_id, now, report).await? {
        Ok(status) => ended(run, &status, now, report),
        Err(lost) => Some(lost),
    }
}

/// A run past its deadline. Its end is what Flink did: a job that ended
/// before the deadline struck ends the run as it ended (a finished job
/// succeeded, with its rows); a job in progress is canceled, and the run is
/// `timed_out` only once Flink reports it CANCELED (a job that finished
/// meanwhile succeeded). While Flink is still canceling, the run stays
/// running, marked with the `timed_out` error, so the next pass knows that
/// sluice canceled it.
async fn time_out(
    run: &Run,
    cluster: &dyn FlinkJobs,
    flink_job_id: &str,
    now: DateTime<Utc>,
    report: &mut ReconcileReport,
) -> Option<Run> {
    let canceling = is_canceling_for_timeout(run);
    let before = match job_status(run, cluster, flink_job_id, now, report).await? {
        Ok(status) => status,
        Err(lost) => return Some(lost),
    };
    if before.state != FlinkJobState::InProgress {
        return if canceling && before.state == FlinkJobState::Canceled {
            Some(timed_out(run, &before, now, report))
        } else {
            ended(run, &before, now, report)
        };
    }
    match cluster.cancel(flink_job_id).await {
        Ok(()) => {}
        Err(FlinkError::UnknownJob) => {
            report.lost += 1;
            return Some(job_unknown(run, now));
        }
        Err(_) => {
            report.unreachable += 1;
            return None;
        }
    }
    let after = match job_status(run, cluster, flink_job_id, now, report).await? {
        Ok(status) => status,
        Err(lost) => return Some(lost),
    };
    match after.state {
        FlinkJobState::Canceled => Some(timed_out(run, &after, now, report)),
        FlinkJobState::InProgress if canceling => None,
        FlinkJobState::InProgress => Some(canceling_for_timeout(run, now)),
        _ => ended(run, &after, now, report),
    }
}

/// The job's status; `Err(lost run)` when Flink does not know the job,
/// `None` when Flink cannot be asked (the next pass asks again).
async fn job_status(
    run: &Run,
    cluster: &dyn FlinkJobs,
    flink_job_id: &str,
    now: DateTime<Utc>,
    report: &mut ReconcileReport,
) -> Option<Result<FlinkJobStatus, Run>> {
    match cluster.status(flink_job_id).await {
        Ok(status) => Some(Ok(status)),
        Err(FlinkError::UnknownJob) => {
            report.lost += 1;
            Some(Err(job_unknown(run, now)))
        }
        Err(_) => {
            report.unreachable += 1;
            None
        }
    }
}

/// The run as its job ended on Flink, with the rows Flink counted; `None`
/// while the job is in progress.
fn ended(
    run: &Run,
    status: &FlinkJobStatus,
    now: DateTime<Utc>,
    report: &mut ReconcileReport,
) -> Option<Run> {
    let mut next = match status.state {
        FlinkJobState::InProgress => return None,
        FlinkJobState::Finished => {
            report.succeeded += 1;
            let mut done = run.transition(RunState::Succeeded, now);
            done.error = None;
            done.follow_up_pending = has_follow_ups(run);
            done
        }
        FlinkJobState::Failed => {
            report.failed += 1;
            run.fail(
                RunError::new(
                    RunErrorCode::FlinkJobFailed,
                    status
                        .failure
                        .clone()
                        .unwrap_or_else(|| "the Flink job failed".into()),
                ),
                now,
            )
        }
        FlinkJobState::Canceled => {
            report.canceled += 1;
            let mut canceled = run.transition(RunState::Canceled, now);
            canceled.error = None;
            canceled
        }
    };
    next.rows_read = status.rows_read;
    next.rows_written = status.rows_written;
    next.tables = TableRows::counted(&run.tables, &status.tables);
    Some(next)
}

fn timeout_error(run: &Run, what: &str) -> RunError {
    RunError::new(
        RunErrorCode::TimedOut,
        format!(
            "the run exceeded its timeout of {} s{what}",
            run.policy.timeout_seconds.unwrap_or_default()
        ),
    )
}

/// The run `timed_out`: Flink canceled its job at sluice's request.
fn timed_out(
    run: &Run,
    status: &FlinkJobStatus,
    now: DateTime<Utc>,
    report: &mut ReconcileReport,
) -> Run {
    report.timed_out += 1;
    let mut next = run.transition(RunState::TimedOut, now);
    next.error = Some(timeout_error(run, " and was canceled"));
    next.rows_read = status.rows_read;
    next.rows_written = status.rows_written;
    next.tables = TableRows::counted(&run.tables, &status.tables);
    next
}

/// The run, still running, marked as being canceled for its timeout.
fn canceling_for_timeout(run: &Run, now: DateTime<Utc>) -> Run {
    let mut next = run.clone();
    next.error = Some(timeout_error(run, "; its Flink job is being canceled"));
    next.updated_at = now;
    next.version += 1;
    next
}

/// Whether sluice has asked Flink to cancel the run's job for its timeout
/// (see [`canceling_for_timeout`]).
fn is_canceling_for_timeout(run: &Run) -> bool {
    run.state == RunState::Running
        && run
            .error
            .as_ref()
            .is_some_and(|e| e.code == RunErrorCode::TimedOut)
}

fn job_unknown(run: &Run, now: DateTime<Utc>) -> Run {
    lost(
        run,
        now,
        RunErrorCode::FlinkJobUnknown,
        "the Flink cluster no longer knows the job",
    )
}

/// Whether a success has follow-ups: a watermark to move or child jobs.
fn has_follow_ups(run: &Run) -> bool {
    (run.window.is_some() && run.trigger != TriggerKind::Backfill)
        || !run.policy.on_success.is_empty()
}

fn lost(run: &Run, now: DateTime<Utc>, code: RunErrorCode, message: &str) -> Run {
    let mut next = run.transition(RunState::Lost, now);
    next.error = Some(RunError::new(code, message));
    next
}

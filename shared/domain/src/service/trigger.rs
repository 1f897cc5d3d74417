//! The trigger: turns one delivery of a fire (or a manual run) into at most
//! one Flink job, and records what happened on the run.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::model::discovery::{
    DiscoveredColumn, DriftCheck, Preparation, RunPreparation, TablePreparation, TableReady,
    TargetCheck, TypeProposal,
};
use crate::model::job::{Column, Job, JobId, OnSchemaChange, RuntimeMode, TargetCreate, Window};
use crate::model::run::{
    NewRun, Run, RunError, RunErrorCode, RunId, RunState, TableRows, TriggerKind,
};
use crate::model::schedule::{Overlap, RunPolicy, Schedule};
use crate::model::trigger_event::TriggerEvent;
use crate::ports::ScheduleRepository;
use crate::ports::{
    Clock, Created, FlinkCluster, FlinkError, FlinkTargets, JobCompiler, JobRepository,
    PrepareError, RepositoryError, RunEvents, RunPreparer, RunRepository, ScriptTransport,
    SealError, SecretExposure, SecretSealer, SlotClaim, SourceRepository, Submission,
    SubmitSettings,
};
use crate::service::announce;
use crate::service::discovery::{OpenSecretsError, open_secrets};
use crate::{EncryptionContext, Secrets, Source, SourceId, TenantId};

/// One delivery: a scheduler fire or a manual run.
#[derive(Debug, Clone, PartialEq)]
pub struct Fire {
    pub tenant: TenantId,
    pub job_id: JobId,
    pub scheduled_time: DateTime<Utc>,
    pub trigger: TriggerKind,
    /// A backfill's explicit window; else derived from the job.
    pub window: Option<Window>,
    /// Set for runs created before the delivery (manual runs), and for
    /// retries and child runs.
    pub run_id: Option<RunId>,
    /// The run whose success started this one (child jobs).
    pub parent_run_id: Option<RunId>,
}

impl Fire {
    /// The run this delivery is about: the one the event names, else the
    /// one derived from (job, scheduled time), so every delivery of a fire
    /// names the same run.
    fn run_id(&self) -> RunId {
        self.run_id
            .clone()
            .unwrap_or_else(|| RunId::for_fire(&self.job_id, self.scheduled_time))
    }
}

impl From<TriggerEvent> for Fire {
    fn from(event: TriggerEvent) -> Self {
        let (window, parent_run_id) = match &event {
            TriggerEvent::Manual { window, .. } => (*window, None),
            TriggerEvent::Parent { parent_run_id, .. } => (None, Some(parent_run_id.clone())),
            TriggerEvent::Schedule { .. } | TriggerEvent::Retry { .. } => (None, None),
        };
        Self {
            tenant: event.tenant().clone(),
            job_id: event.job_id().clone(),
            scheduled_time: event.scheduled_time(),
            trigger: event.trigger(),
            window,
            run_id: event.run_id().cloned(),
            parent_run_id,
        }
    }
}

/// A recorded run, as a delivery finds it.
enum Recorded {
    /// This delivery may start an attempt.
    Claimable(Run),
    /// Another delivery has it, or it has ended.
    Taken(Run),
}

/// What a delivery achieved. Every variant is a final answer: redelivering
/// the same fire changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerOutcome {
    /// This delivery submitted the run; it is running on Flink.
    Submitted(Run),
    /// Another delivery has the run (a duplicate, or a finished run).
    AlreadyHandled(Run),
    /// The run failed in a way no redelivery can fix (or its next attempt
    /// is planned); it is recorded.
    Failed(Run),
    /// The run is recorded as skipped: another run of the job is active
    /// (overlap `skip`), or its window is empty.
    Skipped(Run),
    /// No run: the fire's schedule no longer exists or is disabled.
    Ignored(String),
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// The run is recorded as failed, and another attempt may succeed.
    #[error("run {} failed and may be retried: {}", .0.id, .0.error.as_ref().map(|e| e.code.as_str()).unwrap_or("?"))]
    Retryable(Box<Run>),
    #[error("could not read or record the run")]
    Repository(#[source] RepositoryError),
    /// The previous run could not be cancelled (overlap `cancel_previous`).
    #[error("the Flink cluster could not be reached to cancel the previous run")]
    FlinkUnavailable,
}

impl TriggerError {
    /// Whether a redelivery may succeed: everything but a malformed event,
    /// which no redelivery changes. Matched in full so that a new variant
    /// has to be decided here.
    pub fn is_retryable(&self) -> bool {
        match self {
            TriggerError::InvalidEvent(_) => false,
            TriggerError::Retryable(_)
            | TriggerError::Repository(_)
            | TriggerError::FlinkUnavailable => true,
        }
    }
}

/// The trigger use case over its ports.
#[derive(Clone)]
pub struct TriggerService {
    ports: TriggerPorts,
}

/// The ports the trigger needs.
#[derive(Clone)]
pub struct TriggerPorts {
    pub jobs: Arc<dyn JobRepository>,
    pub sources: Arc<dyn SourceRepository>,
    pub runs: Arc<dyn RunRepository>,
    pub schedules: Arc<dyn ScheduleRepository>,
    pub sealer: Arc<dyn SecretSealer>,
    pub compiler: Arc<dyn JobCompiler>,
    /// The deployment's Flink targets; a run goes to its job's.
    pub flink: FlinkTargets,
    /// Where each state change of a run is published.
    pub events: Arc<dyn RunEvents>,
    /// Prepares a job's databases before its run (drift, target table).
    pub preparer: Arc<dyn RunPreparer>,
    pub clock: Arc<dyn Clock>,
}

impl TriggerService {
    pub fn new(ports: TriggerPorts) -> Self {
        Self { ports }
    }

    /// Handles one delivery: load what the job says, record the run, claim
    /// it, start its Flink job, record how that went.
    #[tracing::instrument(skip_all, fields(tenant = %fire.tenant, job_id = %fire.job_id, run_id))]
    pub async fn fire(&self, fire: Fire) -> Result<TriggerOutcome, TriggerError> {
        let run_id = fire.run_id();
        tracing::Span::current().record("run_id", run_id.as_str());
        let (job, schedule) = self.load(&fire).await?;
        // A fire that was on its way while the schedule was deleted or
        // disabled does not run.
        if fire.trigger == TriggerKind::Schedule
            && job.is_some()
            && !schedule.as_ref().is_some_and(|s| s.enabled)
        {
            return Ok(TriggerOutcome::Ignored(
                "the job has no enabled schedule".into(),
            ));
        }
        let policy = schedule.map(|s| s.policy).unwrap_or_default();
        let stored = match self.record(&fire, run_id, job.as_ref(), policy).await? {
            Recorded::Claimable(run) => run,
            Recorded::Taken(run) => return Ok(TriggerOutcome::AlreadyHandled(run)),
        };
        if let Some(outcome) = self.refuse_start(&stored, job.is_some()).await? {
            return Ok(outcome);
        }
        let (claimed, same_submission) = stored.claim(self.ports.clock.now());
        if !self.write(&claimed, stored.version).await? {
            return Ok(TriggerOutcome::AlreadyHandled(self.reload(&claimed).await?));
        }
        let start = async {
            match &job {
                None => Err(RunError::new(
                    RunErrorCode::JobNotFound,
                    "the job no longer exists",
                )),
                Some(job) => self.start_flink_job(job, &claimed, same_submission).await,
            }
        };
        // The claim's event goes out while the job starts, not before: one
        // round trip fewer on the fire's path. It is still published before
        // the next change's (both finish before `record_running` writes).
        let ((), started) =
            futures_util::future::join(self.announce(Some(stored.state), &claimed), start).await;
        match started {
            Ok(flink_job_id) => self.record_running(&claimed, flink_job_id).await,
            Err(error) => self.record_failure(&claimed, error).await,
        }
    }

    /// The job and its schedule, read together.
    async fn load(&self, fire: &Fire) -> Result<(Option<Job>, Option<Schedule>), TriggerError> {
        let (job, schedule) = futures_util::future::join(
            self.ports.jobs.get(&fire.tenant, &fire.job_id),
            self.ports.schedules.get(&fire.tenant, &fire.job_id),
        )
        .await;
        let job = job.map_err(TriggerError::Repository)?;
        // A schedule left behind by a deleted job says nothing.
        let schedule = match job {
            Some(_) => schedule.map_err(TriggerError::Repository)?,
            None => None,
        };
        Ok((job, schedule))
    }

    /// Records the fire's run (once, however often it is delivered) and
    /// says whether this delivery may start an attempt of it.
    async fn record(
        &self,
        fire: &Fire,
        run_id: RunId,
        job: Option<&Job>,
        policy: RunPolicy,
    ) -> Result<Recorded, TriggerError> {
        let window = match (fire.window, job) {
            (Some(window), _) => Some(window),
            (None, Some(job)) => self.next_window(job, fire.scheduled_time).await?,
            (None, None) => None,
        };
        let now = self.ports.clock.now();
        let mut fresh = Run::pending(
            NewRun {
                id: run_id,
                tenant: fire.tenant.clone(),
                job_id: fire.job_id.clone(),
                trigger: fire.trigger,
                scheduled_time: fire.scheduled_time,
                window,
                flink_target: self
                    .ports
                    .flink
                    .resolve(job.and_then(|j| j.spec.flink_target)),
            },
            now,
        );
        fresh.policy = policy.clone();
        fresh.parent_run_id = fire.parent_run_id.clone();
        let mut stored = match self
            .ports
            .runs
            .create(&fresh)
            .await
            .map_err(TriggerError::Repository)?
        {
            Created::New(run) => {
                self.announce(None, &run).await;
                run
            }
            Created::Existing(run) => run,
        };
        if !claimable(&stored, now) {
            return Ok(Recorded::Taken(stored));
        }
        // A run recorded by the API takes the job's policy at its first
        // attempt; later attempts keep the one they started with.
        if stored.attempts == 0 {
            stored.policy = policy;
        }
        // The tables a multi-table run moves, whose rows the reconciler
        // counts; a run the API recorded learns them here.
        if let Some(job) = job
            && stored.tables.is_empty()
        {
            stored.tables = TableRows::of(job);
        }
        Ok(Recorded::Claimable(stored))
    }

    /// Why `run` is skipped instead of started, if it is: an empty window,
    /// or another active run of the job under its overlap policy.
    async fn refuse_start(
        &self,
        run: &Run,
        job_exists: bool,
    ) -> Result<Option<TriggerOutcome>, TriggerError> {
        if let Some(window) = run.window
            && window.from >= window.to
        {
            let reason = format!(
                "the window [{}, {}) is empty: nothing new to read yet",
                window.from.to_rfc3339(),
                window.to.to_rfc3339()
            );
            return self
                .skip(run, RunErrorCode::EmptyWindow, reason)
                .await
                .map(Some);
        }
        if job_exists
            && run.policy.overlap != Overlap::Allow
            && let Some(holder) = self.take_slot(run).await?
        {
            let reason = format!("run {holder} of this job is still active");
            return self
                .skip(run, RunErrorCode::Overlap, reason)
                .await
                .map(Some);
        }
        Ok(None)
    }

    /// Writes `next` over the stored version `expected`: `false` when another
    /// writer moved the run first (a concurrent delivery, a cancel).
    async fn write(&self, next: &Run, expected: u64) -> Result<bool, TriggerError> {
        match self.ports.runs.update(next, expected).await {
            Ok(()) => Ok(true),
            Err(RepositoryError::VersionMismatch { .. }) => Ok(false),
            Err(e) => Err(TriggerError::Repository(e)),
        }
    }

    /// Records the claimed run as running on Flink. A run canceled while it
    /// was submitting has its Flink job canceled: it must not run on.
    async fn record_running(
        &self,
        claimed: &Run,
        flink_job_id: String,
    ) -> Result<TriggerOutcome, TriggerError> {
        let running = claimed.submitted(flink_job_id.clone(), self.ports.clock.now());
        if self.write(&running, claimed.version).await? {
            tracing::info!(flink_job_id, "run submitted");
            self.announce(Some(claimed.state), &running).await;
            return Ok(TriggerOutcome::Submitted(running));
        }
        if let Some(cluster) = self.ports.flink.get(&claimed.flink_target)
            && let Err(e) = cluster.cancel(&flink_job_id).await
        {
            tracing::warn!(error = %e, flink_job_id, "could not cancel a job whose run was canceled");
        }
        Ok(TriggerOutcome::AlreadyHandled(self.reload(claimed).await?))
    }

    /// Records the claimed run as failed. With a next attempt planned, the
    /// reconciler starts it after the backoff; without one, a retryable
    /// error asks for a redelivery.
    async fn record_failure(
        &self,
        claimed: &Run,
        error: RunError,
    ) -> Result<TriggerOutcome, TriggerError> {
        let retryable = error.retryable;
        tracing::warn!(code = %error.code, retryable, "run failed");
        let failed = claimed.fail(error, self.ports.clock.now());
        self.ports
            .runs
            .update(&failed, claimed.version)
            .await
            .map_err(TriggerError::Repository)?;
        self.announce(Some(claimed.state), &failed).await;
        self.release_slot(&failed).await;
        if failed.next_attempt_at.is_none() && retryable {
            Err(TriggerError::Retryable(Box::new(failed)))
        } else {
            Ok(TriggerOutcome::Failed(failed))
        }
    }

    /// An incremental job's window for a fire at `at`: from the watermark
    /// (the end of the last successful window) or the job's start, to the
    /// scheduled time less the lag. Never from now(): a late or repeated
    /// delivery reads what its fire would have read.
    async fn next_window(
        &self,
        job: &Job,
        at: DateTime<Utc>,
    ) -> Result<Option<Window>, TriggerError> {
        let Some(inc) = job.spec.source.incremental.as_ref() else {
            return Ok(None);
        };
        let watermark = self
            .ports
            .jobs
            .watermark(&job.tenant, &job.id)
            .await
            .map_err(TriggerError::Repository)?;
        Ok(Some(Window {
            from: watermark.map_or(inc.start, |w| w.max(inc.start)),
            to: at - chrono::Duration::seconds(i64::from(inc.lag_seconds)),
        }))
    }

    /// Records `run` as skipped (it never reaches Flink).
    async fn skip(
        &self,
        run: &Run,
        code: RunErrorCode,
        reason: String,
    ) -> Result<TriggerOutcome, TriggerError> {
        let skipped = run.end(
            RunState::Skipped,
            RunError::new(code.clone(), reason),
            self.ports.clock.now(),
        );
        match self.ports.runs.update(&skipped, run.version).await {
            Ok(()) => {
                tracing::info!(%code, "run skipped");
                self.announce(Some(run.state), &skipped).await;
                Ok(TriggerOutcome::Skipped(skipped))
            }
            Err(RepositoryError::VersionMismatch { .. }) => {
                Ok(TriggerOutcome::AlreadyHandled(self.reload(run).await?))
            }
            Err(e) => Err(TriggerError::Repository(e)),
        }
    }

    /// Takes the job's run slot for `run`, cancelling the holder first under
    /// `cancel_previous`. `Some(holder)` when an active run keeps it.
    async fn take_slot(&self, run: &Run) -> Result<Option<RunId>, TriggerError> {
        let runs = &self.ports.runs;
        let mut stale: Option<RunId> = None;
        // Each round either takes the slot or finds its holder finished (or
        // finishes it); a few rounds cover holders that change meanwhile.
        for _ in 0..4 {
            let holder = match runs
                .claim_slot(&run.tenant, &run.job_id, &run.id, stale.as_ref())
                .await
                .map_err(TriggerError::Repository)?
            {
                SlotClaim::Claimed => return Ok(None),
                SlotClaim::HeldBy(holder) => holder,
            };
            let held_by = runs
                .get(&run.tenant, &holder)
                .await
                .map_err(TriggerError::Repository)?;
            if let Some(active) = held_by.filter(|h| h.state.is_active()) {
                if run.policy.overlap != Overlap::CancelPrevious {
                    return Ok(Some(holder));
                }
                self.supersede(&active, &run.id).await?;
            }
            stale = Some(holder);
        }
        Err(TriggerError::Repository(RepositoryError::Unavailable(
            "the job's run slot keeps changing hands".into(),
        )))
    }

    /// Cancels `previous` (and its Flink job) for `next` under
    /// `cancel_previous`. A run that moved meanwhile is looked at again by
    /// the caller's next round.
    async fn supersede(&self, previous: &Run, next: &RunId) -> Result<(), TriggerError> {
        if let Some(flink_job_id) = &previous.flink_job_id {
            let Some(cluster) = self.ports.flink.get(&previous.flink_target) else {
                return Err(TriggerError::FlinkUnavailable);
            };
            match cluster.cancel(flink_job_id).await {
                Ok(()) | Err(FlinkError::UnknownJob) => {}
                Err(_) => return Err(TriggerError::FlinkUnavailable),
            }
        }
        let canceled = previous.end(
            RunState::Canceled,
            RunError::new(
                RunErrorCode::Superseded,
                format!("canceled for run {next} (overlap: cancel_previous)"),
            ),
            self.ports.clock.now(),
        );
        match self.ports.runs.update(&canceled, previous.version).await {
            Ok(()) => {
                tracing::info!(previous = %previous.id, "previous run canceled");
                self.announce(Some(previous.state), &canceled).await;
                Ok(())
            }
            Err(RepositoryError::VersionMismatch { .. }) => Ok(()),
            Err(e) => Err(TriggerError::Repository(e)),
        }
    }

    /// Frees the job's slot after `run` ended; a slot left behind is taken
    /// over by the next run once it sees the holder finished.
    async fn release_slot(&self, run: &Run) {
        if let Err(e) = self
            .ports
            .runs
            .release_slot(&run.tenant, &run.job_id, &run.id)
            .await
        {
            tracing::warn!(error = %e, "could not release the job's run slot");
        }
    }

    /// Publishes the change `run` just went through (see [`announce`]).
    async fn announce(&self, previous: Option<RunState>, run: &Run) {
        announce(self.ports.events.as_ref(), previous, run).await;
    }

    async fn reload(&self, run: &Run) -> Result<Run, TriggerError> {
        self.ports
            .runs
            .get(&run.tenant, &run.id)
            .await
            .map_err(TriggerError::Repository)?
            .ok_or(TriggerError::Repository(RepositoryError::NotFound))
    }

    /// Starts the run's Flink job: the reference the run follows, or why
    /// not. A `retry` of a submission whose outcome is unknown first looks
    /// for the job it may have started, and adopts it: one Flink job per
    /// submission, whatever the number of deliveries.
    async fn start_flink_job(&self, job: &Job, run: &Run, retry: bool) -> Result<String, RunError> {
        let Some(cluster) = self.ports.flink.get(&run.flink_target).cloned() else {
            return Err(RunError::new(
                RunErrorCode::TargetUnknown,
                format!(
                    "the Flink target {} is not configured in this deployment",
                    run.flink_target
                ),
            ));
        };
        let submission = Submission {
            job_id: job.id.clone(),
            run_id: run.id.clone(),
            number: run.submission,
        };
        if retry && let Some(reference) = cluster.find(&submission).await.map_err(submit_failure)? {
            tracing::info!(
                reference,
                submission = submission.number,
                "adopted the Flink job an earlier delivery of this submission started"
            );
            return Ok(reference);
        }
        self.submit(job, run, cluster.as_ref(), &submission).await
    }

    /// Loads, decrypts, renders, seals and submits: the Flink job id, or why
    /// not.
    async fn submit(
        &self,
        job: &Job,
        run: &Run,
        cluster: &dyn FlinkCluster,
        submission: &Submission,
    ) -> Result<String, RunError> {
        let (source, target) = self.load_endpoints(job).await?;
        // The secrets are opened (KMS) while the databases are prepared
        // (the discovery function): one round trip's time, not two.
        let (secrets, prepared) = futures_util::future::try_join(
            self.open_endpoints(job, &source, &target),
            self.prepare(job, &source, &target),
        )
        .await?;
        let ((source, source_secrets), (target, target_secrets)) = secrets;
        let job = prepared.as_ref().unwrap_or(job);
        let script = self
            .ports
            .compiler
            .render(
                &job.id,
                &job.spec,
                &source,
                &target,
                run.window,
                SecretExposure::Revealed {
                    source: &source_secrets,
                    target: &target_secrets,
                },
            )
            .map_err(|e| RunError::new(RunErrorCode::RenderFailed, e.to_string()))?;
        let script = Zeroizing::new(script);
        let settings = SubmitSettings {
            parallelism: job.spec.options.parallelism,
            batch: job.spec.options.mode == RuntimeMode::Batch,
        };
        if cluster.transport() == ScriptTransport::Plaintext {
            // The target is configured for plaintext scripts (no runner to
            // open an envelope): the weaker, opt-in transport.
            return cluster
                .submit(submission, &script, &settings)
                .await
                .map_err(submit_failure);
        }
        let context = EncryptionContext::for_run(&job.tenant, job.id.as_str(), run.id.as_str());
        let sealed = self.ports.sealer.seal(&context, script.as_bytes()).await;
        drop(script);
        let sealed = sealed.map_err(|e| match e {
            SealError::KeyProvider(_) => RunError::new(
                RunErrorCode::KmsUnavailable,
                "KMS could not issue a data key",
            ),
            other => RunError::new(RunErrorCode::SealFailed, other.to_string()),
        })?;
        cluster
            .submit(submission, &sealed.to_envelope_json(&context), &settings)
            .await
            .map_err(submit_failure)
    }

    /// The job's source and target, read at the same time; a job within
    /// one source reads it once.
    async fn load_endpoints(&self, job: &Job) -> Result<(Source, Source), RunError> {
        if job.target_id == job.source_id {
            let source = self.load_source(&job.tenant, &job.source_id).await?;
            return Ok((source.clone(), source));
        }
        futures_util::future::try_join(
            self.load_source(&job.tenant, &job.source_id),
            self.load_source(&job.tenant, &job.target_id),
        )
        .await
    }

    /// Both endpoints with their secrets opened, at the same time; one
    /// source is decrypted once.
    async fn open_endpoints(
        &self,
        job: &Job,
        source: &Source,
        target: &Source,
    ) -> Result<((Source, Secrets), (Source, Secrets)), RunError> {
        if job.target_id == job.source_id {
            let secrets = self.open_secrets(source).await?;
            return Ok(((source.clone(), secrets.clone()), (target.clone(), secrets)));
        }
        let (source_secrets, target_secrets) =
            futures_util::future::try_join(self.open_secrets(source), self.open_secrets(target))
                .await?;
        Ok((
            (source.clone(), source_secrets),
            (target.clone(), target_secrets),
        ))
    }

    /// Prepares the job's databases (README, "Target tables and schema
    /// drift"): a missing target table or a changed source fails the run
    /// here, before Flink. The job as `add_columns` updated it, if it did.
    async fn prepare(
        &self,
        job: &Job,
        source: &Source,
        target: &Source,
    ) -> Result<Option<Job>, RunError> {
        let Some(request) = self.preparation(job, source, target)? else {
            return Ok(None);
        };
        let prepared = self
            .ports
            .preparer
            .prepare_run(&job.tenant, &job.source_id, &job.target_id, &request)
            .await
            .map_err(prepare_failure)?;
        match prepared {
            Preparation::TargetMissing { table } => Err(RunError::new(
                RunErrorCode::TargetMissing,
                format!(
                    "the target table {table} does not exist: create it, or set target.create \
                     to if_missing"
                ),
            )),
            Preparation::SchemaDrift { message } => {
                Err(RunError::new(RunErrorCode::SchemaDrift, message))
            }
            Preparation::Ready { tables, .. } if !tables.is_empty() => {
                let created = tables.iter().filter(|t| t.created).count();
                if created > 0 {
                    tracing::info!(created, "target tables created");
                }
                if tables.iter().all(|t| t.added.is_empty()) {
                    return Ok(None);
                }
                self.add_to_tables(job, tables).await.map(Some)
            }
            Preparation::Ready {
                created,
                added,
                current,
                ..
            } => {
                if created {
                    tracing::info!(table = %job.spec.target.object, "target table created");
                }
                if added.is_empty() {
                    return Ok(None);
                }
                self.add_to_job(job, &added, current).await.map(Some)
            }
        }
    }

    /// What the job's databases are asked before its run, if anything: the
    /// drift check of a database source whose columns were discovered, the
    /// check (or creation) of a database target.
    fn preparation(
        &self,
        job: &Job,
        source: &Source,
        target: &Source,
    ) -> Result<Option<RunPreparation>, RunError> {
        if job.spec.is_multi_table() {
            return self.table_preparations(job, source, target).map(Some);
        }
        let drift = match &job.source_snapshot {
            Some(snapshot) if source.kind.has_schema() => Some(DriftCheck {
                object: job.spec.source.object.clone(),
                snapshot: snapshot.clone(),
                // A mapping names its target columns: a new source column
                // has no place in it.
                add_columns: job.spec.options.on_schema_change == OnSchemaChange::AddColumns
                    && job.spec.mapping.is_none(),
            }),
            _ => None,
        };
        let target_check = if target.kind.has_schema() {
            let table = self
                .ports
                .compiler
                .target_table(&job.spec, source, target)
                .map_err(|e| RunError::new(RunErrorCode::RenderFailed, e.to_string()))?;
            Some(TargetCheck {
                table,
                create: job.spec.target.create == TargetCreate::IfMissing,
            })
        } else {
            None
        };
        if drift.is_none() && target_check.is_none() {
            return Ok(None);
        }
        Ok(Some(RunPreparation {
            drift,
            target: target_check,
            tables: Vec::new(),
        }))
    }

    /// A multi-table job's checks, per table: its drift from the snapshot
    /// taken when the job was saved, its target table.
    fn table_preparations(
        &self,
        job: &Job,
        source: &Source,
        target: &Source,
    ) -> Result<RunPreparation, RunError> {
        let add_columns = job.spec.options.on_schema_change == OnSchemaChange::AddColumns;
        let create = job.spec.target.create == TargetCreate::IfMissing;
        let mut tables = Vec::with_capacity(job.spec.tables.len());
        for (i, table) in job.spec.tables.iter().enumerate() {
            let one = job.spec.table_spec(i).expect("an index of tables");
            let target_table = self
                .ports
                .compiler
                .target_table(&one, source, target)
                .map_err(|e| RunError::new(RunErrorCode::RenderFailed, e.to_string()))?;
            tables.push(TablePreparation {
                drift: source.kind.has_schema().then(|| DriftCheck {
                    object: table.source.clone(),
                    snapshot: table.snapshot.clone(),
                    add_columns,
                }),
                target: target.kind.has_schema().then_some(TargetCheck {
                    table: target_table,
                    create,
                }),
            });
        }
        Ok(RunPreparation {
            drift: None,
            target: None,
            tables,
        })
    }

    /// Stores a multi-table job with the columns `add_columns` added to
    /// each table, and each changed table's columns as its new snapshot
    /// (as [`Self::add_to_job`] does for one table).
    async fn add_to_tables(&self, job: &Job, ready: Vec<TableReady>) -> Result<Job, RunError> {
        let mut next = job.clone();
        for (table, ready) in next.spec.tables.iter_mut().zip(ready) {
            if ready.added.is_empty() {
                continue;
            }
            for column in &ready.added {
                if let TypeProposal::Supported { flink_type } = &column.proposal {
                    table.columns.push(Column {
                        name: column.name.clone(),
                        type_name: flink_type.clone(),
                    });
                }
            }
            if let Some(current) = ready.current {
                table.snapshot = current;
            }
        }
        next.version += 1;
        next.updated_at = self.ports.clock.now();
        match self.ports.jobs.update(&next, job).await {
            Ok(()) => {
                tracing::info!("columns added to the job's tables");
                Ok(next)
            }
            Err(_) => Err(RunError::new(
                RunErrorCode::StoreUnavailable,
                "the job could not be stored with its new columns",
            )),
        }
    }

    /// Stores the job with the columns `add_columns` added to the source
    /// and target tables, and the source's columns as its new snapshot. A
    /// job changed meanwhile (another run added them) fails this attempt
    /// retryably: the next one reads the job again.
    async fn add_to_job(
        &self,
        job: &Job,
        added: &[DiscoveredColumn],
        current: Option<Vec<DiscoveredColumn>>,
    ) -> Result<Job, RunError> {
        let mut next = job.clone();
        for column in added {
            if let TypeProposal::Supported { flink_type } = &column.proposal {
                next.spec.source.columns.push(Column {
                    name: column.name.clone(),
                    type_name: flink_type.clone(),
                });
            }
        }
        next.source_snapshot = current.or(next.source_snapshot);
        next.version += 1;
        next.updated_at = self.ports.clock.now();
        match self.ports.jobs.update(&next, job).await {
            Ok(()) => {
                let names: Vec<&str> = added.iter().map(|c| c.name.as_str()).collect();
                tracing::info!(columns = ?names, "columns added to the job");
                Ok(next)
            }
            Err(_) => Err(RunError::new(
                RunErrorCode::StoreUnavailable,
                "the job could not be stored with its new columns",
            )),
        }
    }

    async fn load_source(&self, tenant: &TenantId, id: &SourceId) -> Result<Source, RunError> {
        match self.ports.sources.get(tenant, id).await {
            Ok(Some(source)) => Ok(source),
            Ok(None) => Err(RunError::new(
                RunErrorCode::SourceNotFound,
                format!("source {id} no longer exists"),
            )),
            Err(_) => Err(RunError::new(
                RunErrorCode::StoreUnavailable,
                "the source could not be read",
            )),
        }
    }

    async fn open_secrets(&self, source: &Source) -> Result<Secrets, RunError> {
        open_secrets(self.ports.sealer.as_ref(), source)
            .await
            .map_err(|e| match e {
                OpenSecretsError::KeyUnavailable => RunError::new(
                    RunErrorCode::KmsUnavailable,
                    "KMS could not decrypt a data key",
                ),
                OpenSecretsError::Unreadable => RunError::new(
                    RunErrorCode::SecretsUnreadable,
                    format!(
                        "the secrets of source {} do not open; set them again",
                        source.id
                    ),
                ),
            })
    }
}

fn prepare_failure(e: PrepareError) -> RunError {
    match e {
        PrepareError::SourceNotFound(id) => RunError::new(
            RunErrorCode::SourceNotFound,
            format!("source {id} no longer exists"),
        ),
        PrepareError::Unreachable(check) => {
            RunError::new(RunErrorCode::SourceUnreachable, check.message)
        }
        PrepareError::Invalid(reason) => RunError::new(RunErrorCode::RenderFailed, reason),
        PrepareError::SecretsUnavailable => RunError::new(
            RunErrorCode::KmsUnavailable,
            "KMS could not decrypt a data key",
        ),
        PrepareError::SecretsUnreadable => RunError::new(
            RunErrorCode::SecretsUnreadable,
            "the secrets of a source do not open; set them again",
        ),
        PrepareError::Unavailable(cause) => {
            tracing::warn!(error = %cause, "discovery is unavailable");
            RunError::new(
                RunErrorCode::DiscoveryUnavailable,
                "the discovery function could not prepare the run",
            )
        }
    }
}

fn submit_failure(e: FlinkError) -> RunError {
    match e {
        FlinkError::Unreachable(_) => RunError::new(
            RunErrorCode::FlinkUnreachable,
            "the Flink cluster could not be reached",
        ),
        FlinkError::Rejected(reason) => RunError::new(RunErrorCode::FlinkRejected, reason),
        FlinkError::UnknownJob => RunError::new(
            RunErrorCode::FlinkSubmissionLost,
            "the cluster lost the submission",
        ),
    }
}

/// Whether a delivery may start an attempt of `run`: a new run, or a
/// failed one whose next attempt is due (retry policy) or whose failure
/// another delivery may fix (the cluster was unreachable).
fn claimable(run: &Run, now: DateTime<Utc>) -> bool {
    match run.state {
        RunState::Pending => true,
        RunState::Failed => match run.next_attempt_at {
            Some(at) => at <= now,
            // A retryable failure another delivery may take up.
            None => !run.is_final(),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{
        CancelEffect, FakeFlink, FakeProbe, FakeSealer, FixedClock, ManualClock, MemoryStore,
        RecordingRunEvents,
    };
    use crate::model::discovery::{Check, ObjectDescription, ObjectKind};
    use crate::model::job::{Job, JobSpec};
    use crate::model::run::Validation;
    use crate::model::schedule::RunPolicy;
    use crate::model::validation::ValidationErrors;
    use crate::ports::{FlinkJobState, RenderError};
    use crate::service::discovery::DiscoveryService;
    use crate::service::runs::Reconciler;
    use crate::service::sources::{SourceDraft, SourcesService};
    use chrono::TimeZone;
    use secrecy::{ExposeSecret, SecretString};
    use serde_json::json;

    /// Renders the revealed secrets, so tests can see they reached it.
    struct SecretEchoCompiler;

    impl JobCompiler for SecretEchoCompiler {
        fn check(&self, _: &JobSpec, _: &Source, _: &Source) -> Result<(), ValidationErrors> {
            Ok(())
        }

        fn render(
            &self,
            _: &JobId,
            _: &JobSpec,
            _: &Source,
            _: &Source,
            window: Option<Window>,
            secrets: SecretExposure<'_>,
        ) -> Result<String, RenderError> {
            let SecretExposure::Revealed { source, .. } = secrets else {
                panic!("the trigger renders revealed");
            };
            Ok(format!(
                "password={} window={window:?}",
                source
                    .get("password")
                    .map(|p| p.expose_secret().to_owned())
                    .unwrap_or_default()
            ))
        }

        fn target_table(
            &self,
            spec: &JobSpec,
            _: &Source,
            _: &Source,
        ) -> Result<crate::model::discovery::TableSpec, RenderError> {
            Ok(crate::fakes::plain_target_table(spec))
        }
    }

    struct Fixture {
        store: Arc<MemoryStore>,
        flink: Arc<FakeFlink>,
        sealer: Arc<FakeSealer>,
        /// The job's database: tables `t` (the source) and `u` (the target).
        probe: Arc<FakeProbe>,
        trigger: TriggerService,
        tenant: TenantId,
        job: Job,
        clock: Arc<ManualClock>,
        events: Arc<RecordingRunEvents>,
    }

    async fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let sealer = Arc::new(FakeSealer::default());
        let clock = Arc::new(ManualClock::at(FixedClock::default().now()));
        let flink = Arc::new(FakeFlink::default());
        let events = Arc::new(RecordingRunEvents::default());
        let tenant = TenantId::parse("acme").unwrap();
        let sources = SourcesService::new(store.clone(), sealer.clone(), clock.clone());
        let mut secrets = Secrets::new();
        secrets.insert("password", SecretString::from("canary-pw"));
        let source = sources
            .register(
                &tenant,
                SourceDraft {
                    name: "db".into(),
                    kind: "postgres".into(),
                    config: json!({"host": "h", "database": "d", "username": "u"})
                        .as_object()
                        .unwrap()
                        .clone(),
                    secrets: Some(secrets),
                },
            )
            .await
            .unwrap();
        let spec: JobSpec = serde_json::from_value(json!({
            "name": "copy",
            "source": {"source_id": source.id.as_str(), "object": "t", "columns": [{"name": "id", "type": "BIGINT"}]},
            "target": {"source_id": source.id.as_str(), "object": "u", "write_mode": "append"},
            "options": {"mode": "batch"}
        }))
        .unwrap();
        let now = clock.now();
        let job = Job {
            id: JobId::generate(),
            tenant: tenant.clone(),
            spec,
            source_id: source.id.clone(),
            target_id: source.id,
            source_snapshot: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        JobRepository::insert(store.as_ref(), &job).await.unwrap();
        ScheduleRepository::put(store.as_ref(), &every_hour(&job), None)
            .await
            .unwrap();
        let probe = Arc::new(
            FakeProbe::default()
                .with_object(table("t", vec![column("id", "bigint", "BIGINT")]))
                .with_object(table("u", vec![column("id", "bigint", "BIGINT")])),
        );
        let preparer =
            DiscoveryService::new(store.clone(), sealer.clone(), probe.clone(), clock.clone());
        let trigger = TriggerService::new(TriggerPorts {
            jobs: store.clone(),
            sources: store.clone(),
            runs: store.clone(),
            schedules: store.clone(),
            sealer: sealer.clone(),
            compiler: Arc::new(SecretEchoCompiler),
            flink: flink.clone().into(),
            events: events.clone(),
            preparer: Arc::new(preparer),
            clock: clock.clone(),
        });
        Fixture {
            store,
            flink,
            sealer,
            probe,
            trigger,
            tenant,
            job,
            clock,
            events,
        }
    }

    impl Fixture {
        fn fire(&self) -> Fire {
            Fire {
                tenant: self.tenant.clone(),
                job_id: self.job.id.clone(),
                scheduled_time: Utc.with_ymd_and_hms(2026, 1, 2, 3, 0, 0).unwrap(),
                trigger: TriggerKind::Schedule,
                window: None,
                run_id: None,
                parent_run_id: None,
            }
        }
    }

    impl Fixture {
        async fn set_policy(&self, policy: RunPolicy) {
            let mut schedule = every_hour(&self.job);
            schedule.policy = policy;
            schedule.version = 2;
            ScheduleRepository::put(self.store.as_ref(), &schedule, Some(1))
                .await
                .unwrap();
        }

        async fn run(&self, id: &RunId) -> Run {
            RunRepository::get(self.store.as_ref(), &self.tenant, id)
                .await
                .unwrap()
                .unwrap()
        }

        fn reconciler(
            &self,
            clock: Arc<dyn Clock>,
        ) -> (Reconciler, Arc<crate::fakes::RecordingInvoker>) {
            let invoker = Arc::new(crate::fakes::RecordingInvoker::default());
            let reconciler = Reconciler::new(
                crate::service::runs::ReconcilerPorts {
                    runs: self.store.clone(),
                    jobs: self.store.clone(),
                    flink: self.flink.clone().into(),
                    trigger: invoker.clone(),
                    events: self.events.clone(),
                    counter: Arc::new(DiscoveryService::new(
                        self.store.clone(),
                        self.sealer.clone(),
                        self.probe.clone(),
                        clock.clone(),
                    )),
                    clock,
                },
                chrono::Duration::minutes(15),
            );
            (reconciler, invoker)
        }
    }

    /// An enabled hourly schedule of `job` with default policies.
    fn column(name: &str, native: &str, flink: &str) -> DiscoveredColumn {
        DiscoveredColumn {
            name: name.into(),
            native_type: native.into(),
            nullable: true,
            primary_key_position: None,
            proposal: TypeProposal::Supported {
                flink_type: flink.into(),
            },
        }
    }

    fn table(name: &str, columns: Vec<DiscoveredColumn>) -> ObjectDescription {
        ObjectDescription {
            name: name.into(),
            kind: ObjectKind::Table,
            columns,
            primary_key: Vec::new(),
        }
    }

    impl Fixture {
        /// Stores the job as `change` leaves it, at the next version.
        async fn edit(&self, change: impl FnOnce(&mut Job)) -> Job {
            let stored = JobRepository::get(self.store.as_ref(), &self.tenant, &self.job.id)
                .await
                .unwrap()
                .unwrap();
            let mut next = stored.clone();
            change(&mut next);
            next.version += 1;
            JobRepository::update(self.store.as_ref(), &next, &stored)
                .await
                .unwrap();
            next
        }

        async fn job(&self) -> Job {
            JobRepository::get(self.store.as_ref(), &self.tenant, &self.job.id)
                .await
                .unwrap()
                .unwrap()
        }

        /// A manual run of its own (a new run id each time); runs overlap.
        fn manual(&self) -> Fire {
            let mut fire = self.fire();
            fire.trigger = TriggerKind::Manual;
            fire.run_id = Some(RunId::generate());
            fire
        }

        /// A job built from discovery: `t`'s columns as its snapshot.
        async fn discovered(&self, snapshot: Vec<DiscoveredColumn>, on_change: OnSchemaChange) {
            self.edit(|job| {
                job.spec.source.columns = snapshot
                    .iter()
                    .map(|c| Column {
                        name: c.name.clone(),
                        type_name: match &c.proposal {
                            TypeProposal::Supported { flink_type } => flink_type.clone(),
                            TypeProposal::Unsupported { .. } => unreachable!(),
                        },
                    })
                    .collect();
                job.source_snapshot = Some(snapshot);
                job.spec.options.on_schema_change = on_change;
            })
            .await;
        }
    }

    fn submitted(outcome: TriggerOutcome) -> Run {
        let TriggerOutcome::Submitted(run) = outcome else {
            panic!("expected a submission, got {outcome:?}");
        };
        run
    }

    fn failed(outcome: TriggerOutcome) -> RunError {
        let TriggerOutcome::Failed(run) = outcome else {
            panic!("expected a final failure, got {outcome:?}");
        };
        assert_eq!(run.state, RunState::Failed);
        run.error.unwrap()
    }

    #[tokio::test]
    async fn a_missing_target_table_fails_the_run_before_flink() {
        let f = fixture().await;
        f.edit(|job| job.spec.target.object = "public.missing_tbl".into())
            .await;
        let error = failed(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(error.code, "target_missing");
        assert!(!error.retryable);
        assert!(
            error.message.contains("public.missing_tbl"),
            "{}",
            error.message
        );
        assert!(f.flink.submissions().is_empty(), "no Flink job");
        assert!(f.probe.ddl().is_empty(), "never creates nothing");
        assert!(f.probe.object("public.missing_tbl").is_none());
    }

    #[tokio::test]
    async fn if_missing_creates_the_target_table_once_from_the_job_columns() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::Allow,
            ..Default::default()
        })
        .await;
        f.edit(|job| {
            job.spec.target.object = "fresh".into();
            job.spec.target.create = TargetCreate::IfMissing;
            job.spec.target.primary_key = Some(vec!["id".into()]);
        })
        .await;
        submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["create fresh"]);
        let created = f.probe.object("fresh").unwrap();
        assert_eq!(created.primary_key, ["id"]);
        assert_eq!(created.columns[0].name, "id");
        assert!(!created.columns[0].nullable, "a key column");
        // Idempotent: the next run finds it and changes nothing.
        submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["create fresh"]);
        assert_eq!(f.flink.submissions().len(), 2);
    }

    #[tokio::test]
    async fn a_changed_source_fails_the_run_naming_added_removed_and_changed_columns() {
        let f = fixture().await;
        f.discovered(
            vec![
                column("id", "bigint", "BIGINT"),
                column("name", "text", "STRING"),
                column("gone", "integer", "INT"),
            ],
            OnSchemaChange::Fail,
        )
        .await;
        f.probe.put_object(table(
            "t",
            vec![
                column("id", "integer", "INT"),
                column("name", "text", "STRING"),
                column("extra", "date", "DATE"),
            ],
        ));
        let error = failed(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(error.code, "schema_drift");
        assert!(!error.retryable);
        for part in [
            "added extra (date)",
            "removed gone (integer)",
            "changed id (bigint -> integer)",
        ] {
            assert!(error.message.contains(part), "{part}: {}", error.message);
        }
        assert!(f.flink.submissions().is_empty(), "no Flink job");
        assert!(f.probe.ddl().is_empty());
        assert_eq!(f.job().await.spec.source.columns.len(), 3, "the job stays");
    }

    #[tokio::test]
    async fn add_columns_adds_a_new_column_to_the_target_and_the_job_once() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::Allow,
            ..Default::default()
        })
        .await;
        f.discovered(
            vec![column("id", "bigint", "BIGINT")],
            OnSchemaChange::AddColumns,
        )
        .await;
        let now = vec![
            column("id", "bigint", "BIGINT"),
            column("extra", "date", "DATE"),
        ];
        f.probe.put_object(table("t", now.clone()));
        submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["add u.extra"]);
        let target = f.probe.object("u").unwrap();
        let extra = target.columns.iter().find(|c| c.name == "extra").unwrap();
        assert!(extra.nullable);
        let job = f.job().await;
        let columns: Vec<(&str, &str)> = job
            .spec
            .source
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_name.as_str()))
            .collect();
        assert_eq!(columns, [("id", "BIGINT"), ("extra", "DATE")]);
        assert_eq!(job.source_snapshot, Some(now));
        assert_eq!(job.version, f.job.version + 2);
        // The next run finds nothing new.
        submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["add u.extra"]);
        assert_eq!(f.job().await.version, job.version);
    }

    #[tokio::test]
    async fn add_columns_still_fails_on_removed_or_retyped_columns() {
        let f = fixture().await;
        f.discovered(
            vec![
                column("id", "bigint", "BIGINT"),
                column("old", "text", "STRING"),
            ],
            OnSchemaChange::AddColumns,
        )
        .await;
        f.probe.put_object(table(
            "t",
            vec![
                column("id", "numeric(20,0)", "DECIMAL(20, 0)"),
                column("new", "date", "DATE"),
            ],
        ));
        let error = failed(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(error.code, "schema_drift");
        assert!(
            error.message.contains("removed old (text)"),
            "{}",
            error.message
        );
        assert!(
            error
                .message
                .contains("changed id (bigint -> numeric(20,0))")
        );
        assert!(f.probe.ddl().is_empty(), "nothing added");
        assert!(f.flink.submissions().is_empty());
    }

    #[tokio::test]
    async fn a_database_job_is_prepared_in_one_call_and_a_topic_to_files_job_in_none() {
        use crate::fakes::RecordingPreparer;
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::Allow,
            ..Default::default()
        })
        .await;
        let preparer = Arc::new(RecordingPreparer::default());
        let trigger = TriggerService::new(TriggerPorts {
            jobs: f.store.clone(),
            sources: f.store.clone(),
            runs: f.store.clone(),
            schedules: f.store.clone(),
            sealer: f.sealer.clone(),
            compiler: Arc::new(SecretEchoCompiler),
            flink: f.flink.clone().into(),
            preparer: preparer.clone(),
            events: f.events.clone(),
            clock: f.clock.clone(),
        });
        f.discovered(vec![column("id", "bigint", "BIGINT")], OnSchemaChange::Fail)
            .await;
        f.edit(|job| job.spec.target.create = TargetCreate::IfMissing)
            .await;
        submitted(trigger.fire(f.manual()).await.unwrap());
        let requests = preparer.requests();
        assert_eq!(requests.len(), 1, "one round trip");
        let (_, _, request) = &requests[0];
        let drift = request.drift.as_ref().expect("the drift check");
        assert_eq!(drift.object, "t");
        assert!(!drift.add_columns);
        let target = request.target.as_ref().expect("the target table");
        assert!(target.create);
        assert_eq!(target.table.object, "u");
        assert_eq!(target.table.columns[0].flink_type, "BIGINT");

        // A topic into files has no table to check: no call.
        let sources = SourcesService::new(f.store.clone(), f.sealer.clone(), f.clock.clone());
        let register = |kind: &str, config: serde_json::Value| SourceDraft {
            name: kind.into(),
            kind: kind.into(),
            config: config.as_object().unwrap().clone(),
            secrets: None,
        };
        let kafka = sources
            .register(
                &f.tenant,
                register("kafka", json!({"bootstrap_servers": "k:9092"})),
            )
            .await
            .unwrap();
        let files = sources
            .register(
                &f.tenant,
                register("filesystem", json!({"path": "/data/out"})),
            )
            .await
            .unwrap();
        f.edit(|job| {
            job.source_id = kafka.id.clone();
            job.target_id = files.id.clone();
            job.spec.source.source_id = kafka.id.to_string();
            job.spec.target.source_id = files.id.to_string();
        })
        .await;
        submitted(trigger.fire(f.manual()).await.unwrap());
        assert_eq!(preparer.requests().len(), 1, "no call for topics and files");
    }

    #[tokio::test]
    async fn an_unreachable_database_is_a_retryable_failure_with_no_secret() {
        let f = fixture().await;
        f.probe
            .set_unreachable(Some(crate::model::discovery::Check::failed(
                "connect",
                crate::model::discovery::CheckCode::Refused,
                "nothing accepts connections on h:5432",
            )));
        let Err(TriggerError::Retryable(run)) = f.trigger.fire(f.manual()).await else {
            panic!("expected a retryable failure");
        };
        let error = run.error.unwrap();
        assert_eq!(error.code, "source_unreachable");
        assert!(!error.message.contains("canary"), "{}", error.message);
        assert!(f.flink.submissions().is_empty());
    }

    fn every_hour(job: &Job) -> crate::model::schedule::Schedule {
        crate::model::schedule::Schedule {
            tenant: job.tenant.clone(),
            job_id: job.id.clone(),
            expression: "cron(0 * * * ? *)".into(),
            xxl_cron: None,
            timezone: "UTC".into(),
            enabled: true,
            start_at: None,
            end_at: None,
            flexible_window_minutes: None,
            delivery_retry: None,
            policy: Default::default(),
            version: 1,
            created_at: job.created_at,
            updated_at: job.created_at,
        }
    }

    #[tokio::test]
    async fn a_fire_submits_one_sealed_script() {
        let f = fixture().await;
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(run.state, RunState::Running);
        assert_eq!(run.attempts, 1);
        let submissions = f.flink.submissions();
        assert_eq!(submissions.len(), 1);
        let (_, run_id, envelope) = &submissions[0];
        assert_eq!(run_id, &run.id);
        // The script went sealed under the run's context, never in clear.
        assert!(!envelope.contains("canary-pw"));
        let context = EncryptionContext::for_run(&f.tenant, f.job.id.as_str(), run.id.as_str());
        assert!(f.sealer.contexts().contains(&context));
        let envelope: serde_json::Value = serde_json::from_str(envelope).unwrap();
        assert_eq!(envelope["ctx"]["purpose"], "flink-script");
        assert_eq!(envelope["v"], 1);
    }

    #[tokio::test]
    async fn duplicate_and_concurrent_deliveries_make_one_run() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::Allow,
            ..Default::default()
        })
        .await;
        let first = f.trigger.fire(f.fire()).await.unwrap();
        let again = f.trigger.fire(f.fire()).await.unwrap();
        assert!(matches!(first, TriggerOutcome::Submitted(_)));
        assert!(matches!(again, TriggerOutcome::AlreadyHandled(_)));

        let mut other = f.fire();
        other.scheduled_time += chrono::Duration::hours(1);
        let deliveries: Vec<_> = (0..8).map(|_| f.trigger.fire(other.clone())).collect();
        let outcomes = futures_join_all(deliveries).await;
        let submitted = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(TriggerOutcome::Submitted(_))))
            .count();
        assert_eq!(submitted, 1);
        assert_eq!(f.flink.submissions().len(), 2);
    }

    async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
        let mut out = Vec::new();
        // Polled interleaved on one task. The in-memory store never yields,
        // so this checks the claim logic; true concurrency is tested against
        // moto (runs_against_moto) and end to end (runs_e2e).
        let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
        let mut done: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (i, fut) in pinned.iter_mut().enumerate() {
                if done[i].is_none() {
                    match fut.as_mut().poll(cx) {
                        std::task::Poll::Ready(v) => done[i] = Some(v),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.extend(done.into_iter().map(Option::unwrap));
        out
    }

    #[tokio::test]
    async fn an_unreachable_cluster_fails_the_run_retryably_and_a_redelivery_retries() {
        let f = fixture().await;
        f.flink.set_unreachable(true);
        let Err(TriggerError::Retryable(run)) = f.trigger.fire(f.fire()).await else {
            panic!("expected a retryable failure");
        };
        assert_eq!(run.state, RunState::Failed);
        assert_eq!(run.error.as_ref().unwrap().code, "flink_unreachable");
        f.flink.set_unreachable(false);
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("the redelivery should submit");
        };
        assert_eq!(run.attempts, 2);
        assert_eq!(run.error, None);
    }

    #[tokio::test]
    async fn a_redelivery_after_a_lost_answer_adopts_the_job_the_first_delivery_started() {
        let f = fixture().await;
        // The job starts, but the answer times out.
        f.flink.lose_answers(1);
        let Err(TriggerError::Retryable(failed)) = f.trigger.fire(f.fire()).await else {
            panic!("expected a retryable failure");
        };
        assert_eq!(failed.error.as_ref().unwrap().code, "flink_unreachable");
        assert_eq!(failed.flink_job_id, None);
        assert_eq!(f.flink.submissions().len(), 1, "the job did start");

        // The redelivery finds it before rendering anything, and adopts it.
        let contexts = f.sealer.contexts().len();
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("the redelivery should adopt the job");
        };
        let first = Submission {
            job_id: f.job.id.clone(),
            run_id: run.id.clone(),
            number: 1,
        };
        assert_eq!(run.flink_job_id, Some(first.flink_job_id()));
        assert_eq!(
            (run.state, run.attempts, run.submission),
            (RunState::Running, 2, 1)
        );
        assert_eq!(f.flink.submissions().len(), 1, "one Flink job");
        assert_eq!(f.flink.submit_calls(), 1, "submitted once");
        assert_eq!(f.sealer.contexts().len(), contexts, "nothing sealed again");
    }

    #[tokio::test]
    async fn a_submission_that_never_reached_flink_is_made_again_under_its_own_id() {
        let f = fixture().await;
        f.flink.set_unreachable(true);
        let Err(TriggerError::Retryable(failed)) = f.trigger.fire(f.fire()).await else {
            panic!("expected a retryable failure");
        };
        assert_eq!(failed.submission, 1);
        f.flink.set_unreachable(false);
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("the redelivery should submit");
        };
        let first = Submission {
            job_id: f.job.id.clone(),
            run_id: run.id.clone(),
            number: 1,
        };
        assert_eq!(run.submission, 1, "the same submission");
        assert_eq!(run.flink_job_id, Some(first.flink_job_id()));
        assert_eq!(f.flink.submissions().len(), 1);
    }

    #[tokio::test]
    async fn a_rejected_script_or_a_deleted_job_fails_for_good() {
        let f = fixture().await;
        f.flink.reject_with("Column 'x' not found");
        let TriggerOutcome::Failed(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a final failure");
        };
        assert_eq!(run.error.as_ref().unwrap().code, "flink_rejected");
        assert!(matches!(
            f.trigger.fire(f.fire()).await.unwrap(),
            TriggerOutcome::AlreadyHandled(_)
        ));

        JobRepository::delete(f.store.as_ref(), &f.tenant, &f.job.id, None)
            .await
            .unwrap();
        let mut later = f.fire();
        later.scheduled_time += chrono::Duration::days(1);
        let TriggerOutcome::Failed(run) = f.trigger.fire(later).await.unwrap() else {
            panic!("expected a final failure");
        };
        assert_eq!(run.error.unwrap().code, "job_not_found");
    }

    #[tokio::test]
    async fn the_reconciler_records_how_runs_end() {
        let f = fixture().await;
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        let reconciler = Reconciler::new(
            crate::service::runs::ReconcilerPorts {
                runs: f.store.clone(),
                jobs: f.store.clone(),
                flink: f.flink.clone().into(),
                trigger: Arc::new(crate::fakes::RecordingInvoker::default()),
                events: f.events.clone(),
                counter: Arc::new(DiscoveryService::new(
                    f.store.clone(),
                    f.sealer.clone(),
                    f.probe.clone(),
                    f.clock.clone(),
                )),
                clock: Arc::new(FixedClock::default()),
            },
            chrono::Duration::minutes(15),
        );
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!((report.followed, report.succeeded), (1, 0));
        f.flink.set_status(
            run.flink_job_id.as_ref().unwrap(),
            FlinkJobState::Finished,
            Some(42),
        );
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!(report.succeeded, 1);
        let done = RunRepository::get(f.store.as_ref(), &f.tenant, &run.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.state, RunState::Succeeded);
        assert_eq!(done.rows_written, Some(42));
        assert!(done.finished_at.is_some());
        assert_eq!(reconciler.reconcile().await.unwrap().followed, 0);
    }

    /// `validate: count`: the fixture's job counts tables `t` and `u`.
    async fn validated_run(f: &Fixture) -> (Run, Reconciler) {
        let mut job = f.job.clone();
        job.spec.options.validate = Some(crate::model::job::Validate::Count);
        job.version += 1;
        JobRepository::update(f.store.as_ref(), &job, &f.job)
            .await
            .unwrap();
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        f.flink.set_status(
            run.flink_job_id.as_ref().unwrap(),
            FlinkJobState::Finished,
            Some(10),
        );
        (run, f.reconciler(f.clock.clone()).0)
    }

    #[tokio::test]
    async fn a_validated_run_succeeds_when_both_sides_count_the_same() {
        let f = fixture().await;
        f.probe.set_rows("t", 10);
        f.probe.set_rows("u", 10);
        let (run, reconciler) = validated_run(&f).await;
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!((report.succeeded, report.failed), (1, 0));
        let done = f.run(&run.id).await;
        assert_eq!((done.state, done.error), (RunState::Succeeded, None));
        assert_eq!(done.validation, Some(Validation::of(10, 10)));
        assert!(done.validation.unwrap().ok);
        let counted: Vec<_> = f.probe.counted().into_iter().map(|c| c.object).collect();
        assert_eq!(counted.len(), 2);
        assert!(counted.contains(&"t".to_owned()) && counted.contains(&"u".to_owned()));
    }

    #[tokio::test]
    async fn a_validated_run_whose_target_lost_rows_fails_without_follow_ups() {
        let f = fixture().await;
        f.probe.set_rows("t", 10);
        f.probe.set_rows("u", 9);
        let (run, reconciler) = validated_run(&f).await;
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!((report.succeeded, report.failed), (0, 1));
        let done = f.run(&run.id).await;
        assert_eq!(done.state, RunState::Failed);
        let error = done.error.clone().unwrap();
        assert_eq!(error.code, RunErrorCode::ValidationMismatch);
        assert!(!error.retryable);
        assert_eq!(
            error.message,
            "the target holds 9 rows of the run's window, the source 10"
        );
        assert_eq!(
            done.validation,
            Some(Validation {
                source_rows: 10,
                target_rows: 9,
                ok: false
            })
        );
        assert_eq!(done.rows_written, Some(10), "Flink's counts are kept");
        assert!(!done.follow_up_pending, "no watermark move, no child job");
        assert!(done.is_final(), "it alerts");
        assert_eq!(
            f.events.states_of(&run.id).last(),
            Some(&(Some(RunState::Running), RunState::Failed))
        );
    }

    #[tokio::test]
    async fn a_validated_run_waits_while_its_rows_cannot_be_counted() {
        let f = fixture().await;
        f.probe.set_rows("t", 10);
        f.probe.set_rows("u", 10);
        let (run, reconciler) = validated_run(&f).await;
        f.probe.set_unreachable(Some(Check {
            name: "connect".into(),
            ok: false,
            code: Some(crate::model::discovery::CheckCode::Refused),
            message: "connection refused".into(),
        }));
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!((report.succeeded, report.failed), (0, 0));
        assert_eq!(f.run(&run.id).await.state, RunState::Running);
        f.probe.set_unreachable(None);
        reconciler.reconcile().await.unwrap();
        let done = f.run(&run.id).await;
        assert_eq!(done.state, RunState::Succeeded);
        assert_eq!(done.validation, Some(Validation::of(10, 10)));
    }

    #[tokio::test]
    async fn each_state_change_is_published_once_in_order_with_its_fields() {
        use RunState::*;
        let f = fixture().await;
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(
            f.events.states_of(&run.id),
            [
                (None, Pending),
                (Some(Pending), Submitting),
                (Some(Submitting), Running)
            ]
        );
        // A duplicate delivery changes nothing and publishes nothing.
        let again = f.trigger.fire(f.fire()).await.unwrap();
        assert!(matches!(again, TriggerOutcome::AlreadyHandled(_)));
        assert_eq!(f.events.changes().len(), 3);

        let (reconciler, _) = f.reconciler(f.clock.clone());
        reconciler.reconcile().await.unwrap();
        assert_eq!(f.events.changes().len(), 3, "still running: no change");
        f.flink.set_status(
            run.flink_job_id.as_ref().unwrap(),
            FlinkJobState::Finished,
            Some(42),
        );
        reconciler.reconcile().await.unwrap();
        reconciler.reconcile().await.unwrap();
        let changes = f.events.changes();
        assert_eq!(changes.len(), 4, "{changes:#?}");
        let done = &changes[3];
        assert_eq!(
            (done.previous_state, done.state),
            (Some(Running), Succeeded)
        );
        assert_eq!(done.tenant, f.tenant);
        assert_eq!(done.job_id, f.job.id);
        assert_eq!(done.run_id, run.id);
        assert_eq!(done.trigger, TriggerKind::Schedule);
        assert_eq!(done.scheduled_time, f.fire().scheduled_time);
        assert_eq!(done.flink_job_id, run.flink_job_id);
        assert_eq!((done.rows_read, done.rows_written), (Some(42), Some(42)));
        assert_eq!(done.error, None);
        assert_eq!(done.attempt, 1);
        let versions: Vec<u64> = changes.iter().map(|c| c.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        let stored = f.run(&run.id).await;
        assert_eq!(
            (done.version, done.time),
            (stored.version, stored.updated_at)
        );
        // The wire shape: no secret anywhere.
        let wire = serde_json::to_string(&changes).unwrap();
        assert!(!wire.contains("canary-pw"), "{wire}");
        assert!(wire.contains(r#""previous_state":null"#), "{wire}");
    }

    #[tokio::test]
    async fn failures_skips_and_cancels_are_published_with_their_error() {
        use RunState::*;
        let f = fixture().await;
        f.flink.set_unreachable(true);
        let Err(TriggerError::Retryable(failed)) = f.trigger.fire(f.fire()).await else {
            panic!("expected a retryable failure");
        };
        let last = f.events.changes().pop().unwrap();
        assert_eq!(
            (last.previous_state, last.state),
            (Some(Submitting), Failed)
        );
        let error = last.error.unwrap();
        assert_eq!(error.code, "flink_unreachable");
        assert_eq!(error.message, failed.error.unwrap().message);

        // A redelivery claims it again: failed -> submitting -> running.
        f.flink.set_unreachable(false);
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(
            f.events.states_of(&run.id)[3..],
            [(Some(Failed), Submitting), (Some(Submitting), Running)]
        );
        assert_eq!(f.events.changes().last().unwrap().attempt, 2);

        // Overlap skip: the second fire's run is created, then skipped.
        f.set_policy(RunPolicy {
            overlap: Overlap::Skip,
            ..RunPolicy::default()
        })
        .await;
        let mut later = f.fire();
        later.scheduled_time += chrono::Duration::hours(1);
        let TriggerOutcome::Skipped(skipped) = f.trigger.fire(later).await.unwrap() else {
            panic!("expected a skip");
        };
        assert_eq!(
            f.events.states_of(&skipped.id),
            [(None, Pending), (Some(Pending), Skipped)]
        );
        assert_eq!(
            f.events
                .changes()
                .last()
                .unwrap()
                .error
                .as_ref()
                .unwrap()
                .code,
            "overlap"
        );

        // The API's cancel.
        let runs = crate::service::runs::RunsService::new(
            f.store.clone(),
            f.store.clone(),
            Arc::new(crate::ports::FlinkJobTargets::from(f.flink.clone())),
            Arc::new(crate::fakes::RecordingInvoker::default()),
            f.events.clone(),
            f.clock.clone(),
        );
        runs.cancel(&f.tenant, &run.id).await.unwrap();
        assert_eq!(
            f.events.states_of(&run.id).last(),
            Some(&(Some(Running), Canceled))
        );
        assert!(runs.cancel(&f.tenant, &run.id).await.is_err());
        assert_eq!(f.events.states_of(&run.id).len(), 6, "canceled once");

        // A manual run is published when the API records it.
        let manual = runs.start(&f.tenant, &f.job.id, None).await.unwrap();
        let created = f.events.changes().last().unwrap().clone();
        assert_eq!(
            (
                created.run_id,
                created.previous_state,
                created.state,
                created.trigger
            ),
            (manual.id, None, Pending, TriggerKind::Manual)
        );
    }

    #[tokio::test]
    async fn a_failing_publisher_changes_no_run() {
        let f = fixture().await;
        f.events.set_failing(true);
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("a publish failure must not fail the delivery");
        };
        assert_eq!(f.run(&run.id).await, run);
        assert_eq!(run.state, RunState::Running);
        finish(&f, &run, FlinkJobState::Finished);
        let (reconciler, _) = f.reconciler(f.clock.clone());
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!(report.succeeded, 1);
        assert_eq!(f.run(&run.id).await.state, RunState::Succeeded);
        assert!(f.events.changes().is_empty());
    }

    fn finish(f: &Fixture, run: &Run, state: FlinkJobState) {
        f.flink
            .set_status(run.flink_job_id.as_ref().unwrap(), state, None);
    }

    #[tokio::test]
    async fn overlap_skip_records_a_skipped_run_while_another_is_active() {
        let f = fixture().await;
        let TriggerOutcome::Submitted(first) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        let mut next = f.fire();
        next.scheduled_time += chrono::Duration::hours(1);
        let TriggerOutcome::Skipped(skipped) = f.trigger.fire(next.clone()).await.unwrap() else {
            panic!("expected a skip");
        };
        assert_eq!(skipped.state, RunState::Skipped);
        let error = skipped.error.unwrap();
        assert_eq!(error.code, "overlap");
        assert!(error.message.contains(first.id.as_str()));
        assert_eq!(f.flink.submissions().len(), 1);
        // A redelivery of the skipped fire stays skipped.
        assert!(matches!(
            f.trigger.fire(next.clone()).await.unwrap(),
            TriggerOutcome::AlreadyHandled(_)
        ));

        // Once the first run ended, the next fire runs.
        finish(&f, &first, FlinkJobState::Finished);
        let (reconciler, _) = f.reconciler(f.clock.clone());
        reconciler.reconcile().await.unwrap();
        next.scheduled_time += chrono::Duration::hours(1);
        assert!(matches!(
            f.trigger.fire(next).await.unwrap(),
            TriggerOutcome::Submitted(_)
        ));
    }

    #[tokio::test]
    async fn a_slot_left_by_a_finished_run_is_taken_over() {
        let f = fixture().await;
        let TriggerOutcome::Submitted(first) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        // The run ends without anyone releasing the slot (a crash).
        let ended = first.transition(RunState::Succeeded, f.clock.now());
        RunRepository::update(f.store.as_ref(), &ended, first.version)
            .await
            .unwrap();
        let mut next = f.fire();
        next.scheduled_time += chrono::Duration::hours(1);
        assert!(matches!(
            f.trigger.fire(next).await.unwrap(),
            TriggerOutcome::Submitted(_)
        ));
    }

    #[tokio::test]
    async fn overlap_cancel_previous_cancels_the_running_flink_job() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::CancelPrevious,
            ..Default::default()
        })
        .await;
        let TriggerOutcome::Submitted(first) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        let mut next = f.fire();
        next.scheduled_time += chrono::Duration::hours(1);
        assert!(matches!(
            f.trigger.fire(next).await.unwrap(),
            TriggerOutcome::Submitted(_)
        ));
        assert_eq!(
            f.flink.canceled(),
            vec![first.flink_job_id.clone().unwrap()]
        );
        let previous = f.run(&first.id).await;
        assert_eq!(previous.state, RunState::Canceled);
        assert_eq!(previous.error.unwrap().code, "superseded");
    }

    #[tokio::test]
    async fn a_fire_of_a_deleted_or_disabled_schedule_runs_nothing() {
        let f = fixture().await;
        let mut disabled = every_hour(&f.job);
        disabled.enabled = false;
        disabled.version = 2;
        ScheduleRepository::put(f.store.as_ref(), &disabled, Some(1))
            .await
            .unwrap();
        assert!(matches!(
            f.trigger.fire(f.fire()).await.unwrap(),
            TriggerOutcome::Ignored(_)
        ));
        ScheduleRepository::delete(f.store.as_ref(), &f.tenant, &f.job.id, None)
            .await
            .unwrap();
        assert!(matches!(
            f.trigger.fire(f.fire()).await.unwrap(),
            TriggerOutcome::Ignored(_)
        ));
        assert!(f.flink.submissions().is_empty());
        // A manual run needs no schedule.
        let mut manual = f.fire();
        manual.trigger = TriggerKind::Manual;
        manual.run_id = Some(RunId::generate());
        assert!(matches!(
            f.trigger.fire(manual).await.unwrap(),
            TriggerOutcome::Submitted(_)
        ));
    }

    #[tokio::test]
    async fn a_failed_run_is_retried_with_backoff_as_attempts_of_the_same_run() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            retry: Some(crate::model::schedule::RetryPolicy {
                max_attempts: 3,
                backoff_seconds: 60,
            }),
            ..Default::default()
        })
        .await;
        let (reconciler, invoker) = f.reconciler(f.clock.clone());
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        finish(&f, &run, FlinkJobState::Failed);
        reconciler.reconcile().await.unwrap();
        let failed = f.run(&run.id).await;
        assert_eq!(failed.state, RunState::Failed);
        assert_eq!(
            failed.next_attempt_at,
            Some(f.clock.now() + chrono::Duration::seconds(60))
        );

        // Not before the backoff.
        f.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(reconciler.reconcile().await.unwrap().retried, 0);
        let mut retry = f.fire();
        retry.trigger = TriggerKind::Retry;
        retry.run_id = Some(run.id.clone());
        assert!(matches!(
            f.trigger.fire(retry.clone()).await.unwrap(),
            TriggerOutcome::AlreadyHandled(_)
        ));

        f.clock.advance(chrono::Duration::seconds(31));
        assert_eq!(reconciler.reconcile().await.unwrap().retried, 1);
        let event = invoker.events().pop().unwrap();
        assert_eq!(event["kind"], "retry");
        assert_eq!(event["run_id"], run.id.as_str());
        let TriggerOutcome::Submitted(second) = f.trigger.fire(retry.clone()).await.unwrap() else {
            panic!("expected the second attempt");
        };
        assert_eq!((second.id.clone(), second.attempts), (run.id.clone(), 2));
        // The first job ran and failed: the attempt is a new Flink job.
        assert_eq!((run.submission, second.submission), (1, 2));
        assert_ne!(second.flink_job_id, run.flink_job_id);
        assert_eq!(f.flink.submissions().len(), 2);

        // The second failure waits twice as long; the third attempt succeeds.
        finish(&f, &second, FlinkJobState::Failed);
        reconciler.reconcile().await.unwrap();
        assert_eq!(
            f.run(&run.id).await.next_attempt_at,
            Some(f.clock.now() + chrono::Duration::seconds(120))
        );
        f.clock.advance(chrono::Duration::seconds(120));
        let TriggerOutcome::Submitted(third) = f.trigger.fire(retry.clone()).await.unwrap() else {
            panic!("expected the third attempt");
        };
        assert_eq!(third.attempts, 3);
        finish(&f, &third, FlinkJobState::Failed);
        reconciler.reconcile().await.unwrap();
        // No attempt left.
        let last = f.run(&run.id).await;
        assert_eq!((last.state, last.next_attempt_at), (RunState::Failed, None));
        f.clock.advance(chrono::Duration::hours(1));
        assert!(matches!(
            f.trigger.fire(retry).await.unwrap(),
            TriggerOutcome::AlreadyHandled(_)
        ));
    }

    /// A fixture whose runs time out after 30 s, the reconciler, and a run
    /// submitted at the fixture's clock.
    async fn timing_out() -> (Fixture, Reconciler, Run) {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            timeout_seconds: Some(30),
            ..Default::default()
        })
        .await;
        let (reconciler, _) = f.reconciler(f.clock.clone());
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        (f, reconciler, run)
    }

    #[tokio::test]
    async fn a_run_past_its_timeout_is_canceled_as_timed_out() {
        let (f, reconciler, run) = timing_out().await;
        f.clock.advance(chrono::Duration::seconds(29));
        assert_eq!(reconciler.reconcile().await.unwrap().timed_out, 0);
        f.clock.advance(chrono::Duration::seconds(1));
        assert_eq!(reconciler.reconcile().await.unwrap().timed_out, 1);
        let ended = f.run(&run.id).await;
        assert_eq!(ended.state, RunState::TimedOut);
        assert_eq!(ended.error.unwrap().code, "timed_out");
        assert_eq!(f.flink.canceled(), vec![run.flink_job_id.unwrap()]);
    }

    #[tokio::test]
    async fn a_job_that_ended_before_its_timeout_struck_ends_the_run_as_it_ended() {
        for (flink, recorded) in [
            (FlinkJobState::Finished, RunState::Succeeded),
            (FlinkJobState::Failed, RunState::Failed),
            (FlinkJobState::Canceled, RunState::Canceled),
        ] {
            let (f, reconciler, run) = timing_out().await;
            let flink_job_id = run.flink_job_id.clone().unwrap();
            // It ended between two passes; the deadline passes before the next.
            f.flink.set_status(&flink_job_id, flink, Some(42));
            f.clock.advance(chrono::Duration::seconds(31));
            let report = reconciler.reconcile().await.unwrap();
            assert_eq!(report.timed_out, 0, "{flink:?}");
            let ended = f.run(&run.id).await;
            assert_eq!(ended.state, recorded, "{flink:?}");
            assert_eq!(ended.rows_written, Some(42), "{flink:?}");
            assert!(
                f.flink.canceled().is_empty(),
                "{flink:?}: nothing to cancel"
            );
        }
    }

    #[tokio::test]
    async fn a_job_that_finishes_while_it_is_canceled_succeeded() {
        let (f, reconciler, run) = timing_out().await;
        f.flink.on_cancel(CancelEffect::Finishes);
        f.clock.advance(chrono::Duration::seconds(30));
        let report = reconciler.reconcile().await.unwrap();
        assert_eq!((report.succeeded, report.timed_out), (1, 0));
        let ended = f.run(&run.id).await;
        assert_eq!((ended.state, ended.error), (RunState::Succeeded, None));
        assert_eq!(f.flink.canceled(), vec![run.flink_job_id.unwrap()]);
    }

    #[tokio::test]
    async fn a_slow_cancel_is_timed_out_once_flink_reports_the_job_canceled() {
        let (f, reconciler, run) = timing_out().await;
        let flink_job_id = run.flink_job_id.clone().unwrap();
        // Flink takes its time: the job is still canceling after the request.
        f.flink.on_cancel(CancelEffect::Lingers);
        f.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(reconciler.reconcile().await.unwrap().timed_out, 0);
        let canceling = f.run(&run.id).await;
        assert_eq!(canceling.state, RunState::Running);
        assert_eq!(canceling.error.unwrap().code, "timed_out");
        assert_eq!(reconciler.reconcile().await.unwrap().timed_out, 0);

        // Canceled by then: the cancel was sluice's, for the timeout.
        f.flink
            .set_status(&flink_job_id, FlinkJobState::Canceled, Some(7));
        assert_eq!(reconciler.reconcile().await.unwrap().timed_out, 1);
        let ended = f.run(&run.id).await;
        assert_eq!(ended.state, RunState::TimedOut);
        assert_eq!(ended.error.unwrap().code, "timed_out");
        assert_eq!(ended.rows_written, Some(7));
    }

    #[tokio::test]
    async fn a_job_that_finishes_during_a_slow_cancel_succeeded() {
        let (f, reconciler, run) = timing_out().await;
        let flink_job_id = run.flink_job_id.clone().unwrap();
        f.flink.on_cancel(CancelEffect::Lingers);
        f.clock.advance(chrono::Duration::seconds(30));
        reconciler.reconcile().await.unwrap();
        f.flink
            .set_status(&flink_job_id, FlinkJobState::Finished, Some(9));
        assert_eq!(reconciler.reconcile().await.unwrap().succeeded, 1);
        let ended = f.run(&run.id).await;
        assert_eq!((ended.state, ended.error), (RunState::Succeeded, None));
        assert_eq!(ended.rows_written, Some(9));
    }

    #[tokio::test]
    async fn a_timed_out_job_flink_no_longer_knows_is_lost_and_an_unreachable_one_waits() {
        let (f, reconciler, run) = timing_out().await;
        f.clock.advance(chrono::Duration::seconds(30));
        f.flink.set_unreachable(true);
        assert_eq!(reconciler.reconcile().await.unwrap().unreachable, 1);
        assert_eq!(f.run(&run.id).await.state, RunState::Running);
        assert!(f.flink.canceled().is_empty(), "nothing asked blind");

        let (f, reconciler, run) = timing_out().await;
        let mut unknown = run.clone();
        unknown.flink_job_id = Some("0".repeat(32));
        unknown.version += 1;
        RunRepository::update(f.store.as_ref(), &unknown, run.version)
            .await
            .unwrap();
        f.clock.advance(chrono::Duration::seconds(30));
        assert_eq!(reconciler.reconcile().await.unwrap().lost, 1);
        let ended = f.run(&run.id).await;
        assert_eq!(ended.state, RunState::Lost);
        assert_eq!(ended.error.unwrap().code, "flink_job_unknown");
    }

    #[tokio::test]
    async fn a_child_job_is_started_once_after_its_parent_succeeds() {
        let f = fixture().await;
        let mut child = f.job.clone();
        child.id = JobId::generate();
        JobRepository::insert(f.store.as_ref(), &child)
            .await
            .unwrap();
        f.set_policy(RunPolicy {
            on_success: vec![child.id.clone()],
            ..Default::default()
        })
        .await;
        let (reconciler, invoker) = f.reconciler(f.clock.clone());
        let TriggerOutcome::Submitted(run) = f.trigger.fire(f.fire()).await.unwrap() else {
            panic!("expected a submission");
        };
        reconciler.reconcile().await.unwrap();
        assert!(invoker.events().is_empty(), "not before the parent ends");
        finish(&f, &run, FlinkJobState::Finished);
        assert_eq!(reconciler.reconcile().await.unwrap().children_started, 1);
        assert_eq!(reconciler.reconcile().await.unwrap().children_started, 0);
        let events = invoker.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["kind"], "parent");
        assert_eq!(events[0]["job_id"], child.id.as_str());
        assert!(!f.run(&run.id).await.follow_up_pending);

        // However often the hand-over is delivered, the child runs once.
        let delivery = Fire {
            tenant: f.tenant.clone(),
            job_id: child.id.clone(),
            scheduled_time: run.scheduled_time,
            trigger: TriggerKind::Parent,
            window: None,
            run_id: Some(RunId::for_child(&child.id, &run.id)),
            parent_run_id: Some(run.id.clone()),
        };
        let TriggerOutcome::Submitted(child_run) = f.trigger.fire(delivery.clone()).await.unwrap()
        else {
            panic!("expected the child's run");
        };
        assert_eq!(child_run.parent_run_id, Some(run.id.clone()));
        assert!(matches!(
            f.trigger.fire(delivery).await.unwrap(),
            TriggerOutcome::AlreadyHandled(_)
        ));
    }

    #[tokio::test]
    async fn incremental_windows_start_at_the_watermark_which_moves_only_on_success() {
        let f = fixture().await;
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut incremental = f.job.clone();
        incremental.spec.source.incremental = Some(crate::model::job::Incremental {
            column: "updated_at".into(),
            start,
            lag_seconds: 60,
        });
        incremental.version = 2;
        JobRepository::update(f.store.as_ref(), &incremental, &f.job)
            .await
            .unwrap();
        let (reconciler, _) = f.reconciler(f.clock.clone());
        let at = |h: i64| f.fire().scheduled_time + chrono::Duration::hours(h);
        let lag = chrono::Duration::seconds(60);
        let fire_at = |h: i64| {
            let mut fire = f.fire();
            fire.scheduled_time = at(h);
            fire
        };

        let TriggerOutcome::Submitted(first) = f.trigger.fire(fire_at(0)).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(
            first.window,
            Some(Window {
                from: start,
                to: at(0) - lag
            })
        );
        finish(&f, &first, FlinkJobState::Finished);
        reconciler.reconcile().await.unwrap();
        let watermark = JobRepository::watermark(f.store.as_ref(), &f.tenant, &f.job.id);
        assert_eq!(watermark.await.unwrap(), Some(at(0) - lag));

        // A failed run leaves the watermark, so the next window covers it.
        let TriggerOutcome::Submitted(second) = f.trigger.fire(fire_at(1)).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(second.window.unwrap().from, at(0) - lag);
        finish(&f, &second, FlinkJobState::Failed);
        reconciler.reconcile().await.unwrap();
        let TriggerOutcome::Submitted(third) = f.trigger.fire(fire_at(2)).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(
            third.window,
            Some(Window {
                from: at(0) - lag,
                to: at(2) - lag
            })
        );
        finish(&f, &third, FlinkJobState::Finished);
        reconciler.reconcile().await.unwrap();
        let watermark = JobRepository::watermark(f.store.as_ref(), &f.tenant, &f.job.id);
        assert_eq!(watermark.await.unwrap(), Some(at(2) - lag));

        // A backfill re-reads the past and moves nothing.
        let backfill = Window {
            from: start,
            to: at(0),
        };
        let mut past = fire_at(3);
        past.trigger = TriggerKind::Backfill;
        past.window = Some(backfill);
        past.run_id = Some(RunId::generate());
        let TriggerOutcome::Submitted(refill) = f.trigger.fire(past).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(refill.window, Some(backfill));
        finish(&f, &refill, FlinkJobState::Finished);
        reconciler.reconcile().await.unwrap();
        let watermark = JobRepository::watermark(f.store.as_ref(), &f.tenant, &f.job.id);
        assert_eq!(watermark.await.unwrap(), Some(at(2) - lag));

        // A late fire whose window would be empty is skipped, not run.
        let mut late = fire_at(2);
        late.scheduled_time -= chrono::Duration::minutes(1);
        let TriggerOutcome::Skipped(empty) = f.trigger.fire(late).await.unwrap() else {
            panic!("expected a skip");
        };
        assert_eq!(empty.error.unwrap().code, "empty_window");
    }

    #[tokio::test]
    async fn a_run_goes_to_its_jobs_target_and_a_plaintext_target_gets_plaintext() {
        use crate::model::job::FlinkTarget;
        use crate::ports::{FlinkCluster, SubmitSettings};

        let f = fixture().await;
        let gateway = Arc::new(FakeFlink::plaintext());
        let gw = FlinkTarget::parse("gw").unwrap();
        let session: Arc<dyn FlinkCluster> = f.flink.clone();
        let plaintext: Arc<dyn FlinkCluster> = gateway.clone();
        let targets = FlinkTargets::new(
            FlinkTarget::DEFAULT_SESSION,
            [(FlinkTarget::DEFAULT_SESSION, session), (gw, plaintext)],
        )
        .unwrap();
        let trigger = TriggerService::new(TriggerPorts {
            jobs: f.store.clone(),
            sources: f.store.clone(),
            runs: f.store.clone(),
            schedules: f.store.clone(),
            sealer: f.sealer.clone(),
            compiler: Arc::new(SecretEchoCompiler),
            flink: targets,
            events: f.events.clone(),
            preparer: Arc::new(DiscoveryService::new(
                f.store.clone(),
                f.sealer.clone(),
                f.probe.clone(),
                f.clock.clone(),
            )),
            clock: f.clock.clone(),
        });
        let retarget = |target: &str, version: u64| {
            let mut job = f.job.clone();
            job.spec.flink_target = Some(FlinkTarget::parse(target).unwrap());
            job.version = version;
            job
        };
        let manual = || {
            let mut manual = f.fire();
            manual.trigger = TriggerKind::Manual;
            manual.run_id = Some(RunId::generate());
            manual
        };

        // A target the deployment does not have: the run fails for good.
        let on_msf = retarget("msf", 2);
        JobRepository::update(f.store.as_ref(), &on_msf, &f.job)
            .await
            .unwrap();
        let TriggerOutcome::Failed(run) = trigger.fire(manual()).await.unwrap() else {
            panic!("expected a final failure");
        };
        let error = run.error.unwrap();
        assert_eq!(error.code, "target_unknown");
        assert!(!error.retryable);

        let on_gw = retarget("gw", 3);
        JobRepository::update(f.store.as_ref(), &on_gw, &on_msf)
            .await
            .unwrap();
        let TriggerOutcome::Submitted(run) = trigger.fire(manual()).await.unwrap() else {
            panic!("expected a submission");
        };
        assert_eq!(run.flink_target, gw);
        assert!(
            f.flink.submissions().is_empty(),
            "not on the default target"
        );
        let (_, run_id, script) = &gateway.submissions()[0];
        assert_eq!(run_id, &run.id);
        // The opt-in plaintext transport: the script itself, never sealed.
        assert!(script.starts_with("password=canary-pw"), "{script}");
        let context = EncryptionContext::for_run(&f.tenant, f.job.id.as_str(), run.id.as_str());
        assert!(!f.sealer.contexts().contains(&context));
        assert_eq!(
            gateway.settings(),
            [SubmitSettings {
                parallelism: 1,
                batch: true
            }]
        );
    }

    impl Fixture {
        /// The job made a multi-table job over `t` and `t2` (both with an
        /// `id` column, as discovered), into `u` and `u2`.
        async fn two_tables(&self, create: TargetCreate, on_change: OnSchemaChange) {
            self.probe
                .put_object(table("t2", vec![column("id", "bigint", "BIGINT")]));
            let snapshot = vec![column("id", "bigint", "BIGINT")];
            self.edit(|job| {
                job.spec.source.object.clear();
                job.spec.source.columns.clear();
                job.spec.source.objects = Some(serde_json::from_value(json!(["t", "t2"])).unwrap());
                job.spec.target.object.clear();
                job.spec.target.create = create;
                job.spec.options.on_schema_change = on_change;
                job.spec.tables = ["t", "t2"]
                    .iter()
                    .map(|name| crate::model::selection::JobTable {
                        source: (*name).into(),
                        target: name.replace('t', "u"),
                        columns: vec![Column {
                            name: "id".into(),
                            type_name: "BIGINT".into(),
                        }],
                        primary_key: None,
                        incremental_column: None,
                        snapshot: snapshot.clone(),
                    })
                    .collect();
            })
            .await;
        }
    }

    #[tokio::test]
    async fn every_table_of_a_multi_table_job_is_prepared_and_counted() {
        let f = fixture().await;
        f.set_policy(RunPolicy {
            overlap: Overlap::Allow,
            ..Default::default()
        })
        .await;
        f.two_tables(TargetCreate::Never, OnSchemaChange::Fail)
            .await;
        // `u2` is missing: the run fails naming it, before Flink.
        let error = failed(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(error.code, "target_missing");
        assert!(error.message.contains("u2"), "{}", error.message);
        assert!(f.flink.submissions().is_empty());

        // Created when missing, each once; the run knows its tables.
        f.edit(|job| job.spec.target.create = TargetCreate::IfMissing)
            .await;
        let run = submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["create u2"]);
        let names: Vec<&str> = run.tables.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(names, ["t", "t2"]);

        // The reconciler takes each table's rows by its index.
        let flink_job = run.flink_job_id.clone().unwrap();
        f.flink
            .set_status(&flink_job, FlinkJobState::Finished, Some(12));
        let rows = |index, n| crate::ports::FlinkTableRows {
            index,
            rows_read: Some(n),
            rows_written: Some(n),
        };
        f.flink.set_tables(&flink_job, vec![rows(2, 5), rows(1, 7)]);
        let (reconciler, _) = f.reconciler(f.clock.clone());
        reconciler.reconcile().await.unwrap();
        let ended = f.run(&run.id).await;
        assert_eq!(ended.state, RunState::Succeeded);
        let counted: Vec<(&str, Option<u64>, Option<u64>)> = ended
            .tables
            .iter()
            .map(|t| (t.table.as_str(), t.rows_read, t.rows_written))
            .collect();
        assert_eq!(counted, [("t", Some(7), Some(7)), ("t2", Some(5), Some(5))]);

        // A table that changed fails the next run, naming it.
        f.probe.put_object(table(
            "t2",
            vec![
                column("id", "bigint", "BIGINT"),
                column("new", "date", "DATE"),
            ],
        ));
        let error = failed(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(error.code, "schema_drift");
        assert!(
            error.message.contains("t2") && error.message.contains("added new (date)"),
            "{}",
            error.message
        );
        // add_columns adds it to that table's target and the job's table.
        f.edit(|job| job.spec.options.on_schema_change = OnSchemaChange::AddColumns)
            .await;
        submitted(f.trigger.fire(f.manual()).await.unwrap());
        assert_eq!(f.probe.ddl(), ["create u2", "add u2.new"]);
        let job = f.job().await;
        assert_eq!(job.spec.tables[0].columns.len(), 1);
        let added: Vec<&str> = job.spec.tables[1]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(added, ["id", "new"]);
        assert_eq!(job.spec.tables[1].snapshot.len(), 2);
    }
}

//! The ports the use cases need. Adapters implement them against AWS
//! (`sluice-aws`, `sluice-crypto`); `fakes` implements them in memory.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::model::discovery::{
    Check, ConnectionReport, ObjectDescription, ObjectPage, ObjectQuery, Preparation, RowCount,
    RowCountRequest, RowCounts, RunPreparation, TableColumn, TableSpec,
};
use crate::model::job::{FlinkTarget, Job, JobId};
use crate::model::notification::{AlertState, Channel, Notice, Notifications};
use crate::model::report::{Counters, ReportQuery, RunEnd};
use crate::model::run::{Run, RunId, RunStateChange};
use crate::model::schedule::Schedule;
use crate::model::trigger_event::TriggerEvent;
use crate::{EncryptionContext, SealedSecrets, Secrets, Source, SourceId, TenantId};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository can report. Anything the store itself fails at is
/// `Unavailable` and carries the cause for the logs, never for the caller.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("a record with this key already exists")]
    AlreadyExists,
    #[error("no such record")]
    NotFound,
    #[error("the record is at version {current}")]
    VersionMismatch { current: u64 },
    /// A source cannot go while jobs reference it.
    #[error("the record is referenced by {jobs} job(s)")]
    InUse { jobs: u64 },
    /// A job references a source that no longer exists.
    #[error("a referenced source no longer exists")]
    MissingReference,
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

/// One page of sources in id order (ULIDs: creation time to the millisecond).
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePage {
    pub items: Vec<Source>,
    /// The last id of this page when more follow.
    pub next_after: Option<SourceId>,
}

/// Durable storage of sources, always scoped to one tenant.
#[async_trait]
pub trait SourceRepository: Send + Sync {
    /// Stores a new source; `AlreadyExists` if its id is taken.
    async fn insert(&self, source: &Source) -> Result<(), RepositoryError>;

    /// The tenant's source with this id, if any. Another tenant's source
    /// is indistinguishable from a missing one.
    async fn get(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Source>, RepositoryError>;

    /// Up to `limit` sources with ids after `after`.
    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&SourceId>,
    ) -> Result<SourcePage, RepositoryError>;

    /// Replaces a source only if the stored one is at `expected_version`:
    /// `NotFound` if it is gone, `VersionMismatch` if someone wrote first.
    async fn update(&self, source: &Source, expected_version: u64) -> Result<(), RepositoryError>;

    /// Deletes a source, only at `expected_version` when one is given, and
    /// only while no job references it (`InUse`).
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError>;
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The key provider (KMS) failed or refused; retrying may help.
    #[error("the key provider failed")]
    KeyProvider(#[source] BoxError),
    /// Authentication failed: tampered data, or the wrong context.
    #[error("sealed data failed authentication")]
    Tampered,
    #[error("unsupported algorithm {0}")]
    UnsupportedAlgorithm(String),
}

/// Envelope encryption of secret material bound to an encryption context.
#[async_trait]
pub trait SecretSealer: Send + Sync {
    /// Seals under a fresh data key; two seals of one plaintext differ.
    async fn seal(
        &self,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<SealedSecrets, SealError>;

    /// Opens what `seal` produced under the same context, else `Tampered`.
    async fn open(
        &self,
        context: &EncryptionContext,
        sealed: &SealedSecrets,
    ) -> Result<Zeroizing<Vec<u8>>, SealError>;
}

/// The time, injectable so tests are deterministic.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// One page of jobs in id order.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    pub items: Vec<Job>,
    pub next_after: Option<JobId>,
}

/// Durable storage of jobs. It also keeps, per source, the count of jobs
/// that reference it, in the same transaction as the job, so a source in
/// use cannot be deleted (see [`SourceRepository::delete`]).
#[async_trait]
pub trait JobRepository: Send + Sync {
    /// Stores a new job and counts its references; `MissingReference` if a
    /// source it references is gone, `AlreadyExists` if its id is taken.
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError>;

    async fn get(&self, tenant: &TenantId, id: &JobId) -> Result<Option<Job>, RepositoryError>;

    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&JobId>,
    ) -> Result<JobPage, RepositoryError>;

    /// Replaces `previous` (at its version) with `job`, moving reference
    /// counts when the job's sources change.
    async fn update(&self, job: &Job, previous: &Job) -> Result<(), RepositoryError>;

    /// Deletes a job (at `expected_version` when given) and its references,
    /// with its schedule record, watermark and run slot.
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError>;

    /// Where an incremental job's next window starts: the end of the last
    /// successful window, if any.
    async fn watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<Option<DateTime<Utc>>, RepositoryError>;

    /// Moves the watermark to `to`, only forward (a conditional write);
    /// `false` when it already was at or past `to`.
    async fn advance_watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
        to: DateTime<Utc>,
    ) -> Result<bool, RepositoryError>;
}

/// What a rendered script shows of secret values.
#[derive(Debug, Clone, Copy)]
pub enum SecretExposure<'a> {
    /// Every secret value rendered as `'******'`: for previews.
    Masked,
    /// The decrypted secrets of the job's source and target: for the run
    /// submitted to Flink, and nothing else.
    Revealed {
        source: &'a Secrets,
        target: &'a Secrets,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The job no longer fits its endpoints (e.g. a source was edited).
    #[error("the job is invalid: {0}")]
    Invalid(crate::ValidationErrors),
    /// An incremental job needs a window, a plain one must not get one.
    #[error("{0}")]
    Window(String),
    /// A revealed render lacks a secret the connector needs.
    #[error("the secret {0} is missing")]
    MissingSecret(String),
}

/// Turns jobs into Flink SQL. Pure: no I/O, deterministic for its inputs.
pub trait JobCompiler: Send + Sync {
    /// Every problem of `spec` against its endpoints, named by JSON path
    /// (`source.filter`, `mapping[1].expr`, `target.primary_key`, ...).
    /// `source` and `target` are the sources `spec` references.
    fn check(
        &self,
        spec: &crate::model::job::JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<(), crate::ValidationErrors>;

    /// The whole script of one run: `SET` lines, the two `CREATE TEMPORARY
    /// TABLE`s and one `INSERT INTO ... SELECT ...`. `window` is required for
    /// incremental jobs and rendered as typed literals.
    fn render(
        &self,
        job_id: &JobId,
        spec: &crate::model::job::JobSpec,
        source: &Source,
        target: &Source,
        window: Option<crate::model::job::Window>,
        secrets: SecretExposure<'_>,
    ) -> Result<String, RenderError>;

    /// The target table `spec` writes: its columns with their Flink types
    /// (nullable, but the key's) and its key, for a run that creates it.
    fn target_table(
        &self,
        spec: &crate::model::job::JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<TableSpec, RenderError>;
}

/// Whether a create found the record new or already there.
#[derive(Debug, Clone, PartialEq)]
pub enum Created<T> {
    New(T),
    Existing(T),
}

/// One page of a job's runs, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPage {
    pub items: Vec<Run>,
    pub next_after: Option<RunId>,
}

/// Durable storage of runs.
#[async_trait]
pub trait RunRepository: Send + Sync {
    /// Stores `run` unless a run with its id exists, and returns the stored
    /// one: the conditional put that makes deliveries idempotent.
    async fn create(&self, run: &Run) -> Result<Created<Run>, RepositoryError>;

    async fn get(&self, tenant: &TenantId, id: &RunId) -> Result<Option<Run>, RepositoryError>;

    /// A job's runs, newest first, `limit` at most, older than `before`.
    async fn list_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        limit: usize,
        before: Option<&RunId>,
    ) -> Result<RunPage, RepositoryError>;

    /// Writes `run` only if the stored one is at `expected_version`.
    async fn update(&self, run: &Run, expected_version: u64) -> Result<(), RepositoryError>;

    /// Runs of every tenant the reconciler still has work on
    /// ([`Run::needs_reconciler`]), oldest first.
    async fn list_active(&self, limit: usize) -> Result<Vec<Run>, RepositoryError>;

    /// The job's newest active run (pending, submitting or running), if it
    /// has one, whatever its overlap policy: the run slot knows only the
    /// runs the trigger took it for (`skip`, `cancel_previous`).
    async fn active_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Run>, RepositoryError>;

    /// Takes the job's run slot (one active run per job under the `skip`
    /// and `cancel_previous` overlap policies) for `run`: when it is free,
    /// already `run`'s, or held by `stale` (a holder the caller found
    /// finished). A conditional write, so two fires cannot both hold it.
    async fn claim_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
        stale: Option<&RunId>,
    ) -> Result<SlotClaim, RepositoryError>;

    /// Frees the slot if `run` holds it.
    async fn release_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
    ) -> Result<(), RepositoryError>;
}

/// The outcome of [`RunRepository::claim_slot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotClaim {
    Claimed,
    HeldBy(RunId),
}

/// The state of a Flink job as its cluster reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlinkJobState {
    /// Created, scheduled, running, restarting, ...: not finished yet.
    InProgress,
    Finished,
    Failed,
    Canceled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlinkJobStatus {
    pub state: FlinkJobState,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    /// The root cause of a failure, as Flink tells it.
    pub failure: Option<String>,
    /// A multi-table job's rows per table (its tables are named `src_<n>`
    /// and `dst_<n>` in the script); empty for a single-table job.
    pub tables: Vec<FlinkTableRows>,
}

/// What a Flink job reports per table (a model type: runs record it).
pub use crate::model::run::FlinkTableRows;

#[derive(Debug, thiserror::Error)]
pub enum FlinkError {
    /// The cluster could not be reached or answered 5xx: retrying may help.
    #[error("the Flink cluster is unreachable")]
    Unreachable(#[source] BoxError),
    /// The cluster refused the submission (bad script, runner error).
    #[error("the Flink cluster refused the job: {0}")]
    Rejected(String),
    /// The cluster does not know the job (restarted, expired history).
    #[error("the Flink cluster does not know the job")]
    UnknownJob,
}

/// How a target takes a run's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptTransport {
    /// The per-run KMS envelope (JSON, purpose `flink-script`), opened by
    /// the runner on the cluster: credentials never travel in clear.
    #[default]
    Sealed,
    /// The plaintext script, for targets with no runner to open envelopes
    /// (a SQL Gateway). Weaker: allowed only for targets configured for it.
    Plaintext,
}

/// One submission of a run to a Flink target. The Flink job it starts is
/// named after it ([`Submission::flink_job_id`]), so when the same submission
/// is made again (a redelivery after a timeout whose job did start) the
/// target finds that job instead of starting a second one: the same rows are
/// never written twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub job_id: JobId,
    pub run_id: RunId,
    /// Which of the run's Flink jobs this is ([`Run::submission`]):
    /// 1 for the first; an attempt after a Flink job of the run has run takes
    /// the next number, a retry of a submission whose outcome is unknown
    /// keeps its number.
    pub number: u32,
}

impl Submission {
    /// The Flink job id (32 lowercase hex digits, Flink's `JobID`) of this
    /// submission's job: a digest of (run, number), so every retry of the
    /// submission names the same job and no other submission names it.
    pub fn flink_job_id(&self) -> String {
        let digest = Sha256::digest(format!("{}|flink-job|{}", self.run_id, self.number));
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// What a submission needs to know of the job besides its script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmitSettings {
    /// The job's `options.parallelism`.
    pub parallelism: u32,
    /// A bounded (batch) job, which ends by itself.
    pub batch: bool,
}

/// Follows and stops the Flink jobs of runs on one target: what the
/// reconciler and the jobs API (cancel) need, without the submit path.
#[async_trait]
pub trait FlinkJobs: Send + Sync {
    /// The reference of the job `submission` started, if the target has it
    /// (in any state, finished included): a retried submission adopts it.
    async fn find(&self, submission: &Submission) -> Result<Option<String>, FlinkError>;

    async fn status(&self, flink_job_id: &str) -> Result<FlinkJobStatus, FlinkError>;

    async fn cancel(&self, flink_job_id: &str) -> Result<(), FlinkError>;
}

/// Starts the Flink job of a run on one target: only the trigger submits.
#[async_trait]
pub trait FlinkSubmitter: Send + Sync {
    /// What `submit` takes as `script`.
    fn transport(&self) -> ScriptTransport {
        ScriptTransport::Sealed
    }

    /// Submits the script of one run; returns the reference the run keeps
    /// to follow it (the Flink job id, or the target's own reference).
    /// `script` is the envelope JSON for [`ScriptTransport::Sealed`], the
    /// plaintext script for [`ScriptTransport::Plaintext`]: the caller
    /// keeps the latter in zeroized memory, the target never logs or returns
    /// either.
    ///
    /// At most one job per submission: the job is named after `submission`,
    /// and when the target answers that it exists already (a duplicate), or
    /// the answer is lost (a timeout) while the job did start, its reference
    /// is returned: the job is adopted, not started again. `Unreachable`
    /// means the outcome is unknown: the job may still appear, and a retry
    /// of the same submission must [`find`](FlinkJobs::find) it first.
    async fn submit(
        &self,
        submission: &Submission,
        script: &str,
        settings: &SubmitSettings,
    ) -> Result<String, FlinkError>;
}

/// A target used both ways (the trigger: submit, adopt, cancel a previous
/// run). Every type with both ports is one.
pub trait FlinkCluster: FlinkSubmitter + FlinkJobs {}

impl<T: FlinkSubmitter + FlinkJobs + ?Sized> FlinkCluster for T {}

/// The Flink targets of a deployment, by name, and the default one (for
/// jobs that name none), each as the port `P` a function uses: the trigger
/// picks a job's target in [`FlinkTargets`] (`dyn FlinkCluster`); runs
/// record the name, and the reconciler and cancel find the same target again
/// in [`FlinkJobTargets`] (`dyn FlinkJobs`).
pub struct Targets<P: ?Sized> {
    targets: std::collections::BTreeMap<FlinkTarget, Arc<P>>,
    default: FlinkTarget,
}

/// The targets as the trigger uses them.
pub type FlinkTargets = Targets<dyn FlinkCluster>;
/// The targets as the reconciler and the jobs API use them.
pub type FlinkJobTargets = Targets<dyn FlinkJobs>;

impl<P: ?Sized> Clone for Targets<P> {
    fn clone(&self) -> Self {
        Self {
            targets: self.targets.clone(),
            default: self.default,
        }
    }
}

impl<P: ?Sized> Targets<P> {
    /// `None` when `default` is not among `targets`.
    pub fn new(
        default: FlinkTarget,
        targets: impl IntoIterator<Item = (FlinkTarget, Arc<P>)>,
    ) -> Option<Self> {
        let targets: std::collections::BTreeMap<_, _> = targets.into_iter().collect();
        targets
            .contains_key(&default)
            .then_some(Self { targets, default })
    }

    /// One target, which is the default.
    pub fn single(name: FlinkTarget, cluster: Arc<P>) -> Self {
        Self {
            targets: [(name, cluster)].into(),
            default: name,
        }
    }

    pub fn get(&self, name: &FlinkTarget) -> Option<&Arc<P>> {
        self.targets.get(name)
    }

    pub fn default_name(&self) -> FlinkTarget {
        self.default
    }

    /// The target a job runs on: the one it names, else the default.
    pub fn resolve(&self, requested: Option<FlinkTarget>) -> FlinkTarget {
        requested.unwrap_or(self.default)
    }

    /// The configured names, sorted.
    pub fn names(&self) -> Vec<FlinkTarget> {
        self.targets.keys().copied().collect()
    }
}

impl FlinkTargets {
    /// The same targets as follow/cancel ports only.
    pub fn jobs(&self) -> FlinkJobTargets {
        Targets {
            targets: self
                .targets
                .iter()
                .map(|(name, cluster)| (*name, cluster.clone() as Arc<dyn FlinkJobs>))
                .collect(),
            default: self.default,
        }
    }
}

/// A single cluster is a deployment's only target, named
/// [`FlinkTarget::DEFAULT_SESSION`].
impl<C: FlinkCluster + 'static> From<Arc<C>> for FlinkTargets {
    fn from(cluster: Arc<C>) -> Self {
        Self::single(FlinkTarget::DEFAULT_SESSION, cluster)
    }
}

impl<C: FlinkJobs + 'static> From<Arc<C>> for FlinkJobTargets {
    fn from(cluster: Arc<C>) -> Self {
        Self::single(FlinkTarget::DEFAULT_SESSION, cluster)
    }
}

/// Cancels a run's Flink job on the target the run names: the jobs API's
/// cancel. In a deployment the trigger function does it for the jobs
/// function (which links no Flink client), through
/// `sluice_aws::LambdaFlinkCanceler`; in process, [`FlinkJobTargets`].
#[async_trait]
pub trait FlinkCanceler: Send + Sync {
    /// The deployment's default target: where a job that names none runs.
    fn default_target(&self) -> FlinkTarget;

    /// `Ok` once the job is canceled, or when the target does not know it
    /// (it ended and was forgotten).
    async fn cancel(&self, target: FlinkTarget, flink_job_id: &str) -> Result<(), FlinkError>;
}

#[async_trait]
impl FlinkCanceler for FlinkJobTargets {
    fn default_target(&self) -> FlinkTarget {
        self.default_name()
    }

    async fn cancel(&self, target: FlinkTarget, flink_job_id: &str) -> Result<(), FlinkError> {
        let Some(cluster) = self.get(&target) else {
            tracing::error!(%target, "the run's Flink target is not configured");
            return Err(FlinkError::Unreachable(
                format!("the Flink target {target} is not configured").into(),
            ));
        };
        match cluster.cancel(flink_job_id).await {
            Ok(()) | Err(FlinkError::UnknownJob) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// The scheduler could not be reached or failed: retrying may help.
    #[error("the scheduler is unavailable")]
    Unavailable(#[source] BoxError),
    /// The scheduler refused the schedule (a check we do not make).
    #[error("the scheduler refused the schedule: {0}")]
    Rejected(String),
}

/// The service that delivers fires: EventBridge Scheduler. One schedule
/// per job; the adapter names it and builds its target input (ids and
/// scheduler placeholders only).
#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Creates the job's schedule or replaces it with `schedule`.
    async fn upsert(&self, schedule: &Schedule) -> Result<(), SchedulerError>;
    /// Deletes the job's schedule; deleting a missing one is not an error.
    async fn delete(&self, tenant: &TenantId, job_id: &JobId) -> Result<(), SchedulerError>;
}

/// Storage of schedule records, one per job.
#[async_trait]
pub trait ScheduleRepository: Send + Sync {
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Schedule>, RepositoryError>;

    /// Writes `schedule` if the stored one is at `expected_version`, or if
    /// none is stored when `None`; `MissingReference` if the job is gone.
    async fn put(
        &self,
        schedule: &Schedule,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError>;

    /// Deletes the record (at `expected_version` when given).
    async fn delete(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError>;
}

/// Why discovery could not answer.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The source could not be reached, or refused the credentials: the
    /// check says which step failed and why (never with a secret).
    #[error("the source could not be reached: {}", .0.message)]
    Unreachable(Check),
    /// The request does not fit the source (e.g. an object name that
    /// cannot be one of its objects).
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
}

/// Reaches a source with its settings and opened secrets: the connection
/// test and discovery. Every call is bounded in time (a few seconds).
#[async_trait]
pub trait SourceProbe: Send + Sync {
    /// Connects, authenticates and checks what a job of the source needs;
    /// a failure is a failed check, never an error.
    async fn test(&self, source: &Source, secrets: &Secrets) -> ConnectionReport;

    /// The source's objects in name order.
    async fn list(
        &self,
        source: &Source,
        secrets: &Secrets,
        query: &ObjectQuery,
    ) -> Result<ObjectPage, DiscoveryError>;

    /// One object's columns with their proposed Flink types; `None` when
    /// the source has no such object.
    async fn describe(
        &self,
        source: &Source,
        secrets: &Secrets,
        name: &str,
    ) -> Result<Option<ObjectDescription>, DiscoveryError>;

    /// Several objects described on one connection (a multi-table job's
    /// tables), in the order named, each bounded in time as `describe` is;
    /// `None` for a name the source has no object of. By default, one
    /// `describe` after the other.
    async fn describe_many(
        &self,
        source: &Source,
        secrets: &Secrets,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoveryError> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            out.push(self.describe(source, secrets, name).await?);
        }
        Ok(out)
    }

    /// Creates `table` unless a table of its name exists (then it is left
    /// as it is); `true` when this call created it. Idempotent, and safe
    /// when two runs create the same table at once.
    async fn create_table(
        &self,
        source: &Source,
        secrets: &Secrets,
        table: &TableSpec,
    ) -> Result<bool, DiscoveryError>;

    /// Adds `columns` (nullable) to the table `object`; a column that is
    /// there already is left alone. The names it added.
    async fn add_columns(
        &self,
        source: &Source,
        secrets: &Secrets,
        object: &str,
        columns: &[TableColumn],
    ) -> Result<Vec<String>, DiscoveryError>;

    /// The rows of each `count.object` (those of its window when it has
    /// one), in order, over one connection.
    async fn count_rows(
        &self,
        source: &Source,
        secrets: &Secrets,
        counts: &[RowCount],
    ) -> Result<Vec<u64>, DiscoveryError>;
}

/// Why a run's preparation could not be made (not a verdict on the job:
/// see [`Preparation`] for those).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("source {0} not found")]
    SourceNotFound(String),
    /// A database did not answer, or refused a statement; never a secret.
    #[error("the database could not be reached: {}", .0.message)]
    Unreachable(Check),
    #[error("{0}")]
    Invalid(String),
    /// KMS could not open the secrets: retrying may help.
    #[error("the source's secrets could not be opened")]
    SecretsUnavailable,
    #[error("the source's secrets do not open; set them again")]
    SecretsUnreadable,
    /// The discovery function or the store failed: retrying may help.
    #[error("discovery is unavailable")]
    Unavailable(#[source] BoxError),
}

/// Prepares a run's databases before Flink starts, in one round trip: the
/// source's drift from the job's snapshot, the target table's existence
/// (or creation), the columns `add_columns` adds. Served by the discovery
/// function, the only one that opens connections to databases.
#[async_trait]
pub trait RunPreparer: Send + Sync {
    async fn prepare_run(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        request: &RunPreparation,
    ) -> Result<Preparation, PrepareError>;
}

/// Counts a run's rows on both sides after Flink finished it (`validate:
/// count`): one pair of tables per request (several for a multi-table
/// job), the counts in the same order. Served by the discovery function,
/// like [`RunPreparer`], one connection per side.
#[async_trait]
pub trait RowCounter: Send + Sync {
    async fn count_rows(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        requests: &[RowCountRequest],
    ) -> Result<Vec<RowCounts>, PrepareError>;
}

/// Run metrics (CloudWatch's embedded metric format in a deployment): told of every published
/// state change, it keeps what it measures (final states, the start lag). Never fails a run.
pub trait RunMetrics: Send + Sync {
    fn observe(&self, change: &RunStateChange);
}

/// The run report's counters: grown once per run that ends for good, read per bucket.
#[async_trait]
pub trait RunReports: Send + Sync {
    /// Adds one run's end to its hour's and day's counters, tenant-wide and the job's.
    async fn record(&self, end: &RunEnd) -> Result<(), RepositoryError>;

    /// The stored counters of the query's buckets (those with any run), by bucket start.
    async fn counters(
        &self,
        query: &ReportQuery,
    ) -> Result<std::collections::BTreeMap<DateTime<Utc>, Counters>, RepositoryError>;
}

/// Publishes the state changes of runs to subscribers (EventBridge).
/// Services call it after the conditional write that made a change, once
/// per change; what it answers never changes a run.
#[async_trait]
pub trait RunEvents: Send + Sync {
    /// Publishes one change. An adapter retries a failed publish a few
    /// times within a short bound, then answers `Err` for the caller to log.
    async fn publish(&self, change: &RunStateChange) -> Result<(), BoxError>;
}

/// Storage of a job's notification settings, one record per job beside it.
#[async_trait]
pub trait NotificationRepository: Send + Sync {
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Notifications>, RepositoryError>;

    /// Writes `settings` if the stored ones are at `expected_version`, or if none are stored
    /// when `None` (`AlreadyExists` otherwise); `MissingReference` if the job is gone.
    async fn put(
        &self,
        settings: &Notifications,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError>;
}

/// How a claim on a run's notices went ([`AlertLedger::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeClaim {
    /// This delivery sends the run's notices.
    Claimed,
    /// Another delivery sent them, or is sending them (its claim has not expired).
    Taken,
}

/// What the notifier remembers between deliveries: per run, a claim that makes one delivery of
/// its final change the only one that notifies; per job, its [`AlertState`].
#[async_trait]
pub trait AlertLedger: Send + Sync {
    /// Claims `run`'s notices until `until` (a conditional write): `Taken` when they were sent,
    /// or another claim holds them and has not expired.
    async fn claim(
        &self,
        tenant: &TenantId,
        run: &RunId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<NoticeClaim, RepositoryError>;

    /// Marks `run`'s notices sent: no later claim takes them.
    async fn complete(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError>;

    /// Gives up a claim whose notices were not sent (the delivery failed before sending), so
    /// that the next delivery of the change takes it at once; a sent claim stays.
    async fn release(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError>;

    /// The job's alert history (the default, at version 0, when none is stored).
    async fn state(&self, tenant: &TenantId, job_id: &JobId)
    -> Result<AlertState, RepositoryError>;

    /// Stores `state` (its `version` is the next one) if the stored one is at
    /// `state.version - 1` (none stored for 0): `VersionMismatch` otherwise.
    async fn save_state(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        state: &AlertState,
    ) -> Result<(), RepositoryError>;
}

/// Why one attempt to deliver a notice failed. The message names no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// Whether another attempt may succeed (a 5xx, a timeout), as opposed to a refusal (a 4xx,
    /// an address the notifier may not reach).
    pub retryable: bool,
}

/// Delivers notices: SNS topics, webhooks (signed with the job's secret).
#[async_trait]
pub trait NoticeChannels: Send + Sync {
    /// One attempt to deliver `notice` to `channel`.
    async fn deliver(
        &self,
        channel: &Channel,
        notice: &Notice,
        signing_secret: Option<&SecretString>,
    ) -> Result<(), DeliveryError>;
}

/// Waiting between delivery attempts, injectable so tests do not wait.
#[async_trait]
pub trait Pause: Send + Sync {
    async fn pause(&self, duration: std::time::Duration);
}

/// Hands a run to the trigger function (asynchronously).
#[async_trait]
pub trait TriggerInvoker: Send + Sync {
    async fn invoke(&self, event: &TriggerEvent) -> Result<(), BoxError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_names_one_flink_job_of_its_own() {
        let job_id = JobId::parse("job_01J0000000000000000000000A").unwrap();
        let run_id = RunId::parse("run_01J0000000000000000000000B").unwrap();
        let submission = |number| Submission {
            job_id: job_id.clone(),
            run_id: run_id.clone(),
            number,
        };
        let first = submission(1).flink_job_id();
        assert_eq!(first.len(), 32);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{first}"
        );
        assert_eq!(first, submission(1).flink_job_id(), "every retry");
        assert_ne!(first, submission(2).flink_job_id(), "a next attempt");
        let other = Submission {
            run_id: RunId::parse("run_01J0000000000000000000000C").unwrap(),
            ..submission(1)
        };
        assert_ne!(first, other.flink_job_id(), "another run");
    }
}

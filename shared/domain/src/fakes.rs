//! In-memory implementations of the ports, for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use zeroize::Zeroizing;

use crate::model::job::{Job, JobId};
use crate::model::notification::{AlertState, Channel, Notice, Notifications};
use crate::model::run::{Run, RunId, RunState, RunStateChange};
use crate::model::schedule::Schedule;
use crate::ports::{
    Clock, Created, FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobs, FlinkSubmitter, JobPage,
    JobRepository, RepositoryError, RunEvents, RunPage, RunRepository, ScriptTransport, SealError,
    SecretSealer, SlotClaim, SourcePage, SourceRepository, Submission, SubmitSettings,
    TriggerInvoker,
};
use crate::ports::{ScheduleRepository, Scheduler, SchedulerError};
use crate::{EncryptionContext, SealedSecrets, Source, SourceId, TenantId};

/// Sources and jobs in maps keyed like the real table, with the per-source
/// count of referencing jobs kept as the DynamoDB adapter keeps it.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

/// The store seen as a source repository, for tests that need only that.
pub type MemorySourceRepository = MemoryStore;

#[derive(Default)]
struct State {
    sources: BTreeMap<(TenantId, SourceId), Source>,
    jobs: BTreeMap<(TenantId, JobId), Job>,
    runs: BTreeMap<(TenantId, RunId), Run>,
    usage: BTreeMap<(TenantId, SourceId), u64>,
    schedules: BTreeMap<(TenantId, JobId), Schedule>,
    watermarks: BTreeMap<(TenantId, JobId), DateTime<Utc>>,
    slots: BTreeMap<(TenantId, JobId), RunId>,
    notifications: BTreeMap<(TenantId, JobId), Notifications>,
}

impl State {
    fn refs(job: &Job) -> Vec<(TenantId, SourceId)> {
        let mut ids = vec![job.source_id.clone(), job.target_id.clone()];
        ids.dedup();
        ids.into_iter().map(|id| (job.tenant.clone(), id)).collect()
    }

    fn add_refs(&mut self, job: &Job) -> Result<(), RepositoryError> {
        let refs = Self::refs(job);
        if refs.iter().any(|k| !self.sources.contains_key(k)) {
            return Err(RepositoryError::MissingReference);
        }
        refs.into_iter()
            .for_each(|k| *self.usage.entry(k).or_default() += 1);
        Ok(())
    }

    fn drop_refs(&mut self, job: &Job) {
        for k in Self::refs(job) {
            if let Some(n) = self.usage.get_mut(&k) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl MemoryStore {
    /// Number of sources stored.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn job_count(&self) -> usize {
        self.state.lock().unwrap().jobs.len()
    }
}

#[async_trait]
impl SourceRepository for MemoryStore {
    async fn insert(&self, source: &Source) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (source.tenant.clone(), source.id.clone());
        if state.sources.contains_key(&key) {
            return Err(RepositoryError::AlreadyExists);
        }
        state.sources.insert(key, source.clone());
        Ok(())
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Source>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state.sources.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&SourceId>,
    ) -> Result<SourcePage, RepositoryError> {
        let state = self.state.lock().unwrap();
        let (items, next_after) = page(&state.sources, tenant, limit, after, |s| s.id.clone());
        Ok(SourcePage { items, next_after })
    }

    async fn update(&self, source: &Source, expected_version: u64) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (source.tenant.clone(), source.id.clone());
        let current = state.sources.get(&key).ok_or(RepositoryError::NotFound)?;
        if current.version != expected_version {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        state.sources.insert(key, source.clone());
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), id.clone());
        let current = state.sources.get(&key).ok_or(RepositoryError::NotFound)?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        let jobs = state.usage.get(&key).copied().unwrap_or(0);
        if jobs > 0 {
            return Err(RepositoryError::InUse { jobs });
        }
        state.sources.remove(&key);
        state.usage.remove(&key);
        Ok(())
    }
}

#[async_trait]
impl JobRepository for MemoryStore {
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (job.tenant.clone(), job.id.clone());
        if state.jobs.contains_key(&key) {
            return Err(RepositoryError::AlreadyExists);
        }
        state.add_refs(job)?;
        state.jobs.insert(key, job.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: &JobId) -> Result<Option<Job>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state.jobs.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&JobId>,
    ) -> Result<JobPage, RepositoryError> {
        let state = self.state.lock().unwrap();
        let (items, next_after) = page(&state.jobs, tenant, limit, after, |j| j.id.clone());
        Ok(JobPage { items, next_after })
    }

    async fn update(&self, job: &Job, previous: &Job) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (job.tenant.clone(), job.id.clone());
        let current = state.jobs.get(&key).ok_or(RepositoryError::NotFound)?;
        if current.version != previous.version {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        state.drop_refs(previous);
        if let Err(e) = state.add_refs(job) {
            state
                .add_refs(previous)
                .expect("the previous references were valid");
            return Err(e);
        }
        state.jobs.insert(key, job.clone());
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), id.clone());
        let current = state
            .jobs
            .get(&key)
            .ok_or(RepositoryError::NotFound)?
            .clone();
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        state.drop_refs(&current);
        state.jobs.remove(&key);
        state.schedules.remove(&key);
        state.watermarks.remove(&key);
        state.slots.remove(&key);
        state.notifications.remove(&key);
        Ok(())
    }

    async fn watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state.watermarks.get(&(tenant.clone(), id.clone())).copied())
    }

    async fn advance_watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
        to: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), id.clone());
        if !state.jobs.contains_key(&key) || state.watermarks.get(&key).is_some_and(|w| *w >= to) {
            return Ok(false);
        }
        state.watermarks.insert(key, to);
        Ok(true)
    }
}

#[async_trait]
impl ScheduleRepository for MemoryStore {
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Schedule>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .schedules
            .get(&(tenant.clone(), job_id.clone()))
            .cloned())
    }

    async fn put(
        &self,
        schedule: &Schedule,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (schedule.tenant.clone(), schedule.job_id.clone());
        if !state.jobs.contains_key(&key) {
            return Err(RepositoryError::MissingReference);
        }
        match (state.schedules.get(&key), expected_version) {
            (None, None) => {}
            (Some(_), None) => return Err(RepositoryError::AlreadyExists),
            (None, Some(_)) => return Err(RepositoryError::NotFound),
            (Some(current), Some(v)) if current.version != v => {
                return Err(RepositoryError::VersionMismatch {
                    current: current.version,
                });
            }
            (Some(_), Some(_)) => {}
        }
        state.schedules.insert(key, schedule.clone());
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), job_id.clone());
        let current = state.schedules.get(&key).ok_or(RepositoryError::NotFound)?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        state.schedules.remove(&key);
        Ok(())
    }
}

/// EventBridge Scheduler in memory: the schedules it holds, and failures
/// on demand.
#[derive(Default)]
pub struct FakeScheduler {
    schedules: Mutex<BTreeMap<(TenantId, JobId), Schedule>>,
    unavailable: std::sync::atomic::AtomicBool,
}

impl FakeScheduler {
    pub fn get(&self, tenant: &TenantId, job_id: &JobId) -> Option<Schedule> {
        self.schedules
            .lock()
            .unwrap()
            .get(&(tenant.clone(), job_id.clone()))
            .cloned()
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable
            .store(unavailable, std::sync::atomic::Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), SchedulerError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SchedulerError::Unavailable("scheduler down".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl Scheduler for FakeScheduler {
    async fn upsert(&self, schedule: &Schedule) -> Result<(), SchedulerError> {
        self.check()?;
        self.schedules.lock().unwrap().insert(
            (schedule.tenant.clone(), schedule.job_id.clone()),
            schedule.clone(),
        );
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, job_id: &JobId) -> Result<(), SchedulerError> {
        self.check()?;
        self.schedules
            .lock()
            .unwrap()
            .remove(&(tenant.clone(), job_id.clone()));
        Ok(())
    }
}

#[async_trait]
impl RunRepository for MemoryStore {
    async fn create(&self, run: &Run) -> Result<Created<Run>, RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (run.tenant.clone(), run.id.clone());
        if let Some(existing) = state.runs.get(&key) {
            return Ok(Created::Existing(existing.clone()));
        }
        state.runs.insert(key, run.clone());
        Ok(Created::New(run.clone()))
    }

    async fn get(&self, tenant: &TenantId, id: &RunId) -> Result<Option<Run>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state.runs.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn list_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        limit: usize,
        before: Option<&RunId>,
    ) -> Result<RunPage, RepositoryError> {
        let state = self.state.lock().unwrap();
        let mut items: Vec<Run> = state
            .runs
            .iter()
            .rev()
            .filter(|((t, id), r)| {
                t == tenant && &r.job_id == job_id && before.is_none_or(|b| id < b)
            })
            .map(|(_, r)| r.clone())
            .take(limit + 1)
            .collect();
        let next_after = (items.len() > limit).then(|| {
            items.truncate(limit);
            items[limit - 1].id.clone()
        });
        Ok(RunPage { items, next_after })
    }

    async fn update(&self, run: &Run, expected_version: u64) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (run.tenant.clone(), run.id.clone());
        let current = state.runs.get(&key).ok_or(RepositoryError::NotFound)?;
        if current.version != expected_version {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        state.runs.insert(key, run.clone());
        Ok(())
    }

    async fn list_active(&self, limit: usize) -> Result<Vec<Run>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .runs
            .values()
            .filter(|r| r.needs_reconciler())
            .take(limit)
            .cloned()
            .collect())
    }

    async fn active_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Run>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .runs
            .iter()
            .rev()
            .find(|((t, _), r)| t == tenant && &r.job_id == job_id && r.state.is_active())
            .map(|(_, r)| r.clone()))
    }

    async fn claim_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
        stale: Option<&RunId>,
    ) -> Result<SlotClaim, RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), job_id.clone());
        match state.slots.get(&key) {
            Some(holder) if holder != run && Some(holder) != stale => {
                Ok(SlotClaim::HeldBy(holder.clone()))
            }
            _ => {
                state.slots.insert(key, run.clone());
                Ok(SlotClaim::Claimed)
            }
        }
    }

    async fn release_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (tenant.clone(), job_id.clone());
        if state.slots.get(&key) == Some(run) {
            state.slots.remove(&key);
        }
        Ok(())
    }
}

/// A Flink cluster in memory: records submissions, answers statuses set by
/// the test, and fails on demand. It takes sealed scripts, or plaintext
/// ones when built with [`FakeFlink::plaintext`]. Like the real targets it
/// starts at most one job per [`Submission`] (named by its
/// [`Submission::flink_job_id`]): submitting one again answers with its job.
#[derive(Default)]
pub struct FakeFlink {
    inner: Mutex<FakeFlinkState>,
    transport: ScriptTransport,
}

/// What a cancel does to a job in progress on [`FakeFlink`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CancelEffect {
    /// The job ends `CANCELED` at once.
    #[default]
    Cancels,
    /// The job finished before the cancel reached it: it ends `FINISHED`.
    Finishes,
    /// The job stays in progress (Flink's `CANCELLING`) until the test
    /// sets its state.
    Lingers,
}

#[derive(Default)]
struct FakeFlinkState {
    submissions: Vec<(JobId, RunId, String)>,
    settings: Vec<SubmitSettings>,
    submit_calls: usize,
    statuses: BTreeMap<String, FlinkJobStatus>,
    canceled: Vec<String>,
    cancel_effect: CancelEffect,
    unreachable: bool,
    reject: Option<String>,
    lost_answers: usize,
}

impl FakeFlink {
    /// A target that takes plaintext scripts (like a SQL Gateway).
    pub fn plaintext() -> Self {
        Self {
            transport: ScriptTransport::Plaintext,
            ..Self::default()
        }
    }

    /// Every job started, one per submission: (job, run, script as
    /// submitted).
    pub fn submissions(&self) -> Vec<(JobId, RunId, String)> {
        self.inner.lock().unwrap().submissions.clone()
    }

    /// How often `submit` was called, duplicates included.
    pub fn submit_calls(&self) -> usize {
        self.inner.lock().unwrap().submit_calls
    }

    /// The settings of every job started, in order.
    pub fn settings(&self) -> Vec<SubmitSettings> {
        self.inner.lock().unwrap().settings.clone()
    }

    pub fn canceled(&self) -> Vec<String> {
        self.inner.lock().unwrap().canceled.clone()
    }

    pub fn set_unreachable(&self, unreachable: bool) {
        self.inner.lock().unwrap().unreachable = unreachable;
    }

    pub fn reject_with(&self, reason: &str) {
        self.inner.lock().unwrap().reject = Some(reason.to_owned());
    }

    /// The next `n` submissions start their job but their answer is lost
    /// (a timeout): `submit` says `Unreachable`.
    pub fn lose_answers(&self, n: usize) {
        self.inner.lock().unwrap().lost_answers = n;
    }

    /// What cancels do from now on.
    pub fn on_cancel(&self, effect: CancelEffect) {
        self.inner.lock().unwrap().cancel_effect = effect;
    }

    pub fn set_status(&self, flink_job_id: &str, state: FlinkJobState, rows: Option<u64>) {
        self.inner.lock().unwrap().statuses.insert(
            flink_job_id.to_owned(),
            FlinkJobStatus {
                state,
                rows_read: rows,
                rows_written: rows,
                failure: (state == FlinkJobState::Failed).then(|| "boom".to_owned()),
                tables: Vec::new(),
            },
        );
    }

    /// Sets the per-table rows of a job whose status is set.
    pub fn set_tables(&self, flink_job_id: &str, tables: Vec<crate::ports::FlinkTableRows>) {
        if let Some(status) = self.inner.lock().unwrap().statuses.get_mut(flink_job_id) {
            status.tables = tables;
        }
    }
}

#[async_trait]
impl FlinkSubmitter for FakeFlink {
    fn transport(&self) -> ScriptTransport {
        self.transport
    }

    async fn submit(
        &self,
        submission: &Submission,
        script: &str,
        settings: &SubmitSettings,
    ) -> Result<String, FlinkError> {
        let mut inner = self.inner.lock().unwrap();
        if inner.unreachable {
            return Err(FlinkError::Unreachable("connection refused".into()));
        }
        if let Some(reason) = &inner.reject {
            return Err(FlinkError::Rejected(reason.clone()));
        }
        inner.submit_calls += 1;
        let id = submission.flink_job_id();
        // A duplicate starts nothing: the job is adopted.
        if !inner.statuses.contains_key(&id) {
            inner.submissions.push((
                submission.job_id.clone(),
                submission.run_id.clone(),
                script.to_owned(),
            ));
            inner.settings.push(*settings);
            inner.statuses.insert(
                id.clone(),
                FlinkJobStatus {
                    state: FlinkJobState::InProgress,
                    rows_read: None,
                    rows_written: None,
                    failure: None,
                    tables: Vec::new(),
                },
            );
        }
        if inner.lost_answers > 0 {
            inner.lost_answers -= 1;
            return Err(FlinkError::Unreachable("the answer timed out".into()));
        }
        Ok(id)
    }
}

#[async_trait]
impl FlinkJobs for FakeFlink {
    async fn find(&self, submission: &Submission) -> Result<Option<String>, FlinkError> {
        let inner = self.inner.lock().unwrap();
        if inner.unreachable {
            return Err(FlinkError::Unreachable("connection refused".into()));
        }
        let id = submission.flink_job_id();
        Ok(inner.statuses.contains_key(&id).then_some(id))
    }

    async fn status(&self, flink_job_id: &str) -> Result<FlinkJobStatus, FlinkError> {
        let inner = self.inner.lock().unwrap();
        if inner.unreachable {
            return Err(FlinkError::Unreachable("connection refused".into()));
        }
        inner
            .statuses
            .get(flink_job_id)
            .cloned()
            .ok_or(FlinkError::UnknownJob)
    }

    async fn cancel(&self, flink_job_id: &str) -> Result<(), FlinkError> {
        let mut inner = self.inner.lock().unwrap();
        inner.canceled.push(flink_job_id.to_owned());
        let effect = inner.cancel_effect;
        if let Some(status) = inner.statuses.get_mut(flink_job_id)
            && status.state == FlinkJobState::InProgress
        {
            status.state = match effect {
                CancelEffect::Cancels => FlinkJobState::Canceled,
                CancelEffect::Finishes => FlinkJobState::Finished,
                CancelEffect::Lingers => FlinkJobState::InProgress,
            };
        }
        Ok(())
    }
}

/// A trigger invoker that records the events it was given.
#[derive(Default)]
pub struct RecordingInvoker {
    events: Mutex<Vec<serde_json::Value>>,
}

impl RecordingInvoker {
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.events.lock().unwrap().clone()
    }
}

#[async_trait]
impl TriggerInvoker for RecordingInvoker {
    async fn invoke(
        &self,
        event: &crate::model::trigger_event::TriggerEvent,
    ) -> Result<(), crate::ports::BoxError> {
        // Recorded as the wire shape the trigger reads.
        let wire = serde_json::to_value(event).expect("events serialize");
        self.events.lock().unwrap().push(wire);
        Ok(())
    }
}

/// Run metrics kept as the changes they observed.
#[derive(Default)]
pub struct RecordingRunMetrics {
    observed: Mutex<Vec<RunStateChange>>,
}

impl RecordingRunMetrics {
    pub fn observed(&self) -> Vec<RunStateChange> {
        self.observed.lock().unwrap().clone()
    }
}

impl crate::ports::RunMetrics for RecordingRunMetrics {
    fn observe(&self, change: &RunStateChange) {
        self.observed.lock().unwrap().push(change.clone());
    }
}

/// The key of a report item: tenant, job (`None`: tenant-wide), width, bucket start.
type ReportKey = (
    TenantId,
    Option<JobId>,
    crate::model::report::Granularity,
    DateTime<Utc>,
);

/// Report counters in memory, keyed as the DynamoDB adapter keys its items.
#[derive(Default)]
pub struct MemoryRunReports {
    items: Mutex<BTreeMap<ReportKey, crate::model::report::Counters>>,
}

#[async_trait]
impl crate::ports::RunReports for MemoryRunReports {
    async fn record(&self, end: &crate::model::report::RunEnd) -> Result<(), RepositoryError> {
        let mut items = self.items.lock().unwrap();
        for (job, grain, start) in end.buckets() {
            let key = (end.tenant.clone(), job.cloned(), grain, start);
            items.entry(key).or_default().add(end);
        }
        Ok(())
    }

    async fn counters(
        &self,
        query: &crate::model::report::ReportQuery,
    ) -> Result<BTreeMap<DateTime<Utc>, crate::model::report::Counters>, RepositoryError> {
        let items = self.items.lock().unwrap();
        Ok(items
            .iter()
            .filter(|((tenant, job, grain, start), _)| {
                *tenant == query.tenant
                    && *job == query.job_id
                    && *grain == query.granularity
                    && (query.from..query.to).contains(start)
            })
            .map(|((_, _, _, start), counters)| (*start, counters.clone()))
            .collect())
    }
}

/// Run events kept in publish order; can be made to fail.
#[derive(Default)]
pub struct RecordingRunEvents {
    changes: Mutex<Vec<RunStateChange>>,
    failing: std::sync::atomic::AtomicBool,
}

impl RecordingRunEvents {
    /// What was published, in order.
    pub fn changes(&self) -> Vec<RunStateChange> {
        self.changes.lock().unwrap().clone()
    }

    /// `(previous, state)` of each change published for `run`, in order.
    pub fn states_of(&self, run: &RunId) -> Vec<(Option<RunState>, RunState)> {
        self.changes()
            .into_iter()
            .filter(|c| &c.run_id == run)
            .map(|c| (c.previous_state, c.state))
            .collect()
    }

    /// Every publish fails from now on (or succeeds again).
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl RunEvents for RecordingRunEvents {
    async fn publish(&self, change: &RunStateChange) -> Result<(), crate::ports::BoxError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("the event bus is unavailable".into());
        }
        self.changes.lock().unwrap().push(change.clone());
        Ok(())
    }
}

/// A run preparer that records each request and answers ready (nothing
/// created, nothing added): what a test of the trigger's calls needs.
#[derive(Default)]
pub struct RecordingPreparer {
    requests: Mutex<Vec<(SourceId, SourceId, crate::model::discovery::RunPreparation)>>,
}

impl RecordingPreparer {
    pub fn requests(&self) -> Vec<(SourceId, SourceId, crate::model::discovery::RunPreparation)> {
        self.requests.lock().unwrap().clone()
    }
}

#[async_trait]
impl crate::ports::RunPreparer for RecordingPreparer {
    async fn prepare_run(
        &self,
        _: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        request: &crate::model::discovery::RunPreparation,
    ) -> Result<crate::model::discovery::Preparation, crate::ports::PrepareError> {
        self.requests
            .lock()
            .unwrap()
            .push((source_id.clone(), target_id.clone(), request.clone()));
        Ok(crate::model::discovery::Preparation::Ready {
            created: false,
            added: Vec::new(),
            current: None,
            tables: Vec::new(),
        })
    }
}

/// One tenant's page of a map ordered by (tenant, id).
fn page<K: Ord + Clone, V: Clone>(
    map: &BTreeMap<(TenantId, K), V>,
    tenant: &TenantId,
    limit: usize,
    after: Option<&K>,
    id_of: impl Fn(&V) -> K,
) -> (Vec<V>, Option<K>) {
    let mut items: Vec<V> = map
        .iter()
        .filter(|((t, id), _)| t == tenant && after.is_none_or(|a| id > a))
        .map(|(_, v)| v.clone())
        .take(limit + 1)
        .collect();
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        id_of(&items[limit - 1])
    });
    (items, next)
}

/// A sealer that records the contexts it was asked to seal under. Its
/// "ciphertext" is the plaintext reversed plus a counter, so two seals differ;
/// use `sluice-crypto` for real envelope encryption.
#[derive(Default)]
pub struct FakeSealer {
    contexts: Mutex<Vec<EncryptionContext>>,
}

impl FakeSealer {
    pub fn contexts(&self) -> Vec<EncryptionContext> {
        self.contexts.lock().unwrap().clone()
    }
}

#[async_trait]
impl SecretSealer for FakeSealer {
    async fn seal(
        &self,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<SealedSecrets, SealError> {
        let mut contexts = self.contexts.lock().unwrap();
        contexts.push(context.clone());
        Ok(SealedSecrets {
            ciphertext: plaintext.iter().rev().copied().collect(),
            nonce: (contexts.len() as u64).to_be_bytes().to_vec(),
            encrypted_data_key: context.canonical_bytes(),
            key_id: "fake".into(),
            algorithm: "FAKE".into(),
        })
    }

    async fn open(
        &self,
        context: &EncryptionContext,
        sealed: &SealedSecrets,
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.encrypted_data_key != context.canonical_bytes() {
            return Err(SealError::Tampered);
        }
        Ok(Zeroizing::new(
            sealed.ciphertext.iter().rev().copied().collect(),
        ))
    }
}

/// A clock that moves only when a test moves it.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self(Mutex::new(now))
    }

    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub DateTime<Utc>);

impl Default for FixedClock {
    fn default() -> Self {
        Self(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A source probe that answers from what a test sets, and records which
/// secrets (names and values) each call received, for tests that check the
/// right secrets were opened.
#[derive(Default)]
pub struct FakeProbe {
    state: Mutex<ProbeState>,
}

#[derive(Default)]
struct ProbeState {
    objects: Vec<crate::model::discovery::ObjectRef>,
    descriptions: BTreeMap<String, crate::model::discovery::ObjectDescription>,
    unreachable: Option<crate::model::discovery::Check>,
    seen: Vec<(String, Vec<(String, String)>)>,
    ddl: Vec<String>,
    /// Rows per object for `count_rows`, and the counts asked for.
    row_counts: BTreeMap<String, u64>,
    counted: Vec<crate::model::discovery::RowCount>,
}

impl FakeProbe {
    /// What `count_rows` answers for `object` (whatever its window).
    pub fn set_rows(&self, object: &str, rows: u64) {
        self.state
            .lock()
            .unwrap()
            .row_counts
            .insert(object.to_owned(), rows);
    }

    /// The counts asked for, in order.
    pub fn counted(&self) -> Vec<crate::model::discovery::RowCount> {
        self.state.lock().unwrap().counted.clone()
    }

    pub fn with_object(self, description: crate::model::discovery::ObjectDescription) -> Self {
        {
            let mut state = self.state.lock().unwrap();
            state.objects.push(crate::model::discovery::ObjectRef {
                name: description.name.clone(),
                kind: description.kind,
            });
            state.objects.sort_by(|a, b| a.name.cmp(&b.name));
            state
                .descriptions
                .insert(description.name.clone(), description);
        }
        self
    }

    /// Adds or replaces an object (a table whose columns changed).
    pub fn put_object(&self, description: crate::model::discovery::ObjectDescription) {
        let mut state = self.state.lock().unwrap();
        state.objects.retain(|o| o.name != description.name);
        state.objects.push(crate::model::discovery::ObjectRef {
            name: description.name.clone(),
            kind: description.kind,
        });
        state.objects.sort_by(|a, b| a.name.cmp(&b.name));
        state
            .descriptions
            .insert(description.name.clone(), description);
    }

    /// The object, as `describe` would answer.
    pub fn object(&self, name: &str) -> Option<crate::model::discovery::ObjectDescription> {
        self.state.lock().unwrap().descriptions.get(name).cloned()
    }

    /// The DDL statements made, as `create <table>` and `add <table>.<column>`.
    pub fn ddl(&self) -> Vec<String> {
        self.state.lock().unwrap().ddl.clone()
    }

    /// Every later call fails this check.
    pub fn set_unreachable(&self, check: Option<crate::model::discovery::Check>) {
        self.state.lock().unwrap().unreachable = check;
    }

    /// (source name, secrets as name/value pairs) of every call.
    pub fn seen(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.state.lock().unwrap().seen.clone()
    }

    fn record(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
    ) -> Option<crate::model::discovery::Check> {
        use secrecy::ExposeSecret;
        let pairs = secrets
            .names()
            .into_iter()
            .map(|n| {
                let value = secrets.get(&n).unwrap().expose_secret().to_owned();
                (n, value)
            })
            .collect();
        let mut state = self.state.lock().unwrap();
        state.seen.push((source.name.clone(), pairs));
        state.unreachable.clone()
    }
}

#[async_trait]
impl crate::ports::SourceProbe for FakeProbe {
    async fn test(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
    ) -> crate::model::discovery::ConnectionReport {
        use crate::model::discovery::{Check, ConnectionReport};
        let checks = match self.record(source, secrets) {
            Some(failed) => vec![failed],
            None => vec![Check::passed("connect", "connected")],
        };
        ConnectionReport::new(1, Some("fake 1.0".into()), checks)
    }

    async fn list(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
        query: &crate::model::discovery::ObjectQuery,
    ) -> Result<crate::model::discovery::ObjectPage, crate::ports::DiscoveryError> {
        if let Some(failed) = self.record(source, secrets) {
            return Err(crate::ports::DiscoveryError::Unreachable(failed));
        }
        let state = self.state.lock().unwrap();
        let mut items: Vec<_> = state
            .objects
            .iter()
            .filter(|o| query.after.as_ref().is_none_or(|a| &o.name > a))
            .filter(|o| {
                let parts = crate::model::selection::split_object_name(&o.name).unwrap_or_default();
                let own = parts.last().map(String::as_str).unwrap_or(&o.name);
                let schema_ok = match (&query.schema, parts.as_slice()) {
                    (Some(schema), [s, _]) => s == schema,
                    _ => true,
                };
                schema_ok
                    && query
                        .like
                        .as_ref()
                        .is_none_or(|l| crate::model::selection::like_matches(l, own))
            })
            .take(query.limit + 1)
            .cloned()
            .collect();
        let next_after = (items.len() > query.limit).then(|| {
            items.truncate(query.limit);
            items[query.limit - 1].name.clone()
        });
        Ok(crate::model::discovery::ObjectPage { items, next_after })
    }

    async fn describe(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
        name: &str,
    ) -> Result<Option<crate::model::discovery::ObjectDescription>, crate::ports::DiscoveryError>
    {
        if let Some(failed) = self.record(source, secrets) {
            return Err(crate::ports::DiscoveryError::Unreachable(failed));
        }
        Ok(self.state.lock().unwrap().descriptions.get(name).cloned())
    }

    async fn create_table(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
        table: &crate::model::discovery::TableSpec,
    ) -> Result<bool, crate::ports::DiscoveryError> {
        use crate::model::discovery::{ObjectDescription, ObjectKind};
        if let Some(failed) = self.record(source, secrets) {
            return Err(crate::ports::DiscoveryError::Unreachable(failed));
        }
        if self.object(&table.object).is_some() {
            return Ok(false);
        }
        let columns = table.columns.iter().map(fake_column).collect();
        self.put_object(ObjectDescription {
            name: table.object.clone(),
            kind: ObjectKind::Table,
            columns,
            primary_key: table.primary_key.clone(),
        });
        let mut state = self.state.lock().unwrap();
        state.ddl.push(format!("create {}", table.object));
        Ok(true)
    }

    async fn add_columns(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
        object: &str,
        columns: &[crate::model::discovery::TableColumn],
    ) -> Result<Vec<String>, crate::ports::DiscoveryError> {
        if let Some(failed) = self.record(source, secrets) {
            return Err(crate::ports::DiscoveryError::Unreachable(failed));
        }
        let mut state = self.state.lock().unwrap();
        let Some(table) = state.descriptions.get_mut(object) else {
            return Err(crate::ports::DiscoveryError::Invalid {
                field: "object",
                reason: format!("no table {object}"),
            });
        };
        let mut added = Vec::new();
        for column in columns {
            if table.columns.iter().all(|c| c.name != column.name) {
                table.columns.push(fake_column(column));
                added.push(column.name.clone());
            }
        }
        let ddl: Vec<String> = added.iter().map(|n| format!("add {object}.{n}")).collect();
        state.ddl.extend(ddl);
        Ok(added)
    }

    async fn count_rows(
        &self,
        source: &Source,
        secrets: &crate::Secrets,
        counts: &[crate::model::discovery::RowCount],
    ) -> Result<Vec<u64>, crate::ports::DiscoveryError> {
        if let Some(failed) = self.record(source, secrets) {
            return Err(crate::ports::DiscoveryError::Unreachable(failed));
        }
        let mut state = self.state.lock().unwrap();
        state.counted.extend(counts.iter().cloned());
        counts
            .iter()
            .map(|count| {
                state.row_counts.get(&count.object).copied().ok_or_else(|| {
                    crate::ports::DiscoveryError::Invalid {
                        field: "object",
                        reason: format!("no table {}", count.object),
                    }
                })
            })
            .collect()
    }
}

/// A created column as the fake describes it: its Flink type as native.
fn fake_column(
    column: &crate::model::discovery::TableColumn,
) -> crate::model::discovery::DiscoveredColumn {
    crate::model::discovery::DiscoveredColumn {
        name: column.name.clone(),
        native_type: column.flink_type.clone(),
        nullable: column.nullable,
        primary_key_position: None,
        proposal: crate::model::discovery::TypeProposal::Supported {
            flink_type: column.flink_type.clone(),
        },
    }
}

/// The target table of a job without a mapping, as a compiler would plan
/// it: the source's columns, nullable but the key's (for test compilers).
pub fn plain_target_table(spec: &crate::model::job::JobSpec) -> crate::model::discovery::TableSpec {
    let primary_key = spec.target.primary_key.clone().unwrap_or_default();
    crate::model::discovery::TableSpec {
        object: spec.target.object.clone(),
        columns: spec
            .source
            .columns
            .iter()
            .map(|c| crate::model::discovery::TableColumn {
                name: c.name.clone(),
                flink_type: c.type_name.clone(),
                nullable: !primary_key.contains(&c.name),
            })
            .collect(),
        primary_key,
    }
}

#[async_trait]
impl crate::ports::NotificationRepository for MemoryStore {
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Notifications>, RepositoryError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .notifications
            .get(&(tenant.clone(), job_id.clone()))
            .cloned())
    }

    async fn put(
        &self,
        settings: &Notifications,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.state.lock().unwrap();
        let key = (settings.tenant.clone(), settings.job_id.clone());
        if !state.jobs.contains_key(&key) {
            return Err(RepositoryError::MissingReference);
        }
        match (state.notifications.get(&key), expected_version) {
            (None, None) => {}
            (Some(_), None) => return Err(RepositoryError::AlreadyExists),
            (None, Some(_)) => return Err(RepositoryError::NotFound),
            (Some(current), Some(v)) if current.version != v => {
                return Err(RepositoryError::VersionMismatch {
                    current: current.version,
                });
            }
            (Some(_), Some(_)) => {}
        }
        state.notifications.insert(key, settings.clone());
        Ok(())
    }
}

/// Claims per run: held until, sent.
type Claims = BTreeMap<(TenantId, RunId), (DateTime<Utc>, bool)>;

/// The notifier's ledger in memory: claims per run, alert state per job.
#[derive(Default)]
pub struct MemoryAlertLedger {
    claims: Mutex<Claims>,
    states: Mutex<BTreeMap<(TenantId, JobId), AlertState>>,
}

impl MemoryAlertLedger {
    /// The runs whose notices were marked sent.
    pub fn completed(&self) -> Vec<RunId> {
        self.claims
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, (_, done))| *done)
            .map(|((_, run), _)| run.clone())
            .collect()
    }
}

#[async_trait]
impl crate::ports::AlertLedger for MemoryAlertLedger {
    async fn claim(
        &self,
        tenant: &TenantId,
        run: &RunId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<crate::ports::NoticeClaim, RepositoryError> {
        let mut claims = self.claims.lock().unwrap();
        let key = (tenant.clone(), run.clone());
        match claims.get(&key) {
            Some((held_until, done)) if *done || *held_until > now => {
                Ok(crate::ports::NoticeClaim::Taken)
            }
            _ => {
                claims.insert(key, (until, false));
                Ok(crate::ports::NoticeClaim::Claimed)
            }
        }
    }

    async fn complete(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError> {
        let mut claims = self.claims.lock().unwrap();
        claims
            .entry((tenant.clone(), run.clone()))
            .or_insert((Utc::now(), true))
            .1 = true;
        Ok(())
    }

    async fn release(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError> {
        let mut claims = self.claims.lock().unwrap();
        let key = (tenant.clone(), run.clone());
        if claims.get(&key).is_some_and(|(_, sent)| !sent) {
            claims.remove(&key);
        }
        Ok(())
    }

    async fn state(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<AlertState, RepositoryError> {
        Ok(self
            .states
            .lock()
            .unwrap()
            .get(&(tenant.clone(), job_id.clone()))
            .cloned()
            .unwrap_or_default())
    }

    async fn save_state(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        state: &AlertState,
    ) -> Result<(), RepositoryError> {
        let mut states = self.states.lock().unwrap();
        let key = (tenant.clone(), job_id.clone());
        let current = states.get(&key).map_or(0, |s| s.version);
        if current + 1 != state.version {
            return Err(RepositoryError::VersionMismatch { current });
        }
        states.insert(key, state.clone());
        Ok(())
    }
}

/// Channels that record every attempt (channel label, notice, the secret it was signed with)
/// and fail the first attempts of a channel as a test scripts it.
#[derive(Default)]
pub struct RecordingChannels {
    attempts: Mutex<Vec<(String, Notice, Option<String>)>>,
    /// Per channel label: failures still to answer, and whether they are retryable.
    failures: Mutex<BTreeMap<String, (u32, bool)>>,
}

impl RecordingChannels {
    /// The next `times` attempts to `label` fail (`retryable` or not).
    pub fn fail(&self, label: &str, times: u32, retryable: bool) {
        self.failures
            .lock()
            .unwrap()
            .insert(label.to_owned(), (times, retryable));
    }

    /// Every attempt: (channel label, notice, signing secret).
    pub fn attempts(&self) -> Vec<(String, Notice, Option<String>)> {
        self.attempts.lock().unwrap().clone()
    }

    /// The notices delivered (attempts that succeeded), by channel label.
    pub fn delivered(&self) -> Vec<(String, Notice)> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(label, ..)| !label.starts_with('!'))
            .map(|(label, notice, _)| (label.clone(), notice.clone()))
            .collect()
    }
}

#[async_trait]
impl crate::ports::NoticeChannels for RecordingChannels {
    async fn deliver(
        &self,
        channel: &Channel,
        notice: &Notice,
        signing_secret: Option<&secrecy::SecretString>,
    ) -> Result<(), crate::ports::DeliveryError> {
        use secrecy::ExposeSecret;
        let label = channel.label();
        let secret = signing_secret.map(|s| s.expose_secret().to_owned());
        let mut failures = self.failures.lock().unwrap();
        if let Some((left, retryable)) = failures.get_mut(&label)
            && *left > 0
        {
            *left -= 1;
            let retryable = *retryable;
            self.attempts
                .lock()
                .unwrap()
                .push((format!("!{label}"), notice.clone(), secret));
            return Err(crate::ports::DeliveryError {
                message: "the receiver answered 500".into(),
                retryable,
            });
        }
        self.attempts
            .lock()
            .unwrap()
            .push((label, notice.clone(), secret));
        Ok(())
    }
}

/// A pause that returns at once and records how long it was asked to wait.
#[derive(Default)]
pub struct RecordingPause(Mutex<Vec<std::time::Duration>>);

impl RecordingPause {
    pub fn pauses(&self) -> Vec<std::time::Duration> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl crate::ports::Pause for RecordingPause {
    async fn pause(&self, duration: std::time::Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

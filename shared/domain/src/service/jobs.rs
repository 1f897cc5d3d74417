//! The job use cases, each with its own error enum.

use crate::service::validation::check_validate;
use std::sync::Arc;

use crate::model::discovery::{DiscoveredColumn, ObjectKind, ObjectQuery, TypeProposal};
use crate::model::job::Column;
use crate::model::job::{FlinkTarget, Job, JobId, JobSpec, Window};
use crate::model::run::RunId;
use crate::model::schedule::Schedule;
use crate::model::selection::{MAX_TABLES, ObjectEntry, SelectedEntry, Selection};
use crate::model::validation::{FieldError, ValidationErrors, check_text};
use crate::ports::{
    Clock, JobCompiler, JobPage, JobRepository, RenderError, RepositoryError, RunRepository,
    SecretExposure, SourceRepository,
};
use crate::ports::{ScheduleRepository, Scheduler};
use crate::service::discovery::{DiscoverError, MAX_OBJECT_PAGE, SourceDiscovery};
use crate::{Source, SourceId, TenantId};

const NAME_MAX_CHARS: usize = 100;
pub const MAX_PAGE_SIZE: usize = 100;

/// A referenced source that does not exist in the caller's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSource {
    /// `source.source_id` or `target.source_id`.
    pub field: &'static str,
    pub id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateJobError {
    #[error("invalid job: {0}")]
    Invalid(ValidationErrors),
    /// The columns were omitted and could not be discovered.
    #[error("could not discover the source's columns: {0}")]
    Discovery(DiscoverError),
    #[error("{} names no source: {}", .0.field, .0.id)]
    SourceNotFound(MissingSource),
    #[error("could not store the job")]
    Repository(#[source] RepositoryError),
}

/// What saving (creating or replacing) a job can fail at, before the write.
enum SaveJobError {
    Invalid(ValidationErrors),
    SourceNotFound(MissingSource),
    Discovery(DiscoverError),
    Repository(RepositoryError),
}

impl From<SaveJobError> for CreateJobError {
    fn from(e: SaveJobError) -> Self {
        match e {
            SaveJobError::Invalid(e) => Self::Invalid(e),
            SaveJobError::SourceNotFound(m) => Self::SourceNotFound(m),
            SaveJobError::Discovery(e) => Self::Discovery(e),
            SaveJobError::Repository(e) => Self::Repository(e),
        }
    }
}

impl From<SaveJobError> for UpdateJobError {
    fn from(e: SaveJobError) -> Self {
        match e {
            SaveJobError::Invalid(e) => Self::Invalid(e),
            SaveJobError::SourceNotFound(m) => Self::SourceNotFound(m),
            SaveJobError::Discovery(e) => Self::Discovery(e),
            SaveJobError::Repository(e) => Self::Repository(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GetJobError {
    #[error("job {0} not found")]
    NotFound(String),
    #[error("could not read the job")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum ListJobsError {
    #[error("invalid page request: {0}")]
    Invalid(ValidationErrors),
    #[error("could not list jobs")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateJobError {
    #[error("invalid job: {0}")]
    Invalid(ValidationErrors),
    /// The columns were omitted and could not be discovered.
    #[error("could not discover the source's columns: {0}")]
    Discovery(DiscoverError),
    #[error("job {0} not found")]
    NotFound(String),
    #[error("{} names no source: {}", .0.field, .0.id)]
    SourceNotFound(MissingSource),
    #[error("job is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("could not store the job")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshJobError {
    /// Not a multi-table job, or its selection no longer resolves.
    #[error("the job cannot be refreshed: {0}")]
    Invalid(ValidationErrors),
    #[error("could not discover the source's tables: {0}")]
    Discovery(DiscoverError),
    #[error("job {0} not found")]
    NotFound(String),
    #[error("{} names no source: {}", .0.field, .0.id)]
    SourceNotFound(MissingSource),
    #[error("job is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("could not store the job")]
    Repository(#[source] RepositoryError),
}

impl From<UpdateJobError> for RefreshJobError {
    fn from(e: UpdateJobError) -> Self {
        match e {
            UpdateJobError::Invalid(e) => Self::Invalid(e),
            UpdateJobError::Discovery(e) => Self::Discovery(e),
            UpdateJobError::NotFound(id) => Self::NotFound(id),
            UpdateJobError::SourceNotFound(m) => Self::SourceNotFound(m),
            UpdateJobError::VersionMismatch { expected, current } => {
                Self::VersionMismatch { expected, current }
            }
            UpdateJobError::Repository(e) => Self::Repository(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteJobError {
    #[error("job {0} not found")]
    NotFound(String),
    #[error("job is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    /// A run of the job is active: its Flink job would go on writing into
    /// the target of a job that no longer exists. Cancel it first.
    #[error("job {id} has an active run {run}")]
    RunActive { id: String, run: RunId },
    /// The job's EventBridge schedule could not be deleted; the job stays.
    #[error("the scheduler could not be reached")]
    SchedulerUnavailable,
    #[error("could not delete the job")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewSqlError {
    #[error("job {0} not found")]
    NotFound(String),
    /// The job no longer fits its sources (one was edited since).
    #[error("the job no longer renders: {0}")]
    Stale(ValidationErrors),
    #[error("could not render the job: {0}")]
    Render(String),
    #[error("could not read the job or its sources")]
    Repository(#[source] RepositoryError),
}

/// What the jobs use cases need; every port is required, so a main cannot
/// forget one (e.g. the scheduler, and leave schedules behind a deleted job).
pub struct JobsPorts {
    pub jobs: Arc<dyn JobRepository>,
    pub sources: Arc<dyn SourceRepository>,
    /// Where jobs' runs live, so a job with an active run is not deleted.
    pub runs: Arc<dyn RunRepository>,
    /// Deleting a job deletes its EventBridge schedule first (its record
    /// goes in the job's own delete), so no fire arrives for a deleted job.
    pub scheduler: Arc<dyn Scheduler>,
    pub schedules: Arc<dyn ScheduleRepository>,
    pub compiler: Arc<dyn JobCompiler>,
    pub clock: Arc<dyn Clock>,
    /// The deployment's Flink target names a job may choose
    /// (`FlinkTargets::names()`).
    pub flink_targets: Vec<FlinkTarget>,
    /// Reads a table's columns when a job omits them.
    pub discovery: Arc<dyn SourceDiscovery>,
}

/// Jobs: validated against their sources by the compiler, stored with
/// reference counts so a source in use cannot be deleted.
#[derive(Clone)]
pub struct JobsService {
    jobs: Arc<dyn JobRepository>,
    sources: Arc<dyn SourceRepository>,
    runs: Arc<dyn RunRepository>,
    scheduler: Arc<dyn Scheduler>,
    schedules: Arc<dyn ScheduleRepository>,
    compiler: Arc<dyn JobCompiler>,
    clock: Arc<dyn Clock>,
    flink_targets: Arc<[FlinkTarget]>,
    discovery: Arc<dyn SourceDiscovery>,
}

/// What [`JobsService::prepare`] found.
struct Saved {
    source_id: SourceId,
    target_id: SourceId,
    /// The source table's columns, when the job's were discovered.
    snapshot: Option<Vec<DiscoveredColumn>>,
}

/// The two sources a job names, loaded.
struct Endpoints {
    source_id: SourceId,
    source: Source,
    target_id: SourceId,
    target: Source,
}

impl JobsService {
    pub fn new(ports: JobsPorts) -> Self {
        Self {
            jobs: ports.jobs,
            sources: ports.sources,
            runs: ports.runs,
            scheduler: ports.scheduler,
            schedules: ports.schedules,
            compiler: ports.compiler,
            clock: ports.clock,
            flink_targets: ports.flink_targets.into(),
            discovery: ports.discovery,
        }
    }

    /// What saving a job checks: both sources exist in the tenant, the
    /// columns a database table omits are discovered, and the whole spec
    /// fits its sources. The sources' ids, and the table's columns when they
    /// were discovered (the job's snapshot).
    async fn prepare(&self, tenant: &TenantId, spec: &mut JobSpec) -> Result<Saved, SaveJobError> {
        let Endpoints {
            source_id,
            source,
            target_id,
            target,
        } = self
            .resolve(tenant, spec)
            .await
            .map_err(SaveJobError::Repository)?
            .map_err(SaveJobError::SourceNotFound)?;
        let snapshot = if spec.is_multi_table() {
            self.resolve_tables(tenant, &source, &target, spec).await?;
            None
        } else {
            spec.tables.clear();
            self.discover_columns(tenant, &source, spec)
                .await
                .map_err(SaveJobError::Discovery)?
        };
        self.validate(spec, &source, &target)
            .map_err(SaveJobError::Invalid)?;
        Ok(Saved {
            source_id,
            target_id,
            snapshot,
        })
    }

    /// A database table's columns, when the job omits them: each with the
    /// Flink type discovery proposes (a column without one is a 400 naming
    /// it: the job must then list the columns to copy), and the table's
    /// primary key for an upsert that names none.
    async fn discover_columns(
        &self,
        tenant: &TenantId,
        source: &Source,
        spec: &mut JobSpec,
    ) -> Result<Option<Vec<DiscoveredColumn>>, DiscoverError> {
        if !spec.source.columns.is_empty() || !source.kind.has_schema() {
            return Ok(None);
        }
        let described = self
            .discovery
            .describe(tenant, &source.id, &spec.source.object)
            .await
            .map_err(|e| match e {
                DiscoverError::ObjectNotFound(name) => DiscoverError::Invalid(
                    FieldError::new("source.object", format!("the source has no object {name}"))
                        .into(),
                ),
                other => other,
            })?;
        let mut errors = ValidationErrors::new();
        for column in &described.columns {
            match &column.proposal {
                TypeProposal::Supported { flink_type } => spec.source.columns.push(Column {
                    name: column.name.clone(),
                    type_name: flink_type.clone(),
                }),
                TypeProposal::Unsupported { reason } => errors.push(
                    "source.columns",
                    format!(
                        "column {} ({}) cannot be synced: {reason}; list the columns to copy",
                        column.name, column.native_type
                    ),
                ),
            }
        }
        errors.into_result().map_err(DiscoverError::Invalid)?;
        if spec.target.write_mode == crate::model::job::WriteMode::Upsert
            && spec.target.primary_key.is_none()
            && !described.primary_key.is_empty()
        {
            spec.target.primary_key = Some(described.primary_key);
        }
        Ok(Some(described.columns))
    }

    /// A multi-table job's tables (README, "Whole-database and multi-table
    /// jobs"): the selection checked, the names it covers (a pattern listed
    /// through discovery), each table described, its target named; stored
    /// in `spec.tables`, replacing what the request sent there.
    async fn resolve_tables(
        &self,
        tenant: &TenantId,
        source: &Source,
        target: &Source,
        spec: &mut JobSpec,
    ) -> Result<(), SaveJobError> {
        let selection = Selection::check(spec, source, target).map_err(SaveJobError::Invalid)?;
        let entries = match &selection.names {
            Some(entries) => entries.clone(),
            None => self.matching(tenant, &source.id, &selection).await?,
        };
        let names: Vec<String> = entries.iter().map(|e| e.entry.name.clone()).collect();
        let described = self
            .discovery
            .describe_many(tenant, &source.id, &names)
            .await
            .map_err(SaveJobError::Discovery)?;
        let mut errors = ValidationErrors::new();
        let mut tables = Vec::with_capacity(entries.len());
        for (found, described) in entries.iter().zip(described) {
            let Some(described) = described else {
                errors.push(
                    found.field.clone(),
                    format!("the source has no table {}", found.entry.name),
                );
                continue;
            };
            match selection.table(spec, &found.field, &found.entry, described) {
                Ok(table) => tables.push(table),
                Err(e) => e.errors().iter().cloned().for_each(|e| errors.add(e)),
            }
        }
        let mut seen = std::collections::BTreeMap::new();
        for (i, table) in tables.iter().enumerate() {
            if let Some(first) = seen.insert(table.target.clone(), i) {
                errors.push(
                    "target.naming",
                    format!(
                        "names the target of {} and of {} both {}",
                        tables[first].source, table.source, table.target
                    ),
                );
            }
        }
        errors.into_result().map_err(SaveJobError::Invalid)?;
        spec.tables = tables;
        Ok(())
    }

    /// The tables `source.include` matches, less `source.exclude`, in name
    /// order; more than [`MAX_TABLES`] or none is a 400.
    async fn matching(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        selection: &Selection,
    ) -> Result<Vec<SelectedEntry>, SaveJobError> {
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let query = ObjectQuery {
                schema: selection.schema.clone(),
                like: selection.like.clone(),
                limit: MAX_OBJECT_PAGE,
                after,
            };
            let page = self
                .discovery
                .list(tenant, source_id, query)
                .await
                .map_err(SaveJobError::Discovery)?;
            for object in page.items {
                if object.kind != ObjectKind::Table || !selection.keeps(&object.name) {
                    continue;
                }
                found.push(SelectedEntry {
                    field: "source.include".into(),
                    entry: ObjectEntry {
                        name: object.name,
                        primary_key: None,
                        incremental_column: None,
                    },
                });
                if found.len() > MAX_TABLES {
                    return Err(SaveJobError::Invalid(
                        FieldError::new(
                            "source.include",
                            format!(
                                "matches more than {MAX_TABLES} tables, the most a job may \
                                 cover: narrow it, or split the tables over several jobs"
                            ),
                        )
                        .into(),
                    ));
                }
            }
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        if found.is_empty() {
            return Err(SaveJobError::Invalid(
                FieldError::new("source.include", "matches no table of the source").into(),
            ));
        }
        Ok(found)
    }

    async fn resolve(
        &self,
        tenant: &TenantId,
        spec: &JobSpec,
    ) -> Result<Result<Endpoints, MissingSource>, RepositoryError> {
        let mut found = Vec::with_capacity(2);
        for (field, raw) in [
            ("source.source_id", &spec.source.source_id),
            ("target.source_id", &spec.target.source_id),
        ] {
            let missing = || MissingSource {
                field,
                id: printable(raw),
            };
            let Some(id) = SourceId::parse(raw) else {
                return Ok(Err(missing()));
            };
            match self.sources.get(tenant, &id).await? {
                Some(source) => found.push((id, source)),
                None => return Ok(Err(missing())),
            }
        }
        let (target_id, target) = found.pop().expect("two were pushed");
        let (source_id, source) = found.pop().expect("two were pushed");
        Ok(Ok(Endpoints {
            source_id,
            source,
            target_id,
            target,
        }))
    }

    /// Name, then the compiler's checks against both endpoints.
    fn validate(
        &self,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Err(e) = check_text("name", &spec.name, NAME_MAX_CHARS) {
            errors.add(e);
        }
        if let Some(target) = spec.flink_target
            && !self.flink_targets.contains(&target)
        {
            let known: Vec<&str> = self.flink_targets.iter().map(FlinkTarget::as_str).collect();
            errors.add(FieldError::new(
                "flink_target",
                format!(
                    "is not a Flink target of this deployment ({})",
                    known.join(", ")
                ),
            ));
        }
        if let Err(found) = self.compiler.check(spec, source, target) {
            found.errors().iter().cloned().for_each(|e| errors.add(e));
        }
        if let Some(e) = check_validate(spec, source.kind.as_str(), target.kind.as_str()) {
            errors.add(e);
        }
        errors.into_result()
    }

    pub async fn create(
        &self,
        tenant: &TenantId,
        mut spec: JobSpec,
    ) -> Result<Job, CreateJobError> {
        let saved = self.prepare(tenant, &mut spec).await?;
        let now = self.clock.now();
        let job = Job {
            id: JobId::generate(),
            tenant: tenant.clone(),
            spec,
            source_id: saved.source_id,
            target_id: saved.target_id,
            source_snapshot: saved.snapshot,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match self.jobs.insert(&job).await {
            Ok(()) => Ok(job),
            // A source was deleted between the read and the write.
            Err(RepositoryError::MissingReference) => {
                Err(CreateJobError::SourceNotFound(MissingSource {
                    field: "source.source_id",
                    id: job.source_id.to_string(),
                }))
            }
            Err(e) => Err(CreateJobError::Repository(e)),
        }
    }

    pub async fn get(&self, tenant: &TenantId, id: &JobId) -> Result<Job, GetJobError> {
        let not_found = || GetJobError::NotFound(id.to_string());
        self.jobs
            .get(tenant, id)
            .await
            .map_err(GetJobError::Repository)?
            .ok_or_else(not_found)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&JobId>,
    ) -> Result<JobPage, ListJobsError> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ListJobsError::Invalid(
                FieldError::new("limit", format!("must be between 1 and {MAX_PAGE_SIZE}")).into(),
            ));
        }
        self.jobs
            .list(tenant, limit, after)
            .await
            .map_err(ListJobsError::Repository)
    }

    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &JobId,
        mut spec: JobSpec,
        expected_version: Option<u64>,
    ) -> Result<Job, UpdateJobError> {
        let not_found = || UpdateJobError::NotFound(id.to_string());
        let current = self
            .jobs
            .get(tenant, id)
            .await
            .map_err(UpdateJobError::Repository)?
            .ok_or_else(not_found)?;
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            return Err(UpdateJobError::VersionMismatch {
                expected,
                current: current.version,
            });
        }
        let same_table = spec.source.source_id == current.spec.source.source_id
            && spec.source.object == current.spec.source.object;
        let saved = self.prepare(tenant, &mut spec).await?;
        // Columns listed again (a GET's body sent back) keep the snapshot
        // of the same table: what the drift check compares with.
        let snapshot = match saved.snapshot {
            Some(discovered) => Some(discovered),
            None if same_table => current.source_snapshot.clone(),
            None => None,
        };
        let next = Job {
            spec,
            source_id: saved.source_id,
            target_id: saved.target_id,
            source_snapshot: snapshot,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        match self.jobs.update(&next, &current).await {
            Ok(()) => Ok(next),
            Err(RepositoryError::NotFound) => Err(not_found()),
            Err(RepositoryError::VersionMismatch { current: stored }) => {
                Err(UpdateJobError::VersionMismatch {
                    expected: current.version,
                    current: stored,
                })
            }
            Err(RepositoryError::MissingReference) => {
                Err(UpdateJobError::SourceNotFound(MissingSource {
                    field: "source.source_id",
                    id: next.source_id.to_string(),
                }))
            }
            Err(e) => Err(UpdateJobError::Repository(e)),
        }
    }

    /// Resolves a multi-table job's selection again (`POST
    /// /jobs/{id}/refresh`): a pattern's tables listed and every table
    /// described anew, stored as the job's next version.
    pub async fn refresh(
        &self,
        tenant: &TenantId,
        id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<Job, RefreshJobError> {
        let current = self
            .jobs
            .get(tenant, id)
            .await
            .map_err(RefreshJobError::Repository)?
            .ok_or_else(|| RefreshJobError::NotFound(id.to_string()))?;
        if !current.spec.is_multi_table() {
            return Err(RefreshJobError::Invalid(
                FieldError::new(
                    "source",
                    "only a job with source.objects or source.include is refreshed; a \
                     single-table job is rediscovered by a PUT without source.columns",
                )
                .into(),
            ));
        }
        let version = expected_version.unwrap_or(current.version);
        Ok(self.update(tenant, id, current.spec, Some(version)).await?)
    }

    /// Deletes a job with its schedule, at `expected_version` when given.
    /// Refused while a run of the job is active. A run that starts between
    /// that check and the delete finds the job gone when the trigger loads
    /// it, unless the trigger loaded it just before.
    pub async fn delete(
        &self,
        tenant: &TenantId,
        id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), DeleteJobError> {
        let not_found = || DeleteJobError::NotFound(id.to_string());
        let job = self
            .jobs
            .get(tenant, id)
            .await
            .map_err(DeleteJobError::Repository)?
            .ok_or_else(not_found)?;
        if let Some(expected) = expected_version
            && expected != job.version
        {
            return Err(DeleteJobError::VersionMismatch {
                expected,
                current: job.version,
            });
        }
        self.ensure_no_active_run(tenant, id).await?;
        let unscheduled = self.unschedule(tenant, id).await?;
        let deleted = self.jobs.delete(tenant, id, expected_version).await;
        if deleted.is_err()
            && let Some(schedule) = unscheduled
            && let Err(e) = self.scheduler.upsert(&schedule).await
        {
            // The job stays: its schedule must come back.
            tracing::error!(error = %e, job_id = %id, "could not restore the schedule of a job that was not deleted");
        }
        match deleted {
            Ok(()) => Ok(()),
            Err(RepositoryError::NotFound) => Err(not_found()),
            Err(RepositoryError::VersionMismatch { current }) => {
                Err(DeleteJobError::VersionMismatch {
                    expected: expected_version.unwrap_or_default(),
                    current,
                })
            }
            Err(e) => Err(DeleteJobError::Repository(e)),
        }
    }

    /// `RunActive` while the job has a pending, submitting or running run.
    async fn ensure_no_active_run(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<(), DeleteJobError> {
        match self
            .runs
            .active_for_job(tenant, id)
            .await
            .map_err(DeleteJobError::Repository)?
        {
            Some(run) => Err(DeleteJobError::RunActive {
                id: id.to_string(),
                run: run.id,
            }),
            None => Ok(()),
        }
    }

    /// Deletes the job's EventBridge schedule, if it has one, and returns it
    /// so it can be put back if the job stays.
    async fn unschedule(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<Option<Schedule>, DeleteJobError> {
        let Some(schedule) = self
            .schedules
            .get(tenant, id)
            .await
            .map_err(DeleteJobError::Repository)?
        else {
            return Ok(None);
        };
        self.scheduler.delete(tenant, id).await.map_err(|e| {
            tracing::error!(error = %e, job_id = %id, "could not delete the job's schedule");
            DeleteJobError::SchedulerUnavailable
        })?;
        Ok(Some(schedule))
    }

    /// The script a run would submit now, with every secret masked. An
    /// incremental job is shown with the window of a run at this instant
    /// that follows its start: `[start, now - lag)`.
    pub async fn preview_sql(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<String, PreviewSqlError> {
        let not_found = || PreviewSqlError::NotFound(id.to_string());
        let job = self
            .jobs
            .get(tenant, id)
            .await
            .map_err(PreviewSqlError::Repository)?
            .ok_or_else(not_found)?;
        let load = |sid: SourceId| async move {
            self.sources
                .get(tenant, &sid)
                .await
                .map_err(PreviewSqlError::Repository)?
                .ok_or_else(|| {
                    PreviewSqlError::Stale(
                        FieldError::new(
                            "source.source_id",
                            format!("source {sid} no longer exists"),
                        )
                        .into(),
                    )
                })
        };
        let source = load(job.source_id.clone()).await?;
        let target = load(job.target_id.clone()).await?;
        let window = job.spec.source.incremental.as_ref().map(|inc| {
            let lagged = self.clock.now() - chrono::Duration::seconds(i64::from(inc.lag_seconds));
            Window {
                from: inc.start,
                to: lagged.max(inc.start),
            }
        });
        self.compiler
            .render(
                &job.id,
                &job.spec,
                &source,
                &target,
                window,
                SecretExposure::Masked,
            )
            .map_err(|e| match e {
                RenderError::Invalid(errors) => PreviewSqlError::Stale(errors),
                other => PreviewSqlError::Render(other.to_string()),
            })
    }
}

/// An id as the caller sent it, safe to echo.
fn printable(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{
        FakeFlink, FakeProbe, FakeScheduler, FakeSealer, FixedClock, MemoryStore, RecordingInvoker,
    };
    use crate::model::discovery::ObjectDescription;
    use crate::model::job::*;
    use crate::model::run::RunState;
    use crate::service::discovery::DiscoveryService;
    use crate::service::runs::RunsService;
    use crate::service::sources::{DeleteSourceError, SourceDraft, SourcesService};
    use secrecy::SecretString;
    use serde_json::json;

    /// Accepts every job; renders the ids it was given.
    struct EchoCompiler;

    impl JobCompiler for EchoCompiler {
        fn check(&self, spec: &JobSpec, _: &Source, _: &Source) -> Result<(), ValidationErrors> {
            if spec.source.object.is_empty() && !spec.is_multi_table() {
                return Err(FieldError::new("source.object", "is required").into());
            }
            Ok(())
        }

        fn render(
            &self,
            job_id: &JobId,
            _: &JobSpec,
            source: &Source,
            target: &Source,
            window: Option<Window>,
            _: SecretExposure<'_>,
        ) -> Result<String, RenderError> {
            Ok(format!("{job_id} {} {} {window:?}", source.id, target.id))
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
        sources: SourcesService,
        jobs: JobsService,
        tenant: TenantId,
    }

    fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let clock = Arc::new(FixedClock::default());
        Fixture {
            sources: SourcesService::new(
                store.clone(),
                Arc::new(FakeSealer::default()),
                clock.clone(),
            ),
            jobs: jobs_service(&store, clock, vec![FlinkTarget::DEFAULT_SESSION]),
            store,
            tenant: TenantId::parse("acme").unwrap(),
        }
    }

    fn column(
        name: &str,
        native: &str,
        proposal: TypeProposal,
        key: Option<u32>,
    ) -> DiscoveredColumn {
        DiscoveredColumn {
            name: name.into(),
            native_type: native.into(),
            nullable: key.is_none(),
            primary_key_position: key,
            proposal,
        }
    }

    fn supported(flink_type: &str) -> TypeProposal {
        TypeProposal::Supported {
            flink_type: flink_type.into(),
        }
    }

    /// `public.orders` (a key, an amount, a unicode name) and
    /// `public.shapes` (a geometry column without a Flink type).
    fn probe() -> FakeProbe {
        FakeProbe::default()
            .with_object(ObjectDescription {
                name: "public.orders".into(),
                kind: ObjectKind::Table,
                columns: vec![
                    column("id", "bigint", supported("BIGINT"), Some(1)),
                    column("amount", "numeric(12,2)", supported("DECIMAL(12, 2)"), None),
                    column("prénom", "text", supported("STRING"), None),
                ],
                primary_key: vec!["id".into()],
            })
            .with_object(ObjectDescription {
                name: "public.shapes".into(),
                kind: ObjectKind::Table,
                columns: vec![
                    column("id", "integer", supported("INT"), Some(1)),
                    column(
                        "geom",
                        "geometry",
                        TypeProposal::Unsupported {
                            reason: "geometry has no Flink type".into(),
                        },
                        None,
                    ),
                ],
                primary_key: vec!["id".into()],
            })
    }

    fn jobs_service(
        store: &Arc<MemoryStore>,
        clock: Arc<FixedClock>,
        flink_targets: Vec<FlinkTarget>,
    ) -> JobsService {
        jobs_service_over(store, clock, flink_targets, Arc::new(probe()))
    }

    fn jobs_service_over(
        store: &Arc<MemoryStore>,
        clock: Arc<FixedClock>,
        flink_targets: Vec<FlinkTarget>,
        probe: Arc<FakeProbe>,
    ) -> JobsService {
        let sealer = Arc::new(FakeSealer::default());
        let discovery = DiscoveryService::new(store.clone(), sealer, probe, clock.clone());
        JobsService::new(JobsPorts {
            jobs: store.clone(),
            sources: store.clone(),
            runs: store.clone(),
            scheduler: Arc::new(FakeScheduler::default()),
            schedules: store.clone(),
            compiler: Arc::new(EchoCompiler),
            clock,
            flink_targets,
            discovery: Arc::new(discovery),
        })
    }

    impl Fixture {
        async fn source(&self) -> String {
            let mut secrets = crate::Secrets::new();
            secrets.insert("password", SecretString::from("p"));
            let draft = SourceDraft {
                name: "db".into(),
                kind: "postgres".into(),
                config: json!({"host": "h", "database": "d", "username": "u"})
                    .as_object()
                    .unwrap()
                    .clone(),
                secrets: Some(secrets),
            };
            self.sources
                .register(&self.tenant, draft)
                .await
                .unwrap()
                .id
                .to_string()
        }
    }

    fn spec(source: &str, target: &str) -> JobSpec {
        serde_json::from_value(json!({
            "name": "copy orders",
            "source": {"source_id": source, "object": "public.orders",
                       "columns": [{"name": "id", "type": "BIGINT"}]},
            "target": {"source_id": target, "object": "orders", "write_mode": "append"},
            "options": {"mode": "batch"}
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn create_needs_both_sources_in_the_tenant() {
        let f = fixture();
        let a = f.source().await;
        let err = f
            .jobs
            .create(&f.tenant, spec(&a, "src_01J0000000000000000000000A"))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            CreateJobError::SourceNotFound(MissingSource {
                field: "target.source_id",
                ..
            })
        ));
        let other = TenantId::parse("globex").unwrap();
        let err = f.jobs.create(&other, spec(&a, &a)).await.unwrap_err();
        assert!(matches!(
            err,
            CreateJobError::SourceNotFound(MissingSource {
                field: "source.source_id",
                ..
            })
        ));
        let mut bad = spec(&a, &a);
        bad.source.object.clear();
        bad.name = "".into();
        let Err(CreateJobError::Invalid(errors)) = f.jobs.create(&f.tenant, bad).await else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "source.object"]);
        assert_eq!(f.store.job_count(), 0);
    }

    #[tokio::test]
    async fn a_job_may_name_only_a_configured_flink_target() {
        let mut f = fixture();
        let names = ["gw", "local"].map(|n| crate::model::job::FlinkTarget::parse(n).unwrap());
        f.jobs = jobs_service(&f.store, Arc::new(FixedClock::default()), names.into());
        let a = f.source().await;
        let on = |target: Option<&str>| {
            let mut spec = spec(&a, &a);
            spec.flink_target = target.map(|t| crate::model::job::FlinkTarget::parse(t).unwrap());
            spec
        };
        let Err(CreateJobError::Invalid(errors)) =
            f.jobs.create(&f.tenant, on(Some("session"))).await
        else {
            panic!("an unknown target is invalid");
        };
        assert_eq!(errors.errors()[0].field, "flink_target");
        assert!(
            errors.errors()[0].reason.contains("gw, local"),
            "{errors:?}"
        );
        let job = f.jobs.create(&f.tenant, on(Some("gw"))).await.unwrap();
        assert_eq!(job.spec.flink_target.unwrap().as_str(), "gw");
        // No target: the deployment's default, whatever it is.
        f.jobs.create(&f.tenant, on(None)).await.unwrap();
    }

    #[tokio::test]
    async fn a_source_in_use_cannot_be_deleted_until_its_jobs_go() {
        let f = fixture();
        let (a, b, c) = (f.source().await, f.source().await, f.source().await);
        let job = f.jobs.create(&f.tenant, spec(&a, &b)).await.unwrap();
        assert!(matches!(
            f.sources
                .delete(&f.tenant, &SourceId::parse(&a).unwrap(), None)
                .await,
            Err(DeleteSourceError::InUse { jobs: 1, .. })
        ));
        // Moving the job's target from b to c frees b and pins c.
        let moved = f
            .jobs
            .update(&f.tenant, &job.id, spec(&a, &c), Some(1))
            .await
            .unwrap();
        assert_eq!(moved.version, 2);
        f.sources
            .delete(&f.tenant, &SourceId::parse(&b).unwrap(), None)
            .await
            .unwrap();
        assert!(
            f.sources
                .delete(&f.tenant, &SourceId::parse(&c).unwrap(), None)
                .await
                .is_err()
        );

        f.jobs.delete(&f.tenant, &job.id, Some(2)).await.unwrap();
        f.sources
            .delete(&f.tenant, &SourceId::parse(&a).unwrap(), None)
            .await
            .unwrap();
        f.sources
            .delete(&f.tenant, &SourceId::parse(&c).unwrap(), None)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn update_honours_versions() {
        let f = fixture();
        let a = f.source().await;
        let job = f.jobs.create(&f.tenant, spec(&a, &a)).await.unwrap();
        let err = f
            .jobs
            .update(&f.tenant, &job.id, spec(&a, &a), Some(5))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            UpdateJobError::VersionMismatch {
                expected: 5,
                current: 1
            }
        ));
        let err = f
            .jobs
            .delete(&f.tenant, &job.id, Some(5))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            DeleteJobError::VersionMismatch { current: 1, .. }
        ));
    }

    #[tokio::test]
    async fn a_job_with_an_active_run_is_deleted_only_once_the_run_is_canceled() {
        let f = fixture();
        let a = f.source().await;
        let job = f.jobs.create(&f.tenant, spec(&a, &a)).await.unwrap();
        let other = f.jobs.create(&f.tenant, spec(&a, &a)).await.unwrap();
        let clock = Arc::new(FixedClock::default());
        let runs = RunsService::new(
            f.store.clone(),
            f.store.clone(),
            Arc::new(crate::ports::FlinkJobTargets::from(Arc::new(
                FakeFlink::default(),
            ))),
            Arc::new(RecordingInvoker::default()),
            Arc::new(crate::fakes::RecordingRunEvents::default()),
            clock.clone(),
        );
        // Another job's active run and this job's ended runs do not count.
        runs.start(&f.tenant, &other.id, None).await.unwrap();
        let ended = runs.start(&f.tenant, &job.id, None).await.unwrap();
        runs.cancel(&f.tenant, &ended.id).await.unwrap();

        // Pending (a manual run), then submitting and running (the trigger).
        let active = runs.start(&f.tenant, &job.id, None).await.unwrap();
        let mut current = active.clone();
        for next in [None, Some(RunState::Submitting), Some(RunState::Running)] {
            if let Some(state) = next {
                let moved = current.transition(state, clock.now());
                RunRepository::update(&*f.store, &moved, current.version)
                    .await
                    .unwrap();
                current = moved;
            }
            let err = f.jobs.delete(&f.tenant, &job.id, None).await.unwrap_err();
            let DeleteJobError::RunActive { id, run } = err else {
                panic!("{:?}: expected RunActive, got {err:?}", current.state);
            };
            assert_eq!((id.as_str(), &run), (job.id.as_str(), &active.id));
            assert!(f.jobs.get(&f.tenant, &job.id).await.is_ok());
        }

        runs.cancel(&f.tenant, &active.id).await.unwrap();
        f.jobs.delete(&f.tenant, &job.id, None).await.unwrap();
        assert_eq!(f.store.job_count(), 1);
    }

    #[tokio::test]
    async fn preview_windows_incremental_jobs_from_their_start() {
        let f = fixture();
        let a = f.source().await;
        let mut s = spec(&a, &a);
        s.source.incremental = Some(Incremental {
            column: "updated_at".into(),
            start: chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .into(),
            lag_seconds: 60,
        });
        let job = f.jobs.create(&f.tenant, s).await.unwrap();
        let sql = f.jobs.preview_sql(&f.tenant, &job.id).await.unwrap();
        // FixedClock is 2026-01-02T03:04:05Z; minus the 60 s lag.
        assert!(
            sql.contains("from: 2026-01-01T00:00:00Z, to: 2026-01-02T03:03:05Z"),
            "{sql}"
        );
        assert!(matches!(
            f.jobs
                .preview_sql(&TenantId::parse("globex").unwrap(), &job.id)
                .await,
            Err(PreviewSqlError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn omitted_columns_are_discovered_and_stored_with_the_job() {
        let f = fixture();
        let a = f.source().await;
        let mut omitted = spec(&a, &a);
        omitted.source.columns.clear();
        omitted.target.write_mode = WriteMode::Upsert;
        let job = f.jobs.create(&f.tenant, omitted.clone()).await.unwrap();
        let columns: Vec<(&str, &str)> = job
            .spec
            .source
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_name.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                ("id", "BIGINT"),
                ("amount", "DECIMAL(12, 2)"),
                ("prénom", "STRING")
            ]
        );
        assert_eq!(job.spec.target.primary_key, Some(vec!["id".to_owned()]));
        let stored = f.jobs.get(&f.tenant, &job.id).await.unwrap();
        assert_eq!(stored.spec.source.columns, job.spec.source.columns);
        // The table as discovered: what runs compare it with (drift).
        let snapshot = stored.source_snapshot.clone().expect("a snapshot");
        let names: Vec<&str> = snapshot.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "amount", "prénom"]);
        assert_eq!(snapshot[1].native_type, "numeric(12,2)");

        // A PUT that lists columns narrows them and keeps the snapshot of
        // the same table; one that omits them discovers them again.
        let mut narrowed = stored.spec.clone();
        narrowed.source.columns.truncate(1);
        let job = f
            .jobs
            .update(&f.tenant, &job.id, narrowed.clone(), Some(1))
            .await
            .unwrap();
        assert_eq!(job.spec.source.columns.len(), 1);
        assert_eq!(job.source_snapshot, Some(snapshot));
        let mut elsewhere = narrowed;
        elsewhere.source.object = "public.other".into();
        let moved = f.jobs.update(&f.tenant, &job.id, elsewhere, Some(2)).await;
        assert_eq!(moved.unwrap().source_snapshot, None, "another table");
        let _ = &job;

        let mut unsupported = omitted.clone();
        unsupported.source.object = "public.shapes".into();
        let Err(CreateJobError::Discovery(DiscoverError::Invalid(errors))) =
            f.jobs.create(&f.tenant, unsupported).await
        else {
            panic!("a geometry column must be refused");
        };
        assert_eq!(errors.errors()[0].field, "source.columns");
        assert!(errors.errors()[0].reason.contains("geom (geometry)"));

        let mut missing = omitted;
        missing.source.object = "public.nowhere".into();
        let Err(CreateJobError::Discovery(DiscoverError::Invalid(errors))) =
            f.jobs.create(&f.tenant, missing).await
        else {
            panic!("a missing table must be a 400 naming source.object");
        };
        assert_eq!(errors.errors()[0].field, "source.object");
    }

    fn table(name: &str, columns: Vec<DiscoveredColumn>, key: &[&str]) -> ObjectDescription {
        ObjectDescription {
            name: name.into(),
            kind: ObjectKind::Table,
            columns,
            primary_key: key.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    /// `public.orders` and `public.shapes` (as [`probe`]), with
    /// `public.order_items` (a composite key), `public."order.tmp"` (no
    /// key), `sales.orders` and a view.
    fn many() -> Arc<FakeProbe> {
        let id = |k| column("id", "bigint", supported("BIGINT"), k);
        Arc::new(
            probe()
                .with_object(table(
                    "public.order_items",
                    vec![
                        column("order", "bigint", supported("BIGINT"), Some(1)),
                        column("line", "integer", supported("INT"), Some(2)),
                        column("at", "timestamp", supported("TIMESTAMP(6)"), None),
                    ],
                    &["order", "line"],
                ))
                .with_object(table(
                    "public.\"order.tmp\"",
                    vec![column("x", "text", supported("STRING"), None)],
                    &[],
                ))
                .with_object(table("sales.orders", vec![id(Some(1))], &["id"]))
                .with_object(ObjectDescription {
                    kind: ObjectKind::View,
                    ..table("public.order_view", vec![id(None)], &[])
                }),
        )
    }

    fn multi(source: &str, selection: serde_json::Value) -> JobSpec {
        let mut body = json!({
            "name": "whole schema",
            "source": {"source_id": source},
            "target": {"source_id": source, "write_mode": "upsert", "naming": {"prefix": "copy_"}},
            "options": {"mode": "batch"}
        });
        for (k, v) in selection.as_object().unwrap() {
            body["source"][k] = v.clone();
        }
        serde_json::from_value(body).unwrap()
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[tokio::test]
    async fn a_multi_table_job_lists_its_tables_with_their_columns_keys_and_targets() {
        let mut f = fixture();
        let probe = many();
        f.jobs = jobs_service_over(
            &f.store,
            Arc::new(FixedClock::default()),
            vec![FlinkTarget::DEFAULT_SESSION],
            probe.clone(),
        );
        let a = f.source().await;
        let spec = multi(
            &a,
            json!({"objects": ["public.order_items", {"name": "public.\"order.tmp\"", "primary_key": ["x"]}, "public.orders"]}),
        );
        let job = f.jobs.create(&f.tenant, spec).await.unwrap();
        let t = &job.spec.tables;
        let summary: Vec<(&str, &str, Option<Vec<String>>)> = t
            .iter()
            .map(|t| (t.source.as_str(), t.target.as_str(), t.primary_key.clone()))
            .collect();
        let key = |k: &[&str]| Some(k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(
            summary,
            [
                (
                    "public.order_items",
                    "copy_order_items",
                    key(&["order", "line"])
                ),
                ("public.\"order.tmp\"", "\"copy_order.tmp\"", key(&["x"])),
                ("public.orders", "copy_orders", key(&["id"])),
            ]
        );
        assert_eq!(t[2].columns.len(), 3);
        assert_eq!(t[2].columns[2].name, "prénom");
        assert_eq!(t[2].snapshot[1].native_type, "numeric(12,2)");
        assert_eq!(f.store.job_count(), 1);
        // The stored job answers the same tables; a request's own are replaced.
        let stored = f.jobs.get(&f.tenant, &job.id).await.unwrap();
        assert_eq!(stored.spec.tables, job.spec.tables);
        // Each table is a single-table job of its own.
        let one = job.spec.table_spec(0).unwrap();
        assert_eq!(
            (one.source.object.as_str(), one.target.object.as_str()),
            ("public.order_items", "copy_order_items")
        );
        assert_eq!(one.target.primary_key, key(&["order", "line"]));
    }

    #[tokio::test]
    async fn a_pattern_is_resolved_when_saved_and_again_by_a_refresh() {
        let mut f = fixture();
        let probe = many();
        f.jobs = jobs_service_over(
            &f.store,
            Arc::new(FixedClock::default()),
            vec![FlinkTarget::DEFAULT_SESSION],
            probe.clone(),
        );
        let a = f.source().await;
        let spec = multi(
            &a,
            json!({"include": {"schema": "public", "like": "order%"}, "exclude": {"regex": "tmp"},
                   "incremental": {"column": "at", "start": "2026-01-01T00:00:00Z"}}),
        );
        let job = f.jobs.create(&f.tenant, spec).await.unwrap();
        let names: Vec<&str> = job.spec.tables.iter().map(|t| t.source.as_str()).collect();
        // Tables only (not the view), in public, less the excluded one.
        assert_eq!(names, ["public.order_items", "public.orders"]);
        let incremental: Vec<Option<&str>> = job
            .spec
            .tables
            .iter()
            .map(|t| t.incremental_column.as_deref())
            .collect();
        assert_eq!(
            incremental,
            [Some("at"), None],
            "only a table with the column"
        );

        probe.put_object(table(
            "public.order_notes",
            vec![column("id", "bigint", supported("BIGINT"), Some(1))],
            &["id"],
        ));
        let refreshed = f.jobs.refresh(&f.tenant, &job.id, Some(1)).await.unwrap();
        let names: Vec<&str> = refreshed
            .spec
            .tables
            .iter()
            .map(|t| t.source.as_str())
            .collect();
        assert_eq!(
            names,
            ["public.order_items", "public.order_notes", "public.orders"]
        );
        assert_eq!(refreshed.version, 2);
        assert!(matches!(
            f.jobs.refresh(&f.tenant, &job.id, Some(1)).await,
            Err(RefreshJobError::VersionMismatch {
                expected: 1,
                current: 2
            })
        ));
        let single = f.jobs.create(&f.tenant, spec_of(&a)).await.unwrap();
        let Err(RefreshJobError::Invalid(errors)) =
            f.jobs.refresh(&f.tenant, &single.id, None).await
        else {
            panic!("a single-table job is not refreshed");
        };
        assert_eq!(fields(&errors), ["source"]);
    }

    fn spec_of(a: &str) -> JobSpec {
        spec(a, a)
    }

    #[tokio::test]
    async fn bad_selections_are_400s_naming_the_field() {
        let mut f = fixture();
        let mut objects = probe();
        for i in 0..=MAX_TABLES {
            objects = objects.with_object(table(
                &format!("public.t{i:03}"),
                vec![column("id", "bigint", supported("BIGINT"), Some(1))],
                &["id"],
            ));
        }
        objects = objects.with_object(table(
            "sales.orders",
            vec![column("id", "bigint", supported("BIGINT"), Some(1))],
            &["id"],
        ));
        let probe = Arc::new(objects.with_object(table(
            "public.nokey",
            vec![column("id", "bigint", supported("BIGINT"), None)],
            &[],
        )));
        f.jobs = jobs_service_over(
            &f.store,
            Arc::new(FixedClock::default()),
            vec![FlinkTarget::DEFAULT_SESSION],
            probe,
        );
        let a = f.source().await;
        let invalid = |spec: JobSpec| {
            let jobs = f.jobs.clone();
            let tenant = f.tenant.clone();
            async move {
                match jobs.create(&tenant, spec).await {
                    Err(CreateJobError::Invalid(e))
                    | Err(CreateJobError::Discovery(DiscoverError::Invalid(e))) => e,
                    other => panic!("expected a 400, got {other:?}"),
                }
            }
        };
        let e = invalid(multi(&a, json!({"include": {"like": "nothing%"}}))).await;
        assert_eq!(fields(&e), ["source.include"]);
        assert!(e.errors()[0].reason.contains("matches no table"), "{e}");
        let e = invalid(multi(&a, json!({"include": {"like": "t%"}}))).await;
        assert!(e.errors()[0].reason.contains("more than 500"), "{e}");
        let many: Vec<String> = (0..=MAX_TABLES)
            .map(|i| format!("public.t{i:03}"))
            .collect();
        let e = invalid(multi(&a, json!({"objects": many}))).await;
        assert_eq!(fields(&e), ["source.objects"]);
        assert!(
            e.errors()[0].reason.contains("501 tables, more than 500"),
            "{e}"
        );
        let e = invalid(multi(
            &a,
            json!({"objects": ["public.orders", "public.nowhere", "public.orders", "a.b.c"]}),
        ))
        .await;
        assert_eq!(fields(&e), ["source.objects[2]", "source.objects[3]"]);
        let e = invalid(multi(
            &a,
            json!({"objects": ["public.orders", "public.nowhere"]}),
        ))
        .await;
        assert_eq!(fields(&e), ["source.objects[1]"]);
        assert!(
            e.errors()[0].reason.contains("no table public.nowhere"),
            "{e}"
        );
        let e = invalid(multi(
            &a,
            json!({"objects": ["public.nokey", "public.shapes"]}),
        ))
        .await;
        assert_eq!(fields(&e), ["source.objects[0]", "source.objects[1]"]);
        assert!(e.errors()[0].reason.contains("no primary key"), "{e}");
        assert!(e.errors()[1].reason.contains("geom (geometry)"), "{e}");
        let e = invalid(multi(&a, json!({"objects": ["public.orders"], "include": {"regex": "("}, "object": "x", "columns": [{"name": "id", "type": "INT"}]}))).await;
        assert_eq!(
            fields(&e),
            [
                "source.include",
                "source.object",
                "source.columns",
                "source.include.regex"
            ]
        );
        // Two schemas' tables of one name, named alike in the target.
        let mut same = multi(&a, json!({"objects": ["public.orders", "sales.orders"]}));
        let e = invalid(same.clone()).await;
        assert_eq!(fields(&e), ["target.naming"]);
        same.target.naming = Some(crate::model::selection::TargetNaming {
            template: Some("{schema}_{table}".into()),
            ..Default::default()
        });
        f.jobs.create(&f.tenant, same).await.unwrap();
        // Another tenant's source is not found (404), not described.
        let other = TenantId::parse("globex").unwrap();
        assert!(matches!(
            f.jobs
                .create(&other, multi(&a, json!({"objects": ["public.orders"]})))
                .await,
            Err(CreateJobError::SourceNotFound(_))
        ));
        assert_eq!(f.store.job_count(), 1);
    }
}

//! Every use-case error of the domain mapped to problem+json, in one
//! place. 5xx causes are logged here and never sent to the caller.

use crate::Problem;
use sluice_domain::ports::{RepositoryError, SealError};
use sluice_domain::service::discovery::DiscoverError;
use sluice_domain::service::jobs::{
    CreateJobError, DeleteJobError, GetJobError, ListJobsError, MissingSource, PreviewSqlError,
    RefreshJobError, UpdateJobError,
};
use sluice_domain::service::notifications::{GetNotificationsError, PutNotificationsError};
use sluice_domain::service::sources::{
    DeleteSourceError, GetSourceError, ListSourcesError, RegisterSourceError, UpdateSourceError,
};

pub(crate) fn source_not_found(id: &str) -> Problem {
    Problem::not_found(format!("no source {id}"))
}

fn version_mismatch(expected: u64, current: u64) -> Problem {
    Problem::precondition_failed(format!(
        "If-Match names version {expected}, but the record is at version {current}"
    ))
}

pub(crate) fn job_not_found(id: &str) -> Problem {
    Problem::not_found(format!("no job {id}"))
}

/// 404 naming the field whose source id leads nowhere in this tenant.
fn missing_source(m: MissingSource) -> Problem {
    let mut p = Problem::not_found(format!("{}: no source {}", m.field, m.id));
    p.field = Some(m.field.to_owned());
    p
}

fn repository(e: &RepositoryError) -> Problem {
    tracing::error!(error = %error_chain(e), "repository failure");
    match e {
        RepositoryError::Unavailable(_) => Problem::unavailable(),
        _ => Problem::internal(),
    }
}

fn sealing(e: &SealError) -> Problem {
    tracing::error!(error = %error_chain(e), "sealing failure");
    match e {
        SealError::KeyProvider(_) => Problem::unavailable(),
        _ => Problem::internal(),
    }
}

/// `e: cause: cause`, for logs. SDK errors carry no request payloads.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        next = cause.source();
    }
    out
}

impl From<RegisterSourceError> for Problem {
    fn from(e: RegisterSourceError) -> Self {
        match e {
            RegisterSourceError::Invalid(errors) => Problem::invalid(errors),
            RegisterSourceError::Sealing(e) => sealing(&e),
            RegisterSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetSourceError> for Problem {
    fn from(e: GetSourceError) -> Self {
        match e {
            GetSourceError::NotFound(id) => source_not_found(&id),
            GetSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<ListSourcesError> for Problem {
    fn from(e: ListSourcesError) -> Self {
        match e {
            ListSourcesError::Invalid(errors) => Problem::invalid(errors),
            ListSourcesError::Repository(e) => repository(&e),
        }
    }
}

impl From<UpdateSourceError> for Problem {
    fn from(e: UpdateSourceError) -> Self {
        match e {
            UpdateSourceError::Invalid(errors) => Problem::invalid(errors),
            UpdateSourceError::NotFound(id) => source_not_found(&id),
            UpdateSourceError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            UpdateSourceError::Sealing(e) => sealing(&e),
            UpdateSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<DeleteSourceError> for Problem {
    fn from(e: DeleteSourceError) -> Self {
        match e {
            DeleteSourceError::NotFound(id) => source_not_found(&id),
            DeleteSourceError::InUse { id, jobs } => Problem::conflict(format!(
                "source {id} is used by {jobs} job(s); delete or change them first"
            )),
            DeleteSourceError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            DeleteSourceError::Repository(e) => repository(&e),
        }
    }
}

impl From<CreateJobError> for Problem {
    fn from(e: CreateJobError) -> Self {
        match e {
            CreateJobError::Invalid(errors) => Problem::invalid(errors),
            CreateJobError::SourceNotFound(m) => missing_source(m),
            CreateJobError::Discovery(e) => e.into(),
            CreateJobError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetJobError> for Problem {
    fn from(e: GetJobError) -> Self {
        match e {
            GetJobError::NotFound(id) => job_not_found(&id),
            GetJobError::Repository(e) => repository(&e),
        }
    }
}

impl From<ListJobsError> for Problem {
    fn from(e: ListJobsError) -> Self {
        match e {
            ListJobsError::Invalid(errors) => Problem::invalid(errors),
            ListJobsError::Repository(e) => repository(&e),
        }
    }
}

impl From<RefreshJobError> for Problem {
    fn from(e: RefreshJobError) -> Self {
        match e {
            RefreshJobError::Invalid(errors) => Problem::invalid(errors),
            RefreshJobError::NotFound(id) => job_not_found(&id),
            RefreshJobError::SourceNotFound(m) => missing_source(m),
            RefreshJobError::Discovery(e) => e.into(),
            RefreshJobError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            RefreshJobError::Repository(e) => repository(&e),
        }
    }
}

impl From<UpdateJobError> for Problem {
    fn from(e: UpdateJobError) -> Self {
        match e {
            UpdateJobError::Invalid(errors) => Problem::invalid(errors),
            UpdateJobError::NotFound(id) => job_not_found(&id),
            UpdateJobError::SourceNotFound(m) => missing_source(m),
            UpdateJobError::Discovery(e) => e.into(),
            UpdateJobError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            UpdateJobError::Repository(e) => repository(&e),
        }
    }
}

impl From<DeleteJobError> for Problem {
    fn from(e: DeleteJobError) -> Self {
        match e {
            DeleteJobError::NotFound(id) => job_not_found(&id),
            DeleteJobError::VersionMismatch { expected, current } => {
                version_mismatch(expected, current)
            }
            DeleteJobError::RunActive { id, run } => Problem::conflict(format!(
                "job {id} has an active run {run}; cancel it (POST /runs/{run}/cancel) or wait \
                 until it ends, then delete the job"
            )),
            DeleteJobError::SchedulerUnavailable => Problem::unavailable(),
            DeleteJobError::Repository(e) => repository(&e),
        }
    }
}

impl From<PreviewSqlError> for Problem {
    fn from(e: PreviewSqlError) -> Self {
        match e {
            PreviewSqlError::NotFound(id) => job_not_found(&id),
            // The job was valid when stored; a source edited since broke it.
            PreviewSqlError::Stale(errors) => {
                let mut p = Problem::conflict(format!(
                    "the job no longer fits its sources: {errors}; update the job"
                ));
                p.errors = errors.errors().to_vec();
                p
            }
            PreviewSqlError::Render(reason) => {
                tracing::error!(%reason, "render failure");
                Problem::internal()
            }
            PreviewSqlError::Repository(e) => repository(&e),
        }
    }
}

use sluice_domain::service::runs::{CancelRunError, GetRunError, ListRunsError, StartRunError};

pub(crate) fn run_not_found(id: &str) -> Problem {
    Problem::not_found(format!("no run {id}"))
}

impl From<StartRunError> for Problem {
    fn from(e: StartRunError) -> Self {
        match e {
            StartRunError::JobNotFound(id) => job_not_found(&id),
            StartRunError::Invalid(errors) => Problem::invalid(errors),
            StartRunError::TriggerUnavailable => Problem::unavailable(),
            StartRunError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetRunError> for Problem {
    fn from(e: GetRunError) -> Self {
        match e {
            GetRunError::NotFound(id) => run_not_found(&id),
            GetRunError::Repository(e) => repository(&e),
        }
    }
}

impl From<ListRunsError> for Problem {
    fn from(e: ListRunsError) -> Self {
        match e {
            ListRunsError::JobNotFound(id) => job_not_found(&id),
            ListRunsError::Invalid(errors) => Problem::invalid(errors),
            ListRunsError::Repository(e) => repository(&e),
        }
    }
}

impl From<sluice_domain::service::reports::ReportError> for Problem {
    fn from(e: sluice_domain::service::reports::ReportError) -> Self {
        use sluice_domain::service::reports::ReportError;
        match e {
            ReportError::Invalid(errors) => Problem::invalid(errors),
            ReportError::JobNotFound(id) => job_not_found(&id),
            ReportError::Repository(e) => repository(&e),
        }
    }
}

impl From<CancelRunError> for Problem {
    fn from(e: CancelRunError) -> Self {
        match e {
            CancelRunError::NotFound(id) => run_not_found(&id),
            CancelRunError::AlreadyEnded { id, state } => {
                Problem::conflict(format!("run {id} has already ended ({state})"))
            }
            CancelRunError::FlinkUnavailable => Problem::unavailable(),
            CancelRunError::Repository(e) => repository(&e),
        }
    }
}

use sluice_domain::service::schedules::{DeleteScheduleError, GetScheduleError, PutScheduleError};

fn schedule_version_mismatch(current: u64) -> Problem {
    Problem::precondition_failed(format!(
        "If-Match names another version: the schedule is at version {current}"
    ))
}

impl From<PutScheduleError> for Problem {
    fn from(e: PutScheduleError) -> Self {
        match e {
            PutScheduleError::JobNotFound(id) => job_not_found(&id),
            PutScheduleError::Invalid(errors) => Problem::invalid(errors),
            PutScheduleError::VersionMismatch { current } => schedule_version_mismatch(current),
            PutScheduleError::SchedulerUnavailable => Problem::unavailable(),
            PutScheduleError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetScheduleError> for Problem {
    fn from(e: GetScheduleError) -> Self {
        match e {
            GetScheduleError::JobNotFound(id) => job_not_found(&id),
            GetScheduleError::NotFound(id) => {
                Problem::not_found(format!("job {id} has no schedule"))
            }
            GetScheduleError::Repository(e) => repository(&e),
        }
    }
}

impl From<DeleteScheduleError> for Problem {
    fn from(e: DeleteScheduleError) -> Self {
        match e {
            DeleteScheduleError::NotFound(id) => {
                Problem::not_found(format!("job {id} has no schedule"))
            }
            DeleteScheduleError::VersionMismatch { current } => schedule_version_mismatch(current),
            DeleteScheduleError::SchedulerUnavailable => Problem::unavailable(),
            DeleteScheduleError::Repository(e) => repository(&e),
        }
    }
}

impl From<DiscoverError> for Problem {
    fn from(e: DiscoverError) -> Self {
        match e {
            DiscoverError::NotFound(id) => source_not_found(&id),
            DiscoverError::ObjectNotFound(name) => {
                Problem::not_found(format!("the source has no object {name}"))
            }
            DiscoverError::Invalid(errors) => Problem::invalid(errors),
            // The source's own settings or secrets do not reach it: the
            // caller can fix them (and test again), so 4xx, naming the step.
            DiscoverError::Unreachable(check) => {
                let code = check.code.map_or("unknown", |c| c.as_str());
                let mut p = Problem::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "source-unreachable",
                    "The source could not be reached",
                    format!("{} failed ({code}): {}", check.name, check.message),
                );
                p.field = Some("source_id".to_owned());
                p
            }
            DiscoverError::SecretsUnreadable => Problem::conflict(
                "the source's secrets do not open; set them again with PUT /sources/{id}",
            ),
            DiscoverError::SecretsUnavailable => {
                tracing::error!("KMS could not open a source's secrets");
                Problem::unavailable()
            }
            DiscoverError::Repository(e) => repository(&e),
        }
    }
}

impl From<PutNotificationsError> for Problem {
    fn from(e: PutNotificationsError) -> Self {
        match e {
            PutNotificationsError::JobNotFound(id) => job_not_found(&id),
            PutNotificationsError::Invalid(errors) => Problem::invalid(errors),
            PutNotificationsError::VersionMismatch { current } => {
                Problem::precondition_failed(format!("the notifications are at version {current}"))
            }
            PutNotificationsError::Sealing(e) => sealing(&e),
            PutNotificationsError::Repository(e) => repository(&e),
        }
    }
}

impl From<GetNotificationsError> for Problem {
    fn from(e: GetNotificationsError) -> Self {
        match e {
            GetNotificationsError::JobNotFound(id) => job_not_found(&id),
            GetNotificationsError::NotFound(id) => {
                Problem::not_found(format!("job {id} has no notifications"))
            }
            GetNotificationsError::Repository(e) => repository(&e),
        }
    }
}

//! The schedule use cases: a user's schedule is checked here (EventBridge
//! validates little and moto nothing), then stored as our record and as an
//! EventBridge Scheduler schedule, which never disagree for longer than a call.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::TenantId;
use crate::model::job::JobId;
use crate::model::schedule::*;
use crate::model::validation::{FieldError, ValidationErrors};
use crate::ports::{
    Clock, JobRepository, RepositoryError, ScheduleRepository, Scheduler, SchedulerError,
};

#[derive(Debug, thiserror::Error)]
pub enum PutScheduleError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("invalid schedule: {0}")]
    Invalid(ValidationErrors),
    #[error("the schedule is at version {current}")]
    VersionMismatch { current: u64 },
    #[error("the scheduler could not be reached")]
    SchedulerUnavailable,
    #[error("could not store the schedule")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum GetScheduleError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("job {0} has no schedule")]
    NotFound(String),
    #[error("could not read the schedule")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteScheduleError {
    #[error("job {0} has no schedule")]
    NotFound(String),
    #[error("the schedule is at version {current}")]
    VersionMismatch { current: u64 },
    #[error("the scheduler could not be reached")]
    SchedulerUnavailable,
    #[error("could not delete the schedule")]
    Repository(#[source] RepositoryError),
}

/// The schedule use cases over their ports.
#[derive(Clone)]
pub struct ScheduleService {
    jobs: Arc<dyn JobRepository>,
    schedules: Arc<dyn ScheduleRepository>,
    scheduler: Arc<dyn Scheduler>,
    clock: Arc<dyn Clock>,
}

impl ScheduleService {
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        schedules: Arc<dyn ScheduleRepository>,
        scheduler: Arc<dyn Scheduler>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            jobs,
            schedules,
            scheduler,
            clock,
        }
    }

    /// Creates or replaces a job's schedule: the record first, then the
    /// EventBridge schedule; if that fails the record is put back as it was,
    /// so the two never disagree for longer than the call. Returns the
    /// schedule and whether it is new.
    pub async fn put(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        spec: ScheduleSpec,
        if_match: Option<u64>,
    ) -> Result<(Schedule, bool), PutScheduleError> {
        let not_found = || PutScheduleError::JobNotFound(job_id.to_string());
        self.jobs
            .get(tenant, job_id)
            .await
            .map_err(PutScheduleError::Repository)?
            .ok_or_else(not_found)?;
        let previous = self
            .schedules
            .get(tenant, job_id)
            .await
            .map_err(PutScheduleError::Repository)?;
        if let (Some(expected), Some(stored)) = (if_match, &previous)
            && expected != stored.version
        {
            return Err(PutScheduleError::VersionMismatch {
                current: stored.version,
            });
        }
        let now = self.clock.now();
        let checked = self.check(tenant, job_id, spec, now).await?;
        let schedule = Schedule {
            tenant: tenant.clone(),
            job_id: job_id.clone(),
            version: previous.as_ref().map_or(1, |p| p.version + 1),
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
            ..checked
        };
        let expected = previous.as_ref().map(|p| p.version);
        self.schedules
            .put(&schedule, expected)
            .await
            .map_err(|e| match e {
                RepositoryError::VersionMismatch { current } => {
                    PutScheduleError::VersionMismatch { current }
                }
                RepositoryError::AlreadyExists => PutScheduleError::VersionMismatch { current: 1 },
                RepositoryError::MissingReference | RepositoryError::NotFound => not_found(),
                other => PutScheduleError::Repository(other),
            })?;
        if let Err(e) = self.scheduler.upsert(&schedule).await {
            tracing::error!(error = %e, job_id = %job_id, "the scheduler refused or failed; restoring the record");
            self.restore(&schedule, previous.as_ref()).await;
            return Err(match e {
                SchedulerError::Rejected(reason) => PutScheduleError::Invalid(
                    FieldError::new("expression", format!("the scheduler refused it: {reason}"))
                        .into(),
                ),
                SchedulerError::Unavailable(_) => PutScheduleError::SchedulerUnavailable,
            });
        }
        Ok((schedule, previous.is_none()))
    }

    /// Puts the record back as it was before `written` (or removes it),
    /// after the scheduler did not take `written`.
    async fn restore(&self, written: &Schedule, previous: Option<&Schedule>) {
        let restored = match previous {
            Some(p) => {
                let mut back = p.clone();
                back.version = written.version + 1;
                self.schedules.put(&back, Some(written.version)).await
            }
            None => {
                self.schedules
                    .delete(&written.tenant, &written.job_id, Some(written.version))
                    .await
            }
        };
        if let Err(e) = restored {
            tracing::error!(error = %e, job_id = %written.job_id, "could not restore the schedule record");
        }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Schedule, GetScheduleError> {
        if let Some(schedule) = self
            .schedules
            .get(tenant, job_id)
            .await
            .map_err(GetScheduleError::Repository)?
        {
            return Ok(schedule);
        }
        match self.jobs.get(tenant, job_id).await {
            Ok(Some(_)) => Err(GetScheduleError::NotFound(job_id.to_string())),
            Ok(None) => Err(GetScheduleError::JobNotFound(job_id.to_string())),
            Err(e) => Err(GetScheduleError::Repository(e)),
        }
    }

    /// The job's schedule, if it has one (for the job view).
    pub async fn find(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Schedule>, RepositoryError> {
        self.schedules.get(tenant, job_id).await
    }

    /// Deletes the EventBridge schedule, then the record.
    pub async fn delete(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        if_match: Option<u64>,
    ) -> Result<(), DeleteScheduleError> {
        let not_found = || DeleteScheduleError::NotFound(job_id.to_string());
        let stored = self
            .schedules
            .get(tenant, job_id)
            .await
            .map_err(DeleteScheduleError::Repository)?
            .ok_or_else(not_found)?;
        if let Some(expected) = if_match
            && expected != stored.version
        {
            return Err(DeleteScheduleError::VersionMismatch {
                current: stored.version,
            });
        }
        self.scheduler.delete(tenant, job_id).await.map_err(|e| {
            tracing::error!(error = %e, job_id = %job_id, "could not delete the EventBridge schedule");
            DeleteScheduleError::SchedulerUnavailable
        })?;
        match self
            .schedules
            .delete(tenant, job_id, Some(stored.version))
            .await
        {
            Ok(()) | Err(RepositoryError::NotFound) => Ok(()),
            Err(RepositoryError::VersionMismatch { current }) => {
                // Replaced meanwhile: its EventBridge schedule must come back.
                if let Ok(Some(current_schedule)) = self.schedules.get(tenant, job_id).await
                    && let Err(e) = self.scheduler.upsert(&current_schedule).await
                {
                    tracing::error!(error = %e, job_id = %job_id, "could not restore a replaced schedule");
                }
                Err(DeleteScheduleError::VersionMismatch { current })
            }
            Err(e) => Err(DeleteScheduleError::Repository(e)),
        }
    }

    /// Every problem of `spec`, or the schedule it describes (tenant, job,
    /// version and times are the caller's to set).
    async fn check(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        spec: ScheduleSpec,
        now: DateTime<Utc>,
    ) -> Result<Schedule, PutScheduleError> {
        let mut errors = ValidationErrors::new();
        let when = spec.check_when(&mut errors);
        spec.check_delivery(&mut errors);
        spec.check_run_policy(&mut errors);
        spec.check_fires(&when, now, &mut errors);
        let children = self
            .check_children(tenant, job_id, &spec.on_success, &mut errors)
            .await?;
        errors.into_result().map_err(PutScheduleError::Invalid)?;
        Ok(spec.into_schedule(tenant, job_id, when, children, now))
    }

    /// Child jobs must exist, be distinct, and not lead back to `job_id`
    /// through their own schedules' children.
    async fn check_children(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        raw: &[String],
        errors: &mut ValidationErrors,
    ) -> Result<Vec<JobId>, PutScheduleError> {
        if raw.len() > MAX_CHILDREN {
            errors.push("on_success", format!("at most {MAX_CHILDREN} child jobs"));
            return Ok(Vec::new());
        }
        let mut children = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, text) in raw.iter().enumerate() {
            let field = format!("on_success[{i}]");
            let Some(child) = JobId::parse(text) else {
                errors.push(field, "is not a job id");
                continue;
            };
            if &child == job_id {
                errors.push(field, "a job cannot be its own child");
                continue;
            }
            if !seen.insert(child.clone()) {
                errors.push(field, "is listed twice");
                continue;
            }
            let exists = self
                .jobs
                .get(tenant, &child)
                .await
                .map_err(PutScheduleError::Repository)?
                .is_some();
            if !exists {
                errors.push(field, format!("job {child} not found"));
                continue;
            }
            if let Some(path) = self.path_back(tenant, &child, job_id).await? {
                errors.push(
                    field,
                    format!(
                        "would make a cycle: {job_id} -> {} -> {job_id}",
                        path.iter()
                            .map(JobId::as_str)
                            .collect::<Vec<_>>()
                            .join(" -> ")
                    ),
                );
                continue;
            }
            children.push(child);
        }
        Ok(children)
    }

    /// The chain of children from `from` to `to`, if there is one.
    async fn path_back(
        &self,
        tenant: &TenantId,
        from: &JobId,
        to: &JobId,
    ) -> Result<Option<Vec<JobId>>, PutScheduleError> {
        // Depth-first over schedules, each job visited once.
        let mut stack = vec![vec![from.clone()]];
        let mut visited = BTreeSet::from([from.clone()]);
        while let Some(path) = stack.pop() {
            let last = path.last().expect("paths are never empty");
            let Some(schedule) = self
                .schedules
                .get(tenant, last)
                .await
                .map_err(PutScheduleError::Repository)?
            else {
                continue;
            };
            for next in schedule.policy.on_success {
                if &next == to {
                    return Ok(Some(path));
                }
                if visited.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push(longer);
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeScheduler, FixedClock, MemoryStore};
    use crate::model::job::{Job, JobSpec};
    use crate::{Source, SourceId, SourceKind};
    use serde_json::json;

    struct Fixture {
        store: Arc<MemoryStore>,
        scheduler: Arc<FakeScheduler>,
        service: ScheduleService,
        tenant: TenantId,
    }

    async fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let scheduler = Arc::new(FakeScheduler::default());
        let service = ScheduleService::new(
            store.clone(),
            store.clone(),
            scheduler.clone(),
            Arc::new(FixedClock::default()),
        );
        Fixture {
            store,
            scheduler,
            service,
            tenant: TenantId::parse("acme").unwrap(),
        }
    }

    impl Fixture {
        async fn job(&self) -> JobId {
            let now = FixedClock::default().now();
            let source = Source {
                id: SourceId::generate(),
                tenant: self.tenant.clone(),
                name: "db".into(),
                kind: SourceKind::Postgres,
                config: Default::default(),
                secret_fields: Vec::new(),
                sealed_secrets: None,
                secrets_updated_at: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            crate::ports::SourceRepository::insert(self.store.as_ref(), &source)
                .await
                .unwrap();
            let spec: JobSpec = serde_json::from_value(json!({
                "name": "copy",
                "source": {"source_id": source.id.as_str(), "object": "t", "columns": [{"name": "id", "type": "BIGINT"}]},
                "target": {"source_id": source.id.as_str(), "object": "u", "write_mode": "append"},
                "options": {"mode": "batch"}
            }))
            .unwrap();
            let job = Job {
                id: JobId::generate(),
                tenant: self.tenant.clone(),
                spec,
                source_id: source.id.clone(),
                target_id: source.id,
                source_snapshot: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            JobRepository::insert(self.store.as_ref(), &job)
                .await
                .unwrap();
            job.id
        }
    }

    fn spec(value: serde_json::Value) -> ScheduleSpec {
        serde_json::from_value(value).unwrap()
    }

    fn fields(error: PutScheduleError) -> Vec<String> {
        match error {
            PutScheduleError::Invalid(errors) => {
                errors.errors().iter().map(|e| e.field.clone()).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_schedule_is_stored_and_sent_to_the_scheduler() {
        let f = fixture().await;
        let job = f.job().await;
        let (schedule, created) = f
            .service
            .put(
                &f.tenant,
                &job,
                spec(json!({"xxl_cron": "0 30 2 * * ?", "timezone": "Europe/Berlin", "timeout_seconds": 600})),
                None,
            )
            .await
            .unwrap();
        assert!(created);
        assert_eq!(schedule.expression, "cron(30 2 * * ? *)");
        assert_eq!(schedule.policy.overlap, Overlap::Skip);
        assert_eq!(schedule.policy.timeout_seconds, Some(600));
        assert_eq!(f.scheduler.get(&f.tenant, &job), Some(schedule.clone()));
        // 2026-01-02 03:04:05 UTC is 04:04 in Berlin: next is 02:30 local on the 3rd.
        let fires = schedule.next_fires(FixedClock::default().now());
        assert_eq!(fires.len(), PREVIEW_FIRES);
        assert_eq!(fires[0].to_rfc3339(), "2026-01-03T01:30:00+00:00");

        let (replaced, created) = f
            .service
            .put(
                &f.tenant,
                &job,
                spec(json!({"expression": "rate(5 minutes)", "enabled": false})),
                Some(1),
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!((replaced.version, replaced.enabled), (2, false));
        assert!(replaced.next_fires(FixedClock::default().now()).is_empty());
        assert!(matches!(
            f.service
                .put(
                    &f.tenant,
                    &job,
                    spec(json!({"expression": "rate(1 hour)"})),
                    Some(1)
                )
                .await,
            Err(PutScheduleError::VersionMismatch { current: 2 })
        ));
    }

    #[tokio::test]
    async fn every_bad_setting_is_named() {
        let f = fixture().await;
        let job = f.job().await;
        let put = |value| f.service.put(&f.tenant, &job, spec(value), None);
        let all_wrong = json!({
            "expression": "cron(0 12 * * * *)",
            "timezone": "Mars/Olympus",
            "flexible_window_minutes": 0,
            "delivery_retry": {"max_attempts": 186, "max_event_age_seconds": 30},
            "start_at": "2026-02-01T00:00:00Z",
            "end_at": "2026-01-01T00:00:00Z",
            "timeout_seconds": 0,
            "retry": {"max_attempts": 0, "backoff_seconds": 0},
            "on_success": ["nope", job.as_str()]
        });
        assert_eq!(
            fields(put(all_wrong).await.unwrap_err()),
            [
                "expression",
                "timezone",
                "flexible_window_minutes",
                "delivery_retry.max_attempts",
                "delivery_retry.max_event_age_seconds",
                "end_at",
                "timeout_seconds",
                "retry.max_attempts",
                "retry.backoff_seconds",
                "on_success[0]",
                "on_success[1]"
            ]
        );
        assert_eq!(fields(put(json!({})).await.unwrap_err()), ["expression"]);
        assert_eq!(
            fields(
                put(json!({"expression": "rate(1 hour)", "xxl_cron": "0 0 * * * ?"}))
                    .await
                    .unwrap_err()
            ),
            ["xxl_cron"]
        );
        assert_eq!(
            fields(put(json!({"xxl_cron": "30 0 * * * ?"})).await.unwrap_err()),
            ["xxl_cron"]
        );
        assert_eq!(
            fields(
                put(json!({"expression": "at(2020-01-01T00:00:00)"}))
                    .await
                    .unwrap_err()
            ),
            ["expression"]
        );
        assert_eq!(
            fields(put(json!({"expression": "rate(1 hour)", "on_success": [JobId::generate().as_str()]})).await.unwrap_err()),
            ["on_success[0]"]
        );
        // Nothing was stored or scheduled.
        assert!(f.scheduler.get(&f.tenant, &job).is_none());
        assert!(matches!(
            f.service.get(&f.tenant, &job).await,
            Err(GetScheduleError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn child_jobs_may_not_form_a_cycle() {
        let f = fixture().await;
        let (a, b, c) = (f.job().await, f.job().await, f.job().await);
        let put = |job: JobId, children: Vec<&JobId>| {
            let children: Vec<String> = children.iter().map(|j| j.to_string()).collect();
            let service = f.service.clone();
            let tenant = f.tenant.clone();
            async move {
                let body = spec(json!({"expression": "rate(1 hour)", "on_success": children}));
                service.put(&tenant, &job, body, None).await
            }
        };
        put(a.clone(), vec![&b]).await.unwrap();
        put(b.clone(), vec![&c]).await.unwrap();
        let PutScheduleError::Invalid(errors) = put(c.clone(), vec![&a]).await.unwrap_err() else {
            panic!("expected a cycle");
        };
        let error = &errors.errors()[0];
        assert_eq!(error.field, "on_success[0]");
        assert!(
            error.reason.contains(&format!("{c} -> {a} -> {b} -> {c}")),
            "{}",
            error.reason
        );
    }

    #[tokio::test]
    async fn a_scheduler_failure_leaves_the_record_as_it_was() {
        let f = fixture().await;
        let job = f.job().await;
        let first = json!({"expression": "rate(1 hour)"});
        f.scheduler.set_unavailable(true);
        assert!(matches!(
            f.service
                .put(&f.tenant, &job, spec(first.clone()), None)
                .await,
            Err(PutScheduleError::SchedulerUnavailable)
        ));
        assert!(matches!(
            f.service.get(&f.tenant, &job).await,
            Err(GetScheduleError::NotFound(_))
        ));

        f.scheduler.set_unavailable(false);
        f.service
            .put(&f.tenant, &job, spec(first), None)
            .await
            .unwrap();
        f.scheduler.set_unavailable(true);
        let second = json!({"expression": "rate(2 hours)"});
        assert!(
            f.service
                .put(&f.tenant, &job, spec(second), None)
                .await
                .is_err()
        );
        let stored = f.service.get(&f.tenant, &job).await.unwrap();
        assert_eq!(stored.expression, "rate(1 hour)");
        assert!(matches!(
            f.service.delete(&f.tenant, &job, None).await,
            Err(DeleteScheduleError::SchedulerUnavailable)
        ));
        assert!(f.service.get(&f.tenant, &job).await.is_ok());

        f.scheduler.set_unavailable(false);
        f.service.delete(&f.tenant, &job, None).await.unwrap();
        assert!(f.scheduler.get(&f.tenant, &job).is_none());
        assert!(matches!(
            f.service.delete(&f.tenant, &job, None).await,
            Err(DeleteScheduleError::NotFound(_))
        ));
    }
}

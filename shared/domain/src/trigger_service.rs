//! The trigger: turns one delivery of a fire (or a manual run) into at most
//! one Flink job, and records what happened on the run.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use zeroize::Zeroize;

use crate::job::{FlinkTarget, Job, JobId, Window};
use crate::ports::{
    Clock, Created, FlinkCluster, FlinkError, JobCompiler, JobRepository, RepositoryError,
    RunRepository, SealError, SecretExposure, SecretSealer, SourceRepository,
};
use crate::run::{NewRun, Run, RunError, RunId, RunState, TriggerKind};
use crate::{EncryptionContext, Secrets, Source, SourceId, TenantId};

/// One delivery: a scheduler fire or a manual run.
#[derive(Debug, Clone)]
pub struct Fire {
    pub tenant: TenantId,
    pub job_id: String,
    pub scheduled_time: DateTime<Utc>,
    pub trigger: TriggerKind,
    /// A backfill's explicit window; else derived from the job.
    pub window: Option<Window>,
    /// Set for runs created before the delivery (manual runs).
    pub run_id: Option<RunId>,
}

/// What a delivery achieved. Every variant is a final answer: redelivering
/// the same fire changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerOutcome {
    /// This delivery submitted the run; it is running on Flink.
    Submitted(Run),
    /// Another delivery has the run (a duplicate, or a finished run).
    AlreadyHandled(Run),
    /// The run failed in a way no redelivery can fix; it is recorded.
    Failed(Run),
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
}

impl TriggerError {
    /// Whether the delivery should be retried.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, TriggerError::InvalidEvent(_))
    }
}

fn failure(code: &str, message: impl Into<String>, retryable: bool) -> RunError {
    RunError {
        code: code.to_owned(),
        message: message.into(),
        retryable,
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
    pub sealer: Arc<dyn SecretSealer>,
    pub compiler: Arc<dyn JobCompiler>,
    pub flink: Arc<dyn FlinkCluster>,
    pub clock: Arc<dyn Clock>,
}

impl TriggerService {
    pub fn new(ports: TriggerPorts) -> Self {
        Self { ports }
    }

    #[tracing::instrument(skip_all, fields(tenant = %fire.tenant, job_id = %fire.job_id, run_id))]
    pub async fn fire(&self, fire: Fire) -> Result<TriggerOutcome, TriggerError> {
        let job_id = JobId::parse(&fire.job_id)
            .ok_or_else(|| TriggerError::InvalidEvent("job_id is not a job id".into()))?;
        let run_id = fire
            .run_id
            .clone()
            .unwrap_or_else(|| RunId::for_fire(&job_id, fire.scheduled_time));
        tracing::Span::current().record("run_id", run_id.as_str());
        let job = self
            .ports
            .jobs
            .get(&fire.tenant, &job_id)
            .await
            .map_err(TriggerError::Repository)?;
        let target = job
            .as_ref()
            .and_then(|j| j.spec.flink_target)
            .unwrap_or(FlinkTarget::Session);
        let window = fire.window.or_else(|| {
            job.as_ref()
                .and_then(|j| default_window(j, fire.scheduled_time))
        });
        let now = self.ports.clock.now();
        let fresh = Run::pending(
            NewRun {
                id: run_id,
                tenant: fire.tenant.clone(),
                job_id,
                trigger: fire.trigger,
                scheduled_time: fire.scheduled_time,
                window,
                flink_target: target,
            },
            now,
        );
        let stored = match self
            .ports
            .runs
            .create(&fresh)
            .await
            .map_err(TriggerError::Repository)?
        {
            Created::New(run) | Created::Existing(run) => run,
        };

        // Claim the run: exactly one delivery moves it to `submitting`.
        let retry =
            stored.state == RunState::Failed && stored.error.as_ref().is_some_and(|e| e.retryable);
        if stored.state != RunState::Pending && !retry {
            return Ok(TriggerOutcome::AlreadyHandled(stored));
        }
        let mut claimed = stored.transition(RunState::Submitting, now);
        claimed.attempts += 1;
        claimed.error = None;
        claimed.finished_at = None;
        match self.ports.runs.update(&claimed, stored.version).await {
            Ok(()) => {}
            Err(RepositoryError::VersionMismatch { .. }) => {
                let current = self.reload(&claimed).await?;
                return Ok(TriggerOutcome::AlreadyHandled(current));
            }
            Err(e) => return Err(TriggerError::Repository(e)),
        }

        let result = match &job {
            None => Err(failure("job_not_found", "the job no longer exists", false)),
            Some(job) => self.submit(job, &claimed).await,
        };
        match result {
            Ok(flink_job_id) => {
                let mut running = claimed.transition(RunState::Running, self.ports.clock.now());
                running.flink_job_id = Some(flink_job_id.clone());
                match self.ports.runs.update(&running, claimed.version).await {
                    Ok(()) => {
                        tracing::info!(flink_job_id, "run submitted");
                        Ok(TriggerOutcome::Submitted(running))
                    }
                    Err(RepositoryError::VersionMismatch { .. }) => {
                        // Canceled while submitting: the job must not run on.
                        if let Err(e) = self.ports.flink.cancel(&flink_job_id).await {
                            tracing::warn!(error = %e, flink_job_id, "could not cancel a job whose run was canceled");
                        }
                        Ok(TriggerOutcome::AlreadyHandled(self.reload(&claimed).await?))
                    }
                    Err(e) => Err(TriggerError::Repository(e)),
                }
            }
            Err(error) => {
                let mut failed = claimed.transition(RunState::Failed, self.ports.clock.now());
                let retryable = error.retryable;
                tracing::warn!(code = %error.code, retryable, "run failed");
                failed.error = Some(error);
                self.ports
                    .runs
                    .update(&failed, claimed.version)
                    .await
                    .map_err(TriggerError::Repository)?;
                if retryable {
                    Err(TriggerError::Retryable(Box::new(failed)))
                } else {
                    Ok(TriggerOutcome::Failed(failed))
                }
            }
        }
    }

    async fn reload(&self, run: &Run) -> Result<Run, TriggerError> {
        self.ports
            .runs
            .get(&run.tenant, &run.id)
            .await
            .map_err(TriggerError::Repository)?
            .ok_or(TriggerError::Repository(RepositoryError::NotFound))
    }

    /// Loads, decrypts, renders, seals and submits: the Flink job id, or why
    /// not.
    async fn submit(&self, job: &Job, run: &Run) -> Result<String, RunError> {
        if run.flink_target != FlinkTarget::Session {
            return Err(failure(
                "target_unsupported",
                "this deployment runs jobs on the session target only",
                false,
            ));
        }
        let source = self.load_source(&job.tenant, &job.source_id).await?;
        let source_secrets = self.open_secrets(&source).await?;
        // A job within one source (e.g. table to table) reads and decrypts it once.
        let (target, target_secrets) = if job.target_id == job.source_id {
            (source.clone(), source_secrets.clone())
        } else {
            let target = self.load_source(&job.tenant, &job.target_id).await?;
            let secrets = self.open_secrets(&target).await?;
            (target, secrets)
        };
        let mut script = self
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
            .map_err(|e| failure("render_failed", e.to_string(), false))?;
        let context = EncryptionContext::for_run(&job.tenant, job.id.as_str(), run.id.as_str());
        let sealed = self.ports.sealer.seal(&context, script.as_bytes()).await;
        script.zeroize();
        let sealed = sealed.map_err(|e| match e {
            SealError::KeyProvider(_) => {
                failure("kms_unavailable", "KMS could not issue a data key", true)
            }
            other => failure("seal_failed", other.to_string(), false),
        })?;
        self.ports
            .flink
            .submit(&job.id, &run.id, &sealed.to_envelope_json(&context))
            .await
            .map_err(|e| match e {
                FlinkError::Unreachable(_) => failure(
                    "flink_unreachable",
                    "the Flink cluster could not be reached",
                    true,
                ),
                FlinkError::Rejected(reason) => failure("flink_rejected", reason, false),
                FlinkError::UnknownJob => {
                    failure("flink_rejected", "the cluster lost the submission", true)
                }
            })
    }

    async fn load_source(&self, tenant: &TenantId, id: &SourceId) -> Result<Source, RunError> {
        match self.ports.sources.get(tenant, id).await {
            Ok(Some(source)) => Ok(source),
            Ok(None) => Err(failure(
                "source_not_found",
                format!("source {id} no longer exists"),
                false,
            )),
            Err(_) => Err(failure(
                "store_unavailable",
                "the source could not be read",
                true,
            )),
        }
    }

    async fn open_secrets(&self, source: &Source) -> Result<Secrets, RunError> {
        let Some(sealed) = &source.sealed_secrets else {
            return Ok(Secrets::new());
        };
        let context = EncryptionContext::for_source(&source.tenant, &source.id);
        let plaintext = self
            .ports
            .sealer
            .open(&context, sealed)
            .await
            .map_err(|e| match e {
                SealError::KeyProvider(_) => {
                    failure("kms_unavailable", "KMS could not decrypt a data key", true)
                }
                _ => failure(
                    "secrets_unreadable",
                    format!(
                        "the secrets of source {} do not open; set them again",
                        source.id
                    ),
                    false,
                ),
            })?;
        Secrets::from_plaintext_json(&plaintext).map_err(|_| {
            failure(
                "secrets_unreadable",
                "the stored secrets are malformed",
                false,
            )
        })
    }
}

/// An incremental job's window for a fire at `at`: from its start to the
/// scheduled time less the lag (watermarks refine the start later).
fn default_window(job: &Job, at: DateTime<Utc>) -> Option<Window> {
    let inc = job.spec.source.incremental.as_ref()?;
    let to = at - chrono::Duration::seconds(i64::from(inc.lag_seconds));
    Some(Window {
        from: inc.start,
        to: to.max(inc.start),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeFlink, FakeSealer, FixedClock, MemoryStore};
    use crate::job::{Job, JobSpec};
    use crate::ports::{FlinkJobState, RenderError};
    use crate::runs_service::Reconciler;
    use crate::sources_service::{SourceDraft, SourcesService};
    use crate::validation::ValidationErrors;
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
    }

    struct Fixture {
        store: Arc<MemoryStore>,
        flink: Arc<FakeFlink>,
        sealer: Arc<FakeSealer>,
        trigger: TriggerService,
        tenant: TenantId,
        job: Job,
    }

    async fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let sealer = Arc::new(FakeSealer::default());
        let clock = Arc::new(FixedClock::default());
        let flink = Arc::new(FakeFlink::default());
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
            version: 1,
            created_at: now,
            updated_at: now,
        };
        JobRepository::insert(store.as_ref(), &job).await.unwrap();
        let trigger = TriggerService::new(TriggerPorts {
            jobs: store.clone(),
            sources: store.clone(),
            runs: store.clone(),
            sealer: sealer.clone(),
            compiler: Arc::new(SecretEchoCompiler),
            flink: flink.clone(),
            clock,
        });
        Fixture {
            store,
            flink,
            sealer,
            trigger,
            tenant,
            job,
        }
    }

    impl Fixture {
        fn fire(&self) -> Fire {
            Fire {
                tenant: self.tenant.clone(),
                job_id: self.job.id.to_string(),
                scheduled_time: Utc.with_ymd_and_hms(2026, 1, 2, 3, 0, 0).unwrap(),
                trigger: TriggerKind::Schedule,
                window: None,
                run_id: None,
            }
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
            f.store.clone(),
            f.flink.clone(),
            Arc::new(FixedClock::default()),
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
}

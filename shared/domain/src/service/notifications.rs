//! Notifications (README, "Notifications"): the settings of a job
//! (`PUT`/`GET /jobs/{id}/notifications`), and the notifier, which turns a run's final state
//! change into at most one notice per run, sent to the channels of the rules that want it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::model::job::JobId;
use crate::model::notification::{
    ChannelPolicy, DeliveryStatus, Notice, NotificationOutcome, Notifications, NotificationsSpec,
    NotifyOn, Rule, outcome_of, wants,
};
use crate::model::run::RunStateChange;
use crate::model::validation::ValidationErrors;
use crate::ports::{
    AlertLedger, Clock, JobRepository, NoticeChannels, NoticeClaim, NotificationRepository, Pause,
    RepositoryError, RunRepository, SealError, SecretSealer,
};
use crate::{EncryptionContext, TenantId};

#[derive(Debug, thiserror::Error)]
pub enum PutNotificationsError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("invalid notifications: {0}")]
    Invalid(ValidationErrors),
    #[error("the notifications are at version {current}")]
    VersionMismatch { current: u64 },
    #[error("could not seal the signing secret")]
    Sealing(#[source] SealError),
    #[error("could not store the notifications")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum GetNotificationsError {
    #[error("job {0} not found")]
    JobNotFound(String),
    #[error("job {0} has no notifications")]
    NotFound(String),
    #[error("could not read the notifications")]
    Repository(#[source] RepositoryError),
}

/// The notification settings of jobs: checked, the signing secret sealed, stored beside the job.
#[derive(Clone)]
pub struct NotificationsService {
    jobs: Arc<dyn JobRepository>,
    settings: Arc<dyn NotificationRepository>,
    sealer: Arc<dyn SecretSealer>,
    clock: Arc<dyn Clock>,
    policy: ChannelPolicy,
}

impl NotificationsService {
    pub fn new(
        jobs: Arc<dyn JobRepository>,
        settings: Arc<dyn NotificationRepository>,
        sealer: Arc<dyn SecretSealer>,
        clock: Arc<dyn Clock>,
        policy: ChannelPolicy,
    ) -> Self {
        Self {
            jobs,
            settings,
            sealer,
            clock,
            policy,
        }
    }

    /// Creates (`true`) or replaces the job's settings; `if_match`, when given, must name the
    /// stored version. A signing secret left out keeps the stored one.
    pub async fn put(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        spec: NotificationsSpec,
        if_match: Option<u64>,
    ) -> Result<(Notifications, bool), PutNotificationsError> {
        let not_found = || PutNotificationsError::JobNotFound(job_id.to_string());
        self.jobs
            .get(tenant, job_id)
            .await
            .map_err(PutNotificationsError::Repository)?
            .ok_or_else(not_found)?;
        let previous = self
            .settings
            .get(tenant, job_id)
            .await
            .map_err(PutNotificationsError::Repository)?;
        if let (Some(expected), Some(stored)) = (if_match, &previous)
            && expected != stored.version
        {
            return Err(PutNotificationsError::VersionMismatch {
                current: stored.version,
            });
        }
        let stored_secret = previous.as_ref().and_then(|p| p.signing_secret.clone());
        let checked = spec
            .check(&self.policy, stored_secret.is_some())
            .map_err(PutNotificationsError::Invalid)?;
        let signing_secret = match &checked.signing_secret {
            Some(secret) => Some(self.seal(tenant, job_id, secret).await?),
            None => stored_secret,
        };
        let now = self.clock.now();
        let settings = Notifications {
            tenant: tenant.clone(),
            job_id: job_id.clone(),
            rules: checked.rules,
            quiet_period_seconds: checked.quiet_period_seconds,
            signing_secret,
            version: previous.as_ref().map_or(1, |p| p.version + 1),
            created_at: previous.as_ref().map_or(now, |p| p.created_at),
            updated_at: now,
        };
        let expected = previous.as_ref().map(|p| p.version);
        self.settings
            .put(&settings, expected)
            .await
            .map_err(|e| match e {
                RepositoryError::VersionMismatch { current } => {
                    PutNotificationsError::VersionMismatch { current }
                }
                RepositoryError::AlreadyExists => {
                    PutNotificationsError::VersionMismatch { current: 1 }
                }
                RepositoryError::MissingReference | RepositoryError::NotFound => not_found(),
                other => PutNotificationsError::Repository(other),
            })?;
        Ok((settings, previous.is_none()))
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Notifications, GetNotificationsError> {
        self.jobs
            .get(tenant, job_id)
            .await
            .map_err(GetNotificationsError::Repository)?
            .ok_or_else(|| GetNotificationsError::JobNotFound(job_id.to_string()))?;
        self.settings
            .get(tenant, job_id)
            .await
            .map_err(GetNotificationsError::Repository)?
            .ok_or_else(|| GetNotificationsError::NotFound(job_id.to_string()))
    }

    async fn seal(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        secret: &SecretString,
    ) -> Result<crate::SealedSecrets, PutNotificationsError> {
        let context = EncryptionContext::for_notifications(tenant, job_id.as_str());
        let plaintext = Zeroizing::new(secret.expose_secret().as_bytes().to_vec());
        self.sealer
            .seal(&context, &plaintext)
            .await
            .map_err(PutNotificationsError::Sealing)
    }
}

/// Why the notifier could not handle a change; the event should be delivered again.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the store is unavailable")]
    Store(#[source] RepositoryError),
    #[error("the signing secret could not be opened")]
    Secret(#[source] SealError),
}

/// What the notifier did with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// Not a final change, a final state no rule names (`canceled`), or a job without rules.
    Ignored,
    /// Another delivery of the change sent the run's notices (or is sending them).
    Duplicate,
    /// A failure inside the job's quiet period: counted, not sent.
    Suppressed,
    /// No rule wants this notice.
    NotWanted(NotifyOn),
    /// Sent: how each channel's delivery went (also recorded on the run).
    Sent(Vec<NotificationOutcome>),
}

/// How deliveries are retried: `attempts` in all, waiting `first_backoff` after the first failed
/// one and twice as long after each next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    /// How long a claim on a run's notices holds before another delivery may take it over.
    pub claim_hold: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_secs(1),
            claim_hold: Duration::from_secs(60),
        }
    }
}

/// The ports the notifier uses.
pub struct NotifierPorts {
    pub jobs: Arc<dyn JobRepository>,
    pub runs: Arc<dyn RunRepository>,
    pub settings: Arc<dyn NotificationRepository>,
    pub ledger: Arc<dyn AlertLedger>,
    pub channels: Arc<dyn NoticeChannels>,
    pub sealer: Arc<dyn SecretSealer>,
    pub pause: Arc<dyn Pause>,
    pub clock: Arc<dyn Clock>,
}

/// Turns final run state changes into notices (the notifier function).
pub struct Notifier {
    ports: NotifierPorts,
    policy: DeliveryPolicy,
}

/// Conditional writes that lose a race are tried again this many times.
const WRITE_TRIES: usize = 5;

impl Notifier {
    pub fn new(ports: NotifierPorts, policy: DeliveryPolicy) -> Self {
        Self { ports, policy }
    }

    /// Handles one delivery of a state change: only a final one notifies, once per run however
    /// often it is delivered; the job's history decides the notice (`recovered`, the quiet
    /// period); the channels' outcomes are recorded on the run, which never changes otherwise.
    pub async fn notify(&self, change: &RunStateChange) -> Result<Notified, NotifyError> {
        let p = &self.ports;
        let Some(outcome) = outcome_of(change.state).filter(|_| change.is_final) else {
            return Ok(Notified::Ignored);
        };
        let settings = p
            .settings
            .get(&change.tenant, &change.job_id)
            .await
            .map_err(NotifyError::Store)?;
        let Some(settings) = settings.filter(|s| !s.rules.is_empty()) else {
            return Ok(Notified::Ignored);
        };
        let now = p.clock.now();
        let hold = chrono::Duration::from_std(self.policy.claim_hold).unwrap_or_default();
        let claim = p
            .ledger
            .claim(&change.tenant, &change.run_id, now, now + hold)
            .await
            .map_err(NotifyError::Store)?;
        if claim == NoticeClaim::Taken {
            return Ok(Notified::Duplicate);
        }
        let notified = match self.send(change, outcome, &settings).await {
            Ok(notified) => notified,
            Err(e) => {
                // Nothing was sent: the next delivery of the change takes the notices at once.
                if let Err(release) = p.ledger.release(&change.tenant, &change.run_id).await {
                    tracing::warn!(error = %release, run_id = %change.run_id, "could not release the claim; it expires");
                }
                return Err(e);
            }
        };
        p.ledger
            .complete(&change.tenant, &change.run_id)
            .await
            .map_err(NotifyError::Store)?;
        Ok(notified)
    }

    /// With the claim held: the job's history decides the notice, the wanting rules' channels
    /// get it, the run records how. An error means nothing was sent.
    async fn send(
        &self,
        change: &RunStateChange,
        outcome: NotifyOn,
        settings: &Notifications,
    ) -> Result<Notified, NotifyError> {
        let p = &self.ports;
        let secret = self.signing_secret(settings).await?;
        let quiet = chrono::Duration::seconds(i64::from(settings.quiet_period_seconds));
        let Some((kind, suppressed)) = self.record_outcome(change, outcome, quiet).await? else {
            return Ok(Notified::Suppressed);
        };
        let rules: Vec<&Rule> = settings.rules.iter().filter(|r| wants(r, kind)).collect();
        if rules.is_empty() {
            return Ok(Notified::NotWanted(kind));
        }
        let job_name = match p.jobs.get(&change.tenant, &change.job_id).await {
            Ok(job) => job.map(|j| j.spec.name),
            Err(_) => None,
        };
        let notice = Notice::new(kind, change, job_name, suppressed);
        let sends = rules
            .iter()
            .map(|rule| self.deliver(rule, &notice, secret.as_ref()));
        let outcomes = join_all(sends).await;
        // Sent already: a failure to record it is logged, not retried (that would send again).
        if let Err(e) = self.record_on_run(change, &outcomes).await {
            tracing::warn!(error = %e, run_id = %change.run_id, "could not record the notices on the run");
        }
        Ok(Notified::Sent(outcomes))
    }

    /// The job's signing secret, opened, when it has one and a webhook to sign for.
    async fn signing_secret(
        &self,
        settings: &Notifications,
    ) -> Result<Option<SecretString>, NotifyError> {
        let webhooks = settings.rules.iter().any(|r| {
            matches!(
                r.channel,
                crate::model::notification::Channel::Webhook { .. }
            )
        });
        let Some(sealed) = settings.signing_secret.as_ref().filter(|_| webhooks) else {
            return Ok(None);
        };
        let context =
            EncryptionContext::for_notifications(&settings.tenant, settings.job_id.as_str());
        let opened = self
            .ports
            .sealer
            .open(&context, sealed)
            .await
            .map_err(NotifyError::Secret)?;
        let text = String::from_utf8(opened.to_vec())
            .map_err(|_| NotifyError::Secret(SealError::Tampered))?;
        Ok(Some(SecretString::from(text)))
    }

    /// Applies the outcome to the job's alert history (a conditional write, tried again when
    /// another run's notifier wrote first): the notice's kind and count, or `None` when quiet.
    async fn record_outcome(
        &self,
        change: &RunStateChange,
        outcome: NotifyOn,
        quiet: chrono::Duration,
    ) -> Result<Option<(NotifyOn, u32)>, NotifyError> {
        let ledger = &self.ports.ledger;
        let mut tries = 0;
        loop {
            let state = ledger
                .state(&change.tenant, &change.job_id)
                .await
                .map_err(NotifyError::Store)?;
            let decision = state.decide(outcome, change.time, quiet);
            let mut next = decision.next;
            next.version = state.version + 1;
            match ledger
                .save_state(&change.tenant, &change.job_id, &next)
                .await
            {
                Ok(()) => return Ok(decision.notice),
                Err(RepositoryError::VersionMismatch { .. }) if tries < WRITE_TRIES => tries += 1,
                Err(e) => return Err(NotifyError::Store(e)),
            }
        }
    }

    /// One channel's delivery, retried with backoff while the failure may pass.
    async fn deliver(
        &self,
        rule: &Rule,
        notice: &Notice,
        secret: Option<&SecretString>,
    ) -> NotificationOutcome {
        // Only webhooks are signed: no other channel sees the secret.
        let secret = secret.filter(|_| {
            matches!(
                rule.channel,
                crate::model::notification::Channel::Webhook { .. }
            )
        });
        let mut attempts = 0;
        let mut backoff = self.policy.first_backoff;
        let error = loop {
            attempts += 1;
            match self
                .ports
                .channels
                .deliver(&rule.channel, notice, secret)
                .await
            {
                Ok(()) => break None,
                Err(e) if e.retryable && attempts < self.policy.attempts => {
                    self.ports.pause.pause(backoff).await;
                    backoff *= 2;
                }
                Err(e) => break Some(e.message),
            }
        };
        let channel = rule.channel.label();
        match &error {
            None => {
                tracing::info!(%channel, kind = notice.kind.as_str(), run_id = %notice.run_id, attempts, "notice delivered")
            }
            Some(e) => {
                tracing::warn!(%channel, kind = notice.kind.as_str(), run_id = %notice.run_id, attempts, error = %e, "notice not delivered")
            }
        }
        NotificationOutcome {
            channel,
            kind: notice.kind,
            status: if error.is_none() {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            },
            attempts,
            error,
            at: self.ports.clock.now(),
        }
    }

    /// Adds the outcomes to the run (a conditional write, tried again when the run changed
    /// meanwhile); nothing else of the run changes.
    async fn record_on_run(
        &self,
        change: &RunStateChange,
        outcomes: &[NotificationOutcome],
    ) -> Result<(), NotifyError> {
        let runs = &self.ports.runs;
        let mut tries = 0;
        loop {
            let Some(mut run) = runs
                .get(&change.tenant, &change.run_id)
                .await
                .map_err(NotifyError::Store)?
            else {
                return Ok(());
            };
            let expected = run.version;
            run.notifications.extend_from_slice(outcomes);
            run.version += 1;
            match runs.update(&run, expected).await {
                Ok(()) => return Ok(()),
                Err(RepositoryError::VersionMismatch { .. }) if tries < WRITE_TRIES => tries += 1,
                Err(RepositoryError::NotFound) => return Ok(()),
                Err(e) => return Err(NotifyError::Store(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::fakes::{
        FakeSealer, ManualClock, MemoryAlertLedger, MemoryStore, RecordingChannels, RecordingPause,
    };
    use crate::model::job::{FlinkTarget, Job, JobSpec};
    use crate::model::run::{NewRun, Run, RunError, RunErrorCode, RunId, RunState, TriggerKind};
    use crate::ports::RunRepository;
    use crate::{Source, SourceId, SourceKind};

    const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:sluice-alerts";
    const HOOK: &str = "https://hooks.example.com";
    const CANARY: &str = "canary-signing-Zq8#ünï";

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap()
    }

    struct Fixture {
        store: Arc<MemoryStore>,
        ledger: Arc<MemoryAlertLedger>,
        channels: Arc<RecordingChannels>,
        pause: Arc<RecordingPause>,
        sealer: Arc<FakeSealer>,
        clock: Arc<ManualClock>,
        service: NotificationsService,
        notifier: Notifier,
        tenant: TenantId,
        job: JobId,
    }

    async fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let ledger = Arc::new(MemoryAlertLedger::default());
        let channels = Arc::new(RecordingChannels::default());
        let pause = Arc::new(RecordingPause::default());
        let sealer = Arc::new(FakeSealer::default());
        let clock = Arc::new(ManualClock::at(t0()));
        let tenant = TenantId::parse("acme").unwrap();
        let service = NotificationsService::new(
            store.clone(),
            store.clone(),
            sealer.clone(),
            clock.clone(),
            ChannelPolicy {
                topic_arn_prefix: "arn:aws:sns:eu-west-1:123456789012:sluice-".into(),
                allow_loopback_http: false,
            },
        );
        let notifier = Notifier::new(
            NotifierPorts {
                jobs: store.clone(),
                runs: store.clone(),
                settings: store.clone(),
                ledger: ledger.clone(),
                channels: channels.clone(),
                sealer: sealer.clone(),
                pause: pause.clone(),
                clock: clock.clone(),
            },
            DeliveryPolicy::default(),
        );
        let source = Source {
            id: SourceId::generate(),
            tenant: tenant.clone(),
            name: "db".into(),
            kind: SourceKind::Postgres,
            config: Default::default(),
            secret_fields: Vec::new(),
            sealed_secrets: None,
            secrets_updated_at: None,
            version: 1,
            created_at: t0(),
            updated_at: t0(),
        };
        crate::ports::SourceRepository::insert(store.as_ref(), &source)
            .await
            .unwrap();
        let spec: JobSpec = serde_json::from_value(json!({
            "name": "orders → täglich",
            "source": {"source_id": source.id.as_str(), "object": "t", "columns": [{"name": "id", "type": "BIGINT"}]},
            "target": {"source_id": source.id.as_str(), "object": "u", "write_mode": "append"},
            "options": {"mode": "batch"}
        }))
        .unwrap();
        let job = Job {
            id: JobId::generate(),
            tenant: tenant.clone(),
            spec,
            source_id: source.id.clone(),
            target_id: source.id,
            source_snapshot: None,
            version: 1,
            created_at: t0(),
            updated_at: t0(),
        };
        JobRepository::insert(store.as_ref(), &job).await.unwrap();
        Fixture {
            store,
            ledger,
            channels,
            pause,
            sealer,
            clock,
            service,
            notifier,
            tenant,
            job: job.id,
        }
    }

    fn spec(json: serde_json::Value) -> NotificationsSpec {
        serde_json::from_value(json).unwrap()
    }

    impl Fixture {
        /// Rules: failures and recoveries to the webhook, every outcome to the topic.
        async fn configure(&self, quiet_period_seconds: u32) {
            self.service
                .put(
                    &self.tenant,
                    &self.job,
                    spec(json!({
                        "rules": [
                            {"on": ["failed", "timed_out", "recovered"], "channel": {"type": "webhook", "url": format!("{HOOK}/hook/secret-path"), "format": "json"}},
                            {"on": ["succeeded", "skipped"], "channel": {"type": "sns", "topic_arn": TOPIC}},
                        ],
                        "quiet_period_seconds": quiet_period_seconds,
                        "signing_secret": CANARY,
                    })),
                    None,
                )
                .await
                .unwrap();
        }

        /// A stored run of the job scheduled at `minute`, ended in `state` at that minute with
        /// no attempt left; its final change.
        async fn ended(&self, minute: i64, state: RunState) -> RunStateChange {
            let at = t0() + chrono::Duration::minutes(minute);
            let mut run = Run::pending(
                NewRun {
                    id: RunId::for_fire(&self.job, at),
                    tenant: self.tenant.clone(),
                    job_id: self.job.clone(),
                    trigger: TriggerKind::Schedule,
                    scheduled_time: at,
                    window: None,
                    flink_target: FlinkTarget::DEFAULT_SESSION,
                },
                at,
            );
            self.store.create(&run).await.unwrap();
            let (claimed, _) = run.claim(at);
            run = if state == RunState::Succeeded {
                let mut done = claimed.transition(RunState::Succeeded, at);
                done.rows_written = Some(0);
                done
            } else {
                claimed.end(
                    state,
                    RunError::new(RunErrorCode::FlinkJobFailed, "Flink: division by zero"),
                    at,
                )
            };
            RunRepository::update(self.store.as_ref(), &run, 1)
                .await
                .unwrap();
            RunStateChange::between(Some(RunState::Running), &run).unwrap()
        }

        fn kinds(&self) -> Vec<(String, NotifyOn, u32)> {
            self.channels
                .delivered()
                .into_iter()
                .map(|(label, n)| (label, n.kind, n.suppressed_failures))
                .collect()
        }
    }

    #[tokio::test]
    async fn only_final_changes_notify_and_each_run_once() {
        let f = fixture().await;
        f.configure(3600).await;
        let mut change = f.ended(0, RunState::Failed).await;
        let mut retried = change.clone();
        retried.is_final = false;
        assert_eq!(
            f.notifier.notify(&retried).await.unwrap(),
            Notified::Ignored
        );
        let mut running = change.clone();
        running.state = RunState::Running;
        assert_eq!(
            f.notifier.notify(&running).await.unwrap(),
            Notified::Ignored
        );
        assert!(f.channels.attempts().is_empty());

        assert!(matches!(
            f.notifier.notify(&change).await.unwrap(),
            Notified::Sent(_)
        ));
        // Duplicate deliveries of the same change, even later, send nothing more.
        for _ in 0..3 {
            assert_eq!(
                f.notifier.notify(&change).await.unwrap(),
                Notified::Duplicate
            );
        }
        f.clock.advance(chrono::Duration::hours(2));
        assert_eq!(
            f.notifier.notify(&change).await.unwrap(),
            Notified::Duplicate
        );
        assert_eq!(f.kinds(), [(HOOK.to_owned(), NotifyOn::Failed, 0)]);
        assert_eq!(f.ledger.completed(), [change.run_id.clone()]);

        // A canceled run is final but no rule can name it.
        change = f.ended(1, RunState::Canceled).await;
        assert_eq!(f.notifier.notify(&change).await.unwrap(), Notified::Ignored);
    }

    #[tokio::test]
    async fn a_delivery_that_fails_before_sending_leaves_the_notices_to_the_next() {
        let f = fixture().await;
        f.configure(3600).await;
        let change = f.ended(0, RunState::Failed).await;
        // The signing secret does not open (another job's ciphertext): nothing is sent.
        let mut settings = NotificationRepository::get(f.store.as_ref(), &f.tenant, &f.job)
            .await
            .unwrap()
            .unwrap();
        let good = settings.signing_secret.clone();
        let mut moved = good.clone().unwrap();
        moved.encrypted_data_key = b"another context".to_vec();
        settings.signing_secret = Some(moved);
        settings.version += 1;
        NotificationRepository::put(f.store.as_ref(), &settings, Some(1))
            .await
            .unwrap();
        assert!(matches!(
            f.notifier.notify(&change).await,
            Err(NotifyError::Secret(SealError::Tampered))
        ));
        assert!(f.channels.attempts().is_empty());
        // The next delivery (the secret readable again) is not a duplicate: it sends.
        settings.signing_secret = good;
        settings.version += 1;
        NotificationRepository::put(f.store.as_ref(), &settings, Some(2))
            .await
            .unwrap();
        assert!(matches!(
            f.notifier.notify(&change).await.unwrap(),
            Notified::Sent(_)
        ));
        assert_eq!(f.kinds(), [(HOOK.to_owned(), NotifyOn::Failed, 0)]);
    }

    #[tokio::test]
    async fn a_success_after_a_failure_is_recovered_and_the_next_is_succeeded() {
        let f = fixture().await;
        f.configure(3600).await;
        for (minute, state) in [
            (0, RunState::Succeeded),
            (1, RunState::Failed),
            (2, RunState::Succeeded),
            (3, RunState::Succeeded),
        ] {
            let change = f.ended(minute, state).await;
            f.notifier.notify(&change).await.unwrap();
        }
        assert_eq!(
            f.kinds(),
            [
                (TOPIC, NotifyOn::Succeeded, 0),
                (HOOK, NotifyOn::Failed, 0),
                // The topic's rule names `succeeded`: it hears of the recovery too.
                (HOOK, NotifyOn::Recovered, 0),
                (TOPIC, NotifyOn::Recovered, 0),
                (TOPIC, NotifyOn::Succeeded, 0),
            ]
            .map(|(l, k, n)| (l.to_owned(), k, n))
        );
    }

    #[tokio::test]
    async fn five_failures_in_a_quiet_period_alert_once_and_the_next_alert_counts_the_rest() {
        let f = fixture().await;
        f.configure(600).await;
        let mut results = Vec::new();
        for minute in 0..5 {
            let change = f.ended(minute, RunState::Failed).await;
            results.push(f.notifier.notify(&change).await.unwrap());
        }
        assert!(matches!(results[0], Notified::Sent(_)));
        assert_eq!(
            results[1..],
            [
                Notified::Suppressed,
                Notified::Suppressed,
                Notified::Suppressed,
                Notified::Suppressed
            ]
        );
        // Past the quiet period: the next failure alerts with the four not sent.
        let change = f.ended(11, RunState::TimedOut).await;
        f.notifier.notify(&change).await.unwrap();
        let change = f.ended(12, RunState::Failed).await;
        f.notifier.notify(&change).await.unwrap();
        let change = f.ended(13, RunState::Succeeded).await;
        f.notifier.notify(&change).await.unwrap();
        let hook: Vec<(NotifyOn, u32)> = f
            .kinds()
            .into_iter()
            .filter(|(l, ..)| l == HOOK)
            .map(|(_, k, n)| (k, n))
            .collect();
        assert_eq!(
            hook,
            [
                (NotifyOn::Failed, 0),
                (NotifyOn::TimedOut, 4),
                (NotifyOn::Recovered, 1)
            ]
        );
        let summary = f.channels.delivered()[1].1.summary();
        assert!(summary.contains("4 more failure(s)"), "{summary}");
    }

    #[tokio::test]
    async fn failed_deliveries_are_retried_with_backoff_and_recorded_on_the_run() {
        let f = fixture().await;
        f.configure(3600).await;
        // The webhook fails twice (500), then takes it; the topic refuses for good.
        f.channels.fail(HOOK, 2, true);
        f.channels.fail(TOPIC, 5, false);
        let failed = f.ended(0, RunState::Failed).await;
        let Notified::Sent(outcomes) = f.notifier.notify(&failed).await.unwrap() else {
            panic!("sent")
        };
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].status, DeliveryStatus::Delivered);
        assert_eq!(outcomes[0].attempts, 3);
        assert_eq!(
            f.pause.pauses(),
            [Duration::from_secs(1), Duration::from_secs(2)]
        );
        f.channels.fail(HOOK, 3, true);
        let run_before = RunRepository::get(f.store.as_ref(), &f.tenant, &failed.run_id)
            .await
            .unwrap()
            .unwrap();
        let recovered = f.ended(1, RunState::Succeeded).await;
        let Notified::Sent(outcomes) = f.notifier.notify(&recovered).await.unwrap() else {
            panic!("sent")
        };
        let by_channel: Vec<_> = outcomes
            .iter()
            .map(|o| (o.channel.as_str(), o.status, o.attempts, o.error.as_deref()))
            .collect();
        assert_eq!(
            by_channel,
            [
                (
                    HOOK,
                    DeliveryStatus::Failed,
                    3,
                    Some("the receiver answered 500")
                ),
                (
                    TOPIC,
                    DeliveryStatus::Failed,
                    1,
                    Some("the receiver answered 500")
                ),
            ]
        );
        // Recorded on the runs; nothing else of them changed.
        let run = RunRepository::get(f.store.as_ref(), &f.tenant, &recovered.run_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(run.state, RunState::Succeeded);
        assert_eq!(run.notifications, outcomes);
        let failed_run = RunRepository::get(f.store.as_ref(), &f.tenant, &failed.run_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(failed_run.notifications.len(), 1);
        assert_eq!(
            Run {
                notifications: Vec::new(),
                version: run_before.version,
                ..failed_run.clone()
            },
            Run {
                notifications: Vec::new(),
                ..run_before
            }
        );
    }

    #[tokio::test]
    async fn webhooks_are_signed_with_the_opened_secret_and_topics_are_not() {
        let f = fixture().await;
        f.configure(3600).await;
        let change = f.ended(0, RunState::Failed).await;
        f.notifier.notify(&change).await.unwrap();
        let change = f.ended(1, RunState::Succeeded).await;
        f.notifier.notify(&change).await.unwrap();
        for (label, notice, secret) in f.channels.attempts() {
            let expected = (label == HOOK).then(|| CANARY.to_owned());
            assert_eq!(secret, expected, "{label}");
            assert_eq!(notice.job_name.as_deref(), Some("orders → täglich"));
            assert!(!serde_json::to_string(&notice).unwrap().contains(CANARY));
        }
        assert_eq!(
            f.sealer.contexts(),
            [EncryptionContext::for_notifications(
                &f.tenant,
                f.job.as_str()
            )]
        );
    }

    #[tokio::test]
    async fn settings_are_checked_sealed_and_the_secret_kept_when_left_out() {
        let f = fixture().await;
        let bad = f
            .service
            .put(
                &f.tenant,
                &f.job,
                spec(json!({"rules": [{"on": ["failed"], "channel": {"type": "webhook", "url": "http://example.com/h"}}], "signing_secret": CANARY})),
                None,
            )
            .await
            .unwrap_err();
        let PutNotificationsError::Invalid(errors) = bad else {
            panic!("{bad:?}")
        };
        assert_eq!(errors.errors()[0].field, "rules[0].channel.url");
        assert!(!errors.to_string().contains(CANARY));

        f.configure(600).await;
        let first = f.service.get(&f.tenant, &f.job).await.unwrap();
        assert_eq!(first.version, 1);
        assert_eq!(first.quiet_period_seconds, 600);
        let sealed = first.signing_secret.clone().unwrap();
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains(CANARY));
        let (second, created) = f
            .service
            .put(
                &f.tenant,
                &f.job,
                spec(json!({"rules": [{"on": ["failed"], "channel": {"type": "webhook", "url": "https://example.com/h", "format": "slack"}}]})),
                Some(1),
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(second.version, 2);
        assert_eq!(
            second.quiet_period_seconds,
            DEFAULT_QUIET_PERIOD_SECONDS_FOR_TEST
        );
        assert_eq!(second.signing_secret, Some(sealed));
        assert!(matches!(
            f.service
                .put(&f.tenant, &f.job, spec(json!({"rules": []})), Some(1))
                .await,
            Err(PutNotificationsError::VersionMismatch { current: 2 })
        ));
        let other = JobId::generate();
        assert!(matches!(
            f.service.get(&f.tenant, &other).await,
            Err(GetNotificationsError::JobNotFound(_))
        ));
        assert!(matches!(
            f.service
                .put(&f.tenant, &other, spec(json!({"rules": []})), None)
                .await,
            Err(PutNotificationsError::JobNotFound(_))
        ));
    }

    const DEFAULT_QUIET_PERIOD_SECONDS_FOR_TEST: u32 =
        crate::model::notification::DEFAULT_QUIET_PERIOD_SECONDS;
}

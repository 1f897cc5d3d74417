//! Runs: one execution of a job, keyed by (job, scheduled time).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::TenantId;
use crate::model::job::{FlinkTarget, JobId, Window};
use crate::model::schedule::RunPolicy;

ulid_id!(
    /// `run_` followed by a ULID whose time is the run's scheduled time. Runs
    /// of the schedule derive the random part from (job, scheduled time), so
    /// every delivery of one fire names the same run: that is what makes
    /// duplicate deliveries collapse into one run.
    RunId,
    "run_",
    "run id"
);

impl RunId {
    /// The one id of the run of `job` scheduled at `at`.
    pub fn for_fire(job: &JobId, at: DateTime<Utc>) -> Self {
        let digest = Sha256::digest(format!("{job}|{}", at.timestamp_millis()).as_bytes());
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let ulid = ulid::Ulid::from_parts(
            at.timestamp_millis().max(0) as u64,
            u128::from_be_bytes(random),
        );
        Self(format!("{}{ulid}", Self::PREFIX))
    }

    /// The one id of the run of `child` that `parent`'s success starts, so
    /// the reconciler can hand it over any number of times.
    pub fn for_child(child: &JobId, parent: &RunId) -> Self {
        let digest = Sha256::digest(format!("{child}|after|{parent}").as_bytes());
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let parent_time = ulid::Ulid::from_string(&parent.0[Self::PREFIX.len()..])
            .map(|u| u.timestamp_ms())
            .unwrap_or_default();
        let ulid = ulid::Ulid::from_parts(parent_time, u128::from_be_bytes(random));
        Self(format!("{}{ulid}", Self::PREFIX))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Pending,
    Submitting,
    Running,
    Succeeded,
    Failed,
    Canceled,
    Skipped,
    TimedOut,
    Lost,
}

impl RunState {
    /// Not finished: the reconciler follows these.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RunState::Pending | RunState::Submitting | RunState::Running
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Pending => "pending",
            RunState::Submitting => "submitting",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
            RunState::Canceled => "canceled",
            RunState::Skipped => "skipped",
            RunState::TimedOut => "timed_out",
            RunState::Lost => "lost",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Schedule,
    Manual,
    Retry,
    Parent,
    Backfill,
}

/// Why a run failed, for machines: stored and answered as its snake_case
/// name (`kms_unavailable`), which the API promises to keep stable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunErrorCode {
    JobNotFound,
    SourceNotFound,
    TargetUnknown,
    RenderFailed,
    SealFailed,
    SecretsUnreadable,
    KmsUnavailable,
    StoreUnavailable,
    FlinkUnreachable,
    FlinkRejected,
    /// The cluster did not know a submission it was just given: unlike a
    /// refusal, another delivery may succeed.
    FlinkSubmissionLost,
    TriggerUnavailable,
    FlinkJobFailed,
    FlinkJobUnknown,
    TimedOut,
    Stalled,
    Superseded,
    Overlap,
    EmptyWindow,
    /// The target table does not exist and the job does not create it
    /// (`target.create: never`).
    TargetMissing,
    /// The source table's columns differ from the job's snapshot of them.
    SchemaDrift,
    /// A database the run prepares (drift check, target table) could not
    /// be reached or refused a statement.
    SourceUnreachable,
    /// The discovery function could not be invoked or failed.
    DiscoveryUnavailable,
    /// `validate: count`: the target's rows for the run's window differ in
    /// number from the source's. The watermark stays where it was.
    ValidationMismatch,
    /// `validate: count`: the rows could not be counted before the run's
    /// deadline, so the copy is unverified.
    ValidationUnavailable,
    /// A code this version does not know (written by another version):
    /// kept as stored so such runs still load and answer as they were.
    #[serde(untagged)]
    Other(String),
}

impl RunErrorCode {
    /// Whether another attempt may succeed: the failure was a dependency's
    /// (cluster unreachable, KMS throttled), not the job's. The one place
    /// this is decided; an unknown code is not retried, as nothing here
    /// knows it would help.
    pub fn retryable(&self) -> bool {
        match self {
            Self::KmsUnavailable
            | Self::StoreUnavailable
            | Self::FlinkUnreachable
            | Self::FlinkSubmissionLost
            | Self::TriggerUnavailable
            | Self::SourceUnreachable
            | Self::DiscoveryUnavailable => true,
            Self::JobNotFound
            | Self::SourceNotFound
            | Self::TargetUnknown
            | Self::RenderFailed
            | Self::SealFailed
            | Self::SecretsUnreadable
            | Self::FlinkRejected
            | Self::FlinkJobFailed
            | Self::FlinkJobUnknown
            | Self::TimedOut
            | Self::Stalled
            | Self::Superseded
            | Self::Overlap
            | Self::EmptyWindow
            | Self::TargetMissing
            | Self::SchemaDrift
            | Self::ValidationMismatch
            | Self::ValidationUnavailable
            | Self::Other(_) => false,
        }
    }

    /// The wire name (what serde writes), for logs and messages.
    pub fn as_str(&self) -> &str {
        match self {
            Self::JobNotFound => "job_not_found",
            Self::SourceNotFound => "source_not_found",
            Self::TargetUnknown => "target_unknown",
            Self::RenderFailed => "render_failed",
            Self::SealFailed => "seal_failed",
            Self::SecretsUnreadable => "secrets_unreadable",
            Self::KmsUnavailable => "kms_unavailable",
            Self::StoreUnavailable => "store_unavailable",
            Self::FlinkUnreachable => "flink_unreachable",
            Self::FlinkRejected => "flink_rejected",
            Self::FlinkSubmissionLost => "flink_submission_lost",
            Self::TriggerUnavailable => "trigger_unavailable",
            Self::FlinkJobFailed => "flink_job_failed",
            Self::FlinkJobUnknown => "flink_job_unknown",
            Self::TimedOut => "timed_out",
            Self::Stalled => "stalled",
            Self::Superseded => "superseded",
            Self::Overlap => "overlap",
            Self::EmptyWindow => "empty_window",
            Self::TargetMissing => "target_missing",
            Self::SchemaDrift => "schema_drift",
            Self::SourceUnreachable => "source_unreachable",
            Self::DiscoveryUnavailable => "discovery_unavailable",
            Self::ValidationMismatch => "validation_mismatch",
            Self::ValidationUnavailable => "validation_unavailable",
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for RunErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Codes compare with their wire names, as the API's clients see them.
impl PartialEq<&str> for RunErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What `validate: count` found after a run's Flink job finished: the
/// rows of the run's window (the whole table for a job that is not
/// incremental) on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub source_rows: u64,
    pub target_rows: u64,
    pub ok: bool,
}

impl Validation {
    pub fn of(source_rows: u64, target_rows: u64) -> Self {
        Self {
            source_rows,
            target_rows,
            ok: source_rows == target_rows,
        }
    }
}

/// Why a run failed: a stable code for machines, a message for people.
/// Messages never carry secrets or SQL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunError {
    pub code: RunErrorCode,
    pub message: String,
    /// Whether another attempt may succeed (the cluster was unreachable,
    /// KMS throttled), as opposed to a job that cannot run as it is.
    /// [`RunError::new`] derives it from the code; it is stored too, so a
    /// run written by another version keeps the answer it was given.
    pub retryable: bool,
}

impl RunError {
    pub fn new(code: RunErrorCode, message: impl Into<String>) -> Self {
        Self {
            retryable: code.retryable(),
            code,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: RunId,
    pub tenant: TenantId,
    pub job_id: JobId,
    pub trigger: TriggerKind,
    pub scheduled_time: DateTime<Utc>,
    pub window: Option<Window>,
    pub state: RunState,
    pub flink_target: FlinkTarget,
    /// The reference of the run's Flink job, once the target has it (the
    /// job of the current [`submission`](Self::submission) only).
    pub flink_job_id: Option<String>,
    pub attempts: u32,
    /// The number of the run's current submission to Flink (0 before the
    /// first), which names its Flink job (a `Submission` of the Flink ports).
    pub submission: u32,
    pub error: Option<RunError>,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    /// `validate: count`: the rows counted on both sides after Flink
    /// finished the run's job.
    pub validation: Option<Validation>,
    /// A multi-table job's tables with the rows each read and wrote, in the
    /// job's order (empty for a single-table job); `rows_read` and
    /// `rows_written` are their sums.
    pub tables: Vec<TableRows>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The policy the run started with (from the job's schedule).
    pub policy: RunPolicy,
    /// When a running run is cancelled as `timed_out`.
    pub deadline: Option<DateTime<Utc>>,
    /// When a failed run's next attempt may start, if it has one left.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// A succeeded run whose follow-ups (watermark, child jobs) are not
    /// all done yet.
    pub follow_up_pending: bool,
    /// The run whose success started this one (`trigger: parent`).
    pub parent_run_id: Option<RunId>,
    /// How the run's notices were delivered (`service::notifications`), once it ended for good.
    pub notifications: Vec<crate::model::delivery::NotificationOutcome>,
    /// Grows by one per write: every transition is a conditional update.
    pub version: u64,
}

/// One table of a multi-table run and the rows Flink counted for it
/// (`None` until the run ends, or when Flink did not count them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableRows {
    /// The source table.
    pub table: String,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
}

/// The rows of table `index` (1-based, in the job's order) of a
/// multi-table job's Flink job, as Flink reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlinkTableRows {
    pub index: usize,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
}

impl TableRows {
    /// The tables of `job` before any count.
    pub fn of(job: &crate::model::job::Job) -> Vec<Self> {
        job.spec
            .tables
            .iter()
            .map(|t| Self {
                table: t.source.clone(),
                rows_read: None,
                rows_written: None,
            })
            .collect()
    }

    /// `tables` with the counts Flink gave per table (by 1-based index).
    pub fn counted(tables: &[Self], counts: &[FlinkTableRows]) -> Vec<Self> {
        tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let found = counts.iter().find(|c| c.index == i + 1);
                Self {
                    table: t.table.clone(),
                    rows_read: found.and_then(|c| c.rows_read),
                    rows_written: found.and_then(|c| c.rows_written),
                }
            })
            .collect()
    }
}

/// What identifies a new run and what it will read.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub id: RunId,
    pub tenant: TenantId,
    pub job_id: JobId,
    pub trigger: TriggerKind,
    pub scheduled_time: DateTime<Utc>,
    pub window: Option<Window>,
    pub flink_target: FlinkTarget,
}

impl Run {
    /// A new pending run.
    pub fn pending(new: NewRun, now: DateTime<Utc>) -> Self {
        Self {
            id: new.id,
            tenant: new.tenant,
            job_id: new.job_id,
            trigger: new.trigger,
            scheduled_time: new.scheduled_time,
            window: new.window,
            state: RunState::Pending,
            flink_target: new.flink_target,
            flink_job_id: None,
            attempts: 0,
            submission: 0,
            error: None,
            rows_read: None,
            rows_written: None,
            validation: None,
            tables: Vec::new(),
            created_at: now,
            updated_at: now,
            finished_at: None,
            policy: RunPolicy::default(),
            deadline: None,
            next_attempt_at: None,
            follow_up_pending: false,
            parent_run_id: None,
            notifications: Vec::new(),
            version: 1,
        }
    }

    /// Ended for good: no next attempt scheduled, and not a retryable failure
    /// that another delivery of its fire may still take up (the trigger
    /// claims those again). What alerts and the run report count.
    pub fn is_final(&self) -> bool {
        if self.state.is_active() || self.next_attempt_at.is_some() {
            return false;
        }
        let redeliverable = self.state == RunState::Failed
            && self.error.as_ref().is_some_and(|e| e.retryable)
            && self
                .policy
                .retry
                .is_none_or(|retry| self.attempts < retry.max_attempts);
        !redeliverable
    }

    /// Whether the reconciler still has work on this run: following it on
    /// Flink, starting its next attempt, or finishing its follow-ups.
    pub fn needs_reconciler(&self) -> bool {
        self.state.is_active() || self.next_attempt_at.is_some() || self.follow_up_pending
    }

    /// The submission the next attempt of this run makes. While no Flink
    /// job is recorded for the last one, its outcome is unknown (the answer
    /// was lost, or it never got that far): the attempt makes it again,
    /// finding the job it may have started. After a job of the run has run,
    /// the attempt needs a new one: the next number.
    pub fn next_submission(&self) -> u32 {
        if self.submission > 0 && self.flink_job_id.is_none() {
            self.submission
        } else {
            self.submission + 1
        }
    }

    /// The next version of this run, failed with `error`; a next attempt is
    /// planned when the error is the job's (not a final refusal) and the
    /// retry policy has attempts left.
    pub fn fail(&self, error: RunError, now: DateTime<Utc>) -> Self {
        let mut failed = self.transition(RunState::Failed, now);
        failed.next_attempt_at = self
            .policy
            .retry
            .and_then(|retry| retry.next_attempt_at(self.attempts, now));
        failed.error = Some(error);
        failed
    }

    /// The next version of this run, claimed by one delivery for its next
    /// attempt (`submitting`), and whether that attempt makes the last
    /// submission again (its Flink job may exist already: find it first).
    pub fn claim(&self, now: DateTime<Utc>) -> (Self, bool) {
        let mut claimed = self.transition(RunState::Submitting, now);
        claimed.attempts += 1;
        claimed.error = None;
        claimed.finished_at = None;
        claimed.submission = self.next_submission();
        let same_submission = claimed.submission == self.submission;
        if !same_submission {
            claimed.flink_job_id = None;
        }
        (claimed, same_submission)
    }

    /// The next version of this run, running as Flink job `flink_job_id`
    /// since `now`, with its deadline when the policy sets a timeout.
    pub fn submitted(&self, flink_job_id: String, now: DateTime<Utc>) -> Self {
        let mut running = self.transition(RunState::Running, now);
        running.flink_job_id = Some(flink_job_id);
        running.deadline = self
            .policy
            .timeout_seconds
            .map(|t| now + chrono::Duration::seconds(i64::from(t)));
        running
    }

    /// The next version of this run, ended in `state` (skipped, canceled,
    /// timed out, lost) with `error` saying why.
    pub fn end(&self, state: RunState, error: RunError, now: DateTime<Utc>) -> Self {
        let mut ended = self.transition(state, now);
        ended.error = Some(error);
        ended
    }

    /// The next version of this succeeded run, its follow-ups (watermark,
    /// child jobs) all done.
    pub fn followed_up(&self, now: DateTime<Utc>) -> Self {
        let mut done = self.clone();
        done.follow_up_pending = false;
        done.updated_at = now;
        done.version += 1;
        done
    }

    /// The next version of this run in `state`.
    pub fn transition(&self, state: RunState, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.state = state;
        next.updated_at = now;
        next.version += 1;
        next.next_attempt_at = None;
        if !state.is_active() {
            next.finished_at = Some(now);
        }
        next
    }
}

/// One state change of a run, as sluice publishes it to subscribers
/// (EventBridge `detail-type: "Sluice Run State Change"`): ids, states,
/// times, counts and the error's code and message. Never a secret or SQL
/// (run errors never carry either).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStateChange {
    pub tenant: TenantId,
    pub job_id: JobId,
    pub run_id: RunId,
    /// `None` for a run just created (`pending`).
    pub previous_state: Option<RunState>,
    pub state: RunState,
    pub trigger: TriggerKind,
    pub scheduled_time: DateTime<Utc>,
    pub flink_job_id: Option<String>,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    /// A multi-table run's rows per table (absent for a single table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableRows>,
    pub error: Option<RunStateChangeError>,
    /// The attempt this state belongs to (0 before the first claim).
    pub attempt: u32,
    /// The run's version after the change: orders the changes of one run
    /// (the bus does not promise to deliver them in order).
    pub version: u64,
    /// When the change was recorded.
    pub time: DateTime<Utc>,
    /// When the run was created (its fire): with `time`, a final change's duration.
    pub created_at: DateTime<Utc>,
    /// The run has ended for good ([`Run::is_final`]): an end state with no attempt left (a
    /// failed attempt that will be retried, or that a redelivery of its fire may take up, is
    /// not final). Alerts and reports count final changes.
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A run error as published: code and message only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStateChangeError {
    pub code: RunErrorCode,
    pub message: String,
}

impl RunStateChange {
    /// The change that made `run` what it is, from `previous` (`None` when
    /// it was just created); `None` when the state did not change.
    pub fn between(previous: Option<RunState>, run: &Run) -> Option<Self> {
        (previous != Some(run.state)).then(|| Self {
            tenant: run.tenant.clone(),
            job_id: run.job_id.clone(),
            run_id: run.id.clone(),
            previous_state: previous,
            state: run.state,
            trigger: run.trigger,
            scheduled_time: run.scheduled_time,
            flink_job_id: run.flink_job_id.clone(),
            rows_read: run.rows_read,
            rows_written: run.rows_written,
            tables: run.tables.clone(),
            error: run.error.as_ref().map(|e| RunStateChangeError {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
            attempt: run.attempts,
            version: run.version,
            time: run.updated_at,
            created_at: run.created_at,
            is_final: run.is_final(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_run_is_final_when_no_attempt_or_delivery_can_take_it_up_again() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let job = JobId::generate();
        let pending = Run::pending(
            NewRun {
                id: RunId::for_fire(&job, at),
                tenant: TenantId::parse("acme").unwrap(),
                job_id: job,
                trigger: TriggerKind::Schedule,
                scheduled_time: at,
                window: None,
                flink_target: FlinkTarget::DEFAULT_SESSION,
            },
            at,
        );
        let failed = |code: RunErrorCode, attempts: u32, max: Option<u32>| {
            let mut run = pending.clone();
            run.state = RunState::Failed;
            run.error = Some(RunError::new(code, "x"));
            run.attempts = attempts;
            run.policy.retry = max.map(|max_attempts| crate::model::schedule::RetryPolicy {
                max_attempts,
                backoff_seconds: 60,
            });
            run
        };
        assert!(!pending.is_final());
        // Flink unreachable is retryable: a redelivery may take the run up again.
        assert!(!failed(RunErrorCode::FlinkUnreachable, 1, None).is_final());
        assert!(!failed(RunErrorCode::FlinkUnreachable, 1, Some(3)).is_final());
        assert!(failed(RunErrorCode::FlinkUnreachable, 3, Some(3)).is_final());
        assert!(failed(RunErrorCode::JobNotFound, 1, None).is_final());
        let mut scheduled = failed(RunErrorCode::JobNotFound, 1, None);
        scheduled.next_attempt_at = Some(at);
        assert!(!scheduled.is_final());
        let mut succeeded = pending.clone();
        succeeded.state = RunState::Succeeded;
        assert!(succeeded.is_final());
    }

    #[test]
    fn one_fire_one_id() {
        let job = JobId::parse("job_01J0000000000000000000000A").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let id = RunId::for_fire(&job, at);
        assert_eq!(id, RunId::for_fire(&job, at));
        assert_eq!(RunId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(id, RunId::for_fire(&job, at + chrono::Duration::minutes(1)));
        let other = JobId::parse("job_01J0000000000000000000000B").unwrap();
        assert_ne!(id, RunId::for_fire(&other, at));
        // Ids sort by scheduled time.
        assert!(id < RunId::for_fire(&other, at + chrono::Duration::milliseconds(1)));
    }

    #[test]
    fn a_submission_is_made_again_until_a_flink_job_is_recorded_for_it() {
        let job = JobId::parse("job_01J0000000000000000000000A").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let mut run = Run::pending(
            NewRun {
                id: RunId::for_fire(&job, at),
                tenant: TenantId::parse("acme").unwrap(),
                job_id: job,
                trigger: TriggerKind::Schedule,
                scheduled_time: at,
                window: None,
                flink_target: FlinkTarget::DEFAULT_SESSION,
            },
            at,
        );
        assert_eq!(run.next_submission(), 1, "the first");
        run.submission = 1;
        assert_eq!(run.next_submission(), 1, "its outcome is unknown");
        run.flink_job_id = Some("c4390a7ccce0ea641798d21de69b45c9".into());
        assert_eq!(run.next_submission(), 2, "its job ran: a new one");
    }

    /// Every code this version writes: its wire name (the API's promise)
    /// and whether another attempt may help.
    const CODES: [(RunErrorCode, &str, bool); 25] = [
        (RunErrorCode::JobNotFound, "job_not_found", false),
        (RunErrorCode::SourceNotFound, "source_not_found", false),
        (RunErrorCode::TargetUnknown, "target_unknown", false),
        (RunErrorCode::RenderFailed, "render_failed", false),
        (RunErrorCode::SealFailed, "seal_failed", false),
        (RunErrorCode::SecretsUnreadable, "secrets_unreadable", false),
        (RunErrorCode::KmsUnavailable, "kms_unavailable", true),
        (RunErrorCode::StoreUnavailable, "store_unavailable", true),
        (RunErrorCode::FlinkUnreachable, "flink_unreachable", true),
        (RunErrorCode::FlinkRejected, "flink_rejected", false),
        (
            RunErrorCode::FlinkSubmissionLost,
            "flink_submission_lost",
            true,
        ),
        (
            RunErrorCode::TriggerUnavailable,
            "trigger_unavailable",
            true,
        ),
        (RunErrorCode::FlinkJobFailed, "flink_job_failed", false),
        (RunErrorCode::FlinkJobUnknown, "flink_job_unknown", false),
        (RunErrorCode::TimedOut, "timed_out", false),
        (RunErrorCode::Stalled, "stalled", false),
        (RunErrorCode::Superseded, "superseded", false),
        (RunErrorCode::Overlap, "overlap", false),
        (RunErrorCode::EmptyWindow, "empty_window", false),
        (RunErrorCode::TargetMissing, "target_missing", false),
        (RunErrorCode::SchemaDrift, "schema_drift", false),
        (RunErrorCode::SourceUnreachable, "source_unreachable", true),
        (
            RunErrorCode::DiscoveryUnavailable,
            "discovery_unavailable",
            true,
        ),
        (
            RunErrorCode::ValidationMismatch,
            "validation_mismatch",
            false,
        ),
        (
            RunErrorCode::ValidationUnavailable,
            "validation_unavailable",
            false,
        ),
    ];

    /// Its row in [`CODES`]. Matched in full, so a new code does not
    /// compile until it has a row.
    fn row(code: &RunErrorCode) -> usize {
        match code {
            RunErrorCode::JobNotFound => 0,
            RunErrorCode::SourceNotFound => 1,
            RunErrorCode::TargetUnknown => 2,
            RunErrorCode::RenderFailed => 3,
            RunErrorCode::SealFailed => 4,
            RunErrorCode::SecretsUnreadable => 5,
            RunErrorCode::KmsUnavailable => 6,
            RunErrorCode::StoreUnavailable => 7,
            RunErrorCode::FlinkUnreachable => 8,
            RunErrorCode::FlinkRejected => 9,
            RunErrorCode::FlinkSubmissionLost => 10,
            RunErrorCode::TriggerUnavailable => 11,
            RunErrorCode::FlinkJobFailed => 12,
            RunErrorCode::FlinkJobUnknown => 13,
            RunErrorCode::TimedOut => 14,
            RunErrorCode::Stalled => 15,
            RunErrorCode::Superseded => 16,
            RunErrorCode::Overlap => 17,
            RunErrorCode::EmptyWindow => 18,
            RunErrorCode::TargetMissing => 19,
            RunErrorCode::SchemaDrift => 20,
            RunErrorCode::SourceUnreachable => 21,
            RunErrorCode::DiscoveryUnavailable => 22,
            RunErrorCode::ValidationMismatch => 23,
            RunErrorCode::ValidationUnavailable => 24,
            RunErrorCode::Other(code) => panic!("{code} is not one of this version's codes"),
        }
    }

    #[test]
    fn the_table_has_a_row_for_every_code() {
        for (at, (code, _, _)) in CODES.iter().enumerate() {
            assert_eq!(row(code), at, "{code}");
        }
    }

    #[test]
    fn every_code_says_whether_another_attempt_may_help() {
        for (code, wire, retryable) in CODES {
            assert_eq!(code.retryable(), retryable, "{wire}");
            let error = RunError::new(code, "m");
            assert_eq!(
                error.retryable, retryable,
                "{wire}: the error takes the code's answer"
            );
        }
        assert!(!RunErrorCode::Other("quota_exceeded".into()).retryable());
    }

    #[test]
    fn every_code_is_written_as_its_wire_name_and_read_back() {
        for (code, wire, _) in CODES {
            let written = serde_json::to_value(&code).unwrap();
            assert_eq!(written, serde_json::json!(wire));
            assert_eq!(code.as_str(), wire);
            assert_eq!(code, wire);
            let read: RunErrorCode = serde_json::from_value(written).unwrap();
            assert_eq!(read, code, "{wire}");
        }
    }

    #[test]
    fn an_error_keeps_its_stored_shape() {
        let error = RunError::new(
            RunErrorCode::KmsUnavailable,
            "KMS could not issue a data key",
        );
        let stored = serde_json::json!({
            "code": "kms_unavailable",
            "message": "KMS could not issue a data key",
            "retryable": true,
        });
        assert_eq!(serde_json::to_value(&error).unwrap(), stored);
        assert_eq!(serde_json::from_value::<RunError>(stored).unwrap(), error);
    }

    #[test]
    fn an_unknown_stored_code_still_loads_with_its_stored_answer() {
        // An item another version wrote: its code and retryable flag survive
        // a read and a write unchanged.
        let stored = serde_json::json!({
            "code": "quota_exceeded",
            "message": "the account's quota is used up",
            "retryable": true,
        });
        let error: RunError = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(error.code, RunErrorCode::Other("quota_exceeded".into()));
        assert!(error.retryable);
        assert_eq!(serde_json::to_value(&error).unwrap(), stored);
    }
}

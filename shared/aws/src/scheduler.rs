//! The `Scheduler` port on EventBridge Scheduler: one schedule per job, in
//! one schedule group per tenant, whose target is the trigger function.
//!
//! * Group: `<prefix><tenant>` when that is a valid group name (1-64 of
//!   `[0-9A-Za-z_.-]`), else `<prefix>t-<first 16 hex of sha256(tenant)>`
//!   (tenant ids may hold `:`, `@`, `+` and be 128 long). Groups are made on
//!   demand.
//! * Name: the job id (`job_` + ULID: 30 characters of valid name).
//! * Input: ids and EventBridge placeholders only, never a secret:
//!   `{"tenant", "job_id", "scheduled_time", "schedule_arn", "attempt"}`.
//!
//! UpdateSchedule replaces the whole schedule, so an upsert reads the
//! schedule, keeps what sluice does not manage (description, KMS key, the
//! target's other parameters) and lays its own settings over them.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::primitives::DateTime as AwsDateTime;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, ScheduleState, Target,
};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::schedule::Schedule;
use sluice_domain::model::trigger_event::TriggerEvent;
use sluice_domain::ports::{Scheduler, SchedulerError};

use crate::config::LazyClient;

/// The group prefix when none is configured.
pub const DEFAULT_GROUP_PREFIX: &str = "sluice-";
/// EventBridge's bound on group names.
const MAX_GROUP_NAME: usize = 64;
/// `t-` and 16 hex digits: the hashed form's suffix.
const HASHED_SUFFIX_LEN: usize = 18;

/// Where the schedules deliver, set per deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerTarget {
    /// ARN of the trigger function.
    pub target_arn: String,
    /// The role EventBridge Scheduler assumes to invoke it.
    pub role_arn: String,
    /// An SQS queue for fires that could not be delivered.
    pub dead_letter_arn: Option<String>,
    /// Prefix of the per-tenant schedule groups.
    pub group_prefix: String,
}

impl SchedulerTarget {
    pub fn new(target_arn: impl Into<String>, role_arn: impl Into<String>) -> Self {
        Self {
            target_arn: target_arn.into(),
            role_arn: role_arn.into(),
            dead_letter_arn: None,
            group_prefix: DEFAULT_GROUP_PREFIX.to_owned(),
        }
    }
}

/// A setting that would make every request fail; reported at cold start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchedulerConfigError {
    #[error("the scheduler target ARN is empty")]
    EmptyTargetArn,
    #[error("the scheduler role ARN is empty")]
    EmptyRoleArn,
    #[error("the dead-letter ARN is not an SQS queue ARN")]
    BadDeadLetterArn,
    #[error(
        "the schedule group prefix must be 1-{max} characters of letters, digits, '.', '_' and '-'",
        max = MAX_GROUP_NAME - HASHED_SUFFIX_LEN
    )]
    BadGroupPrefix,
}

fn valid_group_chars(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The schedule group of `tenant`'s schedules.
pub fn group_name(prefix: &str, tenant: &TenantId) -> String {
    let plain = format!("{prefix}{tenant}");
    if plain.len() <= MAX_GROUP_NAME && valid_group_chars(&plain) {
        return plain;
    }
    let digest = Sha256::digest(tenant.as_str().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}t-{hex}")
}

/// The schedule's name within its group.
pub fn schedule_name(job_id: &JobId) -> &str {
    job_id.as_str()
}

/// The target input: the trigger event's `schedule` variant with
/// EventBridge's placeholders ([`TriggerEvent::scheduler_input`]).
pub fn target_input(tenant: &TenantId, job_id: &JobId) -> String {
    TriggerEvent::scheduler_input(tenant, job_id)
}

/// Every field of a CreateSchedule/UpdateSchedule request but the names.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFields {
    pub expression: String,
    pub timezone: String,
    pub state: ScheduleState,
    pub start_date: Option<AwsDateTime>,
    pub end_date: Option<AwsDateTime>,
    pub flexible_time_window: FlexibleTimeWindow,
    pub target: Target,
    pub action_after_completion: ActionAfterCompletion,
    /// Not managed by sluice: kept as found.
    pub description: Option<String>,
    /// Not managed by sluice: kept as found.
    pub kms_key_arn: Option<String>,
}

fn aws_time(t: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_secs(t.timestamp())
}

/// What sluice wants EventBridge to hold for `schedule`, at `now`.
///
/// A cron schedule's start date already past is left out: it changes no
/// fire, and EventBridge refuses a StartDate more than five minutes old.
/// A rate schedule keeps it (it sets the phase of the fires).
pub fn desired_fields(
    schedule: &Schedule,
    config: &SchedulerTarget,
    now: DateTime<Utc>,
) -> ScheduleFields {
    let is_cron = schedule.expression.starts_with("cron(");
    let start_date = schedule
        .start_at
        .filter(|start| !(is_cron && *start < now))
        .map(aws_time);
    let flexible_time_window = match schedule.flexible_window_minutes {
        Some(minutes) => FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Flexible)
            .maximum_window_in_minutes(i32::try_from(minutes).unwrap_or(i32::MAX)),
        None => FlexibleTimeWindow::builder().mode(FlexibleTimeWindowMode::Off),
    }
    .build()
    .expect("the mode is set");
    let retry_policy = schedule.delivery_retry.map(|retry| {
        RetryPolicy::builder()
            .maximum_retry_attempts(i32::try_from(retry.max_attempts).unwrap_or(i32::MAX))
            .maximum_event_age_in_seconds(
                i32::try_from(retry.max_event_age_seconds).unwrap_or(i32::MAX),
            )
            .build()
    });
    let target = Target::builder()
        .arn(&config.target_arn)
        .role_arn(&config.role_arn)
        .input(target_input(&schedule.tenant, &schedule.job_id))
        .set_retry_policy(retry_policy)
        .set_dead_letter_config(
            config
                .dead_letter_arn
                .as_ref()
                .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
        )
        .build()
        .expect("arn and role arn are set");
    ScheduleFields {
        expression: schedule.expression.clone(),
        timezone: schedule.timezone.clone(),
        state: if schedule.enabled {
            ScheduleState::Enabled
        } else {
            ScheduleState::Disabled
        },
        start_date,
        end_date: schedule.end_at.map(aws_time),
        flexible_time_window,
        target,
        // A one-time schedule stays after its fire, so the API still shows it.
        action_after_completion: ActionAfterCompletion::None,
        description: None,
        kms_key_arn: None,
    }
}

/// `desired` laid over the schedule EventBridge holds: the description, the
/// KMS key and the target's other parameters (ECS, SQS, Kinesis, ...) are
/// kept; the target's ARN, role, input, retry policy and dead-letter queue
/// are sluice's. A retry policy left unset goes back to EventBridge's
/// default, as an omitted one does on UpdateSchedule.
pub fn merge(existing: &GetScheduleOutput, desired: ScheduleFields) -> ScheduleFields {
    let target = match existing.target() {
        Some(found) => {
            let mut target = found.clone();
            target.arn = desired.target.arn.clone();
            target.role_arn = desired.target.role_arn.clone();
            target.input = desired.target.input.clone();
            target.retry_policy = desired.target.retry_policy.clone();
            target.dead_letter_config = desired.target.dead_letter_config.clone();
            target
        }
        None => desired.target.clone(),
    };
    ScheduleFields {
        target,
        description: existing.description().map(str::to_owned),
        kms_key_arn: existing.kms_key_arn().map(str::to_owned),
        ..desired
    }
}

/// The adapter. Needs `scheduler:GetSchedule`, `CreateSchedule`,
/// `UpdateSchedule`, `DeleteSchedule`, `GetScheduleGroup`,
/// `CreateScheduleGroup` and `iam:PassRole` on the role.
#[derive(Clone)]
pub struct EventBridgeScheduler {
    client: LazyClient<Client>,
    config: SchedulerTarget,
}

impl EventBridgeScheduler {
    /// `client`: a client, or one built on first use. The settings are
    /// checked here, at cold start.
    pub fn new(
        client: impl Into<LazyClient<Client>>,
        config: SchedulerTarget,
    ) -> Result<Self, SchedulerConfigError> {
        if config.target_arn.trim().is_empty() {
            return Err(SchedulerConfigError::EmptyTargetArn);
        }
        if config.role_arn.trim().is_empty() {
            return Err(SchedulerConfigError::EmptyRoleArn);
        }
        if let Some(dlq) = &config.dead_letter_arn
            && !(dlq.starts_with("arn:") && dlq.split(':').nth(2) == Some("sqs"))
        {
            return Err(SchedulerConfigError::BadDeadLetterArn);
        }
        let prefix = &config.group_prefix;
        if prefix.is_empty()
            || prefix.len() > MAX_GROUP_NAME - HASHED_SUFFIX_LEN
            || !valid_group_chars(prefix)
        {
            return Err(SchedulerConfigError::BadGroupPrefix);
        }
        Ok(Self {
            client: client.into(),
            config,
        })
    }

    fn group(&self, tenant: &TenantId) -> String {
        group_name(&self.config.group_prefix, tenant)
    }

    async fn get(
        &self,
        group: &str,
        name: &str,
    ) -> Result<Option<GetScheduleOutput>, SchedulerError> {
        match self
            .client
            .get_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await
        {
            Ok(found) => Ok(Some(found)),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }

    /// Creates the group; one made meanwhile by another call is as good.
    async fn create_group(&self, group: &str) -> Result<(), SchedulerError> {
        match self.client.create_schedule_group().name(group).send().await {
            Ok(_) => {
                tracing::info!(group, "created the schedule group");
                Ok(())
            }
            Err(e) if is_code(&e, "ConflictException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    async fn group_exists(&self, group: &str) -> Result<bool, SchedulerError> {
        match self.client.get_schedule_group().name(group).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(false),
            Err(e) => Err(classify(e)),
        }
    }

    async fn create(
        &self,
        group: &str,
        name: &str,
        fields: &ScheduleFields,
    ) -> Result<Created, SchedulerError> {
        // EventBridge answers CreateSchedule in a missing group with
        // ResourceNotFoundException, but moto fails it with a 500: look
        // first (one call, only when a job's schedule is first made).
        if !self.group_exists(group).await? {
            self.create_group(group).await?;
        }
        for _ in 0..2 {
            let sent = self
                .client
                .create_schedule()
                .group_name(group)
                .name(name)
                .schedule_expression(&fields.expression)
                .schedule_expression_timezone(&fields.timezone)
                .state(fields.state.clone())
                .set_start_date(fields.start_date)
                .set_end_date(fields.end_date)
                .flexible_time_window(fields.flexible_time_window.clone())
                .target(fields.target.clone())
                .action_after_completion(fields.action_after_completion.clone())
                .set_description(fields.description.clone())
                .set_kms_key_arn(fields.kms_key_arn.clone())
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(Created::Yes),
                Err(e) if is_code(&e, "ConflictException") => return Ok(Created::Exists),
                // The group went away after the look: make it again, once.
                Err(e) if is_code(&e, "ResourceNotFoundException") => {
                    self.create_group(group).await?
                }
                Err(e) => return Err(classify(e)),
            }
        }
        Err(SchedulerError::Unavailable(
            format!("the schedule group {group} keeps disappearing").into(),
        ))
    }

    async fn update(
        &self,
        group: &str,
        name: &str,
        fields: &ScheduleFields,
    ) -> Result<Updated, SchedulerError> {
        let sent = self
            .client
            .update_schedule()
            .group_name(group)
            .name(name)
            .schedule_expression(&fields.expression)
            .schedule_expression_timezone(&fields.timezone)
            .state(fields.state.clone())
            .set_start_date(fields.start_date)
            .set_end_date(fields.end_date)
            .flexible_time_window(fields.flexible_time_window.clone())
            .target(fields.target.clone())
            .action_after_completion(fields.action_after_completion.clone())
            .set_description(fields.description.clone())
            .set_kms_key_arn(fields.kms_key_arn.clone())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Updated::Yes),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(Updated::Gone),
            Err(e) => Err(classify(e)),
        }
    }
}

enum Created {
    Yes,
    /// Made meanwhile by another call: update it instead.
    Exists,
}

enum Updated {
    Yes,
    /// Deleted meanwhile: create it instead.
    Gone,
}

/// Whether the call failed with the service error `code`.
fn is_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>, code: &str) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some(code)
}

/// ValidationException is a refusal of what we sent; anything else
/// (throttling, 5xx, no connection) may pass.
fn classify<E, R>(e: SdkError<E, R>) -> SchedulerError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(service) = e.as_service_error()
        && service.code() == Some("ValidationException")
    {
        return SchedulerError::Rejected(
            service
                .message()
                .unwrap_or("the schedule is not valid")
                .to_owned(),
        );
    }
    SchedulerError::Unavailable(Box::new(e))
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    async fn upsert(&self, schedule: &Schedule) -> Result<(), SchedulerError> {
        let group = self.group(&schedule.tenant);
        let name = schedule_name(&schedule.job_id);
        let desired = desired_fields(schedule, &self.config, Utc::now());
        // Get, merge, update; a schedule created or deleted by a concurrent
        // call between the steps sends us round once more.
        for _ in 0..3 {
            match self.get(&group, name).await? {
                Some(existing) => {
                    let fields = merge(&existing, desired.clone());
                    if let Updated::Yes = self.update(&group, name, &fields).await? {
                        tracing::info!(group, job_id = name, "updated the schedule");
                        return Ok(());
                    }
                }
                None => {
                    if let Created::Yes = self.create(&group, name, &desired).await? {
                        tracing::info!(group, job_id = name, "created the schedule");
                        return Ok(());
                    }
                }
            }
        }
        Err(SchedulerError::Unavailable(
            "the schedule kept changing under the upsert".into(),
        ))
    }

    async fn delete(&self, tenant: &TenantId, job_id: &JobId) -> Result<(), SchedulerError> {
        let group = self.group(tenant);
        match self
            .client
            .delete_schedule()
            .group_name(&group)
            .name(schedule_name(job_id))
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(group, job_id = %job_id, "deleted the schedule");
                Ok(())
            }
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sluice_domain::model::schedule::{DeliveryRetry, RunPolicy};

    fn tenant(raw: &str) -> TenantId {
        TenantId::parse(raw).unwrap()
    }

    #[test]
    fn a_plain_tenant_names_its_group() {
        assert_eq!(group_name("sluice-", &tenant("acme")), "sluice-acme");
        assert_eq!(
            group_name("sluice-", &tenant("Org_1.eu-west")),
            "sluice-Org_1.eu-west"
        );
        // 57 characters + the prefix's 7 = 64: still fits.
        let longest = "a".repeat(57);
        assert_eq!(
            group_name("sluice-", &tenant(&longest)),
            format!("sluice-{longest}")
        );
    }

    #[test]
    fn a_tenant_that_cannot_be_a_group_name_is_hashed() {
        // sha256("user@example.com") starts with b4c9a289323b21a0.
        assert_eq!(
            group_name("sluice-", &tenant("user@example.com")),
            "sluice-t-b4c9a289323b21a0"
        );
        for odd in ["a:b", "a+b", &"a".repeat(58), &"z".repeat(128)] {
            let name = group_name("sluice-", &tenant(odd));
            assert!(name.starts_with("sluice-t-"), "{name}");
            assert_eq!(name.len(), "sluice-t-".len() + 16);
            assert!(valid_group_chars(&name));
            // Deterministic, and distinct per tenant.
            assert_eq!(name, group_name("sluice-", &tenant(odd)));
        }
        assert_ne!(
            group_name("sluice-", &tenant("a:b")),
            group_name("sluice-", &tenant("a+b"))
        );
    }

    #[test]
    fn the_schedule_is_named_by_its_job() {
        let job = JobId::generate();
        let name = schedule_name(&job);
        assert_eq!(name, job.as_str());
        assert!(name.len() <= 64 && valid_group_chars(name));
    }

    #[test]
    fn the_input_holds_ids_and_placeholders_only() {
        let job = JobId::parse("job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB").unwrap();
        assert_eq!(
            target_input(&tenant("acme"), &job),
            r#"{"tenant":"acme","job_id":"job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB","scheduled_time":"<aws.scheduler.scheduled-time>","schedule_arn":"<aws.scheduler.schedule-arn>","attempt":"<aws.scheduler.attempt-number>"}"#
        );
    }

    #[test]
    fn bad_settings_fail_at_construction() {
        let client = Client::from_conf(
            aws_sdk_scheduler::Config::builder()
                .behavior_version(aws_sdk_scheduler::config::BehaviorVersion::latest())
                .build(),
        );
        let ok = SchedulerTarget::new("arn:aws:lambda:us-east-1:1:function:trigger", "arn:role");
        assert!(EventBridgeScheduler::new(client.clone(), ok.clone()).is_ok());
        let cases = [
            (
                SchedulerTarget {
                    target_arn: " ".into(),
                    ..ok.clone()
                },
                SchedulerConfigError::EmptyTargetArn,
            ),
            (
                SchedulerTarget {
                    role_arn: String::new(),
                    ..ok.clone()
                },
                SchedulerConfigError::EmptyRoleArn,
            ),
            (
                SchedulerTarget {
                    dead_letter_arn: Some("arn:aws:sns:us-east-1:1:topic".into()),
                    ..ok.clone()
                },
                SchedulerConfigError::BadDeadLetterArn,
            ),
            (
                SchedulerTarget {
                    group_prefix: "sluice/".into(),
                    ..ok.clone()
                },
                SchedulerConfigError::BadGroupPrefix,
            ),
            (
                SchedulerTarget {
                    group_prefix: "p".repeat(47),
                    ..ok.clone()
                },
                SchedulerConfigError::BadGroupPrefix,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(
                EventBridgeScheduler::new(client.clone(), config)
                    .err()
                    .unwrap(),
                expected
            );
        }
    }

    #[test]
    fn only_a_validation_error_is_a_refusal() {
        use aws_sdk_scheduler::error::ErrorMetadata;
        use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
        let service = |code: &str| {
            SdkError::<_, ()>::service_error(
                CreateScheduleError::generic(
                    ErrorMetadata::builder()
                        .code(code)
                        .message("StartDate is too far in the past")
                        .build(),
                ),
                (),
            )
        };
        assert!(matches!(
            classify(service("ValidationException")),
            SchedulerError::Rejected(m) if m == "StartDate is too far in the past"
        ));
        for code in [
            "ThrottlingException",
            "InternalServerException",
            "ServiceQuotaExceededException",
        ] {
            assert!(matches!(
                classify(service(code)),
                SchedulerError::Unavailable(_)
            ));
        }
        let timeout = SdkError::<CreateScheduleError, ()>::timeout_error("no answer");
        assert!(matches!(classify(timeout), SchedulerError::Unavailable(_)));
        assert!(is_code(&service("ConflictException"), "ConflictException"));
        assert!(!is_code(
            &SdkError::<CreateScheduleError, ()>::timeout_error("x"),
            "ConflictException"
        ));
    }

    fn schedule(expression: &str) -> Schedule {
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        Schedule {
            tenant: tenant("acme"),
            job_id: JobId::generate(),
            expression: expression.into(),
            xxl_cron: None,
            timezone: "Europe/Berlin".into(),
            enabled: true,
            start_at: None,
            end_at: None,
            flexible_window_minutes: None,
            delivery_retry: None,
            policy: RunPolicy::default(),
            version: 1,
            created_at: t,
            updated_at: t,
        }
    }

    fn config() -> SchedulerTarget {
        SchedulerTarget {
            dead_letter_arn: Some("arn:aws:sqs:us-east-1:123456789012:dlq".into()),
            ..SchedulerTarget::new("arn:trigger", "arn:role")
        }
    }

    #[test]
    fn desired_fields_follow_the_schedule() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let mut s = schedule("rate(1 hour)");
        s.enabled = false;
        s.start_at = Some(now - chrono::Duration::days(1));
        s.end_at = Some(now + chrono::Duration::days(1));
        s.flexible_window_minutes = Some(15);
        s.delivery_retry = Some(DeliveryRetry {
            max_attempts: 3,
            max_event_age_seconds: 600,
        });
        let f = desired_fields(&s, &config(), now);
        assert_eq!(f.expression, "rate(1 hour)");
        assert_eq!(f.timezone, "Europe/Berlin");
        assert_eq!(f.state, ScheduleState::Disabled);
        // A rate schedule keeps a past start: it sets the phase.
        assert_eq!(
            f.start_date,
            Some(aws_time(now - chrono::Duration::days(1)))
        );
        assert_eq!(f.end_date, Some(aws_time(now + chrono::Duration::days(1))));
        assert_eq!(
            f.flexible_time_window.mode(),
            &FlexibleTimeWindowMode::Flexible
        );
        assert_eq!(f.flexible_time_window.maximum_window_in_minutes(), Some(15));
        assert_eq!(f.target.arn(), "arn:trigger");
        assert_eq!(f.target.role_arn(), "arn:role");
        let retry = f.target.retry_policy().unwrap();
        assert_eq!(retry.maximum_retry_attempts(), Some(3));
        assert_eq!(retry.maximum_event_age_in_seconds(), Some(600));
        assert_eq!(
            f.target.dead_letter_config().and_then(|d| d.arn()),
            Some("arn:aws:sqs:us-east-1:123456789012:dlq")
        );
        assert_eq!(f.action_after_completion, ActionAfterCompletion::None);

        // A cron schedule drops a past start, keeps a future one.
        let mut c = schedule("cron(0 8 * * ? *)");
        c.start_at = Some(now - chrono::Duration::minutes(10));
        let f = desired_fields(&c, &SchedulerTarget::new("a", "r"), now);
        assert_eq!(f.start_date, None);
        assert_eq!(f.state, ScheduleState::Enabled);
        assert_eq!(f.flexible_time_window.mode(), &FlexibleTimeWindowMode::Off);
        assert!(f.target.retry_policy().is_none());
        assert!(f.target.dead_letter_config().is_none());
        c.start_at = Some(now + chrono::Duration::minutes(10));
        let f = desired_fields(&c, &SchedulerTarget::new("a", "r"), now);
        assert_eq!(
            f.start_date,
            Some(aws_time(now + chrono::Duration::minutes(10)))
        );
    }

    #[test]
    fn merge_keeps_what_sluice_does_not_manage() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let existing_target = Target::builder()
            .arn("arn:old-target")
            .role_arn("arn:old-role")
            .input("{\"old\":true}")
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(7)
                    .maximum_event_age_in_seconds(70)
                    .build(),
            )
            .sqs_parameters(
                aws_sdk_scheduler::types::SqsParameters::builder()
                    .message_group_id("g")
                    .build(),
            )
            .build()
            .unwrap();
        let existing = GetScheduleOutput::builder()
            .description("set by an operator")
            .kms_key_arn("arn:aws:kms:us-east-1:1:key/k")
            .target(existing_target)
            .schedule_expression("rate(5 minutes)")
            .build();
        let s = schedule("cron(0 8 * * ? *)");
        let merged = merge(&existing, desired_fields(&s, &config(), now));
        assert_eq!(merged.description.as_deref(), Some("set by an operator"));
        assert_eq!(
            merged.kms_key_arn.as_deref(),
            Some("arn:aws:kms:us-east-1:1:key/k")
        );
        assert_eq!(merged.expression, "cron(0 8 * * ? *)");
        assert_eq!(merged.target.arn(), "arn:trigger");
        assert_eq!(merged.target.role_arn(), "arn:role");
        assert_eq!(
            merged.target.input(),
            Some(target_input(&s.tenant, &s.job_id).as_str())
        );
        // No delivery_retry: EventBridge's default again, not the old one.
        assert!(merged.target.retry_policy().is_none());
        assert_eq!(
            merged
                .target
                .sqs_parameters()
                .and_then(|p| p.message_group_id()),
            Some("g")
        );
        assert!(merged.target.dead_letter_config().is_some());
    }
}

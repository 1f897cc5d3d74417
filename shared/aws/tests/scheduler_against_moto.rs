//! The EventBridge Scheduler adapter against moto. Run through `make test`,
//! which starts moto and un-ignores these.

use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode, ScheduleState};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sluice_aws::scheduler::{group_name, target_input};
use sluice_aws::{EventBridgeScheduler, SchedulerTarget};
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::schedule::{DeliveryRetry, RunPolicy, Schedule};
use sluice_domain::ports::{Scheduler, SchedulerError};

const TARGET: &str = "arn:aws:lambda:us-east-1:123456789012:function:trigger";
const ROLE: &str = "arn:aws:iam::123456789012:role/sluice-scheduler";
const DLQ: &str = "arn:aws:sqs:us-east-1:123456789012:sluice-scheduler-dlq";

async fn client() -> Client {
    let config = aws_config::load_from_env().await;
    if config.endpoint_url().is_none() {
        panic!("AWS_ENDPOINT_URL is not set: run `make test`");
    }
    Client::new(&config)
}

fn config() -> SchedulerTarget {
    SchedulerTarget {
        dead_letter_arn: Some(DLQ.into()),
        ..SchedulerTarget::new(TARGET, ROLE)
    }
}

async fn adapter() -> EventBridgeScheduler {
    EventBridgeScheduler::new(client().await, config()).unwrap()
}

fn fresh_tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

fn schedule(tenant: &TenantId, expression: &str) -> Schedule {
    let now = Utc::now();
    Schedule {
        tenant: tenant.clone(),
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
        created_at: now,
        updated_at: now,
    }
}

fn utc(t: &aws_sdk_scheduler::primitives::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).unwrap()
}

async fn get(
    group: &str,
    job: &JobId,
) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
    match client()
        .await
        .get_schedule()
        .group_name(group)
        .name(job.as_str())
        .send()
        .await
    {
        Ok(found) => Some(found),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("GetSchedule failed: {e:?}"),
    }
}

async fn group_exists(group: &str) -> bool {
    client()
        .await
        .get_schedule_group()
        .name(group)
        .send()
        .await
        .is_ok()
}

/// Deletes the test's schedules' group (moto keeps everything otherwise,
/// and the local scheduler bridge lists every group each second).
async fn drop_group(group: &str) {
    let _ = client()
        .await
        .delete_schedule_group()
        .name(group)
        .send()
        .await;
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_schedule_is_created_with_its_group_and_every_setting() {
    let scheduler = adapter().await;
    let tenant = fresh_tenant();
    let group = format!("sluice-{tenant}");
    assert!(!group_exists(&group).await);

    let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let mut s = schedule(&tenant, "rate(15 minutes)");
    s.start_at = Some(start);
    s.end_at = Some(start + Duration::days(30));
    s.flexible_window_minutes = Some(5);
    s.delivery_retry = Some(DeliveryRetry {
        max_attempts: 4,
        max_event_age_seconds: 900,
    });
    scheduler.upsert(&s).await.unwrap();

    assert!(group_exists(&group).await, "the group is made on demand");
    let found = get(&group, &s.job_id).await.expect("the schedule exists");
    assert_eq!(found.name(), Some(s.job_id.as_str()));
    assert_eq!(found.schedule_expression(), Some("rate(15 minutes)"));
    assert_eq!(found.schedule_expression_timezone(), Some("Europe/Berlin"));
    assert_eq!(found.state(), Some(&ScheduleState::Enabled));
    assert_eq!(found.start_date().map(utc), Some(start));
    assert_eq!(found.end_date().map(utc), Some(start + Duration::days(30)));
    assert_eq!(
        found.action_after_completion(),
        Some(&ActionAfterCompletion::None)
    );
    let window = found.flexible_time_window().unwrap();
    assert_eq!(window.mode(), &FlexibleTimeWindowMode::Flexible);
    assert_eq!(window.maximum_window_in_minutes(), Some(5));
    let target = found.target().unwrap();
    assert_eq!(target.arn(), TARGET);
    assert_eq!(target.role_arn(), ROLE);
    let retry = target.retry_policy().unwrap();
    assert_eq!(retry.maximum_retry_attempts(), Some(4));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(900));
    assert_eq!(target.dead_letter_config().and_then(|d| d.arn()), Some(DLQ));

    // The input, exactly: ids and placeholders, nothing else.
    let input = target.input().unwrap();
    assert_eq!(
        input,
        format!(
            r#"{{"tenant":"{tenant}","job_id":"{}","scheduled_time":"<aws.scheduler.scheduled-time>","schedule_arn":"<aws.scheduler.schedule-arn>","attempt":"<aws.scheduler.attempt-number>"}}"#,
            s.job_id
        )
    );
    assert_eq!(input, target_input(&tenant, &s.job_id));

    // A second schedule of the tenant goes into the same group.
    let other = schedule(&tenant, "cron(0 8 * * ? *)");
    scheduler.upsert(&other).await.unwrap();
    assert!(get(&group, &other.job_id).await.is_some());

    scheduler.delete(&tenant, &s.job_id).await.unwrap();
    scheduler.delete(&tenant, &other.job_id).await.unwrap();
    drop_group(&group).await;
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn an_update_keeps_what_sluice_does_not_manage() {
    let scheduler = adapter().await;
    let tenant = fresh_tenant();
    let group = group_name("sluice-", &tenant);
    let mut s = schedule(&tenant, "rate(1 hour)");
    s.delivery_retry = Some(DeliveryRetry {
        max_attempts: 2,
        max_event_age_seconds: 120,
    });
    scheduler.upsert(&s).await.unwrap();

    // An operator sets a description and a KMS key on the schedule itself.
    let found = get(&group, &s.job_id).await.unwrap();
    client()
        .await
        .update_schedule()
        .group_name(&group)
        .name(s.job_id.as_str())
        .schedule_expression(found.schedule_expression().unwrap())
        .flexible_time_window(found.flexible_time_window().unwrap().clone())
        .target(found.target().unwrap().clone())
        .description("paged to on-call when it fails")
        .kms_key_arn("arn:aws:kms:us-east-1:123456789012:key/operator")
        .send()
        .await
        .unwrap();

    // sluice replaces its own settings.
    s.expression = "cron(30 2 * * ? *)".into();
    s.timezone = "America/New_York".into();
    s.enabled = false;
    s.delivery_retry = None;
    s.flexible_window_minutes = Some(10);
    scheduler.upsert(&s).await.unwrap();

    let after = get(&group, &s.job_id).await.unwrap();
    assert_eq!(after.description(), Some("paged to on-call when it fails"));
    assert_eq!(
        after.kms_key_arn(),
        Some("arn:aws:kms:us-east-1:123456789012:key/operator")
    );
    assert_eq!(after.schedule_expression(), Some("cron(30 2 * * ? *)"));
    assert_eq!(
        after.schedule_expression_timezone(),
        Some("America/New_York")
    );
    assert_eq!(after.state(), Some(&ScheduleState::Disabled));
    assert_eq!(
        after
            .flexible_time_window()
            .unwrap()
            .maximum_window_in_minutes(),
        Some(10)
    );
    let target = after.target().unwrap();
    assert_eq!(
        target.input(),
        Some(target_input(&tenant, &s.job_id).as_str())
    );
    // No delivery_retry any more: EventBridge's default, not the old 2/120.
    let retry = target.retry_policy().unwrap();
    assert_eq!(retry.maximum_retry_attempts(), Some(185));
    assert_eq!(retry.maximum_event_age_in_seconds(), Some(86_400));

    scheduler.delete(&tenant, &s.job_id).await.unwrap();
    drop_group(&group).await;
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_tenant_that_cannot_name_a_group_gets_a_hashed_one() {
    let scheduler = adapter().await;
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    for raw in [
        format!("ops+{suffix}@example.com"),
        format!("{}{suffix}", "x".repeat(100)),
    ] {
        let tenant = TenantId::parse(&raw).unwrap();
        let group = group_name("sluice-", &tenant);
        assert!(
            group.starts_with("sluice-t-") && group.len() == 25,
            "{group}"
        );
        let s = schedule(&tenant, "rate(1 day)");
        scheduler.upsert(&s).await.unwrap();
        let found = get(&group, &s.job_id).await.expect("in the hashed group");
        assert!(
            found
                .target()
                .unwrap()
                .input()
                .unwrap()
                .contains(&format!("\"tenant\":\"{raw}\"")),
            "the input names the tenant itself"
        );
        scheduler.delete(&tenant, &s.job_id).await.unwrap();
        drop_group(&group).await;
    }
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn delete_is_idempotent() {
    let scheduler = adapter().await;
    let tenant = fresh_tenant();
    let group = group_name("sluice-", &tenant);
    // Neither group nor schedule exists.
    scheduler.delete(&tenant, &JobId::generate()).await.unwrap();

    let s = schedule(&tenant, "at(2030-01-01T00:00:00)");
    scheduler.upsert(&s).await.unwrap();
    assert!(get(&group, &s.job_id).await.is_some());
    scheduler.delete(&tenant, &s.job_id).await.unwrap();
    assert!(get(&group, &s.job_id).await.is_none());
    scheduler.delete(&tenant, &s.job_id).await.unwrap();

    // And it comes back on the next upsert.
    scheduler.upsert(&s).await.unwrap();
    assert!(get(&group, &s.job_id).await.is_some());
    scheduler.delete(&tenant, &s.job_id).await.unwrap();
    drop_group(&group).await;
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn an_unreachable_scheduler_is_unavailable() {
    let sdk = aws_config::load_from_env().await;
    let unreachable = aws_sdk_scheduler::config::Builder::from(&sdk)
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_sdk_scheduler::config::retry::RetryConfig::disabled())
        .build();
    let scheduler = EventBridgeScheduler::new(Client::from_conf(unreachable), config()).unwrap();
    let tenant = fresh_tenant();
    let s = schedule(&tenant, "rate(1 hour)");
    assert!(matches!(
        scheduler.upsert(&s).await,
        Err(SchedulerError::Unavailable(_))
    ));
    assert!(matches!(
        scheduler.delete(&tenant, &s.job_id).await,
        Err(SchedulerError::Unavailable(_))
    ));
}

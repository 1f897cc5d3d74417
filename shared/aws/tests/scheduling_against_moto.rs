//! The scheduling records against moto's DynamoDB: the run slot, the
//! watermark and schedule records. Run through `make test`, which starts
//! moto, creates the table, and un-ignores these.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeZone, Utc};
use sluice_aws::{DynamoJobRepository, DynamoRunRepository, DynamoScheduleRepository};
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;
use sluice_domain::model::schedule::{Overlap, RetryPolicy, RunPolicy, Schedule};
use sluice_domain::ports::ScheduleRepository;
use sluice_domain::ports::{JobRepository, RepositoryError, RunRepository, SlotClaim};
use tokio::task::JoinSet;

fn table() -> String {
    std::env::var("SLUICE_TABLE").expect("SLUICE_TABLE is not set: run `make test`")
}

async fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await)
}

fn fresh_tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn one_run_at_a_time_holds_a_jobs_slot() {
    let runs = DynamoRunRepository::new(client().await, table());
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let contenders: Vec<RunId> = (0..8).map(|_| RunId::generate()).collect();

    // Eight fires at once: exactly one takes the slot, the others see it.
    let mut set = JoinSet::new();
    for run in contenders.clone() {
        let (runs, tenant, job) = (runs.clone(), tenant.clone(), job.clone());
        set.spawn(async move {
            (
                run.clone(),
                runs.claim_slot(&tenant, &job, &run, None).await,
            )
        });
    }
    let mut holder = None;
    let mut refused = 0;
    while let Some(joined) = set.join_next().await {
        match joined.unwrap() {
            (run, Ok(SlotClaim::Claimed)) => {
                assert!(holder.replace(run).is_none(), "two runs took the slot")
            }
            (_, Ok(SlotClaim::HeldBy(_))) => refused += 1,
            (_, Err(e)) => panic!("{e}"),
        }
    }
    let holder = holder.expect("one run took the slot");
    assert_eq!(refused, 7);
    let other = contenders.iter().find(|r| **r != holder).unwrap();

    // The holder may claim again (a redelivery); a stale holder is taken
    // over only when named; release frees it only for its holder.
    assert_eq!(
        runs.claim_slot(&tenant, &job, &holder, None).await.unwrap(),
        SlotClaim::Claimed
    );
    assert_eq!(
        runs.claim_slot(&tenant, &job, other, None).await.unwrap(),
        SlotClaim::HeldBy(holder.clone())
    );
    runs.release_slot(&tenant, &job, other).await.unwrap();
    assert_eq!(
        runs.claim_slot(&tenant, &job, other, Some(&holder))
            .await
            .unwrap(),
        SlotClaim::Claimed
    );
    runs.release_slot(&tenant, &job, other).await.unwrap();
    assert_eq!(
        runs.claim_slot(&tenant, &job, &holder, None).await.unwrap(),
        SlotClaim::Claimed
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn the_watermark_only_moves_forward() {
    let jobs = DynamoJobRepository::new(client().await, table());
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let t = |h| Utc.with_ymd_and_hms(2026, 5, 1, h, 0, 0).unwrap();
    assert_eq!(jobs.watermark(&tenant, &job).await.unwrap(), None);
    assert!(jobs.advance_watermark(&tenant, &job, t(2)).await.unwrap());
    assert!(!jobs.advance_watermark(&tenant, &job, t(1)).await.unwrap());
    assert!(!jobs.advance_watermark(&tenant, &job, t(2)).await.unwrap());
    assert_eq!(jobs.watermark(&tenant, &job).await.unwrap(), Some(t(2)));
    // Sub-second precision survives and still compares.
    let later = t(2) + chrono::Duration::microseconds(1);
    assert!(jobs.advance_watermark(&tenant, &job, later).await.unwrap());
    assert_eq!(jobs.watermark(&tenant, &job).await.unwrap(), Some(later));
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn schedule_records_are_versioned_and_need_their_job() {
    let client = client().await;
    let schedules = DynamoScheduleRepository::new(client.clone(), table());
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let now = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let mut schedule = Schedule {
        tenant: tenant.clone(),
        job_id: job.clone(),
        expression: "cron(0 2 L * ? *)".into(),
        xxl_cron: Some("0 0 2 L * ?".into()),
        timezone: "Europe/Berlin".into(),
        enabled: true,
        start_at: Some(now),
        end_at: None,
        flexible_window_minutes: Some(15),
        delivery_retry: None,
        policy: RunPolicy {
            overlap: Overlap::CancelPrevious,
            timeout_seconds: Some(600),
            retry: Some(RetryPolicy {
                max_attempts: 3,
                backoff_seconds: 30,
            }),
            on_success: vec![JobId::generate()],
        },
        version: 1,
        created_at: now,
        updated_at: now,
    };
    assert!(matches!(
        schedules.put(&schedule, None).await,
        Err(RepositoryError::MissingReference)
    ));
    // A job item (its content does not matter to the schedule).
    client
        .put_item()
        .table_name(table())
        .set_item(Some(HashMap::from([
            ("pk".into(), AttributeValue::S(format!("TENANT#{tenant}"))),
            ("sk".into(), AttributeValue::S(format!("JOB#{job}"))),
        ])))
        .send()
        .await
        .unwrap();
    schedules.put(&schedule, None).await.unwrap();
    assert_eq!(
        schedules.get(&tenant, &job).await.unwrap(),
        Some(schedule.clone())
    );
    assert!(matches!(
        schedules.put(&schedule, None).await,
        Err(RepositoryError::AlreadyExists)
    ));
    schedule.version = 2;
    schedule.enabled = false;
    schedules.put(&schedule, Some(1)).await.unwrap();
    assert!(matches!(
        schedules.put(&schedule, Some(1)).await,
        Err(RepositoryError::VersionMismatch { current: 2 })
    ));
    assert!(matches!(
        schedules.delete(&tenant, &job, Some(1)).await,
        Err(RepositoryError::VersionMismatch { current: 2 })
    ));
    schedules.delete(&tenant, &job, Some(2)).await.unwrap();
    assert_eq!(schedules.get(&tenant, &job).await.unwrap(), None);
    assert!(matches!(
        schedules.delete(&tenant, &job, None).await,
        Err(RepositoryError::NotFound)
    ));
}

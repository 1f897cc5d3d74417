//! The notifier's ledger against moto's DynamoDB: a run's claim is taken once, released only
//! while unsent, taken over once expired; a job's alert history is written at the next version
//! only. Run through `make test`, which starts moto and creates the table.

use chrono::{Duration, TimeZone, Utc};
use sluice_aws::DynamoAlertLedger;
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::notification::AlertState;
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{AlertLedger, NoticeClaim, RepositoryError};

async fn ledger() -> DynamoAlertLedger {
    let aws = sluice_aws::config::load().await;
    let table = std::env::var("SLUICE_TABLE").expect("SLUICE_TABLE: run `make test`");
    DynamoAlertLedger::new(aws_sdk_dynamodb::Client::new(&aws), table)
}

fn tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_claim_is_taken_once_released_while_unsent_and_taken_over_once_expired() {
    let ledger = ledger().await;
    let tenant = tenant();
    let job = JobId::generate();
    let now = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let hold = now + Duration::seconds(60);
    let run = RunId::for_fire(&job, now);
    assert_eq!(
        ledger.claim(&tenant, &run, now, hold).await.unwrap(),
        NoticeClaim::Claimed
    );
    assert_eq!(
        ledger.claim(&tenant, &run, now, hold).await.unwrap(),
        NoticeClaim::Taken,
        "a second delivery"
    );
    // Released while unsent: the next delivery takes it at once.
    ledger.release(&tenant, &run).await.unwrap();
    assert_eq!(
        ledger.claim(&tenant, &run, now, hold).await.unwrap(),
        NoticeClaim::Claimed
    );
    // Expired and unsent: taken over.
    let later = hold + Duration::seconds(1);
    assert_eq!(
        ledger
            .claim(&tenant, &run, later, later + Duration::seconds(60))
            .await
            .unwrap(),
        NoticeClaim::Claimed
    );
    // Sent: never again, released or expired.
    ledger.complete(&tenant, &run).await.unwrap();
    ledger.release(&tenant, &run).await.unwrap();
    let much_later = later + Duration::days(1);
    assert_eq!(
        ledger
            .claim(&tenant, &run, much_later, much_later)
            .await
            .unwrap(),
        NoticeClaim::Taken
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn the_alert_history_is_written_at_the_next_version_only() {
    let ledger = ledger().await;
    let tenant = tenant();
    let job = JobId::generate();
    assert_eq!(
        ledger.state(&tenant, &job).await.unwrap(),
        AlertState::default()
    );
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
    let first = AlertState {
        failing: true,
        last_failure_alert_at: Some(at),
        suppressed: 0,
        version: 1,
    };
    ledger.save_state(&tenant, &job, &first).await.unwrap();
    assert_eq!(ledger.state(&tenant, &job).await.unwrap(), first);
    // Another notifier wrote version 1 first: this one must read again.
    assert!(matches!(
        ledger.save_state(&tenant, &job, &first).await,
        Err(RepositoryError::VersionMismatch { current: 1 })
    ));
    let second = AlertState {
        suppressed: 3,
        version: 2,
        ..first.clone()
    };
    ledger.save_state(&tenant, &job, &second).await.unwrap();
    assert_eq!(ledger.state(&tenant, &job).await.unwrap(), second);
}

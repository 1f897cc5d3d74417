//! The run report's counters against moto's DynamoDB. Run through `make test`, which starts
//! moto, creates the table, and un-ignores these.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sluice_aws::DynamoRunReports;
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::report::{Granularity, ReportQuery, RunEnd};
use sluice_domain::model::run::RunState;
use sluice_domain::ports::RunReports;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `make test`"))
}

async fn reports() -> DynamoRunReports {
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    DynamoRunReports::new(client, env("SLUICE_TABLE"))
}

fn fresh_tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0).unwrap()
}

fn query(
    tenant: &TenantId,
    job: Option<&JobId>,
    g: Granularity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ReportQuery {
    ReportQuery {
        tenant: tenant.clone(),
        job_id: job.cloned(),
        granularity: g,
        from,
        to,
    }
}

#[tokio::test]
#[ignore = "needs moto (make test)"]
async fn ends_add_up_per_hour_and_day_tenant_wide_and_per_job() {
    let reports = reports().await;
    let tenant = fresh_tenant();
    let (job_a, job_b) = (JobId::generate(), JobId::generate());
    let end = |job: &JobId, state, rows, ms, at| RunEnd {
        tenant: tenant.clone(),
        job_id: job.clone(),
        state,
        rows_written: rows,
        duration: Duration::milliseconds(ms),
        ended_at: at,
    };
    let ends = [
        end(
            &job_a,
            RunState::Succeeded,
            Some(u64::from(u32::MAX) + 1),
            1_500,
            at(1, 0, 0),
        ),
        end(&job_a, RunState::Succeeded, Some(0), 1_500, at(1, 0, 59)),
        end(&job_b, RunState::Failed, None, 90_000, at(1, 23, 59)),
        end(&job_b, RunState::Lost, None, 900_000, at(2, 0, 0)),
    ];
    // Concurrent ends of one bucket all count (atomic ADDs, no read-modify-write).
    futures_util::future::try_join_all(ends.iter().map(|e| reports.record(e)))
        .await
        .unwrap();

    let days = reports
        .counters(&query(
            &tenant,
            None,
            Granularity::Day,
            at(1, 0, 0),
            at(3, 0, 0),
        ))
        .await
        .unwrap();
    assert_eq!(days.len(), 2);
    let day1 = &days[&at(1, 0, 0)];
    assert_eq!(day1.runs[&RunState::Succeeded], 2);
    assert_eq!(day1.runs[&RunState::Failed], 1);
    assert_eq!(day1.rows_written, u64::from(u32::MAX) + 1);
    assert_eq!(day1.durations.values().sum::<u64>(), 3);
    assert_eq!(days[&at(2, 0, 0)].runs[&RunState::Lost], 1);

    let hours_of_a = reports
        .counters(&query(
            &tenant,
            Some(&job_a),
            Granularity::Hour,
            at(1, 0, 0),
            at(2, 0, 0),
        ))
        .await
        .unwrap();
    assert_eq!(hours_of_a.len(), 1, "{hours_of_a:?}");
    assert_eq!(hours_of_a[&at(1, 0, 0)].runs[&RunState::Succeeded], 2);
    assert_eq!(
        hours_of_a[&at(1, 0, 0)].duration_quantile_ms(0.5),
        Some(1_586)
    );

    // The range is [from, to): the hour 23:00 of day 1 is outside [00:00, 23:00).
    let hours = reports
        .counters(&query(
            &tenant,
            None,
            Granularity::Hour,
            at(1, 0, 0),
            at(1, 23, 0),
        ))
        .await
        .unwrap();
    assert_eq!(hours.keys().copied().collect::<Vec<_>>(), [at(1, 0, 0)]);

    // Another tenant sees nothing of these.
    let other = reports
        .counters(&query(
            &fresh_tenant(),
            None,
            Granularity::Day,
            at(1, 0, 0),
            at(3, 0, 0),
        ))
        .await
        .unwrap();
    assert!(other.is_empty());
}

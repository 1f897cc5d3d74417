//! The run repository against moto's DynamoDB. Run through `make test`,
//! which starts moto, creates the table with its indexes, and un-ignores
//! these.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sluice_aws::DynamoRunRepository;
use sluice_domain::TenantId;
use sluice_domain::model::job::{FlinkTarget, JobId, Window};
use sluice_domain::model::run::{
    NewRun, Run, RunError, RunErrorCode, RunId, RunState, TriggerKind,
};
use sluice_domain::ports::{Created, RepositoryError, RunRepository};
use tokio::task::JoinSet;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `make test`"))
}

async fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await)
}

async fn repository() -> DynamoRunRepository {
    DynamoRunRepository::new(client().await, env("SLUICE_TABLE"))
}

fn fresh_tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, hour, 0, 0).unwrap()
}

/// The pending run of `job`'s fire at `scheduled`.
fn run(tenant: &TenantId, job: &JobId, scheduled: DateTime<Utc>) -> Run {
    Run::pending(
        NewRun {
            id: RunId::for_fire(job, scheduled),
            tenant: tenant.clone(),
            job_id: job.clone(),
            trigger: TriggerKind::Schedule,
            scheduled_time: scheduled,
            window: Some(Window {
                from: scheduled - Duration::hours(1),
                to: scheduled,
            }),
            flink_target: FlinkTarget::DEFAULT_SESSION,
        },
        scheduled + Duration::seconds(2),
    )
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn runs_round_trip_every_field() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();

    // Every optional field set.
    let mut full = run(&tenant, &job, at(8)).transition(RunState::Failed, at(9));
    full.trigger = TriggerKind::Backfill;
    full.flink_target = FlinkTarget::parse("msf").unwrap();
    full.flink_job_id = Some("a1b2c3".into());
    full.attempts = 3;
    full.submission = 2;
    full.error = Some(RunError {
        // Codes this version does not write: as an older item holds them.
        code: RunErrorCode::Other("flink_failed".into()),
        message: "the job failed".into(),
        retryable: true,
    });
    full.rows_read = Some(u64::MAX);
    full.rows_written = Some(0);
    assert_eq!(
        repo.create(&full).await.unwrap(),
        Created::New(full.clone())
    );
    assert_eq!(
        repo.get(&tenant, &full.id).await.unwrap(),
        Some(full.clone())
    );

    // Every optional field absent.
    let mut bare = run(&tenant, &job, at(10));
    bare.window = None;
    bare.trigger = TriggerKind::Manual;
    repo.create(&bare).await.unwrap();
    assert_eq!(
        repo.get(&tenant, &bare.id).await.unwrap(),
        Some(bare.clone())
    );

    // Another tenant's run is indistinguishable from a missing one.
    assert_eq!(repo.get(&fresh_tenant(), &full.id).await.unwrap(), None);
    assert_eq!(repo.get(&tenant, &RunId::generate()).await.unwrap(), None);
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn runs_are_stored_in_the_documented_shape() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let pending = run(&tenant, &job, at(8));
    repo.create(&pending).await.unwrap();

    let raw = |id: RunId| {
        let tenant = tenant.clone();
        async move {
            client()
                .await
                .get_item()
                .table_name(env("SLUICE_TABLE"))
                .key("pk", AttributeValue::S(format!("TENANT#{tenant}")))
                .key("sk", AttributeValue::S(format!("RUN#{id}")))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
                .expect("the run is stored under its documented key")
        }
    };
    let s = |item: &HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .unwrap_or_else(|| panic!("{name} is missing"))
            .as_s()
            .unwrap_or_else(|_| panic!("{name} is not a string"))
            .clone()
    };

    let item = raw(pending.id.clone()).await;
    assert_eq!(s(&item, "entity"), "run");
    assert_eq!(s(&item, "job_pk"), format!("TENANT#{tenant}#JOB#{job}"));
    assert_eq!(s(&item, "job_sk"), pending.id.to_string());
    assert_eq!(s(&item, "active_pk"), "ACTIVE");
    assert_eq!(s(&item, "active_sk"), pending.id.to_string());
    assert_eq!(s(&item, "state"), "pending");
    assert_eq!(s(&item, "trigger"), "schedule");
    assert_eq!(s(&item, "flink_target"), "session");
    assert_eq!(s(&item, "scheduled_time"), "2026-05-01T08:00:00Z");
    assert_eq!(item["version"].as_n().unwrap(), "1");
    assert_eq!(item["attempts"].as_n().unwrap(), "0");
    let window = item["window"].as_m().expect("the window is a map");
    assert_eq!(window["from"].as_s().unwrap(), "2026-05-01T07:00:00Z");
    for absent in [
        "error",
        "finished_at",
        "flink_job_id",
        "rows_read",
        "submission",
    ] {
        assert!(!item.contains_key(absent), "{absent} should be absent");
    }

    let mut timed_out = pending.transition(RunState::TimedOut, at(9));
    timed_out.error = Some(RunError {
        code: RunErrorCode::Other("timeout".into()),
        message: "the run took too long".into(),
        retryable: false,
    });
    repo.update(&timed_out, 1).await.unwrap();
    let item = raw(pending.id.clone()).await;
    assert_eq!(s(&item, "state"), "timed_out");
    assert_eq!(item["version"].as_n().unwrap(), "2");
    assert_eq!(
        item["error"].as_m().expect("the error is a map")["retryable"],
        AttributeValue::Bool(false)
    );
    // Finished: out of the sparse index, still in the job's history.
    assert!(!item.contains_key("active_pk"));
    assert!(!item.contains_key("active_sk"));
    assert!(item.contains_key("job_pk"));
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn create_is_idempotent() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let first = run(&tenant, &job, at(8));
    assert_eq!(
        repo.create(&first).await.unwrap(),
        Created::New(first.clone())
    );

    // A second delivery of the same fire, built a little differently, finds
    // the first one and changes nothing.
    let mut second = first.clone();
    second.trigger = TriggerKind::Retry;
    second.attempts = 7;
    second.created_at = at(11);
    assert_eq!(
        repo.create(&second).await.unwrap(),
        Created::Existing(first.clone())
    );
    assert_eq!(
        repo.get(&tenant, &first.id).await.unwrap(),
        Some(first.clone())
    );

    // The same run id in another tenant is another run.
    let elsewhere = run(&fresh_tenant(), &job, at(8));
    assert_eq!(elsewhere.id, first.id);
    assert_eq!(
        repo.create(&elsewhere).await.unwrap(),
        Created::New(elsewhere.clone())
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn concurrent_creates_of_one_run_make_one() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let mut deliveries = JoinSet::new();
    for attempt in 0..8 {
        let repo = repo.clone();
        // Each delivery's run differs, so the winner can be told apart.
        let mut delivery = run(&tenant, &job, at(8));
        delivery.attempts = attempt;
        deliveries.spawn(async move { repo.create(&delivery).await.unwrap() });
    }
    let results = deliveries.join_all().await;

    let new: Vec<&Run> = results
        .iter()
        .filter_map(|c| match c {
            Created::New(r) => Some(r),
            Created::Existing(_) => None,
        })
        .collect();
    assert_eq!(new.len(), 1, "exactly one delivery creates the run");
    let winner = new[0];
    for result in &results {
        if let Created::Existing(stored) = result {
            assert_eq!(stored, winner, "every other delivery sees the winner");
        }
    }
    assert_eq!(
        repo.get(&tenant, &winner.id).await.unwrap().as_ref(),
        Some(winner)
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn updates_are_conditional_on_version() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();
    let pending = run(&tenant, &job, at(8));
    repo.create(&pending).await.unwrap();

    let mut submitting = pending.transition(RunState::Submitting, at(8));
    submitting.attempts = 1;
    repo.update(&submitting, 1).await.unwrap();
    assert_eq!(
        repo.get(&tenant, &pending.id).await.unwrap(),
        Some(submitting.clone())
    );

    // A writer still holding version 1 loses, and learns the current one.
    let stale = pending.transition(RunState::Canceled, at(9));
    assert!(matches!(
        repo.update(&stale, 1).await,
        Err(RepositoryError::VersionMismatch { current: 2 })
    ));
    assert_eq!(
        repo.get(&tenant, &pending.id).await.unwrap(),
        Some(submitting.clone())
    );

    // An update never creates: a run that is not there, or not the tenant's.
    let missing = run(&tenant, &job, at(9)).transition(RunState::Running, at(9));
    assert!(matches!(
        repo.update(&missing, 1).await,
        Err(RepositoryError::NotFound)
    ));
    assert_eq!(repo.get(&tenant, &missing.id).await.unwrap(), None);
    let mut other_tenant = submitting.transition(RunState::Running, at(9));
    other_tenant.tenant = fresh_tenant();
    assert!(matches!(
        repo.update(&other_tenant, 2).await,
        Err(RepositoryError::NotFound)
    ));
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_jobs_runs_list_newest_first_in_pages() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let other_tenant = fresh_tenant();
    let job = JobId::generate();
    let other_job = JobId::generate();
    let mut ids = Vec::new();
    // Created out of order: the listing sorts by scheduled time.
    for hour in [3, 1, 4, 0, 2] {
        let r = run(&tenant, &job, at(hour));
        repo.create(&r).await.unwrap();
        ids.push(r.id);
        // Neighbours that must not show: another job of the tenant, and the
        // same job id under another tenant.
        repo.create(&run(&tenant, &other_job, at(hour)))
            .await
            .unwrap();
        repo.create(&run(&other_tenant, &job, at(hour + 10)))
            .await
            .unwrap();
    }
    ids.sort();
    ids.reverse();

    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = repo
            .list_for_job(&tenant, &job, 2, before.as_ref())
            .await
            .unwrap();
        assert!(
            page.items
                .iter()
                .all(|r| r.tenant == tenant && r.job_id == job)
        );
        pages.push(page.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>());
        match page.next_after {
            Some(next) => {
                assert_eq!(Some(&next), page.items.last().map(|r| &r.id));
                before = Some(next);
            }
            None => break,
        }
        assert!(pages.len() <= 3, "paging does not end");
    }
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2, 1],
        "the last page carries no token that leads nowhere"
    );
    assert_eq!(pages.concat(), ids);

    // A page that holds exactly the rest says so.
    let all = repo.list_for_job(&tenant, &job, 5, None).await.unwrap();
    assert_eq!(
        all.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        ids
    );
    assert_eq!(all.next_after, None);
    let rest = repo
        .list_for_job(&tenant, &job, 3, Some(&ids[1]))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.next_after, None);

    // A job with no runs, and a tenant that does not own the job.
    let none = repo
        .list_for_job(&tenant, &JobId::generate(), 10, None)
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next_after.is_none());
    let theirs = repo
        .list_for_job(&other_tenant, &job, 10, None)
        .await
        .unwrap();
    assert_eq!(theirs.items.len(), 5);
    assert!(theirs.items.iter().all(|r| r.tenant == other_tenant));
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn only_active_runs_are_listed_as_active() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let job = JobId::generate();
    // Scheduled long ago, so they come first among the other tests' active
    // runs (the index is shared by every tenant, oldest first).
    let long_ago = Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap();
    let pending = run(&tenant, &job, long_ago);
    let running =
        run(&tenant, &job, long_ago + Duration::minutes(1)).transition(RunState::Running, long_ago);
    let succeeded = run(&tenant, &job, long_ago + Duration::minutes(2))
        .transition(RunState::Succeeded, long_ago);
    let skipped =
        run(&tenant, &job, long_ago + Duration::minutes(3)).transition(RunState::Skipped, long_ago);
    for r in [&running, &succeeded, &pending, &skipped] {
        repo.create(r).await.unwrap();
    }

    let ours =
        |runs: Vec<Run>| -> Vec<Run> { runs.into_iter().filter(|r| r.tenant == tenant).collect() };
    let active = repo.list_active(1000).await.unwrap();
    assert!(active.iter().all(|r| r.state.is_active()));
    let mut sorted = active.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    sorted.sort();
    assert_eq!(
        active.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        sorted,
        "oldest first"
    );
    assert_eq!(ours(active), vec![pending.clone(), running.clone()]);
    assert_eq!(repo.list_active(1).await.unwrap().len(), 1);
    assert!(repo.list_active(0).await.unwrap().is_empty());

    // Finishing a run takes it out of the index.
    let done = running.transition(RunState::Succeeded, long_ago + Duration::hours(1));
    repo.update(&done, running.version).await.unwrap();
    assert_eq!(
        ours(repo.list_active(1000).await.unwrap()),
        vec![pending.clone()]
    );

    // And the test leaves nothing active behind.
    let canceled = pending.transition(RunState::Canceled, long_ago + Duration::hours(1));
    repo.update(&canceled, pending.version).await.unwrap();
    assert!(ours(repo.list_active(1000).await.unwrap()).is_empty());
    // Finished runs stay in the job's history.
    assert_eq!(
        repo.list_for_job(&tenant, &job, 10, None)
            .await
            .unwrap()
            .items
            .len(),
        4
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn a_jobs_active_run_is_found_among_every_tenants() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let (job, other_job) = (JobId::generate(), JobId::generate());
    let other_tenant = fresh_tenant();
    let long_ago = Utc.with_ymd_and_hms(2002, 1, 1, 0, 0, 0).unwrap();
    // Not this job's: another job's and another tenant's active runs, and
    // this job's ended runs (one with its follow-up left, still indexed).
    let others = [
        run(&tenant, &other_job, long_ago),
        run(&other_tenant, &job, long_ago),
        run(&tenant, &job, long_ago).transition(RunState::Canceled, long_ago),
        {
            let mut done = run(&tenant, &job, long_ago + Duration::minutes(1))
                .transition(RunState::Succeeded, long_ago);
            done.follow_up_pending = true;
            done
        },
    ];
    for r in &others {
        repo.create(r).await.unwrap();
    }
    assert_eq!(repo.active_for_job(&tenant, &job).await.unwrap(), None);

    let running =
        run(&tenant, &job, long_ago + Duration::minutes(2)).transition(RunState::Running, long_ago);
    repo.create(&running).await.unwrap();
    assert_eq!(
        repo.active_for_job(&tenant, &job).await.unwrap(),
        Some(running.clone())
    );

    // Ended, it is found no more. Nothing is left active behind.
    let canceled = running.transition(RunState::Canceled, long_ago + Duration::hours(1));
    repo.update(&canceled, running.version).await.unwrap();
    assert_eq!(repo.active_for_job(&tenant, &job).await.unwrap(), None);
    for r in &others {
        let state = if r.state.is_active() {
            RunState::Canceled
        } else {
            r.state
        };
        let mut ended = r.transition(state, long_ago + Duration::hours(1));
        ended.follow_up_pending = false;
        repo.update(&ended, r.version).await.unwrap();
    }
}

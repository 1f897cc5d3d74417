//! A submission whose answer from Flink comes too late (issue 12): the
//! JobManager starts the job, but the trigger's request times out before the
//! answer arrives. The trigger must find that job and adopt it, on the same
//! delivery or on the next, instead of starting a second one that writes the
//! rows again.
//!
//! The trigger runs in this process, with the stack's table, KMS key and
//! runner jar, but talks to Flink through a proxy that forwards every request
//! to the JobManager at once and holds the answers of `POST /jars/{id}/run`
//! past the trigger's Flink timeout. The stack's reconciler follows the run.
//! Run with `make test`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sluice_aws::{
    DynamoJobRepository, DynamoRunRepository, DynamoScheduleRepository, DynamoSourceRepository,
    KmsKeyProvider,
};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::TenantId;
use sluice_domain::model::job::{FlinkTarget, JobId};
use sluice_domain::model::run::{Run, RunId, TriggerKind};
use sluice_domain::ports::{FlinkTargets, Submission, SystemClock};
use sluice_domain::service::discovery::DiscoveryService;
use sluice_domain::service::trigger::{
    Fire, TriggerError, TriggerOutcome, TriggerPorts, TriggerService,
};
use sluice_flink::{FlinkSessionClient, FlinkSessionConfig};
use sluice_flinksql::FlinkSqlCompiler;
use sluice_probe::DirectProbe;
use sluice_tests::{
    Api, db, flink_get, fresh_tenant, schedule_for_hand_delivery, wait_for_run_end,
};

const ROWS: u32 = 5_000;

/// The trigger's limit of one exchange with Flink.
const FLINK_TIMEOUT: Duration = Duration::from_secs(5);

/// How much longer than the timeout the proxy holds a run's answer.
const HOLD: Duration = Duration::from_secs(20);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `make test`"))
}

/// A proxy in front of the JobManager: every request goes on at once (the
/// job starts), the answer of a jar run comes back `HOLD` after Flink's.
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// Jar runs received, whose answers are held.
    held: AtomicUsize,
}

impl Proxy {
    async fn start(upstream: String) -> (Arc<Self>, String) {
        let proxy = Arc::new(Self {
            upstream,
            http: sluice_tests::http_client(),
            held: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(forward).with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (proxy, url)
    }
}

fn is_jar_run(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == http::Method::POST && path.starts_with("/jars/") && path.ends_with("/run")
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let held = is_jar_run(&request);
    if held {
        // Counted as it arrives, not when Flink answers: on a loaded machine
        // Flink's own answer may come after the trigger has moved on.
        proxy.held.fetch_add(1, Ordering::SeqCst);
    }
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 64 << 20).await.expect("a request body");
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut upstream = proxy
        .http
        .request(parts.method.clone(), format!("{}{path}", proxy.upstream))
        .body(body);
    if let Some(content_type) = parts.headers.get(http::header::CONTENT_TYPE) {
        upstream = upstream.header(http::header::CONTENT_TYPE, content_type.clone());
    }
    // Spawned: the JobManager gets the whole request even when the client
    // gives up waiting (and drops this handler).
    let answer = tokio::spawn(async move {
        let response = upstream.send().await.expect("the JobManager answers");
        let status = response.status();
        let content_type = response.headers().get(http::header::CONTENT_TYPE).cloned();
        let bytes = response.bytes().await.expect("the JobManager's answer");
        (status, content_type, bytes)
    })
    .await
    .expect("the forwarding task");
    if held {
        tokio::time::sleep(HOLD).await;
    }
    let (status, content_type, bytes) = answer;
    let mut response = Response::builder().status(status.as_u16());
    if let Some(content_type) = content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    response.body(Body::from(bytes)).unwrap()
}

/// The stack's KMS key (as the functions get it), else its alias.
fn kms_key_id() -> String {
    let state = env("SLUICE_STATE");
    std::fs::read_to_string(format!("{state}/function.env"))
        .ok()
        .and_then(|env| {
            env.lines()
                .find_map(|l| l.strip_prefix("SLUICE_KMS_KEY_ID="))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| env("SLUICE_KMS_ALIAS"))
}

fn runner_jar() -> String {
    std::env::var("SLUICE_RUNNER_JAR").unwrap_or_else(|_| {
        format!(
            "{}/../infra/flink-sql-runner/target/flink-sql-runner.jar",
            env!("CARGO_MANIFEST_DIR")
        )
    })
}

/// The trigger use case as the trigger function builds it, on the stack's
/// table and key, with its one Flink target reached through `rest_url`.
async fn trigger(rest_url: &str) -> TriggerService {
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = env("SLUICE_TABLE");
    let keys = KmsKeyProvider::new(aws_sdk_kms::Client::new(&aws), kms_key_id());
    let session = FlinkSessionClient::new(FlinkSessionConfig {
        rest_url: rest_url.to_owned(),
        runner_jar: runner_jar().into(),
        request_timeout: FLINK_TIMEOUT,
    })
    .unwrap();
    let sealer = Arc::new(EnvelopeSealer::new(keys));
    TriggerService::new(TriggerPorts {
        jobs: Arc::new(DynamoJobRepository::new(dynamodb.clone(), table.clone())),
        sources: Arc::new(DynamoSourceRepository::new(dynamodb.clone(), table.clone())),
        runs: Arc::new(DynamoRunRepository::new(dynamodb.clone(), table.clone())),
        schedules: Arc::new(DynamoScheduleRepository::new(
            dynamodb.clone(),
            table.clone(),
        )),
        sealer: sealer.clone(),
        compiler: Arc::new(FlinkSqlCompiler),
        flink: FlinkTargets::single(FlinkTarget::DEFAULT_SESSION, Arc::new(session)),
        events: Arc::new(sluice_domain::fakes::RecordingRunEvents::default()),
        // The discovery use cases in process, as the discovery function
        // serves them.
        preparer: Arc::new(DiscoveryService::new(
            Arc::new(DynamoSourceRepository::new(dynamodb.clone(), table.clone())),
            sealer.clone(),
            Arc::new(DirectProbe),
            Arc::new(SystemClock),
        )),
        clock: Arc::new(SystemClock),
    })
}

/// Delivers `fire` as EventBridge Scheduler would: again after each
/// retryable failure, a few times. The run once it has its Flink job.
async fn deliver(trigger: &TriggerService, fire: &Fire) -> Run {
    for delivery in 1..=6 {
        match trigger.fire(fire.clone()).await {
            Ok(TriggerOutcome::Submitted(run) | TriggerOutcome::AlreadyHandled(run))
                if run.flink_job_id.is_some() =>
            {
                eprintln!(
                    "delivery {delivery}: the run follows {:?}",
                    run.flink_job_id
                );
                return run;
            }
            Err(TriggerError::Retryable(run)) => {
                eprintln!("delivery {delivery}: retryable: {:?}", run.error);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            other => panic!("delivery {delivery}: {other:?}"),
        }
    }
    panic!("six deliveries and the run has no Flink job");
}

/// The run's end, waited for as the reconciler's schedule would.
async fn wait_for_end(api: &Api, tenant: &str, run_id: &str) -> Value {
    wait_for_run_end(api, tenant, run_id, 240).await
}

/// The Flink jobs whose name says they are `job_id`'s (`pipeline.name` is
/// `sluice/<job id>/<job name>`).
async fn flink_jobs_of(job_id: &str) -> Vec<Value> {
    let (status, body) = flink_get("/jobs/overview").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overview: Value = serde_json::from_str(&body).unwrap();
    overview["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| {
            j["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(&format!("sluice/{job_id}/")))
        })
        .cloned()
        .collect()
}

fn maria_count(sql: &str) -> u64 {
    db::mariadb(sql).trim().parse().unwrap()
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_submission_whose_answer_comes_too_late_runs_one_flink_job_and_copies_the_rows_once() {
    let api = Api::new();
    let tenant = fresh_tenant("late");
    let table = format!("late_{}", &tenant[tenant.len() - 8..]);
    db::psql(&format!(
        "CREATE TABLE {table} (id BIGINT, amount BIGINT, updated_at TIMESTAMP(3));
         INSERT INTO {table} SELECT g, g, TIMESTAMP '2026-01-01' FROM generate_series(1, {ROWS}) g;"
    ));
    db::mariadb(&format!(
        "CREATE TABLE {table} (id BIGINT, amount BIGINT, updated_at DATETIME(3))"
    ));
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let maria = api.register_source(&tenant, db::mariadb_source()).await;
    let reply = api
        .post(
            "/jobs",
            &tenant,
            &json!({
                "name": "late answer", "options": {"mode": "batch"},
                "source": {"source_id": pg, "object": format!("public.{table}"),
                           "columns": [{"name": "id", "type": "BIGINT"}, {"name": "amount", "type": "BIGINT"},
                                       {"name": "updated_at", "type": "TIMESTAMP(3)"}]},
                // Append: a second copy of the rows would show as twice the rows.
                "target": {"source_id": maria, "object": table, "write_mode": "append"}
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let job_id = reply.json()["id"].as_str().unwrap().to_owned();
    schedule_for_hand_delivery(&api, &tenant, &job_id, json!({})).await;

    let (proxy, proxy_url) = Proxy::start(env("FLINK_REST_URL")).await;
    let trigger = trigger(&proxy_url).await;
    let fire = Fire {
        tenant: TenantId::parse(&tenant).unwrap(),
        job_id: JobId::parse(&job_id).unwrap(),
        scheduled_time: "2026-07-01T00:00:00Z".parse().unwrap(),
        trigger: TriggerKind::Schedule,
        window: None,
        run_id: None,
        parent_run_id: None,
    };
    let started = Instant::now();
    let run = deliver(&trigger, &fire).await;
    assert!(
        started.elapsed() >= FLINK_TIMEOUT,
        "the first answer was not waited for past the timeout"
    );
    assert!(proxy.held.load(Ordering::SeqCst) >= 1, "no run was held");

    // The run follows the job of its first submission: the one Flink
    // started for the request whose answer never came in time.
    let submission = Submission {
        job_id: run.job_id.clone(),
        run_id: run.id.clone(),
        number: 1,
    };
    assert_eq!(run.submission, 1, "{run:?}");
    assert_eq!(run.flink_job_id, Some(submission.flink_job_id()), "{run:?}");
    assert_eq!(run.id, RunId::for_fire(&run.job_id, fire.scheduled_time));

    let done = wait_for_end(&api, &tenant, run.id.as_str()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let jobs = flink_jobs_of(&job_id).await;
    assert_eq!(jobs.len(), 1, "exactly one Flink job: {jobs:?}");
    assert_eq!(jobs[0]["jid"], submission.flink_job_id().as_str());
    assert_eq!(
        maria_count(&format!("SELECT count(*) FROM {table}")),
        u64::from(ROWS)
    );
    assert_eq!(
        maria_count(&format!("SELECT count(DISTINCT id) FROM {table}")),
        u64::from(ROWS)
    );
}

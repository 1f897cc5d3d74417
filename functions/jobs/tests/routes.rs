//! The jobs and runs routes over in-memory ports and the real compiler.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::fakes::{
    FakeFlink, FakeProbe, FakeScheduler, FakeSealer, FixedClock, MemoryRunReports, MemoryStore,
    RecordingInvoker,
};
use sluice_domain::model::job::FlinkTarget;
use sluice_domain::service::discovery::DiscoveryService;
use sluice_domain::service::jobs::{JobsPorts, JobsService};
use sluice_domain::service::reports::ReportService;
use sluice_domain::service::runs::RunsService;
use sluice_domain::service::schedules::ScheduleService;
use sluice_domain::service::sources::{SourceDraft, SourcesService};
use sluice_domain::{Secrets, TenantId};
use sluice_flinksql::FlinkSqlCompiler;
use sluice_http::TenantMode;
use tower::ServiceExt;

const CLAIM: &str = "tenant";

struct Fixture {
    app: Router,
    invoker: Arc<RecordingInvoker>,
    reports: Arc<MemoryRunReports>,
    source_id: String,
}

async fn fixture() -> Fixture {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(FixedClock::default());
    let sources = SourcesService::new(
        store.clone(),
        Arc::new(FakeSealer::default()),
        clock.clone(),
    );
    let mut secrets = Secrets::new();
    secrets.insert("password", SecretString::from("canary-route-pw"));
    let source = sources
        .register(
            &TenantId::parse("acme").unwrap(),
            SourceDraft {
                name: "db".into(),
                kind: "postgres".into(),
                config: json!({"host": "127.0.0.1", "database": "shop", "username": "etl"})
                    .as_object()
                    .unwrap()
                    .clone(),
                secrets: Some(secrets),
            },
        )
        .await
        .unwrap();
    let invoker = Arc::new(RecordingInvoker::default());
    let scheduler = Arc::new(FakeScheduler::default());
    let discovery = Arc::new(DiscoveryService::new(
        store.clone(),
        Arc::new(FakeSealer::default()),
        Arc::new(FakeProbe::default()),
        clock.clone(),
    ));
    let jobs = JobsService::new(JobsPorts {
        jobs: store.clone(),
        sources: store.clone(),
        runs: store.clone(),
        scheduler: scheduler.clone(),
        schedules: store.clone(),
        compiler: Arc::new(FlinkSqlCompiler),
        clock: clock.clone(),
        flink_targets: vec![FlinkTarget::DEFAULT_SESSION],
        discovery: discovery.clone(),
    });
    let schedules = ScheduleService::new(store.clone(), store.clone(), scheduler, clock.clone());
    let reports = Arc::new(MemoryRunReports::default());
    let report_service = ReportService::new(reports.clone(), store.clone(), clock.clone());
    let runs = RunsService::new(
        store.clone(),
        store,
        Arc::new(sluice_domain::ports::FlinkJobTargets::from(Arc::new(
            FakeFlink::default(),
        ))),
        invoker.clone(),
        Arc::new(sluice_domain::fakes::RecordingRunEvents::default()),
        clock.clone(),
    );
    Fixture {
        app: jobs::router(
            jobs,
            runs,
            schedules,
            report_service,
            clock,
            TenantMode::JwtClaim(CLAIM.into()),
        ),
        invoker,
        reports,
        source_id: source.id.to_string(),
    }
}

fn request(method: Method, uri: &str, tenant: &str, body: Option<Value>) -> Request<Body> {
    let content_type = body.as_ref().map(|_| "application/json");
    raw_request(
        method,
        uri,
        tenant,
        content_type,
        body.map(|b| b.to_string()),
    )
}

/// A request whose body is sent as these exact bytes.
fn raw_request(
    method: Method,
    uri: &str,
    tenant: &str,
    content_type: Option<&str>,
    body: Option<String>,
) -> Request<Body> {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims.insert(CLAIM.into(), tenant.into());
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .extension(RequestContext::ApiGatewayV2(context));
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder
        .body(body.map(Body::from).unwrap_or_default())
        .unwrap()
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn job(source: &str) -> Value {
    json!({
        "name": "copy orders",
        "source": {"source_id": source, "object": "public.orders",
                   "columns": [{"name": "id", "type": "BIGINT"}, {"name": "note", "type": "STRING"}]},
        "target": {"source_id": source, "object": "public.orders_copy", "write_mode": "upsert", "primary_key": ["id"]},
        "options": {"mode": "batch"}
    })
}

#[tokio::test]
async fn a_job_is_created_previewed_and_run() {
    let f = fixture().await;
    let (status, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, sql) = call(
        &f.app,
        request(Method::GET, &format!("/jobs/{id}/sql"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        sql.contains("'password' = '******'") && !sql.contains("canary-route-pw"),
        "{sql}"
    );

    let (status, body) = call(
        &f.app,
        request(Method::POST, &format!("/jobs/{id}/runs"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(run["state"], "pending");
    let events = f.invoker.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["run_id"], run["id"]);
    assert_eq!(events[0]["kind"], "manual");

    let run_path = format!("/runs/{}", run["id"].as_str().unwrap());
    let (status, _) = call(&f.app, request(Method::GET, &run_path, "globex", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(
        &f.app,
        request(Method::POST, &format!("{run_path}/cancel"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["state"],
        "canceled"
    );
    let (status, _) = call(
        &f.app,
        request(Method::POST, &format!("{run_path}/cancel"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_run_requests_are_problems() {
    let f = fixture().await;
    let (_, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let runs = format!("/jobs/{id}/runs");
    for (body, field) in [
        (
            json!({"window": {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}),
            "window.to",
        ),
        (
            json!({"window": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
            "window",
        ),
        (json!({"window": "yesterday"}), "window"),
        (json!({"when": "now"}), "when"),
    ] {
        let (status, problem) =
            call(&f.app, request(Method::POST, &runs, "acme", Some(body))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(
            serde_json::from_str::<Value>(&problem).unwrap()["field"],
            field,
            "{problem}"
        );
    }
    let (status, _) = call(
        &f.app,
        request(
            Method::POST,
            "/jobs/job_01J0000000000000000000000A/runs",
            "acme",
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(f.invoker.events().is_empty());
}

#[tokio::test]
async fn text_after_the_json_body_is_400_and_changes_nothing() {
    let f = fixture().await;
    let json = Some("application/json");
    for trailing in ["xyz", "}", " {}"] {
        let body = format!("{}{trailing}", job(&f.source_id));
        let (status, problem) = call(
            &f.app,
            raw_request(Method::POST, "/jobs", "acme", json, Some(body)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(
            serde_json::from_str::<Value>(&problem).unwrap()["field"],
            "body",
            "{problem}"
        );
    }
    let (_, list) = call(&f.app, request(Method::GET, "/jobs", "acme", None)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["items"],
        json!([])
    );

    let (_, created) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut renamed = job(&f.source_id);
    renamed["name"] = json!("renamed");
    let mut put = raw_request(
        Method::PUT,
        &format!("/jobs/{id}"),
        "acme",
        json,
        Some(format!("{renamed}}}")),
    );
    put.headers_mut()
        .insert("if-match", http::HeaderValue::from_static("\"1\""));
    let (status, problem) = call(&f.app, put).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    let (_, stored) = call(
        &f.app,
        request(Method::GET, &format!("/jobs/{id}"), "acme", None),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap()["name"],
        "copy orders"
    );
}

#[tokio::test]
async fn a_run_request_follows_the_body_rules_of_every_route() {
    let f = fixture().await;
    let (_, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let runs = format!("/jobs/{id}/runs");
    let json = Some("application/json");
    let over = |n: usize| Some(format!("{{\"window\": null{}}}", " ".repeat(n)));
    for (content_type, body, status, field) in [
        (
            Some("text/plain"),
            Some("{}".to_owned()),
            415,
            "Content-Type",
        ),
        (None, Some("{}".to_owned()), 415, "Content-Type"),
        (json, over(64 * 1024), 413, "body"),
        // Past axum's own buffering limit (2 MB) too.
        (json, over(3 * 1024 * 1024), 413, "body"),
        (json, Some("{}xyz".to_owned()), 400, "body"),
        (json, Some("{}}".to_owned()), 400, "body"),
        (json, Some("[]".to_owned()), 400, "body"),
    ] {
        let (got, problem) = call(
            &f.app,
            raw_request(Method::POST, &runs, "acme", content_type, body),
        )
        .await;
        assert_eq!(got.as_u16(), status, "{content_type:?}: {problem}");
        let problem: Value = serde_json::from_str(&problem).unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert!(f.invoker.events().is_empty(), "a refused request ran");

    // No body, a blank one (whatever its type) or an empty object: a run now.
    for (content_type, body) in [
        (None, None),
        (json, Some(String::new())),
        (Some("text/plain"), Some(" \r\n".to_owned())),
        (json, Some("{}".to_owned())),
        (json, Some("{\"window\": null} \n".to_owned())),
    ] {
        let (status, run) = call(
            &f.app,
            raw_request(Method::POST, &runs, "acme", content_type, body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body:?}: {run}");
        assert_eq!(
            serde_json::from_str::<Value>(&run).unwrap()["trigger"],
            "manual"
        );
    }
    assert_eq!(f.invoker.events().len(), 5);
}

#[tokio::test]
async fn a_job_with_an_active_run_is_409_until_the_run_is_canceled() {
    let f = fixture().await;
    let (_, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let job_path = format!(
        "/jobs/{}",
        serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
    );
    let (status, run) = call(
        &f.app,
        request(Method::POST, &format!("{job_path}/runs"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let run_id = serde_json::from_str::<Value>(&run).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = f
        .app
        .clone()
        .oneshot(request(Method::DELETE, &job_path, "acme", None))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let problem: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(problem["type"], "urn:sluice:problem:conflict");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("active run {run_id}"))
            && detail.contains(&format!("POST /runs/{run_id}/cancel")),
        "{detail}"
    );
    let (status, _) = call(&f.app, request(Method::GET, &job_path, "acme", None)).await;
    assert_eq!(status, StatusCode::OK, "the job stays");

    let (status, _) = call(
        &f.app,
        request(
            Method::POST,
            &format!("/runs/{run_id}/cancel"),
            "acme",
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&f.app, request(Method::DELETE, &job_path, "acme", None)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = call(&f.app, request(Method::GET, &job_path, "acme", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every route with an id answers an id that is not UTF-8 as the sources
/// routes do: a problem+json 404 (axum's own `Path` answered text/plain 400).
#[tokio::test]
async fn an_id_that_is_not_utf8_is_a_problem_404_on_every_route() {
    let f = fixture().await;
    for (method, uri) in [
        (Method::GET, "/jobs/%FF%FE"),
        (Method::DELETE, "/jobs/%FF%FE"),
        (Method::GET, "/jobs/%FF%FE/sql"),
        (Method::GET, "/jobs/%FF%FE/schedule"),
        (Method::GET, "/jobs/%FF%FE/runs"),
        (Method::POST, "/jobs/%FF%FE/runs"),
        (Method::GET, "/runs/%FF%FE"),
        (Method::POST, "/runs/%FF%FE/cancel"),
    ] {
        let resp = f
            .app
            .clone()
            .oneshot(request(method.clone(), uri, "acme", None))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn the_run_report_counts_each_bucket_and_names_bad_parameters() {
    use chrono::{Duration, TimeZone, Utc};
    use sluice_domain::model::job::JobId;
    use sluice_domain::model::report::RunEnd;
    use sluice_domain::model::run::RunState;
    use sluice_domain::ports::RunReports;

    let f = fixture().await;
    let (status, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job_id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let job = JobId::parse(&job_id).unwrap();
    let other_job = JobId::generate();
    let day1 = Utc.with_ymd_and_hms(2025, 12, 30, 23, 59, 59).unwrap();
    let day2 = Utc.with_ymd_and_hms(2025, 12, 31, 0, 0, 0).unwrap();
    let end = |job: &JobId, state, rows, secs, at| RunEnd {
        tenant: TenantId::parse("acme").unwrap(),
        job_id: job.clone(),
        state,
        rows_written: rows,
        duration: Duration::seconds(secs),
        ended_at: at,
    };
    for e in [
        end(&job, RunState::Succeeded, Some(1_000), 10, day1),
        end(&job, RunState::Succeeded, Some(234), 20, day1),
        end(&job, RunState::Failed, None, 300, day1),
        end(&other_job, RunState::TimedOut, Some(7), 3_600, day1),
        end(&job, RunState::Succeeded, Some(5), 1, day2),
    ] {
        f.reports.record(&e).await.unwrap();
    }
    // Another tenant's ends never show.
    let mut globex = end(&job, RunState::Failed, None, 1, day1);
    globex.tenant = TenantId::parse("globex").unwrap();
    f.reports.record(&globex).await.unwrap();

    let report = |query: String, tenant: &'static str| {
        let app = f.app.clone();
        async move {
            let (status, body) = call(
                &app,
                request(Method::GET, &format!("/reports/runs{query}"), tenant, None),
            )
            .await;
            (status, serde_json::from_str::<Value>(&body).unwrap())
        }
    };
    let (status, all) = report(
        "?from=2025-12-30T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=day".into(),
        "acme",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let buckets = all["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["start"], "2025-12-30T00:00:00Z");
    assert_eq!(
        buckets[0]["runs"],
        json!({"succeeded": 2, "failed": 1, "timed_out": 1, "canceled": 0, "skipped": 0, "lost": 0})
    );
    assert_eq!(buckets[0]["rows_written"], 1_241);
    assert_eq!(buckets[1]["runs"]["succeeded"], 1);
    assert_eq!(buckets[1]["rows_written"], 5);
    // p50 of 10 s, 20 s, 300 s, 3600 s is the 2nd (20 s); p95 the 4th: bucket bounds, <= 10% above.
    let p50 = buckets[0]["duration_ms"]["p50"].as_u64().unwrap();
    let p95 = buckets[0]["duration_ms"]["p95"].as_u64().unwrap();
    assert!((20_000..=22_000).contains(&p50), "{p50}");
    assert!((3_600_000..=3_960_000).contains(&p95), "{p95}");

    let (status, one) = report(
        format!("?from=2025-12-30T23:00:00Z&to=2025-12-31T01:00:00Z&bucket=hour&job_id={job_id}"),
        "acme",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let buckets = one["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["runs"]["succeeded"], 2);
    assert_eq!(buckets[0]["runs"]["timed_out"], 0, "another job's run");
    assert_eq!(buckets[1]["runs"]["succeeded"], 1);
    assert_eq!(buckets[1]["start"], "2025-12-31T00:00:00Z");

    // The job is acme's: globex gets a 404, not an empty report.
    let (status, problem) = report(format!("?job_id={job_id}"), "globex").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");

    for (query, field) in [
        ("?bucket=week", "bucket"),
        ("?from=yesterday", "from"),
        ("?to=2026-01-01", "to"),
        ("?job_id=nope", "job_id"),
        (
            "?from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=hour",
            "from",
        ),
        ("?tenant=globex", "tenant"),
    ] {
        let (status, problem) = report(query.into(), "acme").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert!(problem.to_string().contains(field), "{query}: {problem}");
    }
}

#[tokio::test]
async fn target_create_and_on_schema_change_take_their_values_only() {
    let f = fixture().await;
    for (path, value, field) in [
        ("target", json!({"create": "always"}), "target.create"),
        ("target", json!({"create": true}), "target.create"),
        ("target", json!({"create": "Never"}), "target.create"),
        (
            "options",
            json!({"on_schema_change": "drop_columns"}),
            "options.on_schema_change",
        ),
    ] {
        let mut body = job(&f.source_id);
        for (k, v) in value.as_object().unwrap() {
            body[path][k] = v.clone();
        }
        let (status, problem) =
            call(&f.app, request(Method::POST, "/jobs", "acme", Some(body))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        let problem: Value = serde_json::from_str(&problem).unwrap();
        assert_eq!(problem["field"], field, "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("must be one of"),
            "{problem}"
        );
    }

    let mut body = job(&f.source_id);
    body["target"]["create"] = json!("if_missing");
    body["options"]["on_schema_change"] = json!("add_columns");
    let (status, created) = call(&f.app, request(Method::POST, "/jobs", "acme", Some(body))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["target"]["create"], "if_missing");
    assert_eq!(created["options"]["on_schema_change"], "add_columns");
    // The defaults (never, fail) are left out of the answer.
    let (_, plain) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let plain: Value = serde_json::from_str(&plain).unwrap();
    assert!(plain["target"].get("create").is_none(), "{plain}");
    assert!(
        plain["options"].get("on_schema_change").is_none(),
        "{plain}"
    );
}

/// A multi-table job's body over the fixture's source (which lists no
/// table), with `selection` under `source`.
fn multi_job(source: &str, selection: Value) -> Value {
    let mut body = json!({
        "name": "whole schema",
        "source": {"source_id": source},
        "target": {"source_id": source, "write_mode": "append"},
        "options": {"mode": "batch"}
    });
    for (k, v) in selection.as_object().unwrap() {
        body["source"][k] = v.clone();
    }
    body
}

#[tokio::test]
async fn bad_multi_table_jobs_are_problems_naming_the_field() {
    let f = fixture().await;
    let too_many: Vec<String> = (0..501).map(|i| format!("public.t{i}")).collect();
    for (selection, field) in [
        (json!({"include": {"like": "orders%"}}), "source.include"),
        (
            json!({"include": {"regex": "^o", "like": "o%"}}),
            "source.include",
        ),
        (json!({"include": {"regex": "(("}}), "source.include.regex"),
        (json!({"objects": too_many}), "source.objects"),
        (json!({"objects": []}), "source.objects"),
        (json!({"objects": ["a.b.c"]}), "source.objects[0]"),
        (json!({"objects": ["public.nowhere"]}), "source.objects[0]"),
        (
            json!({"objects": ["public.a"], "exclude": {"like": "x"}}),
            "source.exclude",
        ),
        (
            json!({"objects": ["public.a"], "object": "public.a"}),
            "source.object",
        ),
        (
            json!({"objects": [{"name": "public.a", "primary_key": ["id"]}]}),
            "source.objects[0].primary_key",
        ),
    ] {
        let (status, problem) = call(
            &f.app,
            request(
                Method::POST,
                "/jobs",
                "acme",
                Some(multi_job(&f.source_id, selection.clone())),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{selection}: {problem}");
        let problem: Value = serde_json::from_str(&problem).unwrap();
        assert_eq!(problem["field"], field, "{selection}: {problem}");
    }
    let mut templated = multi_job(&f.source_id, json!({"objects": ["public.a"]}));
    templated["target"]["naming"] = json!({"template": "{tabel}"});
    let (status, problem) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(templated)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem.contains("target.naming.template"), "{problem}");

    // Another tenant's source: not found, never described.
    let (status, problem) = call(
        &f.app,
        request(
            Method::POST,
            "/jobs",
            "globex",
            Some(multi_job(&f.source_id, json!({"objects": ["public.a"]}))),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");

    // Only a multi-table job is refreshed; an unknown one is not found.
    let (_, body) = call(
        &f.app,
        request(Method::POST, "/jobs", "acme", Some(job(&f.source_id))),
    )
    .await;
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, problem) = call(
        &f.app,
        request(Method::POST, &format!("/jobs/{id}/refresh"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(
        serde_json::from_str::<Value>(&problem).unwrap()["field"],
        "source"
    );
    let (status, _) = call(
        &f.app,
        request(Method::POST, &format!("/jobs/{id}/refresh"), "globex", None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &f.app,
        request(Method::GET, &format!("/jobs/{id}/refresh"), "acme", None),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

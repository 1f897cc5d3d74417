//! The OpenAPI document (`infra/openapi.json`) and the functions agree:
//! every documented route and method is served, every served route and
//! method is documented. The routes served are the emulator's route table
//! (`[workspace.metadata.lambda.watch.router]`), probed method by method on
//! the real routers over in-memory ports. Needs no stack.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use serde_json::Value;
use sluice_crypto::{EnvelopeSealer, InMemoryKeyProvider};
use sluice_domain::fakes::{
    FakeFlink, FakeProbe, FakeScheduler, FixedClock, MemoryRunReports, MemoryStore,
    RecordingInvoker,
};
use sluice_domain::model::job::FlinkTarget;
use sluice_domain::service::discovery::DiscoveryService;
use sluice_domain::service::jobs::{JobsPorts, JobsService};
use sluice_domain::service::reports::ReportService;
use sluice_domain::service::runs::RunsService;
use sluice_domain::service::schedules::ScheduleService;
use sluice_domain::service::sources::SourcesService;
use sluice_flinksql::FlinkSqlCompiler;
use sluice_http::TenantMode;
use tower::ServiceExt;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (path template, methods) as documented.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(repo().join("infra/openapi.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item
                .as_object()
                .unwrap()
                .keys()
                .map(|m| m.to_ascii_uppercase())
                .filter(|m| METHODS.contains(&m.as_str()))
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// The route table of `cargo lambda watch`: path template -> function.
fn route_table() -> BTreeMap<String, String> {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let mut in_router = false;
    let mut routes = BTreeMap::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_router = line == "[workspace.metadata.lambda.watch.router]";
            continue;
        }
        // Comments and blank lines are not routes.
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if in_router && let Some((path, function)) = line.split_once('=') {
            routes.insert(
                path.trim().trim_matches('"').to_owned(),
                function.trim().trim_matches('"').to_owned(),
            );
        }
    }
    routes
}

fn routers() -> BTreeMap<&'static str, Router> {
    let store = Arc::new(MemoryStore::default());
    let clock = Arc::new(FixedClock::default());
    let mode = TenantMode::JwtClaim("tenant".into());
    let sources = SourcesService::new(
        store.clone(),
        Arc::new(EnvelopeSealer::new(InMemoryKeyProvider::random())),
        clock.clone(),
    );
    let discovery = Arc::new(DiscoveryService::new(
        store.clone(),
        Arc::new(EnvelopeSealer::new(InMemoryKeyProvider::random())),
        Arc::new(FakeProbe::default()),
        clock.clone(),
    ));
    let scheduler = Arc::new(FakeScheduler::default());
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
    let reports = ReportService::new(
        Arc::new(MemoryRunReports::default()),
        store.clone(),
        clock.clone(),
    );
    let notifications = sluice_domain::service::notifications::NotificationsService::new(
        store.clone(),
        store.clone(),
        Arc::new(EnvelopeSealer::new(InMemoryKeyProvider::random())),
        clock.clone(),
        sluice_domain::model::notification::ChannelPolicy {
            topic_arn_prefix: "arn:aws:sns:us-east-1:123456789012:sluice-".into(),
            allow_loopback_http: false,
        },
    );
    let runs = RunsService::new(
        store.clone(),
        store,
        Arc::new(sluice_domain::ports::FlinkJobTargets::from(Arc::new(
            FakeFlink::default(),
        ))),
        Arc::new(RecordingInvoker::default()),
        Arc::new(sluice_domain::fakes::RecordingRunEvents::default()),
        clock.clone(),
    );
    BTreeMap::from([
        (
            "sources",
            sources::router(
                sources,
                discovery.clone(),
                discovery,
                notifications,
                mode.clone(),
            ),
        ),
        (
            "jobs",
            jobs::router(jobs, runs, schedules, reports, clock, mode),
        ),
    ])
}

fn concrete(template: &str) -> String {
    let id = if template.starts_with("/sources") {
        "src_01J0000000000000000000000A"
    } else if template.starts_with("/runs") {
        "run_01J0000000000000000000000A"
    } else {
        "job_01J0000000000000000000000A"
    };
    template.replace("{id}", id)
}

/// Whether the router serves `method` on `path`: anything but its
/// route-not-found answer and 405.
async fn serves(router: &Router, method: &str, path: &str) -> bool {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims.insert("tenant".into(), "acme".into());
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .extension(RequestContext::ApiGatewayV2(context))
        .header("content-type", "application/json")
        .header("if-match", "*")
        .body(Body::from("{}"))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let unrouted = status == StatusCode::NOT_FOUND && body["detail"] == "no such resource";
    !(unrouted || status == StatusCode::METHOD_NOT_ALLOWED)
}

#[tokio::test]
async fn the_document_and_the_functions_serve_the_same_routes() {
    let documented = documented();
    let table = route_table();
    assert_eq!(
        documented.keys().collect::<BTreeSet<_>>(),
        table.keys().collect::<BTreeSet<_>>(),
        "paths in infra/openapi.json vs the route table in Cargo.toml"
    );
    let routers = routers();
    for (template, function) in &table {
        let router = &routers[function.as_str()];
        let path = concrete(template);
        let mut served = BTreeSet::new();
        for method in METHODS {
            if serves(router, method, &path).await {
                served.insert(method.to_owned());
            }
        }
        assert_eq!(served, documented[template], "methods of {template}");
    }
}

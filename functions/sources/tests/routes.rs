//! The sources routes over in-memory ports: tenant from JWT claims as API
//! Gateway's HTTP API delivers them, status codes, headers, problem bodies.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use sluice_crypto::{EnvelopeSealer, InMemoryKeyProvider};
use sluice_domain::fakes::{FakeProbe, FixedClock, MemorySourceRepository};
use sluice_domain::model::notification::ChannelPolicy;
use sluice_domain::service::discovery::DiscoveryService;
use sluice_domain::service::notifications::NotificationsService;
use sluice_domain::service::sources::SourcesService;
use sluice_http::TenantMode;
use tower::ServiceExt;

const CLAIM: &str = "custom:tenant_id";

fn app() -> Router {
    app_over(Arc::new(MemorySourceRepository::default()))
}

fn app_over(store: Arc<MemorySourceRepository>) -> Router {
    let sealer = Arc::new(EnvelopeSealer::new(InMemoryKeyProvider::random()));
    let clock = Arc::new(FixedClock::default());
    let service = SourcesService::new(store.clone(), sealer.clone(), clock.clone());
    let notifications = NotificationsService::new(
        store.clone(),
        store.clone(),
        sealer.clone(),
        clock.clone(),
        ChannelPolicy {
            topic_arn_prefix: "arn:aws:sns:us-east-1:123456789012:sluice-".into(),
            allow_loopback_http: false,
        },
    );
    let discovery = DiscoveryService::new(store, sealer, Arc::new(FakeProbe::default()), clock);
    let discovery = Arc::new(discovery);
    sources::router(
        service,
        discovery.clone(),
        discovery,
        notifications,
        TenantMode::JwtClaim(CLAIM.to_owned()),
    )
}

/// A request as lambda_http hands it over, with the authorizer's claims.
fn request(
    method: Method,
    uri: &str,
    claims: &[(&str, &str)],
    body: Option<Value>,
) -> Request<Body> {
    raw_request(method, uri, claims, body.map(|b| b.to_string()))
}

/// A request whose body is sent as these exact bytes, as JSON.
fn raw_request(
    method: Method,
    uri: &str,
    claims: &[(&str, &str)],
    body: Option<String>,
) -> Request<Body> {
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.authorizer = Some(authorizer);

    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .extension(RequestContext::ApiGatewayV2(context));
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    builder
        .body(body.map(Body::from).unwrap_or_default())
        .unwrap()
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    (status, headers, body)
}

fn kafka() -> Value {
    json!({"name": "events", "kind": "kafka", "config": {"bootstrap_servers": "k:9092"}})
}

#[tokio::test]
async fn the_tenant_comes_from_the_configured_jwt_claim() {
    let app = app();
    let acme = [(CLAIM, "acme"), ("sub", "user-1")];
    let (status, headers, view) = call(
        &app,
        request(Method::POST, "/sources", &acme, Some(kafka())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = view["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("/sources/{id}").as_str());
    assert_eq!(headers["etag"], "\"1\"");

    let path = format!("/sources/{id}");
    let (status, _, _) = call(&app, request(Method::GET, &path, &acme, None)).await;
    assert_eq!(status, StatusCode::OK);

    let other = [(CLAIM, "globex")];
    let (status, _, problem) = call(&app, request(Method::GET, &path, &other, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["type"], "urn:sluice:problem:not-found");
}

#[tokio::test]
async fn no_claim_or_a_bad_tenant_is_401() {
    let app = app();
    for claims in [
        vec![],
        vec![("sub", "user-1")],
        vec![(CLAIM, "bad tenant#1")],
    ] {
        let (status, _, problem) =
            call(&app, request(Method::GET, "/sources", &claims, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{claims:?}");
        assert_eq!(problem["status"], 401);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app();
    let acme = [(CLAIM, "acme")];
    let (status, headers, _) = call(&app, request(Method::GET, "/nowhere", &acme, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, _, problem) = call(&app, request(Method::PATCH, "/sources", &acme, None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem["status"], 405);
    let (status, _, _) = call(
        &app,
        request(Method::GET, "/sources/not-an-id", &acme, None),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn text_after_the_json_body_is_400_and_stores_nothing() {
    let app = app();
    let acme = [(CLAIM, "acme")];
    for trailing in ["xyz", "}", " {}", "\"x\""] {
        let body = format!("{}{trailing}", kafka());
        let (status, headers, problem) = call(
            &app,
            raw_request(Method::POST, "/sources", &acme, Some(body.clone())),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["field"], "body", "{problem}");
    }
    let (_, _, list) = call(&app, request(Method::GET, "/sources", &acme, None)).await;
    assert_eq!(list["items"], json!([]));
    // Trailing whitespace is no text.
    let (status, _, _) = call(
        &app,
        raw_request(
            Method::POST,
            "/sources",
            &acme,
            Some(format!("{}\r\n ", kafka())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_weak_if_match_is_412_and_changes_nothing() {
    let app = app();
    let acme = [(CLAIM, "acme")];
    let (_, _, view) = call(
        &app,
        request(Method::POST, "/sources", &acme, Some(kafka())),
    )
    .await;
    let path = format!("/sources/{}", view["id"].as_str().unwrap());
    let mut renamed = kafka();
    renamed["name"] = json!("renamed");
    for (method, body) in [(Method::PUT, Some(renamed)), (Method::DELETE, None)] {
        let mut req = request(method.clone(), &path, &acme, body);
        req.headers_mut()
            .insert("if-match", http::HeaderValue::from_static("W/\"1\""));
        let (status, headers, problem) = call(&app, req).await;
        assert_eq!(
            status,
            StatusCode::PRECONDITION_FAILED,
            "{method} {problem}"
        );
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["field"], "If-Match");
    }
    let (status, headers, view) = call(&app, request(Method::GET, &path, &acme, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(view["name"], "events");
}

/// A job of tenant `acme` stored beside its source, for the notification routes.
async fn stored_job(store: &MemorySourceRepository) -> String {
    use sluice_domain::model::job::{Job, JobId, JobSpec};
    use sluice_domain::ports::{JobRepository, SourceRepository};
    use sluice_domain::{Source, SourceId, SourceKind, TenantId};
    let tenant = TenantId::parse("acme").unwrap();
    let now = chrono::Utc::now();
    let source = Source {
        id: SourceId::generate(),
        tenant: tenant.clone(),
        name: "db".into(),
        kind: SourceKind::Postgres,
        config: Default::default(),
        secret_fields: Vec::new(),
        sealed_secrets: None,
        secrets_updated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    SourceRepository::insert(store, &source).await.unwrap();
    let spec: JobSpec = serde_json::from_value(json!({
        "name": "copy",
        "source": {"source_id": source.id.as_str(), "object": "t", "columns": [{"name": "id", "type": "BIGINT"}]},
        "target": {"source_id": source.id.as_str(), "object": "u", "write_mode": "append"},
        "options": {"mode": "batch"}
    }))
    .unwrap();
    let job = Job {
        id: JobId::generate(),
        tenant,
        spec,
        source_id: source.id.clone(),
        target_id: source.id,
        source_snapshot: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    JobRepository::insert(store, &job).await.unwrap();
    job.id.to_string()
}

#[tokio::test]
async fn notifications_are_saved_without_ever_answering_the_signing_secret() {
    let store = Arc::new(MemorySourceRepository::default());
    let job = stored_job(&store).await;
    let app = app_over(store);
    let uri = format!("/jobs/{job}/notifications");
    let tenant = [(CLAIM, "acme")];
    let canary = "canary-sig-9f3Ünï-secret";
    let (status, _, body) = call(&app, request(Method::GET, &uri, &tenant, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let spec = json!({
        "rules": [
            {"on": ["failed", "recovered"], "channel": {"type": "webhook", "url": "https://hooks.example.com/h/1", "format": "slack"}},
            {"on": ["succeeded"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:sluice-alerts"}}
        ],
        "quiet_period_seconds": 900,
        "signing_secret": canary,
    });
    let (status, headers, body) = call(&app, request(Method::PUT, &uri, &tenant, Some(spec))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(body["signing_secret_set"], true);
    assert_eq!(body["quiet_period_seconds"], 900);
    assert_eq!(
        body["rules"],
        json!([
            {"on": ["failed", "recovered"], "channel": {"type": "webhook", "url": "https://hooks.example.com/h/1", "format": "slack"}},
            {"on": ["succeeded"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:sluice-alerts"}}
        ])
    );
    assert!(!body.to_string().contains(canary));
    let (status, _, read) = call(&app, request(Method::GET, &uri, &tenant, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, body);
    assert!(!read.to_string().contains(canary));

    // Another tenant sees no such job.
    let (status, _, _) = call(&app, request(Method::GET, &uri, &[(CLAIM, "other")], None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_notifications_are_400s_naming_the_field() {
    let store = Arc::new(MemorySourceRepository::default());
    let job = stored_job(&store).await;
    let app = app_over(store);
    let uri = format!("/jobs/{job}/notifications");
    let tenant = [(CLAIM, "acme")];
    let webhook = |url: &str| json!({"rules": [{"on": ["failed"], "channel": {"type": "webhook", "url": url}}], "signing_secret": "0123456789abcdef"});
    for (body, field) in [
        (
            webhook("http://hooks.example.com/h"),
            "rules[0].channel.url",
        ),
        (
            webhook("https://169.254.169.254/latest/meta-data/"),
            "rules[0].channel.url",
        ),
        (
            webhook("https://[fe80::1%25eth0]/h"),
            "rules[0].channel.url",
        ),
        (webhook("https://169.254.1.1/h"), "rules[0].channel.url"),
        (
            json!({"rules": [{"on": ["failed"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:eu-west-1:123456789012:sluice-alerts"}}]}),
            "rules[0].channel.topic_arn",
        ),
        (
            json!({"rules": [{"on": ["failed", "exploded"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:sluice-alerts"}}]}),
            "rules[0].on[1]",
        ),
        (
            json!({"rules": [{"on": ["failed"], "channel": {"type": "webhook", "url": "https://example.com/h"}}]}),
            "signing_secret",
        ),
    ] {
        let (status, _, problem) = call(
            &app,
            request(Method::PUT, &uri, &tenant, Some(body.clone())),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert!(problem.to_string().contains(field), "{body}: {problem}");
        assert!(
            !problem.to_string().contains("0123456789abcdef"),
            "{problem}"
        );
    }
}

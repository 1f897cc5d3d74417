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
use sluice_domain::service::discovery::DiscoveryService;
use sluice_domain::service::sources::SourcesService;
use sluice_http::TenantMode;
use tower::ServiceExt;

const CLAIM: &str = "custom:tenant_id";

fn app() -> Router {
    let store = Arc::new(MemorySourceRepository::default());
    let sealer = Arc::new(EnvelopeSealer::new(InMemoryKeyProvider::random()));
    let clock = Arc::new(FixedClock::default());
    let service = SourcesService::new(store.clone(), sealer.clone(), clock.clone());
    let discovery = DiscoveryService::new(store, sealer, Arc::new(FakeProbe::default()), clock);
    let discovery = Arc::new(discovery);
    sources::router(
        service,
        discovery.clone(),
        discovery,
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

//! Routes of the sources API. Handlers parse, call one use case, and shape
//! the answer; errors become problem+json through `errors.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use sluice_domain::SourceId;
use sluice_domain::model::discovery::{ConnectionReport, ObjectDescription, ObjectQuery};
use sluice_domain::service::discovery::{DraftTester, SourceDiscovery};
use sluice_domain::service::sources::SourcesService;
use sluice_http::pagination::foreign_token;
use sluice_http::precondition::versioned_json;
use sluice_http::problem::{method_not_allowed, route_not_found};
use sluice_http::{
    IfMatch, JsonBody, PageRequest, PageTokenCodec, PathId, PathIdAndName, Problem, Tenant,
    TenantMode,
};

use sluice_domain::model::job::JobId;
use sluice_domain::model::notification::NotificationsSpec;
use sluice_domain::service::notifications::NotificationsService;

use crate::views::{NotificationsView, ObjectList, SourceList, SourceRequest, SourceView};

const PAGE_TOKENS: PageTokenCodec = PageTokenCodec::new("sources");
const OBJECT_TOKENS: PageTokenCodec = PageTokenCodec::new("objects");

#[derive(Clone)]
struct AppState {
    service: SourcesService,
    discovery: Arc<dyn SourceDiscovery>,
    drafts: Arc<dyn DraftTester>,
    notifications: NotificationsService,
}

/// The sources API over the given services: the registry, and discovery
/// and draft tests (in process in tests, the discovery function when
/// deployed); and jobs' notification settings, which this function serves
/// because it holds the KMS client and grant that seal their signing secret
/// (README, "Notifications").
pub fn router(
    service: SourcesService,
    discovery: Arc<dyn SourceDiscovery>,
    drafts: Arc<dyn DraftTester>,
    notifications: NotificationsService,
    tenant_mode: TenantMode,
) -> Router {
    Router::new()
        .route(
            "/sources",
            post(register).get(list).fallback(method_not_allowed),
        )
        .route(
            "/sources/test",
            post(test_draft).fallback(method_not_allowed),
        )
        .route(
            "/sources/{id}/test",
            post(test_source).fallback(method_not_allowed),
        )
        .route(
            "/sources/{id}/objects",
            get(list_objects).fallback(method_not_allowed),
        )
        .route(
            "/sources/{id}/objects/{*name}",
            get(describe_object).fallback(method_not_allowed),
        )
        .route(
            "/sources/{id}",
            get(read)
                .put(replace)
                .delete(remove)
                .fallback(method_not_allowed),
        )
        .route(
            "/jobs/{id}/notifications",
            get(read_notifications)
                .put(put_notifications)
                .fallback(method_not_allowed),
        )
        .fallback(route_not_found)
        .layer(Extension(tenant_mode))
        .with_state(AppState {
            service,
            discovery,
            drafts,
            notifications,
        })
}

fn source_response(status: StatusCode, view: SourceView) -> Response {
    versioned_json(status, &view, view.version)
}

async fn register(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Result<Response, Problem> {
    let source = app.service.register(&tenant, body.into()).await?;
    tracing::info!(%tenant, source_id = %source.id, kind = %source.kind, "source registered");
    let mut response = source_response(StatusCode::CREATED, SourceView::from(&source));
    let location = format!("/sources/{}", source.id)
        .parse()
        .expect("ids are valid header values");
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SourceList>, Problem> {
    let request = PageRequest::from_query(query, &tenant, PAGE_TOKENS)?;
    let after = request
        .after
        .map(|cursor| SourceId::parse(&cursor).ok_or_else(foreign_token))
        .transpose()?;
    let page = app
        .service
        .list(&tenant, request.limit, after.as_ref())
        .await?;
    Ok(Json(SourceList {
        items: page.items.iter().map(SourceView::from).collect(),
        next_token: page
            .next_after
            .map(|id| PAGE_TOKENS.encode(&tenant, id.as_str())),
    }))
}

async fn read(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<SourceId>,
) -> Result<Response, Problem> {
    let source = app.service.get(&tenant, &id).await?;
    Ok(source_response(StatusCode::OK, SourceView::from(&source)))
}

async fn replace(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<SourceId>,
    if_match: IfMatch,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Result<Response, Problem> {
    let expected = if_match.required()?;
    let source = app
        .service
        .update(&tenant, &id, body.into(), expected)
        .await?;
    tracing::info!(%tenant, source_id = %source.id, version = source.version, "source updated");
    Ok(source_response(StatusCode::OK, SourceView::from(&source)))
}

async fn remove(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<SourceId>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    app.service
        .delete(&tenant, &id, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, source_id = %id, "source deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Tests a source as it would be registered, without storing it.
async fn test_draft(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    JsonBody(body): JsonBody<SourceRequest>,
) -> Result<Json<ConnectionReport>, Problem> {
    let report = app.drafts.test_draft(&tenant, body.into()).await?;
    tracing::info!(%tenant, ok = report.ok, code = ?report.first_failure(), latency_ms = report.latency_ms, "draft source tested");
    Ok(Json(report))
}

/// Tests a registered source with its stored secrets.
async fn test_source(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<SourceId>,
) -> Result<Json<ConnectionReport>, Problem> {
    let report = app.discovery.test(&tenant, &id).await?;
    tracing::info!(%tenant, source_id = %id, ok = report.ok, code = ?report.first_failure(), latency_ms = report.latency_ms, "source tested");
    Ok(Json(report))
}

async fn list_objects(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<SourceId>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ObjectList>, Problem> {
    let (page, mut filters) =
        PageRequest::with_filters(query, &tenant, OBJECT_TOKENS, &["schema", "like"])?;
    let query = ObjectQuery {
        schema: filters.remove("schema"),
        like: filters.remove("like"),
        limit: page.limit,
        after: page.after,
    };
    let page = app.discovery.list(&tenant, &id, query).await?;
    Ok(Json(ObjectList {
        items: page.items,
        next_token: page
            .next_after
            .map(|name| OBJECT_TOKENS.encode(&tenant, &name)),
    }))
}

async fn describe_object(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathIdAndName(id, name): PathIdAndName<SourceId>,
) -> Result<Json<ObjectDescription>, Problem> {
    Ok(Json(app.discovery.describe(&tenant, &id, &name).await?))
}

/// Creates (201) or replaces (200) the job's notification settings; the signing secret is
/// write-only (the answer says whether one is set).
async fn put_notifications(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
    JsonBody(spec): JsonBody<NotificationsSpec>,
) -> Result<Response, Problem> {
    let (settings, created) = app
        .notifications
        .put(&tenant, &id, spec, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, job_id = %id, version = settings.version, rules = settings.rules.len(), "notifications saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(versioned_json(
        status,
        &NotificationsView::from(&settings),
        settings.version,
    ))
}

async fn read_notifications(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
) -> Result<Response, Problem> {
    let settings = app.notifications.get(&tenant, &id).await?;
    Ok(versioned_json(
        StatusCode::OK,
        &NotificationsView::from(&settings),
        settings.version,
    ))
}

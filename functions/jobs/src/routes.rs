//! Routes of the jobs API. Handlers parse, call one use case, and shape the
//! answer; errors become problem+json through `sluice_http`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use sluice_domain::model::job::{JobId, JobSpec};
use sluice_domain::model::report::ReportParams;
use sluice_domain::model::run::RunId;
use sluice_domain::model::schedule::ScheduleSpec;
use sluice_domain::ports::Clock;
use sluice_domain::service::jobs::JobsService;
use sluice_domain::service::reports::ReportService;
use sluice_domain::service::runs::RunsService;
use sluice_domain::service::schedules::{GetScheduleError, ScheduleService};
use sluice_http::pagination::{foreign_token, known_parameters};
use sluice_http::precondition::versioned_json;
use sluice_http::problem::{method_not_allowed, route_not_found};
use sluice_http::{
    IfMatch, JsonBody, OptionalJsonBody, PageRequest, PageTokenCodec, PathId, Problem, Tenant,
    TenantMode,
};

use crate::views::{
    JobList, JobView, RunList, RunView, ScheduleView, ScheduledJobView, StartRunRequest,
};

const PAGE_TOKENS: PageTokenCodec = PageTokenCodec::new("jobs");

const RUN_PAGE_TOKENS: PageTokenCodec = PageTokenCodec::new("runs");

#[derive(Clone)]
struct AppState {
    service: JobsService,
    runs: RunsService,
    schedules: ScheduleService,
    reports: Arc<ReportService>,
    clock: Arc<dyn Clock>,
}

/// The jobs, schedules, runs and reports API over the given services.
pub fn router(
    service: JobsService,
    runs: RunsService,
    schedules: ScheduleService,
    reports: ReportService,
    clock: Arc<dyn Clock>,
    tenant_mode: TenantMode,
) -> Router {
    Router::new()
        .route("/jobs", post(create).get(list).fallback(method_not_allowed))
        .route(
            "/jobs/{id}",
            get(read)
                .put(replace)
                .delete(remove)
                .fallback(method_not_allowed),
        )
        .route("/jobs/{id}/sql", get(sql).fallback(method_not_allowed))
        .route(
            "/jobs/{id}/refresh",
            post(refresh).fallback(method_not_allowed),
        )
        .route(
            "/jobs/{id}/schedule",
            get(read_schedule)
                .put(put_schedule)
                .delete(remove_schedule)
                .fallback(method_not_allowed),
        )
        .route(
            "/jobs/{id}/runs",
            post(start_run).get(list_runs).fallback(method_not_allowed),
        )
        .route("/runs/{id}", get(read_run).fallback(method_not_allowed))
        .route(
            "/runs/{id}/cancel",
            post(cancel_run).fallback(method_not_allowed),
        )
        .route(
            "/reports/runs",
            get(run_report).fallback(method_not_allowed),
        )
        .fallback(route_not_found)
        .layer(Extension(tenant_mode))
        .with_state(AppState {
            service,
            runs,
            schedules,
            reports: Arc::new(reports),
            clock,
        })
}

async fn create(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    JsonBody(spec): JsonBody<JobSpec>,
) -> Result<Response, Problem> {
    let job = app.service.create(&tenant, spec).await?;
    tracing::info!(%tenant, job_id = %job.id, source_id = %job.source_id, target_id = %job.target_id, "job created");
    let mut response = versioned_json(StatusCode::CREATED, &JobView::from(&job), job.version);
    let location =
        HeaderValue::from_str(&format!("/jobs/{}", job.id)).expect("ids are valid header values");
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

async fn list(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Problem> {
    let request = PageRequest::from_query(query, &tenant, PAGE_TOKENS)?;
    let after = request
        .after
        .map(|cursor| JobId::parse(&cursor).ok_or_else(foreign_token))
        .transpose()?;
    let page = app
        .service
        .list(&tenant, request.limit, after.as_ref())
        .await?;
    Ok(Json(JobList {
        items: page.items.iter().map(JobView::from).collect(),
        next_token: page
            .next_after
            .map(|id| PAGE_TOKENS.encode(&tenant, id.as_str())),
    })
    .into_response())
}

async fn read(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
) -> Result<Response, Problem> {
    let job = app.service.get(&tenant, &id).await?;
    let schedule = app
        .schedules
        .find(&tenant, &job.id)
        .await
        .map_err(|e| Problem::from(GetScheduleError::Repository(e)))?;
    let view = ScheduledJobView {
        job: JobView::from(&job),
        schedule: schedule
            .as_ref()
            .map(|s| ScheduleView::new(s, app.clock.now())),
    };
    Ok(versioned_json(StatusCode::OK, &view, job.version))
}

async fn replace(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
    JsonBody(spec): JsonBody<JobSpec>,
) -> Result<Response, Problem> {
    let expected = if_match.required()?;
    let job = app.service.update(&tenant, &id, spec, expected).await?;
    tracing::info!(%tenant, job_id = %job.id, version = job.version, "job updated");
    Ok(versioned_json(
        StatusCode::OK,
        &JobView::from(&job),
        job.version,
    ))
}

/// Resolves a multi-table job's tables again (at `If-Match` when given).
async fn refresh(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
) -> Result<Response, Problem> {
    let job = app
        .service
        .refresh(&tenant, &id, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, job_id = %job.id, version = job.version, tables = job.spec.tables.len(), "job refreshed");
    Ok(versioned_json(
        StatusCode::OK,
        &JobView::from(&job),
        job.version,
    ))
}

async fn remove(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    app.service
        .delete(&tenant, &id, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, job_id = %id, "job deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Creates (201) or replaces (200) the job's schedule.
async fn put_schedule(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
    JsonBody(spec): JsonBody<ScheduleSpec>,
) -> Result<Response, Problem> {
    let (schedule, created) = app
        .schedules
        .put(&tenant, &id, spec, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, job_id = %id, version = schedule.version, expression = %schedule.expression, enabled = schedule.enabled, "schedule saved");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let view = ScheduleView::new(&schedule, app.clock.now());
    Ok(versioned_json(status, &view, schedule.version))
}

async fn read_schedule(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
) -> Result<Response, Problem> {
    let schedule = app.schedules.get(&tenant, &id).await?;
    let view = ScheduleView::new(&schedule, app.clock.now());
    Ok(versioned_json(StatusCode::OK, &view, schedule.version))
}

async fn remove_schedule(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    app.schedules
        .delete(&tenant, &id, if_match.expected_version())
        .await?;
    tracing::info!(%tenant, job_id = %id, "schedule deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The Flink SQL script of the job, every secret shown as `'******'`.
async fn sql(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
) -> Result<Response, Problem> {
    let script = app.service.preview_sql(&tenant, &id).await?;
    let mut response = script.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/sql; charset=utf-8"),
    );
    Ok(response)
}

/// Runs the job now, or backfills a window: 202 with the pending run.
async fn start_run(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    OptionalJsonBody(request): OptionalJsonBody<StartRunRequest>,
) -> Result<Response, Problem> {
    // An empty body means "run now"; anything else must be the JSON object.
    let window = request.and_then(|r| r.window);
    let run = app.runs.start(&tenant, &id, window).await?;
    tracing::info!(%tenant, job_id = %id, run_id = %run.id, "run requested");
    let mut response = versioned_json(StatusCode::ACCEPTED, &RunView::from(&run), run.version);
    let location =
        HeaderValue::from_str(&format!("/runs/{}", run.id)).expect("ids are valid header values");
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

async fn list_runs(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<JobId>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Problem> {
    let request = PageRequest::from_query(query, &tenant, RUN_PAGE_TOKENS)?;
    let before = request
        .after
        .map(|cursor| RunId::parse(&cursor).ok_or_else(foreign_token))
        .transpose()?;
    let page = app
        .runs
        .list(&tenant, &id, request.limit, before.as_ref())
        .await?;
    Ok(Json(RunList {
        items: page.items.iter().map(RunView::from).collect(),
        next_token: page
            .next_after
            .map(|id| RUN_PAGE_TOKENS.encode(&tenant, id.as_str())),
    })
    .into_response())
}

async fn read_run(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<RunId>,
) -> Result<Response, Problem> {
    let run = app.runs.get(&tenant, &id).await?;
    Ok(versioned_json(
        StatusCode::OK,
        &RunView::from(&run),
        run.version,
    ))
}

async fn cancel_run(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    PathId(id): PathId<RunId>,
) -> Result<Response, Problem> {
    let run = app.runs.cancel(&tenant, &id).await?;
    tracing::info!(%tenant, run_id = %run.id, "run canceled");
    Ok(versioned_json(
        StatusCode::OK,
        &RunView::from(&run),
        run.version,
    ))
}

/// `GET /reports/runs?from=&to=&bucket=hour|day&job_id=`: runs per final state, rows written and
/// duration percentiles per bucket, from counters kept as runs end.
async fn run_report(
    State(app): State<AppState>,
    Tenant(tenant): Tenant,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, Problem> {
    let mut params = known_parameters(query, &["from", "to", "bucket", "job_id"])?;
    let params = ReportParams {
        from: params.remove("from"),
        to: params.remove("to"),
        bucket: params.remove("bucket"),
        job_id: params.remove("job_id"),
    };
    let report = app.reports.runs(tenant, params).await?;
    Ok(Json(report).into_response())
}

//! The `{id}` segment of a route, parsed at the edge into the id type the
//! route names (`PathId<JobId>`, `PathId<RunId>`, `PathId<SourceId>`). An id
//! that cannot be one names no record: problem+json 404, the same answer as
//! for a well-formed id that is not there (axum's own `Path` answers an
//! undecodable segment with a text/plain 400).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use sluice_domain::SourceId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;

use crate::Problem;

/// An id type a route's `{id}` can name.
pub trait PathParam: Sized + Send {
    /// The id, if `raw` is one.
    fn parse_path(raw: &str) -> Option<Self>;
    /// The 404 for `raw` (the same words as the use cases' not-found).
    fn not_found(raw: &str) -> Problem;
}

impl PathParam for JobId {
    fn parse_path(raw: &str) -> Option<Self> {
        JobId::parse(raw)
    }
    fn not_found(raw: &str) -> Problem {
        crate::errors::job_not_found(raw)
    }
}

impl PathParam for RunId {
    fn parse_path(raw: &str) -> Option<Self> {
        RunId::parse(raw)
    }
    fn not_found(raw: &str) -> Problem {
        crate::errors::run_not_found(raw)
    }
}

impl PathParam for SourceId {
    fn parse_path(raw: &str) -> Option<Self> {
        SourceId::parse(raw)
    }
    fn not_found(raw: &str) -> Problem {
        crate::errors::source_not_found(raw)
    }
}

/// The route's `{id}`, percent-decoded and parsed into `T`.
#[derive(Debug, Clone)]
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: PathParam> FromRequestParts<S> for PathId<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(raw)) => T::parse_path(&raw)
                .map(PathId)
                .ok_or_else(|| T::not_found(&raw)),
            Err(rejection) => {
                tracing::info!(%rejection, "unreadable id in the path");
                Err(Problem::not_found("the id in the path is not valid UTF-8"))
            }
        }
    }
}

/// A route's `{id}` parsed into `T`, and its last segment(s) (`{*name}`,
/// percent-decoded) as text: an object of a source.
#[derive(Debug, Clone)]
pub struct PathIdAndName<T>(pub T, pub String);

impl<S: Send + Sync, T: PathParam> FromRequestParts<S> for PathIdAndName<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((raw, name))) => T::parse_path(&raw)
                .map(|id| PathIdAndName(id, name))
                .ok_or_else(|| T::not_found(&raw)),
            Err(rejection) => {
                tracing::info!(%rejection, "unreadable path");
                Err(Problem::not_found("the path is not valid UTF-8"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;

    async fn call(uri: &str) -> (StatusCode, String, String) {
        let app = Router::new().route(
            "/jobs/{id}",
            get(|PathId(id): PathId<JobId>| async move { id.to_string() }),
        );
        let response = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn a_decodable_id_is_passed_on() {
        let (status, _, body) = call("/jobs/job_01J0000000000000000000000%41").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "job_01J0000000000000000000000A");
    }

    #[tokio::test]
    async fn an_id_of_another_kind_is_a_problem_404_naming_it() {
        for uri in [
            "/jobs/src_01J0000000000000000000000A",
            "/jobs/j",
            "/jobs/%20",
        ] {
            let (status, content_type, body) = call(uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert_eq!(content_type, "application/problem+json");
            assert!(body.contains("no job "), "{uri}: {body}");
        }
    }

    #[tokio::test]
    async fn an_id_that_is_not_utf8_is_a_problem_404() {
        let (status, content_type, body) = call("/jobs/%FF%FE").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("urn:sluice:problem:not-found"), "{body}");
    }
}

//! The `{id}` segment of a route, answering problem+json when it cannot be
//! read (axum's own `Path` answers such a request with a text/plain 400).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::Problem;

/// The percent-decoded `{id}` of the route. An id that does not decode to
/// UTF-8 names no record: 404, like every other malformed id.
#[derive(Debug, Clone)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(PathId(id)),
            Err(rejection) => {
                tracing::info!(%rejection, "unreadable id in the path");
                Err(Problem::not_found("the id in the path is not valid UTF-8"))
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
        let app = Router::new().route("/things/{id}", get(|PathId(id): PathId| async move { id }));
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
        let (status, _, body) = call("/things/src_%41B").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "src_AB");
    }

    #[tokio::test]
    async fn an_id_that_is_not_utf8_is_a_problem_404() {
        let (status, content_type, body) = call("/things/%FF%FE").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("urn:sluice:problem:not-found"), "{body}");
    }
}

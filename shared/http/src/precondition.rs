//! `If-Match` and `ETag` for optimistic concurrency on versions.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::header::IF_MATCH;
use axum::http::request::Parts;

use crate::Problem;

/// The precondition a write carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match` header.
    Absent,
    /// `If-Match: *`: any current version.
    Any,
    /// `If-Match: "N"` (or a bare `N`).
    Version(u64),
}

impl IfMatch {
    /// A weak tag (`W/"N"`) is 412: `If-Match` compares strongly (RFC 9110
    /// 13.1.1), so a weak tag matches no version. Our ETags are strong.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::Any);
        }
        if raw.starts_with("W/") {
            return Err(Problem::precondition_failed(
                "If-Match compares entity tags strongly, so a weak tag (W/...) matches no \
                 version; send the ETag from GET, such as \"3\"",
            ));
        }
        let tag = raw
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(raw);
        match tag.parse::<u64>() {
            Ok(v) if v > 0 && tag.chars().all(|c| c.is_ascii_digit()) => Ok(Self::Version(v)),
            _ => Err(Problem::invalid_field(
                "If-Match",
                "must be the ETag of the current version, such as \"3\", or *",
            )),
        }
    }

    /// The version a write must find, `None` for any.
    pub fn expected_version(self) -> Option<u64> {
        match self {
            Self::Version(v) => Some(v),
            Self::Any | Self::Absent => None,
        }
    }

    /// Writes that replace a record must say which version they replace.
    pub fn required(self) -> Result<Option<u64>, Problem> {
        match self {
            Self::Absent => Err(Problem::precondition_required(
                "send If-Match with the ETag from GET (or * to overwrite any version)",
            )),
            other => Ok(other.expected_version()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let values: Vec<&HeaderValue> = parts.headers.get_all(IF_MATCH).iter().collect();
        match values.as_slice() {
            [] => Ok(Self::Absent),
            [one] => one
                .to_str()
                .map_err(|_| Problem::invalid_field("If-Match", "must be ASCII"))
                .and_then(Self::parse),
            _ => Err(Problem::invalid_field("If-Match", "must be sent once")),
        }
    }
}

/// The strong ETag of a version.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header value")
}

/// A JSON answer carrying the record's version as its ETag.
pub fn versioned_json<T: serde::Serialize>(
    status: axum::http::StatusCode,
    body: &T,
    version: u64,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::ETAG, etag(version));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_etags() {
        assert_eq!(IfMatch::parse("\"3\"").unwrap(), IfMatch::Version(3));
        assert_eq!(IfMatch::parse("12").unwrap(), IfMatch::Version(12));
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
        for bad in [
            "",
            "\"\"",
            "\"0\"",
            "\"-1\"",
            "abc",
            "\"3\", \"4\"",
            "\"+3\"",
            "99999999999999999999",
        ] {
            assert_eq!(IfMatch::parse(bad).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn weak_tags_never_match() {
        for weak in ["W/\"3\"", " W/\"1\" ", "W/3", "W/\"\""] {
            let p = IfMatch::parse(weak).unwrap_err();
            assert_eq!(p.status, 412, "{weak}");
            assert_eq!(p.field.as_deref(), Some("If-Match"));
        }
    }

    #[test]
    fn absent_is_refused_where_required() {
        assert_eq!(IfMatch::Absent.required().unwrap_err().status, 428);
        assert_eq!(IfMatch::Any.required().unwrap(), None);
    }
}

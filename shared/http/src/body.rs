//! JSON request bodies that fail with a problem naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::Problem;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body of type `T`. Bad JSON, wrong types and unknown fields answer
/// 400 with the JSON path of the offending field; secret values are never
/// quoted back.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let bytes = read_bounded(req, state).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// A JSON body of type `T` that may be left out: an empty (or blank) body
/// is `None`, whatever its `Content-Type`. Any other body follows the rules
/// of [`JsonBody`]: 415 unless JSON, 413 over [`MAX_BODY_BYTES`], 400 unless
/// a `T`.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = require_json(req.headers());
        let bytes = read_bounded(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        json?;
        parse(&bytes).map(|value| Self(Some(value)))
    }
}

/// 415 unless the `Content-Type` is `application/json` or `*+json`.
fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false);
    if is_json {
        return Ok(());
    }
    let mut p = Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        "send the body as application/json",
    );
    p.field = Some("Content-Type".to_owned());
    Err(p)
}

/// The body's bytes; 413 when over [`MAX_BODY_BYTES`] (also when over the
/// router's own buffering limit, which refuses before we can count).
async fn read_bounded<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Problem::invalid_field("body", "could not be read")
        }
    })?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

fn too_large() -> Problem {
    let mut p = Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload too large",
        format!("the body must be at most {MAX_BODY_BYTES} bytes"),
    );
    p.field = Some("body".to_owned());
    p
}

/// Parses a JSON object into `T`, naming the failing field on error.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(Problem::invalid_field("body", "must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return Problem::invalid_field(
                "body",
                format!(
                    "is not valid JSON (line {}, column {})",
                    inner.line(),
                    inner.column()
                ),
            );
        }
        let message = inner.to_string();
        // A missing field is reported at its parent; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (_, Some(name)) => format!("{path}.{name}"),
            (".", None) => "body".to_owned(),
            _ => path,
        };
        let reason = if field == "secrets" || field.starts_with("secrets.") {
            // serde quotes the offending value; a secret must not come back.
            "has an invalid value (secret values must be strings)".to_owned()
        } else {
            reason_without_position(&message)
        };
        Problem::invalid_field(field, reason)
    })?;
    // Deserializing stops after the value; only whitespace may follow it.
    de.end().map_err(|e| {
        Problem::invalid_field(
            "body",
            format!(
                "has text after the JSON object (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the field name says more.
fn reason_without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        port: Option<u16>,
        secrets: Option<BTreeMap<String, String>>,
    }

    fn field_of(json: &str) -> (Option<String>, String) {
        let p = parse::<Body>(json.as_bytes()).unwrap_err();
        (p.field, p.detail)
    }

    #[test]
    fn names_the_field() {
        assert_eq!(field_of(r#"{"name": 1}"#).0.as_deref(), Some("name"));
        assert_eq!(
            field_of(r#"{"name": "a", "port": 70000}"#).0.as_deref(),
            Some("port")
        );
        assert_eq!(
            field_of(r#"{"name": "a", "extra": 1}"#).0.as_deref(),
            Some("extra")
        );
        assert_eq!(field_of(r#"{}"#).0.as_deref(), Some("name"));
        assert_eq!(field_of(r#"{"name": "a""#).0.as_deref(), Some("body"));
        assert_eq!(field_of(r#"[1]"#).0.as_deref(), Some("body"));
    }

    #[test]
    fn nothing_may_follow_the_object() {
        for json in [
            r#"{"name": "a"}xyz"#,
            r#"{"name": "a"}}"#,
            r#"{"name": "a"} {"name": "b"}"#,
            r#"{"name": "a"} 1"#,
        ] {
            let (field, detail) = field_of(json);
            assert_eq!(field.as_deref(), Some("body"), "{json}");
            assert!(detail.contains("text after the JSON object"), "{detail}");
        }
        // Whitespace around the object is fine.
        assert!(parse::<Body>(b" {\"name\": \"a\"} \r\n\t").is_ok());
    }

    #[test]
    fn secrets_are_not_echoed() {
        let (field, detail) = field_of(r#"{"name": "a", "secrets": {"password": 123456789}}"#);
        assert_eq!(field.as_deref(), Some("secrets.password"));
        assert!(!detail.contains("123456789"), "{detail}");
    }
}

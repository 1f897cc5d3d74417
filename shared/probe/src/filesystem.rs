//! The filesystem probe: a source's `path` is a directory, an absolute local
//! path or an S3 prefix (`s3://bucket/prefix`), and its objects are what is
//! directly under it, named relative to it as a job's `source.object` names
//! them: files (`orders.csv`) and sub-directories or sub-prefixes, whose
//! names end with `/` (`2024/`). A file has no schema here: its format and
//! columns are declared by the job, so `describe` says whether the object
//! exists and what it is, with no columns.
//!
//! A connection test checks that the path exists and can be listed
//! (`path_missing` otherwise). On S3 that is one ListObjectsV2 on the prefix
//! with delimiter `/`: a bucket that does not exist or a prefix with nothing
//! under it is `path_missing`, refused credentials `auth`, an endpoint that
//! cannot be reached `dns`, `refused`, `timeout` or `tls`. S3 is reached with
//! the source's `access_key_id` and `secret_access_key` when it has them,
//! else with the default credential chain, in the source's `region` (else
//! the configured one, else us-east-1); `AWS_ENDPOINT_URL` is honoured, with
//! path-style requests, as for the local stack's moto.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use secrecy::ExposeSecret;
use sluice_domain::model::discovery::{
    Check, CheckCode, ConnectionReport, ObjectDescription, ObjectKind, ObjectPage, ObjectQuery,
    ObjectRef,
};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};
use tokio::sync::OnceCell;
use tokio::time::{Instant, timeout_at};

use crate::TIME_BOUND;
use crate::listing::{like_matches, like_prefix, like_subject, page_of};

/// Keys asked for per ListObjectsV2 page while paging through a prefix.
const S3_PAGE: i32 = 1000;

pub async fn test(source: &Source, secrets: &Secrets) -> ConnectionReport {
    let started = Instant::now();
    let deadline = started + TIME_BOUND;
    let checks = match Location::of(source) {
        Err(check) => vec![check],
        Ok(Location::Local(path)) => test_local(path, deadline).await,
        Ok(Location::S3(s3)) => test_s3(&s3, source, secrets, deadline).await,
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    ConnectionReport::new(latency_ms, None, checks)
}

pub async fn list(
    source: &Source,
    secrets: &Secrets,
    query: &ObjectQuery,
) -> Result<ObjectPage, DiscoveryError> {
    let deadline = Instant::now() + TIME_BOUND;
    match Location::of(source).map_err(DiscoveryError::Unreachable)? {
        Location::Local(path) => {
            let objects = blocking(deadline, move || local_objects(&path)).await??;
            Ok(page_of(objects, query))
        }
        Location::S3(s3) => {
            let client = s3_client(source, secrets).await;
            list_s3(&client, &s3, secrets, query, deadline).await
        }
    }
}

pub async fn describe(
    source: &Source,
    secrets: &Secrets,
    name: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    sluice_flinksql::ident::check_relative_path("name", name).map_err(|e| {
        DiscoveryError::Invalid {
            field: "name",
            reason: e.reason,
        }
    })?;
    let deadline = Instant::now() + TIME_BOUND;
    let kind = match Location::of(source).map_err(DiscoveryError::Unreachable)? {
        Location::Local(path) => {
            let name = name.to_owned();
            blocking(deadline, move || local_kind(&path, &name)).await??
        }
        Location::S3(s3) => {
            let client = s3_client(source, secrets).await;
            s3_kind(&client, &s3, secrets, name, deadline).await?
        }
    };
    Ok(kind.map(|kind| ObjectDescription {
        name: name.to_owned(),
        kind,
        columns: Vec::new(),
        primary_key: Vec::new(),
    }))
}

/// Where a source's objects are.
enum Location {
    Local(PathBuf),
    S3(S3Path),
}

struct S3Path {
    bucket: String,
    /// Empty (the bucket's root) or ending with `/`.
    prefix: String,
}

impl S3Path {
    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

impl Location {
    fn of(source: &Source) -> Result<Self, Check> {
        let path = source
            .config
            .get("path")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if let Some(rest) = path.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = prefix.trim_matches('/');
            if !bucket.is_empty() {
                return Ok(Location::S3(S3Path {
                    bucket: bucket.to_owned(),
                    prefix: if prefix.is_empty() {
                        String::new()
                    } else {
                        format!("{prefix}/")
                    },
                }));
            }
        } else if Path::new(path).is_absolute() {
            return Ok(Location::Local(PathBuf::from(path)));
        }
        Err(Check::failed(
            "path",
            CheckCode::PathMissing,
            format!("{path:?} is neither s3://bucket/prefix nor an absolute path"),
        ))
    }
}

/// Runs file-system calls off the async threads, within the time bound.
async fn blocking<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DiscoveryError> {
    match timeout_at(deadline, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(DiscoveryError::Unreachable(Check::failed(
            "list",
            CheckCode::PathMissing,
            format!("the listing stopped: {e}"),
        ))),
        Err(_) => Err(DiscoveryError::Unreachable(timed_out("list"))),
    }
}

fn timed_out(step: &str) -> Check {
    Check::failed(
        step,
        CheckCode::Timeout,
        format!("no answer within {} s", TIME_BOUND.as_secs()),
    )
}

// ---- local paths ----

async fn test_local(path: PathBuf, deadline: Instant) -> Vec<Check> {
    let shown = path.display().to_string();
    let outcome = blocking(deadline, move || {
        let metadata = std::fs::metadata(&path).map_err(|e| vec![missing("path", &path, &e)])?;
        if !metadata.is_dir() {
            return Err(vec![Check::failed(
                "path",
                CheckCode::PathMissing,
                format!(
                    "{} is a file: a filesystem source's path is the directory its objects are in",
                    path.display()
                ),
            )]);
        }
        let exists = Check::passed("path", format!("{} is a directory", path.display()));
        match std::fs::read_dir(&path) {
            Ok(entries) => Ok(vec![
                exists,
                Check::passed("list", format!("{} entries", entries.count())),
            ]),
            Err(e) => Err(vec![exists, missing("list", &path, &e)]),
        }
    })
    .await;
    match outcome {
        Ok(Ok(checks)) | Ok(Err(checks)) => checks,
        Err(DiscoveryError::Unreachable(check)) => vec![check],
        Err(DiscoveryError::Invalid { reason, .. }) => {
            vec![Check::failed(
                "path",
                CheckCode::PathMissing,
                format!("{shown}: {reason}"),
            )]
        }
    }
}

fn missing(step: &str, path: &Path, e: &std::io::Error) -> Check {
    let why = match e.kind() {
        ErrorKind::NotFound => "does not exist".to_owned(),
        ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_owned(),
        _ => format!("cannot be read ({e})"),
    };
    Check::failed(
        step,
        CheckCode::PathMissing,
        format!("{} {why}", path.display()),
    )
}

/// The entries directly under `path`: files, and directories named with a
/// closing `/`. Symbolic links count as what they point to; entries whose
/// names are not UTF-8 (no job could name them) or that vanish meanwhile
/// are left out.
fn local_objects(path: &Path) -> Result<Vec<ObjectRef>, DiscoveryError> {
    let entries = std::fs::read_dir(path)
        .map_err(|e| DiscoveryError::Unreachable(missing("list", path, &e)))?;
    let mut objects = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Ok(metadata) = std::fs::metadata(entry.path()) else {
            continue;
        };
        objects.push(if metadata.is_dir() {
            ObjectRef {
                name: format!("{name}/"),
                kind: ObjectKind::Prefix,
            }
        } else {
            ObjectRef {
                name,
                kind: ObjectKind::File,
            }
        });
    }
    Ok(objects)
}

fn local_kind(base: &Path, name: &str) -> Result<Option<ObjectKind>, DiscoveryError> {
    match std::fs::metadata(base.join(name)) {
        Ok(metadata) if metadata.is_dir() => Ok(Some(ObjectKind::Prefix)),
        Ok(_) if name.ends_with('/') => Ok(None),
        Ok(_) => Ok(Some(ObjectKind::File)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(DiscoveryError::Unreachable(missing(
            "describe",
            &base.join(name),
            &e,
        ))),
    }
}

// ---- S3 ----

/// The AWS configuration of the process (endpoint, region, credential
/// chain), loaded once.
async fn aws_base() -> &'static SdkConfig {
    static BASE: OnceCell<SdkConfig> = OnceCell::const_new();
    BASE.get_or_init(|| aws_config::defaults(BehaviorVersion::latest()).load())
        .await
}

/// An S3 client for the source: its region and credentials when it has
/// them, path-style requests when the endpoint is overridden (moto), at
/// most two attempts a request.
async fn s3_client(source: &Source, secrets: &Secrets) -> aws_sdk_s3::Client {
    let base = aws_base().await;
    let text = |name: &str| source.config.get(name).and_then(|v| v.as_str());
    let mut config = aws_sdk_s3::config::Builder::from(base)
        .force_path_style(base.endpoint_url().is_some())
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(TIME_BOUND / 2)
                .operation_timeout(TIME_BOUND)
                .build(),
        );
    match text("region") {
        Some(region) => config = config.region(Region::new(region.to_owned())),
        None if base.region().is_none() => config = config.region(Region::from_static("us-east-1")),
        None => {}
    }
    if let (Some(key_id), Some(secret)) = (text("access_key_id"), secrets.get("secret_access_key"))
    {
        config = config.credentials_provider(Credentials::new(
            key_id,
            secret.expose_secret(),
            None,
            None,
            "sluice-source",
        ));
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

async fn test_s3(s3: &S3Path, source: &Source, secrets: &Secrets, deadline: Instant) -> Vec<Check> {
    let client = s3_client(source, secrets).await;
    let request = client
        .list_objects_v2()
        .bucket(&s3.bucket)
        .prefix(&s3.prefix)
        .delimiter("/")
        .max_keys(1)
        .send();
    let output = match timeout_at(deadline, request).await {
        Err(_) => return vec![timed_out("connect")],
        Ok(Err(e)) => {
            let check = s3_failure(&e, s3, secrets);
            return if check.name == "connect" {
                vec![check]
            } else {
                vec![Check::passed("connect", "S3 answered"), check]
            };
        }
        Ok(Ok(output)) => output,
    };
    let connected = Check::passed("connect", "S3 answered");
    let empty = output.contents().is_empty() && output.common_prefixes().is_empty();
    let check = if empty && !s3.prefix.is_empty() {
        Check::failed(
            "list",
            CheckCode::PathMissing,
            format!("nothing is under {}", s3.url()),
        )
    } else {
        Check::passed("list", format!("{} can be listed", s3.url()))
    };
    vec![connected, check]
}

/// What an S3 error says, as a check: `connect` when S3 was not reached,
/// `list` when it answered with an error.
fn s3_failure<E>(error: &SdkError<E, HttpResponse>, s3: &S3Path, secrets: &Secrets) -> Check
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let text = redact(DisplayErrorContext(error).to_string(), secrets);
    let (step, code, message) = match error {
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let code = s3_code(context.err().code(), status);
            let message = match code {
                CheckCode::PathMissing if status == 301 => {
                    format!(
                        "the bucket of {} is in another region than the source's",
                        s3.url()
                    )
                }
                CheckCode::PathMissing => format!("the bucket of {} does not exist", s3.url()),
                CheckCode::Auth => format!("S3 refused the credentials for {}", s3.url()),
                _ => format!("S3 answered an error for {}", s3.url()),
            };
            (
                "list",
                code,
                format!("{message} ({})", error_code(context.err(), status)),
            )
        }
        SdkError::TimeoutError(_) => (
            "connect",
            CheckCode::Timeout,
            "no answer from S3".to_owned(),
        ),
        SdkError::DispatchFailure(failure) => {
            let code = if failure.is_timeout() {
                CheckCode::Timeout
            } else {
                connection_code(
                    failure
                        .as_connector_error()
                        .map(|e| e as &(dyn std::error::Error + 'static)),
                    &text,
                )
            };
            ("connect", code, format!("S3 could not be reached ({text})"))
        }
        SdkError::ConstructionFailure(_) => (
            "connect",
            CheckCode::Auth,
            format!("no AWS credentials or region to reach S3 with ({text})"),
        ),
        _ => (
            "list",
            CheckCode::Refused,
            format!("S3 answered unexpectedly ({text})"),
        ),
    };
    Check::failed(step, code, message)
}

fn error_code<E: ProvideErrorMetadata>(error: &E, status: u16) -> String {
    match error.code() {
        Some(code) => format!("{code}, HTTP {status}"),
        None => format!("HTTP {status}"),
    }
}

/// The check code of an S3 error answer.
fn s3_code(code: Option<&str>, status: u16) -> CheckCode {
    match (code, status) {
        (Some("NoSuchBucket" | "NoSuchKey" | "NotFound"), _) | (_, 404) => CheckCode::PathMissing,
        (
            Some(
                "AccessDenied"
                | "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "ExpiredToken"
                | "InvalidToken"
                | "TokenRefreshRequired"
                | "AllAccessDisabled",
            ),
            _,
        )
        | (_, 401 | 403) => CheckCode::Auth,
        (Some("PermanentRedirect" | "AuthorizationHeaderMalformed"), _) | (_, 301) => {
            CheckCode::PathMissing
        }
        _ => CheckCode::Refused,
    }
}

/// Why a connection to S3's endpoint failed, from the connector's error.
fn connection_code(error: Option<&(dyn std::error::Error + 'static)>, text: &str) -> CheckCode {
    let mut cause = error;
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => {
                    return CheckCode::Refused;
                }
                ErrorKind::TimedOut => return CheckCode::Timeout,
                _ => {}
            }
        }
        cause = e.source();
    }
    let text = text.to_ascii_lowercase();
    if text.contains("dns error") || text.contains("lookup address") {
        CheckCode::Dns
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        CheckCode::Tls
    } else {
        CheckCode::Refused
    }
}

fn redact(text: String, secrets: &Secrets) -> String {
    match secrets.get("secret_access_key") {
        Some(secret) if !secret.expose_secret().is_empty() => {
            text.replace(secret.expose_secret(), "******")
        }
        _ => text,
    }
}

/// One page of what is directly under the prefix: ListObjectsV2 with
/// delimiter `/` from `after` on (S3 lists keys in UTF-8 byte order, the
/// order of the names here), narrowed to the literal start of the `LIKE`
/// pattern and filtered by the rest. Should the time bound end the scan,
/// the page holds what was found and `next_after` the last name scanned.
async fn list_s3(
    client: &aws_sdk_s3::Client,
    s3: &S3Path,
    secrets: &Secrets,
    query: &ObjectQuery,
    deadline: Instant,
) -> Result<ObjectPage, DiscoveryError> {
    let limit = query.limit.max(1);
    let prefix = format!(
        "{}{}",
        s3.prefix,
        query.like.as_deref().map(like_prefix).unwrap_or_default()
    );
    let mut found: Vec<ObjectRef> = Vec::new();
    let mut token: Option<String> = None;
    let mut last_scanned: Option<String> = None;
    loop {
        let mut request = client
            .list_objects_v2()
            .bucket(&s3.bucket)
            .prefix(&prefix)
            .delimiter("/")
            .max_keys(S3_PAGE);
        request = match (&token, &query.after) {
            (Some(token), _) => request.continuation_token(token),
            (None, Some(after)) => request.start_after(format!("{}{after}", s3.prefix)),
            (None, None) => request,
        };
        let output = match timeout_at(deadline, request.send()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(DiscoveryError::Unreachable(s3_failure(&e, s3, secrets)));
            }
            Err(_) if found.is_empty() && last_scanned.is_none() => {
                return Err(DiscoveryError::Unreachable(timed_out("list")));
            }
            Err(_) => {
                return Ok(ObjectPage {
                    items: found,
                    next_after: last_scanned,
                });
            }
        };
        let files = output
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .map(|key| (key, ObjectKind::File));
        let prefixes = output
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .map(|key| (key, ObjectKind::Prefix));
        let mut batch: Vec<ObjectRef> = files
            .chain(prefixes)
            .filter_map(|(key, kind)| {
                let name = key.strip_prefix(&s3.prefix)?;
                (!name.is_empty()).then(|| ObjectRef {
                    name: name.to_owned(),
                    kind,
                })
            })
            .filter(|o| {
                query
                    .after
                    .as_deref()
                    .is_none_or(|after| o.name.as_str() > after)
            })
            .collect();
        batch.sort_by(|a, b| a.name.cmp(&b.name));
        for object in batch {
            last_scanned = Some(object.name.clone());
            let matches = query
                .like
                .as_deref()
                .is_none_or(|like| like_matches(like, like_subject(&object)));
            if matches {
                found.push(object);
                if found.len() > limit {
                    return Ok(page_of(found, query));
                }
            }
        }
        token = output.next_continuation_token().map(str::to_owned);
        if !output.is_truncated().unwrap_or(false) || token.is_none() {
            return Ok(page_of(found, query));
        }
    }
}

/// What `name` is under the prefix: a file (an object of that key), a
/// prefix (keys under `name/`), or nothing.
async fn s3_kind(
    client: &aws_sdk_s3::Client,
    s3: &S3Path,
    secrets: &Secrets,
    name: &str,
    deadline: Instant,
) -> Result<Option<ObjectKind>, DiscoveryError> {
    let key = format!("{}{name}", s3.prefix);
    if !name.ends_with('/') {
        let head = client.head_object().bucket(&s3.bucket).key(&key).send();
        match timeout_at(deadline, head).await {
            Ok(Ok(_)) => return Ok(Some(ObjectKind::File)),
            Ok(Err(e)) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
            Ok(Err(e)) => {
                return Err(DiscoveryError::Unreachable(s3_failure(&e, s3, secrets)));
            }
            Err(_) => return Err(DiscoveryError::Unreachable(timed_out("describe"))),
        }
    }
    let under = format!("{}/", key.trim_end_matches('/'));
    let list = client
        .list_objects_v2()
        .bucket(&s3.bucket)
        .prefix(&under)
        .max_keys(1)
        .send();
    match timeout_at(deadline, list).await {
        Ok(Ok(output)) if output.contents().is_empty() => Ok(None),
        Ok(Ok(_)) => Ok(Some(ObjectKind::Prefix)),
        Ok(Err(e)) => Err(DiscoveryError::Unreachable(s3_failure(&e, s3, secrets))),
        Err(_) => Err(DiscoveryError::Unreachable(timed_out("describe"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_answers_map_to_check_codes() {
        assert_eq!(s3_code(Some("NoSuchBucket"), 404), CheckCode::PathMissing);
        assert_eq!(s3_code(None, 404), CheckCode::PathMissing);
        assert_eq!(s3_code(Some("AccessDenied"), 403), CheckCode::Auth);
        assert_eq!(s3_code(Some("InvalidAccessKeyId"), 403), CheckCode::Auth);
        assert_eq!(s3_code(Some("SignatureDoesNotMatch"), 403), CheckCode::Auth);
        assert_eq!(s3_code(None, 403), CheckCode::Auth);
        assert_eq!(
            s3_code(Some("PermanentRedirect"), 301),
            CheckCode::PathMissing
        );
        assert_eq!(s3_code(Some("InternalError"), 500), CheckCode::Refused);
    }

    #[test]
    fn connection_failures_are_told_apart() {
        let refused = std::io::Error::from(ErrorKind::ConnectionRefused);
        assert_eq!(
            connection_code(Some(&refused), "io error"),
            CheckCode::Refused
        );
        assert_eq!(
            connection_code(None, "dns error: failed to lookup address information"),
            CheckCode::Dns
        );
        assert_eq!(
            connection_code(None, "invalid peer certificate"),
            CheckCode::Tls
        );
    }
}

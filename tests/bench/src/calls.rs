//! The round trips a function makes, seen from the other end: a log of
//! every call (service, operation, when it arrived, when its answer left)
//! kept by the AWS proxy ([`AwsProxy`], in front of moto) and by the
//! JobManager recorder, and what one invocation's calls add up to.
//!
//! Calls that ran one after another are told from calls that overlapped by
//! their intervals. Each answer is held for a fixed delay (a network round
//! trip's worth, [`CallLog::set_delay`]), so calls a function makes
//! concurrently overlap for certain, and calls it makes in turn cannot.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::task::JoinHandle;

/// One call, as the callee saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `DynamoDB`, `KMS`, `Flink`, or the path's first segment.
    pub service: String,
    /// The operation: `X-Amz-Target`'s (`GetItem`), or the method and
    /// route for REST calls (`POST /jars/{id}/run`).
    pub operation: String,
    pub start: Instant,
    pub end: Instant,
}

/// Calls as they arrive, and the delay each answer is held for.
#[derive(Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    delay_us: Arc<AtomicU64>,
}

impl CallLog {
    /// How many calls there were so far: a mark for [`CallLog::since`].
    pub fn mark(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    /// The calls logged after `mark`.
    pub fn since(&self, mark: usize) -> Vec<Call> {
        self.calls.lock().unwrap()[mark..].to_vec()
    }

    /// Holds every answer from now on for `delay` (zero: answers at once).
    pub fn set_delay(&self, delay: Duration) {
        self.delay_us
            .store(delay.as_micros() as u64, Ordering::Relaxed);
    }

    fn delay(&self) -> Duration {
        Duration::from_micros(self.delay_us.load(Ordering::Relaxed))
    }

    fn push(&self, call: Call) {
        self.calls.lock().unwrap().push(call);
    }

    /// Axum middleware that logs each request of `service` (its operation
    /// is the method and the matched route) and holds its answer for the
    /// delay.
    pub async fn layer(
        State((log, service)): State<(CallLog, &'static str)>,
        request: Request,
        next: Next,
    ) -> Response {
        let start = Instant::now();
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| request.uri().path().to_owned());
        let operation = format!("{} {route}", request.method());
        let response = next.run(request).await;
        let delay = log.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        log.push(Call {
            service: service.to_owned(),
            operation,
            start,
            end: Instant::now(),
        });
        response
    }
}

/// What one invocation's calls add up to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoundTrips {
    pub calls: usize,
    /// The longest run of calls of which each started after the previous
    /// one had answered: the round trips on the critical path.
    pub sequential: usize,
    /// Calls per service, then per operation.
    pub by_service: BTreeMap<String, BTreeMap<String, usize>>,
}

impl RoundTrips {
    pub fn of(calls: &[Call]) -> Self {
        let mut by_service: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for c in calls {
            *by_service
                .entry(c.service.clone())
                .or_default()
                .entry(c.operation.clone())
                .or_default() += 1;
        }
        Self {
            calls: calls.len(),
            sequential: longest_chain(calls),
            by_service,
        }
    }

    /// `DynamoDB 7 (GetItem 4, UpdateItem 3); KMS 3 (...); Flink 1 (...)`.
    pub fn breakdown(&self) -> String {
        self.by_service
            .iter()
            .map(|(service, ops)| {
                let total: usize = ops.values().sum();
                let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
                format!("{service} {total} ({})", ops.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The most calls that ran strictly one after another (each starting after
/// the previous one ended): the classic interval scheduling by earliest
/// end, which finds the longest such chain.
pub fn longest_chain(calls: &[Call]) -> usize {
    let mut by_end: Vec<&Call> = calls.iter().collect();
    by_end.sort_by_key(|c| c.end);
    let mut chain = 0;
    let mut last_end: Option<Instant> = None;
    for c in by_end {
        if last_end.is_none_or(|end| c.start >= end) {
            chain += 1;
            last_end = Some(c.end);
        }
    }
    chain
}

/// A proxy in front of an AWS endpoint (moto) that logs each call by its
/// `X-Amz-Target` (`DynamoDB_20120810.GetItem` is DynamoDB's `GetItem`,
/// `TrentService.Decrypt` is KMS's `Decrypt`) and forwards it unchanged.
pub struct AwsProxy {
    pub addr: SocketAddr,
    pub log: CallLog,
    server: JoinHandle<()>,
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
    log: CallLog,
}

impl AwsProxy {
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let log = CallLog::default();
        let state = Upstream {
            base: upstream.trim_end_matches('/').to_owned(),
            http: sluice_flink::http::client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            log: log.clone(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("the AWS proxy stopped: {e}");
            }
        });
        Ok(Self { addr, log, server })
    }

    /// `AWS_ENDPOINT_URL` for a function whose calls are to be counted.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// `(service, operation)` of an AWS call.
fn aws_operation(method: &Method, uri: &Uri, headers: &HeaderMap) -> (String, String) {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.split_once('.'));
    match target {
        Some((prefix, op)) => {
            let service = match prefix {
                p if p.starts_with("DynamoDB") => "DynamoDB",
                "TrentService" => "KMS",
                p => p,
            };
            (service.to_owned(), op.to_owned())
        }
        // REST protocols (Lambda, Scheduler, S3): the path names the call.
        None => ("other".to_owned(), format!("{method} {}", uri.path())),
    }
}

/// Headers that describe one hop, not the message.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host" | "connection" | "content-length" | "transfer-encoding" | "keep-alive"
    )
}

async fn forward(
    State(up): State<Upstream>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let start = Instant::now();
    let (service, operation) = aws_operation(&method, &uri, &headers);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = up.http.request(method, format!("{}{path}", up.base));
    for (name, value) in &headers {
        if !hop_by_hop(name) {
            request = request.header(name, value);
        }
    }
    let answer = async {
        let response = request.body(body).send().await?;
        let status = response.status();
        let mut headers = HeaderMap::new();
        for (name, value) in response.headers() {
            if !hop_by_hop(name) {
                headers.append(name, value.clone());
            }
        }
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, body))
    }
    .await;
    let delay = up.log.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    up.log.push(Call {
        service,
        operation,
        start,
        end: Instant::now(),
    });
    match answer {
        Ok((status, headers, body)) => (status, headers, body).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("the AWS proxy: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(start_ms: u64, end_ms: u64, t0: Instant) -> Call {
        Call {
            service: "DynamoDB".into(),
            operation: "GetItem".into(),
            start: t0 + Duration::from_millis(start_ms),
            end: t0 + Duration::from_millis(end_ms),
        }
    }

    #[test]
    fn overlapping_calls_are_one_step_of_the_chain() {
        let t0 = Instant::now();
        // get, then two decrypts at once, then a long put beside a short
        // get and a short update one after the other.
        let calls = [
            call(0, 10, t0),
            call(11, 30, t0),
            call(12, 31, t0),
            call(40, 90, t0),
            call(41, 50, t0),
            call(51, 60, t0),
        ];
        assert_eq!(longest_chain(&calls), 4);
        assert_eq!(longest_chain(&calls[..3]), 2);
        assert_eq!(longest_chain(&[]), 0);
        let trips = RoundTrips::of(&calls);
        assert_eq!(trips.calls, 6);
        assert_eq!(trips.breakdown(), "DynamoDB 6 (GetItem 6)");
    }

    #[test]
    fn operations_come_from_the_target_header() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/".parse().unwrap();
        headers.insert(
            "x-amz-target",
            "DynamoDB_20120810.UpdateItem".parse().unwrap(),
        );
        assert_eq!(
            aws_operation(&Method::POST, &uri, &headers),
            ("DynamoDB".to_owned(), "UpdateItem".to_owned())
        );
        headers.insert(
            "x-amz-target",
            "TrentService.GenerateDataKey".parse().unwrap(),
        );
        assert_eq!(
            aws_operation(&Method::POST, &uri, &headers),
            ("KMS".to_owned(), "GenerateDataKey".to_owned())
        );
        let uri: Uri = "/2015-03-31/functions/trigger/invocations".parse().unwrap();
        assert_eq!(
            aws_operation(&Method::POST, &uri, &HeaderMap::new()).1,
            "POST /2015-03-31/functions/trigger/invocations"
        );
    }
}

//! A small Lambda Runtime API server (the `2018-06-01` interface that
//! `lambda_runtime` polls), with the clock on the harness side:
//!
//! - every `GET /runtime/invocation/next` that arrives is reported with its
//!   arrival instant ([`RuntimeApi::next_poll`]): the first one of a fresh
//!   process ends its init;
//! - an invocation's latency runs from the instant its event is handed out
//!   (the `/next` answer) to the instant its `/response` or `/error` arrives.
//!
//! One server serves one process at a time (cold starts, memory) or a pool of
//! processes pulling from one queue (concurrency). A [`Round`] makes every
//! process of a pool take at most one event of the round: its `/response` is
//! answered only once the whole round was handed out, so the process cannot
//! poll again before.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::sync::{Barrier, Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

/// How an invocation ended, seen from the Runtime API.
#[derive(Debug)]
pub struct Completion {
    /// From handing out the event to receiving the answer.
    pub latency: Duration,
    /// `/response` (true) or `/error` (false).
    pub ok: bool,
    pub body: Bytes,
}

impl Completion {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "the function answered something that is not JSON: {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Events handed to a pool so that each process takes at most one.
#[derive(Clone)]
pub struct Round(Arc<Barrier>);

impl Round {
    pub fn new(size: usize) -> Self {
        Self(Arc::new(Barrier::new(size)))
    }
}

struct Queued {
    payload: Bytes,
    done: oneshot::Sender<Completion>,
    round: Option<Round>,
}

struct InFlight {
    sent_at: Instant,
    done: oneshot::Sender<Completion>,
    round: Option<Round>,
}

struct Inner {
    queue_tx: mpsc::UnboundedSender<Queued>,
    queue_rx: Mutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: StdMutex<HashMap<String, InFlight>>,
    polls: mpsc::UnboundedSender<Instant>,
    init_error: StdMutex<Option<String>>,
    next_id: AtomicU64,
}

/// A Runtime API server on 127.0.0.1 (a free port). Dropping it stops it.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    polls: Mutex<mpsc::UnboundedReceiver<Instant>>,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    pub async fn start() -> anyhow::Result<Self> {
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (poll_tx, poll_rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            queue_tx,
            queue_rx: Mutex::new(queue_rx),
            in_flight: StdMutex::new(HashMap::new()),
            polls: poll_tx,
            init_error: StdMutex::new(None),
            next_id: AtomicU64::new(1),
        });
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(response),
            )
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("the Runtime API server stopped: {e}");
            }
        });
        Ok(Self {
            addr,
            inner,
            polls: Mutex::new(poll_rx),
            server,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the functions.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event; the receiver gets its completion.
    pub fn enqueue(
        &self,
        payload: impl Into<Bytes>,
        round: Option<Round>,
    ) -> oneshot::Receiver<Completion> {
        let (done, rx) = oneshot::channel();
        self.inner
            .queue_tx
            .send(Queued {
                payload: payload.into(),
                done,
                round,
            })
            .expect("the queue lives as long as the server");
        rx
    }

    /// Queues an event and waits (at most `limit`) for its completion.
    pub async fn invoke(
        &self,
        payload: impl Into<Bytes>,
        limit: Duration,
    ) -> anyhow::Result<Completion> {
        let rx = self.enqueue(payload, None);
        tokio::time::timeout(limit, rx)
            .await
            .map_err(|_| anyhow!("no answer within {limit:?}"))?
            .map_err(|_| anyhow!("the invocation was dropped"))
    }

    /// The arrival instant of the next `/next` poll.
    pub async fn next_poll(&self) -> Option<Instant> {
        self.polls.lock().await.recv().await
    }

    /// Forgets polls that arrived so far.
    pub async fn drain_polls(&self) {
        let mut polls = self.polls.lock().await;
        while polls.try_recv().is_ok() {}
    }

    /// What the function reported to `/init/error`, if it did.
    pub fn init_error(&self) -> Option<String> {
        self.inner.init_error.lock().unwrap().clone()
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    let arrived = Instant::now();
    let _ = inner.polls.send(arrived);
    let queued = {
        let mut queue = inner.queue_rx.lock().await;
        queue.recv().await
    };
    let Some(queued) = queued else {
        return (StatusCode::GONE, HeaderMap::new(), Bytes::new());
    };
    let id = format!("bench-{:08}", inner.next_id.fetch_add(1, Ordering::Relaxed));
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(900);
    let mut headers = HeaderMap::new();
    let value = |s: &str| HeaderValue::from_str(s).expect("a header value");
    headers.insert("lambda-runtime-aws-request-id", value(&id));
    headers.insert(
        "lambda-runtime-deadline-ms",
        value(&deadline.as_millis().to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        value("arn:aws:lambda:us-east-1:123456789012:function:bench"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        value("Root=1-00000000-000000000000000000000000;Sampled=0"),
    );
    headers.insert("content-type", value("application/json"));
    inner.in_flight.lock().unwrap().insert(
        id,
        InFlight {
            sent_at: Instant::now(),
            done: queued.done,
            round: queued.round,
        },
    );
    (StatusCode::OK, headers, queued.payload)
}

async fn finish(inner: &Inner, id: &str, ok: bool, body: Bytes) -> StatusCode {
    let done_at = Instant::now();
    let Some(flight) = inner.in_flight.lock().unwrap().remove(id) else {
        return StatusCode::NOT_FOUND;
    };
    let _ = flight.done.send(Completion {
        latency: done_at - flight.sent_at,
        ok,
        body,
    });
    if let Some(Round(barrier)) = flight.round {
        barrier.wait().await;
    }
    StatusCode::ACCEPTED
}

async fn response(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(&inner, &id, true, body).await
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&inner, &id, false, body).await
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

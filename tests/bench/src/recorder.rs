//! A JobManager recorder: answers the calls of `shared/flink`'s session
//! client the way Flink 2.2's JobManager REST API does, at once, and counts
//! what it was sent. It stands in for Flink where the figures must exclude
//! Flink's own time (planning and submitting a job takes it 1-3 s).
//!
//! - `GET /jars`: the jars uploaded so far;
//! - `POST /jars/upload` (multipart `jarfile`): stores the name, answers the
//!   `filename` Flink gives (`.../<uuid>_<name>`);
//! - `POST /jars/{id}/run`: records the `--expect-run` argument (the run
//!   id; the sealed script is neither kept nor logged) and answers a fresh
//!   32-hex job id; an unknown jar is a 404 as on Flink;
//! - `GET /jobs/{id}`: a `RUNNING` job with an empty plan, so a reconciler
//!   pass finds every run still active and does the same work each time.
//!
//! It also stands in for the discovery function behind the Lambda Invoke API
//! (`AWS_ENDPOINT_URL_LAMBDA`): the trigger prepares a database job's run
//! with one `prepare_run` call (README, "Target tables and schema drift"),
//! answered here at once as ready (nothing created, nothing added), so the
//! figures exclude the databases' time as they exclude Flink's. Any other
//! function is a 404, as Lambda answers for a function that does not exist.
//!
//! Every call is also logged with its interval ([`Recorder::calls`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::calls::CallLog;

#[derive(Default)]
struct Records {
    /// (id, name) of the uploaded jars.
    jars: Mutex<Vec<(String, String)>>,
    /// Submissions per run id.
    runs: Mutex<HashMap<String, u32>>,
    uploads: AtomicU64,
    submissions: AtomicU64,
    status_calls: AtomicU64,
}

/// What the recorder saw.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub uploads: u64,
    pub submissions: u64,
    pub status_calls: u64,
    /// Submissions per run id.
    pub runs: HashMap<String, u32>,
}

impl Counts {
    /// Submissions beyond the first of each run.
    pub fn duplicate_submissions(&self) -> u64 {
        self.runs
            .values()
            .map(|n| u64::from(n.saturating_sub(1)))
            .sum()
    }
}

pub struct Recorder {
    pub addr: SocketAddr,
    /// Every call, as service `Flink`.
    pub calls: CallLog,
    records: Arc<Records>,
    server: JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Recorder {
    pub async fn start() -> anyhow::Result<Self> {
        let records = Arc::new(Records::default());
        let calls = CallLog::default();
        let app = Router::new()
            .route("/jars", get(list_jars))
            .route(
                "/jars/upload",
                post(upload).layer(DefaultBodyLimit::max(256 << 20)),
            )
            .route("/jars/{id}/run", post(run))
            .route("/jobs/{id}", get(job))
            .route_layer(axum::middleware::from_fn_with_state(
                (calls.clone(), "Flink"),
                CallLog::layer,
            ))
            .merge(
                Router::new()
                    .route("/2015-03-31/functions/{name}/invocations", post(invoke))
                    .route_layer(axum::middleware::from_fn_with_state(
                        (calls.clone(), "Lambda"),
                        CallLog::layer,
                    )),
            )
            .with_state(records.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("the JobManager recorder stopped: {e}");
            }
        });
        Ok(Self {
            addr,
            calls,
            records,
            server,
        })
    }

    /// `SLUICE_FLINK_REST_URL` for the functions.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counts(&self) -> Counts {
        Counts {
            uploads: self.records.uploads.load(Ordering::Relaxed),
            submissions: self.records.submissions.load(Ordering::Relaxed),
            status_calls: self.records.status_calls.load(Ordering::Relaxed),
            runs: self.records.runs.lock().unwrap().clone(),
        }
    }
}

/// The discovery function's answer to `prepare_run` (`sluice_aws::discovery::DiscoveryReply`):
/// ready. A wrong shape fails the bench, which insists the trigger submitted.
async fn invoke(Path(name): Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if name != "discovery" {
        return (
            StatusCode::NOT_FOUND,
            [("x-amzn-errortype", "ResourceNotFoundException")],
            Json(json!({"Type": "User", "Message": format!("Function not found: {name}")})),
        )
            .into_response();
    }
    Json(json!({"outcome": "prepared", "preparation": {"status": "ready"}})).into_response()
}

fn flink_error(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    (status, Json(json!({ "errors": [message] })))
}

async fn list_jars(State(records): State<Arc<Records>>) -> Json<Value> {
    let files: Vec<Value> = records
        .jars
        .lock()
        .unwrap()
        .iter()
        .map(|(id, name)| {
            json!({"id": id, "name": name, "uploaded": 0,
                   "entry": [{"name": "dev.sluice.runner.Runner", "description": null}]})
        })
        .collect();
    Json(json!({ "address": "http://127.0.0.1:8081", "files": files }))
}

async fn upload(
    State(records): State<Arc<Records>>,
    mut form: Multipart,
) -> (StatusCode, Json<Value>) {
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("jarfile") => {
                let Some(name) = field.file_name().map(str::to_owned) else {
                    return flink_error(StatusCode::BAD_REQUEST, "the jar has no file name");
                };
                if field.bytes().await.is_err() {
                    return flink_error(StatusCode::BAD_REQUEST, "the upload broke off");
                }
                let id = format!("{}_{name}", ulid::Ulid::new().to_string().to_lowercase());
                records.jars.lock().unwrap().push((id.clone(), name));
                records.uploads.fetch_add(1, Ordering::Relaxed);
                return (
                    StatusCode::OK,
                    Json(
                        json!({"filename": format!("/tmp/flink-web-upload/{id}"), "status": "success"}),
                    ),
                );
            }
            Ok(Some(_)) => continue,
            Ok(None) => return flink_error(StatusCode::BAD_REQUEST, "no jarfile part"),
            Err(e) => return flink_error(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }
}

async fn run(
    State(records): State<Arc<Records>>,
    Path(jar_id): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !records
        .jars
        .lock()
        .unwrap()
        .iter()
        .any(|(id, _)| *id == jar_id)
    {
        return flink_error(StatusCode::NOT_FOUND, "Jar file does not exist");
    }
    let args: Vec<&str> = body["programArgsList"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let run_id = args
        .iter()
        .position(|a| *a == "--expect-run")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.to_string());
    let Some(run_id) = run_id else {
        return flink_error(StatusCode::BAD_REQUEST, "no --expect-run argument");
    };
    *records.runs.lock().unwrap().entry(run_id).or_default() += 1;
    records.submissions.fetch_add(1, Ordering::Relaxed);
    let job_id = format!("{:032x}", u128::from(ulid::Ulid::new()));
    (StatusCode::OK, Json(json!({ "jobid": job_id })))
}

async fn job(State(records): State<Arc<Records>>, Path(id): Path<String>) -> Json<Value> {
    records.status_calls.fetch_add(1, Ordering::Relaxed);
    Json(json!({
        "jid": id, "name": "bench", "isStoppable": false, "state": "RUNNING",
        "start-time": 0, "end-time": -1, "duration": 0, "now": 0,
        "timestamps": {}, "vertices": [], "status-counts": {},
        "plan": {"jid": id, "name": "bench", "type": "BATCH", "nodes": []}
    }))
}

//! The `session` target: a self-hosted Flink session cluster, driven through
//! the JobManager's REST API.
//!
//! - The runner jar is uploaded once per cluster under a name derived from
//!   its content (`sluice-runner-<16 hex of its SHA-256>.jar`). The digest
//!   comes from the `<jar>.sha256` file the build writes beside the jar
//!   (`sha256sum` format) when it is not older than the jar, so a cold
//!   start does not read and hash 10 MB; without one the jar is hashed. The
//!   bytes are read only to upload them, hashed again then (an upload is
//!   always named by what it holds), and not kept. Before
//!   uploading, `GET /jars` is asked for a jar of that name (another function
//!   instance may have uploaded it). The jar id is then kept in memory; when
//!   a run answers that the jar is gone (the cluster restarted and lost its
//!   upload directory), it is forgotten, looked up or uploaded again, and the
//!   run retried once.
//! - A run is `POST /jars/{id}/run` with `entryClass`, `programArgsList`
//!   (`--sealed <base64 of the envelope JSON> --expect-job <job> --expect-run <run>`)
//!   and `jobId`: the submission's own Flink job id
//!   ([`Submission::flink_job_id`]). The runner's `main()` runs inside the
//!   JobManager, so a script it refuses comes back as this request's error
//!   answer.
//! - One job per submission. Flink gives the job the requested `jobId`
//!   (`JarHandlerContext` puts it in `$internal.pipeline.job-id`, which the
//!   executor behind the runner's `StatementSet.execute()` gives the job),
//!   so a submission made again finds its job. When a run fails (its answer
//!   lost to a timeout or a proxy, or a refusal), `GET /jobs/{id}` is asked
//!   and a job that is there is adopted; a run that Flink answers with a
//!   `DuplicateJobSubmissionException` (the job runs already) is adopted
//!   too. [`FlinkJobs::find`] is `GET /jobs/{id}`. Flink refuses a
//!   duplicate only while it holds the job: a finished one is found in the
//!   job history (kept `jobstore.expiration-time`, an hour by default),
//!   which the trigger asks before it submits a submission again.
//! - Status is `GET /jobs/{id}` (see [`crate::job_metrics`] for the rows),
//!   the failure text `GET /jobs/{id}/exceptions`, cancel
//!   `PATCH /jobs/{id}?mode=cancel`.
//!
//! Error mapping (Flink 2.2.1 answers, see `tests/data/`):
//! - no connection, a timeout, or an answer without a Flink error body (a
//!   502/503/504 from a proxy, HTML) -> `Unreachable`;
//! - a run answered with errors that show the runner's exception or Flink's
//!   `ProgramInvocationException` (400 when `main()` throws, sometimes 500)
//!   -> `Rejected(<the runner's message, first line, capped>)`; any other
//!   4xx with a Flink error body -> `Rejected(<its root cause>)`, other 5xx
//!   -> `Unreachable`;
//! - `Jar file ... does not exist` (500 on 2.2.1) or 404 on a run -> the jar
//!   is uploaded again;
//! - 404 on a job -> `UnknownJob`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::multipart::{Form, Part};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sluice_domain::ports::{
    FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobs, FlinkSubmitter, Submission,
    SubmitSettings,
};
use tokio::sync::{Mutex, OnceCell};

use crate::flink_errors::{
    self, duplicate_job, jar_missing, parse_errors, program_failure, root_cause,
};
use crate::http::{HttpFault, exchange};
use crate::job_metrics::{JobDetails, Plan, PlanAnswer, job_state, row_counts, table_rows};

/// The runner jar's main class (`infra/flink-sql-runner`).
pub const RUNNER_ENTRY_CLASS: &str = "dev.sluice.runner.Runner";

/// The content type Flink's web frontend gives jars it uploads.
const JAR_CONTENT_TYPE: &str = "application/x-java-archive";

// The calls, as they appear in errors and logs (templates, never values).
const LIST_JARS: &str = "GET /jars";
const UPLOAD_JAR: &str = "POST /jars/upload";
const RUN_JAR: &str = "POST /jars/{id}/run";
const GET_JOB: &str = "GET /jobs/{id}";
const GET_PLAN: &str = "GET /jobs/{id}/plan";
const GET_EXCEPTIONS: &str = "GET /jobs/{id}/exceptions";
const CANCEL_JOB: &str = "PATCH /jobs/{id}?mode=cancel";

/// How to reach a session cluster and what to run on it.
#[derive(Debug, Clone)]
pub struct FlinkSessionConfig {
    /// The JobManager's REST endpoint, `http://host:8081` or `https://...`
    /// (a path prefix is kept, for a JobManager behind a reverse proxy).
    /// Flink's REST API has no authentication of its own: it must be
    /// reachable only from the functions' network.
    pub rest_url: String,
    /// The runner jar (`infra/flink-sql-runner/target/flink-sql-runner.jar`)
    /// as deployed with the function. It is read only when the first run is
    /// submitted (status and cancel never need it) and named on the cluster by
    /// its SHA-256, so every instance that ships the same jar reuses one
    /// upload, and a new runner is uploaded once, beside the old one.
    pub runner_jar: PathBuf,
    /// The limit of one HTTP exchange, from connecting to the end of the
    /// answer (connecting alone: at most 10 s). It must cover the slowest
    /// call: the jar upload (about 10 MB) and `POST /jars/{id}/run`, which
    /// answers only once the runner's `main()` has opened the script (a KMS
    /// call), planned the SQL and submitted the job (1-3 s on the local
    /// cluster). 30-60 s is reasonable; keep it below the function's timeout.
    /// A run that times out may still have been submitted: it is reported
    /// as `Unreachable` like any other exchange that got no answer.
    pub request_timeout: Duration,
}

/// Why a [`FlinkSessionConfig`] cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FlinkConfigError {
    #[error("rest_url {url:?} is not usable: {reason}")]
    RestUrl { url: String, reason: &'static str },
    #[error("request_timeout must be longer than zero")]
    RequestTimeout,
    #[error("the HTTP client could not be built")]
    HttpClient(#[source] reqwest::Error),
}

/// [`FlinkSubmitter`] and [`FlinkJobs`] on a Flink session cluster. Build one per process and
/// share it: it holds the HTTP connection pool, the runner jar and the id
/// of its upload.
pub struct FlinkSessionClient {
    http: reqwest::Client,
    /// `rest_url` without a trailing slash.
    base: String,
    runner_jar: PathBuf,
    jar: OnceCell<RunnerJar>,
    /// The id of the runner jar on the cluster, once known. The lock is held
    /// while it is looked up or uploaded, so concurrent submissions upload
    /// once.
    jar_id: Mutex<Option<String>>,
}

impl fmt::Debug for FlinkSessionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlinkSessionClient")
            .field("rest_url", &self.base)
            .field("runner_jar", &self.runner_jar)
            .finish_non_exhaustive()
    }
}

/// The name the runner jar is uploaded under.
pub(crate) struct RunnerJar {
    pub(crate) name: String,
}

impl RunnerJar {
    fn from_digest(hex_digest: &str) -> Self {
        Self {
            name: format!("sluice-runner-{}.jar", &hex_digest[..16]),
        }
    }

    fn of_bytes(bytes: &[u8]) -> Self {
        Self::from_digest(&format!("{:x}", Sha256::digest(bytes)))
    }
}

/// The digest in `<jar>.sha256` (`sha256sum` output), unless that file is
/// missing, malformed or older than the jar (a rebuilt jar beside a stale
/// digest would be looked up under its predecessor's name).
async fn recorded_digest(jar: &Path) -> Option<String> {
    let mut sidecar = jar.as_os_str().to_owned();
    sidecar.push(".sha256");
    let sidecar = PathBuf::from(sidecar);
    let (jar_meta, sidecar_meta) =
        tokio::try_join!(tokio::fs::metadata(jar), tokio::fs::metadata(&sidecar)).ok()?;
    if sidecar_meta.modified().ok()? < jar_meta.modified().ok()? {
        tracing::warn!(path = %sidecar.display(), "the jar's digest file is older than the jar; hashing the jar");
        return None;
    }
    let text = tokio::fs::read_to_string(&sidecar).await.ok()?;
    let digest = text.split_whitespace().next()?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| digest.to_ascii_lowercase())
}

/// The body of `POST /jars/{id}/run`. It carries the sealed script: no
/// `Debug`, never logged.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JarRunRequest<'a> {
    entry_class: &'a str,
    program_args_list: &'a [String],
    /// The id the job gets (32 hex digits).
    job_id: &'a str,
}

#[derive(Deserialize)]
struct JarRunAnswer {
    jobid: String,
}

#[derive(Deserialize)]
struct JarList {
    #[serde(default)]
    files: Vec<JarFile>,
}

#[derive(Deserialize)]
struct JarFile {
    id: String,
    name: String,
}

#[derive(Deserialize)]
struct UploadAnswer {
    filename: String,
}

#[derive(Deserialize)]
struct ExceptionsAnswer {
    #[serde(rename = "exceptionHistory")]
    history: Option<ExceptionHistory>,
    /// Flink 1.x only.
    #[serde(rename = "root-exception")]
    root_exception: Option<String>,
}

#[derive(Deserialize)]
struct ExceptionHistory {
    #[serde(default)]
    entries: Vec<ExceptionEntry>,
}

#[derive(Deserialize)]
struct ExceptionEntry {
    #[serde(rename = "exceptionName")]
    exception_name: Option<String>,
    stacktrace: Option<String>,
}

/// What went wrong with the cluster, as the source of `Unreachable`. Never
/// carries a request body.
#[derive(Debug, thiserror::Error)]
enum ClusterFault {
    #[error("the runner jar {path} cannot be read")]
    RunnerJar {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<ClusterFault> for FlinkError {
    fn from(fault: ClusterFault) -> Self {
        FlinkError::Unreachable(Box::new(fault))
    }
}

/// How a run failed.
enum RunFailure {
    /// The cluster does not have the jar (any more).
    JarMissing,
    /// The cluster has a job of the requested id already.
    Duplicate,
    Flink(FlinkError),
}

impl From<FlinkError> for RunFailure {
    fn from(e: FlinkError) -> Self {
        RunFailure::Flink(e)
    }
}

/// Flink job ids are 32 hex digits; nothing else is put in a URL.
pub(crate) fn is_flink_job_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Jar ids are `<uuid>_<file name>`; nothing else is put in a URL.
fn is_jar_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn parse_rest_url(raw: &str) -> Result<String, FlinkConfigError> {
    let invalid = |reason| FlinkConfigError::RestUrl {
        url: raw.to_owned(),
        reason,
    };
    let url = Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry credentials"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

impl FlinkSessionClient {
    /// Checks the configuration and builds the HTTP client; touches neither
    /// the cluster nor the jar.
    pub fn new(config: FlinkSessionConfig) -> Result<Self, FlinkConfigError> {
        let base = parse_rest_url(&config.rest_url)?;
        if config.request_timeout.is_zero() {
            return Err(FlinkConfigError::RequestTimeout);
        }
        let http =
            crate::http::client(config.request_timeout).map_err(FlinkConfigError::HttpClient)?;
        Ok(Self {
            http,
            base,
            runner_jar: config.runner_jar,
            jar: OnceCell::new(),
            jar_id: Mutex::new(None),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs the runner with `args` as the job `flink_job_id`: the Flink job
    /// id. The jar is uploaded first if the cluster lacks it, and again once
    /// if the run says it is gone. A job of that id that the cluster has
    /// already (a duplicate) is answered with its id: adopted.
    pub(crate) async fn run_program(
        &self,
        args: &[String],
        flink_job_id: &str,
    ) -> Result<String, FlinkError> {
        let body: Bytes = serde_json::to_vec(&JarRunRequest {
            entry_class: RUNNER_ENTRY_CLASS,
            program_args_list: args,
            job_id: flink_job_id,
        })
        .expect("a struct of strings serializes")
        .into();
        let jar_id = self.jar_id().await?;
        let result = match self.run_jar(&jar_id, body.clone()).await {
            Err(RunFailure::JarMissing) => {
                tracing::warn!(
                    jar_id,
                    "the cluster no longer has the runner jar; uploading it again"
                );
                self.forget_jar_id(&jar_id).await;
                let jar_id = self.jar_id().await?;
                self.run_jar(&jar_id, body).await
            }
            other => other,
        };
        match result {
            Ok(id) => Ok(id),
            Err(RunFailure::Duplicate) => {
                tracing::info!(
                    flink_job_id,
                    "the cluster has this submission's job already; adopting it"
                );
                Ok(flink_job_id.to_owned())
            }
            Err(RunFailure::Flink(e)) => Err(e),
            Err(RunFailure::JarMissing) => Err(HttpFault::Unexpected {
                call: RUN_JAR,
                detail: "the runner jar is missing right after it was uploaded".into(),
            }
            .into()),
        }
    }

    /// Whether the cluster knows the job (running, or in its history).
    async fn has_job(&self, flink_job_id: &str) -> Result<bool, FlinkError> {
        if !is_flink_job_id(flink_job_id) {
            return Ok(false);
        }
        let request = self.http.get(self.url(&format!("/jobs/{flink_job_id}")));
        let answer = exchange(request, GET_JOB).await?;
        match answer.status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(answer.fault(GET_JOB).into()),
        }
    }

    /// After a submission of the job `flink_job_id` failed with `error`
    /// (no answer, or a refusal): the job, when the cluster has it all the
    /// same (the answer was lost after it started), else `error`.
    pub(crate) async fn adopt_after(
        &self,
        flink_job_id: &str,
        error: FlinkError,
    ) -> Result<String, FlinkError> {
        match self.has_job(flink_job_id).await {
            Ok(true) => {
                tracing::warn!(
                    flink_job_id,
                    %error,
                    "the submission failed but its job exists; adopting it"
                );
                Ok(flink_job_id.to_owned())
            }
            Ok(false) => Err(error),
            Err(lookup) => {
                tracing::warn!(error = %lookup, "could not look up the job of a failed submission");
                Err(error)
            }
        }
    }

    async fn run_jar(&self, jar_id: &str, body: Bytes) -> Result<String, RunFailure> {
        let request = self
            .http
            .post(self.url(&format!("/jars/{jar_id}/run")))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let answer = exchange(request, RUN_JAR).await.map_err(FlinkError::from)?;
        if answer.status.is_success() {
            let run: JarRunAnswer = answer.json(RUN_JAR).map_err(FlinkError::from)?;
            if !is_flink_job_id(&run.jobid) {
                return Err(FlinkError::from(HttpFault::Unexpected {
                    call: RUN_JAR,
                    detail: "the job id is not 32 hex digits".into(),
                })
                .into());
            }
            return Ok(run.jobid);
        }
        if answer.status == StatusCode::NOT_FOUND {
            return Err(RunFailure::JarMissing);
        }
        let Some(errors) = parse_errors(&answer.body) else {
            return Err(FlinkError::from(answer.fault(RUN_JAR)).into());
        };
        if jar_missing(&errors) {
            return Err(RunFailure::JarMissing);
        }
        // Before the runner's failure: the duplicate reaches `main()` as the
        // exception of its `execute()`.
        if duplicate_job(&errors) {
            return Err(RunFailure::Duplicate);
        }
        if let Some(reason) = program_failure(&errors) {
            tracing::info!(
                status = answer.status.as_u16(),
                reason,
                "the runner refused the script"
            );
            return Err(FlinkError::Rejected(reason).into());
        }
        if answer.status.is_client_error() {
            return Err(FlinkError::Rejected(flink_errors::summary(&errors)).into());
        }
        Err(FlinkError::from(answer.fault(RUN_JAR)).into())
    }

    /// The id of the runner jar on the cluster: remembered, found by name, or
    /// uploaded.
    pub(crate) async fn jar_id(&self) -> Result<String, FlinkError> {
        let mut cached = self.jar_id.lock().await;
        if let Some(id) = cached.as_ref() {
            return Ok(id.clone());
        }
        let jar = self.runner_jar().await?;
        let id = match self.find_jar(&jar.name).await? {
            Some(id) => {
                tracing::info!(jar_id = id, "the cluster has the runner jar");
                id
            }
            None => self.upload_jar(jar).await?,
        };
        *cached = Some(id.clone());
        Ok(id)
    }

    async fn forget_jar_id(&self, stale: &str) {
        let mut cached = self.jar_id.lock().await;
        if cached.as_deref() == Some(stale) {
            *cached = None;
        }
    }

    pub(crate) async fn runner_jar(&self) -> Result<&RunnerJar, FlinkError> {
        self.jar
            .get_or_try_init(|| async {
                let jar = match recorded_digest(&self.runner_jar).await {
                    Some(digest) => RunnerJar::from_digest(&digest),
                    None => RunnerJar::of_bytes(&self.read_runner_jar().await?),
                };
                tracing::debug!(name = jar.name, "named the runner jar");
                Ok(jar)
            })
            .await
    }

    async fn read_runner_jar(&self) -> Result<Vec<u8>, FlinkError> {
        tokio::fs::read(&self.runner_jar).await.map_err(|source| {
            tracing::error!(path = %self.runner_jar.display(), error = %source, "the runner jar cannot be read");
            ClusterFault::RunnerJar {
                path: self.runner_jar.clone(),
                source,
            }
            .into()
        })
    }

    async fn find_jar(&self, name: &str) -> Result<Option<String>, FlinkError> {
        let answer = exchange(self.http.get(self.url("/jars")), LIST_JARS).await?;
        if !answer.status.is_success() {
            return Err(answer.fault(LIST_JARS).into());
        }
        let list: JarList = answer.json(LIST_JARS)?;
        Ok(list
            .files
            .into_iter()
            .find(|f| f.name == name && is_jar_id(&f.id))
            .map(|f| f.id))
    }

    async fn upload_jar(&self, expected: &RunnerJar) -> Result<String, FlinkError> {
        let bytes = self.read_runner_jar().await?;
        // Named by what is uploaded, whatever the digest file said.
        let jar = RunnerJar::of_bytes(&bytes);
        if jar.name != expected.name {
            tracing::warn!(
                recorded = expected.name,
                actual = jar.name,
                "the jar's digest file does not match the jar"
            );
        }
        let length = bytes.len() as u64;
        let part = Part::stream_with_length(Bytes::from(bytes), length)
            .file_name(jar.name.clone())
            .mime_str(JAR_CONTENT_TYPE)
            .expect("a valid content type");
        let request = self
            .http
            .post(self.url("/jars/upload"))
            .multipart(Form::new().part("jarfile", part));
        let answer = exchange(request, UPLOAD_JAR).await?;
        if !answer.status.is_success() {
            return Err(match parse_errors(&answer.body) {
                Some(errors) if answer.status.is_client_error() => FlinkError::Rejected(format!(
                    "the cluster refused the runner jar: {}",
                    flink_errors::summary(&errors)
                )),
                _ => answer.fault(UPLOAD_JAR).into(),
            });
        }
        let uploaded: UploadAnswer = answer.json(UPLOAD_JAR)?;
        // `filename` is the path on the JobManager; its last part is the id.
        let id = uploaded
            .filename
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or_default();
        if !is_jar_id(id) || !id.ends_with(&format!("_{}", jar.name)) {
            return Err(HttpFault::Unexpected {
                call: UPLOAD_JAR,
                detail: "the stored file name is not <id>_<jar name>".into(),
            }
            .into());
        }
        tracing::info!(jar_id = id, "uploaded the runner jar");
        Ok(id.to_owned())
    }

    async fn plan(&self, flink_job_id: &str) -> Result<Option<Plan>, FlinkError> {
        let request = self
            .http
            .get(self.url(&format!("/jobs/{flink_job_id}/plan")));
        let answer = exchange(request, GET_PLAN).await?;
        if answer.status.is_server_error() {
            return Err(answer.fault(GET_PLAN).into());
        }
        if !answer.status.is_success() {
            return Ok(None);
        }
        match answer.json::<PlanAnswer>(GET_PLAN) {
            Ok(p) => Ok(Some(p.plan)),
            Err(e) => {
                tracing::warn!(error = %e, "the job's plan is unreadable; rows unknown");
                Ok(None)
            }
        }
    }

    /// The root cause of a failed job, first line, capped.
    async fn failure(&self, flink_job_id: &str) -> Result<Option<String>, FlinkError> {
        let request = self
            .http
            .get(self.url(&format!("/jobs/{flink_job_id}/exceptions?maxExceptions=1")));
        let answer = exchange(request, GET_EXCEPTIONS).await?;
        if answer.status.is_server_error() {
            return Err(answer.fault(GET_EXCEPTIONS).into());
        }
        if !answer.status.is_success() {
            return Ok(None);
        }
        let Ok(exceptions) = answer.json::<ExceptionsAnswer>(GET_EXCEPTIONS) else {
            return Ok(None);
        };
        let latest = exceptions
            .history
            .and_then(|h| h.entries.into_iter().next());
        let from_history = latest.as_ref().and_then(|e| {
            e.stacktrace
                .as_deref()
                .and_then(root_cause)
                .or_else(|| e.exception_name.as_deref().map(flink_errors::cap))
        });
        Ok(from_history.or_else(|| exceptions.root_exception.as_deref().and_then(root_cause)))
    }
}

#[async_trait]
impl FlinkSubmitter for FlinkSessionClient {
    #[tracing::instrument(skip_all, fields(job_id = %submission.job_id, run_id = %submission.run_id, submission = submission.number))]
    async fn submit(
        &self,
        submission: &Submission,
        sealed_script: &str,
        _settings: &SubmitSettings,
    ) -> Result<String, FlinkError> {
        // Parallelism and mode are the script's own SET lines here.
        let args = [
            "--sealed".to_owned(),
            BASE64.encode(sealed_script),
            "--expect-job".to_owned(),
            submission.job_id.to_string(),
            "--expect-run".to_owned(),
            submission.run_id.to_string(),
        ];
        let expected = submission.flink_job_id();
        let flink_job_id = match self.run_program(&args, &expected).await {
            Ok(id) => id,
            // No answer (or not Flink's), or a refusal: the job may run all
            // the same.
            Err(e) => self.adopt_after(&expected, e).await?,
        };
        if flink_job_id != expected {
            tracing::warn!(
                flink_job_id,
                expected,
                "the cluster gave the job another id than asked: a retry cannot find it"
            );
        }
        tracing::info!(flink_job_id, "submitted the run");
        Ok(flink_job_id)
    }
}

#[async_trait]
impl FlinkJobs for FlinkSessionClient {
    #[tracing::instrument(skip_all, fields(run_id = %submission.run_id, submission = submission.number))]
    async fn find(&self, submission: &Submission) -> Result<Option<String>, FlinkError> {
        let flink_job_id = submission.flink_job_id();
        Ok(self.has_job(&flink_job_id).await?.then_some(flink_job_id))
    }

    #[tracing::instrument(skip(self))]
    async fn status(&self, flink_job_id: &str) -> Result<FlinkJobStatus, FlinkError> {
        if !is_flink_job_id(flink_job_id) {
            return Err(FlinkError::UnknownJob);
        }
        let request = self.http.get(self.url(&format!("/jobs/{flink_job_id}")));
        let answer = exchange(request, GET_JOB).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Err(FlinkError::UnknownJob);
        }
        if !answer.status.is_success() {
            return Err(answer.fault(GET_JOB).into());
        }
        let details: JobDetails = answer.json(GET_JOB)?;
        let state = job_state(&details.state);
        let plan = match details.plan {
            Some(plan) => Some(plan),
            None => self.plan(flink_job_id).await?,
        };
        let (rows_read, rows_written) = plan
            .as_ref()
            .map(|plan| row_counts(&details.vertices, plan))
            .unwrap_or_default();
        let tables = plan
            .map(|plan| table_rows(&details.vertices, &plan))
            .unwrap_or_default();
        let failure = if state == FlinkJobState::Failed {
            self.failure(flink_job_id).await?
        } else {
            None
        };
        Ok(FlinkJobStatus {
            state,
            rows_read,
            rows_written,
            failure,
            tables,
        })
    }

    /// Asks Flink to cancel the job. A job that already ended (409) has
    /// nothing left to cancel: `Ok`, its state is what `status` reports.
    #[tracing::instrument(skip(self))]
    async fn cancel(&self, flink_job_id: &str) -> Result<(), FlinkError> {
        if !is_flink_job_id(flink_job_id) {
            return Err(FlinkError::UnknownJob);
        }
        let request = self
            .http
            .patch(self.url(&format!("/jobs/{flink_job_id}?mode=cancel")));
        let answer = exchange(request, CANCEL_JOB).await?;
        match answer.status {
            s if s.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(FlinkError::UnknownJob),
            StatusCode::CONFLICT => {
                tracing::info!("the job had already ended");
                Ok(())
            }
            _ => Err(answer.fault(CANCEL_JOB).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rest_url: &str) -> FlinkSessionConfig {
        FlinkSessionConfig {
            rest_url: rest_url.into(),
            runner_jar: "runner.jar".into(),
            request_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn rest_urls_are_checked() {
        let ok = FlinkSessionClient::new(config("http://127.0.0.1:8081/")).unwrap();
        assert_eq!(ok.url("/jars"), "http://127.0.0.1:8081/jars");
        let prefixed = FlinkSessionClient::new(config("https://proxy/flink/")).unwrap();
        assert_eq!(prefixed.url("/jars"), "https://proxy/flink/jars");
        for bad in [
            "",
            "127.0.0.1:8081",
            "ftp://flink",
            "http://flink:8081/?x=1",
            "http://user:pw@flink:8081",
        ] {
            assert!(
                matches!(
                    FlinkSessionClient::new(config(bad)),
                    Err(FlinkConfigError::RestUrl { .. })
                ),
                "{bad}"
            );
        }
        let mut zero = config("http://flink:8081");
        zero.request_timeout = Duration::ZERO;
        assert!(matches!(
            FlinkSessionClient::new(zero),
            Err(FlinkConfigError::RequestTimeout)
        ));
    }

    #[test]
    fn the_jar_is_named_by_its_content() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(
            RunnerJar::of_bytes(b"abc").name,
            "sluice-runner-ba7816bf8f01cfea.jar"
        );
    }

    /// A fresh directory with a jar holding `abc`.
    fn jar_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sluice-jar-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("runner.jar"), b"abc").unwrap();
        dir
    }

    async fn name_of(dir: &Path) -> String {
        let mut config = config("http://127.0.0.1:1");
        config.runner_jar = dir.join("runner.jar");
        let client = FlinkSessionClient::new(config).unwrap();
        client.runner_jar().await.unwrap().name.clone()
    }

    #[tokio::test]
    async fn the_build_s_digest_names_the_jar_without_reading_it() {
        let dir = jar_dir("recorded");
        let recorded = "0123456789abcdef".repeat(4);
        std::fs::write(
            dir.join("runner.jar.sha256"),
            format!("{recorded}  runner.jar\n"),
        )
        .unwrap();
        assert_eq!(name_of(&dir).await, "sluice-runner-0123456789abcdef.jar");
    }

    #[tokio::test]
    async fn a_stale_or_malformed_digest_is_ignored() {
        let dir = jar_dir("stale");
        std::fs::write(dir.join("runner.jar.sha256"), "0123456789abcdef".repeat(4)).unwrap();
        // The jar is rebuilt after its digest was written.
        let jar = std::fs::File::options()
            .append(true)
            .open(dir.join("runner.jar"))
            .unwrap();
        jar.set_modified(std::time::SystemTime::now() + Duration::from_secs(60))
            .unwrap();
        assert_eq!(name_of(&dir).await, "sluice-runner-ba7816bf8f01cfea.jar");

        let dir = jar_dir("malformed");
        std::fs::write(dir.join("runner.jar.sha256"), "not a digest  runner.jar").unwrap();
        assert_eq!(name_of(&dir).await, "sluice-runner-ba7816bf8f01cfea.jar");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn only_well_formed_ids_reach_a_url() {
        assert!(is_flink_job_id("c4390a7ccce0ea641798d21de69b45c9"));
        assert!(!is_flink_job_id("c4390a7ccce0ea641798d21de69b45c"));
        assert!(!is_flink_job_id("../../jars/c4390a7ccce0ea641798d2"));
        assert!(is_jar_id(
            "54927243-31fe-4e63-bec2-5213648d1d45_sluice-runner-0123456789abcdef.jar"
        ));
        for bad in ["", "..", "a/b", "a?b", "a b", ".hidden"] {
            assert!(!is_jar_id(bad), "{bad}");
        }
    }
}

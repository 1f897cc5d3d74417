//! `FlinkSessionClient` against an in-process fake of the JobManager's REST
//! API (axum on 127.0.0.1:0). The fake checks the shapes of the requests and
//! replays answers recorded from Flink 2.2.1 (`tests/data/`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{
    FlinkError, FlinkJobState, FlinkJobs, FlinkSubmitter, Submission, SubmitSettings,
};
use sluice_flink::{FlinkSessionClient, FlinkSessionConfig, RUNNER_ENTRY_CLASS};

const SETTINGS: SubmitSettings = SubmitSettings {
    parallelism: 1,
    batch: true,
};
const SEALED: &str =
    r#"{"v":1,"alg":"AES-256-GCM","ctx":{"purpose":"flink-script"},"ct":"c2VjcmV0IHNjcmlwdA=="}"#;
const FINISHED_JOB: &str = "c4390a7ccce0ea641798d21de69b45c9";
const FAILED_JOB: &str = "5e2695aa7621b39eaf5b7a6cdf9537b8";
const UNKNOWN_JOB: &str = "00000000000000000000000000000000";
const SLOW_JOB: &str = "5105105105105105105105105105105a";
const PLANLESS_JOB: &str = "ab000000000000000000000000000001";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn answer(status: u16, body: impl Into<String>) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/json; charset=UTF-8")],
        body.into(),
    )
        .into_response()
}

#[derive(Debug, Clone)]
struct Upload {
    field: String,
    file_name: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// The fake JobManager's state: what it holds, what it was asked.
#[derive(Default)]
struct FakeFlink {
    /// Jars on the cluster: (id, name).
    jars: Mutex<Vec<(String, String)>>,
    uploads: Mutex<Vec<Upload>>,
    jar_lists: AtomicUsize,
    /// Every run: (jar id, body).
    runs: Mutex<Vec<(String, Value)>>,
    /// Answers for the next runs of a known jar; then the job starts, named
    /// by the run's `jobId`, and `{"jobid": ...}`.
    run_answers: Mutex<VecDeque<(u16, String)>>,
    /// The next run starts its job, then answers only after this long.
    run_delay: Mutex<Option<Duration>>,
    /// Jobs started by runs: `GET /jobs/{id}` knows them.
    started: Mutex<HashSet<String>>,
    plans_asked: AtomicUsize,
    /// Every PATCH /jobs/{id}: (id, query).
    patches: Mutex<Vec<(String, HashMap<String, String>)>>,
    /// The status of the next PATCH.
    patch_status: Mutex<Option<u16>>,
}

async fn list_jars(State(f): State<Arc<FakeFlink>>) -> Response {
    f.jar_lists.fetch_add(1, Ordering::SeqCst);
    let files: Vec<Value> = f
        .jars
        .lock()
        .unwrap()
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "uploaded": 1795638423025u64, "entry": [{"name": RUNNER_ENTRY_CLASS, "description": null}]}))
        .collect();
    answer(
        200,
        json!({"address": "http://127.0.0.1:8081", "files": files}).to_string(),
    )
}

async fn upload_jar(State(f): State<Arc<FakeFlink>>, mut form: Multipart) -> Response {
    let mut stored = None;
    while let Some(field) = form.next_field().await.unwrap() {
        let upload = Upload {
            field: field.name().unwrap_or_default().to_owned(),
            file_name: field.file_name().unwrap_or_default().to_owned(),
            content_type: field.content_type().unwrap_or_default().to_owned(),
            bytes: field.bytes().await.unwrap().to_vec(),
        };
        let n = f.uploads.lock().unwrap().len();
        let id = format!("54927243-31fe-4e63-bec2-{n:012}_{}", upload.file_name);
        f.jars
            .lock()
            .unwrap()
            .insert(0, (id.clone(), upload.file_name.clone()));
        f.uploads.lock().unwrap().push(upload);
        stored = Some(id);
    }
    match stored {
        Some(id) => answer(
            200,
            json!({"filename": format!("/tmp/flink-web-1/flink-web-upload/{id}"), "status": "success"}).to_string(),
        ),
        None => answer(400, r#"{"errors":["Exactly 1 file must be sent, received 0."]}"#),
    }
}

async fn run_jar(
    State(f): State<Arc<FakeFlink>>,
    Path(jar_id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let n = {
        let mut runs = f.runs.lock().unwrap();
        runs.push((jar_id.clone(), body));
        runs.len()
    };
    if !f.jars.lock().unwrap().iter().any(|(id, _)| *id == jar_id) {
        // What Flink 2.2.1 answers for a jar id it does not have.
        return answer(500, fixture("run_jar_missing_500.json"));
    }
    if let Some((status, body)) = f.run_answers.lock().unwrap().pop_front() {
        return answer(status, body);
    }
    // Flink names the job after the requested `jobId`.
    let id = body_job_id(&f, n).unwrap_or_else(|| format!("{n:032x}"));
    f.started.lock().unwrap().insert(id.clone());
    let delay = f.run_delay.lock().unwrap().take();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    answer(200, json!({"jobid": id}).to_string())
}

/// The `jobId` of the `n`-th run's body.
fn body_job_id(f: &FakeFlink, n: usize) -> Option<String> {
    f.runs.lock().unwrap()[n - 1].1["jobId"]
        .as_str()
        .map(str::to_owned)
}

async fn job(State(f): State<Arc<FakeFlink>>, Path(id): Path<String>) -> Response {
    if f.started.lock().unwrap().contains(&id) {
        let mut details: Value =
            serde_json::from_str(&fixture("job_batch_source_and_sink_vertices.json")).unwrap();
        details["jid"] = json!(id);
        details["state"] = json!("RUNNING");
        return answer(200, details.to_string());
    }
    match id.as_str() {
        FINISHED_JOB => answer(200, fixture("job_batch_source_and_sink_vertices.json")),
        FAILED_JOB => answer(200, fixture("job_failed.json")),
        PLANLESS_JOB => {
            let mut details: Value =
                serde_json::from_str(&fixture("job_batch_source_and_sink_vertices.json")).unwrap();
            details.as_object_mut().unwrap().remove("plan");
            details["state"] = json!("RUNNING");
            answer(200, details.to_string())
        }
        SLOW_JOB => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            answer(200, fixture("job_batch_source_and_sink_vertices.json"))
        }
        _ => answer(404, fixture("job_not_found.json")),
    }
}

async fn plan(State(f): State<Arc<FakeFlink>>, Path(id): Path<String>) -> Response {
    f.plans_asked.fetch_add(1, Ordering::SeqCst);
    match id.as_str() {
        PLANLESS_JOB => answer(200, fixture("plan_batch_source_and_sink_vertices.json")),
        _ => answer(404, fixture("job_not_found.json")),
    }
}

async fn exceptions(
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(query.get("maxExceptions").map(String::as_str), Some("1"));
    match id.as_str() {
        FAILED_JOB => answer(200, fixture("exceptions_failed.json")),
        _ => answer(404, fixture("job_not_found.json")),
    }
}

async fn patch_job(
    State(f): State<Arc<FakeFlink>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    f.patches.lock().unwrap().push((id.clone(), query));
    match f.patch_status.lock().unwrap().take() {
        Some(409) => answer(409, fixture("cancel_already_finished_409.json")),
        Some(status) => answer(status, ""),
        None if id == UNKNOWN_JOB => answer(404, fixture("job_not_found.json")),
        None => answer(202, "{}"),
    }
}

async fn serve(fake: Arc<FakeFlink>) -> String {
    let app = Router::new()
        .route("/jars", get(list_jars))
        .route("/jars/upload", post(upload_jar))
        .route("/jars/{id}/run", post(run_jar))
        .route("/jobs/{id}", get(job).patch(patch_job))
        .route("/jobs/{id}/plan", get(plan))
        .route("/jobs/{id}/exceptions", get(exceptions))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A stand-in runner jar in a file of its own.
fn runner_jar(content: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "sluice-flink-test-{}-{}.jar",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, content).unwrap();
    path
}

fn jar_name(content: &[u8]) -> String {
    format!(
        "sluice-runner-{}.jar",
        &format!("{:x}", Sha256::digest(content))[..16]
    )
}

/// The first submission of a fresh run.
fn submission() -> Submission {
    Submission {
        job_id: JobId::generate(),
        run_id: RunId::generate(),
        number: 1,
    }
}

fn client(rest_url: &str, runner_jar: PathBuf) -> FlinkSessionClient {
    FlinkSessionClient::new(FlinkSessionConfig {
        rest_url: rest_url.to_owned(),
        runner_jar,
        request_timeout: Duration::from_secs(1),
    })
    .unwrap()
}

struct Setup {
    fake: Arc<FakeFlink>,
    client: FlinkSessionClient,
    jar: Vec<u8>,
}

async fn setup() -> Setup {
    let fake = Arc::new(FakeFlink::default());
    let url = serve(fake.clone()).await;
    let jar = b"PK\x03\x04 a runner jar".to_vec();
    let client = client(&url, runner_jar(&jar));
    Setup { fake, client, jar }
}

/// The error and its whole source chain, as a log would show them.
fn shown(e: &FlinkError) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" / {s}"));
        source = s.source();
    }
    text
}

fn assert_no_script(e: &FlinkError) {
    let text = shown(e);
    let encoded = base64::engine::general_purpose::STANDARD.encode(SEALED);
    assert!(
        !text.contains(&encoded) && !text.contains("c2VjcmV0IHNjcmlwdA"),
        "{text}"
    );
}

#[tokio::test]
async fn two_submits_upload_the_jar_once_and_run_the_runner() {
    let s = setup().await;
    let first_submission = submission();
    let next_attempt = Submission {
        number: 2,
        ..first_submission.clone()
    };

    let first = s
        .client
        .submit(&first_submission, SEALED, &SETTINGS)
        .await
        .unwrap();
    let second = s
        .client
        .submit(&next_attempt, SEALED, &SETTINGS)
        .await
        .unwrap();
    assert_eq!(first, first_submission.flink_job_id());
    assert_eq!(second, next_attempt.flink_job_id());
    assert_ne!(first, second);

    let uploads = s.fake.uploads.lock().unwrap().clone();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].field, "jarfile");
    assert_eq!(uploads[0].file_name, jar_name(&s.jar));
    assert_eq!(uploads[0].content_type, "application/x-java-archive");
    assert_eq!(uploads[0].bytes, s.jar);
    assert_eq!(
        s.fake.jar_lists.load(Ordering::SeqCst),
        1,
        "the jar id is remembered"
    );

    let jar_id = s.fake.jars.lock().unwrap()[0].0.clone();
    let runs = s.fake.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 2);
    for ((run_jar, body), submitted) in runs.into_iter().zip([&first_submission, &next_attempt]) {
        assert_eq!(run_jar, jar_id);
        assert_eq!(
            body,
            json!({
                "entryClass": "dev.sluice.runner.Runner",
                "programArgsList": [
                    "--sealed", base64::engine::general_purpose::STANDARD.encode(SEALED),
                    "--expect-job", submitted.job_id.as_str(),
                    "--expect-run", submitted.run_id.as_str(),
                ],
                "jobId": submitted.flink_job_id(),
            })
        );
    }
}

#[tokio::test]
async fn a_run_whose_answer_times_out_adopts_the_job_it_started() {
    let s = setup().await;
    let submitted = submission();
    // The job starts, but the answer comes after the client's 1 s timeout.
    *s.fake.run_delay.lock().unwrap() = Some(Duration::from_secs(3));

    let flink_job_id = s
        .client
        .submit(&submitted, SEALED, &SETTINGS)
        .await
        .unwrap();

    assert_eq!(flink_job_id, submitted.flink_job_id());
    assert_eq!(s.fake.runs.lock().unwrap().len(), 1, "one submission");
    assert_eq!(s.client.find(&submitted).await.unwrap(), Some(flink_job_id));
}

#[tokio::test]
async fn a_lost_run_whose_job_never_started_stays_unreachable() {
    let s = setup().await;
    let submitted = submission();
    // A proxy gave up before Flink started anything.
    s.fake
        .run_answers
        .lock()
        .unwrap()
        .push_back((504, "upstream request timeout".to_owned()));

    let e = s
        .client
        .submit(&submitted, SEALED, &SETTINGS)
        .await
        .unwrap_err();

    assert!(matches!(e, FlinkError::Unreachable(_)), "{e:?}");
    assert_no_script(&e);
    assert_eq!(s.client.find(&submitted).await.unwrap(), None);
}

#[tokio::test]
async fn a_duplicate_job_answer_adopts_the_running_job() {
    let s = setup().await;
    let submitted = submission();
    // The same submission again, while its job runs: the dispatcher
    // refuses the job id, and the runner's main() fails with that.
    s.fake
        .run_answers
        .lock()
        .unwrap()
        .push_back((400, fixture("run_duplicate_job_400.json")));

    let flink_job_id = s
        .client
        .submit(&submitted, SEALED, &SETTINGS)
        .await
        .unwrap();

    assert_eq!(flink_job_id, submitted.flink_job_id());
    assert_eq!(s.fake.runs.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_refused_run_whose_job_exists_is_adopted() {
    let s = setup().await;
    let submitted = submission();
    // The job runs (an earlier delivery started it), and the run answers
    // with an error that does not name the duplicate.
    s.fake
        .started
        .lock()
        .unwrap()
        .insert(submitted.flink_job_id());
    s.fake
        .run_answers
        .lock()
        .unwrap()
        .push_back((400, fixture("run_runner_rejected_400.json")));

    let flink_job_id = s
        .client
        .submit(&submitted, SEALED, &SETTINGS)
        .await
        .unwrap();
    assert_eq!(flink_job_id, submitted.flink_job_id());
}

#[tokio::test]
async fn a_jar_of_the_same_content_on_the_cluster_is_reused() {
    let s = setup().await;
    let existing = format!("0f6bded5-44f7-4103-93df-3ccaca6d894a_{}", jar_name(&s.jar));
    s.fake.jars.lock().unwrap().extend([
        (
            "11111111-2222-3333-4444-555555555555_sluice-runner-0000000000000000.jar".to_owned(),
            "sluice-runner-0000000000000000.jar".to_owned(),
        ),
        (existing.clone(), jar_name(&s.jar)),
    ]);

    s.client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap();

    assert!(s.fake.uploads.lock().unwrap().is_empty());
    assert_eq!(s.fake.runs.lock().unwrap()[0].0, existing);
}

#[tokio::test]
async fn a_jar_the_cluster_lost_is_uploaded_again_and_the_run_retried() {
    let s = setup().await;
    s.client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap();
    // The cluster restarts and forgets its uploads.
    s.fake.jars.lock().unwrap().clear();

    let submitted = submission();
    let flink_job_id = s
        .client
        .submit(&submitted, SEALED, &SETTINGS)
        .await
        .unwrap();

    assert_eq!(flink_job_id, submitted.flink_job_id());
    assert_eq!(s.fake.uploads.lock().unwrap().len(), 2);
    let runs = s.fake.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 3);
    assert_eq!(
        runs[0].0, runs[1].0,
        "the second submit first tried the remembered jar"
    );
    assert_ne!(runs[1].0, runs[2].0, "then the new upload");

    // The next submit uses the new upload right away.
    s.client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap();
    assert_eq!(s.fake.uploads.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_script_the_runner_refuses_is_rejected_with_the_runners_message() {
    let s = setup().await;
    s.fake
        .run_answers
        .lock()
        .unwrap()
        .push_back((400, fixture("run_runner_rejected_400.json")));

    let e = s
        .client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap_err();

    match &e {
        FlinkError::Rejected(reason) => assert_eq!(
            reason,
            "sealed script: the envelope is not valid JSON (invalid JSON at offset 0: unexpected character)"
        ),
        other => panic!("{other:?}"),
    }
    assert_no_script(&e);
}

#[tokio::test]
async fn a_failed_main_wrapped_in_a_500_is_rejected() {
    let s = setup().await;
    let trace = "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\
        \tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)\n\
        Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: statement 3 (line 1): INSERT INTO: Object 'nowhere' not found\n\
        \tat org.apache.flink.client.program.PackagedProgram.callMainMethod(PackagedProgram.java:360)\n\
        Caused by: dev.sluice.runner.RunnerException: statement 3 (line 1): INSERT INTO: Object 'nowhere' not found\n\
        \tat dev.sluice.runner.Runner.main(Runner.java:42)\n\
        Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Object 'nowhere' not found\n";
    s.fake
        .run_answers
        .lock()
        .unwrap()
        .push_back((500, json!({"errors": [trace]}).to_string()));

    let e = s
        .client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap_err();

    assert!(
        matches!(&e, FlinkError::Rejected(r) if r == "statement 3 (line 1): INSERT INTO: Object 'nowhere' not found"),
        "{e:?}"
    );
}

#[tokio::test]
async fn proxies_and_internal_errors_are_unreachable() {
    let s = setup().await;
    let internal = json!({"errors": ["Internal server error.", "<Exception on server side:\njava.util.concurrent.TimeoutException: Invocation of [RemoteRpcInvocation(DispatcherGateway.submitJob)] timed out.\n\tat x.y(Z.java:1)\n\nEnd of exception on server side>"]});
    for (status, body) in [
        (502, "<html><body>502 Bad Gateway</body></html>".to_owned()),
        (503, String::new()),
        (504, "upstream request timeout".to_owned()),
        (500, internal.to_string()),
    ] {
        s.fake.run_answers.lock().unwrap().push_back((status, body));
        let e = s
            .client
            .submit(&submission(), SEALED, &SETTINGS)
            .await
            .unwrap_err();
        assert!(matches!(e, FlinkError::Unreachable(_)), "{status}: {e:?}");
        assert!(
            shown(&e).contains(&format!("HTTP {status}")),
            "{}",
            shown(&e)
        );
        assert_no_script(&e);
    }
}

#[tokio::test]
async fn a_cluster_that_does_not_listen_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = client(&url, runner_jar(b"jar"));

    let e = client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap_err();
    assert!(matches!(e, FlinkError::Unreachable(_)), "{e:?}");
    assert_no_script(&e);
    assert!(matches!(
        client.status(FINISHED_JOB).await,
        Err(FlinkError::Unreachable(_))
    ));
    assert!(matches!(
        client.cancel(FINISHED_JOB).await,
        Err(FlinkError::Unreachable(_))
    ));
}

#[tokio::test]
async fn a_slow_answer_times_out_as_unreachable() {
    let s = setup().await;
    let started = std::time::Instant::now();
    let e = s.client.status(SLOW_JOB).await.unwrap_err();
    assert!(matches!(e, FlinkError::Unreachable(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_runner_jar_that_cannot_be_read_uploads_nothing() {
    let fake = Arc::new(FakeFlink::default());
    let url = serve(fake.clone()).await;
    let client = client(&url, PathBuf::from("/nonexistent/sluice/runner.jar"));

    let e = client
        .submit(&submission(), SEALED, &SETTINGS)
        .await
        .unwrap_err();

    assert!(matches!(e, FlinkError::Unreachable(_)), "{e:?}");
    assert!(shown(&e).contains("runner jar"), "{}", shown(&e));
    assert!(fake.uploads.lock().unwrap().is_empty());
    assert!(fake.runs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn status_of_a_finished_job_has_its_rows() {
    let s = setup().await;
    let status = s.client.status(FINISHED_JOB).await.unwrap();
    assert_eq!(status.state, FlinkJobState::Finished);
    assert_eq!(
        (status.rows_read, status.rows_written),
        (Some(1000), Some(1000))
    );
    assert_eq!(status.failure, None);
    assert_eq!(
        s.fake.plans_asked.load(Ordering::SeqCst),
        0,
        "the plan is embedded"
    );
}

#[tokio::test]
async fn status_of_a_failed_job_has_its_root_cause() {
    let s = setup().await;
    let status = s.client.status(FAILED_JOB).await.unwrap();
    assert_eq!(status.state, FlinkJobState::Failed);
    assert_eq!(
        status.failure.as_deref(),
        Some(r#"PSQLException: ERROR: relation "no_such_table_xyz" does not exist"#)
    );
    // A legacy JDBC source chained to its sink: nothing counted.
    assert_eq!((status.rows_read, status.rows_written), (None, None));
}

#[tokio::test]
async fn status_without_an_embedded_plan_asks_for_it() {
    let s = setup().await;
    let status = s.client.status(PLANLESS_JOB).await.unwrap();
    assert_eq!(status.state, FlinkJobState::InProgress);
    assert_eq!(
        (status.rows_read, status.rows_written),
        (Some(1000), Some(1000))
    );
    assert_eq!(s.fake.plans_asked.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_and_malformed_jobs_are_unknown() {
    let s = setup().await;
    assert!(matches!(
        s.client.status(UNKNOWN_JOB).await,
        Err(FlinkError::UnknownJob)
    ));
    assert!(matches!(
        s.client.cancel(UNKNOWN_JOB).await,
        Err(FlinkError::UnknownJob)
    ));
    for bad in [
        "",
        "nothex",
        "../jars",
        "c4390a7ccce0ea641798d21de69b45c9?x",
    ] {
        assert!(
            matches!(s.client.status(bad).await, Err(FlinkError::UnknownJob)),
            "{bad}"
        );
        assert!(
            matches!(s.client.cancel(bad).await, Err(FlinkError::UnknownJob)),
            "{bad}"
        );
    }
    // Only the well-formed id reached the cluster.
    assert_eq!(s.fake.patches.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn cancel_patches_the_job_with_mode_cancel() {
    let s = setup().await;
    s.client.cancel(FINISHED_JOB).await.unwrap();
    let patches = s.fake.patches.lock().unwrap().clone();
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].0, FINISHED_JOB);
    assert_eq!(
        patches[0].1,
        HashMap::from([("mode".to_owned(), "cancel".to_owned())])
    );

    // A job that already ended has nothing left to cancel.
    *s.fake.patch_status.lock().unwrap() = Some(409);
    s.client.cancel(FINISHED_JOB).await.unwrap();

    *s.fake.patch_status.lock().unwrap() = Some(503);
    assert!(matches!(
        s.client.cancel(FINISHED_JOB).await,
        Err(FlinkError::Unreachable(_))
    ));
}

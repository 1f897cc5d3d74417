//! Against the local Flink 2.2.1 session cluster (`infra/flink/start.sh`)
//! with the real runner jar. Run with
//!
//! ```text
//! SLUICE_RUNNER_ALLOW_PLAINTEXT=true infra/flink/start.sh
//! (cd infra/flink-sql-runner && mvn -q -B -o package -DskipTests)
//! cargo test -p sluice-flink --features plaintext-cluster-tests -- --ignored
//! ```
//!
//! `FLINK_REST_URL` (default `http://127.0.0.1:8081`) and `SLUICE_RUNNER_JAR`
//! (default `infra/flink-sql-runner/target/flink-sql-runner.jar`) override.
//! The jobs that really run use the runner's `--plaintext-script` mode, which
//! the JobManager allows only with `SLUICE_RUNNER_ALLOW_PLAINTEXT=true` in its
//! environment (sealed scripts need KMS; they are the end-to-end tests' job).
//! They live inside the crate because the plaintext path is not public API.

use std::time::{Duration, Instant};

use base64::Engine as _;
use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{
    FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobs, FlinkSubmitter, Submission,
    SubmitSettings,
};

use crate::{FlinkSessionClient, FlinkSessionConfig};

const SETTINGS: SubmitSettings = SubmitSettings {
    parallelism: 1,
    batch: true,
};

fn rest_url() -> String {
    std::env::var("FLINK_REST_URL").unwrap_or_else(|_| "http://127.0.0.1:8081".into())
}

fn client() -> FlinkSessionClient {
    let jar = std::env::var("SLUICE_RUNNER_JAR").unwrap_or_else(|_| {
        format!(
            "{}/../../infra/flink-sql-runner/target/flink-sql-runner.jar",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    FlinkSessionClient::new(FlinkSessionConfig {
        rest_url: rest_url(),
        runner_jar: jar.into(),
        request_timeout: Duration::from_secs(60),
    })
    .unwrap()
}

/// The first submission of a fresh run.
fn submission() -> Submission {
    Submission {
        job_id: JobId::generate(),
        run_id: RunId::generate(),
        number: 1,
    }
}

/// Runs `sql` through the runner's plaintext mode: the Flink job id.
async fn run_plaintext(client: &FlinkSessionClient, sql: &str) -> String {
    run_plaintext_as(client, sql, &submission().flink_job_id()).await
}

/// Runs `sql` through the runner's plaintext mode as the job `flink_job_id`.
async fn run_plaintext_as(client: &FlinkSessionClient, sql: &str, flink_job_id: &str) -> String {
    let args = [
        "--plaintext-script".to_owned(),
        base64::engine::general_purpose::STANDARD.encode(sql),
    ];
    match client.run_program(&args, flink_job_id).await {
        Ok(id) => id,
        Err(FlinkError::Rejected(reason)) if reason.contains("--plaintext-script is refused") => {
            panic!(
                "start the cluster with SLUICE_RUNNER_ALLOW_PLAINTEXT=true for this test: {reason}"
            )
        }
        Err(e) => panic!("{e:?}"),
    }
}

async fn until_ended(client: &FlinkSessionClient, flink_job_id: &str) -> FlinkJobStatus {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = client.status(flink_job_id).await.unwrap();
        if status.state != FlinkJobState::InProgress {
            return status;
        }
        assert!(Instant::now() < deadline, "still running: {status:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_sealed_script_the_runner_cannot_open_is_rejected() {
    let client = client();
    let e = client
        .submit(&submission(), "not an envelope", &SETTINGS)
        .await
        .unwrap_err();
    match e {
        FlinkError::Rejected(reason) => {
            eprintln!("rejected: {reason}");
            assert!(
                reason.starts_with("sealed script: the envelope is not valid JSON"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_batch_job_finishes_with_its_rows() {
    let client = client();
    let id = run_plaintext(
        &client,
        "SET 'execution.runtime-mode' = 'batch';
         CREATE TEMPORARY TABLE src (id BIGINT, v STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '1000');
         CREATE TEMPORARY TABLE dst (id BIGINT, v STRING) WITH ('connector' = 'blackhole');
         INSERT INTO dst SELECT id, v FROM src;",
    )
    .await;
    let status = until_ended(&client, &id).await;
    eprintln!("{id}: {status:?}");
    assert_eq!(status.state, FlinkJobState::Finished);
    assert_eq!(
        (status.rows_read, status.rows_written),
        (Some(1000), Some(1000))
    );
    assert_eq!(status.failure, None);
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_chained_job_reports_what_its_source_counted() {
    let dir = std::env::temp_dir().join(format!("sluice-flink-chained-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv: String = (1..=1000).map(|i| format!("{i},v{i}\n")).collect();
    std::fs::write(dir.join("in.csv"), csv).unwrap();
    let client = client();
    let id = run_plaintext(
        &client,
        &format!(
            "SET 'execution.runtime-mode' = 'batch';
             CREATE TEMPORARY TABLE src (id BIGINT, v STRING) WITH ('connector' = 'filesystem', 'path' = 'file://{}', 'format' = 'csv');
             CREATE TEMPORARY TABLE dst (id BIGINT, v STRING) WITH ('connector' = 'blackhole');
             INSERT INTO dst SELECT id, v FROM src WHERE id <= 700;",
            dir.join("in.csv").display()
        ),
    )
    .await;
    let status = until_ended(&client, &id).await;
    eprintln!("{id}: {status:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(status.state, FlinkJobState::Finished);
    // One vertex (source -> filter -> sink): the FLIP-27 file source counted
    // the 1000 lines it read; what reached the sink is not reported.
    assert_eq!((status.rows_read, status.rows_written), (Some(1000), None));
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_failing_job_reports_its_root_cause() {
    let client = client();
    let id = run_plaintext(
        &client,
        "SET 'execution.runtime-mode' = 'batch';
         CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'filesystem', 'path' = 'file:///nonexistent/sluice-flink-probe', 'format' = 'csv');
         CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
         INSERT INTO dst SELECT id FROM src;",
    )
    .await;
    let status = until_ended(&client, &id).await;
    eprintln!("{id}: {status:?}");
    assert_eq!(status.state, FlinkJobState::Failed);
    let failure = status.failure.unwrap();
    assert!(failure.contains("sluice-flink-probe"), "{failure}");
    assert!(!failure.contains('\n') && failure.len() <= crate::flink_errors::MAX_MESSAGE);
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_running_job_can_be_canceled() {
    let client = client();
    let id = run_plaintext(
        &client,
        "SET 'execution.runtime-mode' = 'streaming';
         CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
         CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
         INSERT INTO dst SELECT id FROM src;",
    )
    .await;
    assert_eq!(
        client.status(&id).await.unwrap().state,
        FlinkJobState::InProgress
    );
    client.cancel(&id).await.unwrap();
    let status = until_ended(&client, &id).await;
    eprintln!("{id}: {status:?}");
    assert_eq!(status.state, FlinkJobState::Canceled);
    // Canceling again: the job already ended (409), nothing to do.
    client.cancel(&id).await.unwrap();
    assert!(matches!(
        client.status("00000000000000000000000000000000").await,
        Err(FlinkError::UnknownJob)
    ));
    assert!(matches!(
        client.cancel("00000000000000000000000000000000").await,
        Err(FlinkError::UnknownJob)
    ));
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_submission_run_twice_is_one_job_named_after_it() {
    let client = client();
    let submission = submission();
    let expected = submission.flink_job_id();
    let sql = "SET 'execution.runtime-mode' = 'streaming';
         CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');
         CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');
         INSERT INTO dst SELECT id FROM src;";
    assert_eq!(client.find(&submission).await.unwrap(), None);
    let id = run_plaintext_as(&client, sql, &expected).await;
    assert_eq!(id, expected, "Flink took the requested job id");
    assert_eq!(client.find(&submission).await.unwrap(), Some(id.clone()));
    // The same submission again: Flink refuses the duplicate, and the job
    // that runs is adopted.
    let again = run_plaintext_as(&client, sql, &expected).await;
    assert_eq!(again, id);
    client.cancel(&id).await.unwrap();
    let status = until_ended(&client, &id).await;
    assert_eq!(status.state, FlinkJobState::Canceled);
}

#[tokio::test]
#[ignore = "needs the local Flink cluster"]
async fn a_jar_deleted_on_the_cluster_is_uploaded_again() {
    let client = client();
    let first = client.jar_id().await.unwrap();
    let name = client.runner_jar().await.unwrap().name.clone();
    assert!(first.ends_with(&format!("_{name}")), "{first}");
    // Another client finds the same upload by name.
    assert_eq!(self::client().jar_id().await.unwrap(), first);

    let deleted = crate::http::client_builder()
        .build()
        .unwrap()
        .delete(format!("{}/jars/{first}", rest_url()))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());

    // The run answers "Jar file ... does not exist": upload, retry, and the
    // runner's own refusal comes back.
    let e = client
        .submit(&submission(), "not an envelope", &SETTINGS)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FlinkError::Rejected(r) if r.starts_with("sealed script:")),
        "{e:?}"
    );
    let second = client.jar_id().await.unwrap();
    assert_ne!(second, first);
    assert!(second.ends_with(&format!("_{name}")), "{second}");
}

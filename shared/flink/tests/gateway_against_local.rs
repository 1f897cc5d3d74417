//! `FlinkGatewayClient` against the local stack's SQL Gateway
//! (`infra/flink/start.sh`, `$FLINK_GATEWAY_URL`) and its session cluster
//! (`$FLINK_REST_URL`). Jobs use Flink's built-in `datagen` and `blackhole`
//! connectors, so no database is needed. Run with `make test`, or alone:
//! `cargo test -p sluice-flink --test gateway_against_local -- --ignored`.

use std::time::{Duration, Instant};

use sluice_domain::model::job::JobId;
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{
    FlinkError, FlinkJobState, FlinkJobStatus, FlinkJobs, FlinkSubmitter, ScriptTransport,
    Submission, SubmitSettings,
};
use sluice_flink::{FlinkGatewayClient, FlinkGatewayConfig};

fn client() -> FlinkGatewayClient {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    FlinkGatewayClient::new(FlinkGatewayConfig {
        gateway_url: var("FLINK_GATEWAY_URL", "http://127.0.0.1:8083"),
        rest_url: var("FLINK_REST_URL", "http://127.0.0.1:8081"),
        request_timeout: Duration::from_secs(30),
        statement_timeout: Duration::from_secs(60),
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

const BATCH: SubmitSettings = SubmitSettings {
    parallelism: 1,
    batch: true,
};

async fn until_ended(client: &FlinkGatewayClient, flink_job_id: &str) -> FlinkJobStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = client.status(flink_job_id).await.unwrap();
        if status.state != FlinkJobState::InProgress {
            return status;
        }
        assert!(Instant::now() < deadline, "job {flink_job_id} did not end");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
#[ignore = "needs the local SQL Gateway: run `make test`"]
async fn a_batch_script_runs_as_one_job_and_finishes() {
    let client = client();
    assert_eq!(client.transport(), ScriptTransport::Plaintext);
    // Two INSERTs: one statement set, one job.
    let script = "SET 'execution.runtime-mode' = 'batch';\n\
        SET 'pipeline.name' = 'sluice gateway test';\n\
        CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '1000');\n\
        CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');\n\
        CREATE TEMPORARY TABLE dst2 (id BIGINT) WITH ('connector' = 'blackhole');\n\
        INSERT INTO dst SELECT id FROM src;\n\
        INSERT INTO dst2 SELECT id + 1 FROM src;\n";
    let submitted = submission();
    let flink_job_id = client.submit(&submitted, script, &BATCH).await.unwrap();
    // The job is named after the submission, so a retry finds it.
    assert_eq!(flink_job_id, submitted.flink_job_id());
    let status = until_ended(&client, &flink_job_id).await;
    assert_eq!(status.state, FlinkJobState::Finished, "{status:?}");
}

#[tokio::test]
#[ignore = "needs the local SQL Gateway: run `make test`"]
async fn a_statement_the_gateway_refuses_is_rejected_without_its_literals() {
    let client = client();
    let script = "CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');\n\
        CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'jdbc', \
            'url' = 'jdbc:mysql://127.0.0.1:1/db', 'table-name' = 't', 'password' = 'canary-gw-pw');\n\
        INSERT INTO dst SELECT id FROM src;";
    let error = client
        .submit(&submission(), script, &BATCH)
        .await
        .unwrap_err();
    let FlinkError::Rejected(reason) = error else {
        panic!("expected a rejection, got {error:?}");
    };
    assert!(
        reason.starts_with("the INSERT statement(s) (1): "),
        "{reason}"
    );
    assert!(reason.contains("Either all or none"), "{reason}");
    assert!(!reason.contains("canary-gw-pw"), "{reason}");

    // Flink quotes a bad option value in its message: the value is masked.
    let error = client
        .submit(
            &submission(), "CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = 'canary-rows');\n\
             CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');\n\
             INSERT INTO dst SELECT id FROM src;",
            &BATCH,
        )
        .await
        .unwrap_err();
    let FlinkError::Rejected(reason) = error else {
        panic!("expected a rejection, got {error:?}");
    };
    assert!(reason.contains("\"******\""), "{reason}");
    assert!(!reason.contains("canary-rows"), "{reason}");

    let error = client
        .submit(
            &submission(),
            "CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen');\n\
             INSERT INTO dst SELECT nope FROM src;",
            &BATCH,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FlinkError::Rejected(r) if r.ends_with("Column 'nope' not found in any table")),
        "{error:?}"
    );
}

#[tokio::test]
#[ignore = "needs the local SQL Gateway: run `make test`"]
async fn a_streaming_job_is_canceled_through_the_jobmanager() {
    let client = client();
    let script = "SET 'execution.runtime-mode' = 'streaming';\n\
        CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '10');\n\
        CREATE TEMPORARY TABLE dst (id BIGINT) WITH ('connector' = 'blackhole');\n\
        INSERT INTO dst SELECT id FROM src;";
    let streaming = SubmitSettings {
        parallelism: 1,
        batch: false,
    };
    let submitted = submission();
    let flink_job_id = client.submit(&submitted, script, &streaming).await.unwrap();
    let status = client.status(&flink_job_id).await.unwrap();
    assert_eq!(status.state, FlinkJobState::InProgress);
    // The same submission again (a redelivery): the running job is found,
    // and submitting it anyway adopts it instead of starting a second.
    assert_eq!(
        client.find(&submitted).await.unwrap(),
        Some(flink_job_id.clone())
    );
    let again = client.submit(&submitted, script, &streaming).await.unwrap();
    assert_eq!(again, flink_job_id);
    client.cancel(&flink_job_id).await.unwrap();
    let status = until_ended(&client, &flink_job_id).await;
    assert_eq!(status.state, FlinkJobState::Canceled, "{status:?}");
    // Cancelling an ended job is not an error.
    client.cancel(&flink_job_id).await.unwrap();
}

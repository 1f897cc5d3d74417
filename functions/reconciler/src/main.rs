use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use sluice_aws::DynamoRunRepository;
use sluice_domain::ports::SystemClock;
use sluice_domain::runs_service::Reconciler;
use sluice_flink::{FlinkSessionClient, FlinkSessionConfig};

/// Typed configuration, checked at cold start.
struct Config {
    table: String,
    flink_rest_url: String,
    runner_jar: String,
    /// Minutes after which a run that never reached Flink is marked lost.
    stale_after_minutes: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not set or invalid")]
struct BadSetting(&'static str);

impl Config {
    fn from_env() -> Result<Self, BadSetting> {
        let required = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or(BadSetting(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            flink_rest_url: required("SLUICE_FLINK_REST_URL")?,
            runner_jar: required("SLUICE_RUNNER_JAR")?,
            stale_after_minutes: match std::env::var("SLUICE_STALE_AFTER_MINUTES") {
                Ok(v) => v
                    .parse()
                    .map_err(|_| BadSetting("SLUICE_STALE_AFTER_MINUTES"))?,
                Err(_) => 15,
            },
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let flink = FlinkSessionClient::new(FlinkSessionConfig {
        rest_url: config.flink_rest_url,
        runner_jar: config.runner_jar.into(),
        request_timeout: Duration::from_secs(30),
    })?;
    let reconciler = Reconciler::new(
        Arc::new(DynamoRunRepository::new(
            aws_sdk_dynamodb::Client::new(&aws),
            config.table,
        )),
        Arc::new(flink),
        Arc::new(SystemClock),
        chrono::Duration::minutes(config.stale_after_minutes),
    );

    let reconciler = &reconciler;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = reconciler.reconcile().await.map_err(|e| Diagnostic {
            error_type: "Retryable".to_owned(),
            error_message: format!("the run store failed: {e}"),
        })?;
        tracing::info!(?report, "reconciled");
        Ok::<_, Diagnostic>(serde_json::to_value(report).expect("a report serializes"))
    }))
    .await
}

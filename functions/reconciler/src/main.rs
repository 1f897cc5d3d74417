use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use sluice_aws::config::LazyClient;
use sluice_aws::{DynamoJobRepository, DynamoRunRepository, LambdaDiscovery, LambdaTriggerInvoker};
use sluice_domain::ports::SystemClock;
use sluice_domain::service::runs::{Reconciler, ReconcilerPorts};
use sluice_flink::TargetsConfig;

/// Typed configuration, checked at cold start.
struct Config {
    table: String,
    /// The deployment's Flink targets (see `sluice_flink::targets`).
    flink_targets: TargetsConfig,
    /// The trigger function: next attempts and child runs go to it.
    trigger_function: String,
    /// The discovery function: it counts rows for `validate: count`.
    discovery_function: String,
    /// The EventBridge bus runs' state changes are published to.
    event_bus: String,
    /// Minutes after which a run that never reached Flink is marked lost.
    stale_after_minutes: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("{0} is not set or invalid")]
struct BadSetting(&'static str);

impl Config {
    fn from_env() -> Result<Self, lambda_runtime::Error> {
        let required = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or(BadSetting(name))
        };
        Ok(Self {
            table: required("SLUICE_TABLE")?,
            flink_targets: TargetsConfig::from_env()?,
            trigger_function: required("SLUICE_TRIGGER_FUNCTION")?,
            discovery_function: required("SLUICE_DISCOVERY_FUNCTION")?,
            event_bus: required("SLUICE_EVENT_BUS")?,
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

    let aws = sluice_aws::config::load().await;
    // The reconciler follows and stops runs; it never submits.
    let flink =
        sluice_aws::following_targets(&config.flink_targets, &aws, Duration::from_secs(30))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    // Built by the first retry, child run or validation (most passes have none).
    let lambda = LazyClient::new(&aws, aws_sdk_lambda::Client::new);
    let reconciler = Reconciler::new(
        ReconcilerPorts {
            runs: Arc::new(DynamoRunRepository::new(
                dynamodb.clone(),
                config.table.clone(),
            )),
            jobs: Arc::new(DynamoJobRepository::new(
                dynamodb.clone(),
                config.table.clone(),
            )),
            flink,
            trigger: Arc::new(LambdaTriggerInvoker::new(
                lambda.clone(),
                config.trigger_function,
            )),
            counter: Arc::new(LambdaDiscovery::new(lambda, config.discovery_function)),
            // The bus's client is built by the first run that changes state.
            events: sluice_aws::run_outcomes(&aws, dynamodb, config.table, config.event_bus),
            clock: Arc::new(SystemClock),
        },
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

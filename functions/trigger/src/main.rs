use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use sluice_aws::config::LazyClient;
use sluice_aws::discovery::LambdaDiscovery;
use sluice_aws::{
    DynamoJobRepository, DynamoRunRepository, DynamoScheduleRepository, DynamoSourceRepository,
    KmsKeyProvider,
};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::ports::SystemClock;
use sluice_domain::service::trigger::{TriggerPorts, TriggerService};
use sluice_flinksql::FlinkSqlCompiler;
use trigger::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let keys = KmsKeyProvider::new(aws_sdk_kms::Client::new(&aws), config.kms_key_id);
    // The trigger submits: session targets need their runner jar.
    let flink =
        sluice_aws::submitting_targets(&config.flink_targets, &aws, Duration::from_secs(60))?;
    // The jobs API's cancels come here: the jobs function has no Flink client.
    let canceler = flink.jobs();
    let service = TriggerService::new(TriggerPorts {
        jobs: Arc::new(DynamoJobRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        sources: Arc::new(DynamoSourceRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        runs: Arc::new(DynamoRunRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        schedules: Arc::new(DynamoScheduleRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        sealer: Arc::new(EnvelopeSealer::new(keys)),
        compiler: Arc::new(FlinkSqlCompiler),
        flink,
        // The bus's client is built by the first delivery that records a change, not at init.
        events: sluice_aws::run_outcomes(&aws, dynamodb, config.table, config.event_bus),
        // Built at the first run that needs it (a database source or target).
        preparer: Arc::new(LambdaDiscovery::new(
            LazyClient::new(&aws, aws_sdk_lambda::Client::new),
            config.discovery_function,
        )),
        clock: Arc::new(SystemClock),
    });

    let (service, canceler) = (&service, &canceler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        trigger::handle(service, canceler, event).await
    }))
    .await
}

use std::sync::Arc;

use discovery::config::Config;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use sluice_aws::{DynamoSourceRepository, KmsKeyProvider};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::ports::SystemClock;
use sluice_domain::service::discovery::DiscoveryService;
use sluice_probe::DirectProbe;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let sources = DynamoSourceRepository::new(aws_sdk_dynamodb::Client::new(&aws), config.table);
    let keys = KmsKeyProvider::new(aws_sdk_kms::Client::new(&aws), config.kms_key_id);
    let sealer = Arc::new(EnvelopeSealer::new(keys));
    let service = DiscoveryService::new(
        Arc::new(sources),
        sealer.clone(),
        Arc::new(DirectProbe),
        Arc::new(SystemClock),
    );

    let (service, sealer) = (&service, sealer.as_ref());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        discovery::handle(service, sealer, event).await
    }))
    .await
}

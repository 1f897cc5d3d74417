use std::sync::Arc;

use sluice_aws::config::LazyClient;
use sluice_aws::{DynamoSourceRepository, KmsKeyProvider};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::ports::SystemClock;
use sluice_domain::service::sources::SourcesService;
use sources::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let repository = DynamoSourceRepository::new(aws_sdk_dynamodb::Client::new(&aws), config.table);
    // KMS is needed by writes only: its client is built by the first one.
    let keys = KmsKeyProvider::new(
        LazyClient::new(&aws, aws_sdk_kms::Client::new),
        config.kms_key_id,
    );
    let service = SourcesService::new(
        Arc::new(repository),
        Arc::new(EnvelopeSealer::new(keys)),
        Arc::new(SystemClock),
    );

    lambda_http::run(sources::router(service, config.tenant_mode)).await
}

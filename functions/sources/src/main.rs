use std::sync::Arc;

use sluice_aws::config::LazyClient;
use sluice_aws::discovery::LambdaDraftTester;
use sluice_aws::{DynamoSourceRepository, KmsKeyProvider, LambdaDiscovery};
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
    let sealer = Arc::new(EnvelopeSealer::new(keys));
    let service = SourcesService::new(Arc::new(repository), sealer.clone(), Arc::new(SystemClock));
    // Connection tests and discovery run in the discovery function (in the
    // VPC, with the sources' secrets); a draft's secrets go to it sealed.
    // The Lambda client is built by the first request that needs it.
    let discovery = LambdaDiscovery::new(
        LazyClient::new(&aws, aws_sdk_lambda::Client::new),
        config.discovery_function,
    );
    let drafts = LambdaDraftTester::new(discovery.clone(), sealer);

    lambda_http::run(sources::router(
        service,
        Arc::new(discovery),
        Arc::new(drafts),
        config.tenant_mode,
    ))
    .await
}

use std::sync::Arc;

use sluice_aws::config::LazyClient;
use sluice_aws::discovery::LambdaDraftTester;
use sluice_aws::{
    DynamoJobRepository, DynamoNotificationRepository, DynamoSourceRepository, KmsKeyProvider,
    LambdaDiscovery,
};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::model::notification::ChannelPolicy;
use sluice_domain::ports::SystemClock;
use sluice_domain::service::notifications::NotificationsService;
use sluice_domain::service::sources::SourcesService;
use sources::config::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let repository = DynamoSourceRepository::new(dynamodb.clone(), config.table.clone());
    // KMS is needed by writes only: its client is built by the first one.
    let keys = KmsKeyProvider::new(
        LazyClient::new(&aws, aws_sdk_kms::Client::new),
        config.kms_key_id,
    );
    let sealer = Arc::new(EnvelopeSealer::new(keys));
    let service = SourcesService::new(Arc::new(repository), sealer.clone(), Arc::new(SystemClock));
    // Jobs' notification settings: served here, where the signing secret can be sealed.
    let notifications = NotificationsService::new(
        Arc::new(DynamoJobRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        Arc::new(DynamoNotificationRepository::new(dynamodb, config.table)),
        sealer.clone(),
        Arc::new(SystemClock),
        ChannelPolicy {
            topic_arn_prefix: config.notify_topic_arn_prefix,
            // Plain http to loopback only in the local stack's builds.
            allow_loopback_http: cfg!(feature = "local-dev"),
        },
    );
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
        notifications,
        config.tenant_mode,
    ))
    .await
}

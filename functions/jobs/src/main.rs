use std::sync::Arc;

use aws_config::BehaviorVersion;
use jobs::config::Config;
use sluice_aws::{DynamoJobRepository, DynamoSourceRepository};
use sluice_domain::jobs_service::JobsService;
use sluice_domain::ports::SystemClock;
use sluice_flinksql::FlinkSqlCompiler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let service = JobsService::new(
        Arc::new(DynamoJobRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        Arc::new(DynamoSourceRepository::new(dynamodb, config.table)),
        Arc::new(FlinkSqlCompiler),
        Arc::new(SystemClock),
    );

    lambda_http::run(jobs::router(service, config.tenant_mode)).await
}

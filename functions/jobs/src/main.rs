use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use jobs::config::Config;
use sluice_aws::{
    DynamoJobRepository, DynamoRunRepository, DynamoSourceRepository, LambdaTriggerInvoker,
};
use sluice_domain::jobs_service::JobsService;
use sluice_domain::ports::SystemClock;
use sluice_domain::runs_service::RunsService;
use sluice_flink::{FlinkSessionClient, FlinkSessionConfig};
use sluice_flinksql::FlinkSqlCompiler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let jobs = Arc::new(DynamoJobRepository::new(
        dynamodb.clone(),
        config.table.clone(),
    ));
    let clock = Arc::new(SystemClock);
    let service = JobsService::new(
        jobs.clone(),
        Arc::new(DynamoSourceRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        Arc::new(FlinkSqlCompiler),
        clock.clone(),
    );
    // This function only cancels on Flink; it never submits, so it has no
    // runner jar.
    let flink = FlinkSessionClient::new(FlinkSessionConfig {
        rest_url: config.flink_rest_url,
        runner_jar: Default::default(),
        request_timeout: Duration::from_secs(15),
    })?;
    let runs = RunsService::new(
        jobs,
        Arc::new(DynamoRunRepository::new(dynamodb, config.table)),
        Arc::new(flink),
        Arc::new(LambdaTriggerInvoker::new(
            aws_sdk_lambda::Client::new(&aws),
            config.trigger_function,
        )),
        clock,
    );

    lambda_http::run(jobs::router(service, runs, config.tenant_mode)).await
}

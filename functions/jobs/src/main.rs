use std::sync::Arc;

use jobs::config::Config;
use sluice_aws::config::LazyClient;
use sluice_aws::{
    DynamoJobRepository, DynamoRunRepository, DynamoScheduleRepository, DynamoSourceRepository,
    EventBridgeScheduler, LambdaDiscovery, LambdaFlinkCanceler, LambdaTriggerInvoker,
    SchedulerTarget,
};
use sluice_domain::ports::SystemClock;
use sluice_domain::service::jobs::{JobsPorts, JobsService};
use sluice_domain::service::reports::ReportService;
use sluice_domain::service::runs::RunsService;
use sluice_domain::service::schedules::ScheduleService;
use sluice_flinksql::FlinkSqlCompiler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let jobs = Arc::new(DynamoJobRepository::new(
        dynamodb.clone(),
        config.table.clone(),
    ));
    let clock = Arc::new(SystemClock);
    let schedule_records = Arc::new(DynamoScheduleRepository::new(
        dynamodb.clone(),
        config.table.clone(),
    ));
    // The Scheduler and Lambda clients are built by the first request
    // that needs them (`sluice_aws::config`, BENCHMARKS.md "Cold start").
    let lambda = LazyClient::new(&aws, aws_sdk_lambda::Client::new);
    let scheduler = Arc::new(EventBridgeScheduler::new(
        LazyClient::new(&aws, aws_sdk_scheduler::Client::new),
        SchedulerTarget {
            target_arn: config.scheduler.target_arn,
            role_arn: config.scheduler.role_arn,
            dead_letter_arn: config.scheduler.dead_letter_arn,
            group_prefix: config.scheduler.group_prefix,
        },
    )?);
    let schedules = ScheduleService::new(
        jobs.clone(),
        schedule_records.clone(),
        scheduler.clone(),
        clock.clone(),
    );
    let reports = ReportService::new(
        Arc::new(sluice_aws::DynamoRunReports::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        jobs.clone(),
        clock.clone(),
    );
    let run_records = Arc::new(DynamoRunRepository::new(
        dynamodb.clone(),
        config.table.clone(),
    ));
    let service = JobsService::new(JobsPorts {
        jobs: jobs.clone(),
        sources: Arc::new(DynamoSourceRepository::new(
            dynamodb.clone(),
            config.table.clone(),
        )),
        runs: run_records.clone(),
        scheduler,
        schedules: schedule_records,
        compiler: Arc::new(FlinkSqlCompiler),
        clock: clock.clone(),
        flink_targets: config.flink_targets.names(),
        // Columns a job omits are read from its table by the discovery
        // function (the only one that reaches the databases).
        discovery: Arc::new(LambdaDiscovery::new(
            lambda.clone(),
            config.discovery_function,
        )),
    });
    // Cancels of Flink jobs are made by the trigger, which holds the Flink
    // targets: this function links no Flink client and reaches no cluster.
    let flink = Arc::new(LambdaFlinkCanceler::new(
        lambda.clone(),
        config.trigger_function.clone(),
        config.flink_targets.default_name(),
    ));
    let runs = RunsService::new(
        jobs,
        run_records,
        flink,
        Arc::new(LambdaTriggerInvoker::new(lambda, config.trigger_function)),
        // The bus's client is built by the first manual run or cancel.
        sluice_aws::run_outcomes(
            &aws,
            dynamodb.clone(),
            config.table.clone(),
            config.event_bus,
        ),
        clock.clone(),
    );

    lambda_http::run(jobs::router(
        service,
        runs,
        schedules,
        reports,
        clock,
        config.tenant_mode,
    ))
    .await
}

//! `scheduler-bridge`: fires moto's EventBridge Scheduler schedules for the
//! local stack (see the crate documentation for how it differs from AWS).

use std::sync::Arc;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use clap::Parser;
use scheduler_bridge::aws::{LambdaInvoker, SchedulerSource, SqsDeadLetters, SqsEventQueue};
use scheduler_bridge::events::run_event_forwarder;
use scheduler_bridge::run::{run_bridge, run_reconciler};
use scheduler_bridge::{Bridge, Deliverer, Invoker, Options};

#[tokio::main]
async fn main() {
    let options = Options::parse();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let aws = aws_config::load_from_env().await;
    // The bridge counts attempts itself: the Lambda client must not retry.
    let lambda = aws_sdk_lambda::config::Builder::from(&aws)
        .endpoint_url(&options.lambda_endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(options.invoke_timeout())
                .build(),
        )
        .build();
    let invoker: Arc<dyn Invoker> = Arc::new(LambdaInvoker::new(
        aws_sdk_lambda::Client::from_conf(lambda),
    ));
    let source = SchedulerSource::new(
        aws_sdk_scheduler::Client::new(&aws),
        Some(options.group_prefix.clone()),
    );
    let deliverer = Arc::new(Deliverer::new(
        invoker.clone(),
        Arc::new(SqsDeadLetters::new(aws_sdk_sqs::Client::new(&aws))),
        options.backoff(),
        !options.ignore_flexible_window,
    ));

    tracing::info!(
        lambda_endpoint = %options.lambda_endpoint,
        group_prefix = %options.group_prefix,
        reconciler = options.reconciler.as_deref().unwrap_or(""),
        notifier = options.notifier.as_deref().unwrap_or(""),
        "scheduler bridge started"
    );
    if let (Some(notifier), Some(url)) =
        (options.notifier.clone(), options.notifier_queue_url.clone())
    {
        tokio::spawn(run_event_forwarder(
            Arc::new(SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), url)),
            invoker.clone(),
            notifier,
            options.notifier_copies,
        ));
    }
    if let Some(reconciler) = options.reconciler.clone() {
        tokio::spawn(run_reconciler(
            invoker,
            reconciler,
            options.reconcile_every(),
        ));
    }
    let bridge = Bridge::new(Arc::new(source), chrono::Utc::now());
    run_bridge(bridge, deliverer, options.tick()).await;
}

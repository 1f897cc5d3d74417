//! The run events the services are given in a deployment: EMF metrics, the run report's
//! counters in DynamoDB, then the EventBridge bus (`sluice_domain::service::outcomes`).

use std::sync::Arc;

use aws_config::SdkConfig;
use sluice_domain::service::outcomes::RunOutcomes;

use crate::config::LazyClient;
use crate::{DynamoRunReports, EmfRunMetrics, EventBridgeRunEvents};

/// `table`: the DynamoDB table (report counters); `bus`: the events' bus. The EventBridge client
/// is built by the first change published, not at init.
pub fn run_outcomes(
    aws: &SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    table: impl Into<String>,
    bus: impl Into<String>,
) -> Arc<RunOutcomes> {
    Arc::new(RunOutcomes::new(
        Arc::new(EventBridgeRunEvents::new(
            LazyClient::new(aws, aws_sdk_eventbridge::Client::new),
            bus,
        )),
        Arc::new(DynamoRunReports::new(dynamodb, table)),
        Arc::new(EmfRunMetrics::from_env()),
    ))
}

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use notifier::channels::{Channels, Sleep};
use notifier::config::Config;
use notifier::sns::SnsTopics;
use notifier::webhook::Webhooks;
use serde_json::Value;
use sluice_aws::config::LazyClient;
use sluice_aws::{
    DynamoAlertLedger, DynamoJobRepository, DynamoNotificationRepository, DynamoRunRepository,
    KmsKeyProvider,
};
use sluice_crypto::EnvelopeSealer;
use sluice_domain::ports::SystemClock;
use sluice_domain::service::notifications::{DeliveryPolicy, Notifier, NotifierPorts};

/// One webhook request's bound.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;

    let aws = sluice_aws::config::load().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let table = config.table;
    let clock = Arc::new(SystemClock);
    let notifier = Notifier::new(
        NotifierPorts {
            jobs: Arc::new(DynamoJobRepository::new(dynamodb.clone(), table.clone())),
            runs: Arc::new(DynamoRunRepository::new(dynamodb.clone(), table.clone())),
            settings: Arc::new(DynamoNotificationRepository::new(
                dynamodb.clone(),
                table.clone(),
            )),
            ledger: Arc::new(DynamoAlertLedger::new(dynamodb, table)),
            // SNS and KMS are built by the first notice that needs them.
            channels: Arc::new(Channels {
                sns: SnsTopics::new(LazyClient::new(&aws, aws_sdk_sns::Client::new)),
                webhooks: Webhooks::new(
                    cfg!(feature = "local-dev"),
                    WEBHOOK_TIMEOUT,
                    clock.clone(),
                ),
            }),
            sealer: Arc::new(EnvelopeSealer::new(KmsKeyProvider::new(
                LazyClient::new(&aws, aws_sdk_kms::Client::new),
                config.kms_key_id,
            ))),
            pause: Arc::new(Sleep),
            clock,
        },
        DeliveryPolicy::default(),
    );

    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // An event that is not a run's change would not parse on a redelivery either: logged
        // and answered, not retried. The payload is not logged (ids only, below).
        let change = match notifier::event::parse(event.payload) {
            Ok(change) => change,
            Err(e) => {
                tracing::warn!(error = %e, "not a run's state change; ignored");
                return Ok(serde_json::json!({"outcome": "ignored"}));
            }
        };
        let outcome = notifier.notify(&change).await.map_err(|e| Diagnostic {
            error_type: "Retryable".to_owned(),
            error_message: e.to_string(),
        })?;
        tracing::info!(run_id = %change.run_id, job_id = %change.job_id, state = change.state.as_str(), ?outcome, "change handled");
        Ok::<_, Diagnostic>(serde_json::json!({"outcome": format!("{outcome:?}")}))
    }))
    .await
}

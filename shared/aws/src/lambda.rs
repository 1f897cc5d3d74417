//! Hands manual runs to the trigger function through Lambda's Invoke API.

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use sluice_domain::model::trigger_event::TriggerEvent;
use sluice_domain::ports::{BoxError, TriggerInvoker};

use crate::config::LazyClient;

/// Invokes the trigger asynchronously (`InvocationType::Event`): the API
/// answers 202 while the trigger submits the run.
#[derive(Clone)]
pub struct LambdaTriggerInvoker {
    client: LazyClient<Client>,
    function_name: String,
}

impl LambdaTriggerInvoker {
    /// `client`: a client, or one built on first use.
    pub fn new(client: impl Into<LazyClient<Client>>, function_name: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            function_name: function_name.into(),
        }
    }
}

#[async_trait]
impl TriggerInvoker for LambdaTriggerInvoker {
    async fn invoke(&self, event: &TriggerEvent) -> Result<(), BoxError> {
        let out = self
            .client
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(serde_json::to_vec(event)?))
            .send()
            .await?;
        if let Some(error) = out.function_error {
            return Err(format!("the trigger failed: {error}").into());
        }
        Ok(())
    }
}

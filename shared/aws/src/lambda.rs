//! Hands manual runs to the trigger function through Lambda's Invoke API,
//! and asks a function for an answer ([`call`]).

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_domain::model::trigger_event::TriggerEvent;
use sluice_domain::ports::{BoxError, TriggerInvoker};

use crate::config::LazyClient;

/// Why [`call`] has no answer; each is logged where it happens. The
/// caller's own error takes [`CallFailure::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallFailure {
    NotInvoked,
    FunctionFailed,
    Unparsable,
}

impl CallFailure {
    /// `function`: how the caller names the function ("the trigger").
    pub(crate) fn reason(self, function: &str) -> String {
        match self {
            Self::NotInvoked => format!("{function} could not be invoked"),
            Self::FunctionFailed => format!("{function} failed"),
            Self::Unparsable => format!("{function} answered something else"),
        }
    }
}

/// Invokes `function_name` with `request` as JSON and waits for its JSON
/// answer (`InvocationType::RequestResponse`). `function` names it in logs.
pub(crate) async fn call<Q: Serialize, A: DeserializeOwned>(
    client: &Client,
    function_name: &str,
    function: &str,
    request: &Q,
) -> Result<A, CallFailure> {
    let payload = serde_json::to_vec(request).expect("requests serialize");
    let out = client
        .invoke()
        .function_name(function_name)
        .invocation_type(InvocationType::RequestResponse)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| {
            tracing::error!(error = %aws_sdk_lambda::error::DisplayErrorContext(&e), "could not invoke {function}");
            CallFailure::NotInvoked
        })?;
    if let Some(error) = out.function_error {
        tracing::error!(%error, "{function} failed");
        return Err(CallFailure::FunctionFailed);
    }
    let body = out.payload.map(Blob::into_inner).unwrap_or_default();
    serde_json::from_slice(&body).map_err(|e| {
        tracing::error!(error = %e, "the answer of {function} does not parse");
        CallFailure::Unparsable
    })
}

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

//! The HTTP client both Flink adapters (session and gateway) are built on,
//! and what they share of talking to Flink's REST endpoints: bounded
//! answers and the faults of an exchange.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use sluice_domain::ports::FlinkError;

use crate::flink_errors::{self, parse_errors};

/// Answers are read up to this size: Flink's error answers (stack traces)
/// are tens of KiB, its job details a few KiB per vertex.
const MAX_ANSWER: usize = 1 << 20;

/// Connecting is bounded by this even when the request timeout is longer.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client for Flink's REST endpoints with `request_timeout` per request.
/// Redirects are not followed: a redirect would resend the script
/// elsewhere, and Flink never redirects.
pub(crate) fn client(request_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(MAX_CONNECT_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sluice-flink/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Makes aws-lc-rs the process's rustls crypto provider. reqwest is built
/// without a provider of its own (its default would add ring, a second copy
/// of the crypto code the AWS SDK already links), so any process that builds
/// a `reqwest::Client` calls this first; building one without it panics
/// ("No provider set"). Idempotent.
pub fn install_crypto_provider() {
    // An error only says that a provider is installed already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// What went wrong talking to Flink, as the source of `Unreachable`. Never
/// carries a request body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpFault {
    #[error("{call}: no answer")]
    Transport {
        call: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{call}: HTTP {status}: {detail}")]
    Status {
        call: &'static str,
        status: StatusCode,
        detail: String,
    },
    #[error("{call}: unexpected answer: {detail}")]
    Unexpected { call: &'static str, detail: String },
}

impl From<HttpFault> for FlinkError {
    fn from(fault: HttpFault) -> Self {
        FlinkError::Unreachable(Box::new(fault))
    }
}

/// An answer, read (up to [`MAX_ANSWER`]).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The fault of an answer that is not what was asked for.
    pub(crate) fn fault(&self, call: &'static str) -> HttpFault {
        let detail = match parse_errors(&self.body) {
            Some(errors) => flink_errors::summary(&errors),
            None => "no Flink error body".to_owned(),
        };
        HttpFault::Status {
            call,
            status: self.status,
            detail,
        }
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(
        &self,
        call: &'static str,
    ) -> Result<T, HttpFault> {
        serde_json::from_slice(&self.body).map_err(|e| HttpFault::Unexpected {
            call,
            detail: e.to_string(),
        })
    }
}

/// Sends `request` and reads its answer; `call` names it in faults.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    call: &'static str,
) -> Result<Answer, HttpFault> {
    let transport = |source| HttpFault::Transport { call, source };
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let body = read_capped(response).await.map_err(transport)?;
    Ok(Answer { status, body })
}

/// Reads an answer's body, at most [`MAX_ANSWER`] bytes of it.
async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_ANSWER - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_ANSWER {
            break;
        }
    }
    Ok(body.into())
}

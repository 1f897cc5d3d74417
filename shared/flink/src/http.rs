//! The HTTP client both Flink adapters (session and gateway) are built on.

use std::time::Duration;

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

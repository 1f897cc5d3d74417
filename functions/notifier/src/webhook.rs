//! Webhooks: the notice as JSON (or Slack's `{"text"}`), POSTed to the job's URL with an
//! HMAC-SHA256 signature over the timestamp and the body (README, "Notifications"). The host is
//! resolved here and every address it resolves to is checked (never link-local or a metadata
//! service, never loopback but in `local-dev` builds); the request then goes to the checked
//! address, so a second lookup cannot lead elsewhere. Redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use sluice_domain::model::notification::{Notice, WebhookFormat, WebhookUrl, refused_address};
use sluice_domain::ports::{Clock, DeliveryError};

/// Unix seconds when the notice was sent: part of what is signed.
pub const TIMESTAMP_HEADER: &str = "x-sluice-timestamp";
/// `v1=<hex of HMAC-SHA256(signing secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "x-sluice-signature";
/// The run the notice is about, for receivers that drop repeats.
pub const RUN_HEADER: &str = "x-sluice-run-id";

/// The signature header's value for `body` sent at `timestamp`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body a webhook of `format` receives.
pub fn body(notice: &Notice, format: WebhookFormat) -> Vec<u8> {
    match format {
        WebhookFormat::Json => serde_json::to_vec(notice),
        WebhookFormat::Slack => serde_json::to_vec(&serde_json::json!({"text": notice.summary()})),
    }
    .expect("a notice serializes")
}

fn refused(message: impl Into<String>) -> DeliveryError {
    DeliveryError {
        message: message.into(),
        retryable: false,
    }
}

fn passing(message: impl Into<String>) -> DeliveryError {
    DeliveryError {
        message: message.into(),
        retryable: true,
    }
}

/// Posts notices to webhooks.
pub struct Webhooks {
    allow_loopback: bool,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl Webhooks {
    /// `allow_loopback`: the local stack's receivers listen on 127.0.0.1.
    pub fn new(allow_loopback: bool, timeout: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            allow_loopback,
            timeout,
            clock,
        }
    }

    /// One attempt. Errors name no URL, header or secret.
    pub async fn post(
        &self,
        url: &WebhookUrl,
        format: WebhookFormat,
        notice: &Notice,
        secret: Option<&SecretString>,
    ) -> Result<(), DeliveryError> {
        let secret = secret.ok_or_else(|| refused("the job has no signing secret"))?;
        let parsed = url::Url::parse(url.as_str()).map_err(|_| refused("not a URL"))?;
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| refused("no port"))?;
        let mut builder = sluice_flink::http::client_builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sluice-notifier/", env!("CARGO_PKG_VERSION")));
        match parsed.host() {
            Some(url::Host::Domain(name)) => {
                let address = self.resolve(name, port).await?;
                builder = builder.resolve(name, address);
            }
            Some(url::Host::Ipv4(ip)) => self.check(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check(IpAddr::V6(ip))?,
            None => return Err(refused("no host")),
        }
        let client = builder
            .build()
            .map_err(|_| passing("could not build an HTTP client"))?;
        let body = body(notice, format);
        let timestamp = self.clock.now().timestamp();
        let signed = signature(secret.expose_secret().as_bytes(), timestamp, &body);
        let answer = client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signed)
            .header(RUN_HEADER, notice.run_id.as_str())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    passing("the receiver did not answer in time")
                } else if e.is_connect() {
                    passing("could not connect to the receiver")
                } else {
                    passing("the request to the receiver failed")
                }
            })?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error()
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
        {
            Err(passing(format!(
                "the receiver answered {}",
                status.as_u16()
            )))
        } else {
            Err(refused(format!(
                "the receiver answered {}",
                status.as_u16()
            )))
        }
    }

    /// The first address `name` resolves to, when none of them is refused.
    async fn resolve(&self, name: &str, port: u16) -> Result<SocketAddr, DeliveryError> {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| passing("could not resolve the receiver's host"))?
            .collect();
        for address in &addresses {
            self.check(address.ip())?;
        }
        addresses
            .first()
            .copied()
            .ok_or_else(|| passing("the receiver's host has no address"))
    }

    fn check(&self, ip: IpAddr) -> Result<(), DeliveryError> {
        if let Some(reason) = refused_address(ip) {
            return Err(refused(format!("the receiver's address is {reason}")));
        }
        if ip.is_loopback() && !self.allow_loopback {
            return Err(refused("the receiver's address is a loopback address"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sluice_domain::fakes::FixedClock;
    use sluice_domain::model::notification::ChannelPolicy;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'key'
        assert_eq!(
            signature(b"key", 1_700_000_000, br#"{"a":1}"#),
            "v1=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
        );
    }

    fn webhooks(loopback: bool) -> Webhooks {
        let at = chrono::Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        Webhooks::new(loopback, Duration::from_secs(2), Arc::new(FixedClock(at)))
    }

    #[tokio::test]
    async fn hosts_that_resolve_to_refused_addresses_are_not_called() {
        let policy = ChannelPolicy {
            topic_arn_prefix: String::new(),
            allow_loopback_http: true,
        };
        // `localhost` passes the URL check in local builds; deployed, it resolves to loopback.
        let url = policy.webhook("http://localhost:9/hook").unwrap();
        let notice: Notice = serde_json::from_value(serde_json::json!({
            "kind": "failed", "tenant": "acme", "job_id": "job_01J0000000000000000000000A",
            "job_name": null, "run_id": "run_01J0000000000000000000000B", "state": "failed",
            "trigger": "schedule", "scheduled_time": "2026-05-01T08:00:00Z", "attempts": 1,
            "error": null, "rows_read": null, "rows_written": null,
            "time": "2026-05-01T08:00:00Z", "suppressed_failures": 0
        }))
        .unwrap();
        let secret = SecretString::from("0123456789abcdef");
        let error = webhooks(false)
            .post(&url, WebhookFormat::Json, &notice, Some(&secret))
            .await
            .unwrap_err();
        assert_eq!(
            error.message,
            "the receiver's address is a loopback address"
        );
        assert!(!error.retryable);
        assert!(
            webhooks(false)
                .check("169.254.169.254".parse().unwrap())
                .is_err()
        );
        assert!(webhooks(true).check("fe80::1".parse().unwrap()).is_err());
        assert!(webhooks(true).check("127.0.0.1".parse().unwrap()).is_ok());
        // Nothing listens on port 9: a connection failure may pass, so it is retried.
        let error = webhooks(true)
            .post(&url, WebhookFormat::Json, &notice, Some(&secret))
            .await
            .unwrap_err();
        assert!(error.retryable, "{error}");
        assert!(!error.message.contains("localhost"), "{error}");
    }
}

//! The HTTP client both Flink adapters (session and gateway) are built on,
//! the workspace's one constructor of HTTP clients ([`client_builder`]), and
//! what the adapters share of talking to Flink's REST endpoints: bounded
//! answers and the faults of an exchange.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
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
    client_builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(MAX_CONNECT_TIMEOUT))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sluice-flink/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The one way to build a `reqwest::Client` in this workspace (`clippy.toml`
/// forbids the others): a builder whose TLS is already configured.
///
/// reqwest is built without a crypto provider of its own (its default would
/// add ring, a second copy of the crypto code the AWS SDK already links), and
/// its own constructors panic ("No provider set") unless a process-wide
/// rustls provider was installed first. This builder hands reqwest a rustls
/// configuration made with aws-lc-rs explicitly, so nothing global is needed.
///
/// Server certificates are checked against the system's roots
/// (`rustls-native-certs`: `SSL_CERT_FILE`, else the platform's store),
/// loaded once per process on the first HTTPS handshake, not when the client
/// is built: a function's init does not pay for them, and a client that only
/// speaks plain HTTP (a session cluster inside the VPC) never loads them
/// (BENCHMARKS.md, "Cold start").
pub fn client_builder() -> reqwest::ClientBuilder {
    #[expect(
        clippy::disallowed_methods,
        reason = "this is the constructor clippy.toml points to"
    )]
    let builder = reqwest::Client::builder();
    builder.use_preconfigured_tls(tls_config())
}

/// rustls with aws-lc-rs, TLS 1.2 and 1.3, HTTP/1.1 (reqwest is built
/// without HTTP/2), server certificates checked by [`NativeRoots`].
fn tls_config() -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NativeRoots { provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// rustls' own WebPKI verifier over the system's roots, built on first use
/// (once per process, shared by every client). Every check is the WebPKI
/// verifier's; only the moment the roots are read and parsed moves.
#[derive(Debug)]
struct NativeRoots {
    provider: Arc<CryptoProvider>,
}

impl NativeRoots {
    fn verifier(&self) -> Result<&'static Arc<WebPkiServerVerifier>, rustls::Error> {
        static VERIFIER: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
        VERIFIER
            .get_or_init(|| {
                let loaded = rustls_native_certs::load_native_certs();
                let mut roots = RootCertStore::empty();
                let (valid, _) = roots.add_parsable_certificates(loaded.certs);
                tracing::debug!(roots = valid, errors = ?loaded.errors, "loaded the TLS roots");
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| {
                        format!("no usable TLS root certificates ({e}): {:?}", loaded.errors)
                    })
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl ServerCertVerifier for NativeRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
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

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use rustls::CertificateError;

    use super::*;

    /// The panic this constructor exists to prevent: building a client in a
    /// thread of its own, with no rustls provider installed anywhere in the
    /// process, gives a client that speaks TLS. The "server" only reads the
    /// first record the client sends (no certificate, no network).
    #[test]
    fn a_client_built_without_any_set_up_speaks_tls() {
        std::thread::spawn(|| {
            assert!(
                CryptoProvider::get_default().is_none(),
                "nothing in this crate installs a process-wide provider"
            );
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let server = std::thread::spawn(move || {
                let (mut stream, _) = listener.accept().unwrap();
                let mut header = [0u8; 5];
                stream.read_exact(&mut header).unwrap();
                header
            });

            let client = client_builder().build().expect("a client");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let answer = runtime.block_on(client.get(format!("https://127.0.0.1:{port}/")).send());

            let header = server.join().unwrap();
            assert_eq!(header[0], 0x16, "a TLS handshake record: {header:?}");
            assert_eq!(header[1], 0x03, "TLS: {header:?}");
            assert!(answer.is_err(), "the server hung up: {answer:?}");
            assert!(CryptoProvider::get_default().is_none());
        })
        .join()
        .unwrap();
    }

    /// Certificates are still checked, by rustls' WebPKI verifier over the
    /// system's roots: garbage and a certificate for another name are
    /// refused.
    #[test]
    fn server_certificates_are_checked_against_the_roots() {
        let verifier = NativeRoots {
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        };
        let name = ServerName::try_from("flink.example").unwrap();
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
        let e = verifier
            .verify_server_cert(&garbage, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert_eq!(
            e,
            rustls::Error::InvalidCertificate(CertificateError::BadEncoding)
        );

        // A root of the system's store is a CA, not a server certificate
        // for flink.example.
        if let Some(root) = rustls_native_certs::load_native_certs().certs.first() {
            let e = verifier
                .verify_server_cert(root, &[], &name, &[], UnixTime::now())
                .unwrap_err();
            assert!(matches!(e, rustls::Error::InvalidCertificate(_)), "{e:?}");
        }
    }
}

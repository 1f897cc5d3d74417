//! The Kafka probe, through rskafka (a pure-Rust client).
//!
//! A connection test walks the steps a Kafka client takes, each a check of
//! its own so a failure names its cause: `resolve` (the bootstrap servers'
//! names, code `dns`), `connect` (TCP to one of them, `refused` or
//! `timeout`), `tls` for the SSL protocols (`tls`), `authenticate` for the
//! SASL ones (`auth`), then `metadata` (the cluster answers a metadata
//! request). The first three are done here, so their failures are told
//! apart exactly; rskafka then connects to the bootstrap server that
//! answered, without retrying, and does the SASL exchange and the metadata
//! request.
//!
//! A topic has no schema: `describe` says whether it exists (`None` when it
//! does not, which is how a job's missing topic shows), with no columns; a
//! job declares its columns and format. Internal topics (flagged internal by
//! the broker, or named `__...` as Kafka names its own) are never listed.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rskafka::BackoffConfig;
use rskafka::client::{Client, ClientBuilder, Credentials, SaslConfig};
use secrecy::ExposeSecret;
use sluice_domain::model::discovery::{
    Check, CheckCode, ConnectionReport, ObjectDescription, ObjectKind, ObjectPage, ObjectQuery,
    ObjectRef,
};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::TIME_BOUND;
use crate::listing::page_of;

/// One TCP connection attempt may take this much of the time bound, so a
/// second bootstrap server still gets its turn.
const CONNECT_ATTEMPT: Duration = Duration::from_secs(3);

pub async fn test(source: &Source, secrets: &Secrets) -> ConnectionReport {
    let started = Instant::now();
    let deadline = started + TIME_BOUND;
    let checks = match Settings::read(source, secrets) {
        Err(check) => vec![check],
        Ok(settings) => match open(&settings, deadline).await {
            Err(checks) => checks,
            Ok(mut session) => {
                let check = match timeout_at(deadline, session.client.list_topics()).await {
                    Ok(Ok(topics)) => Check::passed(
                        "metadata",
                        format!(
                            "the cluster answered a metadata request ({} topics)",
                            topics.iter().filter(|t| !is_internal(&t.name)).count()
                        ),
                    ),
                    Ok(Err(e)) => Check::failed(
                        "metadata",
                        CheckCode::Refused,
                        settings.redact(format!("the metadata request failed: {e}")),
                    ),
                    Err(_) => timed_out("metadata"),
                };
                session.checks.push(check);
                session.checks
            }
        },
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    ConnectionReport::new(latency_ms, None, checks)
}

pub async fn list(
    source: &Source,
    secrets: &Secrets,
    query: &ObjectQuery,
) -> Result<ObjectPage, DiscoveryError> {
    let (names, _) = topics(source, secrets).await?;
    let topics = names
        .into_iter()
        .map(|name| ObjectRef {
            name,
            kind: ObjectKind::Topic,
        })
        .collect();
    Ok(page_of(topics, query))
}

pub async fn describe(
    source: &Source,
    secrets: &Secrets,
    name: &str,
) -> Result<Option<ObjectDescription>, DiscoveryError> {
    sluice_flinksql::ident::check_topic("name", name).map_err(|e| DiscoveryError::Invalid {
        field: "name",
        reason: e.reason,
    })?;
    let (names, _) = topics(source, secrets).await?;
    Ok(names
        .iter()
        .any(|topic| topic == name)
        .then(|| ObjectDescription {
            name: name.to_owned(),
            kind: ObjectKind::Topic,
            columns: Vec::new(),
            primary_key: Vec::new(),
        }))
}

/// The cluster's topics but the internal ones, and the checks that got
/// there.
async fn topics(
    source: &Source,
    secrets: &Secrets,
) -> Result<(Vec<String>, Vec<Check>), DiscoveryError> {
    let deadline = Instant::now() + TIME_BOUND;
    let settings = Settings::read(source, secrets).map_err(DiscoveryError::Unreachable)?;
    let session = open(&settings, deadline).await.map_err(|checks| {
        DiscoveryError::Unreachable(checks.into_iter().find(|c| !c.ok).unwrap_or_else(|| {
            Check::failed("connect", CheckCode::Refused, "the cluster was not reached")
        }))
    })?;
    let topics = match timeout_at(deadline, session.client.list_topics()).await {
        Ok(Ok(topics)) => topics,
        Ok(Err(e)) => {
            return Err(DiscoveryError::Unreachable(Check::failed(
                "metadata",
                CheckCode::Refused,
                settings.redact(format!("the metadata request failed: {e}")),
            )));
        }
        Err(_) => return Err(DiscoveryError::Unreachable(timed_out("metadata"))),
    };
    let names = topics
        .into_iter()
        .map(|t| t.name)
        .filter(|name| !is_internal(name))
        .collect();
    Ok((names, session.checks))
}

/// Kafka's own topics (`__consumer_offsets`, `__transaction_state`,
/// `__share_group_state`, ...). Those the broker flags internal never reach
/// here: rskafka leaves them out.
fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
}

/// A connected client and the checks that passed on the way.
struct Session {
    client: Client,
    checks: Vec<Check>,
}

/// What the source's settings say about reaching it.
struct Settings {
    servers: Vec<Server>,
    tls: bool,
    sasl: Option<Sasl>,
}

struct Server {
    host: String,
    port: u16,
}

impl Server {
    /// `host:port` as rskafka (and tokio) take it: an IPv6 literal in brackets.
    fn address(&self) -> String {
        if self.host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

struct Sasl {
    mechanism: String,
    username: String,
    password: secrecy::SecretString,
}

impl Settings {
    fn read(source: &Source, secrets: &Secrets) -> Result<Self, Check> {
        let text = |name: &str| source.config.get(name).and_then(|v| v.as_str());
        let list = text("bootstrap_servers").unwrap_or_default();
        let mut servers = Vec::new();
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let parsed = pair.rsplit_once(':').and_then(|(host, port)| {
                let host = host.trim_start_matches('[').trim_end_matches(']');
                Some(Server {
                    host: host.to_owned(),
                    port: port.parse().ok()?,
                })
            });
            match parsed {
                Some(server) if !server.host.is_empty() => servers.push(server),
                _ => {
                    return Err(Check::failed(
                        "resolve",
                        CheckCode::Dns,
                        format!("{pair:?} is not a host:port pair"),
                    ));
                }
            }
        }
        if servers.is_empty() {
            return Err(Check::failed(
                "resolve",
                CheckCode::Dns,
                "no bootstrap server is set",
            ));
        }
        let protocol = text("security_protocol").unwrap_or("PLAINTEXT");
        let sasl = match protocol {
            "SASL_PLAINTEXT" | "SASL_SSL" => {
                let username = text("sasl_username");
                let password = secrets.get("sasl_password");
                match (username, password) {
                    (Some(username), Some(password)) => Some(Sasl {
                        mechanism: text("sasl_mechanism").unwrap_or("PLAIN").to_owned(),
                        username: username.to_owned(),
                        password: password.clone(),
                    }),
                    _ => {
                        return Err(Check::failed(
                            "authenticate",
                            CheckCode::Auth,
                            format!(
                                "security_protocol {protocol} needs sasl_username and sasl_password"
                            ),
                        ));
                    }
                }
            }
            _ => None,
        };
        Ok(Self {
            servers,
            tls: matches!(protocol, "SSL" | "SASL_SSL"),
            sasl,
        })
    }

    /// `text` without the SASL password, should a library ever quote it.
    fn redact(&self, text: String) -> String {
        match &self.sasl {
            Some(sasl) if !sasl.password.expose_secret().is_empty() => {
                text.replace(sasl.password.expose_secret(), "******")
            }
            _ => text,
        }
    }

    fn sasl_config(&self) -> Option<SaslConfig> {
        let sasl = self.sasl.as_ref()?;
        let credentials = Credentials::new(
            sasl.username.clone(),
            sasl.password.expose_secret().to_owned(),
        );
        Some(match sasl.mechanism.as_str() {
            "SCRAM-SHA-256" => SaslConfig::ScramSha256(credentials),
            "SCRAM-SHA-512" => SaslConfig::ScramSha512(credentials),
            _ => SaslConfig::Plain(credentials),
        })
    }
}

/// Resolves, connects, shakes hands and authenticates: the checks that
/// passed and a client, or every check up to the one that failed.
async fn open(settings: &Settings, deadline: Instant) -> Result<Session, Vec<Check>> {
    let mut checks = Vec::new();
    match steps(settings, deadline, &mut checks).await {
        Some(client) => Ok(Session { client, checks }),
        None => Err(checks),
    }
}

async fn steps(settings: &Settings, deadline: Instant, checks: &mut Vec<Check>) -> Option<Client> {
    let resolved = record(checks, resolve(&settings.servers, deadline).await)?;
    let (server, stream) = record(checks, connect(resolved, deadline).await)?;
    let tls = if settings.tls {
        let config = match tls_config() {
            Ok(config) => config,
            Err(e) => {
                checks.push(Check::failed("tls", CheckCode::Tls, e));
                return None;
            }
        };
        record(
            checks,
            handshake(server, stream, config.clone(), deadline).await,
        )?;
        Some(config)
    } else {
        None
    };
    record(checks, kafka_client(settings, server, tls, deadline).await)
}

/// Keeps a step's check; its value when it passed.
fn record<T>(checks: &mut Vec<Check>, step: Result<(T, Check), Check>) -> Option<T> {
    match step {
        Ok((value, check)) => {
            checks.push(check);
            Some(value)
        }
        Err(check) => {
            checks.push(check);
            None
        }
    }
}

async fn resolve(
    servers: &[Server],
    deadline: Instant,
) -> Result<(Vec<(&Server, Vec<SocketAddr>)>, Check), Check> {
    let mut resolved = Vec::new();
    let mut failures = Vec::new();
    for server in servers {
        match timeout_at(
            deadline,
            tokio::net::lookup_host((server.host.as_str(), server.port)),
        )
        .await
        {
            Ok(Ok(addresses)) => resolved.push((server, addresses.collect::<Vec<_>>())),
            Ok(Err(e)) => failures.push(format!("{}: {e}", server.host)),
            Err(_) => return Err(timed_out("resolve")),
        }
    }
    resolved.retain(|(_, addresses)| !addresses.is_empty());
    if resolved.is_empty() {
        return Err(Check::failed(
            "resolve",
            CheckCode::Dns,
            format!("no bootstrap server resolves ({})", failures.join("; ")),
        ));
    }
    let message = format!(
        "{} of {} bootstrap servers resolve",
        resolved.len(),
        servers.len()
    );
    Ok((resolved, Check::passed("resolve", message)))
}

/// A TCP connection to the first bootstrap server that takes one.
async fn connect(
    resolved: Vec<(&Server, Vec<SocketAddr>)>,
    deadline: Instant,
) -> Result<((&Server, TcpStream), Check), Check> {
    let mut failures = Vec::new();
    let mut timed_out_once = false;
    for (server, addresses) in resolved {
        for address in addresses {
            let attempt_end = deadline.min(Instant::now() + CONNECT_ATTEMPT);
            match timeout_at(attempt_end, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    let message = format!("connected to {}", server.address());
                    return Ok(((server, stream), Check::passed("connect", message)));
                }
                Ok(Err(e)) => {
                    timed_out_once |= e.kind() == std::io::ErrorKind::TimedOut;
                    failures.push(format!("{address}: {e}"));
                }
                Err(_) => {
                    timed_out_once = true;
                    failures.push(format!("{address}: no answer"));
                }
            }
            if Instant::now() >= deadline {
                return Err(timed_out("connect"));
            }
        }
    }
    let code = if timed_out_once {
        CheckCode::Timeout
    } else {
        CheckCode::Refused
    };
    Err(Check::failed(
        "connect",
        code,
        format!(
            "no bootstrap server accepts a connection ({})",
            failures.join("; ")
        ),
    ))
}

/// The TLS handshake alone, so that its failure is told apart from the
/// Kafka exchange that follows.
async fn handshake(
    server: &Server,
    stream: TcpStream,
    config: Arc<rustls::ClientConfig>,
    deadline: Instant,
) -> Result<((), Check), Check> {
    let name = rustls::pki_types::ServerName::try_from(server.host.clone()).map_err(|_| {
        Check::failed(
            "tls",
            CheckCode::Tls,
            format!("{:?} cannot be a TLS server name", server.host),
        )
    })?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match timeout_at(deadline, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => {
            let version = tls
                .get_ref()
                .1
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or("TLS");
            Ok((
                (),
                Check::passed("tls", format!("{version} with {}", server.address())),
            ))
        }
        Ok(Err(e)) => Err(Check::failed(
            "tls",
            CheckCode::Tls,
            format!("the TLS handshake with {} failed: {e}", server.address()),
        )),
        Err(_) => Err(timed_out("tls")),
    }
}

/// rskafka's client on the bootstrap server that answered: ApiVersions,
/// the SASL exchange, a metadata request; one attempt, no retries.
async fn kafka_client(
    settings: &Settings,
    server: &Server,
    tls: Option<Arc<rustls::ClientConfig>>,
    deadline: Instant,
) -> Result<(Client, Check), Check> {
    let mut builder = ClientBuilder::new(vec![server.address()])
        .client_id("sluice-probe")
        // A zero deadline: the first failure ends the attempt (rskafka
        // retries until its deadline; `base` must be above 1).
        .backoff_config(BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(200),
            base: 2.0,
            deadline: Some(Duration::ZERO),
        });
    if let Some(config) = tls {
        builder = builder.tls_config(config);
    }
    if let Some(sasl) = settings.sasl_config() {
        builder = builder.sasl_config(sasl);
    }
    let step = if settings.sasl.is_some() {
        "authenticate"
    } else {
        "handshake"
    };
    match timeout_at(deadline, builder.build()).await {
        Ok(Ok(client)) => {
            let message = match &settings.sasl {
                Some(sasl) => format!("SASL {} as {:?}", sasl.mechanism, sasl.username),
                None => format!("the broker at {} speaks Kafka", server.address()),
            };
            Ok((client, Check::passed(step, message)))
        }
        Ok(Err(e)) => Err(classify(settings, server, &settings.redact(e.to_string()))),
        Err(_) => Err(timed_out(step)),
    }
}

/// rskafka's error, read for its cause. Its errors keep the broker's
/// failures in text only (a list of each bootstrap server's error), so the
/// cause is read from that text; the tests against the local broker pin it.
fn classify(settings: &Settings, server: &Server, error: &str) -> Check {
    let address = server.address();
    // "Connection error: all retries failed: ... Source: <the broker's failure>"
    let cause = error
        .rsplit_once("Source: ")
        .map_or(error, |(_, cause)| cause);
    let cause = cause
        .rsplit_once(&format!("\"{address}\": "))
        .map_or(cause, |(_, cause)| cause);
    match &settings.sasl {
        Some(sasl) if error.contains("Sasl handshake failed") => Check::failed(
            "authenticate",
            CheckCode::Auth,
            format!(
                "the broker refused SASL {} as {:?} ({cause})",
                sasl.mechanism, sasl.username
            ),
        ),
        // A TLS listener closes the connection on the first plaintext
        // request (ApiVersions, "cannot sync versions").
        None if !settings.tls && error.contains("cannot sync versions") => Check::failed(
            "handshake",
            CheckCode::Tls,
            format!(
                "the broker at {address} did not answer a plaintext Kafka request: \
                 it may need TLS (security_protocol SSL or SASL_SSL) ({cause})"
            ),
        ),
        // A SASL listener answers ApiVersions, then closes the connection on
        // any request before authentication.
        None => Check::failed(
            "handshake",
            CheckCode::Auth,
            format!(
                "the broker at {address} did not answer as an open Kafka listener: \
                 it may need SASL (security_protocol SASL_PLAINTEXT or SASL_SSL) ({cause})"
            ),
        ),
        Some(_) => Check::failed(
            "authenticate",
            CheckCode::Refused,
            format!("the broker at {address} did not complete the exchange ({cause})"),
        ),
    }
}

fn timed_out(step: &str) -> Check {
    Check::failed(
        step,
        CheckCode::Timeout,
        format!("no answer within {} s", TIME_BOUND.as_secs()),
    )
}

/// rustls with aws-lc-rs (the crypto the AWS SDK links), TLS 1.2 and 1.3,
/// server certificates checked against the system's roots, built once.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            let (valid, _) = roots.add_parsable_certificates(loaded.certs);
            if valid == 0 {
                return Err("no TLS root certificates are installed".to_owned());
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
                })
                .map_err(|e| format!("TLS is not available: {e}"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka_source(config: serde_json::Map<String, serde_json::Value>) -> Source {
        let now = chrono::Utc::now();
        Source {
            id: sluice_domain::SourceId::generate(),
            tenant: sluice_domain::TenantId::parse("t").unwrap(),
            name: "kafka".into(),
            kind: sluice_domain::SourceKind::Kafka,
            config,
            secret_fields: Vec::new(),
            sealed_secrets: None,
            secrets_updated_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn settings(protocol: &str, password: Option<&str>) -> Result<Settings, Check> {
        let mut config = serde_json::Map::new();
        config.insert("bootstrap_servers".into(), "b1:9092, [::1]:9093".into());
        config.insert("security_protocol".into(), protocol.into());
        if password.is_some() {
            config.insert("sasl_mechanism".into(), "SCRAM-SHA-512".into());
            config.insert("sasl_username".into(), "app".into());
        }
        let mut secrets = Secrets::new();
        if let Some(password) = password {
            secrets.insert("sasl_password", password.to_owned().into());
        }
        Settings::read(&kafka_source(config), &secrets)
    }

    #[test]
    fn settings_name_servers_protocol_and_sasl() {
        let plain = settings("PLAINTEXT", None).unwrap();
        let addresses: Vec<String> = plain.servers.iter().map(Server::address).collect();
        assert_eq!(addresses, ["b1:9092", "[::1]:9093"]);
        assert!(!plain.tls && plain.sasl.is_none());

        let sasl = settings("SASL_SSL", Some("pw-canary")).unwrap();
        assert!(sasl.tls);
        assert!(matches!(
            sasl.sasl_config(),
            Some(SaslConfig::ScramSha512(_))
        ));
        assert_eq!(
            sasl.redact("user app with pw-canary".to_owned()),
            "user app with ******"
        );

        let missing = settings("SASL_PLAINTEXT", None).err().unwrap();
        assert_eq!(missing.code, Some(CheckCode::Auth));
    }
}

//! What the PostgreSQL and MySQL probes share: their settings, the time
//! bound, the name resolution step, how a failure becomes a check (from its
//! kind and code only: a driver's message may hold the connection's
//! settings, so none is ever displayed or logged), and object names written
//! as a job's `source.object` takes them.

use std::io;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use sluice_domain::model::discovery::{Check, CheckCode};
use sluice_domain::ports::DiscoveryError;
use sluice_domain::{Secrets, Source};
use sluice_flinksql::ident::jdbc_table_parts;

use crate::TIME_BOUND;

/// The settings of a postgres or mysql source, as the catalog keeps them
/// (defaults applied when it was registered). The password stays in the
/// caller's [`Secrets`] (a `SecretString`, zeroized when dropped).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub ssl_mode: String,
}

impl Settings {
    pub fn read(source: &Source, default_port: u16, default_ssl: &str) -> Result<Self, Check> {
        let config = &source.config;
        let text = |key: &str| config_str(config, key).map(str::to_owned);
        let missing = |key: &str| {
            Check::failed(
                "settings",
                CheckCode::Refused,
                format!("the source's config lacks {key}"),
            )
        };
        let port = match config.get("port") {
            None => default_port,
            Some(v) => v
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| missing("port"))?,
        };
        Ok(Self {
            host: text("host").ok_or_else(|| missing("host"))?,
            port,
            database: text("database").ok_or_else(|| missing("database"))?,
            username: text("username").ok_or_else(|| missing("username"))?,
            ssl_mode: text("ssl_mode").unwrap_or_else(|| default_ssl.to_owned()),
        })
    }

    /// `host:port`, with an IPv6 literal in brackets: for messages.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn config_str<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

/// The password, if the source has one, still secret.
pub(crate) fn password(secrets: &Secrets) -> Option<&SecretString> {
    secrets.get("password")
}

/// Exposes the password for the driver's connect options, and only there.
pub(crate) fn expose(password: Option<&SecretString>) -> &str {
    password.map(|p| p.expose_secret()).unwrap_or_default()
}

/// The end of one probe call's time: every step gets what is left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    start: Instant,
    end: Instant,
}

impl Deadline {
    pub fn start() -> Self {
        Self::within(TIME_BOUND)
    }

    /// A call given `bound` instead of [`TIME_BOUND`].
    pub fn within(bound: Duration) -> Self {
        let start = Instant::now();
        Self {
            start,
            end: start + bound,
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn remaining(&self) -> Duration {
        self.end.saturating_duration_since(Instant::now())
    }

    /// Runs `step` in the time left; `None` when the bound passed first.
    pub async fn run<F: std::future::Future>(&self, step: F) -> Option<F::Output> {
        tokio::time::timeout(self.remaining(), step).await.ok()
    }
}

/// The step that failed and why, as a check.
pub(crate) fn timeout(name: &str, what: &str) -> Check {
    Check::failed(
        name,
        CheckCode::Timeout,
        format!("no answer while {what} within {} s", TIME_BOUND.as_secs()),
    )
}

/// Resolves the host (an IP literal resolves to itself): a name that does
/// not resolve is `dns`, told apart from a closed port or a silent host.
pub(crate) async fn resolve(settings: &Settings, deadline: &Deadline) -> Result<(), Check> {
    let lookup = tokio::net::lookup_host((settings.host.as_str(), settings.port));
    match deadline.run(lookup).await {
        None => Err(timeout(
            "connect",
            &format!("resolving the host name {}", settings.host),
        )),
        Some(Err(_)) => Err(Check::failed(
            "connect",
            CheckCode::Dns,
            format!("the host name {} does not resolve", settings.host),
        )),
        Some(Ok(mut addresses)) => {
            if addresses.next().is_some() {
                Ok(())
            } else {
                Err(Check::failed(
                    "connect",
                    CheckCode::Dns,
                    format!("the host name {} has no address", settings.host),
                ))
            }
        }
    }
}

/// A connect that failed below the database protocol.
pub(crate) fn io_check(e: &io::Error, settings: &Settings) -> Check {
    let address = settings.address();
    let (code, message) = match e.kind() {
        io::ErrorKind::ConnectionRefused => (
            CheckCode::Refused,
            format!("nothing accepts connections on {address} (connection refused)"),
        ),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::BrokenPipe => (
            CheckCode::Refused,
            format!("{address} closed the connection"),
        ),
        io::ErrorKind::TimedOut => (
            CheckCode::Timeout,
            format!("no answer from {address} within {} s", TIME_BOUND.as_secs()),
        ),
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => (
            CheckCode::Refused,
            format!("{address} cannot be reached from here (no route)"),
        ),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::NotFound => (
            CheckCode::Dns,
            format!("the host name {} does not resolve", settings.host),
        ),
        _ => (
            CheckCode::Refused,
            format!("the connection to {address} failed ({:?})", e.kind()),
        ),
    };
    Check::failed("connect", code, message)
}

/// A query that failed on a connection that was open: a privilege the
/// user lacks, or the server failed it (`state`: its SQLSTATE or error
/// number, never its text).
pub(crate) fn query_failed(name: &str, state: Option<&str>, permission: bool) -> Check {
    let code = state.map(|s| format!(" ({s})")).unwrap_or_default();
    if permission {
        Check::failed(
            name,
            CheckCode::Permission,
            format!("the user may not read what the query needs{code}"),
        )
    } else {
        Check::failed(
            name,
            CheckCode::Refused,
            format!("the server failed the query{code}"),
        )
    }
}

/// A JDBC object name as a job's `source.object` takes it: parts joined
/// with `.`, a part in double quotes (a quote doubled) when it holds `.` or
/// `"` or starts or ends with a space (`jdbc_table_parts` reads it back).
pub(crate) fn object_name(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.contains(['.', '"']) || p.starts_with(' ') || p.ends_with(' ') || p.is_empty() {
                format!("\"{}\"", p.replace('"', "\"\""))
            } else {
                (*p).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// An object name split as the compiler splits it, or why it cannot be one.
pub(crate) fn object_parts(
    field: &'static str,
    name: &str,
    max_parts: usize,
) -> Result<Vec<String>, DiscoveryError> {
    match jdbc_table_parts(name) {
        Some(parts)
            if (1..=max_parts).contains(&parts.len()) && parts.iter().all(|p| !p.is_empty()) =>
        {
            Ok(parts)
        }
        _ => Err(DiscoveryError::Invalid {
            field,
            reason: if max_parts == 1 {
                "must be a table name; write a name that holds . or \" in double quotes, with \
                 \"\" for a quote"
                    .into()
            } else {
                "must be table or schema.table; write a part that holds . or \" in double \
                 quotes, with \"\" for a quote"
                    .into()
            },
        }),
    }
}

/// A page size as the query takes it: 1 to 1000.
pub(crate) fn page_size(limit: usize) -> i64 {
    limit.clamp(1, 1000) as i64
}

/// Connects with `options` within the deadline, or says which step failed
/// (`classify` names a driver error's check). The options hold a copy of
/// the password: they are dropped before anything else happens.
pub(crate) async fn connect<C: sqlx::Connection>(
    options: C::Options,
    settings: &Settings,
    deadline: &Deadline,
    classify: fn(&sqlx::Error, &Settings) -> Check,
) -> Result<C, Check> {
    let connected = deadline.run(C::connect_with(&options)).await;
    drop(options);
    match connected {
        None => Err(timeout(
            "connect",
            &format!("connecting to {}", settings.address()),
        )),
        Some(Err(e)) => Err(classify(&e, settings)),
        Some(Ok(conn)) => Ok(conn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_read_back_as_the_compiler_reads_them() {
        for parts in [
            vec!["public", "orders"],
            vec!["public", "v1.2"],
            vec!["my schema", "名称"],
            vec!["a\"b", "c"],
            vec![" lead", "trail "],
            vec!["order"],
            vec!["x.y"],
        ] {
            let name = object_name(&parts);
            let back = jdbc_table_parts(&name).expect(&name);
            assert_eq!(back, parts, "{name}");
        }
        assert_eq!(object_name(&["public", "orders"]), "public.orders");
        assert_eq!(object_name(&["public", "v1.2"]), "public.\"v1.2\"");
        assert_eq!(object_name(&["a\"b"]), "\"a\"\"b\"");
    }

    #[test]
    fn object_parts_take_one_or_two_parts() {
        assert_eq!(
            object_parts("name", "\"a.b\".\"c\"", 2).unwrap(),
            vec!["a.b".to_owned(), "c".to_owned()]
        );
        assert_eq!(object_parts("name", "t", 2).unwrap(), vec!["t".to_owned()]);
        for bad in ["a.b.c", "a\"b", "\"open", "a.", ""] {
            assert!(
                matches!(
                    object_parts("name", bad, 2),
                    Err(DiscoveryError::Invalid { field: "name", .. })
                ),
                "{bad}"
            );
        }
        assert!(object_parts("name", "a.b", 1).is_err());
        assert!(object_parts("name", "\"a.b\"", 1).is_ok());
    }

    #[test]
    fn io_failures_have_stable_codes() {
        let settings = Settings {
            host: "db.example".into(),
            port: 5432,
            database: "d".into(),
            username: "u".into(),
            ssl_mode: "prefer".into(),
        };
        for (kind, code) in [
            (io::ErrorKind::ConnectionRefused, CheckCode::Refused),
            (io::ErrorKind::ConnectionReset, CheckCode::Refused),
            (io::ErrorKind::TimedOut, CheckCode::Timeout),
            (io::ErrorKind::Other, CheckCode::Refused),
        ] {
            let check = io_check(&io::Error::new(kind, "secret-ish detail"), &settings);
            assert_eq!(check.code, Some(code));
            assert!(!check.message.contains("secret-ish"), "{}", check.message);
        }
    }
}

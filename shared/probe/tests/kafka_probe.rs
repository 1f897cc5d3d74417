//! The Kafka probe against the local stack's broker (infra/kafka: PLAINTEXT
//! on $SLUICE_KAFKA_BOOTSTRAP, SASL PLAIN on $SLUICE_KAFKA_SASL_BOOTSTRAP
//! with $SLUICE_KAFKA_SASL_USER / $SLUICE_KAFKA_SASL_PASSWORD, a canary in
//! `make test`). Ignored by default; infra/local/test.sh runs them with
//! `--ignored --test-threads=1`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::model::discovery::{CheckCode, ConnectionReport, ObjectKind, ObjectQuery};
use sluice_domain::ports::{DiscoveryError, SourceProbe};
use sluice_domain::{Secrets, Source, SourceId, SourceKind, TenantId};
use sluice_probe::{DirectProbe, TIME_BOUND};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn bootstrap() -> String {
    env("SLUICE_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
}

fn sasl_bootstrap() -> String {
    env("SLUICE_KAFKA_SASL_BOOTSTRAP", "127.0.0.1:19094")
}

fn sasl_password() -> String {
    env("SLUICE_KAFKA_SASL_PASSWORD", "sluice-local-kafka-pw")
}

fn kafka(config: Value) -> Source {
    let now = chrono::Utc::now();
    Source {
        id: SourceId::generate(),
        tenant: TenantId::parse("probe-tests").unwrap(),
        name: "kafka".into(),
        kind: SourceKind::Kafka,
        config: config.as_object().cloned().unwrap(),
        secret_fields: Vec::new(),
        sealed_secrets: None,
        secrets_updated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn plaintext(servers: &str) -> Source {
    kafka(json!({ "bootstrap_servers": servers, "security_protocol": "PLAINTEXT" }))
}

/// A SASL_PLAINTEXT source of the broker's SASL listener with `password`.
fn sasl(password: &str) -> (Source, Secrets) {
    let source = kafka(json!({
        "bootstrap_servers": sasl_bootstrap(),
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_username": env("SLUICE_KAFKA_SASL_USER", "sluice"),
    }));
    let mut secrets = Secrets::new();
    secrets.insert("sasl_password", SecretString::from(password.to_owned()));
    (source, secrets)
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Everything the probe logs, at every level, while `work` runs.
async fn captured<T>(work: impl std::future::Future<Output = T>) -> (T, String) {
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let value = work.await;
    drop(guard);
    let text = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    (value, text)
}

/// Creates topics with the broker's admin API (rskafka's controller client).
async fn create_topics(names: &[String]) {
    let client = rskafka::client::ClientBuilder::new(vec![bootstrap()])
        .build()
        .await
        .expect("the local broker answers (infra/kafka/start.sh)");
    let controller = client.controller_client().unwrap();
    for name in names {
        controller.create_topic(name, 1, 1, 5_000).await.unwrap();
    }
}

fn names(report: &ConnectionReport) -> Vec<&str> {
    report.checks.iter().map(|c| c.name.as_str()).collect()
}

fn within_bound(started: Instant) {
    let took = started.elapsed();
    assert!(took <= TIME_BOUND + Duration::from_secs(1), "took {took:?}");
}

#[tokio::test]
#[ignore = "needs the local stack's Kafka broker (infra/local/test.sh)"]
async fn a_plaintext_broker_passes_every_check() {
    let started = Instant::now();
    let report = DirectProbe
        .test(&plaintext(&bootstrap()), &Secrets::new())
        .await;
    within_bound(started);
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        names(&report),
        ["resolve", "connect", "handshake", "metadata"]
    );
}

#[tokio::test]
#[ignore = "needs the local stack's Kafka broker (infra/local/test.sh)"]
async fn topics_list_in_name_order_with_like_and_pages() {
    let run = unique("probe-list");
    let topics: Vec<String> = ["delta", "alpha", "x_1", "xa1", "charlie", "bravo"]
        .iter()
        .map(|t| format!("{run}.{t}"))
        .collect();
    create_topics(&topics).await;
    let source = plaintext(&bootstrap());
    let query = |like: &str, limit, after: Option<String>| ObjectQuery {
        schema: None,
        like: Some(like.to_owned()),
        limit,
        after,
    };

    // Two at a time, in name order, until no page follows.
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = DirectProbe
            .list(
                &source,
                &Secrets::new(),
                &query(&format!("{run}.%"), 2, after),
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        assert!(page.items.iter().all(|o| o.kind == ObjectKind::Topic));
        listed.extend(page.items.into_iter().map(|o| o.name));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = topics.clone();
    expected.sort();
    assert_eq!(listed, expected);

    // `_` is one character, `\_` a literal underscore.
    let one = |like: String| {
        let source = source.clone();
        async move {
            let page = DirectProbe
                .list(&source, &Secrets::new(), &query(&like, 100, None))
                .await
                .unwrap();
            page.items.into_iter().map(|o| o.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        one(format!("{run}.x_1")).await,
        [format!("{run}.x_1"), format!("{run}.xa1")]
    );
    assert_eq!(one(format!("{run}.x\\_1")).await, [format!("{run}.x_1")]);
    assert_eq!(one(format!("{run}.%ra%")).await, [format!("{run}.bravo")]);

    // Kafka's own topics are never listed.
    let everything = DirectProbe
        .list(
            &source,
            &Secrets::new(),
            &ObjectQuery {
                limit: 1000,
                ..ObjectQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(everything.items.iter().all(|o| !o.name.starts_with("__")));
    assert!(everything.items.iter().any(|o| o.name == topics[0]));
}

#[tokio::test]
#[ignore = "needs the local stack's Kafka broker (infra/local/test.sh)"]
async fn an_existing_topic_is_described_without_columns_and_a_missing_one_is_none() {
    let topic = unique("probe-describe");
    create_topics(std::slice::from_ref(&topic)).await;
    let source = plaintext(&bootstrap());

    let described = DirectProbe
        .describe(&source, &Secrets::new(), &topic)
        .await
        .unwrap()
        .expect("the topic exists");
    assert_eq!(described.name, topic);
    assert_eq!(described.kind, ObjectKind::Topic);
    assert!(described.columns.is_empty() && described.primary_key.is_empty());

    let missing = DirectProbe
        .describe(&source, &Secrets::new(), &format!("{topic}-missing"))
        .await
        .unwrap();
    assert_eq!(missing, None);

    let invalid = DirectProbe
        .describe(&source, &Secrets::new(), "not a topic!")
        .await;
    assert!(
        matches!(invalid, Err(DiscoveryError::Invalid { field: "name", .. })),
        "{invalid:?}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack's Kafka broker (infra/local/test.sh)"]
async fn unreachable_brokers_fail_with_their_code_within_the_time_bound() {
    // A port nothing listens on: bound, then released.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    // A port that accepts connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // A port that closes every connection at once, as a TLS listener does
    // on a plaintext request.
    let closing = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closing_port = closing.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = closing.accept().await {
            drop(stream);
        }
    });
    let cases = [
        (
            plaintext("no-such-broker.invalid:9092"),
            "resolve",
            CheckCode::Dns,
        ),
        (
            plaintext(&format!("127.0.0.1:{closed}")),
            "connect",
            CheckCode::Refused,
        ),
        (
            plaintext(&format!("127.0.0.1:{silent_port}")),
            "handshake",
            CheckCode::Timeout,
        ),
        // TLS spoken to the PLAINTEXT listener.
        (
            kafka(json!({ "bootstrap_servers": bootstrap(), "security_protocol": "SSL" })),
            "tls",
            CheckCode::Tls,
        ),
        (
            plaintext(&format!("127.0.0.1:{closing_port}")),
            "handshake",
            CheckCode::Tls,
        ),
        // No SASL spoken to the SASL listener.
        (plaintext(&sasl_bootstrap()), "handshake", CheckCode::Auth),
    ];
    for (source, step, code) in cases {
        let started = Instant::now();
        let report = DirectProbe.test(&source, &Secrets::new()).await;
        within_bound(started);
        assert!(!report.ok, "{report:#?}");
        let failed = report.checks.last().unwrap();
        assert_eq!(
            (failed.name.as_str(), failed.code),
            (step, Some(code)),
            "{report:#?}"
        );
        assert!(!failed.message.is_empty());
    }
    // The first bootstrap server that answers is enough.
    let report = DirectProbe
        .test(
            &plaintext(&format!("127.0.0.1:{closed},{}", bootstrap())),
            &Secrets::new(),
        )
        .await;
    assert!(report.ok, "{report:#?}");
    drop(silent);
}

#[tokio::test]
#[ignore = "needs the local stack's Kafka broker (infra/local/test.sh)"]
async fn sasl_credentials_pass_or_fail_as_auth_and_never_show() {
    let password = sasl_password();
    let (source, secrets) = sasl(&password);
    let started = Instant::now();
    let (report, logs) = captured(DirectProbe.test(&source, &secrets)).await;
    within_bound(started);
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        names(&report),
        ["resolve", "connect", "authenticate", "metadata"]
    );
    assert!(!format!("{report:?}").contains(&password));
    assert!(!logs.contains(&password), "the password is in the logs");

    let canary = format!("canary-wrong-{}", std::process::id());
    let (source, secrets) = sasl(&canary);
    let started = Instant::now();
    let (report, logs) = captured(DirectProbe.test(&source, &secrets)).await;
    within_bound(started);
    assert!(!report.ok, "{report:#?}");
    assert_eq!(report.first_failure(), Some(CheckCode::Auth), "{report:#?}");
    assert_eq!(report.checks.last().unwrap().name, "authenticate");
    let shown = format!("{report:?} {}", serde_json::to_string(&report).unwrap());
    assert!(
        !shown.contains(&canary),
        "the password is in the report: {shown}"
    );
    assert!(!logs.contains(&canary), "the password is in the logs");
    assert!(!logs.is_empty(), "the capture saw the client's logs");

    let (listed, logs) = captured(DirectProbe.list(
        &source,
        &secrets,
        &ObjectQuery {
            limit: 10,
            ..ObjectQuery::default()
        },
    ))
    .await;
    match listed {
        Err(DiscoveryError::Unreachable(check)) => {
            assert_eq!(check.code, Some(CheckCode::Auth));
            assert!(!check.message.contains(&canary));
        }
        other => panic!("expected an auth failure, got {other:?}"),
    }
    assert!(!logs.contains(&canary));
}

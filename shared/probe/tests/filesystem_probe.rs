//! The filesystem probe on a local directory tree (no stack needed) and on
//! S3 against the local stack's moto ($AWS_ENDPOINT_URL; ignored by
//! default, infra/local/test.sh runs them with `--ignored`).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::model::discovery::{CheckCode, ObjectKind, ObjectQuery};
use sluice_domain::ports::{DiscoveryError, SourceProbe};
use sluice_domain::{Secrets, Source, SourceId, SourceKind, TenantId};
use sluice_probe::{DirectProbe, TIME_BOUND};

fn files(config: Value) -> Source {
    let now = chrono::Utc::now();
    Source {
        id: SourceId::generate(),
        tenant: TenantId::parse("probe-tests").unwrap(),
        name: "files".into(),
        kind: SourceKind::Filesystem,
        config: config.as_object().cloned().unwrap(),
        secret_fields: Vec::new(),
        sealed_secrets: None,
        secrets_updated_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn at(path: &str) -> Source {
    files(json!({ "path": path }))
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn query(like: Option<&str>, limit: usize, after: Option<String>) -> ObjectQuery {
    ObjectQuery {
        schema: None,
        like: like.map(str::to_owned),
        limit,
        after,
    }
}

/// The source's objects, all on one page.
async fn listing(source: &Source) -> Vec<(String, ObjectKind)> {
    let page = DirectProbe
        .list(source, &Secrets::new(), &query(None, 100, None))
        .await
        .unwrap();
    assert_eq!(page.next_after, None);
    page.items.into_iter().map(|o| (o.name, o.kind)).collect()
}

fn objects(expected: &[(&str, ObjectKind)]) -> Vec<(String, ObjectKind)> {
    expected.iter().map(|(n, k)| (n.to_string(), *k)).collect()
}

fn every(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// What `name` is; a description never has columns.
async fn kind_of(source: &Source, name: &str) -> Option<ObjectKind> {
    let described = DirectProbe
        .describe(source, &Secrets::new(), name)
        .await
        .unwrap()?;
    assert_eq!(described.name, name);
    assert!(described.columns.is_empty() && described.primary_key.is_empty());
    Some(described.kind)
}

/// Every name, `limit` at a time.
async fn all_pages(
    source: &Source,
    secrets: &Secrets,
    like: Option<&str>,
    limit: usize,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = DirectProbe
            .list(source, secrets, &query(like, limit, after))
            .await
            .unwrap();
        assert!(page.items.len() <= limit);
        names.extend(page.items.into_iter().map(|o| o.name));
        match page.next_after {
            Some(next) => after = Some(next),
            None => return names,
        }
    }
}

/// A directory tree, removed when dropped.
struct Tree(PathBuf);

impl Tree {
    fn new() -> Self {
        let root = std::env::temp_dir().join(unique("sluice-probe"));
        for dir in ["données 2024", "sub dir", "empty"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "orders.csv",
            "naïve file.json",
            "a-b.csv",
            "_SUCCESS",
            "sub dir/inner.csv",
            "données 2024/jan.csv",
        ] {
            std::fs::write(root.join(file), "id\n1\n").unwrap();
        }
        Self(root)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_local_directory_is_listed_in_name_order() {
    let tree = Tree::new();
    let source = at(tree.path());

    let report = DirectProbe.test(&source, &Secrets::new()).await;
    assert!(report.ok, "{report:#?}");
    let checks: Vec<&str> = report.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(checks, ["path", "list"]);

    assert_eq!(
        listing(&source).await,
        objects(&[
            ("_SUCCESS", ObjectKind::File),
            ("a-b.csv", ObjectKind::File),
            ("données 2024/", ObjectKind::Prefix),
            ("empty/", ObjectKind::Prefix),
            ("naïve file.json", ObjectKind::File),
            ("orders.csv", ObjectKind::File),
            ("sub dir/", ObjectKind::Prefix),
        ])
    );

    assert_eq!(
        all_pages(&source, &Secrets::new(), None, 2).await,
        every(&[
            "_SUCCESS",
            "a-b.csv",
            "données 2024/",
            "empty/",
            "naïve file.json",
            "orders.csv",
            "sub dir/"
        ])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("%.csv"), 1).await,
        every(&["a-b.csv", "orders.csv"])
    );
    // A prefix matches without its closing slash; `_` is one character.
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("données ____"), 10).await,
        every(&["données 2024/"])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("\\_%"), 10).await,
        every(&["_SUCCESS"])
    );
}

#[tokio::test]
async fn local_objects_are_described_without_columns() {
    let tree = Tree::new();
    let source = at(tree.path());
    assert_eq!(kind_of(&source, "orders.csv").await, Some(ObjectKind::File));
    assert_eq!(
        kind_of(&source, "naïve file.json").await,
        Some(ObjectKind::File)
    );
    assert_eq!(
        kind_of(&source, "sub dir/inner.csv").await,
        Some(ObjectKind::File)
    );
    assert_eq!(
        kind_of(&source, "données 2024/").await,
        Some(ObjectKind::Prefix)
    );
    assert_eq!(
        kind_of(&source, "données 2024").await,
        Some(ObjectKind::Prefix)
    );
    assert_eq!(kind_of(&source, "missing.csv").await, None);
    assert_eq!(kind_of(&source, "orders.csv/").await, None);
    assert_eq!(kind_of(&source, "orders.csv/inner").await, None);
    for bad in ["../etc/passwd", "/etc/passwd", "a//b"] {
        let described = DirectProbe.describe(&source, &Secrets::new(), bad).await;
        assert!(
            matches!(
                described,
                Err(DiscoveryError::Invalid { field: "name", .. })
            ),
            "{bad}: {described:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_local_path_is_path_missing() {
    let tree = Tree::new();
    for path in [
        format!("{}/nowhere", tree.path()),
        format!("{}/orders.csv", tree.path()),
    ] {
        let source = at(&path);
        let report = DirectProbe.test(&source, &Secrets::new()).await;
        assert!(!report.ok);
        assert_eq!(
            report.first_failure(),
            Some(CheckCode::PathMissing),
            "{report:#?}"
        );
        let listed = DirectProbe
            .list(&source, &Secrets::new(), &query(None, 10, None))
            .await;
        assert!(
            matches!(&listed, Err(DiscoveryError::Unreachable(c)) if c.code == Some(CheckCode::PathMissing)),
            "{listed:?}"
        );
    }
    assert!(Path::new(tree.path()).is_dir());
}

// ---- S3, against moto ----

/// An S3 client of the local stack's moto (never AWS: the tests refuse to
/// run without AWS_ENDPOINT_URL).
async fn moto() -> aws_sdk_s3::Client {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| url.starts_with("http://127.0.0.1")),
        "the S3 tests run against the local stack's moto: source infra/local/env.sh"
    );
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// A bucket with objects under `data/`, and one beside it.
async fn bucket(client: &aws_sdk_s3::Client) -> String {
    let bucket = unique("probe").to_ascii_lowercase();
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    for key in [
        "data/orders.csv",
        "data/a-b.csv",
        "data/naïve file.json",
        "data/2024/jan.csv",
        "data/2024/feb.csv",
        "data/x/y/z.csv",
        "other.csv",
    ] {
        client
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"id\n1\n".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    bucket
}

#[tokio::test]
#[ignore = "needs the local stack's moto (infra/local/test.sh)"]
async fn an_s3_prefix_is_tested_listed_and_described() {
    let client = moto().await;
    let bucket = bucket(&client).await;
    let source = at(&format!("s3://{bucket}/data"));

    let started = Instant::now();
    let report = DirectProbe.test(&source, &Secrets::new()).await;
    assert!(started.elapsed() <= TIME_BOUND);
    assert!(report.ok, "{report:#?}");

    assert_eq!(
        listing(&source).await,
        objects(&[
            ("2024/", ObjectKind::Prefix),
            ("a-b.csv", ObjectKind::File),
            ("naïve file.json", ObjectKind::File),
            ("orders.csv", ObjectKind::File),
            ("x/", ObjectKind::Prefix),
        ])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), None, 1).await,
        every(&["2024/", "a-b.csv", "naïve file.json", "orders.csv", "x/"])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("%.csv"), 1).await,
        every(&["a-b.csv", "orders.csv"])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("20%"), 10).await,
        every(&["2024/"])
    );
    assert_eq!(
        all_pages(&source, &Secrets::new(), Some("na_ve%"), 10).await,
        every(&["naïve file.json"])
    );

    assert_eq!(kind_of(&source, "orders.csv").await, Some(ObjectKind::File));
    assert_eq!(
        kind_of(&source, "naïve file.json").await,
        Some(ObjectKind::File)
    );
    assert_eq!(
        kind_of(&source, "2024/jan.csv").await,
        Some(ObjectKind::File)
    );
    assert_eq!(kind_of(&source, "2024/").await, Some(ObjectKind::Prefix));
    assert_eq!(kind_of(&source, "2024").await, Some(ObjectKind::Prefix));
    assert_eq!(kind_of(&source, "x/y").await, Some(ObjectKind::Prefix));
    assert_eq!(kind_of(&source, "missing.csv").await, None);
    assert_eq!(
        kind_of(&source, "other.csv").await,
        None,
        "beside the prefix, not under it"
    );

    // The bucket's root lists what is at the top.
    assert_eq!(
        listing(&at(&format!("s3://{bucket}"))).await,
        objects(&[
            ("data/", ObjectKind::Prefix),
            ("other.csv", ObjectKind::File)
        ])
    );
}

#[tokio::test]
#[ignore = "needs the local stack's moto (infra/local/test.sh)"]
async fn a_missing_bucket_or_empty_prefix_is_path_missing() {
    let client = moto().await;
    let bucket = bucket(&client).await;
    for path in [
        format!("s3://{bucket}-missing/data"),
        format!("s3://{bucket}/nothing-here"),
        format!("s3://{bucket}/data/orders.csv"),
    ] {
        let source = at(&path);
        let report = DirectProbe.test(&source, &Secrets::new()).await;
        assert!(!report.ok, "{path}: {report:#?}");
        assert_eq!(
            report.first_failure(),
            Some(CheckCode::PathMissing),
            "{report:#?}"
        );
    }
    let listed = DirectProbe
        .list(
            &at(&format!("s3://{bucket}-missing")),
            &Secrets::new(),
            &query(None, 10, None),
        )
        .await;
    assert!(
        matches!(&listed, Err(DiscoveryError::Unreachable(c)) if c.code == Some(CheckCode::PathMissing)),
        "{listed:?}"
    );
}

#[tokio::test]
#[ignore = "needs the local stack's moto (infra/local/test.sh)"]
async fn explicit_credentials_are_used_and_never_shown() {
    let client = moto().await;
    let bucket = bucket(&client).await;
    let canary = format!("canary-s3-{}", std::process::id());
    let source = files(json!({
        "path": format!("s3://{bucket}/data"),
        "region": "us-east-1",
        "access_key_id": "AKIAPROBETEST",
    }));
    let mut secrets = Secrets::new();
    secrets.insert("secret_access_key", SecretString::from(canary.clone()));
    let report = DirectProbe.test(&source, &secrets).await;
    assert!(report.ok, "{report:#?}");
    let missing = files(json!({
        "path": format!("s3://{bucket}-missing/data"),
        "access_key_id": "AKIAPROBETEST",
    }));
    let failed = DirectProbe.test(&missing, &secrets).await;
    assert!(!failed.ok);
    for shown in [format!("{report:?}"), format!("{failed:?}")] {
        assert!(!shown.contains(&canary), "{shown}");
    }
}

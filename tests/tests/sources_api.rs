//! The sources API end to end: HTTP through `cargo lambda watch`, DynamoDB
//! and KMS on moto. Run with `make test`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sluice_tests::{Api, Table, canary, contains, fresh_tenant, function_log, item_bytes};

const STACK: &str = "needs the local stack: run `make test`";

fn postgres(password: &str) -> Value {
    json!({
        "name": "orders",
        "kind": "postgres",
        "config": {"host": "127.0.0.1", "port": 5432, "database": "shop", "username": "etl"},
        "secrets": {"password": password}
    })
}

fn mysql(password: &str) -> Value {
    json!({
        "name": "warehouse",
        "kind": "mysql",
        "config": {"host": "localhost", "database": "dw", "username": "loader", "flavor": "mariadb"},
        "secrets": {"password": password}
    })
}

async fn register(api: &Api, tenant: &str, body: &Value) -> Value {
    let reply = api.post("/sources", tenant, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn canary_secrets_appear_in_no_response_item_or_log() {
    let _ = STACK;
    let api = Api::new();
    let table = Table::connect().await;
    let tenant = fresh_tenant("canary");
    let first = canary("pw1");
    let second = canary("pw2");

    let created = api.post("/sources", &tenant, &postgres(&first)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let view = created.json();
    let id = view["id"].as_str().unwrap().to_owned();
    assert_eq!(view["secret_fields"], json!(["password"]));
    assert!(view["secrets_updated_at"].is_string());
    assert!(view.get("secrets").is_none());

    let got = api.get(&format!("/sources/{id}"), &tenant).await;
    let listed = api.get("/sources", &tenant).await;
    let updated = api
        .put(
            &format!("/sources/{id}"),
            &tenant,
            "\"1\"",
            &postgres(&second),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    // A rejected write whose body carries the canary must not echo it either.
    let mut bad = postgres(&second);
    bad["config"]["port"] = json!("not a port");
    let rejected = api.post("/sources", &tenant, &bad).await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    let mut typed_wrong = postgres(&first);
    typed_wrong["secrets"]["password"] = json!([first.clone()]);
    let rejected_type = api.post("/sources", &tenant, &typed_wrong).await;
    assert_eq!(rejected_type.status, StatusCode::BAD_REQUEST);

    for reply in [&created, &got, &listed, &updated, &rejected, &rejected_type] {
        for secret in [&first, &second] {
            assert!(
                !reply.text.contains(secret.as_str()),
                "response leaks: {}",
                reply.text
            );
        }
    }

    let items = table.scan().await;
    assert!(!items.is_empty());
    for item in &items {
        let bytes = item_bytes(item);
        for secret in [&first, &second] {
            assert!(
                !contains(&bytes, secret),
                "DynamoDB item leaks a secret: {item:?}"
            );
        }
    }
    let stored = table.tenant_items(&tenant).await;
    let sealed = stored[0]["sealed_secrets"]
        .as_m()
        .expect("a sealed_secrets map");
    for field in ["ciphertext", "nonce", "encrypted_data_key"] {
        assert!(sealed[field].as_b().is_ok(), "{field} is stored as binary");
    }
    assert_eq!(sealed["algorithm"].as_s().unwrap(), "AES_256_GCM");
    assert!(sealed["key_id"].as_s().unwrap().starts_with("arn:aws:kms:"));

    let log = function_log();
    assert!(
        log.lines()
            .any(|l| l.contains("source registered") && l.contains(&id)),
        "the function's log was captured"
    );
    for secret in [&first, &second] {
        assert!(
            !log.contains(secret.as_str()),
            "the function log leaks a secret"
        );
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn lifecycle_with_versions_and_secret_rotation() {
    let api = Api::new();
    let table = Table::connect().await;
    let tenant = fresh_tenant("life");
    let view = register(&api, &tenant, &mysql(&canary("m"))).await;
    let id = view["id"].as_str().unwrap();
    let path = format!("/sources/{id}");
    assert_eq!(view["config"]["port"], json!(3306));
    assert_eq!(view["version"], json!(1));

    let got = api.get(&path, &tenant).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.etag(), "\"1\"");
    let sealed_v1 = table.tenant_items(&tenant).await[0]["sealed_secrets"].clone();

    // Without If-Match: 428; with a stale one: 412; nothing changes.
    let mut renamed = mysql("unused");
    renamed.as_object_mut().unwrap().remove("secrets");
    renamed["name"] = json!("warehouse-eu");
    let no_precondition = api
        .send(
            Method::PUT,
            &path,
            Some(&tenant),
            &[],
            Some(&renamed.to_string()),
        )
        .await;
    assert_eq!(no_precondition.status, StatusCode::PRECONDITION_REQUIRED);
    let stale = api.put(&path, &tenant, "\"7\"", &renamed).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.content_type(), "application/problem+json");
    assert_eq!(
        api.get(&path, &tenant).await.json()["name"],
        json!("warehouse")
    );

    // Secrets absent on PUT: kept as they were.
    let v2 = api.put(&path, &tenant, &got.etag(), &renamed).await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text);
    assert_eq!(v2.etag(), "\"2\"");
    let v2 = v2.json();
    assert_eq!(v2["name"], json!("warehouse-eu"));
    assert_eq!(v2["secrets_updated_at"], view["secrets_updated_at"]);
    assert_eq!(
        table.tenant_items(&tenant).await[0]["sealed_secrets"],
        sealed_v1
    );

    // Secrets present: re-sealed under a fresh data key.
    let v3 = api
        .put(&path, &tenant, "\"2\"", &mysql(&canary("m2")))
        .await;
    assert_eq!(v3.status, StatusCode::OK, "{}", v3.text);
    let sealed_v3 = table.tenant_items(&tenant).await[0]["sealed_secrets"].clone();
    let (a, b) = (sealed_v1.as_m().unwrap(), sealed_v3.as_m().unwrap());
    assert_ne!(a["encrypted_data_key"], b["encrypted_data_key"]);
    assert_ne!(a["nonce"], b["nonce"]);
    assert_ne!(v3.json()["secrets_updated_at"], view["secrets_updated_at"]);

    // The kind cannot change.
    let as_pg = api.put(&path, &tenant, "\"3\"", &postgres("x")).await;
    assert_eq!(as_pg.status, StatusCode::BAD_REQUEST);
    assert_eq!(as_pg.json()["field"], json!("kind"));

    let stale_delete = api
        .send(
            Method::DELETE,
            &path,
            Some(&tenant),
            &[("if-match", "\"1\"")],
            None,
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        api.delete(&path, &tenant).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.get(&path, &tenant).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.delete(&path, &tenant).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(table.tenant_items(&tenant).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn every_kind_registers() {
    let api = Api::new();
    let tenant = fresh_tenant("kinds");
    let kafka = json!({"name": "events", "kind": "kafka", "config": {
        "bootstrap_servers": "127.0.0.1:9092,broker-2.internal:9093",
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "sync"}, "secrets": {"sasl_password": canary("k")}});
    let s3 = json!({"name": "lake", "kind": "filesystem", "config": {
        "path": "s3://data-lake/orders/", "region": "eu-west-1", "access_key_id": "AKIAEXAMPLE"},
        "secrets": {"secret_access_key": canary("s3")}});
    let local =
        json!({"name": "drop", "kind": "filesystem", "config": {"path": "/var/lib/sluice/in"}});
    for body in [postgres("p"), mysql("m"), kafka, s3, local] {
        let view = register(&api, &tenant, &body).await;
        assert_eq!(view["kind"], body["kind"]);
    }
    let listed = api.get("/sources", &tenant).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 5);
    let local = &listed["items"][4];
    assert_eq!(local["secret_fields"], json!([]));
    assert_eq!(local["secrets_updated_at"], Value::Null);
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn pagination_walks_every_source_once() {
    let api = Api::new();
    let tenant = fresh_tenant("pages");
    let mut expected = Vec::new();
    for _ in 0..5 {
        expected.push(
            register(&api, &tenant, &postgres("p")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    expected.sort();

    let mut seen = Vec::new();
    let mut path = "/sources?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = api.get(&path, &tenant).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let page = page.json();
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_token"].as_str() {
            Some(token) => {
                assert!(!token.contains("SOURCE#") && !token.contains("TENANT#"));
                path = format!("/sources?limit=2&next_token={token}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn other_tenants_get_404_and_change_nothing() {
    let api = Api::new();
    let table = Table::connect().await;
    let owner = fresh_tenant("owner");
    let intruder = fresh_tenant("intruder");
    for _ in 0..3 {
        register(&api, &owner, &postgres("p")).await;
    }
    let first = api.get("/sources?limit=1", &owner).await.json();
    let id = first["items"][0]["id"].as_str().unwrap().to_owned();
    let token = first["next_token"].as_str().unwrap().to_owned();
    let path = format!("/sources/{id}");
    let before = table.tenant_items(&owner).await;

    let get = api.get(&path, &intruder).await;
    let put = api.put(&path, &intruder, "*", &postgres("stolen")).await;
    let delete = api.delete(&path, &intruder).await;
    for reply in [&get, &put, &delete] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        assert_eq!(reply.content_type(), "application/problem+json");
    }
    let list = api.get("/sources", &intruder).await.json();
    assert_eq!(list["items"], json!([]));
    let reused = api
        .get(&format!("/sources?next_token={token}"), &intruder)
        .await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.json()["field"], json!("next_token"));

    assert_eq!(table.tenant_items(&owner).await, before);
    assert!(table.tenant_items(&intruder).await.is_empty());
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn bad_requests_get_problems_and_write_nothing() {
    let api = Api::new();
    let table = Table::connect().await;
    let tenant = fresh_tenant("bad");
    let existing = register(&api, &tenant, &postgres("p")).await;
    let id = existing["id"].as_str().unwrap().to_owned();
    let item = format!("/sources/{id}");
    let before = table.tenant_items(&tenant).await;

    let valid = postgres("p");
    let with = |pointer: &str, value: Value| {
        let mut body = valid.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[key] = value;
        body.to_string()
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    let without_config = |key: &str| {
        let mut body = valid.clone();
        body["config"].as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    let adding_config = |key: &str, value: Value| {
        let mut body = valid.clone();
        body["config"][key] = value;
        body.to_string()
    };
    let long_name = "n".repeat(101);
    let huge = format!(
        r#"{{"name": "{}", "kind": "postgres"}}"#,
        "x".repeat(70_000)
    );

    // (method, path, extra headers, body, status, field named)
    type Case<'a> = (
        Method,
        String,
        Vec<(&'a str, &'a str)>,
        Option<String>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some("{\"name\": ".into()),
            400,
            "body",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some("not json".into()),
            400,
            "body",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some("[1, 2]".into()),
            400,
            "body",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some("".into()),
            400,
            "body",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/name", json!(42))),
            400,
            "name",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/name", json!(long_name))),
            400,
            "name",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/name", json!("a\u{0007}b"))),
            400,
            "name",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(without("name")),
            400,
            "name",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(without("kind")),
            400,
            "kind",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/kind", json!("oracle"))),
            400,
            "kind",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/config", json!("host=db"))),
            400,
            "config",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/config/port", json!("5432"))),
            400,
            "config.port",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/config/port", json!(70000))),
            400,
            "config.port",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/config/host", json!("db;drop table"))),
            400,
            "config.host",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(without_config("host")),
            400,
            "config.host",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(adding_config("hostname", json!("x"))),
            400,
            "config.hostname",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(adding_config("password", json!("x"))),
            400,
            "config.password",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/secrets", json!({}))),
            400,
            "secrets.password",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/secrets/password", json!(12345))),
            400,
            "secrets.password",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/secrets/password", json!("x".repeat(1025)))),
            400,
            "secrets.password",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/secrets", json!({"password": "p", "token": "t"}))),
            400,
            "secrets.token",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(with("/config/database", json!("d".repeat(64)))),
            400,
            "config.database",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(huge),
            413,
            "body",
        ),
        (
            Method::POST,
            "/sources".into(),
            vec![],
            Some(r#"{"name":"a","kind":"postgres","extra":1}"#.into()),
            400,
            "extra",
        ),
        (
            Method::PUT,
            item.clone(),
            vec![("if-match", "\"1\"")],
            Some(with("/kind", json!("kafka"))),
            400,
            "kind",
        ),
        (
            Method::PUT,
            item.clone(),
            vec![],
            Some(valid.to_string()),
            428,
            "If-Match",
        ),
        (
            Method::PUT,
            item.clone(),
            vec![("if-match", "\"9\"")],
            Some(valid.to_string()),
            412,
            "If-Match",
        ),
        (
            Method::PUT,
            item.clone(),
            vec![("if-match", "version-one")],
            Some(valid.to_string()),
            400,
            "If-Match",
        ),
        (
            Method::PUT,
            item.clone(),
            vec![("if-match", "\"1\"")],
            Some(with("/config/ssl_mode", json!("sometimes"))),
            400,
            "config.ssl_mode",
        ),
        (
            Method::DELETE,
            item.clone(),
            vec![("if-match", "\"0\"")],
            None,
            400,
            "If-Match",
        ),
        (
            Method::GET,
            "/sources?limit=0".into(),
            vec![],
            None,
            400,
            "limit",
        ),
        (
            Method::GET,
            "/sources?limit=ten".into(),
            vec![],
            None,
            400,
            "limit",
        ),
        (
            Method::GET,
            "/sources?next_token=Zm9v".into(),
            vec![],
            None,
            400,
            "next_token",
        ),
        (
            Method::GET,
            "/sources?next_token=%%%".into(),
            vec![],
            None,
            400,
            "next_token",
        ),
        (
            Method::GET,
            "/sources?offset=10".into(),
            vec![],
            None,
            400,
            "offset",
        ),
    ];
    assert!(cases.len() >= 20);

    for (method, path, headers, body, status, field) in cases {
        let reply = api
            .send(
                method.clone(),
                &path,
                Some(&tenant),
                &headers,
                body.as_deref(),
            )
            .await;
        let context = format!(
            "{method} {path} {:?}",
            body.as_deref().map(|b| &b[..b.len().min(80)])
        );
        assert_eq!(reply.status.as_u16(), status, "{context}: {}", reply.text);
        assert_eq!(
            reply.content_type(),
            "application/problem+json",
            "{context}"
        );
        let problem = reply.json();
        assert_eq!(problem["status"], json!(status), "{context}");
        assert_eq!(problem["field"], json!(field), "{context}: {problem}");
        for key in ["type", "title", "detail", "message"] {
            assert!(problem[key].is_string(), "{context}: {key} missing");
        }
    }

    // Plain text where JSON is due, and a request without a tenant.
    let text = api
        .send(
            Method::POST,
            "/sources",
            Some(&tenant),
            &[("content-type", "text/plain")],
            None,
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let anonymous = api
        .send(
            Method::POST,
            "/sources",
            None,
            &[],
            Some(&valid.to_string()),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.content_type(), "application/problem+json");

    assert_eq!(
        table.tenant_items(&tenant).await,
        before,
        "a bad request changed the table"
    );
}

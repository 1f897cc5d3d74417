//! The jobs API end to end: jobs built over sources registered through the
//! HTTP API, the SQL preview, references that pin sources. Run with `make test`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sluice_tests::{Api, Table, canary, fresh_tenant, function_log};

fn postgres(password: &str) -> Value {
    json!({"name": "orders", "kind": "postgres",
        "config": {"host": "127.0.0.1", "database": "shop", "username": "etl"},
        "secrets": {"password": password}})
}

fn mariadb(password: &str) -> Value {
    json!({"name": "warehouse", "kind": "mysql",
        "config": {"host": "127.0.0.1", "database": "dw", "username": "loader", "flavor": "mariadb"},
        "secrets": {"password": password}})
}

fn job(source: &str, target: &str) -> Value {
    json!({
        "name": "orders to warehouse",
        "source": {
            "source_id": source,
            "object": "public.orders",
            "columns": [
                {"name": "id", "type": "BIGINT"},
                {"name": "customer", "type": "VARCHAR(100)"},
                {"name": "amount", "type": "DECIMAL(12,2)"},
                {"name": "updated_at", "type": "TIMESTAMP(3)"}
            ],
            "filter": "amount > 0 AND customer NOT LIKE 'test%'",
            "incremental": {"column": "updated_at", "start": "2026-01-01T00:00:00Z", "lag_seconds": 60}
        },
        "target": {"source_id": target, "object": "orders_copy", "write_mode": "upsert", "primary_key": ["id"]},
        "mapping": [
            {"target": "id", "expr": "id"},
            {"target": "customer", "expr": "UPPER(TRIM(customer))", "type": "VARCHAR(100)"},
            {"target": "amount", "expr": "CAST(amount * 100 AS BIGINT)"},
            {"target": "updated_at", "expr": "updated_at"}
        ],
        "options": {"mode": "batch", "parallelism": 2, "fetch_size": 1000, "flush_max_rows": 5000}
    })
}

struct Setup {
    api: Api,
    tenant: String,
    source: String,
    target: String,
    canaries: [String; 2],
}

async fn setup(label: &str) -> Setup {
    let api = Api::new();
    let tenant = fresh_tenant(label);
    let canaries = [canary("pg"), canary("maria")];
    let source = api.register_source(&tenant, postgres(&canaries[0])).await;
    let target = api.register_source(&tenant, mariadb(&canaries[1])).await;
    Setup {
        api,
        tenant,
        source,
        target,
        canaries,
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_job_is_built_previewed_updated_and_deleted() {
    let s = setup("jobs").await;
    let created = s
        .api
        .post("/jobs", &s.tenant, &job(&s.source, &s.target))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.etag(), "\"1\"");
    let view = created.json();
    let id = view["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("job_"));
    assert_eq!(view["target"]["primary_key"], json!(["id"]));
    let path = format!("/jobs/{id}");

    let preview = s.api.get(&format!("{path}/sql"), &s.tenant).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.content_type().starts_with("application/sql"));
    let sql = preview.text.clone();
    for expected in [
        "'execution.runtime-mode' = 'batch'",
        "CREATE TEMPORARY TABLE",
        "INSERT INTO",
        "'******'",
        "jdbc:postgresql://127.0.0.1:5432/shop",
        "PRIMARY KEY",
        "TIMESTAMP '2026-01-01 00:00:00",
    ] {
        assert!(sql.contains(expected), "preview lacks {expected}:\n{sql}");
    }
    for secret in &s.canaries {
        assert!(!sql.contains(secret.as_str()), "the preview leaks a secret");
    }

    let listed = s.api.get("/jobs", &s.tenant).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let mut changed = job(&s.source, &s.target);
    changed["options"]["parallelism"] = json!(4);
    let stale = s.api.put(&path, &s.tenant, "\"9\"", &changed).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let updated = s.api.put(&path, &s.tenant, "\"1\"", &changed).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.json()["options"]["parallelism"], json!(4));
    let sql = s.api.get(&format!("{path}/sql"), &s.tenant).await.text;
    assert!(sql.contains("'parallelism.default' = '4'"), "{sql}");

    assert_eq!(
        s.api.delete(&path, &s.tenant).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.api.get(&path, &s.tenant).await.status,
        StatusCode::NOT_FOUND
    );

    let log = function_log();
    assert!(
        log.lines()
            .any(|l| l.contains("job created") && l.contains(&id))
    );
    for secret in &s.canaries {
        assert!(
            !log.contains(secret.as_str()),
            "the function log leaks a secret"
        );
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_source_used_by_a_job_cannot_be_deleted() {
    let s = setup("inuse").await;
    let created = s
        .api
        .post("/jobs", &s.tenant, &job(&s.source, &s.target))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let job_id = created.json()["id"].as_str().unwrap().to_owned();

    for source in [&s.source, &s.target] {
        let refused = s.api.delete(&format!("/sources/{source}"), &s.tenant).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert_eq!(refused.content_type(), "application/problem+json");
        assert_eq!(
            s.api
                .get(&format!("/sources/{source}"), &s.tenant)
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        s.api
            .delete(&format!("/jobs/{job_id}"), &s.tenant)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for source in [&s.source, &s.target] {
        let deleted = s.api.delete(&format!("/sources/{source}"), &s.tenant).await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    }
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn jobs_only_reach_sources_of_their_tenant() {
    let s = setup("jobowner").await;
    let intruder = fresh_tenant("jobintruder");
    let mine = s.api.register_source(&intruder, postgres("p")).await;

    let foreign = s.api.post("/jobs", &intruder, &job(&mine, &s.target)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);
    assert_eq!(foreign.json()["field"], json!("target.source_id"));

    let created = s
        .api
        .post("/jobs", &s.tenant, &job(&s.source, &s.target))
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        (Method::GET, format!("/jobs/{id}")),
        (Method::GET, format!("/jobs/{id}/sql")),
        (Method::DELETE, format!("/jobs/{id}")),
    ] {
        let reply = s.api.send(method, &path, Some(&intruder), &[], None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let put = s
        .api
        .put(&format!("/jobs/{id}"), &intruder, "*", &job(&mine, &mine))
        .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.api.get(&format!("/jobs/{id}"), &s.tenant).await.json()["version"],
        json!(1)
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn bad_jobs_get_problems_naming_the_field_and_store_nothing() {
    let s = setup("badjobs").await;
    let table = Table::connect().await;
    let files = s
        .api
        .register_source(
            &s.tenant,
            json!({"name": "drop", "kind": "filesystem", "config": {"path": "/tmp/sluice"}}),
        )
        .await;
    let before = table.tenant_items(&s.tenant).await;

    let valid = job(&s.source, &s.target);
    let with = |pointer: &str, value: Value| {
        let mut body = valid.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let parent = body.pointer_mut(parent).unwrap();
        match parent {
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            other => other[key] = value,
        }
        body
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with("/source/source_id", json!("src_nope")),
            404,
            "source.source_id",
        ),
        (
            with("/target/source_id", json!("src_01J0000000000000000000000A")),
            404,
            "target.source_id",
        ),
        (
            with("/source/columns/1/type", json!("VARCHAR(abc)")),
            400,
            "source.columns[1].type",
        ),
        (
            with("/source/columns/0/name", json!("id\n; DROP TABLE x; --")),
            400,
            "source.columns[0].name",
        ),
        (
            with("/source/filter", json!("id IN (SELECT id FROM secrets)")),
            400,
            "source.filter",
        ),
        (
            with("/source/filter", json!("amount > 0; DROP TABLE orders")),
            400,
            "source.filter",
        ),
        (
            with("/source/filter", json!("nope > 1")),
            400,
            "source.filter",
        ),
        (
            with("/mapping/1/expr", json!("SLEEP(10)")),
            400,
            "mapping[1].expr",
        ),
        (
            with("/target/primary_key/0", json!("missing_column")),
            400,
            "target.primary_key[0]",
        ),
        // The job filters its rows: counting them natively would be a
        // second translation of the filter.
        (
            with("/options/validate", json!("count")),
            400,
            "options.validate",
        ),
        (
            with("/options/validate", json!("checksum")),
            400,
            "options.validate",
        ),
        (
            with(
                "/source/object",
                json!("orders\u{1}') WITH ('connector' = 'print"),
            ),
            400,
            "source.object",
        ),
        (
            with("/target/write_mode", json!("merge")),
            400,
            "target.write_mode",
        ),
        (
            with("/options/parallelism", json!("two")),
            400,
            "options.parallelism",
        ),
        (with("/name", json!("")), 400, "name"),
    ];
    for (body, status, field) in cases {
        let reply = s.api.post("/jobs", &s.tenant, &body).await;
        assert_eq!(reply.status.as_u16(), status, "{field}: {}", reply.text);
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.json()["field"], json!(field), "{}", reply.text);
    }
    // A file target cannot upsert.
    let mut to_files = job(&s.source, &files);
    to_files["target"]["format"] = json!({"type": "csv"});
    let reply = s.api.post("/jobs", &s.tenant, &to_files).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    assert_eq!(
        table.tenant_items(&s.tenant).await,
        before,
        "a bad job changed the table"
    );
}

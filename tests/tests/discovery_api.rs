//! Connection tests and discovery end to end: HTTP through `cargo lambda
//! watch` to the sources function, which invokes the discovery function,
//! which opens the source's secrets (KMS on moto) and reaches the local
//! PostgreSQL and MariaDB. Run with `make test`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sluice_tests::db::{self, mariadb_source, postgres_source};
use sluice_tests::{Api, canary, fresh_tenant, function_log};

/// Percent-encodes an object name as one path segment.
fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn check_codes(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn a_registered_database_is_tested_listed_and_described() {
    let api = Api::new();
    let tenant = fresh_tenant("discover");
    let table = format!("Ordér select {}", &tenant[tenant.len() - 6..]);
    db::psql(&format!(
        "CREATE TABLE public.\"{table}\" (id bigint PRIMARY KEY, \"from\" numeric(12,2) NOT NULL, note text)"
    ));
    let pg = api.register_source(&tenant, postgres_source()).await;

    let tested = api
        .post(&format!("/sources/{pg}/test"), &tenant, &json!({}))
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.text);
    let report = tested.json();
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["server_version"].as_str().is_some(), "{report}");
    assert!(check_codes(&report).is_empty(), "{report}");

    let listed = api
        .get(
            &format!(
                "/sources/{pg}/objects?schema=public&like={}%25",
                segment("Ordér select")
            ),
            &tenant,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let items = listed.json()["items"].as_array().unwrap().clone();
    let ours = items
        .iter()
        .find(|o| o["name"].as_str().unwrap().contains(&table))
        .unwrap_or_else(|| panic!("{table} not listed: {items:?}"));
    assert_eq!(ours["kind"], "table");
    let name = ours["name"].as_str().unwrap().to_owned();

    let described = api
        .get(
            &format!("/sources/{pg}/objects/{}", segment(&name)),
            &tenant,
        )
        .await;
    assert_eq!(described.status, StatusCode::OK, "{}", described.text);
    let object = described.json();
    assert_eq!(object["primary_key"], json!(["id"]), "{object}");
    let columns = object["columns"].as_array().unwrap();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "from", "note"]);
    assert_eq!(columns[0]["primary_key_position"], 1);
    assert_eq!(columns[1]["nullable"], false);
    assert_eq!(columns[2]["nullable"], true);
    assert_eq!(columns[0]["proposal"]["flink_type"], "BIGINT", "{object}");
    assert!(
        columns[1]["native_type"]
            .as_str()
            .unwrap()
            .contains("numeric(12,2)"),
        "{object}"
    );
    assert_eq!(columns[1]["proposal"]["status"], "supported", "{object}");

    // Another tenant sees none of it.
    let other = fresh_tenant("other");
    for path in [
        format!("/sources/{pg}/objects"),
        format!("/sources/{pg}/objects/{}", segment(&name)),
    ] {
        assert_eq!(api.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    }
    let missing = api
        .get(
            &format!("/sources/{pg}/objects/public.no_such_table"),
            &tenant,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    assert_eq!(missing.content_type(), "application/problem+json");

    let maria = api.register_source(&tenant, mariadb_source()).await;
    let tested = api
        .post(&format!("/sources/{maria}/test"), &tenant, &json!({}))
        .await;
    assert_eq!(tested.json()["ok"], true, "{}", tested.text);
    let listed = api
        .get(&format!("/sources/{maria}/objects?limit=2"), &tenant)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(listed.json()["items"].as_array().unwrap().len() <= 2);

    db::psql(&format!("DROP TABLE public.\"{table}\""));
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn drafts_are_tested_before_saving_and_no_secret_leaks() {
    let api = Api::new();
    let tenant = fresh_tenant("drafts");
    let password = canary("draft-pw");

    let mut wrong_password = postgres_source();
    wrong_password["secrets"]["password"] = json!(password);
    let mut closed_port = postgres_source();
    closed_port["config"]["port"] = json!(1);
    // PostgreSQL says a database is missing; MySQL answers a user without
    // global privileges "access denied" (1044) whether it exists or not.
    let mut missing_database = postgres_source();
    missing_database["config"]["database"] = json!("no_such_database");
    for (draft, code) in [
        (wrong_password, "auth"),
        (closed_port, "refused"),
        (missing_database, "database_missing"),
    ] {
        let reply = api.post("/sources/test", &tenant, &draft).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let report = reply.json();
        assert_eq!(report["ok"], false, "{report}");
        assert_eq!(
            check_codes(&report).first().map(String::as_str),
            Some(code),
            "{report}"
        );
        assert!(!reply.text.contains(&password), "{}", reply.text);
    }
    let good = api.post("/sources/test", &tenant, &postgres_source()).await;
    assert_eq!(good.json()["ok"], true, "{}", good.text);

    // Nothing was stored.
    let sources = api.get("/sources", &tenant).await.json();
    assert_eq!(sources["items"], json!([]));

    // A draft is checked as registering checks it.
    let mut no_host = postgres_source();
    no_host["config"].as_object_mut().unwrap().remove("host");
    let refused = api.post("/sources/test", &tenant, &no_host).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.json()["field"], "config.host");

    // A registered source whose password is wrong: the listing says why.
    let mut stale = postgres_source();
    stale["secrets"]["password"] = json!(password);
    let id = api.register_source(&tenant, stale).await;
    let listed = api.get(&format!("/sources/{id}/objects"), &tenant).await;
    assert_eq!(
        listed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        listed.text
    );
    assert!(listed.text.contains("(auth)"), "{}", listed.text);
    assert!(!listed.text.contains(&password));

    for (query, field) in [("limit=0", "limit"), ("colour=red", "colour")] {
        let bad = api
            .get(&format!("/sources/{id}/objects?{query}"), &tenant)
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}: {}", bad.text);
        assert_eq!(bad.json()["field"], field, "{query}");
    }

    assert!(
        !function_log().contains(&password),
        "the canary password is in the functions' log"
    );
}

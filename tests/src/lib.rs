//! Helpers for the end-to-end tests in `tests/`: a client of the local API
//! and a raw view of the DynamoDB table. The stack is started by
//! `infra/local/test.sh` (`make test`), which also un-ignores these tests.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

pub const TENANT_HEADER: &str = "x-sluice-tenant";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through `make test` (infra/local/test.sh)")
    })
}

/// A tenant no other test uses, so tests can run in parallel on one table.
pub fn fresh_tenant(label: &str) -> String {
    format!("{label}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// A value that must never show up outside the sealed item.
pub fn canary(label: &str) -> String {
    format!("CANARY-{label}-{}", ulid::Ulid::new())
}

pub struct Api {
    base: String,
    http: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .expect("an ETag header")
            .to_str()
            .unwrap()
            .to_owned()
    }
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

/// An HTTP client for the tests, from the workspace's one constructor
/// (`sluice_flink::http::client_builder`, which configures TLS).
pub fn http_client() -> reqwest::Client {
    sluice_flink::http::client_builder()
        .build()
        .expect("an HTTP client")
}

impl Api {
    pub fn new() -> Self {
        Self {
            base: env("SLUICE_API_URL"),
            http: http_client(),
        }
    }

    /// Sends a request; `tenant` None sends no tenant header, `body` is sent
    /// verbatim as JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        tenant: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = tenant {
            req = req.header(TENANT_HEADER, t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("the local API answers");
        Reply {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str, tenant: &str) -> Reply {
        self.send(Method::GET, path, Some(tenant), &[], None).await
    }

    /// Registers a source (`POST /sources`, which must answer 201): its id.
    pub async fn register_source(&self, tenant: &str, body: Value) -> String {
        let reply = self.post("/sources", tenant, &body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json()["id"].as_str().unwrap().to_owned()
    }

    pub async fn post(&self, path: &str, tenant: &str, body: &Value) -> Reply {
        self.send(
            Method::POST,
            path,
            Some(tenant),
            &[],
            Some(&body.to_string()),
        )
        .await
    }

    pub async fn put(&self, path: &str, tenant: &str, if_match: &str, body: &Value) -> Reply {
        self.send(
            Method::PUT,
            path,
            Some(tenant),
            &[("if-match", if_match)],
            Some(&body.to_string()),
        )
        .await
    }

    pub async fn delete(&self, path: &str, tenant: &str) -> Reply {
        self.send(Method::DELETE, path, Some(tenant), &[], None)
            .await
    }
}

/// The raw items of the table, as the adapter stored them.
pub struct Table {
    client: aws_sdk_dynamodb::Client,
    name: String,
}

pub type Item = HashMap<String, AttributeValue>;

impl Table {
    pub async fn connect() -> Self {
        let config = aws_config::load_from_env().await;
        Self {
            client: aws_sdk_dynamodb::Client::new(&config),
            name: env("SLUICE_TABLE"),
        }
    }

    /// Every item of the table (a full scan: the test table is small).
    pub async fn scan(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.name)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The items whose partition belongs to `tenant`, sorted by key.
    pub async fn tenant_items(&self, tenant: &str) -> Vec<Item> {
        let pk = format!("TENANT#{tenant}");
        let mut items: Vec<Item> = self
            .scan()
            .await
            .into_iter()
            .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(&pk))
            .collect();
        items.sort_by_key(|i| i.get("sk").and_then(|v| v.as_s().ok()).cloned());
        items
    }
}

/// Every byte of an item, strings and binaries alike, for canary searches.
pub fn item_bytes(item: &Item) -> Vec<u8> {
    fn walk(v: &AttributeValue, out: &mut Vec<u8>) {
        match v {
            AttributeValue::S(s) | AttributeValue::N(s) => out.extend_from_slice(s.as_bytes()),
            AttributeValue::B(b) => out.extend_from_slice(b.as_ref()),
            AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
                out.extend_from_slice(k.as_bytes());
                walk(v, out);
            }),
            AttributeValue::L(l) => l.iter().for_each(|v| walk(v, out)),
            AttributeValue::Ss(l) | AttributeValue::Ns(l) => {
                l.iter().for_each(|s| out.extend_from_slice(s.as_bytes()))
            }
            _ => {}
        }
        out.push(b'\n');
    }
    let mut out = Vec::new();
    for (k, v) in item {
        out.extend_from_slice(k.as_bytes());
        walk(v, &mut out);
    }
    out
}

/// What the functions logged so far (cargo lambda watch's captured output).
pub fn function_log() -> String {
    std::fs::read_to_string(env("SLUICE_FUNCTION_LOG")).expect("the function log")
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Local PostgreSQL and MariaDB (infra/db), driven through their CLIs.
pub mod db {
    use std::process::Command;

    use serde_json::{Value, json};

    use super::env;

    /// The body that registers the local PostgreSQL as a source named `pg`.
    pub fn postgres_source() -> Value {
        json!({"name": "pg", "kind": "postgres",
        "config": {"host": "127.0.0.1", "port": pg_port(), "database": "sluice",
                   "username": "sluice", "ssl_mode": "disable"},
        "secrets": {"password": password()}})
    }

    /// The body that registers the local MariaDB as a source named `maria`.
    pub fn mariadb_source() -> Value {
        json!({"name": "maria", "kind": "mysql",
        "config": {"host": "127.0.0.1", "port": mariadb_port(), "database": "sluice",
                   "username": "sluice", "flavor": "mariadb", "ssl_mode": "disabled"},
        "secrets": {"password": password()}})
    }

    pub fn password() -> String {
        env("SLUICE_DB_PASSWORD")
    }

    pub fn pg_port() -> u16 {
        env("SLUICE_PG_PORT").parse().unwrap()
    }

    pub fn mariadb_port() -> u16 {
        env("SLUICE_MARIADB_PORT").parse().unwrap()
    }

    fn run(mut cmd: Command, sql: &str) -> String {
        let out = cmd.output().expect("the database client runs");
        assert!(
            out.status.success(),
            "SQL failed: {sql}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs SQL in PostgreSQL; rows come back tab-separated, NULL as `\N`.
    pub fn psql(sql: &str) -> String {
        run(psql_command(&["-c", sql]), sql)
    }

    /// Runs a script of any size in PostgreSQL (through standard input).
    pub fn psql_script(sql: &str) -> String {
        script(psql_command(&["-f", "-"]), sql)
    }

    /// Runs a script of any size in MariaDB (through standard input).
    pub fn mariadb_script(sql: &str) -> String {
        let mut cmd = mariadb_command();
        cmd.args(["-B", "-N"]);
        script(cmd, sql)
    }

    fn script(mut cmd: Command, sql: &str) -> String {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the database client runs");
        let mut stdin = child.stdin.take().expect("piped");
        let input = sql.to_owned();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("the database client ends");
        let written = writer.join().expect("writer");
        assert!(
            out.status.success(),
            "SQL script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        written.expect("script written");
        String::from_utf8(out.stdout).unwrap()
    }

    fn psql_command(tail: &[&str]) -> Command {
        let mut cmd = Command::new("psql");
        cmd.env("PGPASSWORD", password())
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &pg_port().to_string(),
                "-U",
                "sluice",
                "-d",
                "sluice",
            ])
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-A",
                "-t",
                "-F",
                "\t",
                "-P",
                "null=\\N",
            ])
            .args(tail);
        cmd
    }

    fn mariadb_command() -> Command {
        let mut cmd = Command::new("mariadb");
        cmd.env("MYSQL_PWD", password()).args([
            "-h",
            "127.0.0.1",
            "-P",
            &mariadb_port().to_string(),
            "-u",
            "sluice",
            "--default-character-set=utf8mb4",
            "sluice",
        ]);
        cmd
    }

    /// Runs SQL in MariaDB; rows come back tab-separated, NULL as `NULL`.
    pub fn mariadb(sql: &str) -> String {
        let mut cmd = mariadb_command();
        cmd.args(["-B", "-N", "-e", sql]);
        run(cmd, sql)
    }
}

/// Whether the run has ended (any state but pending, submitting, running).
pub fn run_ended(run: &Value) -> bool {
    !["pending", "submitting", "running"].contains(&run["state"].as_str().unwrap_or_default())
}

/// Invokes the reconciler (as its one-minute schedule would) until `done`
/// holds for the run, for at most `seconds`; returns the run.
pub async fn reconcile_until(
    api: &Api,
    tenant: &str,
    run_id: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        invoke("reconciler", &json!({})).await;
        let run = api.get(&format!("/runs/{run_id}"), tenant).await.json();
        if done(&run) {
            return run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {run_id} stuck: {run}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// The run once it has ended, waited for as the reconciler's schedule would.
pub async fn wait_for_run_end(api: &Api, tenant: &str, run_id: &str, seconds: u64) -> Value {
    reconcile_until(api, tenant, run_id, seconds, run_ended).await
}

/// Creates a job through the API (201 expected) and returns its id.
pub async fn create_job(api: &Api, tenant: &str, body: &Value) -> String {
    let reply = api.post("/jobs", tenant, body).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}: {}",
        body["name"],
        reply.text
    );
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// The Lambda functions' invoke API of `cargo lambda watch`.
pub async fn invoke(function: &str, event: &Value) -> Value {
    let url = format!(
        "{}/2015-03-31/functions/{function}/invocations",
        env("SLUICE_API_URL")
    );
    let resp = http_client()
        .post(url)
        .json(event)
        .send()
        .await
        .expect("the invoke API answers");
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The Flink cluster's REST API.
pub async fn flink_get(path: &str) -> (StatusCode, String) {
    let resp = http_client()
        .get(format!("{}{path}", env("FLINK_REST_URL")))
        .send()
        .await
        .expect("Flink answers");
    (resp.status(), resp.text().await.unwrap())
}

/// The state Flink reports for a job (empty when it reports none).
pub async fn flink_job_state(flink_job_id: &str) -> String {
    let (_, body) = flink_get(&format!("/jobs/{flink_job_id}")).await;
    let job: Value = serde_json::from_str(&body).unwrap();
    job["state"].as_str().unwrap_or_default().to_owned()
}

/// Waits until Flink reports the job CANCELED; fails after 60 s.
pub async fn wait_until_flink_canceled(flink_job_id: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let state = flink_job_state(flink_job_id).await;
        if state == "CANCELED" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Flink job {flink_job_id} still {state} after 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Gives a job an enabled schedule whose only fires are in 2199, so the
/// scheduler events a test delivers by hand are honoured (the trigger
/// ignores fires of jobs without an enabled schedule) and the local
/// scheduler bridge never fires it. `policy` adds fields (overlap, retry,
/// timeout_seconds, on_success).
pub async fn schedule_for_hand_delivery(api: &Api, tenant: &str, job_id: &str, policy: Value) {
    let mut body = serde_json::json!({"expression": "cron(0 0 1 1 ? 2199)"});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), policy.as_object()) {
        body.extend(extra.clone());
    }
    let reply = api
        .send(
            Method::PUT,
            &format!("/jobs/{job_id}/schedule"),
            Some(tenant),
            &[],
            Some(&body.to_string()),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text);
}

/// A schedule fire as EventBridge Scheduler delivers it.
pub fn scheduler_event(tenant: &str, job_id: &str, at: &str) -> Value {
    serde_json::json!({"tenant": tenant, "job_id": job_id, "scheduled_time": at,
           "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/local/test",
           "attempt": "1"})
}

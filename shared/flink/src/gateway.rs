//! The `gateway` target: a Flink SQL Gateway (REST API v3, served by Flink
//! 1.18 and later, 2.2 included) in front of a session cluster.
//!
//! A gateway plans SQL itself, so there is no runner to open a sealed
//! envelope: this target takes the **plaintext** script
//! ([`ScriptTransport::Plaintext`]) and sends it, credentials included, to
//! the gateway. That is the weaker transport of ARCHITECTURE.md §6: a deployment
//! enables it per target (`plaintext_credentials: true`, see
//! [`crate::targets`]), and the gateway must be reached over `https` unless it
//! is on the loopback interface (the local stack).
//!
//! One run:
//! 1. the script is split into statements and checked like the runner checks
//!    it (`ScriptPolicy.java`): `SET 'key' = 'value'` for allow-listed keys
//!    only, `CREATE TEMPORARY TABLE|VIEW`, and `INSERT INTO|OVERWRITE`;
//!    anything else is refused before the gateway sees a byte;
//! 2. `POST /v3/sessions` opens a session whose properties are the script's
//!    settings (`table.dml-sync` forced to `false`: an INSERT answers once its
//!    job is submitted) and `$internal.pipeline.job-id`, the submission's own
//!    Flink job id ([`Submission::flink_job_id`]): the gateway's executor gives
//!    the INSERT's job that id, as the session cluster's jar run does;
//! 3. every DDL statement is one `POST /v3/sessions/{s}/statements`, its
//!    result read from `GET .../operations/{o}/result/0?rowFormat=JSON`
//!    (polled while `NOT_READY`);
//! 4. the INSERTs are one statement (several become one `EXECUTE STATEMENT
//!    SET`, so a run is one Flink job), whose result carries the job id
//!    (`jobID`, or the `job id` column);
//! 5. `DELETE /v3/sessions/{s}` closes the session (the job keeps running).
//!
//! Status and cancel are the JobManager's (`rest_url`), through
//! [`FlinkSessionClient`].
//!
//! One job per submission: when a submission fails after it may have reached
//! Flink (its answer lost, a statement refused: a retry of a submission
//! whose job runs already is refused as a duplicate), the JobManager is asked
//! for the submission's job, and a job that is there is adopted;
//! [`FlinkJobs::find`] asks the same.
//!
//! Errors: a statement the gateway fails (500 whose trace shows a
//! `SqlExecutionException`) -> `Rejected(<root cause>)` with every string
//! literal of the script (4 characters or more, option keys aside) masked as
//! `******`; no connection, a timeout, any other answer -> `Unreachable`.
//! Nothing this module logs or returns carries the script.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use sluice_domain::ports::{
    FlinkError, FlinkJobStatus, FlinkJobs, FlinkSubmitter, ScriptTransport, Submission,
    SubmitSettings,
};
use zeroize::Zeroizing;

use crate::flink_errors::{self, exception_chain, parse_errors};
use crate::http::{Answer, HttpFault, exchange};
use crate::session::{FlinkConfigError, FlinkSessionClient, FlinkSessionConfig, is_flink_job_id};

/// The REST API version this adapter speaks.
const API: &str = "/v3";

/// The script's statements at most (as the runner).
const MAX_STATEMENTS: usize = 500;

/// Literals shorter than this are not masked in messages (as the runner).
const MIN_LITERAL: usize = 4;

/// The session property that names the job an INSERT starts
/// (`PipelineOptionsInternal.PIPELINE_FIXED_JOB_ID`). Scripts cannot set it
/// (it is not in [`ALLOWED_SETTINGS`]); the adapter does.
const FIXED_JOB_ID: &str = "$internal.pipeline.job-id";

// The calls, as they appear in errors and logs.
const OPEN_SESSION: &str = "POST /v3/sessions";
const EXECUTE: &str = "POST /v3/sessions/{s}/statements";
const FETCH: &str = "GET /v3/sessions/{s}/operations/{o}/result/0";
const CLOSE_SESSION: &str = "DELETE /v3/sessions/{s}";

/// The settings a script may change (the runner's `ScriptPolicy`
/// allow-list): anything naming classes, jars, paths or security is refused.
const ALLOWED_SETTINGS: &[&str] = &[
    "execution.runtime-mode",
    "parallelism.default",
    "pipeline.name",
    "pipeline.object-reuse",
    "pipeline.operator-chaining.enabled",
    "table.exec.resource.default-parallelism",
    "execution.checkpointing.interval",
    "execution.checkpointing.timeout",
    "execution.checkpointing.min-pause",
    "execution.checkpointing.mode",
    "table.exec.sink.not-null-enforcer",
    "table.exec.sink.type-length-enforcer",
    "table.exec.sink.upsert-materialize",
    "table.exec.sink.keyed-shuffle",
    "table.exec.source.idle-timeout",
    "table.exec.state.ttl",
    "table.exec.mini-batch.enabled",
    "table.exec.mini-batch.allow-latency",
    "table.exec.mini-batch.size",
    "table.optimizer.agg-phase-strategy",
    "table.local-time-zone",
];

/// How to reach a SQL Gateway and the JobManager behind it.
#[derive(Debug, Clone)]
pub struct FlinkGatewayConfig {
    /// The gateway's REST endpoint: `https://...`, or `http://` on a
    /// loopback address only (the script travels in clear).
    pub gateway_url: String,
    /// The JobManager REST endpoint of the cluster the gateway submits to,
    /// for status and cancel.
    pub rest_url: String,
    /// The limit of one HTTP exchange.
    pub request_timeout: Duration,
    /// How long a statement may take from its submission to its result
    /// (the INSERT: planning and job submission, a few seconds).
    pub statement_timeout: Duration,
}

/// [`FlinkSubmitter`] and [`FlinkJobs`] on a Flink SQL Gateway.
pub struct FlinkGatewayClient {
    http: reqwest::Client,
    /// `gateway_url` without a trailing slash.
    base: String,
    jobs: FlinkSessionClient,
    statement_timeout: Duration,
}

impl fmt::Debug for FlinkGatewayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlinkGatewayClient")
            .field("gateway_url", &self.base)
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}

/// Why a gateway endpoint is not usable.
#[derive(Debug, thiserror::Error)]
pub enum GatewayConfigError {
    #[error("gateway_url {url:?} is not usable: {reason}")]
    GatewayUrl { url: String, reason: &'static str },
    #[error("statement_timeout must be longer than zero")]
    StatementTimeout,
    #[error(transparent)]
    Cluster(#[from] FlinkConfigError),
}

/// `raw` as a base URL for the gateway: absolute, no query, fragment or
/// credentials; `https`, or `http` to a loopback host.
pub(crate) fn parse_gateway_url(raw: &str) -> Result<String, GatewayConfigError> {
    let invalid = |reason| GatewayConfigError::GatewayUrl {
        url: raw.to_owned(),
        reason,
    };
    let url = Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err(invalid("it has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(invalid(
                "scripts carry credentials: use https (http only on a loopback address)",
            ));
        }
        _ => return Err(invalid("the scheme must be https (or http on loopback)")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it must not carry credentials"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// What went wrong with the gateway, as the source of `Unreachable`. Never
/// carries a request body.
#[derive(Debug, thiserror::Error)]
enum GatewayFault {
    #[error("{call}: no result after {seconds} s")]
    Timeout { call: &'static str, seconds: u64 },
}

impl From<GatewayFault> for FlinkError {
    fn from(fault: GatewayFault) -> Self {
        FlinkError::Unreachable(Box::new(fault))
    }
}

// ---- answers -------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenSession<'a> {
    session_name: &'a str,
    properties: &'a BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionOpened {
    session_handle: String,
}

/// The body of a statement: it carries script text, so no `Debug`.
#[derive(Serialize)]
struct ExecuteStatement<'a> {
    statement: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatementAccepted {
    operation_handle: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FetchedResult {
    result_type: String,
    #[serde(rename = "jobID")]
    job_id: Option<String>,
    results: Option<ResultSet>,
}

#[derive(Debug, Deserialize)]
struct ResultSet {
    #[serde(default)]
    columns: Vec<ResultColumn>,
    #[serde(default)]
    data: Vec<ResultRow>,
}

#[derive(Debug, Deserialize)]
struct ResultColumn {
    name: String,
}

#[derive(Debug, Deserialize)]
struct ResultRow {
    #[serde(default)]
    fields: Vec<serde_json::Value>,
}

/// What one fetch of a statement's result says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    NotReady,
    /// The statement is done; the job id when it submitted one.
    Done {
        job_id: Option<String>,
    },
}

impl FetchedResult {
    pub(crate) fn outcome(&self) -> Result<Fetched, String> {
        match self.result_type.as_str() {
            "NOT_READY" => Ok(Fetched::NotReady),
            "PAYLOAD" | "EOS" => {
                let from_column = self.results.as_ref().and_then(|r| {
                    let column = r.columns.iter().position(|c| c.name == "job id")?;
                    r.data
                        .first()?
                        .fields
                        .get(column)?
                        .as_str()
                        .map(str::to_owned)
                });
                let job_id = self.job_id.clone().or(from_column);
                match job_id {
                    Some(id) if !is_flink_job_id(&id) => {
                        Err("the job id is not 32 hex digits".to_owned())
                    }
                    id => Ok(Fetched::Done { job_id: id }),
                }
            }
            other => Err(format!("unknown resultType {other:?}")),
        }
    }
}

/// The failure of a statement, from a gateway error answer: the root cause,
/// when the trace shows the statement's execution failed (not the gateway).
pub(crate) fn statement_failure(errors: &[String]) -> Option<String> {
    let failed = errors.iter().flat_map(|e| exception_chain(e)).any(|t| {
        t.class.ends_with(".SqlExecutionException") || t.class.ends_with(".SqlParserException")
    });
    failed.then(|| flink_errors::summary(errors))
}

// ---- the script ------------------------------------------------------------

/// One statement of a script, without its `;`. Its text holds credentials
/// in plaintext, so it is wiped when dropped.
#[derive(PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct Statement {
    pub(crate) sql: String,
    /// 1-based, for messages.
    pub(crate) number: usize,
}

/// Splits a script at the `;` outside string literals (`'...'` with `''`),
/// quoted identifiers (`"..."`, `` `...` ``) and comments (`-- ...`,
/// `/* ... */`). Statements that are only blanks and comments are dropped.
pub(crate) fn split_statements(script: &str) -> Vec<Statement> {
    let bytes = script.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let push = |from: usize, to: usize, statements: &mut Vec<Statement>| {
        let sql = script[from..to].trim();
        if !leading_words(sql, 1).is_empty() {
            let number = statements.len() + 1;
            statements.push(Statement {
                sql: sql.to_owned(),
                number,
            });
        }
    };
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                push(start, i, &mut statements);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(start, bytes.len().min(script.len()), &mut statements);
    statements
}

/// `sql` from its first token on: blanks and comments skipped.
fn skip_comments(sql: &str) -> &str {
    let mut rest = sql.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after
                .split_once("*/")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return rest;
        }
    }
}

/// The first `n` words of a statement, upper-cased, comments skipped.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = sql;
    while words.len() < n {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            words.push(rest[..end].to_ascii_uppercase());
            rest = &rest[end..];
        }
    }
    words
}

/// A checked script: the session's settings, the DDL in order, the INSERTs.
pub(crate) struct Plan {
    pub(crate) settings: BTreeMap<String, String>,
    pub(crate) ddl: Vec<Statement>,
    pub(crate) inserts: Vec<Statement>,
}

/// `SET 'key' = 'value'` -> (key, value).
fn parse_set(sql: &str) -> Option<(String, String)> {
    let rest = skip_comments(sql);
    let rest = rest
        .get(..3)?
        .eq_ignore_ascii_case("SET")
        .then(|| rest[3..].trim_start())?;
    let (key, rest) = quoted(rest)?;
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let (value, rest) = quoted(rest)?;
    rest.trim().is_empty().then_some((key, value))
}

/// A leading `'...'` literal (with `''`) and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let body = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, c)| *c) == Some('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, &body[i + 1..]));
        }
        out.push(c);
    }
    None
}

/// Checks the whole script before anything is sent (the runner's policy).
/// Messages name statements by number and kind, never their text.
pub(crate) fn check_script(script: &str) -> Result<Plan, String> {
    let statements = split_statements(script);
    if statements.is_empty() {
        return Err("the script has no statements".into());
    }
    if statements.len() > MAX_STATEMENTS {
        return Err(format!(
            "the script has more than {MAX_STATEMENTS} statements"
        ));
    }
    let mut plan = Plan {
        settings: BTreeMap::new(),
        ddl: Vec::new(),
        inserts: Vec::new(),
    };
    for statement in statements {
        let words = leading_words(&statement.sql, 3);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let n = statement.number;
        match words.as_slice() {
            ["SET", ..] => {
                let (key, value) = parse_set(&statement.sql).ok_or_else(|| {
                    format!("statement {n}: a SET that is not SET 'key' = 'value'")
                })?;
                if !ALLOWED_SETTINGS.contains(&key.as_str()) {
                    return Err(format!(
                        "statement {n}: the setting {:?} is not allowed",
                        flink_errors::cap(&key)
                    ));
                }
                if value.is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
                    return Err(format!("statement {n}: the value of {key} is not allowed"));
                }
                if plan.settings.insert(key.clone(), value).is_some() {
                    return Err(format!("statement {n}: {key} is set twice"));
                }
            }
            ["CREATE", "TEMPORARY", "TABLE" | "VIEW"] => plan.ddl.push(statement),
            ["INSERT", "INTO" | "OVERWRITE", ..] => plan.inserts.push(statement),
            _ => {
                return Err(format!(
                    "statement {n}: only SET, CREATE TEMPORARY TABLE/VIEW and INSERT are allowed"
                ));
            }
        }
    }
    if plan.inserts.is_empty() {
        return Err("the script has no INSERT".into());
    }
    Ok(plan)
}

/// The string literals of a script that messages must not show: every
/// `'...'` of at least [`MIN_LITERAL`] characters that is not an option key
/// (followed by `=`).
pub(crate) fn secret_literals(script: &str) -> Zeroizing<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = script;
    while let Some(at) = rest.find('\'') {
        let Some((literal, after)) = quoted(&rest[at..]) else {
            break;
        };
        if literal.chars().count() >= MIN_LITERAL && !after.trim_start().starts_with('=') {
            found.push(literal);
        }
        rest = after;
    }
    found.sort_by_key(|l| std::cmp::Reverse(l.len()));
    found.dedup();
    Zeroizing::new(found)
}

/// `message` with every literal of `literals` replaced by `******`.
pub(crate) fn redact(message: &str, literals: &[String]) -> String {
    let mut out = message.to_owned();
    for literal in literals {
        if out.contains(literal.as_str()) {
            out = out.replace(literal.as_str(), "******");
        }
    }
    out
}

// ---- the client ------------------------------------------------------------

/// Handles are UUIDs; nothing else is put in a URL.
fn is_handle(h: &str) -> bool {
    h.len() == 36 && h.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl FlinkGatewayClient {
    /// Checks the configuration and builds the HTTP client; touches neither
    /// the gateway nor the cluster.
    pub fn new(config: FlinkGatewayConfig) -> Result<Self, GatewayConfigError> {
        let base = parse_gateway_url(&config.gateway_url)?;
        if config.statement_timeout.is_zero() {
            return Err(GatewayConfigError::StatementTimeout);
        }
        let jobs = FlinkSessionClient::new(FlinkSessionConfig {
            rest_url: config.rest_url,
            // Never read: this client submits through the gateway.
            runner_jar: Default::default(),
            request_timeout: config.request_timeout,
        })?;
        let http =
            crate::http::client(config.request_timeout).map_err(FlinkConfigError::HttpClient)?;
        Ok(Self {
            http,
            base,
            jobs,
            statement_timeout: config.statement_timeout,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API}{path}", self.base)
    }

    async fn open_session(
        &self,
        name: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<String, FlinkError> {
        let body = serde_json::to_vec(&OpenSession {
            session_name: name,
            properties,
        })
        .expect("strings serialize");
        let request = self
            .http
            .post(self.url("/sessions"))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let answer = exchange(request, OPEN_SESSION).await?;
        if !answer.status.is_success() {
            return Err(match parse_errors(&answer.body) {
                // The gateway refused a property (e.g. an unknown key).
                Some(errors) if answer.status.is_client_error() => {
                    FlinkError::Rejected(flink_errors::summary(&errors))
                }
                _ => answer.fault(OPEN_SESSION).into(),
            });
        }
        let opened: SessionOpened = answer.json(OPEN_SESSION)?;
        if !is_handle(&opened.session_handle) {
            return Err(HttpFault::Unexpected {
                call: OPEN_SESSION,
                detail: "the session handle is not a UUID".into(),
            }
            .into());
        }
        Ok(opened.session_handle)
    }

    async fn close_session(&self, session: &str) {
        let request = self.http.delete(self.url(&format!("/sessions/{session}")));
        match exchange(request, CLOSE_SESSION).await {
            Ok(a) if a.status.is_success() => {}
            Ok(a) => {
                tracing::warn!(error = %a.fault(CLOSE_SESSION), "the gateway session was not closed")
            }
            Err(e) => tracing::warn!(error = %e, "the gateway session was not closed"),
        }
    }

    /// Executes one statement and waits for its result: the job id when
    /// the statement submitted a job.
    async fn execute(
        &self,
        session: &str,
        sql: &str,
        literals: &[String],
        what: &str,
    ) -> Result<Option<String>, FlinkError> {
        let body = Zeroizing::new(
            serde_json::to_vec(&ExecuteStatement { statement: sql }).expect("strings serialize"),
        );
        let request = self
            .http
            .post(self.url(&format!("/sessions/{session}/statements")))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        let answer = exchange(request, EXECUTE).await?;
        if !answer.status.is_success() {
            return Err(self.failure(&answer, EXECUTE, literals, what));
        }
        let accepted: StatementAccepted = answer.json(EXECUTE)?;
        if !is_handle(&accepted.operation_handle) {
            return Err(HttpFault::Unexpected {
                call: EXECUTE,
                detail: "the operation handle is not a UUID".into(),
            }
            .into());
        }
        let operation = accepted.operation_handle;
        let deadline = tokio::time::Instant::now() + self.statement_timeout;
        let mut pause = Duration::from_millis(100);
        loop {
            let request = self.http.get(self.url(&format!(
                "/sessions/{session}/operations/{operation}/result/0?rowFormat=JSON"
            )));
            let answer = exchange(request, FETCH).await?;
            if !answer.status.is_success() {
                return Err(self.failure(&answer, FETCH, literals, what));
            }
            let fetched: FetchedResult = answer.json(FETCH)?;
            match fetched.outcome().map_err(|detail| HttpFault::Unexpected {
                call: FETCH,
                detail,
            })? {
                Fetched::Done { job_id } => return Ok(job_id),
                Fetched::NotReady => {}
            }
            if tokio::time::Instant::now() + pause > deadline {
                return Err(GatewayFault::Timeout {
                    call: FETCH,
                    seconds: self.statement_timeout.as_secs(),
                }
                .into());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// A failed exchange: `Rejected` when the statement failed, else the
    /// gateway's fault.
    fn failure(
        &self,
        answer: &Answer,
        call: &'static str,
        literals: &[String],
        what: &str,
    ) -> FlinkError {
        let Some(errors) = parse_errors(&answer.body) else {
            return answer.fault(call).into();
        };
        match statement_failure(&errors) {
            Some(cause) => {
                let reason = flink_errors::cap(&format!("{what}: {}", redact(&cause, literals)));
                tracing::info!(reason, "the gateway refused a statement");
                FlinkError::Rejected(reason)
            }
            None => answer.fault(call).into(),
        }
    }

    async fn run_plan(
        &self,
        session: &str,
        plan: &Plan,
        literals: &[String],
    ) -> Result<String, FlinkError> {
        for ddl in &plan.ddl {
            self.execute(
                session,
                &ddl.sql,
                literals,
                &format!("statement {} (DDL)", ddl.number),
            )
            .await?;
        }
        let inserts = if plan.inserts.len() == 1 {
            Zeroizing::new(plan.inserts[0].sql.clone())
        } else {
            let mut set = String::from("EXECUTE STATEMENT SET BEGIN\n");
            for insert in &plan.inserts {
                set.push_str(&insert.sql);
                set.push_str(";\n");
            }
            set.push_str("END");
            Zeroizing::new(set)
        };
        let what = format!("the INSERT statement(s) ({})", plan.inserts.len());
        self.execute(session, &inserts, literals, &what)
            .await?
            .ok_or_else(|| {
                HttpFault::Unexpected {
                    call: FETCH,
                    detail: "the INSERT's result has no job id".into(),
                }
                .into()
            })
    }
}

#[async_trait]
impl FlinkSubmitter for FlinkGatewayClient {
    fn transport(&self) -> ScriptTransport {
        ScriptTransport::Plaintext
    }

    #[tracing::instrument(skip_all, fields(job_id = %submission.job_id, run_id = %submission.run_id, submission = submission.number))]
    async fn submit(
        &self,
        submission: &Submission,
        script: &str,
        settings: &SubmitSettings,
    ) -> Result<String, FlinkError> {
        let plan = check_script(script).map_err(FlinkError::Rejected)?;
        let literals = secret_literals(script);
        let mut properties = plan.settings.clone();
        properties
            .entry("parallelism.default".into())
            .or_insert_with(|| settings.parallelism.to_string());
        properties
            .entry("execution.runtime-mode".into())
            .or_insert_with(|| if settings.batch { "batch" } else { "streaming" }.into());
        // The INSERT answers once the job is submitted; the reconciler
        // follows it.
        properties.insert("table.dml-sync".into(), "false".into());
        let expected = submission.flink_job_id();
        properties.insert(FIXED_JOB_ID.into(), expected.clone());
        let session = self
            .open_session(
                &format!("sluice-{}-{}", submission.run_id, submission.number),
                &properties,
            )
            .await?;
        let result = self.run_plan(&session, &plan, &literals).await;
        self.close_session(&session).await;
        let flink_job_id = match result {
            Ok(id) => id,
            // Lost, or refused as a duplicate: the job may run all the same.
            Err(e) => self.jobs.adopt_after(&expected, e).await?,
        };
        if flink_job_id != expected {
            tracing::warn!(
                flink_job_id,
                expected,
                "the gateway gave the job another id than asked: a retry cannot find it"
            );
        }
        tracing::info!(flink_job_id, "submitted the run through the gateway");
        Ok(flink_job_id)
    }
}

#[async_trait]
impl FlinkJobs for FlinkGatewayClient {
    async fn find(&self, submission: &Submission) -> Result<Option<String>, FlinkError> {
        self.jobs.find(submission).await
    }

    async fn status(&self, flink_job_id: &str) -> Result<FlinkJobStatus, FlinkError> {
        self.jobs.status(flink_job_id).await
    }

    async fn cancel(&self, flink_job_id: &str) -> Result<(), FlinkError> {
        self.jobs.cancel(flink_job_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn fetched(name: &str) -> Result<Fetched, String> {
        serde_json::from_slice::<FetchedResult>(&data(name))
            .unwrap()
            .outcome()
    }

    #[test]
    fn recorded_results_are_read() {
        assert_eq!(
            fetched("gateway_result_not_ready.json"),
            Ok(Fetched::NotReady)
        );
        assert_eq!(
            fetched("gateway_result_ddl_ok.json"),
            Ok(Fetched::Done { job_id: None })
        );
        assert_eq!(
            fetched("gateway_result_insert_job.json"),
            Ok(Fetched::Done {
                job_id: Some("f3833fee87d8467f94ac988b3279e475".into())
            })
        );
        // Without `jobID` (older answers), the `job id` column.
        let mut answer: serde_json::Value =
            serde_json::from_slice(&data("gateway_result_insert_job.json")).unwrap();
        answer.as_object_mut().unwrap().remove("jobID");
        let answer: FetchedResult = serde_json::from_value(answer).unwrap();
        assert_eq!(
            answer.outcome(),
            Ok(Fetched::Done {
                job_id: Some("f3833fee87d8467f94ac988b3279e475".into())
            })
        );
        let bad: FetchedResult =
            serde_json::from_str(r#"{"resultType":"EOS","jobID":"../../jobs"}"#).unwrap();
        assert!(bad.outcome().is_err());
        let handles: SessionOpened =
            serde_json::from_slice(&data("gateway_open_session.json")).unwrap();
        assert!(is_handle(&handles.session_handle));
        let accepted: StatementAccepted =
            serde_json::from_slice(&data("gateway_execute_statement.json")).unwrap();
        assert!(is_handle(&accepted.operation_handle));
        assert!(!is_handle("../sessions"));
    }

    #[test]
    fn a_failed_statement_is_told_from_a_failed_gateway() {
        let errors = parse_errors(&data("gateway_result_error_500.json")).unwrap();
        assert_eq!(
            statement_failure(&errors).as_deref(),
            Some("SqlValidatorException: Column 'nope' not found in any table")
        );
        let errors = parse_errors(&data("gateway_result_sink_options_500.json")).unwrap();
        assert_eq!(
            statement_failure(&errors).as_deref(),
            Some(
                "IllegalArgumentException: Either all or none of the following options should be provided:"
            )
        );
        // An unknown session is the gateway's state, not the script's fault.
        let errors = parse_errors(&data("gateway_statement_unknown_session_500.json")).unwrap();
        assert_eq!(statement_failure(&errors), None);
    }

    const SCRIPT: &str = "-- a comment; with a semicolon\n\
        SET 'execution.runtime-mode' = 'batch';\n\
        SET 'pipeline.name' = 'sluice: it''s a; name';\n\
        CREATE TEMPORARY TABLE `a;b` (id BIGINT) WITH ('connector' = 'jdbc', 'password' = 'p@ss;word');\n\
        /* block; comment */ CREATE TEMPORARY VIEW v AS SELECT \"x;y\" FROM `a;b`;\n\
        INSERT INTO t SELECT id FROM v WHERE note = 'a;b' -- trailing; comment\n\
        ;\n;  \n";

    #[test]
    fn scripts_split_outside_literals_identifiers_and_comments() {
        let statements = split_statements(SCRIPT);
        let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sql.len(), 5, "{sql:?}");
        assert!(sql[0].ends_with("SET 'execution.runtime-mode' = 'batch'"));
        assert_eq!(sql[1], "SET 'pipeline.name' = 'sluice: it''s a; name'");
        assert!(sql[2].ends_with("'password' = 'p@ss;word')"));
        assert!(sql[3].starts_with("/* block; comment */ CREATE TEMPORARY VIEW"));
        assert!(sql[4].ends_with("-- trailing; comment"));
        assert_eq!(
            statements.iter().map(|s| s.number).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn the_script_policy_is_the_runners() {
        let plan = check_script(SCRIPT).unwrap();
        assert_eq!(plan.settings["execution.runtime-mode"], "batch");
        assert_eq!(plan.settings["pipeline.name"], "sluice: it's a; name");
        assert_eq!((plan.ddl.len(), plan.inserts.len()), (2, 1));
        for (script, why) in [
            (
                "SET 'pipeline.jars' = 'file:///x.jar'; INSERT INTO t SELECT 1",
                "not allowed",
            ),
            (
                "SET 'table.dml-sync' = 'true'; INSERT INTO t SELECT 1",
                "not allowed",
            ),
            (
                "SET 'parallelism.default' = '1'; SET 'parallelism.default' = '2'; INSERT INTO t SELECT 1",
                "twice",
            ),
            (
                "SET pipeline.name = x; INSERT INTO t SELECT 1",
                "SET 'key' = 'value'",
            ),
            (
                "CREATE TABLE t (id INT); INSERT INTO t SELECT 1",
                "only SET",
            ),
            ("ADD JAR '/tmp/x.jar'; INSERT INTO t SELECT 1", "only SET"),
            ("INSERT INTO t SELECT 1; DROP TABLE t", "only SET"),
            (
                "CREATE TEMPORARY TABLE t (id INT) WITH ('connector' = 'datagen')",
                "no INSERT",
            ),
            ("-- nothing\n;", "no statements"),
        ] {
            let error = check_script(script).err().unwrap_or_default();
            assert!(error.contains(why), "{script}: {error}");
            assert!(
                !error.contains("x.jar") && !error.contains("DROP TABLE t"),
                "{error}"
            );
        }
    }

    #[test]
    fn literals_are_masked_in_messages_but_option_keys_are_not() {
        let literals = secret_literals(SCRIPT);
        assert!(literals.contains(&"p@ss;word".to_owned()));
        assert!(!literals.contains(&"password".to_owned()));
        assert!(!literals.contains(&"a;b".to_owned()), "too short to matter");
        let message = "ValidationException: 'password'='p@ss;word' is wrong";
        assert_eq!(
            redact(message, &literals),
            "ValidationException: 'password'='******' is wrong"
        );
    }

    #[test]
    fn gateway_urls_need_https_off_loopback() {
        for ok in [
            "https://gateway.example:8083",
            "https://gateway.example/flink/",
            "http://127.0.0.1:8083",
            "http://localhost:8083/",
            "http://[::1]:8083",
        ] {
            assert!(parse_gateway_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_gateway_url("https://gw/flink/").unwrap(),
            "https://gw/flink"
        );
        for bad in [
            "http://10.0.0.5:8083",
            "http://gateway.example:8083",
            "ftp://127.0.0.1",
            "127.0.0.1:8083",
            "https://gw:8083/?x=1",
            "https://user:pw@gw:8083",
        ] {
            assert!(
                matches!(
                    parse_gateway_url(bad),
                    Err(GatewayConfigError::GatewayUrl { .. })
                ),
                "{bad}"
            );
        }
    }
}

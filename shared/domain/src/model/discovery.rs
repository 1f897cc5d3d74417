//! What sluice learns from a source itself: whether it can be reached with
//! its settings and secrets (a connection test), which objects it holds
//! (tables and views, topics, files), and the columns of one object with the
//! Flink type proposed for each (README, "Discovery").

use serde::{Deserialize, Serialize};

/// Why a connection test failed, as a stable code a form can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    /// The host name does not resolve.
    Dns,
    /// Nothing listens on the port (connection refused or reset).
    Refused,
    /// No answer within the time bound.
    Timeout,
    /// The TLS handshake failed (or TLS is required and not offered).
    Tls,
    /// The user name or password (or SASL credentials) are wrong.
    Auth,
    /// The database does not exist.
    DatabaseMissing,
    /// Connected, but a privilege the job needs is missing.
    Permission,
    /// A Kafka topic the source names does not exist.
    TopicMissing,
    /// The file path or S3 prefix does not exist or cannot be listed.
    PathMissing,
}

impl CheckCode {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::Dns => "dns",
            CheckCode::Refused => "refused",
            CheckCode::Timeout => "timeout",
            CheckCode::Tls => "tls",
            CheckCode::Auth => "auth",
            CheckCode::DatabaseMissing => "database_missing",
            CheckCode::Permission => "permission",
            CheckCode::TopicMissing => "topic_missing",
            CheckCode::PathMissing => "path_missing",
        }
    }
}

/// One step of a connection test (`connect`, `authenticate`, `select`, ...)
/// and how it went. A message never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked, e.g. `connect`, `authenticate`, `list_tables`.
    pub name: String,
    pub ok: bool,
    /// Why it failed; `None` when it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CheckCode>,
    pub message: String,
}

impl Check {
    pub fn passed(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            code: None,
            message: message.into(),
        }
    }

    pub fn failed(name: impl Into<String>, code: CheckCode, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: false,
            code: Some(code),
            message: message.into(),
        }
    }
}

/// The outcome of a connection test: `ok` when every check passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    pub ok: bool,
    /// From the start of the test to its end.
    pub latency_ms: u64,
    /// What the server says it is, when it got that far.
    pub server_version: Option<String>,
    pub checks: Vec<Check>,
}

impl ConnectionReport {
    pub fn new(latency_ms: u64, server_version: Option<String>, checks: Vec<Check>) -> Self {
        Self {
            ok: checks.iter().all(|c| c.ok),
            latency_ms,
            server_version,
            checks,
        }
    }

    /// The code of the first failed check.
    pub fn first_failure(&self) -> Option<CheckCode> {
        self.checks.iter().find_map(|c| c.code)
    }
}

/// What an object of a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Table,
    View,
    Topic,
    File,
    Prefix,
}

/// One object of a source, named as a job's `source.object` names it
/// (`schema.table` for PostgreSQL, `table` for MySQL, the topic, the path
/// under the source's path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub name: String,
    pub kind: ObjectKind,
}

/// Which objects to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectQuery {
    /// PostgreSQL schema (default: every schema the user can read but the
    /// system ones); ignored by other kinds.
    pub schema: Option<String>,
    /// SQL `LIKE` pattern on the object's own name (`%` and `_`).
    pub like: Option<String>,
    pub limit: usize,
    /// List after this object name (names sort as the source sorts them).
    pub after: Option<String>,
}

/// One page of objects in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPage {
    pub items: Vec<ObjectRef>,
    /// The last name of this page when more follow.
    pub next_after: Option<String>,
}

/// The Flink type proposed for a native column, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TypeProposal {
    /// The Flink type (as `source.columns[].type` takes it) that carries
    /// every value of the native type exactly.
    Supported {
        flink_type: String,
    },
    Unsupported {
        reason: String,
    },
}

/// One column of an object as the source describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveredColumn {
    pub name: String,
    /// The native type as the source spells it, e.g. `numeric(12,2)`,
    /// `int unsigned`, `timestamp(3) with time zone`.
    pub native_type: String,
    pub nullable: bool,
    /// 1-based position in the primary key, if the column is in it.
    pub primary_key_position: Option<u32>,
    pub proposal: TypeProposal,
}

/// One object described: its columns in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDescription {
    pub name: String,
    pub kind: ObjectKind,
    pub columns: Vec<DiscoveredColumn>,
    /// The primary key's columns in key order (empty without one).
    pub primary_key: Vec<String>,
}

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

/// One column of a table sluice creates or extends in a database target:
/// its Flink type (as `source.columns[].type` spells it), which the probe
/// maps to the target's own type that the JDBC write carries exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableColumn {
    pub name: String,
    pub flink_type: String,
    pub nullable: bool,
}

/// A target table as a run needs it (README, "Target tables and schema
/// drift").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    /// As the job's `target.object` names it.
    pub object: String,
    pub columns: Vec<TableColumn>,
    /// Key columns in key order (empty without a key).
    pub primary_key: Vec<String>,
}

/// How a source table's columns differ from a job's snapshot of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDrift {
    pub added: Vec<DiscoveredColumn>,
    pub removed: Vec<DiscoveredColumn>,
    /// (as in the snapshot, as now) of columns whose native type changed.
    pub changed: Vec<(DiscoveredColumn, DiscoveredColumn)>,
}

impl SchemaDrift {
    /// The differences by column name; a type is compared as the source
    /// spells it (`integer` to `bigint`, `varchar(10)` to `varchar(20)`).
    pub fn between(snapshot: &[DiscoveredColumn], current: &[DiscoveredColumn]) -> Self {
        let find = |columns: &[DiscoveredColumn], name: &str| {
            columns.iter().find(|c| c.name == name).cloned()
        };
        let mut drift = SchemaDrift::default();
        for now in current {
            match find(snapshot, &now.name) {
                None => drift.added.push(now.clone()),
                Some(then) if then.native_type != now.native_type => {
                    drift.changed.push((then, now.clone()))
                }
                Some(_) => {}
            }
        }
        drift.removed = snapshot
            .iter()
            .filter(|then| find(current, &then.name).is_none())
            .cloned()
            .collect();
        drift
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Only columns were added: what `on_schema_change: add_columns` takes.
    pub fn only_added(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty()
    }

    /// `added a (integer); removed b (text); changed c (integer -> bigint)`.
    pub fn describe(&self) -> String {
        let typed = |c: &DiscoveredColumn| format!("{} ({})", c.name, c.native_type);
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            let names: Vec<_> = self.added.iter().map(typed).collect();
            parts.push(format!("added {}", names.join(", ")));
        }
        if !self.removed.is_empty() {
            let names: Vec<_> = self.removed.iter().map(typed).collect();
            parts.push(format!("removed {}", names.join(", ")));
        }
        if !self.changed.is_empty() {
            let names: Vec<_> = self
                .changed
                .iter()
                .map(|(then, now)| {
                    format!("{} ({} -> {})", now.name, then.native_type, now.native_type)
                })
                .collect();
            parts.push(format!("changed {}", names.join(", ")));
        }
        parts.join("; ")
    }
}

/// `validate: count` (README, "Validation"): the rows to count in one
/// table after a run, all of them or those of the run's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCount {
    /// `schema.table` or `table`, as the job names it.
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<CountWindow>,
}

/// The rows whose `column` lies in `[from, to)`, compared as Flink compares
/// the run's window (`bound`, from the column's Flink type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountWindow {
    pub column: String,
    pub bound: WindowBound,
    pub from: chrono::DateTime<chrono::Utc>,
    pub to: chrono::DateTime<chrono::Utc>,
}

/// How a window's instants compare with a column, per its Flink type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowBound {
    /// `DATE`: a bound that is not a midnight (UTC) moves to the next day.
    Date,
    /// `TIMESTAMP(p)`: the wall-clock time in UTC.
    Timestamp,
    /// `TIMESTAMP_LTZ(p)`: the instant.
    Instant,
}

impl WindowBound {
    /// The bound of a column of this Flink type, if the type has one.
    pub fn of_flink_type(type_name: &str) -> Option<Self> {
        let upper = type_name.trim().to_ascii_uppercase();
        if upper == "DATE" {
            Some(Self::Date)
        } else if upper.starts_with("TIMESTAMP_LTZ") || upper.ends_with("WITH LOCAL TIME ZONE") {
            Some(Self::Instant)
        } else if upper.starts_with("TIMESTAMP") {
            Some(Self::Timestamp)
        } else {
            None
        }
    }
}

/// A run's two counts, asked in one call of the discovery function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCountRequest {
    pub source: RowCount,
    pub target: RowCount,
}

/// The rows counted in the source and the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    pub source_rows: u64,
    pub target_rows: u64,
}

/// What a run asks of its databases before Flink starts, in one call of
/// the discovery function (README, "Target tables and schema drift").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPreparation {
    /// Compare the source table with the job's snapshot.
    pub drift: Option<DriftCheck>,
    /// Check (or create) the target table.
    pub target: Option<TargetCheck>,
    /// A multi-table job: the same two checks per table, in the job's
    /// order (then `drift` and `target` are `None`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TablePreparation>,
}

/// One table's checks in a multi-table job's [`RunPreparation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePreparation {
    pub drift: Option<DriftCheck>,
    pub target: Option<TargetCheck>,
}

/// How one table of a multi-table job was prepared (as [`Preparation::Ready`]
/// says it of a single table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReady {
    #[serde(default)]
    pub created: bool,
    #[serde(default)]
    pub added: Vec<DiscoveredColumn>,
    #[serde(default)]
    pub current: Option<Vec<DiscoveredColumn>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCheck {
    /// The job's `source.object`.
    pub object: String,
    pub snapshot: Vec<DiscoveredColumn>,
    /// Add new columns to the target (`add_columns`), else fail.
    pub add_columns: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// The table as the job's columns describe it (before any column the
    /// drift check adds).
    pub table: TableSpec,
    /// Create it when missing (`if_missing`), else a missing table fails.
    pub create: bool,
}

/// How a run's preparation went: ready (with what changed), or why the
/// run must not start. Failures of the databases themselves are errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Preparation {
    Ready {
        /// The target table was created by this call.
        #[serde(default)]
        created: bool,
        /// Source columns added to the target (`add_columns`), with their
        /// Flink types proposed.
        #[serde(default)]
        added: Vec<DiscoveredColumn>,
        /// The source's columns now, when the drift check described them.
        #[serde(default)]
        current: Option<Vec<DiscoveredColumn>>,
        /// A multi-table job: each table's, in the request's order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tables: Vec<TableReady>,
    },
    TargetMissing {
        table: String,
    },
    SchemaDrift {
        message: String,
    },
}

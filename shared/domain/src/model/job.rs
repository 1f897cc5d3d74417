//! Sync jobs: which source object to read, how to filter and map it, where
//! to write it. The shapes here are the API contract (`POST /jobs`); their
//! deep validation (identifiers, types, expressions, connector rules) is the
//! job compiler's (the `JobCompiler` port), which knows Flink SQL.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::discovery::DiscoveredColumn;
use crate::{SourceId, TenantId};

ulid_id!(
    /// `job_` followed by a ULID.
    JobId,
    "job_",
    "job id"
);

/// A declared column: a Flink type string such as `BIGINT` or `DECIMAL(10,2)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// Incremental sync on a timestamp column: each run reads
/// `[from, to)` of that column, computed from the scheduled time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incremental {
    pub column: String,
    /// Where the first window starts.
    pub start: DateTime<Utc>,
    /// How far behind the scheduled time a window ends, for late rows.
    #[serde(default)]
    pub lag_seconds: u32,
}

/// Options of the row format, for Kafka and files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpec {
    /// `json`, `csv`, `avro` (Kafka) or `parquet` (files).
    #[serde(rename = "type")]
    pub kind: String,
    /// CSV only: one character, default `,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_delimiter: Option<String>,
    /// Skip rows that do not parse instead of failing the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_parse_errors: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSide {
    pub source_id: String,
    /// Table (`schema.table`), topic, or path below the source's path. A
    /// multi-table job names `objects` or `include` instead.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub object: String,
    /// The tables of a multi-table job, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<ObjectEntry>>,
    /// The tables of a multi-table job, by pattern (resolved when saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Include>,
    /// Tables an `include` leaves out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Exclude>,
    /// Omitted (or empty) for a database table: discovered when the job is
    /// saved, and stored with it.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// A boolean SQL expression over the columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<Incremental>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FormatSpec>,
    /// Kafka only: `earliest-offset` (default), `latest-offset`, `group-offsets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    Append,
    Upsert,
}

/// Whether a run creates its database target table when it is missing
/// (README, "Target tables and schema drift").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetCreate {
    /// Created before the run, from the job's columns, when it is missing.
    IfMissing,
    /// Never created: a missing table fails the run (`target_missing`).
    #[default]
    Never,
}

impl TargetCreate {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Read from a string, so that any other JSON value (`true`, a number) is
/// refused naming the field too (serde_json calls those syntax errors).
impl<'de> Deserialize<'de> for TargetCreate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match one_of(deserializer, &["if_missing", "never"])? {
            0 => Ok(Self::IfMissing),
            _ => Ok(Self::Never),
        }
    }
}

/// The index of the string `deserializer` holds among `allowed`.
fn one_of<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    allowed: &'static [&'static str],
) -> Result<usize, D::Error> {
    let must = || format!("must be one of: {}", allowed.join(", "));
    let value = serde_json::Value::deserialize(deserializer)?;
    value
        .as_str()
        .and_then(|s| allowed.iter().position(|a| *a == s))
        .ok_or_else(|| serde::de::Error::custom(must()))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSide {
    pub source_id: String,
    /// The target table; a multi-table job names its tables by `naming`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub object: String,
    /// Multi-table jobs: how each target table is named (default: the
    /// source table's own name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naming: Option<TargetNaming>,
    pub write_mode: WriteMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FormatSpec>,
    /// Database targets only.
    #[serde(default, skip_serializing_if = "TargetCreate::is_default")]
    pub create: TargetCreate,
}

/// One target column computed from the source columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub target: String,
    pub expr: String,
    /// The target column's type; may be left out when `expr` is a bare
    /// column or a CAST, whose type is known.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuntimeMode {
    Batch,
    Streaming,
}

/// Parallel JDBC reads split on a numeric column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionedRead {
    pub column: String,
    pub num: u32,
    pub lower_bound: i64,
    pub upper_bound: i64,
}

/// What a run does when the source table's columns differ from those the
/// job was built from (README, "Target tables and schema drift").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSchemaChange {
    /// The run fails (`schema_drift`) before Flink starts.
    #[default]
    Fail,
    /// New columns are added to the target table and the job; removed or
    /// retyped columns still fail the run.
    AddColumns,
}

impl OnSchemaChange {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl<'de> Deserialize<'de> for OnSchemaChange {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match one_of(deserializer, &["fail", "add_columns"])? {
            0 => Ok(Self::Fail),
            _ => Ok(Self::AddColumns),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobOptions {
    pub mode: RuntimeMode,
    #[serde(default = "default_parallelism")]
    pub parallelism: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioned_read: Option<PartitionedRead>,
    /// JDBC reads: rows per round trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_size: Option<u32>,
    /// JDBC writes: rows per batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_max_rows: Option<u32>,
    /// JDBC writes: longest wait before a partial batch is flushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_interval_ms: Option<u32>,
    /// JDBC writes: retries of a failed batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// Database sources whose columns were discovered.
    #[serde(default, skip_serializing_if = "OnSchemaChange::is_default")]
    pub on_schema_change: OnSchemaChange,
    /// Checks the copy after each successful run (README, "Validation").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<Validate>,
}

/// How a run's copy is checked once Flink finished it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Validate {
    /// The rows of the run's window are counted in the source and the
    /// target; different numbers fail the run (`validation_mismatch`).
    Count,
}

impl<'de> Deserialize<'de> for Validate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_of(deserializer, &["count"]).map(|_| Self::Count)
    }
}

fn default_parallelism() -> u32 {
    1
}

/// The name of a Flink target, one of those the deployment configures
/// (`SLUICE_FLINK_TARGETS`): where a job's runs are executed. A job without
/// one runs on the deployment's default target; a run records the name it
/// ran on, so the reconciler and cancel reach the same target.
///
/// A name is 1 to 32 characters of `a-z`, `0-9`, `-` and `_`, starting with
/// a letter: short enough to be kept inline, so the type is `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlinkTarget {
    len: u8,
    bytes: [u8; FlinkTarget::MAX_LEN],
}

impl FlinkTarget {
    pub const MAX_LEN: usize = 32;

    /// The name of the single target of a deployment that configures none
    /// (the self-hosted session cluster of `SLUICE_FLINK_REST_URL`), which
    /// runs recorded before targets had names also carry.
    pub const DEFAULT_SESSION: FlinkTarget = FlinkTarget::from_static("session");

    /// A valid name, else `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::check(raw.as_bytes()).then(|| Self::copy(raw.as_bytes()))
    }

    const fn from_static(raw: &'static str) -> Self {
        assert!(Self::check(raw.as_bytes()), "not a target name");
        Self::copy(raw.as_bytes())
    }

    const fn check(raw: &[u8]) -> bool {
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw[0].is_ascii_lowercase() {
            return false;
        }
        let mut i = 0;
        while i < raw.len() {
            let b = raw[i];
            if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
                return false;
            }
            i += 1;
        }
        true
    }

    const fn copy(raw: &[u8]) -> Self {
        let mut bytes = [0u8; Self::MAX_LEN];
        let mut i = 0;
        while i < raw.len() {
            bytes[i] = raw[i];
            i += 1;
        }
        Self {
            len: raw.len() as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("checked ASCII")
    }
}

/// In name order.
impl Ord for FlinkTarget {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for FlinkTarget {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FlinkTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for FlinkTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FlinkTarget({})", self.as_str())
    }
}

impl Serialize for FlinkTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FlinkTarget {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        FlinkTarget::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom(
                "must be a Flink target name: 1-32 of a-z, 0-9, - and _, starting with a letter",
            )
        })
    }
}

/// Everything a user sets on a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    pub source: SourceSide,
    pub target: TargetSide,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Vec<Mapping>>,
    pub options: JobOptions,
    /// A configured target's name; absent: the deployment's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flink_target: Option<FlinkTarget>,
    /// A multi-table job's tables as resolved when it was saved or
    /// refreshed. Computed: what a request sends here is replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<JobTable>,
}

impl JobSpec {
    /// Whether the job names several tables (`source.objects` or
    /// `source.include`) rather than one `source.object`.
    pub fn is_multi_table(&self) -> bool {
        self.source.objects.is_some() || self.source.include.is_some()
    }

    /// The single-table job that moves table `index` of a multi-table job:
    /// its columns, key and incremental column, the job's options. What the
    /// compiler checks and renders, and a run prepares, per table.
    pub fn table_spec(&self, index: usize) -> Option<JobSpec> {
        let table = self.tables.get(index)?;
        let incremental = match (&table.incremental_column, &self.source.incremental) {
            (Some(column), Some(inc)) => Some(Incremental {
                column: column.clone(),
                ..inc.clone()
            }),
            _ => None,
        };
        let mut options = self.options.clone();
        options.partitioned_read = None;
        Some(JobSpec {
            name: self.name.clone(),
            source: SourceSide {
                source_id: self.source.source_id.clone(),
                object: table.source.clone(),
                objects: None,
                include: None,
                exclude: None,
                columns: table.columns.clone(),
                filter: None,
                incremental,
                format: None,
                startup_mode: None,
            },
            target: TargetSide {
                source_id: self.target.source_id.clone(),
                object: table.target.clone(),
                naming: None,
                write_mode: self.target.write_mode,
                primary_key: match self.target.write_mode {
                    WriteMode::Upsert => table.primary_key.clone(),
                    WriteMode::Append => None,
                },
                format: None,
                create: self.target.create,
            },
            mapping: None,
            options,
            flink_target: self.flink_target,
            tables: Vec::new(),
        })
    }

    /// The distinct sources the job reads from and writes to.
    pub fn source_ids(&self) -> Vec<&str> {
        let mut ids = vec![
            self.source.source_id.as_str(),
            self.target.source_id.as_str(),
        ];
        ids.dedup();
        ids
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub tenant: TenantId,
    pub spec: JobSpec,
    /// The parsed ids of `spec.source.source_id` and `spec.target.source_id`.
    pub source_id: SourceId,
    pub target_id: SourceId,
    /// The source table's columns as discovery described them when the
    /// job's columns were discovered (`None` when the job lists its own):
    /// what each run compares the table with (schema drift).
    pub source_snapshot: Option<Vec<DiscoveredColumn>>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The half-open time window `[from, to)` a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

// Multi-table jobs: what a job selects and the tables it stores
// (model/selection.rs matches, names and resolves them).

/// One table a job names in `source.objects`: its name (as discovery lists
/// it), or an object with the table's own key and incremental column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub name: String,
    /// The key an upsert writes on, instead of the table's primary key.
    pub primary_key: Option<Vec<String>>,
    /// The column this table's runs read a window of, instead of
    /// `source.incremental.column`.
    pub incremental_column: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetailedEntry {
    name: String,
    #[serde(default)]
    primary_key: Option<Vec<String>>,
    #[serde(default)]
    incremental_column: Option<String>,
}

#[derive(Serialize)]
struct DetailedEntryRef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_key: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    incremental_column: Option<&'a str>,
}

/// A string, or `{name, primary_key?, incremental_column?}`.
impl<'de> Deserialize<'de> for ObjectEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match value {
            serde_json::Value::String(name) => Ok(Self {
                name,
                primary_key: None,
                incremental_column: None,
            }),
            serde_json::Value::Object(_) => {
                let d: DetailedEntry =
                    serde_json::from_value(value).map_err(serde::de::Error::custom)?;
                Ok(Self {
                    name: d.name,
                    primary_key: d.primary_key,
                    incremental_column: d.incremental_column,
                })
            }
            _ => Err(serde::de::Error::custom(
                "must be a table name or {name, primary_key, incremental_column}",
            )),
        }
    }
}

/// As a plain string when it has nothing but a name.
impl Serialize for ObjectEntry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.primary_key.is_none() && self.incremental_column.is_none() {
            return serializer.serialize_str(&self.name);
        }
        DetailedEntryRef {
            name: &self.name,
            primary_key: self.primary_key.as_ref(),
            incremental_column: self.incremental_column.as_deref(),
        }
        .serialize(serializer)
    }
}

/// Every table of a schema whose own name matches (`source.include`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    /// PostgreSQL: the schema (default: every schema the user can read but
    /// the system ones). MySQL: ignored (the database is the source's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// SQL `LIKE` on the table's own name (`%`, `_`, `\` escapes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<String>,
    /// A regular expression (Rust `regex` syntax, unanchored: write `^…$`)
    /// on the table's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// Tables to leave out of an include (`source.exclude`), on their own name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclude {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

/// How each target table is named from its source table (`target.naming`):
/// the source table's own name (without its schema) between `prefix` and
/// `suffix`, or a `template` with `{schema}` and `{table}`, whose `.`
/// separates the target's schema from its table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetNaming {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// One table a saved multi-table job covers, as discovery found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobTable {
    /// The source table, as discovery names it.
    pub source: String,
    /// The target table, named by `target.naming`.
    pub target: String,
    /// Its columns with their proposed Flink types.
    pub columns: Vec<Column>,
    /// The key an upsert writes on (the entry's, else the table's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<String>>,
    /// The column a window is read of; none: the whole table every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental_column: Option<String>,
    /// The columns as discovered: what each run compares the table with.
    pub snapshot: Vec<DiscoveredColumn>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_are_checked_and_round_trip() {
        for good in ["session", "gw", "msf-eu_1", "a", &"a".repeat(32)] {
            let name = FlinkTarget::parse(good).unwrap();
            assert_eq!(name.as_str(), good);
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(json, format!("\"{good}\""));
            assert_eq!(serde_json::from_str::<FlinkTarget>(&json).unwrap(), name);
        }
        for bad in [
            "",
            "Session",
            "1gw",
            "-gw",
            "g w",
            "gw!",
            "ü",
            &"a".repeat(33),
        ] {
            assert_eq!(FlinkTarget::parse(bad), None, "{bad}");
            assert!(serde_json::from_str::<FlinkTarget>(&format!("\"{bad}\"")).is_err());
        }
        assert_eq!(FlinkTarget::DEFAULT_SESSION.as_str(), "session");
    }
}

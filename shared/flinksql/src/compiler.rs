//! The [`JobCompiler`]: checks a job against its endpoints into a [`Plan`],
//! and renders a plan, a window and the secrets into one script.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use secrecy::ExposeSecret;
use sluice_domain::model::discovery::{TableColumn, TableSpec};
use sluice_domain::model::job::{JobId, JobSpec, Mapping, RuntimeMode, Window, WriteMode};
use sluice_domain::ports::{JobCompiler, RenderError, SecretExposure};
use sluice_domain::{Secrets, Source, SourceKind, ValidationErrors};

use crate::connector::{
    Endpoint, Format, OptionValue, Side, TableContext, can_write, check_format, check_object,
    check_options, endpoint, key_columns,
};
use crate::expr::{self, Expr};
use crate::ident::{check_identifier, check_name_for_kind, jdbc_name, quote_identifier};
use crate::literal::{MASK, jaas_quoted, string_literal, window_bound};
use crate::types::FlinkType;

/// The longest job name.
pub const MAX_NAME_CHARS: usize = 200;
/// The most columns or mappings of a job.
pub const MAX_COLUMNS: usize = 1000;

/// The source and target table names.
pub const SOURCE_TABLE: &str = "src";
pub const TARGET_TABLE: &str = "dst";

/// Renders jobs as Flink SQL 2.2 scripts. Pure: no I/O.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlinkSqlCompiler;

/// One item of the SELECT list.
#[derive(Debug, Clone)]
struct SelectItem {
    expr: Expr,
    /// Wrap in `CAST(... AS ty)`: the declared type differs from the known one.
    cast_to: Option<FlinkType>,
    alias: String,
}

/// A job that passed every check, ready to render.
#[derive(Debug, Clone)]
pub struct Plan {
    name: String,
    mode: RuntimeMode,
    parallelism: u32,
    source_columns: Vec<(String, FlinkType)>,
    target_columns: Vec<(String, FlinkType)>,
    primary_key: Option<Vec<String>>,
    select: Vec<SelectItem>,
    filter: Option<Expr>,
    /// The incremental column and its type.
    incremental: Option<(String, FlinkType)>,
    source: Endpoint,
    target: Endpoint,
    source_format: Option<Format>,
    target_format: Option<Format>,
    spec: JobSpec,
    /// The Flink names of its source and target tables: [`SOURCE_TABLE`]
    /// and [`TARGET_TABLE`], suffixed `_<n>` for table n of a multi-table
    /// job, so that each vertex's rows are attributed to its table.
    source_table: String,
    target_table: String,
}

/// The plans of every table a job moves: one for a single-table job.
#[derive(Debug, Clone)]
pub struct Plans(Vec<Plan>);

fn check_name(name: &str, errors: &mut ValidationErrors) {
    if name.trim().is_empty() {
        errors.push("name", "must not be blank");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.push(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        );
    } else if name.chars().any(char::is_control) {
        errors.push("name", "must not contain control characters");
    }
}

/// Checks the declared source columns; returns the ones that are valid.
fn check_columns(
    spec: &JobSpec,
    kind: SourceKind,
    errors: &mut ValidationErrors,
) -> Vec<(String, FlinkType)> {
    let columns = &spec.source.columns;
    if columns.is_empty() {
        errors.push("source.columns", "must declare at least one column");
    }
    if columns.len() > MAX_COLUMNS {
        errors.push(
            "source.columns",
            format!("must declare at most {MAX_COLUMNS} columns"),
        );
        return Vec::new();
    }
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let path = format!("source.columns[{i}].name");
        let checked = check_identifier(&path, &column.name)
            .and_then(|()| check_name_for_kind(&path, &column.name, kind, false));
        let name_ok = match checked {
            Ok(()) => {
                if let Some(first) = seen.insert(column.name.clone(), i) {
                    errors.push(
                        format!("source.columns[{i}].name"),
                        format!("repeats source.columns[{first}].name"),
                    );
                    false
                } else {
                    true
                }
            }
            Err(e) => {
                errors.add(e);
                false
            }
        };
        match FlinkType::parse(&column.type_name) {
            Ok(ty) if name_ok => out.push((column.name.clone(), ty)),
            Ok(_) => {}
            Err(reason) => errors.push(format!("source.columns[{i}].type"), reason),
        }
    }
    out
}

impl FlinkSqlCompiler {
    /// Checks `spec` against its endpoints and returns what to render.
    pub fn plan(
        &self,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<Plan, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        check_name(&spec.name, &mut errors);
        let ends = check_endpoints(spec, source, target, &mut errors);
        let source_columns = check_columns(spec, source.kind, &mut errors);
        let columns = ColumnTypes::new(&source_columns, spec.source.columns.len());
        let filter = check_filter(spec, &columns, &mut errors);
        let incremental = check_incremental(spec, &columns, &mut errors);
        check_partitioned_read(spec, &columns, &mut errors);
        let (target_columns, select) = match &spec.mapping {
            None => (source_columns.clone(), identity_select(&source_columns)),
            Some(mapping) => check_mapping(mapping, &columns, &mut errors),
        };
        check_target_columns(spec, target.kind, &ends, &target_columns, &mut errors);
        check_source_types(source.kind, &ends, &source_columns, &mut errors);
        let targets_complete = match &spec.mapping {
            Some(m) => target_columns.len() == m.len(),
            None => columns.all_valid,
        };
        let primary_key = check_primary_key(spec, &target_columns, targets_complete, &mut errors);
        errors.into_result()?;
        Ok(Plan {
            name: spec.name.clone(),
            mode: spec.options.mode,
            parallelism: spec.options.parallelism,
            source_columns,
            target_columns,
            primary_key,
            select,
            filter,
            incremental,
            source: ends.source.expect("no errors, so the endpoint was read"),
            target: ends.target.expect("no errors, so the endpoint was read"),
            source_format: ends.source_format,
            target_format: ends.target_format,
            spec: spec.clone(),
            source_table: SOURCE_TABLE.to_owned(),
            target_table: TARGET_TABLE.to_owned(),
        })
    }

    /// Checks every table of `spec`: the job itself when it names one, else
    /// each of its `tables` as a single-table job, whose problems are named
    /// under `tables[i]`.
    pub fn plan_all(
        &self,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<Plans, ValidationErrors> {
        if !spec.is_multi_table() {
            return self.plan(spec, source, target).map(|p| Plans(vec![p]));
        }
        let mut errors = ValidationErrors::new();
        check_name(&spec.name, &mut errors);
        if spec.tables.is_empty() {
            errors.push("tables", "a multi-table job must cover at least one table");
        }
        let mut plans = Vec::with_capacity(spec.tables.len());
        for i in 0..spec.tables.len() {
            let one = spec.table_spec(i).expect("an index of tables");
            match self.plan(&one, source, target) {
                Ok(mut plan) => {
                    plan.source_table = table_name(SOURCE_TABLE, i);
                    plan.target_table = table_name(TARGET_TABLE, i);
                    plans.push(plan);
                }
                Err(found) => {
                    for e in found.errors().iter().filter(|e| e.field != "name") {
                        errors.push(format!("tables[{i}].{}", e.field), e.reason.clone());
                    }
                }
            }
        }
        errors.into_result()?;
        Ok(Plans(plans))
    }
}

/// The Flink name of table `index` (0-based) of a multi-table job's side:
/// `src_1`, `dst_1`, ... (see `sluice_flink`'s per-table row counts).
pub fn table_name(side: &str, index: usize) -> String {
    format!("{side}_{}", index + 1)
}

impl Plans {
    /// The whole script: the `SET` lines once, then every table's tables and
    /// `INSERT`, which the runner submits as one statement set (one Flink
    /// job). A table without an incremental column reads all its rows.
    pub fn render(
        &self,
        job_id: &JobId,
        window: Option<Window>,
        secrets: SecretExposure<'_>,
    ) -> Result<String, RenderError> {
        let first = self.0.first().expect("a plan per table, at least one");
        let multi = self.0.len() > 1 || first.source_table != SOURCE_TABLE;
        let mut out = first.header(job_id);
        for plan in &self.0 {
            let window = match multi {
                true => window.filter(|_| plan.incremental.is_some()),
                false => window,
            };
            out.push_str(&plan.body(job_id, window, secrets)?);
        }
        Ok(out)
    }

    pub fn tables(&self) -> usize {
        self.0.len()
    }
}

/// The two endpoints of a job as far as they check out, with their formats.
struct Ends {
    source: Option<Endpoint>,
    target: Option<Endpoint>,
    source_format: Option<Format>,
    target_format: Option<Format>,
}

/// Endpoints, objects, formats, the Kafka startup mode, the write mode and
/// the options.
fn check_endpoints(
    spec: &JobSpec,
    source: &Source,
    target: &Source,
    errors: &mut ValidationErrors,
) -> Ends {
    let source_end = endpoint(Side::Source, source, errors);
    let target_end = endpoint(Side::Target, target, errors);
    check_object(Side::Source, source.kind, &spec.source.object, errors);
    check_object(Side::Target, target.kind, &spec.target.object, errors);
    let source_format = check_format(
        Side::Source,
        source.kind,
        spec.source.format.as_ref(),
        errors,
    );
    let target_format = check_format(
        Side::Target,
        target.kind,
        spec.target.format.as_ref(),
        errors,
    );
    if let Some(mode) = &spec.source.startup_mode {
        if source.kind != SourceKind::Kafka {
            errors.push(
                "source.startup_mode",
                format!("only applies to kafka sources, not {}", source.kind),
            );
        } else if !["earliest-offset", "latest-offset", "group-offsets"].contains(&mode.as_str()) {
            errors.push(
                "source.startup_mode",
                "must be one of earliest-offset, latest-offset, group-offsets",
            );
        }
    }
    if !can_write(target.kind, spec.target.write_mode) {
        errors.push(
            "target.write_mode",
            format!("a {} target can only append", target.kind),
        );
    }
    check_options(&spec.options, source.kind, target.kind, errors);
    Ends {
        source: source_end,
        target: target_end,
        source_format,
        target_format,
    }
}

/// The valid source columns by name, for what refers to them.
struct ColumnTypes {
    types: BTreeMap<String, FlinkType>,
    /// Every declared column is valid. References are only checked then;
    /// otherwise the column errors are what to fix first.
    all_valid: bool,
}

impl ColumnTypes {
    fn new(valid: &[(String, FlinkType)], declared: usize) -> Self {
        Self {
            types: valid.iter().cloned().collect(),
            all_valid: valid.len() == declared,
        }
    }

    /// The type of column `name`, which the field at `path` refers to.
    fn lookup(&self, path: &str, name: &str, errors: &mut ValidationErrors) -> Option<FlinkType> {
        if let Err(e) = check_identifier(path, name) {
            errors.add(e);
            None
        } else if let Some(ty) = self.types.get(name) {
            Some(*ty)
        } else {
            if self.all_valid {
                errors.push(path, "must be one of source.columns");
            }
            None
        }
    }

    /// `text` parsed as an expression over the columns; an error is named at
    /// `path` unless it is an unknown column while some column is invalid.
    fn parse(&self, path: &str, text: &str, errors: &mut ValidationErrors) -> Option<Expr> {
        match expr::parse(text, &self.types) {
            Ok(e) => Some(e),
            Err(e) => {
                if self.all_valid || !e.unknown_column {
                    errors.push(path, e.reason);
                }
                None
            }
        }
    }
}

fn check_filter(
    spec: &JobSpec,
    columns: &ColumnTypes,
    errors: &mut ValidationErrors,
) -> Option<Expr> {
    let text = spec.source.filter.as_ref()?;
    let filter = columns.parse("source.filter", text, errors)?;
    if filter.may_be_boolean(&columns.types) {
        Some(filter)
    } else {
        errors.push("source.filter", "must be a condition (true or false)");
        None
    }
}

fn check_incremental(
    spec: &JobSpec,
    columns: &ColumnTypes,
    errors: &mut ValidationErrors,
) -> Option<(String, FlinkType)> {
    let inc = spec.source.incremental.as_ref()?;
    if spec.options.mode != RuntimeMode::Batch {
        errors.push("source.incremental", "needs options.mode batch");
    }
    let ty = columns.lookup("source.incremental.column", &inc.column, errors)?;
    if matches!(
        ty,
        FlinkType::Timestamp(_) | FlinkType::TimestampLtz(_) | FlinkType::Date
    ) {
        Some((inc.column.clone(), ty))
    } else {
        errors.push(
            "source.incremental.column",
            "must be a TIMESTAMP, TIMESTAMP_LTZ or DATE column",
        );
        None
    }
}

fn check_partitioned_read(spec: &JobSpec, columns: &ColumnTypes, errors: &mut ValidationErrors) {
    if let Some(pr) = &spec.options.partitioned_read
        && let Some(ty) = columns.lookup("options.partitioned_read.column", &pr.column, errors)
        && !ty.is_integer()
    {
        errors.push(
            "options.partitioned_read.column",
            "must be an integer column (TINYINT, SMALLINT, INT or BIGINT)",
        );
    }
}

/// Without a mapping, every source column is written as it is.
fn identity_select(source_columns: &[(String, FlinkType)]) -> Vec<SelectItem> {
    source_columns
        .iter()
        .map(|(name, _)| SelectItem {
            expr: Expr::Column(name.clone()),
            cast_to: None,
            alias: name.clone(),
        })
        .collect()
}

/// The target columns and the select list a mapping asks for.
fn check_mapping(
    mapping: &[Mapping],
    columns: &ColumnTypes,
    errors: &mut ValidationErrors,
) -> (Vec<(String, FlinkType)>, Vec<SelectItem>) {
    if mapping.is_empty() {
        errors.push("mapping", "must map at least one column when given");
    }
    if mapping.len() > MAX_COLUMNS {
        errors.push(
            "mapping",
            format!("must have at most {MAX_COLUMNS} entries"),
        );
    }
    let mut seen = BTreeMap::new();
    let mut target_columns = Vec::new();
    let mut select = Vec::new();
    for (i, m) in mapping.iter().enumerate().take(MAX_COLUMNS) {
        let target_ok = match check_identifier(&format!("mapping[{i}].target"), &m.target) {
            Err(e) => {
                errors.add(e);
                false
            }
            Ok(()) => match seen.insert(m.target.clone(), i) {
                Some(first) => {
                    errors.push(
                        format!("mapping[{i}].target"),
                        format!("repeats mapping[{first}].target"),
                    );
                    false
                }
                None => true,
            },
        };
        let parsed = columns.parse(&format!("mapping[{i}].expr"), &m.expr, errors);
        let declared = match &m.type_name {
            Some(text) => match FlinkType::parse(text) {
                Ok(ty) => Some(ty),
                Err(reason) => {
                    errors.push(format!("mapping[{i}].type"), reason);
                    continue;
                }
            },
            None => None,
        };
        let Some(parsed) = parsed else { continue };
        let known = parsed.known_type(&columns.types);
        let Some(ty) = declared.or(known) else {
            errors.push(
                format!("mapping[{i}].type"),
                "is required unless expr is a bare column or a CAST",
            );
            continue;
        };
        if target_ok {
            target_columns.push((m.target.clone(), ty));
            select.push(SelectItem {
                cast_to: (known != Some(ty)).then_some(ty),
                expr: parsed,
                alias: m.target.clone(),
            });
        }
    }
    (target_columns, select)
}

/// Target names as the target database takes them, and types its
/// connector and format carry exactly.
fn check_target_columns(
    spec: &JobSpec,
    kind: SourceKind,
    ends: &Ends,
    target_columns: &[(String, FlinkType)],
    errors: &mut ValidationErrors,
) {
    for (i, (name, ty)) in target_columns.iter().enumerate() {
        let (path, type_path) = match &spec.mapping {
            Some(_) => (format!("mapping[{i}].target"), format!("mapping[{i}].type")),
            None => (
                format!("source.columns[{i}].name"),
                format!("source.columns[{i}].type"),
            ),
        };
        if let Err(e) = check_name_for_kind(&path, name, kind, true) {
            errors.add(e);
        }
        let problem = jdbc_type_problem(kind, *ty)
            .or_else(|| format_type_problem(ends.target_format.as_ref(), *ty));
        if let Some(reason) = problem {
            errors.push(type_path, reason);
        }
    }
}

/// Source types its connector and format read exactly.
fn check_source_types(
    kind: SourceKind,
    ends: &Ends,
    source_columns: &[(String, FlinkType)],
    errors: &mut ValidationErrors,
) {
    for (i, (_, ty)) in source_columns.iter().enumerate() {
        let problem = jdbc_type_problem(kind, *ty)
            .or_else(|| format_type_problem(ends.source_format.as_ref(), *ty));
        if let Some(reason) = problem {
            errors.push(format!("source.columns[{i}].type"), reason);
        }
    }
}

/// The primary key an upsert needs (and an append may not have).
fn check_primary_key(
    spec: &JobSpec,
    target_columns: &[(String, FlinkType)],
    targets_complete: bool,
    errors: &mut ValidationErrors,
) -> Option<Vec<String>> {
    match (spec.target.write_mode, &spec.target.primary_key) {
        (WriteMode::Append, None) => None,
        (WriteMode::Append, Some(_)) => {
            errors.push(
                "target.primary_key",
                "is only allowed with write_mode upsert",
            );
            None
        }
        (WriteMode::Upsert, None) => {
            errors.push("target.primary_key", "is required with write_mode upsert");
            None
        }
        (WriteMode::Upsert, Some(keys)) => {
            if keys.is_empty() {
                errors.push("target.primary_key", "must name at least one column");
            }
            let target_names: BTreeSet<&str> =
                target_columns.iter().map(|(n, _)| n.as_str()).collect();
            let mut seen = BTreeSet::new();
            for (i, key) in keys.iter().enumerate() {
                let path = format!("target.primary_key[{i}]");
                if let Err(e) = check_identifier(&path, key) {
                    errors.add(e);
                } else if !seen.insert(key.as_str()) {
                    errors.push(path, "repeats a primary key column");
                } else if !target_names.contains(key.as_str()) && targets_complete {
                    errors.push(path, "must be one of the target columns");
                }
            }
            Some(keys.clone())
        }
    }
}

/// Resolves one option value for the script.
fn option_value(
    value: &OptionValue,
    side: Side,
    secrets: &SecretExposure<'_>,
) -> Result<String, RenderError> {
    let lookup = |name: &str| -> Result<Option<String>, RenderError> {
        let store: &Secrets = match secrets {
            SecretExposure::Masked => return Ok(None),
            SecretExposure::Revealed { source, target } => match side {
                Side::Source => source,
                Side::Target => target,
            },
        };
        store
            .get(name)
            .map(|s| Some(s.expose_secret().to_owned()))
            .ok_or_else(|| RenderError::MissingSecret(format!("{}.{name}", side.as_str())))
    };
    Ok(match value {
        OptionValue::Text(t) => string_literal(t),
        OptionValue::Secret(name) => match lookup(name)? {
            None => string_literal(MASK),
            Some(v) => string_literal(&v),
        },
        OptionValue::Jaas {
            module,
            username,
            secret,
        } => match lookup(secret)? {
            None => string_literal(MASK),
            Some(password) => string_literal(&format!(
                "{module} required username={} password={};",
                jaas_quoted(username),
                jaas_quoted(&password)
            )),
        },
    })
}

/// Why a JDBC table cannot carry `ty` exactly, if it cannot: such a job is
/// refused when it is saved rather than changing values when it runs.
fn jdbc_type_problem(kind: SourceKind, ty: FlinkType) -> Option<&'static str> {
    if !matches!(kind, SourceKind::Postgres | SourceKind::Mysql) {
        return None;
    }
    match ty {
        FlinkType::Time(p) if p > 3 => Some(
            "Flink's TIME holds milliseconds, so TIME above precision 3 would lose digits: \
             declare TIME(3) or less, or STRING to carry the time as exact text",
        ),
        FlinkType::Timestamp(p) | FlinkType::TimestampLtz(p) if p > 6 => Some(
            "PostgreSQL and MySQL hold at most 6 fractional digits: declare a precision of 6 or \
             less",
        ),
        FlinkType::Binary(_) | FlinkType::Varbinary(_) if ty != FlinkType::BYTES => Some(
            "Flink's JDBC connector reads and writes binary columns only as BYTES: declare BYTES",
        ),
        _ => None,
    }
}

/// Why rows of `format` cannot carry `ty` exactly, if they cannot.
fn format_type_problem(format: Option<&Format>, ty: FlinkType) -> Option<&'static str> {
    match (format.map(|f| f.kind), ty) {
        (Some("json"), FlinkType::Time(p)) if p > 0 => Some(
            "Flink's JSON format writes TIME to whole seconds: declare TIME(0), or STRING to \
             carry the time as exact text",
        ),
        (Some("csv"), FlinkType::Time(p)) if p > 0 => Some(
            "Flink's CSV format reads TIME to whole seconds: declare TIME(0), or STRING to \
             carry the time as exact text",
        ),
        _ => None,
    }
}

/// A column's Flink field name in a table: JDBC tables carry the encoded
/// name that sluice's JDBC dialects decode (see [`jdbc_name`]).
fn field_name(column: &str, jdbc: bool) -> String {
    if jdbc {
        jdbc_name(column)
    } else {
        column.to_owned()
    }
}

fn create_table(
    name: &str,
    columns: &[(String, FlinkType)],
    jdbc: bool,
    primary_key: Option<&[String]>,
    options: &[(String, String)],
) -> String {
    let mut lines: Vec<String> = columns
        .iter()
        .map(|(c, ty)| format!("  {} {}", quote_identifier(&field_name(c, jdbc)), ty.sql()))
        .collect();
    if let Some(keys) = primary_key {
        lines.push(format!(
            "  PRIMARY KEY ({}) NOT ENFORCED",
            key_columns(keys, jdbc)
        ));
    }
    let with: Vec<String> = options
        .iter()
        .map(|(k, v)| format!("  {} = {}", string_literal(k), v))
        .collect();
    format!(
        "CREATE TEMPORARY TABLE {} (\n{}\n) WITH (\n{}\n);\n",
        quote_identifier(name),
        lines.join(",\n"),
        with.join(",\n")
    )
}

fn check_window(plan: &Plan, window: Option<Window>) -> Result<Option<Window>, RenderError> {
    match (&plan.incremental, window) {
        (Some(_), None) => Err(RenderError::Window(
            "the job is incremental: a run needs a window".into(),
        )),
        (None, Some(_)) => Err(RenderError::Window(
            "the job is not incremental: a run takes no window".into(),
        )),
        (None, None) => Ok(None),
        (Some(_), Some(w)) => {
            if w.from >= w.to {
                return Err(RenderError::Window(
                    "the window must end after it starts".into(),
                ));
            }
            if !(1..=9999).contains(&w.from.year()) || !(1..=9999).contains(&w.to.year()) {
                return Err(RenderError::Window(
                    "the window must lie within the years 1 to 9999".into(),
                ));
            }
            Ok(Some(w))
        }
    }
}

impl Plan {
    /// The whole script.
    pub fn render(
        &self,
        job_id: &JobId,
        window: Option<Window>,
        secrets: SecretExposure<'_>,
    ) -> Result<String, RenderError> {
        let mut out = self.header(job_id);
        out.push_str(&self.body(job_id, window, secrets)?);
        Ok(out)
    }

    /// The `SET` lines.
    fn header(&self, job_id: &JobId) -> String {
        let mut out = String::new();

        // SET lines.
        let mode = match self.mode {
            RuntimeMode::Batch => "batch",
            RuntimeMode::Streaming => "streaming",
        };
        let pipeline = format!("sluice/{}/{}", job_id.as_str(), self.name);
        for (key, value) in [
            ("execution.runtime-mode", mode.to_owned()),
            ("parallelism.default", self.parallelism.to_string()),
            ("pipeline.name", pipeline),
            // Row counts: Flink keeps only per-vertex I/O counts after a job
            // ends, and a chained source -> sink vertex exchanges nothing to
            // count. This asks for counts: the runner counts with counting
            // operators and chains again (RowCounting.java); where it cannot
            // (and on the SQL Gateway) the source's vertex counts the rows it
            // sent and the sink's the rows it took
            // (shared/flink/src/job_metrics.rs; BENCHMARKS.md, "Row counts").
            ("pipeline.operator-chaining.enabled", "false".to_owned()),
        ] {
            out.push_str(&format!(
                "SET {} = {};\n",
                string_literal(key),
                string_literal(&value)
            ));
        }
        out
    }

    /// The job's tables and its `INSERT`.
    fn body(
        &self,
        job_id: &JobId,
        window: Option<Window>,
        secrets: SecretExposure<'_>,
    ) -> Result<String, RenderError> {
        let window = check_window(self, window)?;
        let mut out = String::new();
        // Tables.
        let group_id = format!("sluice-{}", job_id.as_str());
        let spec = &self.spec;
        let render_options = |end: &Endpoint, cx: &TableContext<'_>| {
            end.options(cx)
                .into_iter()
                .map(|(k, v)| option_value(&v, end.side(), &secrets).map(|v| (k, v)))
                .collect::<Result<Vec<_>, RenderError>>()
        };
        let source_options = render_options(
            &self.source,
            &TableContext {
                object: &spec.source.object,
                format: self.source_format.as_ref(),
                mode: self.mode,
                options: &spec.options,
                startup_mode: spec.source.startup_mode.as_deref(),
                write_mode: spec.target.write_mode,
                group_id: &group_id,
            },
        )?;
        let target_options = render_options(
            &self.target,
            &TableContext {
                object: &spec.target.object,
                format: self.target_format.as_ref(),
                mode: self.mode,
                options: &spec.options,
                startup_mode: None,
                write_mode: spec.target.write_mode,
                group_id: &group_id,
            },
        )?;
        out.push('\n');
        out.push_str(&self.source_tables(&source_options));
        out.push('\n');
        let target_jdbc = self.target.is_jdbc();
        out.push_str(&create_table(
            &self.target_table,
            &self.target_columns,
            target_jdbc,
            self.primary_key.as_deref(),
            &target_options,
        ));

        // The INSERT.
        let targets: Vec<String> = self
            .target_columns
            .iter()
            .map(|(c, _)| quote_identifier(&field_name(c, target_jdbc)))
            .collect();
        let items: Vec<String> = self
            .select
            .iter()
            .map(|item| {
                let expr = match item.cast_to {
                    Some(ty) => format!("CAST({} AS {})", item.expr.sql(), ty.sql()),
                    None => item.expr.sql(),
                };
                if matches!(&item.expr, Expr::Column(c) if *c == item.alias)
                    && item.cast_to.is_none()
                {
                    format!("  {expr}")
                } else {
                    format!("  {expr} AS {}", quote_identifier(&item.alias))
                }
            })
            .collect();
        let mut conditions = Vec::new();
        if let Some(filter) = &self.filter {
            // Alone it needs no parentheses; with the window's conditions
            // an AND chain joins them flat, anything else compound keeps
            // its parentheses.
            conditions.push(if self.incremental.is_some() {
                filter.operand_of(expr::BinOp::And)
            } else {
                filter.sql()
            });
        }
        if let (Some((column, ty)), Some(w)) = (&self.incremental, window) {
            let col = quote_identifier(column);
            let from = window_bound(ty, w.from).expect("incremental types have window bounds");
            let to = window_bound(ty, w.to).expect("incremental types have window bounds");
            conditions.push(format!("({col} >= {from})"));
            conditions.push(format!("({col} < {to})"));
        }
        out.push('\n');
        out.push_str(&format!(
            "INSERT INTO {} ({})\nSELECT\n{}\nFROM {}",
            quote_identifier(&self.target_table),
            targets.join(", "),
            items.join(",\n"),
            quote_identifier(&self.source_table)
        ));
        if !conditions.is_empty() {
            out.push_str("\nWHERE ");
            out.push_str(&conditions.join("\n  AND "));
        }
        out.push_str(";\n");
        Ok(out)
    }
}

impl Plan {
    /// The source table, named [`SOURCE_TABLE`]. A JDBC table whose field
    /// names are encoded is declared as `src_fields` and renamed back to the
    /// columns' names by a view, so that filters and mappings use the names
    /// the user gave (the planner pushes them through the view).
    fn source_tables(&self, options: &[(String, String)]) -> String {
        let jdbc = self.source.is_jdbc();
        let renamed = jdbc
            && self
                .source_columns
                .iter()
                .any(|(c, _)| field_name(c, true) != *c);
        if !renamed {
            return create_table(
                &self.source_table,
                &self.source_columns,
                jdbc,
                None,
                options,
            );
        }
        let raw = format!("{}_fields", self.source_table);
        let columns: Vec<String> = self
            .source_columns
            .iter()
            .map(|(c, _)| {
                format!(
                    "  {} AS {}",
                    quote_identifier(&field_name(c, true)),
                    quote_identifier(c)
                )
            })
            .collect();
        format!(
            "{}\nCREATE TEMPORARY VIEW {} AS\nSELECT\n{}\nFROM {};\n",
            create_table(&raw, &self.source_columns, true, None, options),
            quote_identifier(&self.source_table),
            columns.join(",\n"),
            quote_identifier(&raw)
        )
    }
}

impl JobCompiler for FlinkSqlCompiler {
    fn check(
        &self,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<(), ValidationErrors> {
        self.plan_all(spec, source, target).map(|_| ())
    }

    fn render(
        &self,
        job_id: &JobId,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
        window: Option<Window>,
        secrets: SecretExposure<'_>,
    ) -> Result<String, RenderError> {
        self.plan_all(spec, source, target)
            .map_err(RenderError::Invalid)?
            .render(job_id, window, secrets)
    }

    fn target_table(
        &self,
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<TableSpec, RenderError> {
        let plan = self
            .plan(spec, source, target)
            .map_err(RenderError::Invalid)?;
        let primary_key = plan.primary_key.unwrap_or_default();
        let columns = plan
            .target_columns
            .iter()
            .map(|(name, ty)| TableColumn {
                name: name.clone(),
                flink_type: ty.sql(),
                nullable: !primary_key.contains(name),
            })
            .collect();
        Ok(TableSpec {
            object: spec.target.object.clone(),
            columns,
            primary_key,
        })
    }
}

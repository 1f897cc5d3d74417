//! Multi-table jobs (README, "Whole-database and multi-table jobs"): which
//! tables a job covers (`source.objects`, or `source.include` with
//! `source.exclude`), what each target table is called (`target.naming`),
//! and the tables as the job stores them once resolved (`tables`).
//!
//! Pure: matching names and naming targets. The jobs service resolves a
//! selection through discovery when the job is saved or refreshed.

use crate::Source;
use crate::model::discovery::{ObjectDescription, TypeProposal};
use crate::model::job::{Column, JobSpec, WriteMode};
// The selection as a job stores it lives with the job (model/job.rs).
pub use crate::model::job::{Exclude, Include, JobTable, ObjectEntry, TargetNaming};
use crate::model::validation::{FieldError, ValidationErrors};

/// The most tables one job may cover.
pub const MAX_TABLES: usize = 500;
/// The longest pattern, prefix, suffix or template.
pub const MAX_PATTERN_CHARS: usize = 300;

/// A table name's parts as a job names it: `table` or `schema.table`, a
/// part in double quotes when it holds `.` or `"` (a quote doubled). The
/// same reading as the compiler's; `None` when it is not a name.
pub fn split_object_name(object: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = object.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return None;
                }
                part.push(c);
                chars.next();
            }
        }
        if part.is_empty() {
            return None;
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// Parts joined as [`split_object_name`] reads them back.
pub fn join_object_name(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.contains(['.', '"']) || p.starts_with(' ') || p.ends_with(' ') {
                format!("\"{}\"", p.replace('"', "\"\""))
            } else {
                p.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// SQL `LIKE`: `%` any run, `_` any one character, `\` escapes the next.
pub fn like_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last `%`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '_' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == t[ti] => {
                    pi += 2;
                    ti += 1;
                    continue;
                }
                '\\' => {}
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

/// A compiled name filter: a `LIKE` pattern or a regular expression.
#[derive(Debug, Clone)]
pub enum NameFilter {
    Like(String),
    Regex(regex_lite::Regex),
}

impl NameFilter {
    /// The filter `like` or `regex` give at `path` (exactly one of them).
    pub fn parse(
        path: &str,
        like: Option<&str>,
        regex: Option<&str>,
    ) -> Result<Option<Self>, FieldError> {
        match (like, regex) {
            (Some(_), Some(_)) => Err(FieldError::new(path, "takes like or regex, not both")),
            (None, None) => Ok(None),
            (Some(like), None) => {
                check_pattern(&format!("{path}.like"), like)?;
                Ok(Some(Self::Like(like.to_owned())))
            }
            (None, Some(regex)) => {
                let field = format!("{path}.regex");
                check_pattern(&field, regex)?;
                regex_lite::Regex::new(regex)
                    .map(|r| Some(Self::Regex(r)))
                    .map_err(|e| {
                        FieldError::new(field, format!("is not a regular expression: {e}"))
                    })
            }
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        match self {
            Self::Like(p) => like_matches(p, name),
            Self::Regex(r) => r.is_match(name),
        }
    }
}

fn check_pattern(field: &str, pattern: &str) -> Result<(), FieldError> {
    if pattern.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_PATTERN_CHARS} characters"),
        ));
    }
    if pattern.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

impl TargetNaming {
    /// The rule's own problems, named under `target.naming`.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let text = [
            ("prefix", &self.prefix),
            ("suffix", &self.suffix),
            ("template", &self.template),
        ];
        for (name, value) in text {
            if let Some(v) = value {
                let field = format!("target.naming.{name}");
                if v.chars().count() > MAX_PATTERN_CHARS {
                    errors.push(
                        field,
                        format!("must be at most {MAX_PATTERN_CHARS} characters"),
                    );
                } else if v.chars().any(|c| c.is_control() || c == '"') {
                    errors.push(field, "must not contain control characters or \"");
                }
            }
        }
        if let Some(template) = &self.template {
            if self.prefix.is_some() || self.suffix.is_some() {
                errors.push(
                    "target.naming.template",
                    "takes no prefix or suffix: write them into the template",
                );
            }
            if !template.contains("{table}") {
                errors.push("target.naming.template", "must contain {table}");
            }
            let rest = template.replace("{table}", "").replace("{schema}", "");
            if rest.contains(['{', '}']) {
                errors.push(
                    "target.naming.template",
                    "knows only the placeholders {schema} and {table}",
                );
            }
            let parts: Vec<&str> = template.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
                errors.push(
                    "target.naming.template",
                    "must be table or schema.table (one . at most, between two parts)",
                );
            }
        }
        errors.into_result()
    }

    /// The target table of the source table `source` (a name as discovery
    /// gives it): joined as a job's `target.object` takes it.
    pub fn target_of(&self, source: &str) -> Option<String> {
        let parts = split_object_name(source)?;
        let (schema, table) = match parts.as_slice() {
            [table] => ("", table.as_str()),
            [schema, table] => (schema.as_str(), table.as_str()),
            _ => return None,
        };
        let target: Vec<String> = match &self.template {
            Some(template) => template
                .split('.')
                .map(|part| part.replace("{schema}", schema).replace("{table}", table))
                .collect(),
            None => vec![format!(
                "{}{table}{}",
                self.prefix.as_deref().unwrap_or(""),
                self.suffix.as_deref().unwrap_or("")
            )],
        };
        if target.iter().any(String::is_empty) {
            return None;
        }
        Some(join_object_name(&target))
    }
}

/// A table a job covers, with the field that named it (for errors).
#[derive(Debug, Clone)]
pub struct SelectedEntry {
    /// `source.objects[3]`, or `source.include`.
    pub field: String,
    pub entry: ObjectEntry,
}

/// A multi-table job's selection, checked: the names it lists, or the
/// pattern to list them by.
#[derive(Debug)]
pub struct Selection {
    /// `source.objects`, when the job lists its tables.
    pub names: Option<Vec<SelectedEntry>>,
    /// `source.include`'s schema and `LIKE` (given to the listing).
    pub schema: Option<String>,
    pub like: Option<String>,
    regex: Option<NameFilter>,
    exclude: Option<NameFilter>,
    naming: TargetNaming,
}

impl Selection {
    /// What a multi-table job may and must say, each problem named by its
    /// field: `objects` or `include` (not both, nor `object`), databases on
    /// both ends, no single-table settings (columns, mapping, filter, key,
    /// partitioned read), a naming rule that makes names.
    pub fn check(
        spec: &JobSpec,
        source: &Source,
        target: &Source,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let s = &spec.source;
        if s.objects.is_some() && s.include.is_some() {
            errors.push(
                "source.include",
                "takes no source.objects: list tables, or match them",
            );
        }
        if !s.object.is_empty() {
            errors.push(
                "source.object",
                "names one table: a job with source.objects or source.include names none",
            );
        }
        if !spec.target.object.is_empty() {
            errors.push(
                "target.object",
                "is named by target.naming in a job with source.objects or source.include",
            );
        }
        if !source.kind.has_schema() {
            errors.push(
                "source.source_id",
                format!(
                    "a multi-table job reads a database, not a {} source",
                    source.kind
                ),
            );
        }
        if !target.kind.has_schema() {
            errors.push(
                "target.source_id",
                format!(
                    "a multi-table job writes a database, not a {} source",
                    target.kind
                ),
            );
        }
        let single_only = [
            ("source.columns", !s.columns.is_empty()),
            ("source.filter", s.filter.is_some()),
            ("source.format", s.format.is_some()),
            ("source.startup_mode", s.startup_mode.is_some()),
            ("mapping", spec.mapping.is_some()),
            ("target.format", spec.target.format.is_some()),
            (
                "options.partitioned_read",
                spec.options.partitioned_read.is_some(),
            ),
        ];
        for (field, set) in single_only {
            if set {
                errors.push(
                    field,
                    "applies to a single-table job; each table of a multi-table job is copied \
                     with its discovered columns",
                );
            }
        }
        if spec.target.primary_key.is_some() {
            errors.push(
                "target.primary_key",
                "applies to a single-table job: each table is keyed by its primary key, or by \
                 source.objects[].primary_key",
            );
        }
        if s.exclude.is_some() && s.include.is_none() {
            errors.push("source.exclude", "applies only with source.include");
        }
        let naming = spec.target.naming.clone().unwrap_or_default();
        if let Err(e) = naming.check() {
            e.errors().iter().cloned().for_each(|e| errors.add(e));
        }
        let names = s.objects.as_ref().map(|objects| {
            check_objects(objects, spec, &mut errors);
            objects
                .iter()
                .enumerate()
                .map(|(i, entry)| SelectedEntry {
                    field: format!("source.objects[{i}]"),
                    entry: entry.clone(),
                })
                .collect()
        });
        let (mut schema, mut like, mut regex, mut exclude) = (None, None, None, None);
        if let Some(include) = &s.include {
            if let Some(sc) = &include.schema
                && (sc.is_empty() || sc.chars().count() > 63 || sc.chars().any(char::is_control))
            {
                errors.push(
                    "source.include.schema",
                    "must be a schema name (1 to 63 characters)",
                );
            }
            schema = include.schema.clone();
            match NameFilter::parse(
                "source.include",
                include.like.as_deref(),
                include.regex.as_deref(),
            ) {
                Ok(Some(NameFilter::Like(l))) => like = Some(l),
                Ok(other) => regex = other,
                Err(e) => errors.add(e),
            }
            if let Some(ex) = &s.exclude {
                match NameFilter::parse("source.exclude", ex.like.as_deref(), ex.regex.as_deref()) {
                    Ok(None) => errors.push("source.exclude", "takes like or regex"),
                    Ok(filter) => exclude = filter,
                    Err(e) => errors.add(e),
                }
            }
        }
        errors.into_result()?;
        Ok(Self {
            names,
            schema,
            like,
            regex,
            exclude,
            naming,
        })
    }

    /// Whether a listed table (`schema.table` or `table`) is kept: its own
    /// name matches the include's regex, and not the exclude.
    pub fn keeps(&self, name: &str) -> bool {
        let own = split_object_name(name)
            .and_then(|parts| parts.last().cloned())
            .unwrap_or_else(|| name.to_owned());
        self.regex.as_ref().is_none_or(|r| r.matches(&own))
            && !self.exclude.as_ref().is_some_and(|e| e.matches(&own))
    }

    /// The job's table for one described object: its columns (each with a
    /// Flink type, else a 400 naming the table and column), its key, its
    /// incremental column, its target's name.
    pub fn table(
        &self,
        spec: &JobSpec,
        field: &str,
        entry: &ObjectEntry,
        described: ObjectDescription,
    ) -> Result<JobTable, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut columns = Vec::with_capacity(described.columns.len());
        for column in &described.columns {
            match &column.proposal {
                TypeProposal::Supported { flink_type } => columns.push(Column {
                    name: column.name.clone(),
                    type_name: flink_type.clone(),
                }),
                TypeProposal::Unsupported { reason } => errors.push(
                    field,
                    format!(
                        "table {} column {} ({}) cannot be synced: {reason}; leave the table out",
                        described.name, column.name, column.native_type
                    ),
                ),
            }
        }
        let primary_key = match spec.target.write_mode {
            WriteMode::Append => None,
            WriteMode::Upsert => match (&entry.primary_key, described.primary_key.is_empty()) {
                (Some(key), _) => Some(key.clone()),
                (None, false) => Some(described.primary_key.clone()),
                (None, true) => {
                    errors.push(
                        field,
                        format!(
                            "table {} has no primary key for write_mode upsert: name one in \
                             source.objects[].primary_key, or leave the table out",
                            described.name
                        ),
                    );
                    None
                }
            },
        };
        let has = |name: &str| described.columns.iter().any(|c| c.name == name);
        let incremental_column = match (&entry.incremental_column, &spec.source.incremental) {
            (Some(column), _) if !has(column) => {
                errors.push(
                    field,
                    format!("table {} has no column {column}", described.name),
                );
                None
            }
            (Some(column), _) => Some(column.clone()),
            (None, Some(inc)) if has(&inc.column) => Some(inc.column.clone()),
            (None, _) => None,
        };
        let target = self.naming.target_of(&described.name);
        if target.is_none() {
            errors.push(
                "target.naming",
                format!("makes no table name of {}", described.name),
            );
        }
        errors.into_result()?;
        Ok(JobTable {
            source: described.name,
            target: target.expect("checked above"),
            columns,
            primary_key,
            incremental_column,
            snapshot: described.columns,
        })
    }
}

/// `source.objects`: 1 to [`MAX_TABLES`] names, none twice, each entry's
/// incremental column only with `source.incremental`.
fn check_objects(objects: &[ObjectEntry], spec: &JobSpec, errors: &mut ValidationErrors) {
    if objects.is_empty() {
        errors.push("source.objects", "must name at least one table");
    }
    if objects.len() > MAX_TABLES {
        errors.push(
            "source.objects",
            format!(
                "names {} tables, more than {MAX_TABLES}, the most a job may cover: split \
                 them over several jobs",
                objects.len()
            ),
        );
        return;
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, entry) in objects.iter().enumerate() {
        let field = format!("source.objects[{i}]");
        if split_object_name(&entry.name).is_none_or(|p| p.len() > 2) {
            errors.push(
                field.clone(),
                "must be table or schema.table; write a part that holds . or \" in double \
                 quotes",
            );
        } else if let Some(first) = seen.insert(entry.name.clone(), i) {
            errors.push(field.clone(), format!("repeats source.objects[{first}]"));
        }
        if entry.incremental_column.is_some() && spec.source.incremental.is_none() {
            errors.push(
                format!("{field}.incremental_column"),
                "needs source.incremental (where windows start, and their lag)",
            );
        }
        if entry.primary_key.is_some() && spec.target.write_mode == WriteMode::Append {
            errors.push(
                format!("{field}.primary_key"),
                "is only allowed with write_mode upsert",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_follows_sql() {
        for (p, t, m) in [
            ("order%", "orders", true),
            ("order%", "order", true),
            ("order_", "orders", true),
            ("order_", "order", false),
            ("%_items", "order_items", true),
            ("%\\_items", "orderitems", false),
            ("%\\_items", "order_items", true),
            ("%", "", true),
            ("a%b%c", "aXbYc", true),
            ("a%b%c", "aXbY", false),
            ("prénom%", "prénoms", true),
            ("ORDERS", "orders", false),
        ] {
            assert_eq!(like_matches(p, t), m, "{p} ~ {t}");
        }
    }

    #[test]
    fn names_split_and_join_with_quotes() {
        assert_eq!(
            split_object_name("public.orders").unwrap(),
            ["public", "orders"]
        );
        assert_eq!(
            split_object_name("\"my.schema\".\"a \"\"b\"\"\"").unwrap(),
            ["my.schema", "a \"b\""]
        );
        assert_eq!(split_object_name("a..b"), None);
        assert_eq!(split_object_name("a\"b"), None);
        let parts = vec!["my.schema".to_owned(), "a \"b\"".to_owned()];
        assert_eq!(split_object_name(&join_object_name(&parts)).unwrap(), parts);
    }

    #[test]
    fn targets_are_named_by_the_rule() {
        let same = TargetNaming::default();
        assert_eq!(same.target_of("public.orders").unwrap(), "orders");
        assert_eq!(same.target_of("orders").unwrap(), "orders");
        assert_eq!(same.target_of("public.\"a.b\"").unwrap(), "\"a.b\"");
        let affixed = TargetNaming {
            prefix: Some("stg_".into()),
            suffix: Some("_v1".into()),
            template: None,
        };
        assert_eq!(affixed.target_of("public.Straße").unwrap(), "stg_Straße_v1");
        let template = TargetNaming {
            template: Some("raw.{schema}__{table}".into()),
            ..TargetNaming::default()
        };
        template.check().unwrap();
        assert_eq!(
            template.target_of("sales.orders").unwrap(),
            "raw.sales__orders"
        );
        // A MySQL table has no schema: {schema} is empty.
        assert_eq!(template.target_of("orders").unwrap(), "raw.__orders");
        let only_schema = TargetNaming {
            template: Some("{schema}.{table}".into()),
            ..TargetNaming::default()
        };
        assert_eq!(only_schema.target_of("orders"), None, "an empty part");
    }

    #[test]
    fn bad_rules_and_patterns_name_their_field() {
        let bad = TargetNaming {
            prefix: Some("x".into()),
            template: Some("{tabel}".into()),
            ..TargetNaming::default()
        };
        let errors = bad.check().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "target.naming.template",
                "target.naming.template",
                "target.naming.template"
            ]
        );
        let e = NameFilter::parse("source.include", None, Some("(")).unwrap_err();
        assert_eq!(e.field, "source.include.regex");
        let e = NameFilter::parse("source.exclude", Some("a"), Some("b")).unwrap_err();
        assert_eq!(e.field, "source.exclude");
        let f = NameFilter::parse("source.include", None, Some("^o[a-z]*s$"))
            .unwrap()
            .unwrap();
        assert!(f.matches("orders") && !f.matches("order_items"));
    }

    #[test]
    fn entries_read_strings_and_objects_and_write_back_the_same() {
        let entries: Vec<ObjectEntry> = serde_json::from_value(serde_json::json!([
            "public.a",
            {"name": "public.b", "primary_key": ["x", "y"], "incremental_column": "t"}
        ]))
        .unwrap();
        assert_eq!(entries[0].name, "public.a");
        assert_eq!(entries[1].primary_key.as_deref().unwrap(), ["x", "y"]);
        assert_eq!(
            serde_json::to_value(&entries).unwrap(),
            serde_json::json!([
                "public.a",
                {"name": "public.b", "primary_key": ["x", "y"], "incremental_column": "t"}
            ])
        );
        assert!(serde_json::from_value::<ObjectEntry>(serde_json::json!(1)).is_err());
        assert!(
            serde_json::from_value::<ObjectEntry>(serde_json::json!({"name": "a", "key": 1}))
                .is_err()
        );
    }
}

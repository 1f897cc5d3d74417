//! `validate: count` (README, "Validation"): after Flink finished a run's
//! job, the rows of the run's window are counted in the source and in the
//! target; the run succeeds only when the numbers are equal.
//!
//! The window is compared on each side as Flink compared it (the source's
//! incremental column, and the target column it is written to unchanged),
//! so a target that lost or gained rows of that window is seen; a job that
//! is not incremental compares whole tables.

use crate::model::discovery::{CountWindow, RowCount, RowCountRequest, RowCounts, WindowBound};
use crate::model::job::{JobSpec, Validate, Window};
use crate::model::run::Validation;
use crate::model::validation::FieldError;

/// Database kinds whose tables can be counted.
const COUNTABLE_KINDS: [&str; 2] = ["postgres", "mysql"];

/// Whether `spec` can be validated as it asks: `None` when it asks nothing
/// or can be, else the field error a save answers with.
pub fn check_validate(spec: &JobSpec, source_kind: &str, target_kind: &str) -> Option<FieldError> {
    spec.options.validate?;
    let refuse = |reason: &str| Some(FieldError::new("options.validate", reason));
    if !COUNTABLE_KINDS.contains(&source_kind) || !COUNTABLE_KINDS.contains(&target_kind) {
        return refuse("count needs a database (postgres or mysql) source and target");
    }
    if spec.source.filter.is_some() {
        // The filter is Flink SQL; counting it in each database's dialect
        // would be a second translation that could disagree with Flink.
        return refuse("count cannot be combined with source.filter");
    }
    match count_requests(spec, None) {
        Ok(_) => None,
        Err(reason) => refuse(&reason),
    }
}

/// What a run of `spec` over `window` counts: one pair of tables per table
/// the job moves, or why they cannot be counted.
pub fn count_requests(
    spec: &JobSpec,
    window: Option<Window>,
) -> Result<Vec<RowCountRequest>, String> {
    if !spec.is_multi_table() {
        return count_request(spec, window).map(|request| vec![request]);
    }
    (0..spec.tables.len())
        .map(|index| {
            let table = spec
                .table_spec(index)
                .ok_or_else(|| format!("the job has no table {index}"))?;
            count_request(&table, window)
                .map_err(|reason| format!("{}: {reason}", table.source.object))
        })
        .collect()
}

/// How the counts judge a run: totals on each side, `ok` only when every
/// pair of tables agrees; the tables that differ, for the run's message.
pub fn judge(requests: &[RowCountRequest], counts: &[RowCounts]) -> (Validation, Vec<String>) {
    let source_rows = counts.iter().map(|c| c.source_rows).sum();
    let target_rows = counts.iter().map(|c| c.target_rows).sum();
    let differing: Vec<String> = requests
        .iter()
        .zip(counts)
        .filter(|(_, c)| c.source_rows != c.target_rows)
        .map(|(r, c)| {
            format!(
                "{}: {} of {}",
                r.target.object, c.target_rows, c.source_rows
            )
        })
        .collect();
    let ok = differing.is_empty() && counts.len() == requests.len();
    (
        Validation {
            source_rows,
            target_rows,
            ok,
        },
        differing,
    )
}

/// What a run of `spec` over `window` counts, or why it cannot be counted.
/// A window is only given to an incremental job's run.
pub fn count_request(spec: &JobSpec, window: Option<Window>) -> Result<RowCountRequest, String> {
    let Some(incremental) = &spec.source.incremental else {
        return Ok(RowCountRequest {
            source: whole(&spec.source.object),
            target: whole(&spec.target.object),
        });
    };
    let column = &incremental.column;
    let bound = spec
        .source
        .columns
        .iter()
        .find(|c| &c.name == column)
        .and_then(|c| WindowBound::of_flink_type(&c.type_name))
        .ok_or_else(|| format!("the incremental column {column} has no DATE or TIMESTAMP type"))?;
    let target_column = target_column(spec, column).ok_or_else(|| {
        format!("count needs the incremental column {column} mapped to a target column as it is")
    })?;
    // Checked at save time without a window; a run always has one.
    let window = window.unwrap_or(Window {
        from: incremental.start,
        to: incremental.start,
    });
    let side = |object: &str, column: &str| RowCount {
        object: object.to_owned(),
        window: Some(CountWindow {
            column: column.to_owned(),
            bound,
            from: window.from,
            to: window.to,
        }),
    };
    Ok(RowCountRequest {
        source: side(&spec.source.object, column),
        target: side(&spec.target.object, &target_column),
    })
}

fn whole(object: &str) -> RowCount {
    RowCount {
        object: object.to_owned(),
        window: None,
    }
}

/// The target column `column` is written to unchanged: itself without a
/// mapping, else the mapping whose expression is the bare column.
fn target_column(spec: &JobSpec, column: &str) -> Option<String> {
    let Some(mappings) = &spec.mapping else {
        return Some(column.to_owned());
    };
    let quoted = format!("`{}`", column.replace('`', "``"));
    mappings
        .iter()
        .find(|m| {
            let expr = m.expr.trim();
            expr == column || expr == quoted
        })
        .map(|m| m.target.clone())
}

/// Whether the job counts its runs.
pub fn validates(spec: &JobSpec) -> bool {
    spec.options.validate == Some(Validate::Count)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;

    fn spec(extra: serde_json::Value) -> JobSpec {
        let mut job = json!({
            "name": "orders",
            "source": {"source_id": "src_1", "object": "public.orders",
                "columns": [{"name": "id", "type": "BIGINT"},
                            {"name": "updated_at", "type": "TIMESTAMP(6)"},
                            {"name": "day", "type": "DATE"}]},
            "target": {"source_id": "src_2", "object": "copy.orders", "write_mode": "upsert",
                "primary_key": ["id"]},
            "options": {"mode": "batch", "validate": "count"}
        });
        json_merge(&mut job, extra);
        serde_json::from_value(job).unwrap()
    }

    fn json_merge(base: &mut serde_json::Value, extra: serde_json::Value) {
        match (base, extra) {
            (serde_json::Value::Object(b), serde_json::Value::Object(e)) => {
                for (k, v) in e {
                    json_merge(b.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
            (b, e) => *b = e,
        }
    }

    fn incremental(column: &str) -> serde_json::Value {
        json!({"source": {"incremental": {"column": column, "start": "2024-01-01T00:00:00Z"}}})
    }

    #[test]
    fn a_full_job_counts_whole_tables() {
        let request = count_request(&spec(json!({})), None).unwrap();
        assert_eq!(request.source, whole("public.orders"));
        assert_eq!(request.target, whole("copy.orders"));
        assert_eq!(check_validate(&spec(json!({})), "postgres", "mysql"), None);
    }

    #[test]
    fn an_incremental_job_counts_its_runs_window_on_both_sides() {
        let window = Window {
            from: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap(),
        };
        let mut extra = incremental("updated_at");
        json_merge(
            &mut extra,
            json!({"mapping": [{"target": "id", "expr": "id"},
                               {"target": "changed", "expr": "`updated_at`"}]}),
        );
        let request = count_request(&spec(extra), Some(window)).unwrap();
        let counted = |c: &RowCount| {
            let w = c.window.clone().unwrap();
            (c.object.clone(), w.column, w.bound, w.from, w.to)
        };
        assert_eq!(
            counted(&request.source),
            (
                "public.orders".into(),
                "updated_at".into(),
                WindowBound::Timestamp,
                window.from,
                window.to
            )
        );
        assert_eq!(
            counted(&request.target),
            (
                "copy.orders".into(),
                "changed".into(),
                WindowBound::Timestamp,
                window.from,
                window.to
            )
        );
        let by_day = count_request(&spec(incremental("day")), Some(window)).unwrap();
        assert_eq!(by_day.source.window.unwrap().bound, WindowBound::Date);
    }

    #[test]
    fn what_cannot_be_counted_is_refused_naming_the_option() {
        let refused = |spec: &JobSpec, source: &str, target: &str| {
            let error = check_validate(spec, source, target).expect("refused");
            assert_eq!(error.field, "options.validate");
            error.reason
        };
        assert!(refused(&spec(json!({})), "kafka", "postgres").contains("database"));
        assert!(refused(&spec(json!({})), "postgres", "filesystem").contains("database"));
        let filtered = spec(json!({"source": {"filter": "id > 1"}}));
        assert!(refused(&filtered, "postgres", "postgres").contains("filter"));
        let mut transformed = incremental("updated_at");
        json_merge(
            &mut transformed,
            json!({"mapping": [{"target": "id", "expr": "id"},
                               {"target": "changed", "expr": "CAST(updated_at AS DATE)"}]}),
        );
        assert!(refused(&spec(transformed), "postgres", "mysql").contains("mapped"));
        let no_validation: JobSpec = {
            let mut s = spec(json!({}));
            s.options.validate = None;
            s
        };
        assert_eq!(check_validate(&no_validation, "kafka", "filesystem"), None);
    }

    #[test]
    fn every_pair_of_tables_must_agree_not_only_the_totals() {
        let pair = |table: &str| RowCountRequest {
            source: whole(&format!("public.{table}")),
            target: whole(&format!("copy.{table}")),
        };
        let requests = [pair("a"), pair("b")];
        let counts = |a: (u64, u64), b: (u64, u64)| {
            [a, b].map(|(source_rows, target_rows)| RowCounts {
                source_rows,
                target_rows,
            })
        };
        let (equal, differing) = judge(&requests, &counts((3, 3), (0, 0)));
        assert_eq!(equal, Validation::of(3, 3));
        assert!(equal.ok && differing.is_empty());
        // One row too many in a, one too few in b: equal totals, not ok.
        let (swapped, differing) = judge(&requests, &counts((3, 4), (2, 1)));
        assert_eq!((swapped.source_rows, swapped.target_rows), (5, 5));
        assert!(!swapped.ok);
        assert_eq!(differing, ["copy.a: 4 of 3", "copy.b: 1 of 2"]);
        // A missing count is never a pass.
        assert!(!judge(&requests, &counts((1, 1), (1, 1))[..1]).0.ok);
    }

    #[test]
    fn a_multi_table_job_counts_each_of_its_tables() {
        let table = |name: &str, incremental: Option<&str>| {
            json!({"source": format!("public.{name}"), "target": format!("copy_{name}"),
                   "columns": [{"name": "id", "type": "BIGINT"},
                               {"name": "changed", "type": "TIMESTAMP_LTZ(3)"}],
                   "incremental_column": incremental, "snapshot": []})
        };
        let mut job = spec(json!({
            "source": {"object": "", "objects": ["public.a", "public.b"],
                       "incremental": {"column": "changed", "start": "2024-01-01T00:00:00Z"}}
        }));
        job.tables = serde_json::from_value(json!([
            table("a", Some("changed")),
            table("b", Some("changed"))
        ]))
        .unwrap();
        let window = Window {
            from: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap(),
        };
        let requests = count_requests(&job, Some(window)).unwrap();
        let pairs: Vec<_> = requests
            .iter()
            .map(|r| (r.source.object.as_str(), r.target.object.as_str()))
            .collect();
        assert_eq!(pairs, [("public.a", "copy_a"), ("public.b", "copy_b")]);
        let bound = requests[1].target.window.clone().unwrap();
        assert_eq!(
            (bound.column.as_str(), bound.bound),
            ("changed", WindowBound::Instant)
        );
        assert_eq!(check_validate(&job, "postgres", "mysql"), None);
    }

    #[test]
    fn bounds_follow_the_columns_flink_type() {
        for (ty, bound) in [
            ("DATE", Some(WindowBound::Date)),
            ("TIMESTAMP", Some(WindowBound::Timestamp)),
            ("TIMESTAMP(9)", Some(WindowBound::Timestamp)),
            ("TIMESTAMP_LTZ(3)", Some(WindowBound::Instant)),
            (
                "TIMESTAMP(3) WITH LOCAL TIME ZONE",
                Some(WindowBound::Instant),
            ),
            ("BIGINT", None),
        ] {
            assert_eq!(WindowBound::of_flink_type(ty), bound, "{ty}");
        }
    }
}

//! Multi-table jobs: every table of the job in one script, each with its
//! own tables (`src_<n>`, `dst_<n>`), key, incremental window and INSERT;
//! each table's problems named under `tables[i]`.

mod common;

use serde_json::{Value, json};
use sluice_domain::SourceKind;
use sluice_domain::ports::{JobCompiler, SecretExposure};
use sluice_flinksql::FlinkSqlCompiler;

use common::*;

fn discovered(name: &str, native: &str, flink: &str, key: Option<u32>) -> Value {
    json!({"name": name, "native_type": native, "nullable": key.is_none(),
           "primary_key_position": key, "proposal": {"status": "supported", "flink_type": flink}})
}

/// Two tables as a saved job lists them: one keyed on two columns and read
/// incrementally, one with a reserved word, a space and unicode (a renaming view),
/// read whole.
fn two_tables() -> Value {
    json!({
        "name": "whole schema",
        "source": {"source_id": "src_01J0000000000000000000000A",
                   "objects": ["public.order_items", "public.\"select 表\""],
                   "incremental": {"column": "at", "start": "2026-01-01T00:00:00Z"}},
        "target": {"source_id": "src_01J0000000000000000000000B", "write_mode": "upsert"},
        "options": {"mode": "batch"},
        "tables": [
            {"source": "public.order_items", "target": "order_items",
             "columns": [{"name": "order", "type": "BIGINT"}, {"name": "line", "type": "INT"},
                         {"name": "at", "type": "TIMESTAMP(6)"}],
             "primary_key": ["order", "line"], "incremental_column": "at",
             "snapshot": [discovered("order", "bigint", "BIGINT", Some(1)),
                          discovered("line", "integer", "INT", Some(2)),
                          discovered("at", "timestamp without time zone", "TIMESTAMP(6)", None)]},
            {"source": "public.\"select 表\"", "target": "select 表",
             "columns": [{"name": "from", "type": "BIGINT"}, {"name": "名 前", "type": "STRING"}],
             "primary_key": ["from"],
             "snapshot": [discovered("from", "bigint", "BIGINT", Some(1)),
                          discovered("名 前", "text", "STRING", None)]}
        ]
    })
}

#[test]
fn every_table_is_rendered_into_one_script_with_its_own_names_key_and_window() {
    let script = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(two_tables()),
            &reading(SourceKind::Postgres),
            &writing(SourceKind::Mysql),
            Some(window()),
            SecretExposure::Masked,
        )
        .unwrap();
    // The SET lines once, then each table's two tables and its INSERT.
    assert_eq!(script.matches("SET 'execution.runtime-mode'").count(), 1);
    assert_eq!(script.matches("INSERT INTO").count(), 2);
    for needle in [
        "CREATE TEMPORARY TABLE `src_1`",
        "CREATE TEMPORARY TABLE `dst_1`",
        "CREATE TEMPORARY TABLE `src_2_fields`",
        "CREATE TEMPORARY VIEW `src_2` AS",
        "CREATE TEMPORARY TABLE `dst_2`",
        "INSERT INTO `dst_1`",
        "FROM `src_1`\nWHERE (`at` >= ",
        "INSERT INTO `dst_2`",
        "'table-name' = 'order_items'",
        "'table-name' = 'public.order_items'",
        "'table-name' = 'public.select$20$表'",
        "'table-name' = 'select$20$表'",
    ] {
        assert!(script.contains(needle), "{needle}:\n{script}");
    }
    // Only the incremental table reads a window.
    let second = &script[script.find("INSERT INTO `dst_2`").unwrap()..];
    assert!(!second.contains("WHERE"), "{second}");
    let keys = script.matches("PRIMARY KEY").count();
    assert_eq!(keys, 2, "{script}");
}

#[test]
fn each_tables_problems_are_named_under_its_index() {
    let mut bad = two_tables();
    bad["tables"][1]["columns"][1]["type"] = json!("NOT A TYPE");
    bad["tables"][0]["primary_key"] = json!(["nope"]);
    let errors = FlinkSqlCompiler
        .check(
            &spec(bad),
            &reading(SourceKind::Postgres),
            &writing(SourceKind::Mysql),
        )
        .unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "tables[0].target.primary_key[0]",
            "tables[1].source.columns[1].type"
        ]
    );
    let mut none = two_tables();
    none["tables"] = json!([]);
    let errors = FlinkSqlCompiler
        .check(
            &spec(none),
            &reading(SourceKind::Postgres),
            &writing(SourceKind::Mysql),
        )
        .unwrap_err();
    assert_eq!(errors.errors()[0].field, "tables");
}

#[test]
fn a_target_table_is_made_per_table() {
    let job = spec(two_tables());
    let one = job.table_spec(1).unwrap();
    let table = FlinkSqlCompiler
        .target_table(
            &one,
            &reading(SourceKind::Postgres),
            &writing(SourceKind::Mysql),
        )
        .unwrap();
    assert_eq!(table.object, "select 表");
    assert_eq!(table.primary_key, ["from"]);
    assert_eq!(table.columns.len(), 2);
}

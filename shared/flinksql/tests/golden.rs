//! Golden scripts: every source kind × target kind × supported write mode,
//! rendered Masked and compared with `tests/golden/<source>_to_<target>_<mode>.sql`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p sluice-flinksql --test golden` rewrites
//! the files; without it any difference fails. The files are planned by
//! Flink's own planner with `infra/flink/validate.sh shared/flinksql/tests/golden/*.sql`.

mod common;

use std::path::PathBuf;

use serde_json::{Value, json};
use sluice_domain::SourceKind;
use sluice_domain::model::job::{Window, WriteMode};
use sluice_domain::ports::{JobCompiler, SecretExposure};
use sluice_flinksql::FlinkSqlCompiler;

use common::*;

/// The source side of a golden job, per kind.
fn source_side(kind: SourceKind) -> Value {
    let base_columns = json!([
        {"name": "id", "type": "BIGINT"},
        {"name": "customer", "type": "VARCHAR(100)"},
        {"name": "amount", "type": "DECIMAL(12, 2)"},
        {"name": "status", "type": "STRING"}
    ]);
    let mut columns = base_columns.as_array().unwrap().clone();
    let mut side = match kind {
        SourceKind::Postgres => {
            columns.push(json!({"name": "created_at", "type": "TIMESTAMP(3)"}));
            columns.push(json!({"name": "updated_at", "type": "timestamp(3)"}));
            json!({
                "object": "public.orders",
                "filter": "status IN ('paid', 'shipped') AND amount > 0",
                "incremental": {"column": "updated_at", "start": "2024-01-01T00:00:00Z"}
            })
        }
        SourceKind::Mysql => {
            columns.push(json!({"name": "created_at", "type": "TIMESTAMP(3)"}));
            json!({
                "object": "orders",
                "filter": "customer IS NOT NULL AND NOT (status = 'test')"
            })
        }
        SourceKind::Kafka => {
            columns.push(json!({"name": "created_at", "type": "TIMESTAMP_LTZ(3)"}));
            json!({
                "object": "orders.v1",
                "filter": "amount BETWEEN 0 AND 100000 OR status LIKE 'refund%'",
                "format": {"type": "json", "ignore_parse_errors": true},
                "startup_mode": "earliest-offset"
            })
        }
        SourceKind::Filesystem => {
            columns.push(json!({"name": "created_at", "type": "TIMESTAMP(3)"}));
            columns.push(json!({"name": "order_date", "type": "DATE"}));
            json!({
                "object": "orders/csv",
                "format": {"type": "csv", "field_delimiter": ";", "ignore_parse_errors": true},
                "incremental": {"column": "order_date", "start": "2024-01-01T00:00:00Z"}
            })
        }
    };
    side["source_id"] = json!(SRC_ID);
    side["columns"] = Value::Array(columns);
    side
}

/// The target side of a golden job, per kind and mode.
fn target_side(kind: SourceKind, mode: WriteMode) -> Value {
    let mut side = match kind {
        SourceKind::Postgres => json!({"object": "public.orders_copy"}),
        SourceKind::Mysql => json!({"object": "orders_copy"}),
        SourceKind::Kafka => match mode {
            WriteMode::Append => json!({"object": "orders.out", "format": {"type": "avro"}}),
            WriteMode::Upsert => json!({"object": "orders.latest", "format": {"type": "json"}}),
        },
        SourceKind::Filesystem => {
            json!({"object": "orders/parquet", "format": {"type": "parquet"}})
        }
    };
    side["source_id"] = json!(DST_ID);
    side["write_mode"] = json!(match mode {
        WriteMode::Append => "append",
        WriteMode::Upsert => "upsert",
    });
    if mode == WriteMode::Upsert {
        side["primary_key"] = json!(["id"]);
    }
    side
}

/// A mapping with functions, CAST and CASE.
fn rich_mapping() -> Value {
    json!([
        {"target": "id", "expr": "id"},
        {"target": "customer", "expr": "UPPER(TRIM(customer))", "type": "VARCHAR(100)"},
        {"target": "amount_cents", "expr": "CAST(amount * 100 AS BIGINT)"},
        {"target": "status", "type": "STRING",
         "expr": "CASE WHEN status IN ('paid', 'shipped') THEN 'done' \
                  WHEN status IS NULL THEN 'unknown' ELSE LOWER(status) END"},
        {"target": "created_day", "expr": "DATE_FORMAT(created_at, 'yyyy-MM-dd')", "type": "STRING"},
        {"target": "customer_hash", "expr": "SHA256(COALESCE(customer, ''))", "type": "STRING"}
    ])
}

/// A narrower mapping for upserts: key, a renamed column, a widened one.
fn upsert_mapping() -> Value {
    json!([
        {"target": "id", "expr": "id"},
        {"target": "customer_name", "expr": "customer"},
        {"target": "amount", "expr": "amount", "type": "DECIMAL(14, 2)"},
        {"target": "status", "expr": "CONCAT_WS(':', status, CAST(YEAR(created_at) AS STRING))",
         "type": "VARCHAR(64)"}
    ])
}

struct Case {
    source: SourceKind,
    target: SourceKind,
    mode: WriteMode,
}

impl Case {
    fn file_name(&self) -> String {
        format!(
            "{}_to_{}_{}.sql",
            self.source.as_str(),
            self.target.as_str(),
            match self.mode {
                WriteMode::Append => "append",
                WriteMode::Upsert => "upsert",
            }
        )
    }

    fn spec(&self) -> Value {
        let jdbc_source = matches!(self.source, SourceKind::Postgres | SourceKind::Mysql);
        let jdbc_target = matches!(self.target, SourceKind::Postgres | SourceKind::Mysql);
        // Kafka reads stream, except into files (which commit on checkpoints),
        // where a bounded incremental read shows the TIMESTAMP_LTZ window.
        let streaming = self.source == SourceKind::Kafka && self.target != SourceKind::Filesystem;
        let mut source = source_side(self.source);
        if self.source == SourceKind::Kafka && !streaming {
            source["incremental"] =
                json!({"column": "created_at", "start": "2024-01-01T00:00:00Z"});
        }
        let mut options = json!({
            "mode": if streaming { "streaming" } else { "batch" },
            "parallelism": if jdbc_source { 2 } else { 1 }
        });
        match self.source {
            SourceKind::Postgres => {
                options["partitioned_read"] =
                    json!({"column": "id", "num": 4, "lower_bound": 1, "upper_bound": 1000000});
            }
            SourceKind::Mysql => options["fetch_size"] = json!(5000),
            _ => {}
        }
        if jdbc_target {
            options["flush_max_rows"] = json!(5000);
            options["flush_interval_ms"] = json!(1000);
            options["max_retries"] = json!(3);
        }
        let mapping = match (self.mode, self.target) {
            (WriteMode::Append, _) => Some(rich_mapping()),
            (WriteMode::Upsert, SourceKind::Kafka) => None,
            (WriteMode::Upsert, _) => Some(upsert_mapping()),
        };
        let mut spec = json!({
            "name": format!(
                "orders {} to {} ({})",
                self.source.as_str(),
                self.target.as_str(),
                if self.mode == WriteMode::Append { "append" } else { "upsert" }
            ),
            "source": source,
            "target": target_side(self.target, self.mode),
            "options": options
        });
        if let Some(m) = mapping {
            spec["mapping"] = m;
        }
        spec
    }

    fn window(&self, spec: &Value) -> Option<Window> {
        spec["source"].get("incremental").map(|_| window())
    }
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for source in SourceKind::ALL {
        for target in SourceKind::ALL {
            for mode in [WriteMode::Append, WriteMode::Upsert] {
                if target == SourceKind::Filesystem && mode == WriteMode::Upsert {
                    continue;
                }
                out.push(Case {
                    source,
                    target,
                    mode,
                });
            }
        }
    }
    out
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn every_pair_and_mode_matches_its_golden_script() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let compiler = FlinkSqlCompiler;
    let dir = golden_dir();
    let mut mismatches = Vec::new();
    for case in cases() {
        let json = case.spec();
        let spec = spec(json.clone());
        let (src, dst) = (reading(case.source), writing(case.target));
        compiler
            .check(&spec, &src, &dst)
            .unwrap_or_else(|e| panic!("{}: {e}", case.file_name()));
        let script = compiler
            .render(
                &job_id(),
                &spec,
                &src,
                &dst,
                case.window(&json),
                SecretExposure::Masked,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", case.file_name()));
        let path = dir.join(case.file_name());
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &script).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(expected) if expected == script => {}
            Ok(expected) => mismatches.push(format!(
                "{} differs:\n--- expected\n{expected}\n--- rendered\n{script}",
                case.file_name()
            )),
            Err(e) => mismatches.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} golden file(s) differ (UPDATE_GOLDEN=1 rewrites them):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn there_are_28_cases_and_no_stale_golden_files() {
    let names: Vec<String> = cases().iter().map(Case::file_name).collect();
    // 4 sources x (postgres, mysql, kafka: append + upsert; filesystem: append).
    assert_eq!(names.len(), 28);
    let Ok(entries) = std::fs::read_dir(golden_dir()) else {
        return; // the other test reports the missing files
    };
    for entry in entries {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(names.contains(&name), "stale golden file {name}");
    }
}

#[test]
fn rendering_is_deterministic() {
    let compiler = FlinkSqlCompiler;
    for case in cases() {
        let json = case.spec();
        let spec = spec(json.clone());
        let (src, dst) = (reading(case.source), writing(case.target));
        let render = || {
            compiler
                .render(
                    &job_id(),
                    &spec,
                    &src,
                    &dst,
                    case.window(&json),
                    SecretExposure::Masked,
                )
                .unwrap()
        };
        assert_eq!(render(), render(), "{}", case.file_name());
    }
}

//! Flink itself judges the scripts sluice renders: every golden script of
//! `shared/flinksql` is planned (EXPLAIN of the whole StatementSet, with the
//! real connector factories) by Flink 2.2's planner. Run with `make test`.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
#[ignore = "needs the local Flink install: run `make test`"]
fn flink_plans_every_golden_script() {
    let golden = repo().join("shared/flinksql/tests/golden");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&golden)
        .expect("the golden directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    scripts.sort();
    assert!(
        scripts.len() >= 16,
        "expected a golden script per kind pair"
    );

    let out = Command::new(repo().join("infra/flink/validate.sh"))
        .args(&scripts)
        .output()
        .expect("validate.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let ok = stdout.lines().filter(|l| l.starts_with("OK ")).count();
    assert!(
        out.status.success() && ok == scripts.len(),
        "Flink refused some scripts ({ok} of {} planned):\n{stdout}\n{stderr}",
        scripts.len()
    );
}

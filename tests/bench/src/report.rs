//! The table of figures, from the JSON files the phases wrote into one
//! directory (`lambda.json`, `sync.json`, `sizes.json`, `machine.md`).
//! Parts that did not run show as "not run".

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// The functions, in the order of the table.
const FUNCTIONS: &[&str] = &["sources", "jobs", "trigger", "reconciler"];

/// Aims of the issue.
const INIT_ABOVE_FLOOR_MS: f64 = 2.0;
const COLD_PENALTY_MS: f64 = 5.0;
const PEAK_RSS_MIB: f64 = 32.0;
const ZIP_BYTES: f64 = 5e6;
const TRIGGER_P99_MS: f64 = 50.0;
const A_OVER_B: f64 = 3.0;
const A_OVER_C: f64 = 0.5;

struct Row {
    figure: String,
    value: String,
    aim: String,
    met: Option<bool>,
}

fn row(figure: impl Into<String>, value: impl Into<String>, aim: &str, met: Option<bool>) -> Row {
    Row {
        figure: figure.into(),
        value: value.into(),
        aim: aim.to_owned(),
        met,
    }
}

fn read(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn rows(dir: &Path) -> Vec<Row> {
    let mut out = Vec::new();
    let not_run = |figure: &str, aim: &str| row(figure, "not run", aim, None);

    match read(dir, "lambda.json") {
        Some(l) => {
            let cold = &l["cold_start"];
            let floor = f(&cold["hello"]["init_median_ms"]).unwrap_or(f64::NAN);
            let starts = cold["hello"]["starts"].as_u64().unwrap_or(0);
            out.push(row(
                format!("1a init, `lambda_runtime` hello-world (floor), median of {starts}"),
                format!("{floor:.2} ms"),
                "",
                None,
            ));
            for name in FUNCTIONS {
                let init = f(&cold[name]["init_median_ms"]).unwrap_or(f64::NAN);
                let above = init - floor;
                out.push(row(
                    format!("1a init, {name}"),
                    format!("{init:.2} ms (floor +{above:.2} ms, ×{:.2})", init / floor),
                    "≤ floor + 2 ms",
                    Some(above <= INIT_ABOVE_FLOOR_MS),
                ));
            }
            for name in FUNCTIONS {
                let c = &cold[name];
                let penalty = f(&c["penalty_median_ms"]).unwrap_or(f64::NAN);
                out.push(row(
                    format!("1b cold penalty, {name}"),
                    format!(
                        "{penalty:.2} ms (first {:.2} ms − warm {:.2} ms)",
                        f(&c["first_median_ms"]).unwrap_or(f64::NAN),
                        f(&c["warm_median_of_medians_ms"]).unwrap_or(f64::NAN)
                    ),
                    "< 5 ms",
                    Some(penalty < COLD_PENALTY_MS),
                ));
            }
            for name in FUNCTIONS {
                let init = f(&cold[name]["init_median_ms"]).unwrap_or(f64::NAN);
                let penalty = f(&cold[name]["penalty_median_ms"]).unwrap_or(f64::NAN);
                out.push(row(
                    format!("1 init + cold penalty, {name}"),
                    format!("{:.2} ms", init + penalty),
                    "",
                    None,
                ));
            }
            for name in FUNCTIONS {
                let m = &l["memory"][name];
                let peak = m["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0;
                out.push(row(
                    format!(
                        "2 peak RSS over {} warm invocations, {name}",
                        m["invocations"].as_u64().unwrap_or(0)
                    ),
                    format!(
                        "{peak:.1} MiB (after the first: {:.1} MiB)",
                        m["rss_after_first_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0
                    ),
                    "< 32 MiB",
                    Some(peak < PEAK_RSS_MIB),
                ));
            }
            let t = &l["trigger"];
            out.push(row(
                format!(
                    "4 trigger: runs created ({} events = {} fires + {} duplicates, {} at a time)",
                    t["events"], t["distinct_fires"], t["duplicates_sent"], t["concurrency"]
                ),
                format!("{} (submissions {})", t["runs_created"], t["submissions"]),
                "= fires",
                Some(
                    t["runs_created"] == t["distinct_fires"]
                        && t["submissions"] == t["distinct_fires"],
                ),
            ));
            let dups = t["duplicate_submissions"].as_u64().unwrap_or(u64::MAX);
            let all = l["duplicate_submissions_all_phases"]
                .as_u64()
                .unwrap_or(u64::MAX);
            out.push(row(
                "4 trigger: duplicate submissions",
                format!(
                    "{dups} (all phases: {all} of {} submissions)",
                    l["submissions_all_phases"]
                ),
                "0",
                Some(dups == 0 && all == 0),
            ));
            let p99 = f(&t["latency_p99_ms"]).unwrap_or(f64::NAN);
            out.push(row(
                "4 trigger: handler latency p50 / p99 / max, excluding Flink",
                format!(
                    "{:.1} / {p99:.1} / {:.1} ms ({:.0} events/s; the trigger's own CPU: {:.2} ms an event)",
                    f(&t["latency_p50_ms"]).unwrap_or(f64::NAN),
                    f(&t["latency_max_ms"]).unwrap_or(f64::NAN),
                    f(&t["events_per_s"]).unwrap_or(f64::NAN),
                    f(&t["cpu_ms_per_event"]).unwrap_or(f64::NAN)
                ),
                "p99 < 50 ms",
                Some(p99 < TRIGGER_P99_MS),
            ));
        }
        None => {
            out.push(not_run("1 cold start", ""));
            out.push(not_run("2 peak memory", ""));
            out.push(not_run("4 trigger under load", ""));
        }
    }

    match read(dir, "sizes.json") {
        Some(sizes) => {
            for name in FUNCTIONS {
                let zip = sizes[name]["zip"].as_f64().unwrap_or(f64::NAN);
                let bin = sizes[name]["bootstrap"].as_f64().unwrap_or(f64::NAN);
                out.push(row(
                    format!("3 zip of bootstrap, {name}"),
                    format!(
                        "{:.2} MB ({:.0} bytes; bootstrap {:.2} MB)",
                        zip / 1e6,
                        zip,
                        bin / 1e6
                    ),
                    "< 5 MB",
                    Some(zip < ZIP_BYTES),
                ));
            }
        }
        None => out.push(not_run("3 artifact size", "")),
    }

    match read(dir, "sync.json") {
        Some(s) => {
            let e2e = &s["e2e_event_to_job_id_ms"];
            let list = e2e
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_f64)
                        .map(|v| format!("{v:.0}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            out.push(row(
                "4 trigger: event → Flink job id, real local cluster",
                format!(
                    "median {:.0} ms ({list} ms)",
                    f(&s["e2e_median_ms"]).unwrap_or(f64::NAN)
                ),
                "",
                None,
            ));
            let rate = |v: &Value| f(&v["rows_per_s"]).unwrap_or(f64::NAN);
            let (a, b, c) = (
                rate(&s["generated"]),
                rate(&s["jdbc_defaults"]),
                rate(&s["bulk_copy"]),
            );
            let rows = s["rows"].as_u64().unwrap_or(0);
            for (label, v, key) in [
                ("5a sync, the job sluice generates", a, "generated"),
                (
                    "5b sync, same INSERT, Flink JDBC sink defaults",
                    b,
                    "jdbc_defaults",
                ),
                ("5c sync, native bulk copy (physical limit)", c, "bulk_copy"),
            ] {
                out.push(row(
                    format!("{label}, {rows} rows PostgreSQL → MariaDB"),
                    format!(
                        "{v:.0} rows/s ({:.2} s)",
                        f(&s[key]["seconds"]).unwrap_or(f64::NAN)
                    ),
                    "",
                    None,
                ));
            }
            out.push(row(
                "5 a/b",
                format!("{:.2}", a / b),
                "≥ 3",
                Some(a / b >= A_OVER_B),
            ));
            out.push(row(
                "5 a/c",
                format!("{:.2}", a / c),
                "≥ 0.5",
                Some(a / c >= A_OVER_C),
            ));
        }
        None => out.push(not_run("5 sync speed and 4 event → Flink job id", "")),
    }
    out
}

/// The table, as Markdown.
pub fn table(dir: &Path) -> String {
    let mut s = String::from("| figure | measured | aim | met |\n|---|---|---|---|\n");
    for r in rows(dir) {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(s, "| {} | {} | {} | {met} |", r.figure, r.value, r.aim);
    }
    s
}

const START: &str = "<!-- bench:latest:start -->";
const END: &str = "<!-- bench:latest:end -->";

/// Replaces the block between the markers of `markdown` with the table, the
/// machine and the time of the run.
pub fn record(dir: &Path, markdown: &Path, when: &str, command: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(markdown)?;
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        anyhow::bail!("{} lacks the markers {START} / {END}", markdown.display());
    };
    let machine = std::fs::read_to_string(dir.join("machine.md")).unwrap_or_default();
    let block = format!(
        "{START}\nMeasured {when} with `{command}`.\n\n{}\nMachine:\n\n{machine}\n",
        table(dir)
    );
    let updated = format!("{}{block}{}", &doc[..start], &doc[end..]);
    std::fs::write(markdown, updated)?;
    Ok(())
}

//! The table of figures, from the JSON files the phases wrote into one
//! directory (`lambda.json`, `sync.json`, `sizes.json`, `machine.md`).
//! Parts that did not run show as "not run".

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// The functions, in the order of the table.
const FUNCTIONS: &[&str] = &["sources", "jobs", "trigger", "reconciler", "discovery"];

/// The functions whose init is measured: every one (the notifier's alone:
/// its events need notification settings the benchmark's jobs do not have).
const STARTED: &[&str] = &crate::lambda::FUNCTIONS;

/// The functions whose zips are measured: every one.
const ZIPPED: &[&str] = STARTED;

/// Aims of the issue.
const INIT_ABOVE_FLOOR_MS: f64 = 2.0;
const COLD_PENALTY_MS: f64 = 5.0;
const PEAK_RSS_MIB: f64 = 32.0;
const ZIP_BYTES: f64 = 5e6;
const TRIGGER_P99_MS: f64 = 50.0;
const A_OVER_B: f64 = 3.0;
const A_OVER_C: f64 = 0.5;
const A_OVER_D: f64 = 0.95;

struct Row {
    figure: String,
    value: String,
    aim: String,
    met: Option<bool>,
    /// For a phase that did not run: the figures (by their beginnings) of
    /// the previous record that `--record` keeps in its place.
    carry: &'static [&'static str],
}

fn row(figure: impl Into<String>, value: impl Into<String>, aim: &str, met: Option<bool>) -> Row {
    Row {
        figure: figure.into(),
        value: value.into(),
        aim: aim.to_owned(),
        met,
        carry: &[],
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
    let not_run = |figure: &str, carry: &'static [&'static str]| Row {
        carry,
        ..row(figure, "not run", "", None)
    };

    match read(dir, "lambda.json") {
        Some(l) => {
            let cold = &l["cold_start"];
            let inits = &l["init"];
            let floor = f(&inits["hello"]["wall_median_ms"]).unwrap_or(f64::NAN);
            let rounds = inits["hello"]["wall_ms"].as_array().map_or(0, Vec::len);
            out.push(row(
                format!(
                    "1a init, `lambda_runtime` hello-world (floor), median of {rounds} interleaved rounds"
                ),
                format!("{floor:.2} ms"),
                "",
                None,
            ));
            for name in STARTED {
                let i = &inits[name];
                let init = f(&i["wall_median_ms"]).unwrap_or(f64::NAN);
                let above = f(&i["above_floor_median_ms"]).unwrap_or(f64::NAN);
                out.push(row(
                    format!("1a init, {name} (above the floor: median of the rounds' differences)"),
                    format!(
                        "{init:.2} ms (floor {above:+.2} ms; CPU {:.2} ms)",
                        f(&i["cpu_median_ms"]).unwrap_or(f64::NAN)
                    ),
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
                let init = f(&inits[name]["wall_median_ms"]).unwrap_or(f64::NAN);
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
            out.push(round_trips_row(&l["trigger_round_trips"]));
        }
        None => {
            out.push(not_run(
                "1 cold start, 2 peak memory, 4 trigger under load",
                &[
                    "1",
                    "2",
                    "4 trigger: runs",
                    "4 trigger: dup",
                    "4 trigger: handler",
                    "4 trigger: AWS",
                ],
            ));
        }
    }

    match read(dir, "sizes.json") {
        Some(sizes) => {
            for name in ZIPPED {
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
        None => out.push(not_run("3 artifact size", &["3 "])),
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
            // (a) and (d) ran once each, then again in the alternated pairs:
            // their figure is the median of all their runs. The first (a),
            // fired through the trigger, is the first large job of a fresh
            // cluster (BENCHMARKS.md, "Row counts").
            let runs = |single: &str, paired: &str| -> Vec<f64> {
                let mut all = vec![rate(&s[single])];
                all.extend(
                    s["count_pairs"][paired]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_f64),
                );
                all.retain(|r| r.is_finite());
                all
            };
            let (a_runs, d_runs) = (runs("generated", "counted"), runs("chained", "chained"));
            let median_of = |xs: &[f64]| crate::stats::median(xs).unwrap_or(f64::NAN);
            let (a, b, c, d) = (
                median_of(&a_runs),
                rate(&s["jdbc_defaults"]),
                rate(&s["bulk_copy"]),
                median_of(&d_runs),
            );
            let rows = s["rows"].as_u64().unwrap_or(0);
            let listed = |xs: &[f64]| {
                xs.iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(row(
                format!("5a sync, the job sluice generates, {rows} rows PostgreSQL → MariaDB"),
                format!(
                    "{a:.0} rows/s, median of {} runs ({}; the first, fired through the trigger: {:.2} s)",
                    a_runs.len(),
                    listed(&a_runs),
                    f(&s["generated"]["seconds"]).unwrap_or(f64::NAN)
                ),
                "",
                None,
            ));
            for (label, v, key) in [
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
                format!(
                    "5d sync, the generated job with chaining on (no row counts), {rows} rows PostgreSQL → MariaDB"
                ),
                format!(
                    "{d:.0} rows/s, median of {} runs ({})",
                    d_runs.len(),
                    listed(&d_runs)
                ),
                "",
                None,
            ));
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
            // What counting rows costs (issue 15: at most 5 % slower): from
            // the alternated pairs when they ran.
            let pairs = &s["count_pairs"];
            match f(&pairs["ratio_median"]) {
                Some(ratio) => out.push(row(
                    format!(
                        "5 a/d (row counts' cost), median of {} alternated pairs",
                        pairs["ratios"].as_array().map_or(0, Vec::len)
                    ),
                    format!(
                        "{ratio:.2} (pairs: {})",
                        pairs["ratios"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_f64)
                            .map(|r| format!("{r:.2}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "≥ 0.95",
                    Some(ratio >= A_OVER_D),
                )),
                None => out.push(row(
                    "5 a/d (row counts' cost)",
                    format!("{:.2}", a / d),
                    "≥ 0.95",
                    Some(a / d >= A_OVER_D),
                )),
            }
        }
        None => out.push(not_run(
            "5 sync speed and 4 event → Flink job id",
            &["4 trigger: event", "5"],
        )),
    }
    out
}

/// `{"DynamoDB": {"GetItem": 4}, ...}` as `DynamoDB 4 (GetItem 4); ...`.
fn breakdown(by_service: &Value) -> String {
    let Some(services) = by_service.as_object() else {
        return String::new();
    };
    services
        .iter()
        .map(|(service, ops)| {
            let ops = ops.as_object().cloned().unwrap_or_default();
            let total: u64 = ops.values().filter_map(Value::as_u64).sum();
            let ops: Vec<String> = ops.iter().map(|(op, n)| format!("{op} {n}")).collect();
            format!("{service} {total}: {}", ops.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The calls of one warm fire (the first counted after a fresh process's
/// first fire), and whether the others matched it.
fn round_trips_row(r: &Value) -> Row {
    let figure = "4 trigger: AWS/Flink round trips per fire (sequential)";
    let Some(warm) = r["warm"].as_array().filter(|w| !w.is_empty()) else {
        return row(figure, "not run", "", None);
    };
    let one = &warm[0];
    let alike = warm
        .iter()
        .all(|w| w["calls"] == one["calls"] && w["sequential"] == one["sequential"]);
    let spread = if alike {
        format!("each of {} fires alike", warm.len())
    } else {
        let calls: Vec<String> = warm.iter().map(|w| w["calls"].to_string()).collect();
        let seq: Vec<String> = warm.iter().map(|w| w["sequential"].to_string()).collect();
        format!(
            "{} fires differ: calls {}, sequential {}",
            warm.len(),
            calls.join("/"),
            seq.join("/")
        )
    };
    let latencies: Vec<f64> = r["warm_latency_ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    row(
        figure,
        format!(
            "{} ({} one after another): {} ({spread}; a fire took {:.0} ms with each answer held {} ms; \
             a fresh process's first: {} ({}))",
            one["calls"],
            one["sequential"],
            breakdown(&one["by_service"]),
            crate::stats::median(&latencies).unwrap_or(f64::NAN),
            r["delay_ms"],
            r["first"]["calls"],
            r["first"]["sequential"],
        ),
        "",
        None,
    )
}

/// The table, as Markdown.
pub fn table(dir: &Path) -> String {
    markdown_rows(rows(dir), None)
}

/// `rows` as a Markdown table; with `previous` (a recorded block and its
/// date), a phase that did not run shows the previous block's rows for it.
fn markdown_rows(rows: Vec<Row>, previous: Option<(&str, &str)>) -> String {
    let mut s = String::from("| figure | measured | aim | met |\n|---|---|---|---|\n");
    for r in rows {
        if let Some((block, when)) = previous
            && !r.carry.is_empty()
        {
            let kept: Vec<&str> = block
                .lines()
                .filter(|l| {
                    l.strip_prefix("| ")
                        .is_some_and(|f| r.carry.iter().any(|c| f.starts_with(c)))
                })
                .collect();
            if !kept.is_empty() {
                for line in kept {
                    // The value column gets the date it was measured.
                    let mut cells: Vec<String> = line.split(" | ").map(str::to_owned).collect();
                    if cells.len() >= 2 && !cells[1].contains("(not re-run") {
                        cells[1] = format!("{} (not re-run: measured {when})", cells[1]);
                    }
                    let _ = writeln!(s, "{}", cells.join(" | "));
                }
                continue;
            }
        }
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
/// machine and the time of the run. The rows of a phase that did not run
/// are the previous block's, marked with the date they were measured.
pub fn record(dir: &Path, markdown: &Path, when: &str, command: &str) -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(markdown)?;
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        anyhow::bail!("{} lacks the markers {START} / {END}", markdown.display());
    };
    let old = &doc[start..end];
    let old_when = old
        .split_once("Measured ")
        .and_then(|(_, rest)| rest.split_once(" with "))
        .map_or("earlier", |(when, _)| when);
    let machine = std::fs::read_to_string(dir.join("machine.md")).unwrap_or_default();
    let block = format!(
        "{START}\nMeasured {when} with `{command}`.\n\n{}\nMachine:\n\n{machine}\n",
        markdown_rows(rows(dir), Some((old, old_when)))
    );
    let updated = format!("{}{block}{}", &doc[..start], &doc[end..]);
    std::fs::write(markdown, updated)?;
    Ok(())
}

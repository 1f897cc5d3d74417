//! Figures against the real local stack (moto, PostgreSQL, MariaDB, the
//! Flink 2.2 session cluster): the trigger's latency from event to Flink
//! job id, and the sync speed of one table PostgreSQL -> MariaDB
//! (a) as sluice generates the job, (b) the same INSERT with the sink at
//! Flink's JDBC defaults, (c) a native bulk copy (the physical limit), (d)
//! the generated job with Flink's operator chaining left on, as before row
//! counts (what counting costs: a / d).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use serde::Serialize;
use serde_json::{Value, json};

use crate::events;
use crate::function::Instance;
use crate::lambda::{self, Settings, create_job, function_env, register};
use crate::stats::{median, ms};
use crate::workload::{self, Databases};
use crate::{env_or, env_required};

#[derive(Debug, Serialize)]
pub struct Variant {
    pub rows: u64,
    /// Flink's own job duration (start to end), or the pipeline's wall time.
    pub seconds: f64,
    pub rows_per_s: f64,
    pub flink_job_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub rows: u64,
    pub e2e_event_to_job_id_ms: Vec<f64>,
    pub e2e_median_ms: f64,
    pub generated: Variant,
    pub jdbc_defaults: Option<Variant>,
    pub bulk_copy: Option<Variant>,
    /// (d): the generated script without the SET that turns chaining off.
    pub chained: Option<Variant>,
    /// (a) and (d) again, both through the runner, alternated in pairs:
    /// what counting rows costs, each compared on the same machine state.
    pub count_pairs: Option<CountPairs>,
    /// Event to the end of the generated job's Flink job.
    pub generated_event_to_end_s: f64,
    pub generated_script_sink_options: Vec<String>,
    pub defaults_script_sink_options: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CountPairs {
    /// Rows/s of the generated script (unchained, counted), one per pair.
    pub counted: Vec<f64>,
    /// Rows/s of the same script with chaining on, one per pair.
    pub chained: Vec<f64>,
    /// counted / chained of each pair.
    pub ratios: Vec<f64>,
    pub ratio_median: f64,
}

struct Stack {
    flink: String,
    http: reqwest::Client,
    db: Databases,
    repo: PathBuf,
    python: PathBuf,
}

impl Stack {
    fn psql(&self, sql: &str) -> anyhow::Result<String> {
        output(
            Command::new("psql")
                .env("PGPASSWORD", &self.db.password)
                .args([
                    "-X",
                    "-q",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    "127.0.0.1",
                ])
                .args([
                    "-p",
                    &self.db.pg_port.to_string(),
                    "-U",
                    "sluice",
                    "-d",
                    "sluice",
                ])
                .args(["-c", sql]),
        )
    }

    fn mariadb(&self, sql: &str) -> anyhow::Result<String> {
        output(
            Command::new("mariadb")
                .env("MYSQL_PWD", &self.db.password)
                .args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1"])
                .args([
                    "-P",
                    &self.db.mariadb_port.to_string(),
                    "-u",
                    "sluice",
                    "sluice",
                ])
                .args(["-B", "-N", "-e", sql]),
        )
    }

    fn target_rows(&self, table: &str) -> anyhow::Result<u64> {
        Ok(self
            .mariadb(&format!("SELECT COUNT(*) FROM {table}"))?
            .trim()
            .parse()?)
    }

    async fn flink_get(&self, path: &str) -> anyhow::Result<Value> {
        let answer = self
            .http
            .get(format!("{}{path}", self.flink))
            .send()
            .await?;
        let status = answer.status();
        let body: Value = answer.json().await?;
        ensure!(status.is_success(), "GET {path}: {status}: {body}");
        Ok(body)
    }

    /// Waits for a Flink job to end; its final details.
    async fn wait_for_job(&self, job_id: &str) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let job = self.flink_get(&format!("/jobs/{job_id}")).await?;
            match job["state"].as_str().unwrap_or_default() {
                "FINISHED" => return Ok(job),
                "FAILED" | "CANCELED" => {
                    let exceptions = self
                        .flink_get(&format!("/jobs/{job_id}/exceptions?maxExceptions=1"))
                        .await
                        .unwrap_or_default();
                    let root = exceptions["exceptionHistory"]["entries"][0]["stacktrace"]
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" | ");
                    bail!("Flink job {job_id} ended {}: {root}", job["state"]);
                }
                _ => {}
            }
            ensure!(Instant::now() < deadline, "Flink job {job_id} did not end");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

fn output(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {command:?}"))?;
    ensure!(
        out.status.success(),
        "{:?} failed: {}",
        command.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn duration_s(job: &Value) -> anyhow::Result<f64> {
    let ms = job["duration"]
        .as_f64()
        .context("the job has no duration")?;
    Ok(ms / 1e3)
}

/// The WITH options of the `dst` table of a rendered script, one per line.
fn sink_options(script: &str) -> Vec<String> {
    let Some(start) = script.find("CREATE TEMPORARY TABLE `dst`") else {
        return Vec::new();
    };
    let block = &script[start..];
    let Some(with) = block.find(") WITH (") else {
        return Vec::new();
    };
    block[with + 8..]
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with(')'))
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect()
}

/// Variant (b): the same script with the sink table declared as Flink's
/// JDBC connector documents it, every optional setting at its default: no
/// `sink.*` option (a flush every 100 rows or 1 s), no `driver` (Flink
/// derives it from the URL: MySQL Connector/J for `jdbc:mysql:`) and a URL
/// without parameters (none of the batching flags sluice adds). The source
/// table, the SETs and the INSERT stay as generated.
pub fn with_jdbc_sink_defaults(script: &str) -> anyhow::Result<String> {
    let start = script
        .find("CREATE TEMPORARY TABLE `dst`")
        .context("no dst table")?;
    let with = start
        + script[start..]
            .find(") WITH (\n")
            .context("no WITH of dst")?
        + ") WITH (\n".len();
    let end = with + script[with..].find("\n);").context("no end of dst")?;
    let mut options = Vec::new();
    for line in script[with..end].lines() {
        let option = line.trim().trim_end_matches(',');
        let (key, value) = option
            .split_once(" = ")
            .with_context(|| format!("not an option: {option}"))?;
        match key {
            "'connector'" | "'table-name'" | "'username'" | "'password'" => {
                options.push(format!("  {option}"))
            }
            "'url'" => {
                let url = value.trim_matches('\'');
                let base = url.split_once('?').map_or(url, |(base, _)| base);
                options.push(format!("  'url' = '{base}'"));
            }
            _ => {}
        }
    }
    Ok(format!(
        "{}{}{}",
        &script[..with],
        options.join(",\n"),
        &script[end..]
    ))
}

/// Seals a script for the runner as the trigger does (KMS envelope bound to
/// job and run), with `infra/flink/seal.py`.
fn seal(stack: &Stack, script: &str, job: &str, run: &str, tenant: &str) -> anyhow::Result<String> {
    use std::io::Write as _;
    let mut child = Command::new(&stack.python)
        .arg(stack.repo.join("infra/flink/seal.py"))
        .args(["--job", job, "--run", run, "--tenant", tenant])
        .args(["--key-id", &env_required("SLUICE_KMS_KEY_ID")?])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    ensure!(
        out.status.success(),
        "seal.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

async fn fire(
    trigger: &Instance,
    tenant: &str,
    job: &str,
    at: &str,
) -> anyhow::Result<(f64, String)> {
    let done = trigger.invoke(&events::fire(tenant, job, at)).await?;
    ensure!(done.ok, "trigger: {}", String::from_utf8_lossy(&done.body));
    let answer = done.json()?;
    ensure!(
        answer["outcome"] == "submitted",
        "the trigger answered {answer}"
    );
    let flink_job = answer["flink_job_id"]
        .as_str()
        .context("no flink_job_id")?
        .to_owned();
    Ok((ms(done.latency), flink_job))
}

pub async fn run(out: &Path) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    std::fs::create_dir_all(&settings.work)?;
    let rows: u64 = env_or("BENCH_ROWS", 1_000_000)?;
    let e2e_fires: u32 = env_or("BENCH_E2E_FIRES", 5)?;
    let copy_runs: u32 = env_or("BENCH_COPY_RUNS", 3)?;
    // Which of the variants to run (exploring one setting: "a").
    let variants: String = env_or("BENCH_SYNC_VARIANTS", "abcd".to_owned())?;
    let stack = Stack {
        flink: env_required("FLINK_REST_URL")?,
        http: sluice_flink::http::client_builder().build()?,
        db: Databases {
            pg_port: env_or("SLUICE_PG_PORT", 55432)?,
            mariadb_port: env_or("SLUICE_MARIADB_PORT", 53306)?,
            password: env_or("SLUICE_DB_PASSWORD", "sluice-local-pw".to_owned())?,
        },
        repo: env_required("SLUICE_REPO")?.into(),
        python: env_required("BENCH_PYTHON")?.into(),
    };
    let tenant = env_or(
        "BENCH_TENANT",
        format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase()),
    )?;
    let table = env_or("BENCH_TABLE", "bench_orders".to_owned())?;
    let small = format!("{table}_small");
    // The stack's functions serve the Invoke API: the trigger prepares each
    // run with the real discovery function and databases.
    let api = env_or("SLUICE_API_URL", "http://127.0.0.1:9000".to_owned())?;
    let functions = lambda::functions(&settings, &function_env(&stack.flink, &api)?);

    eprintln!("[bench] PostgreSQL: {table} with {rows} rows; MariaDB: empty targets");
    stack.psql(&workload::postgres_source_sql(&table, rows))?;
    stack.mariadb(&workload::mariadb_target_sql(&table, true))?;
    stack.mariadb(&workload::mariadb_target_sql(&small, false))?;

    let result = measure(
        &stack, &functions, &tenant, &table, &small, rows, e2e_fires, copy_runs, &variants,
    )
    .await;
    if std::env::var_os("BENCH_KEEP_TABLES").is_none() {
        let _ = stack.psql(&format!("DROP TABLE IF EXISTS {table}"));
        let _ = stack.mariadb(&format!(
            "DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {small}"
        ));
    }
    let report = result?;
    std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    stack: &Stack,
    functions: &std::collections::BTreeMap<&'static str, crate::function::Function>,
    tenant: &str,
    table: &str,
    small: &str,
    rows: u64,
    e2e_fires: u32,
    copy_runs: u32,
    variants: &str,
) -> anyhow::Result<Report> {
    let sources = functions["sources"].cold_start().await?.0;
    let jobs = functions["jobs"].cold_start().await?.0;
    let (pg, maria, job_id) = register(&sources, &jobs, tenant, &stack.db, |pg, maria| {
        workload::sync_job("bench orders", pg, maria, table, table, rows, None)
    })
    .await?;
    let small_job = create_job(
        &jobs,
        tenant,
        &workload::sync_job(
            "bench small",
            &pg,
            &maria,
            table,
            small,
            1000,
            Some("id <= 1000"),
        ),
    )
    .await?;

    // Event -> Flink job id, on the real cluster (a small job, one at a time).
    let trigger = functions["trigger"].cold_start().await?.0;
    let mut e2e = Vec::new();
    for n in 0..e2e_fires {
        stack.mariadb(&format!("TRUNCATE TABLE {small}"))?;
        let at = events::scheduled_time(900, n);
        let (latency, flink_job) = fire(&trigger, tenant, &small_job, &at).await?;
        stack.wait_for_job(&flink_job).await?;
        ensure!(
            stack.target_rows(small)? == 1000,
            "the small job moved the wrong rows"
        );
        eprintln!("[bench] event -> Flink job id: {latency:.1} ms");
        e2e.push(latency);
    }

    // The source table in cache for every variant.
    stack.psql(&format!("SELECT count(*), sum(length(note)) FROM {table}"))?;

    eprintln!("[bench] (a) the job sluice generates");
    stack.mariadb(&format!("TRUNCATE TABLE {table}"))?;
    let fired = Instant::now();
    let (_, generated_job) = fire(&trigger, tenant, &job_id, "2026-12-01T00:00:00Z").await?;
    let job = stack.wait_for_job(&generated_job).await?;
    let generated_event_to_end = fired.elapsed().as_secs_f64();
    ensure!(
        stack.target_rows(table)? == rows,
        "(a) moved the wrong rows"
    );
    let generated = variant(rows, duration_s(&job)?, Some(generated_job));
    eprintln!("[bench] (a) {:.0} rows/s", generated.rows_per_s);
    trigger.stop().await;

    let answer = jobs
        .call(&events::http(
            "GET",
            &format!("/jobs/{job_id}/sql"),
            "",
            tenant,
            None,
        ))
        .await?;
    let (status, script) = events::http_answer(&answer)?;
    ensure!(
        status == 200,
        "GET /jobs/{{id}}/sql answered {status}: {script}"
    );
    let script = script
        .as_str()
        .context("the script is not text")?
        .to_owned();
    ensure!(
        script.contains("'password' = '******'"),
        "the preview is not masked"
    );
    let defaults = with_jdbc_sink_defaults(&script)?;
    let jdbc_defaults = if variants.contains('b') {
        eprintln!("[bench] (b) the same INSERT with Flink's JDBC sink defaults");
        Some(run_script(stack, "(b)", &defaults, &job_id, tenant, table, rows).await?)
    } else {
        None
    };
    let chained = if variants.contains('d') {
        eprintln!("[bench] (d) the generated job with operator chaining on (no row counts)");
        let script = without_row_counts(&script)?;
        Some(run_script(stack, "(d)", &script, &job_id, tenant, table, rows).await?)
    } else {
        None
    };
    // `BENCH_COUNT_PAIRS` (5): each pair runs both, the order swapped from
    // one pair to the next.
    let pairs: u32 = env_or("BENCH_COUNT_PAIRS", 5)?;
    let count_pairs = if variants.contains('d') && pairs > 0 {
        let chained_script = without_row_counts(&script)?;
        let (mut counted, mut chained) = (Vec::new(), Vec::new());
        for pair in 0..pairs {
            eprintln!("[bench] row counts' cost: pair {}", pair + 1);
            let run = async |label, s| {
                run_script(stack, label, s, &job_id, tenant, table, rows)
                    .await
                    .map(|v| v.rows_per_s)
            };
            if pair % 2 == 0 {
                counted.push(run("(a) counted", &script).await?);
                chained.push(run("(d) chained", &chained_script).await?);
            } else {
                chained.push(run("(d) chained", &chained_script).await?);
                counted.push(run("(a) counted", &script).await?);
            }
        }
        let ratios: Vec<f64> = counted.iter().zip(&chained).map(|(a, d)| a / d).collect();
        let ratio_median = median(&ratios).context("no pair ran")?;
        eprintln!("[bench] row counts' cost: a/d per pair {ratios:.2?}, median {ratio_median:.2}");
        Some(CountPairs {
            counted,
            chained,
            ratios,
            ratio_median,
        })
    } else {
        None
    };
    let bulk_copy = if variants.contains('c') {
        Some(bulk_copy(stack, table, rows, copy_runs)?)
    } else {
        None
    };
    // The jobs, their schedules and the sources go; the tenant's runs are
    // removed by run.sh (forget_tenant.py).
    lambda::unregister(
        &sources,
        &jobs,
        tenant,
        &[&job_id, &small_job],
        &[&pg, &maria],
    )
    .await?;
    sources.stop().await;
    jobs.stop().await;

    Ok(Report {
        rows,
        e2e_median_ms: median(&e2e).unwrap_or_default(),
        e2e_event_to_job_id_ms: e2e,
        generated,
        jdbc_defaults,
        bulk_copy,
        chained,
        count_pairs,
        generated_event_to_end_s: generated_event_to_end,
        generated_script_sink_options: redact(sink_options(&script)),
        defaults_script_sink_options: redact(sink_options(&defaults)),
    })
}

/// Variant (d): the script as it was before row counts, with Flink's
/// operator chaining on (the source and the sink in one vertex).
pub fn without_row_counts(script: &str) -> anyhow::Result<String> {
    const SET: &str = "SET 'pipeline.operator-chaining.enabled' = 'false';\n";
    ensure!(
        script.contains(SET),
        "the script does not turn chaining off"
    );
    Ok(script.replacen(SET, "", 1))
}

/// Runs `script` (masked as the preview shows it) sealed through the runner
/// jar, as the trigger would: its rate.
async fn run_script(
    stack: &Stack,
    label: &str,
    script: &str,
    job_id: &str,
    tenant: &str,
    table: &str,
    rows: u64,
) -> anyhow::Result<Variant> {
    let password = stack.db.password.replace('\'', "''");
    let run_id = format!("run_{}", ulid::Ulid::new());
    let sealed = seal(
        stack,
        &script.replace("'******'", &format!("'{password}'")),
        job_id,
        &run_id,
        tenant,
    )?;
    stack.mariadb(&format!("TRUNCATE TABLE {table}"))?;
    let jar = runner_jar_id(stack).await?;
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(sealed.as_bytes())
    };
    let answer = stack
        .http
        .post(format!("{}/jars/{jar}/run", stack.flink))
        .json(&json!({"entryClass": "dev.sluice.runner.Runner",
                      "programArgsList": ["--sealed", b64, "--expect-job", job_id, "--expect-run", run_id]}))
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await?;
    ensure!(status.is_success(), "run {label}: {status}: {body}");
    let flink_job = body["jobid"].as_str().context("no jobid")?.to_owned();
    let job = stack.wait_for_job(&flink_job).await?;
    ensure!(
        stack.target_rows(table)? == rows,
        "{label} moved the wrong rows"
    );
    let v = variant(rows, duration_s(&job)?, Some(flink_job));
    eprintln!("[bench] {label} {:.0} rows/s", v.rows_per_s);
    Ok(v)
}

/// (c): `COPY ... TO STDOUT` piped into `LOAD DATA LOCAL INFILE`, the
/// median of `runs` wall times.
fn bulk_copy(stack: &Stack, table: &str, rows: u64, runs: u32) -> anyhow::Result<Variant> {
    eprintln!("[bench] (c) native bulk copy: COPY TO STDOUT | LOAD DATA LOCAL INFILE");
    let columns = workload::column_list();
    let mut copies = Vec::new();
    for _ in 0..runs {
        stack.mariadb(&format!("TRUNCATE TABLE {table}"))?;
        let pipeline = format!(
            "set -o pipefail; \
             PGPASSWORD=\"$BENCH_DB_PASSWORD\" psql -X -q -h 127.0.0.1 -p {pg} -U sluice -d sluice \
               -c \"\\copy (SELECT {columns} FROM {table}) TO STDOUT\" | \
             MYSQL_PWD=\"$BENCH_DB_PASSWORD\" mariadb --no-defaults --protocol=TCP --local-infile=1 \
               -h 127.0.0.1 -P {maria} -u sluice sluice \
               -e \"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE {table} ({columns})\"",
            pg = stack.db.pg_port,
            maria = stack.db.mariadb_port,
        );
        let started = Instant::now();
        output(
            Command::new("bash")
                .env("BENCH_DB_PASSWORD", &stack.db.password)
                .args(["-c", &pipeline]),
        )?;
        let seconds = started.elapsed().as_secs_f64();
        ensure!(
            stack.target_rows(table)? == rows,
            "(c) moved the wrong rows"
        );
        eprintln!("[bench] (c) {:.0} rows/s", rows as f64 / seconds);
        copies.push(seconds);
    }
    Ok(variant(rows, median(&copies).context("no copy ran")?, None))
}

fn redact(options: Vec<String>) -> Vec<String> {
    options
        .into_iter()
        .map(|o| {
            if o.starts_with("'password'") {
                "'password' = '******'".to_owned()
            } else {
                o
            }
        })
        .collect()
}

fn variant(rows: u64, seconds: f64, flink_job_id: Option<String>) -> Variant {
    Variant {
        rows,
        seconds,
        rows_per_s: rows as f64 / seconds,
        flink_job_id,
    }
}

/// The id of the runner jar on the cluster (the trigger uploaded it, named
/// by the first 16 hex digits of its SHA-256).
async fn runner_jar_id(stack: &Stack) -> anyhow::Result<String> {
    let jar = std::fs::read(env_required("SLUICE_RUNNER_JAR")?)?;
    let name = format!("sluice-runner-{}.jar", &sha256_hex(&jar)[..16]);
    let list = stack.flink_get("/jars").await?;
    list["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"] == name.as_str())
        .and_then(|f| f["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("the cluster has no {name}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "SET 'parallelism.default' = '2';

CREATE TEMPORARY TABLE `src` (
  `id` BIGINT
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://127.0.0.1:5432/s?sslmode=disable',
  'scan.fetch-size' = '10000'
);

CREATE TEMPORARY TABLE `dst` (
  `id` BIGINT
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:mysql://127.0.0.1:3306/d?permitMysqlScheme&sslMode=disable&useBulkStmtsForInserts=true&rewriteBatchedStatements=true',
  'table-name' = 'orders',
  'driver' = 'org.mariadb.jdbc.Driver',
  'password' = '******',
  'sink.buffer-flush.max-rows' = '5000',
  'sink.max-retries' = '3'
);

INSERT INTO `dst` (`id`)
SELECT `id` FROM `src`;
";

    #[test]
    fn defaults_drop_the_sink_tuning_and_keep_the_rest() {
        let out = with_jdbc_sink_defaults(SCRIPT).unwrap();
        assert_eq!(
            sink_options(&out),
            [
                "'connector' = 'jdbc'",
                "'url' = 'jdbc:mysql://127.0.0.1:3306/d'",
                "'table-name' = 'orders'",
                "'password' = '******'",
            ]
        );
        // The source table and the INSERT are untouched.
        assert!(out.contains("'scan.fetch-size' = '10000'"));
        assert!(out.ends_with("INSERT INTO `dst` (`id`)\nSELECT `id` FROM `src`;\n"));
        assert!(out.contains("'password' = '******'\n);"));
    }
}

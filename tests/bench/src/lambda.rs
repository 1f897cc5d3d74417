//! Figures of the functions themselves, against moto and the JobManager
//! recorder: cold start (init and cold penalty) per function beside the
//! hello-world floor, peak memory over many warm invocations, the trigger
//! under concurrent, partly duplicated deliveries, and the round trips of
//! one fire.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::{Value, json};

use crate::calls::{AwsProxy, RoundTrips};
use crate::events::{self, TENANT_CLAIM};
use crate::function::{Function, INVOKE_LIMIT, Init, Instance, Pool};
use crate::recorder::Recorder;
use crate::runtime_api::Round;
use crate::stats::{median, ms, percentile};
use crate::workload::{self, Databases};
use crate::{env_or, env_required};

/// A well-formed source id that no tenant has (discovery's measured request).
const MISSING_SOURCE: &str = "src_01J0000000000000000000000A";

pub struct Settings {
    pub bin_dir: PathBuf,
    pub work: PathBuf,
    pub starts: u32,
    /// Rounds of the init pass: each round starts every function once.
    pub init_rounds: u32,
    pub warm: u32,
    pub memory_invocations: u32,
    pub trigger_events: u32,
    pub trigger_concurrency: usize,
    pub duplicate_percent: u32,
    /// Active runs the reconciler follows on each pass.
    pub reconciler_runs: u32,
    /// Fires whose AWS and Flink calls are counted, one at a time, after a
    /// fresh process's first (0: not measured).
    pub round_trip_fires: u32,
    /// How long each counted call's answer is held (a network round trip's
    /// worth), so that concurrent calls overlap for certain.
    pub round_trip_delay_ms: u64,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            bin_dir: env_required("BENCH_BIN_DIR")?.into(),
            work: env_required("BENCH_WORK")?.into(),
            starts: env_or("BENCH_STARTS", 20)?,
            init_rounds: env_or("BENCH_INIT_ROUNDS", 40)?,
            warm: env_or("BENCH_WARM", 20)?,
            memory_invocations: env_or("BENCH_MEMORY_INVOCATIONS", 1000)?,
            trigger_events: env_or("BENCH_TRIGGER_EVENTS", 1000)?,
            trigger_concurrency: env_or("BENCH_TRIGGER_CONCURRENCY", 8)?,
            duplicate_percent: env_or("BENCH_DUPLICATE_PERCENT", 20)?,
            reconciler_runs: env_or("BENCH_RECONCILER_RUNS", 10)?,
            round_trip_fires: env_or("BENCH_ROUND_TRIP_FIRES", 5)?,
            round_trip_delay_ms: env_or("BENCH_ROUND_TRIP_DELAY_MS", 20)?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct ColdStart {
    pub starts: usize,
    pub warm_per_start: u32,
    pub first_ms: Vec<f64>,
    pub warm_median_ms: Vec<f64>,
    pub penalty_ms: Vec<f64>,
    pub first_median_ms: f64,
    pub warm_median_of_medians_ms: f64,
    pub penalty_median_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub invocations: u32,
    pub peak_rss_kib: u64,
    pub final_rss_kib: u64,
    pub rss_after_first_kib: u64,
}

#[derive(Debug, Serialize)]
pub struct TriggerLoad {
    pub events: u32,
    pub distinct_fires: u32,
    pub duplicates_sent: u32,
    pub concurrency: usize,
    pub outcomes: BTreeMap<String, u32>,
    pub runs_created: u64,
    pub submissions: u64,
    pub distinct_runs_submitted: u64,
    pub duplicate_submissions: u64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub wall_s: f64,
    pub events_per_s: f64,
    /// CPU time of the trigger processes per event: the handler's own work,
    /// without waiting on moto or the recorder.
    pub cpu_ms_per_event: f64,
}

/// The calls of single fires, from one trigger process whose AWS calls go
/// through a counting proxy to moto.
#[derive(Debug, Serialize)]
pub struct TriggerRoundTrips {
    /// Each answer (AWS and Flink) was held this long.
    pub delay_ms: u64,
    /// The process's first fire (its cold start's lookups included).
    pub first: RoundTrips,
    pub first_latency_ms: f64,
    /// The fires after it, one at a time.
    pub warm: Vec<RoundTrips>,
    pub warm_latency_ms: Vec<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub init: BTreeMap<String, InitSeries>,
    pub cold_start: BTreeMap<String, ColdStart>,
    pub memory: BTreeMap<String, Memory>,
    pub trigger: Option<TriggerLoad>,
    pub trigger_round_trips: Option<TriggerRoundTrips>,
    /// Across every phase: submissions of a run beyond its first.
    pub duplicate_submissions_all_phases: u64,
    pub submissions_all_phases: u64,
}

/// The event a function is measured with; `n` numbers the invocations of
/// one process (the trigger gets a distinct fire each time so that every
/// invocation does the whole work: claim, decrypt, render, seal, submit).
type EventFor = Box<dyn Fn(u32, u32) -> Value + Send + Sync>;

struct Bench {
    settings: Settings,
    functions: BTreeMap<&'static str, Function>,
    recorder: Recorder,
    tenant: String,
    /// Distinct series of scheduled times.
    series: std::sync::atomic::AtomicU32,
}

impl Bench {
    fn next_series(&self) -> u32 {
        self.series
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    async fn start(&self, name: &str) -> anyhow::Result<Instance> {
        Ok(self.functions[name].cold_start().await?.0)
    }
}

fn function(settings: &Settings, name: &str, bin: &str, env: &[(String, String)]) -> Function {
    Function {
        name: name.to_owned(),
        bin: settings.bin_dir.join(bin),
        env: env.to_vec(),
        log: settings.work.join(format!("{name}.log")),
    }
}

/// The functions' settings as a deployment gives them, with AWS pointing
/// at `AWS_ENDPOINT_URL` (moto), Flink at `flink_url` and Lambda's Invoke
/// API (the discovery function) at `lambda_url`.
pub fn function_env(flink_url: &str, lambda_url: &str) -> anyhow::Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EC2_METADATA_DISABLED",
        "SLUICE_TABLE",
        "SLUICE_KMS_KEY_ID",
        "SLUICE_RUNNER_JAR",
    ] {
        env.push((name.to_owned(), env_required(name)?));
    }
    env.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
    env.push(("AWS_LAMBDA_LOG_LEVEL".into(), "INFO".into()));
    env.push(("SLUICE_TENANT_MODE".into(), "jwt".into()));
    env.push(("SLUICE_TENANT_CLAIM".into(), TENANT_CLAIM.into()));
    env.push(("SLUICE_FLINK_REST_URL".into(), flink_url.to_owned()));
    // Where the trigger calls the discovery function: the recorder's
    // stand-in (recorder.rs), or the local stack's functions.
    env.push(("AWS_ENDPOINT_URL_LAMBDA".into(), lambda_url.to_owned()));
    env.push(("SLUICE_TRIGGER_FUNCTION".into(), "trigger".into()));
    // Run events go to the (private) moto's default bus, which keeps none.
    env.push(("SLUICE_EVENT_BUS".into(), "default".into()));
    // Where connection tests and discovery go (the sources and jobs
    // functions; the benchmark's jobs name their columns, so none is made).
    env.push(("SLUICE_DISCOVERY_FUNCTION".into(), "discovery".into()));
    // The SNS topics jobs may notify (the sources function checks them; the
    // benchmark sets no notifications).
    env.push((
        "SLUICE_NOTIFY_TOPIC_ARN_PREFIX".into(),
        "arn:aws:sns:us-east-1:123456789012:sluice-".into(),
    ));
    // Where schedules would fire (the jobs function's EventBridge Scheduler
    // settings; no event of the benchmark creates a schedule).
    env.push((
        "SLUICE_SCHEDULER_TARGET_ARN".into(),
        "arn:aws:lambda:us-east-1:123456789012:function:trigger".into(),
    ));
    env.push((
        "SLUICE_SCHEDULER_ROLE_ARN".into(),
        "arn:aws:iam::123456789012:role/sluice-scheduler".into(),
    ));
    // As the template sets it (Globals): the system's CA bundle alone.
    let bundle = "/etc/ssl/certs/ca-certificates.crt";
    if std::path::Path::new(bundle).exists() {
        env.push(("SSL_CERT_FILE".into(), bundle.into()));
    }
    // Deployment settings to compare (`BENCH_FUNCTION_ENV`: `K=V,K=V`).
    if let Ok(extra) = std::env::var("BENCH_FUNCTION_ENV") {
        for pair in extra.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .with_context(|| format!("BENCH_FUNCTION_ENV: {pair:?} is not K=V"))?;
            env.push((k.to_owned(), v.to_owned()));
        }
    }
    Ok(env)
}

/// Every function of the deployment, in the order of the report's table.
pub const FUNCTIONS: [&str; 6] = [
    "sources",
    "jobs",
    "trigger",
    "reconciler",
    "discovery",
    "notifier",
];

pub fn functions(
    settings: &Settings,
    env: &[(String, String)],
) -> BTreeMap<&'static str, Function> {
    let mut out = BTreeMap::new();
    for name in FUNCTIONS {
        out.insert(name, function(settings, name, name, env));
    }
    // The floor gets no settings beyond what Lambda sets (and the compared
    // deployment settings).
    let extra: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("SSL_CERT"))
        .cloned()
        .collect();
    out.insert("hello", function(settings, "hello", "bench-hello", &extra));
    out
}

/// Registers the two sources and a job through the functions; returns the
/// source ids and the job id.
pub async fn register(
    sources: &Instance,
    jobs: &Instance,
    tenant: &str,
    db: &Databases,
    job: impl Fn(&str, &str) -> Value,
) -> anyhow::Result<(String, String, String)> {
    let mut ids = Vec::new();
    for body in [workload::postgres_source(db), workload::mariadb_source(db)] {
        let answer = sources
            .call(&events::http("POST", "/sources", "", tenant, Some(&body)))
            .await?;
        let (status, view) = events::http_answer(&answer)?;
        ensure!(status == 201, "POST /sources answered {status}: {view}");
        ids.push(view["id"].as_str().context("a source id")?.to_owned());
    }
    let job_id = create_job(jobs, tenant, &job(&ids[0], &ids[1])).await?;
    Ok((ids[0].clone(), ids[1].clone(), job_id))
}

/// Creates a job with an enabled schedule (the trigger ignores scheduler
/// fires of a job without one). The schedule is a one-time `at(...)` far in
/// the future, so nothing but the benchmark ever fires it, and its overlap
/// policy is `allow`: the recorder reports every run RUNNING for ever, and
/// with `skip` every fire after the first would be skipped instead of
/// submitted.
pub async fn create_job(jobs: &Instance, tenant: &str, body: &Value) -> anyhow::Result<String> {
    let answer = jobs
        .call(&events::http("POST", "/jobs", "", tenant, Some(body)))
        .await?;
    let (status, view) = events::http_answer(&answer)?;
    ensure!(status == 201, "POST /jobs answered {status}: {view}");
    let job_id = view["id"].as_str().context("a job id")?.to_owned();
    let schedule = json!({"expression": "at(2099-01-01T00:00:00)", "timezone": "UTC",
                          "enabled": true, "overlap": "allow"});
    let answer = jobs
        .call(&events::http(
            "PUT",
            &format!("/jobs/{job_id}/schedule"),
            "",
            tenant,
            Some(&schedule),
        ))
        .await?;
    let (status, view) = events::http_answer(&answer)?;
    ensure!(
        status == 201 || status == 200,
        "PUT /jobs/{{id}}/schedule answered {status}: {view}"
    );
    Ok(job_id)
}

/// Deletes what [`register`] and [`create_job`] made (a job's schedule goes
/// with the job). Runs stay: `infra/bench/forget_tenant.py` removes them.
pub async fn unregister(
    sources: &Instance,
    jobs: &Instance,
    tenant: &str,
    job_ids: &[&str],
    source_ids: &[&str],
) -> anyhow::Result<()> {
    for (instance, path) in job_ids
        .iter()
        .map(|id| (jobs, format!("/jobs/{id}")))
        .chain(
            source_ids
                .iter()
                .map(|id| (sources, format!("/sources/{id}"))),
        )
    {
        let answer = instance
            .call(&events::http("DELETE", &path, "", tenant, None))
            .await?;
        let (status, body) = events::http_answer(&answer)?;
        ensure!(status == 204, "DELETE {path} answered {status}: {body}");
    }
    Ok(())
}

/// Checks that an answer is what the measured event must produce, so that
/// a figure never comes from an error path.
fn check_answer(function: &str, answer: &Value) -> anyhow::Result<()> {
    match function {
        "sources" | "jobs" => {
            let (status, body) = events::http_answer(answer)?;
            ensure!(status == 200, "{function} answered {status}: {body}");
        }
        "trigger" => ensure!(
            answer["outcome"] == "submitted",
            "the trigger answered {answer}"
        ),
        "reconciler" => ensure!(answer.is_object(), "the reconciler answered {answer}"),
        "discovery" => ensure!(
            answer["outcome"] == "error" && answer["error"]["kind"] == "not_found",
            "the discovery function answered {answer}"
        ),
        _ => {}
    }
    Ok(())
}

/// One function's inits over the rounds of [`init_pass`].
#[derive(Debug, Serialize)]
pub struct InitSeries {
    /// Spawn to first poll.
    pub wall_ms: Vec<f64>,
    /// The process's CPU time by its first poll (all threads).
    pub cpu_ms: Vec<f64>,
    /// Time its threads waited for a CPU by then (the machine's load).
    pub runqueue_ms: Vec<f64>,
    /// This init minus the hello-world's of the same round.
    pub above_floor_ms: Vec<f64>,
    pub wall_median_ms: f64,
    pub cpu_median_ms: f64,
    pub runqueue_median_ms: f64,
    /// The figure of the budget: the median of `above_floor_ms`.
    pub above_floor_median_ms: f64,
}

/// Init alone, the functions interleaved: each round starts every function
/// once (in a rotated order), waits for its first poll and stops it, with
/// no invocation in between. A machine's load, or a host's, that comes and
/// goes then weighs on the floor and on each function alike, and each
/// function is compared with the floor of its own round. (Timed in blocks,
/// one function's 20 starts after another's, the same binaries gave init
/// figures that differed by 2x from one run to the next: BENCHMARKS.md.)
async fn init_pass(bench: &Bench, names: &[&str]) -> anyhow::Result<BTreeMap<String, InitSeries>> {
    let rounds = bench.settings.init_rounds as usize;
    eprintln!(
        "[bench] init: {rounds} rounds of {} starts, interleaved",
        names.len()
    );
    let mut samples: BTreeMap<&str, Vec<Init>> = BTreeMap::new();
    for round in 0..rounds {
        for i in 0..names.len() {
            let name = names[(round + i) % names.len()];
            let (instance, init) = bench.functions[name].cold_start().await?;
            instance.stop().await;
            samples.entry(name).or_default().push(init);
        }
    }
    let floor: Vec<f64> = samples["hello"].iter().map(|i| ms(i.wall)).collect();
    let mut out = BTreeMap::new();
    for (name, inits) in samples {
        let wall: Vec<f64> = inits.iter().map(|i| ms(i.wall)).collect();
        let cpu: Vec<f64> = inits.iter().map(|i| ms(i.cpu)).collect();
        let runqueue: Vec<f64> = inits.iter().map(|i| ms(i.runqueue)).collect();
        let above: Vec<f64> = wall.iter().zip(&floor).map(|(w, f)| w - f).collect();
        let series = InitSeries {
            wall_median_ms: median(&wall).unwrap_or_default(),
            cpu_median_ms: median(&cpu).unwrap_or_default(),
            runqueue_median_ms: median(&runqueue).unwrap_or_default(),
            above_floor_median_ms: median(&above).unwrap_or_default(),
            wall_ms: wall,
            cpu_ms: cpu,
            runqueue_ms: runqueue,
            above_floor_ms: above,
        };
        eprintln!(
            "[bench] {name}: init {:.2} ms (floor {:+.2} ms in its rounds; CPU {:.2} ms, waiting for a CPU {:.2} ms)",
            series.wall_median_ms,
            series.above_floor_median_ms,
            series.cpu_median_ms,
            series.runqueue_median_ms
        );
        out.insert(name.to_owned(), series);
    }
    Ok(out)
}

async fn cold_start(bench: &Bench, name: &str, event: &EventFor) -> anyhow::Result<ColdStart> {
    let function = &bench.functions[name];
    let (mut first, mut warm_medians, mut penalty) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..bench.settings.starts {
        let series = bench.next_series();
        let (instance, _) = function.cold_start().await?;
        let done = instance.invoke(&event(series, 0)).await?;
        ensure!(done.ok, "{name}: {}", String::from_utf8_lossy(&done.body));
        check_answer(name, &done.json()?)?;
        let mut warm = Vec::new();
        for n in 1..=bench.settings.warm {
            let w = instance.invoke(&event(series, n)).await?;
            ensure!(w.ok, "{name}: {}", String::from_utf8_lossy(&w.body));
            check_answer(name, &w.json()?)?;
            warm.push(ms(w.latency));
        }
        instance.stop().await;
        let warm_median = median(&warm).context("warm invocations")?;
        first.push(ms(done.latency));
        warm_medians.push(warm_median);
        penalty.push(ms(done.latency) - warm_median);
    }
    Ok(ColdStart {
        starts: first.len(),
        warm_per_start: bench.settings.warm,
        first_median_ms: median(&first).unwrap_or_default(),
        warm_median_of_medians_ms: median(&warm_medians).unwrap_or_default(),
        penalty_median_ms: median(&penalty).unwrap_or_default(),
        first_ms: first,
        warm_median_ms: warm_medians,
        penalty_ms: penalty,
    })
}

async fn memory(bench: &Bench, name: &str, event: &EventFor) -> anyhow::Result<Memory> {
    let (instance, _) = bench.functions[name].cold_start().await?;
    let series = bench.next_series();
    let mut rss_after_first = 0;
    for n in 0..bench.settings.memory_invocations {
        let done = instance.invoke(&event(series, n)).await?;
        ensure!(done.ok, "{name}: {}", String::from_utf8_lossy(&done.body));
        if n == 0 {
            check_answer(name, &done.json()?)?;
            rss_after_first = instance.memory_kib()?.1;
        }
    }
    let (peak, last) = instance.memory_kib()?;
    instance.stop().await;
    Ok(Memory {
        invocations: bench.settings.memory_invocations,
        peak_rss_kib: peak,
        final_rss_kib: last,
        rss_after_first_kib: rss_after_first,
    })
}

/// Counts a job's runs through the jobs API (`GET /jobs/{id}/runs`).
async fn count_runs(jobs: &Instance, tenant: &str, job_id: &str) -> anyhow::Result<u64> {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(t) => format!("limit=100&next_token={t}"),
            None => "limit=100".to_owned(),
        };
        let answer = jobs
            .call(&events::http(
                "GET",
                &format!("/jobs/{job_id}/runs"),
                &query,
                tenant,
                None,
            ))
            .await?;
        let (status, page) = events::http_answer(&answer)?;
        ensure!(
            status == 200,
            "GET /jobs/{{id}}/runs answered {status}: {page}"
        );
        count += page["items"].as_array().map_or(0, Vec::len) as u64;
        match page["next_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(count),
        }
    }
}

async fn trigger_load(bench: &Bench, job_id: &str, warm_job: &str) -> anyhow::Result<TriggerLoad> {
    let s = &bench.settings;
    let duplicates = s.trigger_events * s.duplicate_percent / 100;
    let distinct = s.trigger_events - duplicates;
    let series = bench.next_series();
    let mut fires: Vec<u32> = (0..distinct).collect();
    let mut rng = StdRng::seed_from_u64(8);
    let again: Vec<u32> = (0..duplicates)
        .map(|_| *fires.choose(&mut rng).expect("fires"))
        .collect();
    fires.extend(again);
    fires.shuffle(&mut rng);

    let pool = Pool::start(&bench.functions["trigger"], s.trigger_concurrency).await?;
    // One warm-up event per process (another job), so that the figures are
    // those of warm processes; the round makes each process take one.
    let round = Round::new(s.trigger_concurrency);
    let warm_series = bench.next_series();
    let warmups: Vec<_> = (0..s.trigger_concurrency as u32)
        .map(|n| {
            let event = events::fire(
                &bench.tenant,
                warm_job,
                &events::scheduled_time(warm_series, n),
            );
            pool.api
                .enqueue(serde_json::to_vec(&event).unwrap(), Some(round.clone()))
        })
        .collect();
    for w in warmups {
        let done = tokio::time::timeout(INVOKE_LIMIT, w).await??;
        ensure!(done.ok, "warm-up: {}", String::from_utf8_lossy(&done.body));
    }

    let before = bench.recorder.counts();
    let cpu_before = pool.cpu_time()?;
    let started = Instant::now();
    let pending: Vec<_> = fires
        .iter()
        .map(|n| {
            let event = events::fire(&bench.tenant, job_id, &events::scheduled_time(series, *n));
            pool.api.enqueue(serde_json::to_vec(&event).unwrap(), None)
        })
        .collect();
    let mut latencies = Vec::new();
    let mut outcomes = BTreeMap::new();
    for p in pending {
        let done = tokio::time::timeout(INVOKE_LIMIT, p).await??;
        latencies.push(ms(done.latency));
        let outcome = if done.ok {
            done.json()?["outcome"]
                .as_str()
                .unwrap_or("unknown")
                .to_owned()
        } else {
            "error".to_owned()
        };
        *outcomes.entry(outcome).or_insert(0) += 1;
    }
    let wall = started.elapsed();
    let cpu = pool.cpu_time()? - cpu_before;
    pool.stop().await;
    let after = bench.recorder.counts();

    let jobs = bench.start("jobs").await?;
    let runs_created = count_runs(&jobs, &bench.tenant, job_id).await?;
    jobs.stop().await;

    let new_runs = after
        .runs
        .iter()
        .filter(|(id, n)| before.runs.get(*id) != Some(n))
        .count() as u64;
    Ok(TriggerLoad {
        events: s.trigger_events,
        distinct_fires: distinct,
        duplicates_sent: duplicates,
        concurrency: s.trigger_concurrency,
        outcomes,
        runs_created,
        submissions: after.submissions - before.submissions,
        distinct_runs_submitted: new_runs,
        duplicate_submissions: after.duplicate_submissions() - before.duplicate_submissions(),
        latency_p50_ms: percentile(&latencies, 50.0).unwrap_or_default(),
        latency_p99_ms: percentile(&latencies, 99.0).unwrap_or_default(),
        latency_max_ms: percentile(&latencies, 100.0).unwrap_or_default(),
        wall_s: wall.as_secs_f64(),
        events_per_s: f64::from(s.trigger_events) / wall.as_secs_f64(),
        cpu_ms_per_event: ms(cpu) / f64::from(s.trigger_events),
    })
}

/// Counts the AWS and Flink calls of single fires of `job_id`: a fresh
/// trigger process whose AWS endpoint is a counting proxy in front of moto,
/// its Flink the recorder, each answer held for the delay; the fires one at
/// a time, each one's calls those logged while it ran.
async fn round_trips(bench: &Bench, job_id: &str) -> anyhow::Result<TriggerRoundTrips> {
    let s = &bench.settings;
    let moto = env_required("AWS_ENDPOINT_URL")?;
    let proxy = AwsProxy::start(&moto).await?;
    let mut function = bench.functions["trigger"].clone();
    for (k, v) in &mut function.env {
        if k == "AWS_ENDPOINT_URL" {
            *v = proxy.url();
        }
    }
    function.log = s.work.join("trigger-round-trips.log");
    let delay = Duration::from_millis(s.round_trip_delay_ms);
    let flink = &bench.recorder.calls;
    proxy.log.set_delay(delay);
    flink.set_delay(delay);

    let measured = async {
        let (instance, _) = function.cold_start().await?;
        let series = bench.next_series();
        let mut fires = Vec::new();
        for n in 0..=s.round_trip_fires {
            let (aws_mark, flink_mark) = (proxy.log.mark(), flink.mark());
            let done = instance
                .invoke(&events::fire(
                    &bench.tenant,
                    job_id,
                    &events::scheduled_time(series, n),
                ))
                .await?;
            ensure!(done.ok, "trigger: {}", String::from_utf8_lossy(&done.body));
            check_answer("trigger", &done.json()?)?;
            let mut calls = proxy.log.since(aws_mark);
            calls.extend(flink.since(flink_mark));
            fires.push((RoundTrips::of(&calls), ms(done.latency)));
        }
        instance.stop().await;
        anyhow::Ok(fires)
    }
    .await;
    flink.set_delay(Duration::ZERO);
    let mut fires = measured?.into_iter();
    let (first, first_latency_ms) = fires.next().context("the first fire")?;
    let (warm, warm_latency_ms) = fires.unzip();
    Ok(TriggerRoundTrips {
        delay_ms: s.round_trip_delay_ms,
        first,
        first_latency_ms,
        warm,
        warm_latency_ms,
    })
}

pub async fn run(out: &Path) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    std::fs::create_dir_all(&settings.work)?;
    let recorder = Recorder::start().await?;
    let env = function_env(&recorder.url(), &recorder.url())?;
    let bench = Bench {
        functions: functions(&settings, &env),
        settings,
        recorder,
        tenant: format!("bench-{}", ulid::Ulid::new().to_string().to_lowercase()),
        series: Default::default(),
    };
    let db = Databases {
        pg_port: env_or("SLUICE_PG_PORT", 55432)?,
        mariadb_port: env_or("SLUICE_MARIADB_PORT", 53306)?,
        password: env_or("SLUICE_DB_PASSWORD", "sluice-local-pw".to_owned())?,
    };

    eprintln!(
        "[bench] registering sources and jobs (tenant {})",
        bench.tenant
    );
    let sources = bench.start("sources").await?;
    let jobs = bench.start("jobs").await?;
    let job = |pg: &str, maria: &str| {
        workload::sync_job(
            "bench orders",
            pg,
            maria,
            "bench_orders",
            "bench_orders",
            1_000_000,
            None,
        )
    };
    let (pg, maria, job_id) = register(&sources, &jobs, &bench.tenant, &db, job).await?;
    let load_job = create_job(&jobs, &bench.tenant, &job(&pg, &maria)).await?;
    let warm_job = create_job(&jobs, &bench.tenant, &job(&pg, &maria)).await?;
    sources.stop().await;
    jobs.stop().await;

    // Runs that stay active (the recorder says RUNNING): each reconciler
    // pass follows this many.
    let trigger = bench.start("trigger").await?;
    let series = bench.next_series();
    for n in 0..bench.settings.reconciler_runs {
        let answer = trigger
            .call(&events::fire(
                &bench.tenant,
                &warm_job,
                &events::scheduled_time(series, n),
            ))
            .await?;
        check_answer("trigger", &answer)?;
    }
    trigger.stop().await;

    let tenant = bench.tenant.clone();
    let trigger_job = job_id.clone();
    let mut measured: Vec<(&str, EventFor)> = vec![
        ("hello", Box::new(|_, _| json!({}))),
        (
            "sources",
            Box::new({
                let (tenant, pg) = (tenant.clone(), pg.clone());
                move |_, _| events::http("GET", &format!("/sources/{pg}"), "", &tenant, None)
            }),
        ),
        (
            "jobs",
            Box::new({
                let (tenant, job_id) = (tenant.clone(), job_id.clone());
                move |_, _| events::http("GET", &format!("/jobs/{job_id}/sql"), "", &tenant, None)
            }),
        ),
        (
            "trigger",
            Box::new({
                let tenant = tenant.clone();
                move |series, n| {
                    events::fire(&tenant, &trigger_job, &events::scheduled_time(series, n))
                }
            }),
        ),
    ];
    // Discovery's request path without a database: a connection test of a
    // source the tenant does not have (a DynamoDB read, then `not_found`).
    // Its init, the figure of the budget, does not depend on the request.
    measured.push((
        "discovery",
        Box::new({
            let tenant = tenant.clone();
            move |_, _| json!({"op": "test", "tenant": tenant, "source_id": MISSING_SOURCE})
        }),
    ));
    // The reconciler first, while exactly `reconciler_runs` runs are active.
    measured.insert(0, ("reconciler", Box::new(|_, _| json!({}))));

    let mut cold = BTreeMap::new();
    let mut mem = BTreeMap::new();
    // `BENCH_ONLY`: measure these functions only (comparing a setting).
    let only: Option<Vec<String>> = std::env::var("BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let mut init_names: Vec<&str> = measured
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)))
        .collect();
    if !init_names.contains(&"hello") {
        init_names.insert(0, "hello");
    }
    // The notifier's init alone: its events need notification settings
    // the benchmark's jobs do not have.
    if only.is_none() {
        init_names.push("notifier");
    }
    let inits = init_pass(&bench, &init_names).await?;
    for (name, event) in &measured {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        eprintln!("[bench] {name}: {} cold starts", bench.settings.starts);
        let c = cold_start(&bench, name, event).await?;
        eprintln!(
            "[bench] {name}: first {:.2} ms, warm {:.2} ms, penalty {:.2} ms",
            c.first_median_ms, c.warm_median_of_medians_ms, c.penalty_median_ms
        );
        cold.insert(name.to_string(), c);
        eprintln!(
            "[bench] {name}: {} warm invocations for memory",
            bench.settings.memory_invocations
        );
        let m = memory(&bench, name, event).await?;
        eprintln!("[bench] {name}: peak RSS {} KiB", m.peak_rss_kib);
        mem.insert(name.to_string(), m);
    }

    eprintln!(
        "[bench] trigger: {} events, {}% duplicates, {} at a time",
        bench.settings.trigger_events,
        bench.settings.duplicate_percent,
        bench.settings.trigger_concurrency
    );
    let trigger = if bench.settings.trigger_events == 0 {
        None
    } else {
        Some(trigger_load(&bench, &load_job, &warm_job).await?)
    };
    if let Some(trigger) = &trigger {
        eprintln!(
            "[bench] trigger: runs {}, duplicate submissions {}, p50 {:.2} ms, p99 {:.2} ms",
            trigger.runs_created,
            trigger.duplicate_submissions,
            trigger.latency_p50_ms,
            trigger.latency_p99_ms
        );
    }
    let round_trips = if bench.settings.round_trip_fires == 0 {
        None
    } else {
        eprintln!(
            "[bench] trigger: the calls of {} fires, one at a time, each answer held {} ms",
            bench.settings.round_trip_fires + 1,
            bench.settings.round_trip_delay_ms
        );
        let r = round_trips(&bench, &job_id).await?;
        for (label, trips) in
            std::iter::once(("first", &r.first)).chain(r.warm.iter().map(|t| ("warm", t)))
        {
            eprintln!(
                "[bench] trigger: {label} fire: {} calls, {} one after another: {}",
                trips.calls,
                trips.sequential,
                trips.breakdown()
            );
        }
        Some(r)
    };
    let all = bench.recorder.counts();
    if all.uploads == 0 {
        bail!("the runner jar was never uploaded: the trigger did not reach the recorder");
    }
    let report = Report {
        init: inits,
        cold_start: cold,
        memory: mem,
        trigger,
        trigger_round_trips: round_trips,
        duplicate_submissions_all_phases: all.duplicate_submissions(),
        submissions_all_phases: all.submissions,
    };
    std::fs::write(out, serde_json::to_vec_pretty(&report)?)?;
    Ok(())
}

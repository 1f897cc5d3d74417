//! A function binary run as Lambda runs it: a process with a clean
//! environment (the function's settings plus the variables Lambda sets)
//! polling a Runtime API.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use crate::runtime_api::{Completion, RuntimeApi};

/// How long a process may take to reach its first poll.
const INIT_LIMIT: Duration = Duration::from_secs(30);
/// How long one invocation may take.
pub const INVOKE_LIMIT: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Function {
    pub name: String,
    pub bin: PathBuf,
    /// The function's own settings (`SLUICE_*`, `AWS_*`).
    pub env: Vec<(String, String)>,
    /// Where its stdout and stderr (the JSON logs) go.
    pub log: PathBuf,
}

impl Function {
    /// Starts one process polling `api`.
    pub fn spawn(&self, api: &RuntimeApi) -> anyhow::Result<Child> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut command = Command::new(&self.bin);
        command
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_rust")
            .env("LAMBDA_TASK_ROOT", "/var/task")
            .env("TZ", ":UTC")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        command
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))
    }

    /// Starts a process on a fresh Runtime API and waits for its first poll.
    /// Returns the running instance and its init: from just before the
    /// process is spawned to the arrival of its first `/next`.
    pub async fn cold_start(&self) -> anyhow::Result<(Instance, Init)> {
        let api = RuntimeApi::start().await?;
        let started = Instant::now();
        let mut child = self.spawn(&api)?;
        let polled = tokio::select! {
            polled = api.next_poll() => polled.context("the Runtime API stopped")?,
            status = child.wait() => {
                bail!("{} exited during init ({}): {}", self.name, status?,
                      api.init_error().unwrap_or_else(|| format!("see {}", self.log.display())))
            }
            _ = tokio::time::sleep(INIT_LIMIT) => bail!("{} did not poll within {INIT_LIMIT:?}", self.name),
        };
        // The process's threads' schedstat as the poll arrives: what of the
        // wall time was its own work, and what waiting for a CPU.
        let sched = child.id().map(proc_sched).transpose()?.unwrap_or_default();
        let init = Init {
            wall: polled - started,
            cpu: sched.cpu,
            runqueue: sched.runqueue,
        };
        Ok((Instance { api, child }, init))
    }
}

/// One cold start's init.
#[derive(Debug, Clone, Copy)]
pub struct Init {
    /// From just before the spawn to the arrival of the first poll.
    pub wall: Duration,
    /// CPU time of the process's threads by then.
    pub cpu: Duration,
    /// Time its threads were runnable but waited for a CPU.
    pub runqueue: Duration,
}

/// CPU time and run-queue wait, summed over a process's threads.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sched {
    pub cpu: Duration,
    pub runqueue: Duration,
}

/// `/proc/<pid>/task/*/schedstat` (nanoseconds on CPU, waiting to run).
pub fn proc_sched(pid: u32) -> anyhow::Result<Sched> {
    let mut total = Sched::default();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Ok(stat) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue; // a thread that has just exited
        };
        let mut fields = stat.split_whitespace().map(str::parse::<u64>);
        let mut next = || -> anyhow::Result<Duration> {
            Ok(Duration::from_nanos(fields.next().context("schedstat")??))
        };
        total.cpu += next()?;
        total.runqueue += next()?;
    }
    Ok(total)
}

/// A running function process and its Runtime API.
pub struct Instance {
    pub api: RuntimeApi,
    child: Child,
}

impl Instance {
    pub async fn invoke(&self, payload: &serde_json::Value) -> anyhow::Result<Completion> {
        self.api
            .invoke(serde_json::to_vec(payload)?, INVOKE_LIMIT)
            .await
    }

    /// Invokes and insists on a successful answer, returned as JSON.
    pub async fn call(&self, payload: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let done = self.invoke(payload).await?;
        if !done.ok {
            bail!(
                "the invocation failed: {}",
                String::from_utf8_lossy(&done.body)
            );
        }
        done.json()
    }

    /// Peak and current resident set (VmHWM, VmRSS) in KiB.
    pub fn memory_kib(&self) -> anyhow::Result<(u64, u64)> {
        let pid = self.child.id().context("the process has exited")?;
        proc_memory_kib(pid)
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// VmHWM and VmRSS of a process, in KiB, from `/proc/<pid>/status`.
pub fn proc_memory_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .context("a number")?
            .parse()?)
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

/// The time a process has run on a CPU, from `/proc/<pid>/schedstat`
/// (nanoseconds, all threads).
pub fn proc_cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))?;
    let ns: u64 = stat
        .split_whitespace()
        .next()
        .context("an empty schedstat")?
        .parse()?;
    Ok(Duration::from_nanos(ns))
}

/// A pool of processes of one function sharing one Runtime API (Lambda's
/// concurrency: each process handles one event at a time).
pub struct Pool {
    pub api: RuntimeApi,
    children: Vec<Child>,
}

impl Pool {
    /// Starts `size` processes and waits until each has polled once.
    pub async fn start(function: &Function, size: usize) -> anyhow::Result<Self> {
        let api = RuntimeApi::start().await?;
        let mut children = Vec::with_capacity(size);
        for _ in 0..size {
            children.push(function.spawn(&api)?);
        }
        for _ in 0..size {
            tokio::time::timeout(INIT_LIMIT, api.next_poll())
                .await
                .context("a pool process did not poll")?
                .context("the Runtime API stopped")?;
        }
        Ok(Self { api, children })
    }

    /// CPU time the processes have used so far (`/proc/<pid>/schedstat`).
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let mut total = Duration::ZERO;
        for child in &self.children {
            let pid = child.id().context("a pool process has exited")?;
            total += proc_cpu_time(pid)?;
        }
        Ok(total)
    }

    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.start_kill();
        }
        for child in &mut self.children {
            let _ = child.wait().await;
        }
    }
}

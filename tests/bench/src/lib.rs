//! The benchmark harness of sluice (`make bench`, `infra/bench/run.sh`).
//! Benchmarks print figures; none of this is a test that passes or fails on
//! timing. See BENCHMARKS.md for what each figure means.

pub mod calls;
pub mod events;
pub mod function;
pub mod lambda;
pub mod recorder;
pub mod report;
pub mod runtime_api;
pub mod stats;
pub mod sync;
pub mod workload;

use anyhow::Context as _;

/// A required setting of the harness.
pub fn env_required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .with_context(|| {
            format!("{name} is not set (run the benchmarks through infra/bench/run.sh)")
        })
}

/// A setting with a default.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not valid")),
        _ => Ok(default),
    }
}

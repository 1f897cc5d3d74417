//! The bridge's settings, from flags or the environment.

use std::time::Duration;

use clap::Parser;

use crate::retry::Backoff;

/// Fires the EventBridge Scheduler schedules stored in moto by invoking their
/// Lambda targets, as EventBridge would (local stack only).
#[derive(Debug, Clone, Parser)]
#[command(name = "scheduler-bridge", version)]
pub struct Options {
    /// Lambda Invoke endpoint of the functions (`cargo lambda watch`).
    #[arg(long, env = "AWS_ENDPOINT_URL_LAMBDA")]
    pub lambda_endpoint: String,
    /// Serve only schedule groups whose names start with this (all when empty).
    #[arg(long, env = "SLUICE_BRIDGE_GROUP_PREFIX", default_value = "")]
    pub group_prefix: String,
    /// Milliseconds between two looks at the schedules.
    #[arg(long, env = "SLUICE_BRIDGE_TICK_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub tick_ms: u64,
    /// First wait before retrying a failed delivery; it doubles per retry.
    #[arg(long, env = "SLUICE_BRIDGE_BACKOFF_INITIAL_MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_initial_ms: u64,
    /// Longest wait between two attempts.
    #[arg(long, env = "SLUICE_BRIDGE_BACKOFF_MAX_MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_max_ms: u64,
    /// Deliver at the scheduled time even when the schedule has a flexible window.
    #[arg(long, env = "SLUICE_BRIDGE_IGNORE_FLEXIBLE_WINDOW")]
    pub ignore_flexible_window: bool,
    /// Seconds one invocation may take before it counts as failed.
    #[arg(long, env = "SLUICE_BRIDGE_INVOKE_TIMEOUT_SECONDS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=900))]
    pub invoke_timeout_seconds: u64,
    /// Function to invoke with `{}` periodically (the reconciler).
    #[arg(long, env = "SLUICE_BRIDGE_RECONCILER")]
    pub reconciler: Option<String>,
    /// Seconds between two reconciler invocations.
    #[arg(long, env = "SLUICE_BRIDGE_RECONCILE_EVERY", default_value_t = 60,
          requires = "reconciler", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub reconcile_every: u64,
    /// Function to invoke with each event of `--notifier-queue-url` (the notifier).
    #[arg(long, env = "SLUICE_BRIDGE_NOTIFIER", requires = "notifier_queue_url")]
    pub notifier: Option<String>,
    /// SQS queue an EventBridge rule sends the notifier's events to.
    #[arg(long, env = "SLUICE_BRIDGE_NOTIFIER_QUEUE_URL", requires = "notifier")]
    pub notifier_queue_url: Option<String>,
    /// Invocations per event, at once (duplicate deliveries on purpose).
    #[arg(long, env = "SLUICE_BRIDGE_NOTIFIER_COPIES", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=5))]
    pub notifier_copies: u32,
}

impl Options {
    pub fn tick(&self) -> Duration {
        Duration::from_millis(self.tick_ms)
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            initial: Duration::from_millis(self.backoff_initial_ms),
            max: Duration::from_millis(self.backoff_max_ms.max(self.backoff_initial_ms)),
        }
    }

    pub fn invoke_timeout(&self) -> Duration {
        Duration::from_secs(self.invoke_timeout_seconds)
    }

    pub fn reconcile_every(&self) -> Duration {
        Duration::from_secs(self.reconcile_every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_read() {
        let o = Options::try_parse_from([
            "scheduler-bridge",
            "--lambda-endpoint",
            "http://127.0.0.1:9000",
            "--reconciler",
            "reconciler",
            "--reconcile-every",
            "5",
            "--backoff-initial-ms",
            "10",
        ])
        .unwrap();
        assert_eq!(o.reconciler.as_deref(), Some("reconciler"));
        assert_eq!(o.reconcile_every(), Duration::from_secs(5));
        assert_eq!(o.tick(), Duration::from_secs(1));
        assert_eq!(
            o.backoff(),
            Backoff {
                initial: Duration::from_millis(10),
                max: Duration::from_secs(60)
            }
        );
        assert!(!o.ignore_flexible_window);
    }

    #[test]
    fn bad_flags_are_refused() {
        for args in [
            // --reconcile-every without a reconciler to invoke.
            vec!["--lambda-endpoint", "http://x", "--reconcile-every", "5"],
            vec!["--lambda-endpoint", "http://x", "--tick-ms", "0"],
            vec!["--lambda-endpoint", "http://x", "--backoff-initial-ms", "0"],
        ] {
            let argv = std::iter::once("scheduler-bridge").chain(args.iter().copied());
            assert!(Options::try_parse_from(argv).is_err(), "{args:?}");
        }
    }
}

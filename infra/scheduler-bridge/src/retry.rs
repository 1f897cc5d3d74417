//! When a failed delivery is tried again, and when the bridge gives up.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// A schedule's `RetryPolicy`, EventBridge's defaults when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLimits {
    /// Retries after the first attempt (`MaximumRetryAttempts`).
    pub max_retries: u32,
    /// How long after the fire a retry may still start
    /// (`MaximumEventAgeInSeconds`).
    pub max_event_age: Duration,
}

impl Default for RetryLimits {
    fn default() -> Self {
        Self {
            max_retries: 185,
            max_event_age: Duration::from_secs(86_400),
        }
    }
}

/// Exponential backoff: `initial`, `2 × initial`, ... capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th attempt failed (1-based).
    pub fn after(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(20);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// Which limit ended the retries (EventBridge's `EXHAUSTED_RETRY_CONDITION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    MaximumRetryAttempts,
    MaximumEventAgeInSeconds,
}

impl Exhausted {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MaximumRetryAttempts => "MaximumRetryAttempts",
            Self::MaximumEventAgeInSeconds => "MaximumEventAgeInSeconds",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    GiveUp(Exhausted),
}

/// What follows the failure of attempt number `attempt` (1-based) of an
/// event first attempted at `first_attempt`, failing at `now`.
pub fn after_failure(
    attempt: u32,
    limits: RetryLimits,
    backoff: Backoff,
    first_attempt: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Next {
    if attempt > limits.max_retries {
        return Next::GiveUp(Exhausted::MaximumRetryAttempts);
    }
    let wait = backoff.after(attempt);
    let age_at_retry = (now - first_attempt)
        .to_std()
        .unwrap_or_default()
        .saturating_add(wait);
    if age_at_retry > limits.max_event_age {
        return Next::GiveUp(Exhausted::MaximumEventAgeInSeconds);
    }
    Next::RetryAfter(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::default();
        let waits: Vec<u64> = (1..=9).map(|n| b.after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(b.after(185), Duration::from_secs(60));
    }

    #[test]
    fn retries_stop_at_the_attempt_limit() {
        let limits = RetryLimits {
            max_retries: 2,
            max_event_age: Duration::from_secs(86_400),
        };
        let t = Utc::now();
        let b = Backoff::default();
        assert_eq!(
            after_failure(1, limits, b, t, t),
            Next::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            after_failure(2, limits, b, t, t),
            Next::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            after_failure(3, limits, b, t, t),
            Next::GiveUp(Exhausted::MaximumRetryAttempts)
        );
        let none = RetryLimits {
            max_retries: 0,
            ..limits
        };
        assert_eq!(
            after_failure(1, none, b, t, t),
            Next::GiveUp(Exhausted::MaximumRetryAttempts)
        );
    }

    #[test]
    fn retries_stop_when_the_event_would_be_too_old() {
        let limits = RetryLimits {
            max_retries: 185,
            max_event_age: Duration::from_secs(60),
        };
        let first = Utc::now();
        let b = Backoff::default();
        // 50 s old, the next wait (8 s after attempt 4) ends at 58 s: allowed.
        let now = first + chrono::Duration::seconds(50);
        assert_eq!(
            after_failure(4, limits, b, first, now),
            Next::RetryAfter(Duration::from_secs(8))
        );
        // 50 s old, 16 s more would be 66 s: too old.
        assert_eq!(
            after_failure(5, limits, b, first, now),
            Next::GiveUp(Exhausted::MaximumEventAgeInSeconds)
        );
    }
}

//! Bounds EventBridge Scheduler enforces on a schedule's other settings
//! (CreateSchedule API reference: `FlexibleTimeWindow.MaximumWindowInMinutes` 1-1440,
//! `RetryPolicy.MaximumRetryAttempts` 0-185, `RetryPolicy.MaximumEventAgeInSeconds` 60-86400,
//! `StartDate` before `EndDate`). moto checks none of them, so we do.

use chrono::{DateTime, Utc};
use thiserror::Error;

/// A schedule setting out of bounds; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error("startDate {start} must be strictly before endDate {end}")]
    StartNotBeforeEnd {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
}

impl ValidationError {
    /// The field at fault (`"endDate"` when start is not before end).
    pub fn field(&self) -> &'static str {
        match self {
            Self::OutOfRange { field, .. } => field,
            Self::StartNotBeforeEnd { .. } => "endDate",
        }
    }
}

fn in_range(field: &'static str, value: i64, min: i64, max: i64) -> Result<(), ValidationError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    }
}

/// `flexibleTimeWindow.maximumWindowInMinutes`: 1 to 1440 (when the mode is FLEXIBLE).
pub fn validate_flexible_window_minutes(minutes: i64) -> Result<(), ValidationError> {
    in_range(
        "flexibleTimeWindow.maximumWindowInMinutes",
        minutes,
        1,
        1440,
    )
}

/// `retryPolicy.maximumRetryAttempts`: 0 to 185.
pub fn validate_retry_attempts(attempts: i64) -> Result<(), ValidationError> {
    in_range("retryPolicy.maximumRetryAttempts", attempts, 0, 185)
}

/// `retryPolicy.maximumEventAgeInSeconds`: 60 to 86400.
pub fn validate_max_event_age_seconds(seconds: i64) -> Result<(), ValidationError> {
    in_range("retryPolicy.maximumEventAgeInSeconds", seconds, 60, 86_400)
}

/// `startDate` strictly before `endDate`, when both are given.
pub fn validate_start_end(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Result<(), ValidationError> {
    match (start, end) {
        (Some(start), Some(end)) if start >= end => {
            Err(ValidationError::StartNotBeforeEnd { start, end })
        }
        _ => Ok(()),
    }
}

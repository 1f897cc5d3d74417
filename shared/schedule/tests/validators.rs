//! Table-driven schedule-setting validators.

use chrono::{TimeZone, Utc};
use sluice_schedule::{
    ValidationError, validate_flexible_window_minutes, validate_max_event_age_seconds,
    validate_retry_attempts, validate_start_end,
};

type Validator = fn(i64) -> Result<(), ValidationError>;

const CASES: &[(Validator, &str, i64, bool)] = &[
    (
        validate_flexible_window_minutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        0,
        false,
    ),
    (
        validate_flexible_window_minutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        1,
        true,
    ),
    (
        validate_flexible_window_minutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        1440,
        true,
    ),
    (
        validate_flexible_window_minutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        1441,
        false,
    ),
    (
        validate_flexible_window_minutes,
        "flexibleTimeWindow.maximumWindowInMinutes",
        -5,
        false,
    ),
    (
        validate_retry_attempts,
        "retryPolicy.maximumRetryAttempts",
        -1,
        false,
    ),
    (
        validate_retry_attempts,
        "retryPolicy.maximumRetryAttempts",
        0,
        true,
    ),
    (
        validate_retry_attempts,
        "retryPolicy.maximumRetryAttempts",
        185,
        true,
    ),
    (
        validate_retry_attempts,
        "retryPolicy.maximumRetryAttempts",
        186,
        false,
    ),
    (
        validate_max_event_age_seconds,
        "retryPolicy.maximumEventAgeInSeconds",
        59,
        false,
    ),
    (
        validate_max_event_age_seconds,
        "retryPolicy.maximumEventAgeInSeconds",
        60,
        true,
    ),
    (
        validate_max_event_age_seconds,
        "retryPolicy.maximumEventAgeInSeconds",
        86_400,
        true,
    ),
    (
        validate_max_event_age_seconds,
        "retryPolicy.maximumEventAgeInSeconds",
        86_401,
        false,
    ),
];

#[test]
fn bounds() {
    for (validate, field, value, ok) in CASES {
        match validate(*value) {
            Ok(()) => assert!(ok, "{field}={value} should be refused"),
            Err(e) => {
                assert!(!ok, "{field}={value} should be accepted: {e}");
                assert_eq!(e.field(), *field);
                assert!(e.to_string().contains(field), "{e}");
                assert!(e.to_string().contains(&value.to_string()), "{e}");
            }
        }
    }
}

#[test]
fn start_strictly_before_end() {
    let a = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let b = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap();
    assert!(validate_start_end(Some(a), Some(b)).is_ok());
    assert!(validate_start_end(Some(a), None).is_ok());
    assert!(validate_start_end(None, Some(a)).is_ok());
    for (s, e) in [(a, a), (b, a)] {
        let err = validate_start_end(Some(s), Some(e)).unwrap_err();
        assert_eq!(err.field(), "endDate");
        assert!(err.to_string().contains("startDate"));
        assert!(err.to_string().contains("endDate"));
    }
}

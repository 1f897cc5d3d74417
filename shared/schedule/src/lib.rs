//! EventBridge Scheduler schedules for sluice (README, "Scheduling"), pure: no I/O, no AWS.
//!
//! EventBridge Scheduler (and moto, in the local stack) accepts schedules without the checks the
//! API promises a caller, so this crate is where a schedule is validated before it is stored or
//! sent:
//!
//! * [`ScheduleExpression::parse`]: `cron(...)`, `rate(...)`, `at(...)` in EventBridge's dialect
//!   (rules and references in [`expression`]);
//! * [`parse_timezone`]: IANA zone names via `jiff`'s bundled tz database;
//! * [`next_fires`]: next-fire preview with EventBridge's time-zone and DST semantics;
//! * [`convert_quartz`]: XXL-JOB / Quartz crons converted when exact, refused with a reason
//!   otherwise;
//! * [`validate`]: bounds on flexible window, retry policy and start/end dates.
//!
//! Errors are `thiserror` enums whose messages name the field and token, fit for a 400; each has
//! a `field()` for a problem+json `InvalidField`.
//!
//! ```
//! use sluice_schedule::{ScheduleExpression, convert_quartz, next_fires, parse_timezone};
//!
//! let expr = ScheduleExpression::parse("cron(30 2 * * ? *)").unwrap();
//! let tz = parse_timezone("Europe/Berlin").unwrap();
//! let after = "2026-03-28T12:00:00Z".parse().unwrap();
//! // 02:30 does not exist in Berlin on 2026-03-29: that day is skipped.
//! let fires = next_fires(&expr, &tz, after, None, None, 1);
//! assert_eq!(fires[0].to_rfc3339(), "2026-03-30T00:30:00+00:00");
//!
//! assert_eq!(convert_quartz("0 15 10 ? * 6#3").unwrap().to_string(), "cron(15 10 ? * 6#3 *)");
//! let err = ScheduleExpression::parse("rate(1 minutes)").unwrap_err();
//! assert_eq!(err.field(), "rate unit");
//! ```
//!
//! # Why cron is evaluated here and not with a cron crate
//!
//! EventBridge's cron has six fields without seconds but with a year (1970-2199), requires exactly
//! one of day-of-month/day-of-week to be `?`, numbers days of the week 1-7 from Sunday, and has
//! `L`, `W`, `LW`, `nL` and `#`. `croner` (4.0) comes close only when configured (Quartz
//! weekday numbering via `alternative_weekdays`, a year only as a 7th field after a seconds
//! field, `dom_and_dow` for AND semantics) and still accepts what EventBridge rejects: it rewrites
//! `?` to `*`, allows `/` in day-of-week and both day fields set. We would need our own validator
//! anyway, plus a translation into croner's layout: a second dialect to get wrong. The `cron`
//! crate has a seconds field and no `L`/`W`/`#`. The evaluation here is small (a calendar walk over allowed years and months, then
//! matching days, then allowed hours and minutes), so it is written against EventBridge's rules
//! directly; the wall clock and DST are the tz database's, through `jiff`.

pub mod expression;
mod next;
pub mod quartz;
mod timezone;
pub mod validate;

pub use expression::{
    CronField, CronSchedule, ExpressionError, RateSchedule, RateUnit, ScheduleExpression,
};
pub use next::{MAX_FIRES, next_fires};
pub use quartz::{ConversionError, convert_quartz};
pub use timezone::{Timezone, TimezoneError, parse_timezone};
pub use validate::{
    ValidationError, validate_flexible_window_minutes, validate_max_event_age_seconds,
    validate_retry_attempts, validate_start_end,
};

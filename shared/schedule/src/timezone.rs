//! IANA time zones, validated with `chrono-tz` (the IANA tz database compiled in).

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use thiserror::Error;

/// A validated IANA time zone name, as EventBridge Scheduler's `ScheduleExpressionTimezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timezone(Tz);

/// The time zone is not an IANA name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "scheduleExpressionTimezone {name:?} is not an IANA time zone name (e.g. \"UTC\", \"Europe/Berlin\", \"America/New_York\")"
)]
pub struct TimezoneError {
    pub name: String,
}

impl TimezoneError {
    /// The field at fault.
    pub fn field(&self) -> &'static str {
        "scheduleExpressionTimezone"
    }
}

/// Validates an IANA time zone name (case-sensitive, as in the tz database).
pub fn parse_timezone(name: &str) -> Result<Timezone, TimezoneError> {
    Tz::from_str(name).map(Timezone).map_err(|_| TimezoneError {
        name: name.to_owned(),
    })
}

impl Timezone {
    /// Coordinated Universal Time, EventBridge's default.
    pub const UTC: Self = Self(Tz::UTC);

    pub fn tz(&self) -> Tz {
        self.0
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::UTC
    }
}

impl FromStr for Timezone {
    type Err = TimezoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_timezone(s)
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

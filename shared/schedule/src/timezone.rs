//! IANA time zones, validated and resolved with `jiff`'s bundled tz database.
//!
//! The database is one compressed blob that `jiff` parses per zone on first use, not tables
//! compiled into the binary: a function that never looks at a zone pays nothing for it at load
//! time (ARCHITECTURE.md, cold start).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use jiff::tz::{AmbiguousOffset, TimeZone};
use thiserror::Error;

/// A validated IANA time zone name, as EventBridge Scheduler's `ScheduleExpressionTimezone`.
#[derive(Debug, Clone)]
pub struct Timezone(TimeZone);

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

/// Validates an IANA time zone name (case-sensitive, as in the tz database and EventBridge).
pub fn parse_timezone(name: &str) -> Result<Timezone, TimezoneError> {
    let error = || TimezoneError {
        name: name.to_owned(),
    };
    let zone = jiff::tz::db().get(name).map_err(|_| error())?;
    // jiff looks names up case-insensitively; EventBridge does not.
    if zone.iana_name() != Some(name) {
        return Err(error());
    }
    Ok(Timezone(zone))
}

impl Timezone {
    /// Coordinated Universal Time, EventBridge's default.
    pub const UTC: Self = Self(TimeZone::UTC);

    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// A local wall-clock time as an instant: `None` in a gap (spring forward), the first
    /// occurrence when it occurs twice (fall back).
    pub fn resolve(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        let civil = civil_of(local)?;
        let offset = match self.0.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset,
            AmbiguousOffset::Fold { before, .. } => before,
            AmbiguousOffset::Gap { .. } => return None,
        };
        local
            .checked_sub_signed(chrono::TimeDelta::seconds(offset.seconds().into()))
            .map(|utc| utc.and_utc())
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> Option<NaiveDate> {
        let instant = jiff::Timestamp::from_second(at.timestamp()).ok()?;
        let offset = self.0.to_offset(instant);
        at.naive_utc()
            .checked_add_signed(chrono::TimeDelta::seconds(offset.seconds().into()))
            .map(|local| local.date())
    }
}

fn civil_of(local: NaiveDateTime) -> Option<jiff::civil::DateTime> {
    jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(local.month()).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        0,
    )
    .ok()
}

impl PartialEq for Timezone {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Timezone {}

impl Hash for Timezone {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
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

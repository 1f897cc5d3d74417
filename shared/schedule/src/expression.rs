//! Parsing of EventBridge Scheduler schedule expressions: `cron(...)`, `rate(...)`, `at(...)`.
//!
//! Rules, from the EventBridge Scheduler user guide ("Schedule types in EventBridge Scheduler",
//! <https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html>) and the
//! EventBridge cron reference it shares
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html>):
//!
//! | field        | values            | wildcards          |
//! |--------------|-------------------|--------------------|
//! | minutes      | 0-59              | `, - * /`          |
//! | hours        | 0-23              | `, - * /`          |
//! | day-of-month | 1-31              | `, - * ? / L W`    |
//! | month        | 1-12 or JAN-DEC   | `, - * /`          |
//! | day-of-week  | 1-7 or SUN-SAT    | `, - * ? L #`      |
//! | year         | 1970-2199         | `, - * /`          |
//!
//! * Exactly one of day-of-month and day-of-week is `?` ("you can't specify the Day-of-month and
//!   Day-of-week fields in the same cron expression"); `?` is accepted nowhere else.
//! * Day-of-week numbers: 1 = SUN … 7 = SAT (the Quartz convention EventBridge follows).
//! * `L` in day-of-month: last day of the month; `L` alone in day-of-week: the last day of the
//!   week (7 = SAT); `nL` in day-of-week: the last weekday `n` of the month (`6L` = last Friday).
//! * `nW` in day-of-month: the weekday (MON-FRI) nearest to day `n`, never leaving the month;
//!   `LW`: the last weekday of the month. `W` and `L` stand alone, not in lists or ranges.
//! * `d#n` in day-of-week: the `n`th (1-5) weekday `d` of the month (`3#2` = second Tuesday).
//! * Steps: `*/5`, `10/15` (10, 25, 40, 55), `1-30/2`; not in day-of-week (EventBridge does not
//!   list `/` there).
//! * `rate(value unit)`: positive integer; `minute|hour|day` for 1, `minutes|hours|days` otherwise.
//! * `at(yyyy-mm-ddThh:mm:ss)`: a local date-time, evaluated in the schedule's time zone.
//!
//! Choices the documentation does not settle (and which we could not check against the live
//! service) are made the Quartz way, since EventBridge's dialect is Quartz's minus seconds:
//! names are case-insensitive, ranges must not wrap (`FRI-MON` is rejected), a step may not exceed
//! the field's maximum (the year's span for the year field), `nW` beyond the month's length does
//! not fire that month, and `LW` is accepted although only `L` and `W` are documented.

use std::fmt;

use chrono::NaiveDateTime;
use thiserror::Error;

/// A cron field, named as EventBridge's documentation names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronField {
    Minutes,
    Hours,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl CronField {
    /// The field's name as used in error messages (`"day-of-week"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::DayOfMonth => "day-of-month",
            Self::Month => "month",
            Self::DayOfWeek => "day-of-week",
            Self::Year => "year",
        }
    }

    const fn bounds(self) -> (u32, u32) {
        match self {
            Self::Minutes => (0, 59),
            Self::Hours => (0, 23),
            Self::DayOfMonth => (1, 31),
            Self::Month => (1, 12),
            Self::DayOfWeek => (1, 7),
            Self::Year => (1970, 2199),
        }
    }

    /// Largest step accepted after `/` (Quartz's limits; the year's span for the year).
    const fn max_step(self) -> u32 {
        match self {
            Self::Year => 229,
            _ => self.bounds().1,
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a schedule expression is invalid. The message names the field and the token, and is fit
/// for a 400 response; [`ExpressionError::field`] gives the field alone.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExpressionError {
    #[error(
        "schedule expression {expression:?} must be cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"
    )]
    UnknownForm { expression: String },
    #[error(
        "cron expression must have 6 fields (minutes hours day-of-month month day-of-week year), found {found}"
    )]
    FieldCount { found: usize },
    #[error("cron {field} field {token:?}: {reason}")]
    Field {
        field: CronField,
        token: String,
        reason: String,
    },
    #[error("cron day-of-month {day_of_month:?} and day-of-week {day_of_week:?}: {reason}")]
    DayFields {
        day_of_month: String,
        day_of_week: String,
        reason: String,
    },
    #[error("rate {part} {token:?}: {reason}")]
    Rate {
        part: &'static str,
        token: String,
        reason: String,
    },
    #[error("at {token:?}: {reason}")]
    At { token: String, reason: String },
}

impl ExpressionError {
    /// The part of the expression at fault: a cron field name (`"day-of-week"`),
    /// `"day-of-month/day-of-week"`, `"cron"`, `"rate value"`, `"rate unit"`, `"rate"`, `"at"`
    /// or `"scheduleExpression"`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownForm { .. } => "scheduleExpression",
            Self::FieldCount { .. } => "cron",
            Self::Field { field, .. } => field.name(),
            Self::DayFields { .. } => "day-of-month/day-of-week",
            Self::Rate { part, .. } => match *part {
                "value" => "rate value",
                "unit" => "rate unit",
                _ => "rate",
            },
            Self::At { .. } => "at",
        }
    }
}

/// A validated EventBridge Scheduler expression. `Display` gives its EventBridge text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    Cron(Box<CronSchedule>),
    Rate(RateSchedule),
    /// One-time schedule at a local date-time (in the schedule's time zone).
    At(NaiveDateTime),
}

impl ScheduleExpression {
    /// Parses and validates `cron(...)`, `rate(...)` or `at(...)`. Surrounding whitespace is
    /// ignored; the `cron`/`rate`/`at` keyword is lower case, as EventBridge documents it.
    pub fn parse(text: &str) -> Result<Self, ExpressionError> {
        let text = text.trim();
        let unknown = || ExpressionError::UnknownForm {
            expression: text.to_owned(),
        };
        let body = |prefix: &str| {
            text.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(')'))
        };
        if let Some(inner) = body("cron(") {
            CronSchedule::parse(inner).map(|c| Self::Cron(Box::new(c)))
        } else if let Some(inner) = body("rate(") {
            RateSchedule::parse(inner).map(Self::Rate)
        } else if let Some(inner) = body("at(") {
            parse_at(inner).map(Self::At)
        } else {
            Err(unknown())
        }
    }
}

impl std::str::FromStr for ScheduleExpression {
    type Err = ExpressionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ScheduleExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cron(c) => write!(f, "cron({})", c.text),
            Self::Rate(r) => write!(f, "rate({} {})", r.value, r.unit_text()),
            Self::At(t) => write!(f, "at({})", t.format("%Y-%m-%dT%H:%M:%S")),
        }
    }
}

fn parse_at(inner: &str) -> Result<NaiveDateTime, ExpressionError> {
    let err = |reason: &str| ExpressionError::At {
        token: inner.to_owned(),
        reason: reason.to_owned(),
    };
    let shape_ok = inner.len() == 19
        && inner.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(err(
            "expected yyyy-mm-ddThh:mm:ss, e.g. at(2022-11-20T13:00:00)",
        ));
    }
    NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .map_err(|e| err(&format!("not a valid date-time ({e})")))
}

/// Unit of a `rate(...)` expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateUnit {
    Minutes,
    Hours,
    Days,
}

/// A validated `rate(value unit)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateSchedule {
    value: u32,
    unit: RateUnit,
}

impl RateSchedule {
    pub fn value(&self) -> u32 {
        self.value
    }

    pub fn unit(&self) -> RateUnit {
        self.unit
    }

    /// The fixed interval between fires.
    pub fn interval(&self) -> chrono::TimeDelta {
        let v = i64::from(self.value);
        match self.unit {
            RateUnit::Minutes => chrono::TimeDelta::minutes(v),
            RateUnit::Hours => chrono::TimeDelta::hours(v),
            RateUnit::Days => chrono::TimeDelta::days(v),
        }
    }

    fn unit_text(&self) -> &'static str {
        match (self.unit, self.value == 1) {
            (RateUnit::Minutes, true) => "minute",
            (RateUnit::Minutes, false) => "minutes",
            (RateUnit::Hours, true) => "hour",
            (RateUnit::Hours, false) => "hours",
            (RateUnit::Days, true) => "day",
            (RateUnit::Days, false) => "days",
        }
    }

    fn parse(inner: &str) -> Result<Self, ExpressionError> {
        let err = |part: &'static str, token: &str, reason: String| ExpressionError::Rate {
            part,
            token: token.to_owned(),
            reason,
        };
        let parts: Vec<&str> = inner.split_whitespace().collect();
        let [value_text, unit_text] = parts[..] else {
            return Err(err(
                "expression",
                inner,
                format!(
                    "expected 2 parts (value unit), found {}; e.g. rate(5 minutes)",
                    parts.len()
                ),
            ));
        };
        if value_text.is_empty() || !value_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(
                "value",
                value_text,
                "must be a positive integer".to_owned(),
            ));
        }
        let value: u32 = value_text
            .parse()
            .map_err(|_| err("value", value_text, "is too large".to_owned()))?;
        if value == 0 {
            return Err(err(
                "value",
                value_text,
                "must be a positive integer (at least 1)".to_owned(),
            ));
        }
        let (unit, singular) = match unit_text {
            "minute" => (RateUnit::Minutes, true),
            "minutes" => (RateUnit::Minutes, false),
            "hour" => (RateUnit::Hours, true),
            "hours" => (RateUnit::Hours, false),
            "day" => (RateUnit::Days, true),
            "days" => (RateUnit::Days, false),
            _ => {
                return Err(err(
                    "unit",
                    unit_text,
                    "must be one of minute, minutes, hour, hours, day, days".to_owned(),
                ));
            }
        };
        let rate = Self { value, unit };
        if singular != (value == 1) {
            return Err(err(
                "unit",
                unit_text,
                format!(
                    "use {:?} with the value {value} (singular only for 1)",
                    rate.unit_text()
                ),
            ));
        }
        Ok(rate)
    }
}

/// A set of small integers (a field's allowed values), `min..min+256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValueSet {
    min: u32,
    bits: [u64; 4],
}

impl ValueSet {
    fn empty(min: u32) -> Self {
        Self { min, bits: [0; 4] }
    }

    fn insert(&mut self, v: u32) {
        let i = (v - self.min) as usize;
        self.bits[i / 64] |= 1 << (i % 64);
    }

    pub(crate) fn contains(&self, v: u32) -> bool {
        v >= self.min && {
            let i = (v - self.min) as usize;
            i < 256 && self.bits[i / 64] & (1 << (i % 64)) != 0
        }
    }

    pub(crate) fn values(&self) -> Vec<u32> {
        (self.min..self.min + 256)
            .filter(|v| self.contains(*v))
            .collect()
    }
}

/// Day-of-month constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DayOfMonth {
    /// `?`
    NoSpecific,
    Days(ValueSet),
    /// `L`
    Last,
    /// `LW`
    LastWeekday,
    /// `nW`
    NearestWeekday(u32),
}

/// Day-of-week constraint (1 = SUN … 7 = SAT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DayOfWeek {
    /// `?`
    NoSpecific,
    Days(ValueSet),
    /// `nL`: the last weekday `n` of the month.
    LastOf(u32),
    /// `d#n`: the `n`th weekday `d` of the month.
    Nth(u32, u32),
}

/// A validated `cron(...)` expression (EventBridge's 6-field dialect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    text: String,
    pub(crate) minutes: ValueSet,
    pub(crate) hours: ValueSet,
    pub(crate) day_of_month: DayOfMonth,
    pub(crate) months: ValueSet,
    pub(crate) day_of_week: DayOfWeek,
    pub(crate) years: ValueSet,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CronSchedule {
    /// The six fields, as given, separated by single spaces.
    pub fn fields(&self) -> &str {
        &self.text
    }

    fn parse(inner: &str) -> Result<Self, ExpressionError> {
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = fields[..] else {
            return Err(ExpressionError::FieldCount {
                found: fields.len(),
            });
        };
        let minutes = parse_plain(CronField::Minutes, min, &[])?;
        let hours = parse_plain(CronField::Hours, hour, &[])?;
        let day_of_month = parse_day_of_month(dom)?;
        let months = parse_plain(CronField::Month, month, &MONTH_NAMES)?;
        let day_of_week = parse_day_of_week(dow)?;
        let years = parse_plain(CronField::Year, year, &[])?;
        let day_fields = |reason: &str| ExpressionError::DayFields {
            day_of_month: dom.to_owned(),
            day_of_week: dow.to_owned(),
            reason: reason.to_owned(),
        };
        match (&day_of_month, &day_of_week) {
            (DayOfMonth::NoSpecific, DayOfWeek::NoSpecific) => {
                return Err(day_fields(
                    "only one of them may be ?; give a value or * in the other",
                ));
            }
            (DayOfMonth::NoSpecific, _) | (_, DayOfWeek::NoSpecific) => {}
            _ => {
                return Err(day_fields(
                    "exactly one of them must be ? (EventBridge can't combine day-of-month and day-of-week)",
                ));
            }
        }
        Ok(Self {
            text: fields.join(" "),
            minutes,
            hours,
            day_of_month,
            months,
            day_of_week,
            years,
        })
    }
}

fn field_err(field: CronField, token: &str, reason: impl Into<String>) -> ExpressionError {
    ExpressionError::Field {
        field,
        token: token.to_owned(),
        reason: reason.into(),
    }
}

/// Parses a field made of `*`, values, ranges, steps and lists (no `? L W #`).
fn parse_plain(field: CronField, token: &str, names: &[&str]) -> Result<ValueSet, ExpressionError> {
    if token.contains('?') {
        return Err(field_err(
            field,
            token,
            "? is only allowed in day-of-month or day-of-week",
        ));
    }
    if token.contains('#') {
        return Err(field_err(
            field,
            token,
            "# is only allowed in day-of-week (e.g. 3#2)",
        ));
    }
    parse_list(field, token, names, field != CronField::DayOfWeek)
}

fn parse_list(
    field: CronField,
    token: &str,
    names: &[&str],
    allow_step: bool,
) -> Result<ValueSet, ExpressionError> {
    let (min, max) = field.bounds();
    let upper = token.to_ascii_uppercase();
    let mut set = ValueSet::empty(min);
    for item in upper.split(',') {
        if item.is_empty() {
            return Err(field_err(field, token, "empty item in list"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step_text)) => {
                if !allow_step {
                    return Err(field_err(
                        field,
                        token,
                        format!("steps (/) are not allowed in {field}"),
                    ));
                }
                let step: u32 = step_text
                    .parse()
                    .ok()
                    .filter(|s| (1..=field.max_step()).contains(s))
                    .ok_or_else(|| {
                        field_err(
                            field,
                            token,
                            format!(
                                "step {step_text:?} must be an integer from 1 to {}",
                                field.max_step()
                            ),
                        )
                    })?;
                (range, Some(step))
            }
            None => (item, None),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = value(field, token, a, names)?;
            let b = value(field, token, b, names)?;
            if a > b {
                return Err(field_err(
                    field,
                    token,
                    format!("range start {a} is after range end {b}"),
                ));
            }
            (a, b)
        } else {
            let a = value(field, token, range, names)?;
            (a, if step.is_some() { max } else { a })
        };
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            set.insert(v);
            v += step;
        }
    }
    Ok(set)
}

fn value(
    field: CronField,
    token: &str,
    text: &str,
    names: &[&str],
) -> Result<u32, ExpressionError> {
    let (min, max) = field.bounds();
    if let Some(i) = names.iter().position(|n| *n == text) {
        return Ok(min + i as u32);
    }
    if text.is_empty() {
        return Err(field_err(field, token, "missing value"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        let hint = match names.first() {
            Some(first) => format!(" or a name like {first}"),
            None => String::new(),
        };
        return Err(field_err(
            field,
            token,
            format!("{text:?} is not a number from {min} to {max}{hint}"),
        ));
    }
    match text.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(field_err(
            field,
            token,
            format!("value {text} is outside {min}-{max}"),
        )),
    }
}

fn parse_day_of_month(token: &str) -> Result<DayOfMonth, ExpressionError> {
    const F: CronField = CronField::DayOfMonth;
    let upper = token.to_ascii_uppercase();
    match upper.as_str() {
        "?" => return Ok(DayOfMonth::NoSpecific),
        "L" => return Ok(DayOfMonth::Last),
        "LW" => return Ok(DayOfMonth::LastWeekday),
        _ => {}
    }
    if upper.contains('#') {
        return Err(field_err(
            F,
            token,
            "# is only allowed in day-of-week (e.g. 3#2)",
        ));
    }
    if upper.starts_with("L-") {
        return Err(field_err(
            F,
            token,
            "offsets from the last day (L-n) are not supported by EventBridge",
        ));
    }
    if let Some(day) = upper.strip_suffix('W')
        && !day.is_empty()
        && day.bytes().all(|b| b.is_ascii_digit())
    {
        return value(F, token, day, &[]).map(DayOfMonth::NearestWeekday);
    }
    if upper.contains('W') {
        return Err(field_err(
            F,
            token,
            "W must follow a single day (e.g. 15W) or L (LW), not a list or range",
        ));
    }
    if upper.contains('L') {
        return Err(field_err(
            F,
            token,
            "L must stand alone (last day of the month) or as LW",
        ));
    }
    if upper.contains('?') {
        return Err(field_err(F, token, "? must stand alone"));
    }
    parse_list(F, token, &[], true).map(DayOfMonth::Days)
}

fn parse_day_of_week(token: &str) -> Result<DayOfWeek, ExpressionError> {
    const F: CronField = CronField::DayOfWeek;
    let upper = token.to_ascii_uppercase();
    match upper.as_str() {
        "?" => return Ok(DayOfWeek::NoSpecific),
        // "L" alone: the last day of the week, Saturday (7).
        "L" => {
            let mut set = ValueSet::empty(1);
            set.insert(7);
            return Ok(DayOfWeek::Days(set));
        }
        _ => {}
    }
    if upper.contains('/') {
        return Err(field_err(
            F,
            token,
            "steps (/) are not allowed in day-of-week (EventBridge allows , - * ? L #)",
        ));
    }
    if upper.contains('W') && !DAY_NAMES.iter().any(|d| upper.contains(d)) {
        return Err(field_err(
            F,
            token,
            "W is only allowed in day-of-month (e.g. 15W)",
        ));
    }
    let special = upper.contains('#') || (upper.ends_with('L') && upper.len() > 1);
    if special && (upper.contains(',') || upper.contains('-')) {
        return Err(field_err(
            F,
            token,
            "# and L must stand alone, not in a list or range",
        ));
    }
    if let Some((day, nth)) = upper.split_once('#') {
        let day = value(F, token, day, &DAY_NAMES)?;
        let nth = match nth.parse::<u32>() {
            Ok(n) if (1..=5).contains(&n) => n,
            _ => {
                return Err(field_err(
                    F,
                    token,
                    format!("the occurrence after # must be 1 to 5, got {nth:?}"),
                ));
            }
        };
        return Ok(DayOfWeek::Nth(day, nth));
    }
    if let Some(day) = upper.strip_suffix('L') {
        return value(F, token, day, &DAY_NAMES).map(DayOfWeek::LastOf);
    }
    if upper.contains('?') {
        return Err(field_err(F, token, "? must stand alone"));
    }
    parse_list(F, token, &DAY_NAMES, false).map(DayOfWeek::Days)
}

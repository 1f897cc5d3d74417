//! Import of XXL-JOB / Quartz cron expressions.
//!
//! XXL-JOB stores Quartz `CronExpression`s (its sample job is `0 0 0 * * ? *`). Quartz
//! ("CronTrigger Tutorial", <https://www.quartz-scheduler.org/documentation/quartz-2.3.0/tutorials/crontrigger.html>)
//! has `seconds minutes hours day-of-month month day-of-week [year]` with the same names,
//! day-of-week numbering (1 = SUN), `?`, `L`, `W`, `LW` and `#` as EventBridge
//! (<https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html>), so a Quartz
//! expression converts by dropping the seconds and adding year `*` when absent, provided that
//! the result means exactly the same. Refused, with the reason:
//!
//! * seconds other than `0`: `*`, `*/10`, `0/15`, `0,30`, `0-5` fire more than once a minute;
//!   a single non-zero second (`30`) fires at a second EventBridge (minute precision) can't hit;
//! * `L-n` in day-of-month (Quartz: "n days before the last day"): not in EventBridge;
//! * `/` in day-of-week (`MON/2`, `1/2`): Quartz allows it, EventBridge lists only `, - * ? L #`;
//! * `C` (calendar) in day-of-month or day-of-week: not in EventBridge (nor implemented by Quartz);
//! * both day-of-month and day-of-week set, or both `?`: EventBridge needs exactly one `?`
//!   (Quartz rejects both set too);
//! * anything else EventBridge's own parser refuses ([`ConversionError::Invalid`]), e.g. a year
//!   outside 1970-2199.
//!
//! `LW` converts as is: EventBridge documents `L` and `W` in day-of-month, and we accept `LW`
//! with Quartz's meaning (last weekday of the month); this could not be checked against the
//! live service.

use thiserror::Error;

use crate::expression::{ExpressionError, ScheduleExpression};

/// Why a Quartz expression can't become an EventBridge one; the message is fit for a 400.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConversionError {
    #[error(
        "Quartz cron expression must have 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), found {found}"
    )]
    FieldCount { found: usize },
    #[error("Quartz {field} field {token:?} can't be expressed in EventBridge: {reason}")]
    Unsupported {
        field: &'static str,
        token: String,
        reason: String,
    },
    #[error("converted expression is not valid for EventBridge: {0}")]
    Invalid(#[source] ExpressionError),
}

impl ConversionError {
    /// The Quartz field at fault (`"seconds"`, `"day-of-week"`, …), `"cron"` for the field
    /// count, or the EventBridge field for [`ConversionError::Invalid`].
    pub fn field(&self) -> &'static str {
        match self {
            Self::FieldCount { .. } => "cron",
            Self::Unsupported { field, .. } => field,
            Self::Invalid(e) => e.field(),
        }
    }
}

fn unsupported(field: &'static str, token: &str, reason: &str) -> ConversionError {
    ConversionError::Unsupported {
        field,
        token: token.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Converts a Quartz / XXL-JOB cron expression to an EventBridge `cron(...)`, when exact.
pub fn convert_quartz(quartz: &str) -> Result<ScheduleExpression, ConversionError> {
    let fields: Vec<&str> = quartz.split_whitespace().collect();
    if !(6..=7).contains(&fields.len()) {
        return Err(ConversionError::FieldCount {
            found: fields.len(),
        });
    }
    let (sec, min, hour, dom, month, dow) = (
        fields[0], fields[1], fields[2], fields[3], fields[4], fields[5],
    );
    let year = fields.get(6).copied().unwrap_or("*");

    if !(sec.bytes().all(|b| b.is_ascii_digit()) && sec.parse::<u32>() == Ok(0)) {
        let reason = if sec.contains(['*', '/', ',', '-']) {
            "fires more than once a minute; EventBridge fires at most once a minute, at second 0"
        } else {
            "EventBridge fires at minute precision (second 0); only a seconds field of 0 converts exactly"
        };
        return Err(unsupported("seconds", sec, reason));
    }
    let dom_upper = dom.to_ascii_uppercase();
    let dow_upper = dow.to_ascii_uppercase();
    if dom_upper.contains("L-") {
        return Err(unsupported(
            "day-of-month",
            dom,
            "offsets from the last day (L-n) are not supported by EventBridge",
        ));
    }
    if dom_upper.contains('C') {
        return Err(unsupported(
            "day-of-month",
            dom,
            "the calendar flag C is not supported by EventBridge",
        ));
    }
    if dow_upper.contains('C') {
        return Err(unsupported(
            "day-of-week",
            dow,
            "the calendar flag C is not supported by EventBridge",
        ));
    }
    if dow.contains('/') {
        return Err(unsupported(
            "day-of-week",
            dow,
            "steps (/) in day-of-week are not supported by EventBridge (it allows , - * ? L #); list the days instead",
        ));
    }
    match (dom == "?", dow == "?") {
        (true, true) => {
            return Err(unsupported(
                "day-of-month/day-of-week",
                &format!("{dom} {dow}"),
                "both are ?; exactly one of them must be ?",
            ));
        }
        (false, false) => {
            return Err(unsupported(
                "day-of-month/day-of-week",
                &format!("{dom} {dow}"),
                "both are set; EventBridge (like Quartz) needs ? in one of them",
            ));
        }
        _ => {}
    }
    let text = format!("cron({min} {hour} {dom} {month} {dow} {year})");
    ScheduleExpression::parse(&text).map_err(ConversionError::Invalid)
}

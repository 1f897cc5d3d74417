//! Which fires of a schedule are due: pure functions over what GetSchedule
//! returned.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sluice_schedule::{ScheduleExpression, next_fires, parse_timezone};

use crate::retry::RetryLimits;

/// At most this many fires of one schedule per tick; more means the bridge
/// was stalled, and the rest are skipped (logged).
pub const MAX_FIRES_PER_TICK: usize = 100;

/// A schedule as the bridge needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDetails {
    pub arn: String,
    pub expression: String,
    /// `ScheduleExpressionTimezone`, UTC when absent.
    pub timezone: String,
    pub enabled: bool,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub flexible_window_minutes: Option<u32>,
    pub target: TargetDetails,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetDetails {
    pub arn: String,
    /// The input before substitution; EventBridge sends `{}` when none.
    pub input: Option<String>,
    pub retry: RetryLimits,
    pub dead_letter_arn: Option<String>,
}

/// One fire of one schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Fire {
    pub schedule: Arc<ScheduleDetails>,
    /// The scheduled time, without any flexible-window offset.
    pub scheduled_time: DateTime<Utc>,
}

/// A schedule whose fires cannot be computed (moto checks nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FireError {
    #[error("invalid schedule expression: {0}")]
    Expression(String),
    #[error("invalid time zone: {0}")]
    Timezone(String),
}

/// The exclusive lower bound of a schedule first seen: its creation (so a
/// rate schedule's fire at creation counts), but never before the bridge
/// started.
pub fn first_bound(created: DateTime<Utc>, started: DateTime<Utc>) -> DateTime<Utc> {
    (created - Duration::milliseconds(1)).max(started)
}

/// The fires of `schedule` in `(after, now]`, oldest first (at most
/// [`MAX_FIRES_PER_TICK`]); none while it is disabled.
pub fn due_fires(
    schedule: &ScheduleDetails,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, FireError> {
    let expression = ScheduleExpression::parse(&schedule.expression)
        .map_err(|e| FireError::Expression(e.to_string()))?;
    let tz = parse_timezone(&schedule.timezone).map_err(|e| FireError::Timezone(e.to_string()))?;
    if !schedule.enabled || now <= after {
        return Ok(Vec::new());
    }
    // A rate schedule without StartDate runs from its creation.
    let start = match (&expression, schedule.start) {
        (ScheduleExpression::Rate(_), None) => Some(schedule.created),
        (_, start) => start,
    };
    Ok(next_fires(
        &expression,
        &tz,
        after,
        start,
        schedule.end,
        MAX_FIRES_PER_TICK,
    )
    .into_iter()
    .take_while(|t| *t <= now)
    .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn schedule(expression: &str, timezone: &str) -> ScheduleDetails {
        ScheduleDetails {
            arn: "arn:aws:scheduler:us-east-1:123456789012:schedule/g/s".into(),
            expression: expression.into(),
            timezone: timezone.into(),
            enabled: true,
            start: None,
            end: None,
            created: at("2026-01-01T00:00:00Z"),
            flexible_window_minutes: None,
            target: TargetDetails {
                arn: "arn:aws:lambda:us-east-1:123456789012:function:trigger".into(),
                input: None,
                retry: RetryLimits::default(),
                dead_letter_arn: None,
            },
        }
    }

    /// Every fire in `(from, to]`, ticking once a second as the bridge does.
    fn tick_through(s: &ScheduleDetails, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<String> {
        let mut fires = Vec::new();
        let mut last = from;
        let mut now = from;
        while now < to {
            now += Duration::seconds(1);
            fires.extend(due_fires(s, last, now).unwrap());
            last = now;
        }
        fires.iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn a_cron_schedule_follows_its_zone_across_dst() {
        // 02:30 every day in Berlin: 2026-03-29 has no 02:30 (clocks jump
        // 02:00 -> 03:00), so that day does not fire; the offset changes
        // from +01:00 to +02:00.
        let s = schedule("cron(30 2 * * ? *)", "Europe/Berlin");
        let fires = due_fires(&s, at("2026-03-27T12:00:00Z"), at("2026-03-31T12:00:00Z")).unwrap();
        let fires: Vec<_> = fires.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            fires,
            [
                "2026-03-28T01:30:00+00:00",
                "2026-03-30T00:30:00+00:00",
                "2026-03-31T00:30:00+00:00"
            ]
        );
        // 01:30 in New York on the fall-back day occurs twice; it fires once.
        let s = schedule("cron(30 1 * * ? *)", "America/New_York");
        let fires = due_fires(&s, at("2026-10-31T12:00:00Z"), at("2026-11-01T12:00:00Z")).unwrap();
        assert_eq!(fires, [at("2026-11-01T05:30:00Z")]);
    }

    #[test]
    fn ticking_finds_each_fire_once() {
        let s = schedule("cron(* * * * ? *)", "UTC");
        assert_eq!(
            tick_through(&s, at("2026-05-01T10:00:30Z"), at("2026-05-01T10:03:00Z")),
            [
                "2026-05-01T10:01:00+00:00",
                "2026-05-01T10:02:00+00:00",
                "2026-05-01T10:03:00+00:00"
            ]
        );
    }

    #[test]
    fn a_rate_schedule_counts_from_its_start_date() {
        let mut s = schedule("rate(10 minutes)", "UTC");
        s.start = Some(at("2026-05-01T10:03:00Z"));
        s.end = Some(at("2026-05-01T10:30:00Z"));
        let fires = due_fires(&s, at("2026-05-01T10:00:00Z"), at("2026-05-01T11:00:00Z")).unwrap();
        assert_eq!(
            fires,
            [
                at("2026-05-01T10:03:00Z"),
                at("2026-05-01T10:13:00Z"),
                at("2026-05-01T10:23:00Z")
            ]
        );
    }

    #[test]
    fn a_rate_schedule_without_start_fires_at_creation_then_every_interval() {
        let mut s = schedule("rate(5 minutes)", "UTC");
        s.created = at("2026-05-01T10:00:07Z");
        let started = at("2026-05-01T09:00:00Z");
        let bound = first_bound(s.created, started);
        let fires = due_fires(&s, bound, at("2026-05-01T10:11:00Z")).unwrap();
        assert_eq!(
            fires,
            [
                at("2026-05-01T10:00:07Z"),
                at("2026-05-01T10:05:07Z"),
                at("2026-05-01T10:10:07Z")
            ]
        );
        // Seen first long after its creation (the bridge started later):
        // the phase stays, the past is not delivered.
        let bound = first_bound(s.created, at("2026-05-01T12:00:00Z"));
        assert_eq!(bound, at("2026-05-01T12:00:00Z"));
        let fires = due_fires(&s, bound, at("2026-05-01T12:06:00Z")).unwrap();
        assert_eq!(
            fires,
            [at("2026-05-01T12:00:07Z"), at("2026-05-01T12:05:07Z")]
        );
    }

    #[test]
    fn an_at_schedule_fires_once() {
        let s = schedule("at(2026-05-01T12:00:00)", "Asia/Tokyo");
        let fires = tick_through(&s, at("2026-05-01T02:59:55Z"), at("2026-05-01T03:00:05Z"));
        assert_eq!(fires, ["2026-05-01T03:00:00+00:00"]);
        assert!(
            due_fires(&s, at("2026-05-01T03:00:05Z"), at("2027-01-01T00:00:00Z"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_disabled_schedule_does_not_fire() {
        let mut s = schedule("rate(1 minute)", "UTC");
        s.enabled = false;
        assert!(
            due_fires(&s, at("2026-05-01T10:00:00Z"), at("2026-05-01T11:00:00Z"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn an_invalid_schedule_is_reported() {
        let s = schedule("cron(0 12 * * * *)", "UTC");
        assert!(matches!(
            due_fires(&s, at("2026-05-01T10:00:00Z"), at("2026-05-01T11:00:00Z")),
            Err(FireError::Expression(_))
        ));
        let s = schedule("rate(1 hour)", "Mars/Olympus");
        assert!(matches!(
            due_fires(&s, at("2026-05-01T10:00:00Z"), at("2026-05-01T11:00:00Z")),
            Err(FireError::Timezone(_))
        ));
    }

    #[test]
    fn a_stalled_bridge_fires_a_bounded_number() {
        let s = schedule("rate(1 minute)", "UTC");
        let after = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        let fires = due_fires(&s, after, after + Duration::days(1)).unwrap();
        assert_eq!(fires.len(), MAX_FIRES_PER_TICK);
    }
}

//! Next-fire preview: DST in two zones, L/W/LW/#/nL, leap years, year bounds, clipping, rate, at.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sluice_schedule::{ScheduleExpression, Timezone, next_fires, parse_timezone};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn fires(expr: &str, tz: &str, after: &str, n: usize) -> Vec<String> {
    fires_in(expr, tz, after, None, None, n)
}

fn fires_in(
    expr: &str,
    tz: &str,
    after: &str,
    start: Option<&str>,
    end: Option<&str>,
    n: usize,
) -> Vec<String> {
    let expr = ScheduleExpression::parse(expr).unwrap();
    let tz: Timezone = parse_timezone(tz).unwrap();
    next_fires(&expr, &tz, utc(after), start.map(utc), end.map(utc), n)
        .into_iter()
        .map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string())
        .collect()
}

#[test]
fn berlin_spring_forward_skips_the_missing_time() {
    // 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist that day.
    assert_eq!(
        fires(
            "cron(30 2 * * ? *)",
            "Europe/Berlin",
            "2026-03-27T00:00:00Z",
            3
        ),
        [
            "2026-03-27T01:30Z",
            "2026-03-28T01:30Z",
            "2026-03-30T00:30Z"
        ]
    );
}

#[test]
fn berlin_fall_back_fires_once_at_the_first_occurrence() {
    // 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens at 00:30Z and 01:30Z.
    assert_eq!(
        fires(
            "cron(30 2 * * ? *)",
            "Europe/Berlin",
            "2026-10-24T00:00:00Z",
            3
        ),
        [
            "2026-10-24T00:30Z",
            "2026-10-25T00:30Z",
            "2026-10-26T01:30Z"
        ]
    );
    assert_eq!(
        fires(
            "cron(0/30 * * * ? *)",
            "Europe/Berlin",
            "2026-10-24T23:59:00Z",
            3
        ),
        [
            "2026-10-25T00:00Z",
            "2026-10-25T00:30Z",
            "2026-10-25T02:00Z"
        ]
    );
}

#[test]
fn new_york_spring_forward() {
    // 2026-03-08 02:00 EST -> 03:00 EDT.
    assert_eq!(
        fires(
            "cron(30 2 * * ? *)",
            "America/New_York",
            "2026-03-07T00:00:00Z",
            2
        ),
        ["2026-03-07T07:30Z", "2026-03-09T06:30Z"]
    );
    assert_eq!(
        fires(
            "cron(0 * * * ? *)",
            "America/New_York",
            "2026-03-08T04:59:00Z",
            3
        ),
        [
            "2026-03-08T05:00Z",
            "2026-03-08T06:00Z",
            "2026-03-08T07:00Z"
        ]
    );
}

#[test]
fn new_york_fall_back() {
    // 2026-11-01 02:00 EDT -> 01:00 EST: 01:xx happens twice.
    assert_eq!(
        fires(
            "cron(30 1 * * ? *)",
            "America/New_York",
            "2026-10-31T00:00:00Z",
            3
        ),
        [
            "2026-10-31T05:30Z",
            "2026-11-01T05:30Z",
            "2026-11-02T06:30Z"
        ]
    );
    assert_eq!(
        fires(
            "cron(0 * * * ? *)",
            "America/New_York",
            "2026-11-01T03:59:00Z",
            3
        ),
        [
            "2026-11-01T04:00Z",
            "2026-11-01T05:00Z",
            "2026-11-01T07:00Z"
        ]
    );
}

#[test]
fn half_hour_dst_shift_in_the_southern_hemisphere() {
    // Lord Howe Island: +10:30 -> +11:00 at 02:00 on 2026-10-04, so 02:15 does not exist that
    // day; and back at 02:00 on 2026-04-05, so 01:45 happens twice (+11:00 first).
    assert_eq!(
        fires(
            "cron(15 2 * * ? *)",
            "Australia/Lord_Howe",
            "2026-10-03T12:00:00Z",
            2
        ),
        ["2026-10-04T15:15Z", "2026-10-05T15:15Z"]
    );
    assert_eq!(
        fires(
            "cron(45 1 * * ? *)",
            "Australia/Lord_Howe",
            "2026-04-04T12:00:00Z",
            2
        ),
        ["2026-04-04T14:45Z", "2026-04-05T15:15Z"]
    );
}

#[test]
fn zone_without_dst() {
    assert_eq!(
        fires(
            "cron(0 9 * * ? *)",
            "Asia/Shanghai",
            "2026-01-01T00:00:00Z",
            2
        ),
        ["2026-01-01T01:00Z", "2026-01-02T01:00Z"]
    );
}

#[test]
fn last_day_of_month_including_leap_february() {
    assert_eq!(
        fires("cron(0 12 L * ? *)", "UTC", "2024-01-15T00:00:00Z", 4),
        [
            "2024-01-31T12:00Z",
            "2024-02-29T12:00Z",
            "2024-03-31T12:00Z",
            "2024-04-30T12:00Z"
        ]
    );
    assert_eq!(
        fires("cron(0 12 L 2 ? *)", "UTC", "2026-01-01T00:00:00Z", 3),
        [
            "2026-02-28T12:00Z",
            "2027-02-28T12:00Z",
            "2028-02-29T12:00Z"
        ]
    );
}

#[test]
fn nearest_weekday() {
    // 2026-02-15 and 2026-03-15 are Sundays; 2026-04-15 is a Wednesday.
    assert_eq!(
        fires("cron(0 9 15W * ? *)", "UTC", "2026-02-01T00:00:00Z", 3),
        [
            "2026-02-16T09:00Z",
            "2026-03-16T09:00Z",
            "2026-04-15T09:00Z"
        ]
    );
    // 2026-08-01 is a Saturday: 1W stays in the month, Monday the 3rd.
    assert_eq!(
        fires("cron(0 9 1W * ? *)", "UTC", "2026-07-15T00:00:00Z", 1),
        ["2026-08-03T09:00Z"]
    );
    // 2026-05-31 is a Sunday: 31W stays in the month, Friday the 29th; June has no 31st.
    assert_eq!(
        fires("cron(0 9 31W * ? *)", "UTC", "2026-05-01T00:00:00Z", 2),
        ["2026-05-29T09:00Z", "2026-07-31T09:00Z"]
    );
}

#[test]
fn last_weekday() {
    // 2026-01-31 is a Saturday, 2026-05-31 a Sunday.
    assert_eq!(
        fires("cron(0 9 LW * ? *)", "UTC", "2026-01-01T00:00:00Z", 1),
        ["2026-01-30T09:00Z"]
    );
    assert_eq!(
        fires("cron(0 9 LW * ? *)", "UTC", "2026-05-01T00:00:00Z", 2),
        ["2026-05-29T09:00Z", "2026-06-30T09:00Z"]
    );
}

#[test]
fn nth_weekday() {
    // EventBridge's example: 9:00 on the first Monday of each month.
    assert_eq!(
        fires("cron(0 9 ? * 2#1 *)", "UTC", "2026-01-01T00:00:00Z", 3),
        [
            "2026-01-05T09:00Z",
            "2026-02-02T09:00Z",
            "2026-03-02T09:00Z"
        ]
    );
    // Fifth Thursday: only months that have one.
    assert_eq!(
        fires("cron(0 9 ? * 5#5 *)", "UTC", "2026-01-01T00:00:00Z", 2),
        ["2026-01-29T09:00Z", "2026-04-30T09:00Z"]
    );
    assert_eq!(
        fires("cron(0 9 ? * TUE#2 *)", "UTC", "2026-01-01T00:00:00Z", 1),
        ["2026-01-13T09:00Z"]
    );
}

#[test]
fn last_weekday_of_kind() {
    assert_eq!(
        fires("cron(0 9 ? * 6L *)", "UTC", "2026-01-01T00:00:00Z", 3),
        [
            "2026-01-30T09:00Z",
            "2026-02-27T09:00Z",
            "2026-03-27T09:00Z"
        ]
    );
    // L alone in day-of-week: Saturday.
    assert_eq!(
        fires("cron(0 9 ? * L *)", "UTC", "2026-01-01T00:00:00Z", 2),
        ["2026-01-03T09:00Z", "2026-01-10T09:00Z"]
    );
}

#[test]
fn weekday_ranges_and_steps() {
    // 2026-01-02 is a Friday.
    assert_eq!(
        fires(
            "cron(0/5 8-17 ? * MON-FRI *)",
            "UTC",
            "2026-01-02T17:50:00Z",
            3
        ),
        [
            "2026-01-02T17:55Z",
            "2026-01-05T08:00Z",
            "2026-01-05T08:05Z"
        ]
    );
    assert_eq!(
        fires("cron(10/15 * * * ? *)", "UTC", "2026-01-01T00:00:00Z", 5),
        [
            "2026-01-01T00:10Z",
            "2026-01-01T00:25Z",
            "2026-01-01T00:40Z",
            "2026-01-01T00:55Z",
            "2026-01-01T01:10Z"
        ]
    );
}

#[test]
fn february_29th_only_in_leap_years() {
    assert_eq!(
        fires("cron(0 0 29 2 ? *)", "UTC", "2026-01-01T00:00:00Z", 2),
        ["2028-02-29T00:00Z", "2032-02-29T00:00Z"]
    );
    // 2100 is not a leap year.
    assert_eq!(
        fires(
            "cron(0 0 29 2 ? 2097-2104)",
            "UTC",
            "2097-01-01T00:00:00Z",
            5
        ),
        ["2104-02-29T00:00Z"]
    );
}

#[test]
fn never_matching_expression_returns_quickly() {
    let started = Instant::now();
    assert!(fires("cron(0 0 30 2 ? *)", "UTC", "1970-01-01T00:00:00Z", 5).is_empty());
    assert!(
        fires(
            "cron(0 0 31 4,6,9,11 ? *)",
            "Europe/Berlin",
            "2026-01-01T00:00:00Z",
            5
        )
        .is_empty()
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn year_field_bounds() {
    assert_eq!(
        fires("cron(0 0 1 1 ? 2199)", "UTC", "2026-01-01T00:00:00Z", 5),
        ["2199-01-01T00:00Z"]
    );
    assert_eq!(
        fires(
            "cron(0 0 1 1 ? 2026-2027)",
            "UTC",
            "2025-06-01T00:00:00Z",
            5
        ),
        ["2026-01-01T00:00Z", "2027-01-01T00:00Z"]
    );
    // Nothing after 2199.
    assert_eq!(
        fires("cron(0 0 1 * ? *)", "UTC", "2199-06-15T00:00:00Z", 10).len(),
        6
    );
    assert!(fires("cron(0 0 1 1 ? 2020)", "UTC", "2026-01-01T00:00:00Z", 5).is_empty());
}

#[test]
fn start_and_end_clip_inclusively() {
    assert_eq!(
        fires_in(
            "cron(0 12 * * ? *)",
            "UTC",
            "2026-01-01T00:00:00Z",
            Some("2026-01-10T12:00:00Z"),
            Some("2026-01-12T12:00:00Z"),
            10
        ),
        [
            "2026-01-10T12:00Z",
            "2026-01-11T12:00Z",
            "2026-01-12T12:00Z"
        ]
    );
    // `after` later than start: strictly after `after`.
    assert_eq!(
        fires_in(
            "cron(0 12 * * ? *)",
            "UTC",
            "2026-01-11T12:00:00Z",
            Some("2026-01-10T00:00:00Z"),
            None,
            1
        ),
        ["2026-01-12T12:00Z"]
    );
    assert!(
        fires_in(
            "cron(0 12 * * ? *)",
            "UTC",
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-01-01T11:59:00Z"),
            3
        )
        .is_empty()
    );
}

#[test]
fn rate_from_start_or_from_after() {
    assert_eq!(
        fires_in(
            "rate(5 minutes)",
            "UTC",
            "2026-01-01T00:07:00Z",
            Some("2026-01-01T00:00:00Z"),
            None,
            3
        ),
        [
            "2026-01-01T00:10Z",
            "2026-01-01T00:15Z",
            "2026-01-01T00:20Z"
        ]
    );
    // No start: fires immediately, at `after`, then every interval.
    assert_eq!(
        fires("rate(1 hour)", "UTC", "2026-01-01T00:07:00Z", 3),
        [
            "2026-01-01T00:07Z",
            "2026-01-01T01:07Z",
            "2026-01-01T02:07Z"
        ]
    );
    // Start in the future: first fire at start.
    assert_eq!(
        fires_in(
            "rate(7 days)",
            "UTC",
            "2026-01-01T00:00:00Z",
            Some("2026-02-01T06:00:00Z"),
            Some("2026-02-15T06:00:00Z"),
            10
        ),
        [
            "2026-02-01T06:00Z",
            "2026-02-08T06:00Z",
            "2026-02-15T06:00Z"
        ]
    );
    // The interval is elapsed time, whatever the zone's DST does.
    assert_eq!(
        fires_in(
            "rate(1 day)",
            "Europe/Berlin",
            "2026-03-28T00:00:00Z",
            Some("2026-03-28T10:00:00Z"),
            None,
            2
        ),
        ["2026-03-28T10:00Z", "2026-03-29T10:00Z"]
    );
}

#[test]
fn at_fires_once_at_local_time() {
    assert_eq!(
        fires("at(2022-11-20T13:00:00)", "UTC", "2022-01-01T00:00:00Z", 5),
        ["2022-11-20T13:00Z"]
    );
    assert_eq!(
        fires(
            "at(2022-11-20T13:00:00)",
            "America/New_York",
            "2022-01-01T00:00:00Z",
            5
        ),
        ["2022-11-20T18:00Z"]
    );
    assert!(fires("at(2022-11-20T13:00:00)", "UTC", "2022-11-20T13:00:00Z", 5).is_empty());
    // In the spring-forward gap: never; in the fall-back repeat: the first occurrence.
    assert!(
        fires(
            "at(2026-03-29T02:30:00)",
            "Europe/Berlin",
            "2026-01-01T00:00:00Z",
            5
        )
        .is_empty()
    );
    assert_eq!(
        fires(
            "at(2026-10-25T02:30:00)",
            "Europe/Berlin",
            "2026-01-01T00:00:00Z",
            5
        ),
        ["2026-10-25T00:30Z"]
    );
    assert!(
        fires_in(
            "at(2026-06-01T00:00:00)",
            "UTC",
            "2026-01-01T00:00:00Z",
            None,
            Some("2026-05-31T00:00:00Z"),
            1
        )
        .is_empty()
    );
}

#[test]
fn n_zero_and_cap() {
    assert!(fires("cron(* * * * ? *)", "UTC", "2026-01-01T00:00:00Z", 0).is_empty());
    assert_eq!(
        fires(
            "cron(* * * * ? *)",
            "UTC",
            "2026-01-01T00:00:00Z",
            usize::MAX
        )
        .len(),
        sluice_schedule::MAX_FIRES
    );
}

//! Table-driven validation of EventBridge schedule expressions.

use sluice_schedule::{ScheduleExpression, parse_timezone};

/// Valid expressions; each must parse and print back unchanged.
const VALID: &[&str] = &[
    // EventBridge Scheduler user guide, "Schedule types": cron examples.
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    // ... rate and one-time examples.
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(7 days)",
    "at(2022-11-20T13:00:00)",
    // EventBridge (rules) reference examples.
    "cron(0 20 * * ? *)",
    "rate(1 minute)",
    "rate(12 hours)",
    "rate(1 day)",
    "cron(1/10 * * * ? *)",
    "cron(0 12 ? * 6L *)",
    "cron(0 12 3W * ? *)",
    // Wildcards, ranges, lists, steps, names.
    "cron(* * * * ? *)",
    "cron(*/5 * * * ? *)",
    "cron(10/15 * * * ? *)",
    "cron(0 1-23/2 1-30/2 * ? *)",
    "cron(0,30 9,17 ? JAN,APR,JUL,OCT MON,WED,FRI *)",
    "cron(0 0 ? jan-mar sun *)",
    "cron(59 23 31 12 ? 2199)",
    "cron(0 0 1 1 ? 1970)",
    "cron(0 0 1 1 ? 2026-2030)",
    "cron(0 0 1 1 ? 2026/2)",
    "cron(0 0 ? * 1-7 *)",
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 0 ? * L *)",
    "cron(0 0 ? * FRIL *)",
    "cron(0 0 ? * MON#2 *)",
    "cron(0 0 ? * 7#5 *)",
    "cron(0 0 29 2 ? *)",
    "rate(2 minutes)",
    "rate(1000 days)",
    "at(2024-02-29T23:59:59)",
];

/// Invalid expressions: (expression, `field()`, fragment the message must contain).
const INVALID: &[(&str, &str, &str)] = &[
    ("", "scheduleExpression", "must be cron("),
    ("cron 0 10 * * ? *", "scheduleExpression", "must be cron("),
    ("CRON(0 10 * * ? *)", "scheduleExpression", "must be cron("),
    ("every(5 minutes)", "scheduleExpression", "must be cron("),
    ("cron(0 10 * * ?)", "cron", "6 fields"),
    ("cron(0 0 10 * * ? *)", "cron", "found 7"),
    (
        "cron(60 10 * * ? *)",
        "minutes",
        "cron minutes field \"60\"",
    ),
    ("cron(-1 10 * * ? *)", "minutes", "minutes"),
    ("cron(0/0 10 * * ? *)", "minutes", "step"),
    ("cron(0/60 10 * * ? *)", "minutes", "step"),
    ("cron(? 10 * * ? *)", "minutes", "? is only allowed"),
    ("cron(0 24 * * ? *)", "hours", "cron hours field \"24\""),
    (
        "cron(0 5-1 * * ? *)",
        "hours",
        "range start 5 is after range end 1",
    ),
    ("cron(0 1,,2 * * ? *)", "hours", "empty item"),
    ("cron(0 L * * ? *)", "hours", "hours"),
    ("cron(0 0 32 * ? *)", "day-of-month", "outside 1-31"),
    ("cron(0 0 0 * ? *)", "day-of-month", "outside 1-31"),
    ("cron(0 0 L-3 * ? *)", "day-of-month", "L-n"),
    (
        "cron(0 0 1W,15W * ? *)",
        "day-of-month",
        "W must follow a single day",
    ),
    ("cron(0 0 1-15W * ? *)", "day-of-month", "day-of-month"),
    ("cron(0 0 32W * ? *)", "day-of-month", "outside 1-31"),
    ("cron(0 0 L,15 * ? *)", "day-of-month", "L must stand alone"),
    (
        "cron(0 0 1#2 * ? *)",
        "day-of-month",
        "# is only allowed in day-of-week",
    ),
    ("cron(0 0 1 13 ? *)", "month", "cron month field \"13\""),
    ("cron(0 0 1 0 ? *)", "month", "month"),
    ("cron(0 0 1 JANUARY ? *)", "month", "name like JAN"),
    ("cron(0 0 1 ? ? *)", "month", "? is only allowed"),
    ("cron(0 0 ? * 0 *)", "day-of-week", "outside 1-7"),
    ("cron(0 0 ? * 8 *)", "day-of-week", "outside 1-7"),
    (
        "cron(0 0 ? * MON/2 *)",
        "day-of-week",
        "steps (/) are not allowed in day-of-week",
    ),
    (
        "cron(0 0 ? * 1/2 *)",
        "day-of-week",
        "steps (/) are not allowed in day-of-week",
    ),
    ("cron(0 0 ? * */2 *)", "day-of-week", "day-of-week"),
    ("cron(0 0 ? * 2#6 *)", "day-of-week", "1 to 5"),
    ("cron(0 0 ? * 2#0 *)", "day-of-week", "1 to 5"),
    ("cron(0 0 ? * 8#1 *)", "day-of-week", "outside 1-7"),
    ("cron(0 0 ? * 2#1,3#1 *)", "day-of-week", "must stand alone"),
    ("cron(0 0 ? * 9L *)", "day-of-week", "outside 1-7"),
    (
        "cron(0 0 ? * 3W *)",
        "day-of-week",
        "W is only allowed in day-of-month",
    ),
    (
        "cron(0 0 ? * FRI-MON *)",
        "day-of-week",
        "range start 6 is after range end 2",
    ),
    ("cron(0 0 ? * FUN *)", "day-of-week", "name like SUN"),
    ("cron(0 0 1 * ? 1969)", "year", "outside 1970-2199"),
    ("cron(0 0 1 * ? 2200)", "year", "cron year field \"2200\""),
    ("cron(0 0 1 * ? 2026-2300)", "year", "outside 1970-2199"),
    ("cron(0 0 1 * ? ?)", "year", "? is only allowed"),
    (
        "cron(0 0 * * * *)",
        "day-of-month/day-of-week",
        "exactly one of them must be ?",
    ),
    (
        "cron(0 0 1 * MON *)",
        "day-of-month/day-of-week",
        "day-of-week \"MON\"",
    ),
    (
        "cron(0 0 ? * ? *)",
        "day-of-month/day-of-week",
        "only one of them may be ?",
    ),
    ("rate(0 minutes)", "rate value", "positive integer"),
    ("rate(-5 minutes)", "rate value", "positive integer"),
    ("rate(1.5 hours)", "rate value", "positive integer"),
    ("rate(five minutes)", "rate value", "rate value"),
    ("rate(99999999999 minutes)", "rate value", "too large"),
    (
        "rate(1 minutes)",
        "rate unit",
        "use \"minute\" with the value 1",
    ),
    (
        "rate(5 minute)",
        "rate unit",
        "use \"minutes\" with the value 5",
    ),
    ("rate(1 days)", "rate unit", "singular only for 1"),
    ("rate(2 hour)", "rate unit", "rate unit \"hour\""),
    ("rate(5 seconds)", "rate unit", "must be one of minute"),
    ("rate(1 week)", "rate unit", "must be one of minute"),
    ("rate(5 Minutes)", "rate unit", "rate unit"),
    ("rate(5)", "rate", "expected 2 parts"),
    ("rate(5 minutes now)", "rate", "expected 2 parts"),
    ("at(2022-11-20 13:00:00)", "at", "yyyy-mm-ddThh:mm:ss"),
    ("at(2022-11-20T13:00)", "at", "yyyy-mm-ddThh:mm:ss"),
    ("at(2022-13-20T13:00:00)", "at", "not a valid date-time"),
    ("at(2023-02-29T13:00:00)", "at", "not a valid date-time"),
    ("at(2022-11-20T24:00:00)", "at", "not a valid date-time"),
    ("at(20221120T130000)", "at", "at \"20221120T130000\""),
];

#[test]
fn valid_expressions_parse_and_round_trip() {
    for text in VALID {
        let expr = ScheduleExpression::parse(text)
            .unwrap_or_else(|e| panic!("{text} should be valid, got: {e}"));
        assert_eq!(expr.to_string(), *text, "round trip of {text}");
    }
}

#[test]
fn invalid_expressions_name_the_field() {
    for (text, field, fragment) in INVALID {
        let err = ScheduleExpression::parse(text).expect_err(&format!("{text} should be invalid"));
        let message = err.to_string();
        assert_eq!(err.field(), *field, "{text}: {message}");
        assert!(
            message.contains(fragment),
            "{text}: message {message:?} should contain {fragment:?}"
        );
        for part in field.split('/') {
            if part != "scheduleExpression" && part != "cron" {
                assert!(message.contains(part), "{text}: {message:?} names {part}");
            }
        }
    }
}

#[test]
fn at_least_sixty_expressions_are_covered() {
    assert!(VALID.len() + INVALID.len() >= 60);
}

#[test]
fn whitespace_is_normalised() {
    let expr = ScheduleExpression::parse("  cron(0  10 * *  ? *) ").unwrap();
    assert_eq!(expr.to_string(), "cron(0 10 * * ? *)");
}

#[test]
fn rate_intervals() {
    let ScheduleExpression::Rate(rate) = ScheduleExpression::parse("rate(7 days)").unwrap() else {
        panic!("rate expected");
    };
    assert_eq!(rate.interval(), chrono::TimeDelta::days(7));
}

#[test]
fn timezones_are_iana_names() {
    for name in [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Shanghai",
        "Etc/GMT+5",
    ] {
        assert_eq!(parse_timezone(name).unwrap().name(), name);
    }
    for name in [
        "",
        "Berlin",
        "Europe/Berlín",
        "europe/berlin",
        "CEST",
        "UTC+1",
        "Mars/Olympus",
    ] {
        let err = parse_timezone(name).expect_err(name);
        assert_eq!(err.field(), "scheduleExpressionTimezone");
        assert!(err.to_string().contains("scheduleExpressionTimezone"));
    }
}

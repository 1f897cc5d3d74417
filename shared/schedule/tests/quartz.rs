//! Table-driven XXL-JOB / Quartz conversion.

use sluice_schedule::convert_quartz;

/// (Quartz expression, EventBridge expression). Quartz CronTrigger tutorial examples plus
/// XXL-JOB's sample job (`0 0 0 * * ? *`, doc/db/tables_xxl_job.sql).
const CONVERTIBLE: &[(&str, &str)] = &[
    ("0 0 0 * * ? *", "cron(0 0 * * ? *)"),
    ("0 0 12 * * ?", "cron(0 12 * * ? *)"),
    ("0 15 10 ? * *", "cron(15 10 ? * * *)"),
    ("0 15 10 * * ?", "cron(15 10 * * ? *)"),
    ("0 15 10 * * ? *", "cron(15 10 * * ? *)"),
    ("0 15 10 * * ? 2005", "cron(15 10 * * ? 2005)"),
    ("0 * 14 * * ?", "cron(* 14 * * ? *)"),
    ("0 0/5 14 * * ?", "cron(0/5 14 * * ? *)"),
    ("0 0/5 14,18 * * ?", "cron(0/5 14,18 * * ? *)"),
    ("0 0-5 14 * * ?", "cron(0-5 14 * * ? *)"),
    ("0 10,44 14 ? 3 WED", "cron(10,44 14 ? 3 WED *)"),
    ("0 15 10 ? * MON-FRI", "cron(15 10 ? * MON-FRI *)"),
    ("0 15 10 15 * ?", "cron(15 10 15 * ? *)"),
    ("0 15 10 L * ?", "cron(15 10 L * ? *)"),
    ("0 15 10 ? * 6L", "cron(15 10 ? * 6L *)"),
    ("0 15 10 ? * 6L 2002-2005", "cron(15 10 ? * 6L 2002-2005)"),
    ("0 15 10 ? * 6#3", "cron(15 10 ? * 6#3 *)"),
    ("0 0 12 1/5 * ?", "cron(0 12 1/5 * ? *)"),
    ("0 11 11 11 11 ?", "cron(11 11 11 11 ? *)"),
    ("0 0 9 LW * ?", "cron(0 9 LW * ? *)"),
    ("0 0 9 15W * ?", "cron(0 9 15W * ? *)"),
    ("00 30 8 ? * 2#1", "cron(30 8 ? * 2#1 *)"),
];

/// (Quartz expression, field named by the error, fragment of the reason).
const REFUSED: &[(&str, &str, &str)] = &[
    ("*/10 * * * * ?", "seconds", "more than once a minute"),
    ("0/10 * * * * ?", "seconds", "more than once a minute"),
    ("* * * * * ?", "seconds", "more than once a minute"),
    ("0,30 * * * * ?", "seconds", "more than once a minute"),
    ("0-5 * * * * ?", "seconds", "more than once a minute"),
    ("30 0 12 * * ?", "seconds", "minute precision"),
    // The tutorial's own `* * * * ? *` and its long example both fire every second.
    ("* * * * ? *", "seconds", "seconds"),
    (
        "0/5 14,18,3-39,52 * ? JAN,MAR,SEP MON-FRI 2002-2010",
        "seconds",
        "more than once",
    ),
    ("0 15 10 L-2 * ?", "day-of-month", "L-n"),
    ("0 0 0 L-3 * ?", "day-of-month", "L-n"),
    (
        "0 0 12 ? * MON/2",
        "day-of-week",
        "steps (/) in day-of-week",
    ),
    ("0 0 12 ? * 1/2", "day-of-week", "steps (/) in day-of-week"),
    ("0 0 12 ? * */2", "day-of-week", "day-of-week"),
    ("0 0 12 5C * ?", "day-of-month", "calendar"),
    ("0 0 12 ? * 1C", "day-of-week", "calendar"),
    ("0 0 12 1 * MON", "day-of-month/day-of-week", "both are set"),
    ("0 0 12 * * *", "day-of-month/day-of-week", "both are set"),
    ("0 0 12 ? * ?", "day-of-month/day-of-week", "both are ?"),
    ("0 0 12 * *", "cron", "6 or 7 fields"),
    ("0 0 12 * * ? * extra", "cron", "found 8"),
    ("0 0 24 * * ?", "hours", "outside 0-23"),
    ("0 0 12 * * ? 1969", "year", "outside 1970-2199"),
    ("0 0 12 ? * 2#6", "day-of-week", "1 to 5"),
];

#[test]
fn exact_conversions() {
    for (quartz, expected) in CONVERTIBLE {
        let converted =
            convert_quartz(quartz).unwrap_or_else(|e| panic!("{quartz} should convert, got: {e}"));
        assert_eq!(converted.to_string(), *expected, "{quartz}");
    }
}

#[test]
fn refusals_say_which_field_and_why() {
    for (quartz, field, fragment) in REFUSED {
        let err = convert_quartz(quartz).expect_err(&format!("{quartz} should be refused"));
        let message = err.to_string();
        assert_eq!(err.field(), *field, "{quartz}: {message}");
        assert!(
            message.contains(fragment),
            "{quartz}: {message:?} lacks {fragment:?}"
        );
        if *field != "cron" {
            for part in field.split('/') {
                assert!(message.contains(part), "{quartz}: {message:?} names {part}");
            }
        }
    }
}

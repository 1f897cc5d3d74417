//! Literals: Flink string literals, the quoted values inside a JAAS
//! configuration and a JDBC URL, and the typed literals of a run's window.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use crate::types::FlinkType;

/// What masked secrets render as.
pub const MASK: &str = "******";

/// A Flink SQL string literal: in single quotes, a quote doubled. Nothing
/// else is special inside (Flink does not read backslash escapes).
pub fn string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A double-quoted value of a JAAS configuration, as Kafka's `JaasConfig`
/// reads it (a `StreamTokenizer`): backslash escapes for `\` and `"`, the
/// usual letters for line breaks and tabs, octal for other control
/// characters.
pub fn jaas_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Control characters are U+0000-U+001F and U+007F-U+009F: all
            // fit the three octal digits StreamTokenizer reads.
            c if c.is_control() => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a
/// value placed in a JDBC URL (a database name).
pub fn url_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2024-01-31 23:59:59` with the fraction only when there is one
/// (trailing zeros dropped).
fn timestamp_text(ts: NaiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {}",
        ts.year(),
        ts.month(),
        ts.day(),
        time_text(ts.time())
    )
}

fn time_text(t: NaiveTime) -> String {
    let mut text = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

/// `DATE '2024-01-31'`.
pub fn date_literal(d: NaiveDate) -> String {
    format!("DATE '{:04}-{:02}-{:02}'", d.year(), d.month(), d.day())
}

/// `TIME '12:30:00'`.
pub fn time_literal(t: NaiveTime) -> String {
    format!("TIME '{}'", time_text(t))
}

/// `TIMESTAMP '2024-01-31 12:30:00.5'`.
pub fn timestamp_literal(ts: NaiveDateTime) -> String {
    format!("TIMESTAMP '{}'", timestamp_text(ts))
}

/// One bound of a run's window as a literal comparable with a column of
/// type `ty` (TIMESTAMP, TIMESTAMP_LTZ or DATE; `None` for other types):
/// - `TIMESTAMP(p)` holds wall-clock times, taken as UTC:
///   `TIMESTAMP '2024-01-01 00:00:00'`;
/// - `TIMESTAMP_LTZ(p)` holds instants: `TO_TIMESTAMP_LTZ(<epoch ms>, 3)`,
///   which does not depend on the session time zone (a sub-millisecond
///   part is dropped from both bounds alike, so consecutive windows still
///   meet exactly);
/// - `DATE`: the first day whose midnight (UTC) is at or after the
///   instant, so `[from, to)` on dates keeps exactly the days whose
///   midnight falls in the window, and consecutive windows neither
///   overlap nor leave gaps.
pub fn window_bound(ty: &FlinkType, at: DateTime<Utc>) -> Option<String> {
    match ty {
        FlinkType::Timestamp(_) => Some(timestamp_literal(at.naive_utc())),
        FlinkType::TimestampLtz(_) => {
            Some(format!("TO_TIMESTAMP_LTZ({}, 3)", at.timestamp_millis()))
        }
        FlinkType::Date => {
            let naive = at.naive_utc();
            let mut day = naive.date();
            if naive.time() != NaiveTime::MIN {
                day = day.succ_opt()?;
            }
            Some(date_literal(day))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn string_literals_double_quotes_only() {
        assert_eq!(string_literal(""), "''");
        assert_eq!(string_literal("it's"), "'it''s'");
        assert_eq!(string_literal("''"), "''''''");
        assert_eq!(
            string_literal("'); DROP TABLE x; --"),
            "'''); DROP TABLE x; --'"
        );
        assert_eq!(string_literal(r"a\'b"), r"'a\''b'");
        assert_eq!(string_literal("`x`"), "'`x`'");
        assert_eq!(string_literal("ünï＇"), "'ünï＇'");
    }

    #[test]
    fn jaas_values_are_escaped() {
        assert_eq!(jaas_quoted("plain"), "\"plain\"");
        assert_eq!(jaas_quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(jaas_quoted("a\nb\tc\r"), r#""a\nb\tc\r""#);
        assert_eq!(jaas_quoted("a\u{1}b"), r#""a\001b""#);
        assert_eq!(jaas_quoted("it's;"), "\"it's;\"");
    }

    #[test]
    fn url_components_are_percent_encoded() {
        assert_eq!(url_component("shop_db-1.x~"), "shop_db-1.x~");
        assert_eq!(url_component("a b?c&d=e/f'"), "a%20b%3Fc%26d%3De%2Ff%27");
        assert_eq!(url_component("é"), "%C3%A9");
    }

    #[test]
    fn typed_literals() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_literal(d), "DATE '2024-02-29'");
        let t = NaiveTime::from_hms_nano_opt(7, 5, 3, 120_000_000).unwrap();
        assert_eq!(time_literal(t), "TIME '07:05:03.12'");
        assert_eq!(
            timestamp_literal(d.and_time(NaiveTime::MIN)),
            "TIMESTAMP '2024-02-29 00:00:00'"
        );
        assert_eq!(
            timestamp_literal(d.and_hms_nano_opt(1, 2, 3, 1).unwrap()),
            "TIMESTAMP '2024-02-29 01:02:03.000000001'"
        );
    }

    #[test]
    fn window_bounds_per_column_type() {
        let at = Utc.with_ymd_and_hms(2024, 1, 31, 23, 0, 0).unwrap();
        assert_eq!(
            window_bound(&FlinkType::Timestamp(3), at).unwrap(),
            "TIMESTAMP '2024-01-31 23:00:00'"
        );
        assert_eq!(
            window_bound(&FlinkType::TimestampLtz(3), at).unwrap(),
            "TO_TIMESTAMP_LTZ(1706742000000, 3)"
        );
        // Not at midnight: the next day is the first whose midnight is inside.
        assert_eq!(
            window_bound(&FlinkType::Date, at).unwrap(),
            "DATE '2024-02-01'"
        );
        let midnight = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
        assert_eq!(
            window_bound(&FlinkType::Date, midnight).unwrap(),
            "DATE '2024-02-01'"
        );
        let precise = Utc.timestamp_opt(1_706_742_000, 123_456_789).unwrap();
        assert_eq!(
            window_bound(&FlinkType::Timestamp(9), precise).unwrap(),
            "TIMESTAMP '2024-01-31 23:00:00.123456789'"
        );
        assert_eq!(
            window_bound(&FlinkType::TimestampLtz(9), precise).unwrap(),
            "TO_TIMESTAMP_LTZ(1706742000123, 3)"
        );
        assert_eq!(window_bound(&FlinkType::BigInt, at), None);
    }
}

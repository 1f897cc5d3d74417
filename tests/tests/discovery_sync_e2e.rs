//! Discovery, then a sync, end to end, per database (issue #14): a table
//! with one column of every type the mapping proposes a Flink type for
//! (README, "Type mapping (discovery)"), named with a reserved word, a space
//! and unicode, holding edge values of every type (limits, every precision,
//! NULL and empty, unicode, old and far dates, `-0`, fractions of seconds
//! at every precision). A job saved WITHOUT `source.columns` must store the
//! documented proposal of every column (hard-coded below), and its run must
//! copy the table into an empty twin (same DDL) in append mode and in
//! upsert mode on the discovered key. Then an order-independent checksum
//! over every column, computed in the database over a text of each value
//! that is exact for its type, must be the same for the source and both
//! twins (and the row counts); a difference prints the rows that differ.
//! Run with `make test`.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};
use sluice_tests::{Api, create_job, db, fresh_tenant, wait_for_run_end};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Db {
    Postgres,
    Maria,
}

/// How MariaDB renders a column's values as exact text (PostgreSQL always
/// uses the type's output function, `format('%L', …)`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Render {
    /// `CAST(… AS CHAR)`: integers, decimals (every digit of the scale),
    /// dates and times (every digit of the precision), uuid, inet.
    Text,
    /// Widened to DOUBLE and printed by MariaDB's shortest round-trip form.
    Float,
    /// The bytes, as hex: strings, JSON, enums, sets, binary strings.
    Hex,
    /// A BIT value as its binary digits.
    Bits,
}

/// One column of the table: its name, its DDL type, the Flink type
/// discovery must propose (README), and its edge values as SQL expressions.
struct Col {
    name: String,
    ddl: String,
    flink: String,
    render: Render,
    values: Vec<String>,
    not_null: bool,
}

fn col(name: &str, ddl: &str, flink: &str, values: Vec<String>) -> Col {
    assert!(!values.is_empty(), "{name}: no values");
    Col {
        name: name.to_owned(),
        ddl: ddl.to_owned(),
        flink: flink.to_owned(),
        render: Render::Text,
        values,
        not_null: false,
    }
}

impl Col {
    fn render(mut self, render: Render) -> Self {
        self.render = render;
        self
    }

    fn not_null(mut self) -> Self {
        self.not_null = true;
        self
    }
}

/// The two key columns, first in every table: `id` numbers the rows.
const ID: &str = "id";
const KEY: [&str; 2] = ["select", "id"];

// --- values ---------------------------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A quoted SQL string literal (PostgreSQL: standard strings; MariaDB: the
/// backslash escaped too), for text without control characters.
fn lit(db: Db, s: &str) -> String {
    match db {
        Db::Postgres => format!("'{}'", s.replace('\'', "''")),
        Db::Maria => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
    }
}

fn lits(db: Db, values: &[&str]) -> Vec<String> {
    values.iter().map(|v| lit(db, v)).collect()
}

/// Any text, sent as its UTF-8 bytes (no quoting or escaping to get wrong).
fn text(db: Db, s: &str) -> String {
    match db {
        Db::Postgres => format!("convert_from('\\x{}'::bytea, 'UTF8')", hex(s.as_bytes())),
        Db::Maria => format!("CONVERT(X'{}' USING utf8mb4)", hex(s.as_bytes())),
    }
}

fn bytes(db: Db, b: &[u8]) -> String {
    match db {
        Db::Postgres => format!("'\\x{}'::bytea", hex(b)),
        Db::Maria => format!("X'{}'", hex(b)),
    }
}

fn numbers<T: ToString>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// An integer type's limits and the small numbers around zero.
fn integers(min: i128, max: u128) -> Vec<String> {
    let mut out = vec![min.to_string(), max.to_string()];
    for n in [0i128, 1, -1, 42, -42] {
        if n >= min && (n < 0 || n as u128 <= max) {
            out.push(n.to_string());
        }
    }
    out
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f:e}")
    }
}

fn f32_edges(with_specials: bool) -> Vec<f32> {
    let mut v = vec![
        0.0f32,
        1.0,
        -1.5,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        f32::EPSILON,
        0.1,
        -0.1,
        16_777_217.0,
        f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        std::f32::consts::PI,
    ];
    if with_specials {
        v.extend([-0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
    }
    v
}

fn f64_edges(with_specials: bool) -> Vec<f64> {
    let mut v = vec![
        0.0f64,
        1.0,
        -1.5,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::EPSILON,
        0.1,
        -0.1,
        9_007_199_254_740_993.0,
        std::f64::consts::PI,
        1e300,
    ];
    if with_specials {
        v.extend([-0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
    }
    v
}

fn reals(db: Db) -> Vec<String> {
    // MySQL and MariaDB have no -0, NaN or infinities.
    f32_edges(db == Db::Postgres)
        .into_iter()
        .map(|f| match db {
            Db::Postgres => format!("'{}'::real", float_text(f64::from(f))),
            // The float widened to its exact double: MariaDB rounds the
            // double to the float it came from.
            Db::Maria => float_text(f64::from(f)),
        })
        .collect()
}

fn doubles(db: Db) -> Vec<String> {
    f64_edges(db == Db::Postgres)
        .into_iter()
        .map(|f| match db {
            Db::Postgres => format!("'{}'::float8", float_text(f)),
            Db::Maria => float_text(f),
        })
        .collect()
}

fn decimal_text(negative: bool, int_digits: &str, frac_digits: &str) -> String {
    let int = int_digits.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if negative { "-" } else { "" };
    if frac_digits.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac_digits}")
    }
}

/// The edge values of `decimal(p, s)`, 0 <= s <= p: both ends, zero, the
/// smallest steps, one, and a number of every length of integer digits.
fn decimals(precision: u32, scale: u32, unsigned: bool) -> Vec<String> {
    let int_digits = (precision - scale) as usize;
    let scale = scale as usize;
    let nines_frac = "9".repeat(scale);
    let smallest = if scale > 0 {
        format!("{}1", "0".repeat(scale - 1))
    } else {
        String::new()
    };
    let zero_frac = "0".repeat(scale);
    let mut out = vec![
        decimal_text(false, &"9".repeat(int_digits), &nines_frac),
        decimal_text(false, "0", &zero_frac),
    ];
    if !unsigned {
        out.push(decimal_text(true, &"9".repeat(int_digits), &nines_frac));
    }
    if scale > 0 {
        out.push(decimal_text(false, "0", &smallest));
        if !unsigned {
            out.push(decimal_text(true, "0", &smallest));
        }
        // Every digit of the fraction different.
        let digits: String = "1234567890".chars().cycle().take(scale).collect();
        out.push(decimal_text(false, "0", &digits));
    }
    for len in 1..=int_digits {
        let digits: String = "9876543210".chars().cycle().take(len).collect();
        out.push(decimal_text(!unsigned && len % 2 == 0, &digits, &zero_frac));
    }
    out
}

/// Strings that find quoting, encoding and length bugs.
const STRINGS: &[&str] = &[
    "",
    " ",
    "plain ascii",
    "quote ' double \" backtick ` backslash \\ percent % underscore _",
    "tab\there, newline\nand cr\r",
    "é vs e\u{301} (combining), Å vs A\u{30a}",
    "中文 名称 日本語 한국어 Ελληνικά Кириллица עברית العربية",
    "emoji 😀🎉👩‍👩‍👧‍👦 and plane 1 𝄞 plane 2 𠜎 plane 15 \u{F0000}",
    "zero width\u{200b}joiner\u{200d} bom \u{feff} rtl \u{202e}",
    "NULL",
    "null",
    "\\N",
    "trailing spaces   ",
    "-- comment /* not */ ; DROP TABLE x;",
    "${jndi:ldap://x} {{template}} :name ?",
];

/// Every scalar value of the BMP except NUL and the surrogates, in one string.
fn every_bmp_character() -> String {
    (1u32..0xFFFF).filter_map(char::from_u32).collect()
}

/// The strings that fit `max_chars` characters and `max_bytes` bytes, as
/// SQL expressions, plus ones of exactly the limit.
fn strings(db: Db, max_chars: usize, max_bytes: usize) -> Vec<String> {
    let fits = |s: &str| s.chars().count() <= max_chars && s.len() <= max_bytes;
    let mut out: Vec<String> = STRINGS
        .iter()
        .filter(|s| fits(s))
        .map(|s| text(db, s))
        .collect();
    let chars = max_chars.min(max_bytes);
    out.push(text(db, &"z".repeat(chars)));
    let four_byte = "😀".repeat(max_chars.min(max_bytes / 4));
    if !four_byte.is_empty() {
        out.push(text(db, &four_byte));
    }
    out
}

/// Long texts: every BMP character, and 200,000 characters.
fn long_strings(db: Db) -> Vec<String> {
    vec![
        text(db, &every_bmp_character()),
        text(db, &"long text ".repeat(20_000)),
    ]
}

fn byte_values(db: Db, max: usize) -> Vec<String> {
    let all: Vec<u8> = (0..=255u8).collect();
    let big: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let values: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0],
        vec![0xff],
        b"\\x00 'quoted' \"double\"".to_vec(),
        all[..all.len().min(max)].to_vec(),
        vec![0xff; max.min(1000)],
        vec![0; max.min(1000)],
        big,
    ];
    values
        .iter()
        .filter(|v| v.len() <= max)
        .map(|v| bytes(db, v))
        .collect()
}

/// Fractions of a second of 0 to `p` digits: `.1`, `.12`, ..., `.9`,
/// `.99`, ..., and the smallest step, `.0…01`.
fn fractions(p: u32) -> Vec<String> {
    let p = p as usize;
    let mut out = vec![String::new()];
    for d in 1..=p {
        out.push(format!(".{}", &"123456"[..d]));
        out.push(format!(".{}", "9".repeat(d)));
    }
    if p > 0 {
        out.push(format!(".{}1", "0".repeat(p - 1)));
        out.push(format!(".{}", "0".repeat(p)));
    }
    out
}

/// The largest fraction of precision `p`: `.999…` (none for 0).
fn nines(p: u32) -> String {
    if p == 0 {
        String::new()
    } else {
        format!(".{}", "9".repeat(p as usize))
    }
}

/// Times of day with fractions of every length up to `p`.
fn times(db: Db, p: u32) -> Vec<String> {
    let mut out: Vec<String> = vec![
        "00:00:00".to_owned(),
        format!("23:59:59{}", nines(p)),
        "12:00:00".to_owned(),
    ];
    out.extend(fractions(p).iter().map(|f| format!("12:34:56{f}")));
    out.iter().map(|t| lit(db, t)).collect()
}

/// Dates both databases hold: the calendar's ends, the Gregorian switch,
/// leap days, the epoch.
const DATES: &[&str] = &[
    "0001-01-01",
    "0999-12-31",
    "1000-01-01",
    "1582-10-04",
    "1582-10-10",
    "1582-10-15",
    "1899-12-31",
    "1900-02-28",
    "1969-12-31",
    "1970-01-01",
    "2000-02-29",
    "2024-02-29",
    "2038-01-19",
    "9999-12-31",
];

/// Date-times of precision `p`: the ends of the range, the switch, DST
/// changes, and a fraction of every length up to `p`.
fn date_times(p: u32) -> Vec<String> {
    let n = nines(p);
    let mut out = vec![
        "0001-01-01 00:00:00".to_owned(),
        format!("0001-01-01 00:00:00{}", fractions(p).last().unwrap()),
        format!("1582-10-10 12:00:00{n}"),
        format!("1969-12-31 23:59:59{n}"),
        "1970-01-01 00:00:00".to_owned(),
        "2024-03-10 02:30:00".to_owned(),
        format!("2024-11-03 01:30:00{n}"),
        format!("9999-12-31 23:59:59{n}"),
    ];
    out.extend(
        fractions(p)
            .iter()
            .map(|f| format!("2024-02-29 12:34:56{f}")),
    );
    out
}

/// Instants of precision `p` with offsets of both signs, in DST gaps and
/// overlaps, within 0001-01-01 and 9999-12-31 in UTC.
fn instants(p: u32) -> Vec<String> {
    let n = nines(p);
    let mut out = vec![
        "0001-01-01 00:00:00+00".to_owned(),
        format!("1969-12-31 23:59:59{n}+00"),
        "1970-01-01 00:00:00+00".to_owned(),
        format!("2024-03-10 01:59:59{n}-05"),
        "2024-03-10 03:00:00-04".to_owned(),
        "2024-03-31 02:30:00+05:45".to_owned(),
        "2024-10-27 01:00:00-09:30".to_owned(),
        "2000-01-01 00:00:00+14".to_owned(),
        "2000-01-01 00:00:00-12".to_owned(),
        format!("9999-12-31 23:59:59{n}+00"),
    ];
    out.extend(
        fractions(p)
            .iter()
            .map(|f| format!("2024-11-03 01:30:00{f}-04")),
    );
    out
}

// --- PostgreSQL -----------------------------------------------------------------------------

/// PostgreSQL's own first day, 4714-11-24 BC. Its JDBC driver writes every
/// java.time value before 4713-01-01 BC as `-infinity`; sluice's dialect
/// sends those as PostgreSQL's own text instead.
const PG_FIRST_DAY: &str = "4714-11-24";

/// Dates before year 1 and after 9999, which PostgreSQL holds: the first
/// day that arrives exactly, the last day before year 1, the first after
/// 9999, and PostgreSQL's last day.
fn pg_far_dates() -> Vec<String> {
    vec![
        format!("{PG_FIRST_DAY} BC"),
        "0001-12-31 BC".to_owned(),
        "10000-01-01".to_owned(),
        "5874897-12-31".to_owned(),
    ]
}

/// Date-times, and the ends of PostgreSQL's range, before year 1 and after 9999.
fn pg_date_times(p: u32) -> Vec<String> {
    let mut out = date_times(p);
    out.extend([
        format!("{PG_FIRST_DAY} 00:00:00 BC"),
        format!("0001-12-31 23:59:59{} BC", nines(p)),
        "10000-01-01 00:00:00".to_owned(),
        format!("294276-12-31 23:59:59{}", nines(p)),
    ]);
    out
}

fn pg_instants(p: u32) -> Vec<String> {
    let mut out = instants(p);
    out.extend([
        format!("{PG_FIRST_DAY} 00:00:00+00 BC"),
        format!("0001-12-31 23:59:59{}-05 BC", nines(p)),
        "10000-01-01 00:00:00+00".to_owned(),
        format!("294276-12-31 23:59:59{}+00", nines(p)),
    ]);
    out
}

/// Every supported row of the README's PostgreSQL table, with the types
/// the schema `q` (quoted) defines.
fn postgres_columns(q: &str) -> Vec<Col> {
    let pg = Db::Postgres;
    let l = |v: &[&str]| lits(pg, v);
    let mut c = vec![
        col(ID, "bigint", "BIGINT", vec!["0".into()]).not_null(),
        col(
            "select",
            "integer",
            "INT",
            integers(i32::MIN.into(), i32::MAX as u128),
        )
        .not_null(),
        col("a b", "boolean", "BOOLEAN", l(&["true", "false"])),
        col(
            "名称",
            "smallint",
            "SMALLINT",
            integers(i16::MIN.into(), i16::MAX as u128),
        ),
        col(
            "bigint",
            "bigint",
            "BIGINT",
            integers(i64::MIN.into(), i64::MAX as u128),
        ),
        col(
            "small serial",
            "smallserial",
            "SMALLINT",
            integers(i16::MIN.into(), i16::MAX as u128),
        )
        .not_null(),
        col(
            "serial",
            "serial",
            "INT",
            integers(i32::MIN.into(), i32::MAX as u128),
        )
        .not_null(),
        col(
            "Big Serial",
            "bigserial",
            "BIGINT",
            integers(i64::MIN.into(), i64::MAX as u128),
        )
        .not_null(),
        col(
            "oid",
            "oid",
            "BIGINT",
            numbers(&[0u64, 1, 2_147_483_648, 4_294_967_295]),
        ),
        col("real", "real", "FLOAT", reals(pg)),
        col(
            "double precision",
            "double precision",
            "DOUBLE",
            doubles(pg),
        ),
        col(
            "numeric 12 2",
            "numeric(12,2)",
            "DECIMAL(12, 2)",
            decimals(12, 2, false),
        ),
        col(
            "numeric 1 0",
            "numeric(1,0)",
            "DECIMAL(1, 0)",
            decimals(1, 0, false),
        ),
        col(
            "decimal 9 4",
            "decimal(9,4)",
            "DECIMAL(9, 4)",
            decimals(9, 4, false),
        ),
        col(
            "numeric 2 -3",
            "numeric(2,-3)",
            "DECIMAL(5, 0)",
            numbers(&[99_000, -99_000, 0, 1_000, -12_000]),
        ),
        col(
            "numeric 3 5",
            "numeric(3,5)",
            "DECIMAL(5, 5)",
            l(&["0.00999", "-0.00999", "0.00000", "0.00001", "0.00123"]),
        ),
    ];
    for scale in [0, 1, 10, 19, 37, 38] {
        c.push(col(
            &format!("numeric 38 {scale}"),
            &format!("numeric(38,{scale})"),
            &format!("DECIMAL(38, {scale})"),
            decimals(38, scale, false),
        ));
    }
    let mut unconstrained = l(&[
        "0",
        "-1.000",
        "123.4500",
        "NaN",
        "Infinity",
        "-Infinity",
        "0.000000000000000000000000000000000000000000001",
        "-99999999999999999999999999999999999999.99999999999999999999",
    ]);
    unconstrained.push(lit(pg, &format!("1{}", "0".repeat(1000))));
    unconstrained.push(lit(pg, &format!("-0.{}1", "0".repeat(16_382))));
    c.push(col("numeric", "numeric", "STRING", unconstrained));
    c.extend([
        col(
            "character 10",
            "character(10)",
            "CHAR(10)",
            vec![
                text(pg, ""),
                text(pg, "a"),
                text(pg, &"x".repeat(10)),
                text(pg, &"名".repeat(10)),
                text(pg, "ab  "),
                text(pg, "😀 é\t\n"),
            ],
        ),
        col(
            "char",
            "char",
            "CHAR(1)",
            vec![text(pg, ""), text(pg, "a"), text(pg, "😀"), text(pg, " ")],
        ),
        col("bpchar", "bpchar", "STRING", strings(pg, 100, 1000)),
        col(
            "quo\"te",
            "\"char\"",
            "STRING",
            l(&["a", "", "\\200", "\\377", "\\001", "\"", "\\\\"]),
        ),
        col(
            "varchar 40",
            "varchar(40)",
            "VARCHAR(40)",
            strings(pg, 40, usize::MAX),
        ),
        col(
            "character varying",
            "character varying",
            "STRING",
            strings(pg, 1000, usize::MAX),
        ),
        col("文本 text", "text", "STRING", {
            let mut v = strings(pg, 1000, usize::MAX);
            v.extend(long_strings(pg));
            v
        }),
        col("name", "name", "STRING", strings(pg, 63, 63)),
        col("bytea", "bytea", "BYTES", byte_values(pg, usize::MAX)),
        col("date", "date", "DATE", {
            let mut v = l(DATES);
            v.extend(pg_far_dates().iter().map(|d| lit(pg, d)));
            v
        }),
    ]);
    for p in 0..=6 {
        let flink = if p <= 3 {
            format!("TIME({p})")
        } else {
            "STRING".into()
        };
        let mut values = times(pg, p);
        if p > 3 {
            // Text carries what TIME could not: the end of the day.
            values.push(lit(pg, "24:00:00"));
        }
        c.push(col(
            &format!("time{p}"),
            &format!("time({p})"),
            &flink,
            values,
        ));
    }
    c.extend([
        col("time", "time", "STRING", {
            let mut v = times(pg, 6);
            v.push(lit(pg, "24:00:00"));
            v
        }),
        col(
            "timetz 3",
            "timetz(3)",
            "STRING",
            l(&[
                "12:00:00.5+02",
                "00:00:00-15:59",
                "24:00:00+15:59",
                "23:59:59.999+00",
                "01:02:03.004-05:30",
            ]),
        ),
        col(
            "time with time zone",
            "time with time zone",
            "STRING",
            l(&[
                "12:00:00.5+02",
                "00:00:00.000001-15:59",
                "24:00:00+15:59",
                "13:14:15.123456+00",
            ]),
        ),
    ]);
    for p in 0..=6 {
        c.push(col(
            &format!("ts{p}"),
            &format!("timestamp({p})"),
            &format!("TIMESTAMP({p})"),
            pg_date_times(p).iter().map(|t| lit(pg, t)).collect(),
        ));
    }
    c.push(col(
        "timestamp",
        "timestamp",
        "TIMESTAMP(6)",
        pg_date_times(6).iter().map(|t| lit(pg, t)).collect(),
    ));
    for p in 0..=6 {
        c.push(col(
            &format!("at zone {p}"),
            &format!("timestamptz({p})"),
            &format!("TIMESTAMP_LTZ({p})"),
            pg_instants(p).iter().map(|t| lit(pg, t)).collect(),
        ));
    }
    c.push(col(
        "timestamptz",
        "timestamp with time zone",
        "TIMESTAMP_LTZ(6)",
        pg_instants(6).iter().map(|t| lit(pg, t)).collect(),
    ));
    c.extend([
        col(
            "interval",
            "interval",
            "STRING",
            l(&[
                "0",
                "1 year 2 mons 3 days 04:05:06.789012",
                "-1 day +00:00:01",
                "178000000 years",
                "-178000000 years",
                "00:00:00.000001",
                "1 day -00:00:00.000001",
                "-2147483648 days -2562047788:00:54.775807",
                "2147483647 days 2562047788:00:54.775807",
            ]),
        ),
        col(
            "interval ds",
            "interval day to second(3)",
            "STRING",
            l(&["0", "1 day 00:00:00.001", "-3 days -04:05:06.789"]),
        ),
        col(
            "interval ym",
            "interval year to month",
            "STRING",
            l(&["0", "1-2", "-178000000-0"]),
        ),
        col(
            "json",
            "json",
            "STRING",
            l(&[
                "{}",
                "[]",
                " { \"b\" : 1 ,\n \"a\" : [1, 2.50] } ",
                "{\"a\":1,\"a\":2}",
                "\"名 😀 \\u00e9 \\u0000\"",
                "1e1000",
                "null",
                "[-0, 1.000]",
            ]),
        ),
        col(
            "jsonb",
            "jsonb",
            "STRING",
            l(&[
                "{\"b\": 1, \"a\": [true, null]}",
                "1.50",
                "\"😀\"",
                "[]",
                "{\"a\": {\"b\": {\"c\": []}}}",
                "-0",
            ]),
        ),
        col(
            "uuid",
            "uuid",
            "STRING",
            l(&[
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "123e4567-e89b-12d3-a456-426614174000",
            ]),
        ),
        col(
            "xml",
            "xml",
            "STRING",
            l(&[
                "<a b=\"1\">x &amp; y</a>",
                "plain text",
                "",
                "<r><![CDATA[<&>]]></r>",
                "<a/><b>名</b>",
            ]),
        ),
        col(
            "inet",
            "inet",
            "STRING",
            l(&[
                "192.168.0.1/24",
                "10.0.0.1",
                "::1",
                "2001:db8::ff/64",
                "0.0.0.0/0",
            ]),
        ),
        col(
            "cidr",
            "cidr",
            "STRING",
            l(&["192.168.0.0/24", "::/0", "10.0.0.0/8", "2001:db8::/32"]),
        ),
        col(
            "macaddr",
            "macaddr",
            "STRING",
            l(&[
                "08:00:2b:01:02:03",
                "ff:ff:ff:ff:ff:ff",
                "00:00:00:00:00:00",
            ]),
        ),
        col(
            "macaddr8",
            "macaddr8",
            "STRING",
            l(&["08:00:2b:01:02:03:04:05", "ff:ff:ff:ff:ff:ff:ff:ff"]),
        ),
        col("bit1", "bit(1)", "STRING", l(&["0", "1"])),
        col(
            "bit8",
            "bit(8)",
            "STRING",
            l(&["00000000", "10101010", "11111111"]),
        ),
        col(
            "varbit 16",
            "varbit(16)",
            "STRING",
            l(&["", "1", "1010101010101010"]),
        ),
        col(
            "varbit",
            "bit varying",
            "STRING",
            vec![lit(pg, ""), lit(pg, "0"), lit(pg, &"10".repeat(500))],
        ),
        col(
            "point",
            "point",
            "STRING",
            l(&[
                "(0,0)",
                "(0.1,-0)",
                "(1e-300,1.7976931348623157e+308)",
                "(-1.5,NaN)",
                "(-Infinity,Infinity)",
            ]),
        ),
        col("line", "line", "STRING", l(&["{1,-1,0}", "{0.1,2,-3}"])),
        col(
            "lseg",
            "lseg",
            "STRING",
            l(&["[(0,0),(1,1)]", "[(0.1,0.2),(-0.3,5e-324)]"]),
        ),
        col(
            "box",
            "box",
            "STRING",
            l(&["(1,1),(0,0)", "(0.1,0.2),(-0.3,-0.4)"]),
        ),
        col(
            "path",
            "path",
            "STRING",
            l(&["[(0,0),(1,1),(2,0)]", "((0,0),(1,1),(2,0.1))"]),
        ),
        col(
            "polygon",
            "polygon",
            "STRING",
            l(&["((0,0),(1,1),(2,0))", "((0.1,0.2))"]),
        ),
        col(
            "circle",
            "circle",
            "STRING",
            l(&["<(0,0),1>", "<(0.1,0.2),0.3>"]),
        ),
        col(
            "tsvector",
            "tsvector",
            "STRING",
            l(&["a fat cat sat on a mat", "'quoted ''word''':1A,2B 名:3", ""]),
        ),
        col(
            "tsquery",
            "tsquery",
            "STRING",
            l(&["fat & (rat | cat)", "!a <-> b:*", "'名' <2> x:AB"]),
        ),
        col(
            "pg_lsn",
            "pg_lsn",
            "STRING",
            l(&["0/0", "FFFFFFFF/FFFFFFFF", "16/B374D848"]),
        ),
        col(
            "int4range",
            "int4range",
            "STRING",
            l(&["[1,5)", "empty", "(,)", "[-2147483648,2147483647)"]),
        ),
        col(
            "int8range",
            "int8range",
            "STRING",
            l(&["[-9223372036854775808,9223372036854775807)", "empty"]),
        ),
        col(
            "numrange",
            "numrange",
            "STRING",
            l(&["[1.50,2.25]", "(,0)"]),
        ),
        col(
            "daterange",
            "daterange",
            "STRING",
            l(&["[2024-01-01,2024-12-31)", "[0001-01-01,infinity)"]),
        ),
        col(
            "tsrange",
            "tsrange",
            "STRING",
            l(&["[\"2024-01-01 00:00:00.000001\",infinity)", "empty"]),
        ),
        col(
            "tstzrange",
            "tstzrange",
            "STRING",
            l(&["[\"2024-01-01 00:00:00.5+02\",\"2024-01-02 00:00:00-05\")"]),
        ),
        col(
            "tstzmultirange",
            "tstzmultirange",
            "STRING",
            l(&[
                "{[2024-01-01 00:00:00+02,2024-01-02 00:00:00-05)}",
                "{}",
                "{[2024-01-01 00:00:00+00,2024-01-02 00:00:00+00),[2024-02-01 00:00:00+00,)}",
            ]),
        ),
        col(
            "int4multirange",
            "int4multirange",
            "STRING",
            l(&["{[1,3),[5,7)}", "{}"]),
        ),
        col(
            "int[]",
            "integer[]",
            "STRING",
            l(&["{}", "{1,NULL,-2147483648}", "[0:1]={7,8}", "{{1,2},{3,4}}"]),
        ),
        col(
            "text[][]",
            "text[][]",
            "STRING",
            l(&[
                "{\"a b\",\"\\\"q\\\"\",\"NULL\",NULL,\"\",\"back\\\\slash\"}",
                "{{x,y},{名,😀}}",
                "{}",
            ]),
        ),
        col(
            "numeric[]",
            "numeric[]",
            "STRING",
            l(&["{1.50,NaN,-0.001}", "{}"]),
        ),
        col(
            "timestamptz[]",
            "timestamptz[]",
            "STRING",
            l(&["{\"2024-01-01 00:00:00.5+02\",NULL}"]),
        ),
        col(
            "bytea[]",
            "bytea[]",
            "STRING",
            l(&["{\"\\\\x00ff\",\"\\\\x\"}"]),
        ),
        col("boolean[]", "boolean[]", "STRING", l(&["{t,f,NULL}"])),
        col(
            "mood",
            &format!("{q}.mood"),
            "STRING",
            l(&["sad", "ok", "happy 😀"]),
        ),
        col(
            "pair",
            &format!("{q}.pair"),
            "STRING",
            l(&["(1,\"a b\")", "(,)", "(-1,\"\")", "(2,\"q\"\"uote, ()\")"]),
        ),
        col(
            "amount",
            &format!("{q}.amount"),
            "DECIMAL(10, 2)",
            l(&["99999999.99", "-0.01", "0.00", "-99999999.99"]),
        )
        .not_null(),
        col(
            "price",
            &format!("{q}.price"),
            "DECIMAL(10, 2)",
            l(&["12.50", "-99999999.99"]),
        )
        .not_null(),
        col(
            "code",
            &format!("{q}.code"),
            "VARCHAR(20)",
            strings(pg, 20, usize::MAX),
        ),
        col(
            "citext",
            "citext",
            "STRING",
            l(&["MiXeD Case", "", "ß 名 😀"]),
        ),
        col(
            "hstore",
            "hstore",
            "STRING",
            l(&[
                "\"a\"=>\"1\", \"b\"=>NULL",
                "",
                "\"名\"=>\"😀\", \"q\\\"\"=>\"\\\\\"",
            ]),
        ),
    ]);
    c
}

// --- MariaDB --------------------------------------------------------------------------------

/// Every supported row of the README's MySQL/MariaDB table.
fn mariadb_columns() -> Vec<Col> {
    let my = Db::Maria;
    let l = |v: &[&str]| lits(my, v);
    let ints = integers;
    let mut c = vec![
        col(ID, "bigint", "BIGINT", vec!["0".into()]).not_null(),
        col(
            "select",
            "int",
            "INT",
            ints(i32::MIN.into(), i32::MAX as u128),
        )
        .not_null(),
        col("a b", "tinyint", "TINYINT", ints(-128, 127)),
        col("名称", "boolean", "TINYINT", ints(-128, 127)),
        col("back`tick", "tinyint unsigned", "SMALLINT", ints(0, 255)),
        col(
            "quo\"te",
            "smallint",
            "SMALLINT",
            ints(i16::MIN.into(), i16::MAX as u128),
        ),
        col("smallint u", "smallint unsigned", "INT", ints(0, 65_535)),
        col("mediumint", "mediumint", "INT", ints(-8_388_608, 8_388_607)),
        col(
            "mediumint u",
            "mediumint unsigned",
            "INT",
            ints(0, 16_777_215),
        ),
        col("int u", "int unsigned", "BIGINT", ints(0, u32::MAX.into())),
        col(
            "int zerofill",
            "int zerofill",
            "BIGINT",
            ints(0, u32::MAX.into()),
        ),
        col(
            "bigint",
            "bigint",
            "BIGINT",
            ints(i64::MIN.into(), i64::MAX as u128),
        ),
        col(
            "bigint u",
            "bigint unsigned",
            "DECIMAL(20, 0)",
            ints(0, u64::MAX.into()),
        ),
        col(
            "decimal",
            "decimal",
            "DECIMAL(10, 0)",
            decimals(10, 0, false),
        ),
        col(
            "decimal 12 2",
            "decimal(12,2)",
            "DECIMAL(12, 2)",
            decimals(12, 2, false),
        ),
        col(
            "decimal 1 0",
            "decimal(1,0)",
            "DECIMAL(1, 0)",
            decimals(1, 0, false),
        ),
        col(
            "numeric 9 4",
            "numeric(9,4)",
            "DECIMAL(9, 4)",
            decimals(9, 4, false),
        ),
        col(
            "decimal 5 5",
            "decimal(5,5)",
            "DECIMAL(5, 5)",
            decimals(5, 5, false),
        ),
        col(
            "decimal u",
            "decimal(10,0) unsigned",
            "DECIMAL(10, 0)",
            decimals(10, 0, true),
        ),
    ];
    for scale in [0, 1, 10, 19, 30, 37, 38] {
        c.push(col(
            &format!("decimal 38 {scale}"),
            &format!("decimal(38,{scale})"),
            &format!("DECIMAL(38, {scale})"),
            decimals(38, scale, false),
        ));
    }
    c.extend([
        col("float", "float", "FLOAT", reals(my)).render(Render::Float),
        col("double", "double", "DOUBLE", doubles(my)).render(Render::Float),
        col("real", "real", "DOUBLE", doubles(my)).render(Render::Float),
        col(
            "bit1",
            "bit(1)",
            "BOOLEAN",
            vec!["b'0'".into(), "b'1'".into()],
        )
        .render(Render::Bits),
        col(
            "bit10",
            "bit(10)",
            "BYTES",
            vec![
                "b'0'".into(),
                "b'1'".into(),
                "b'1111111111'".into(),
                "b'1000000001'".into(),
                "b'0100000000'".into(),
            ],
        )
        .render(Render::Bits),
        col(
            "bit64",
            "bit(64)",
            "BYTES",
            vec![
                "b'0'".into(),
                format!("b'1{}'", "0".repeat(63)),
                format!("b'{}'", "1".repeat(64)),
                "b'10000000'".into(),
            ],
        )
        .render(Render::Bits),
        col(
            "char",
            "char(10)",
            "CHAR(10)",
            vec![
                text(my, ""),
                text(my, "a"),
                text(my, &"x".repeat(10)),
                text(my, &"名".repeat(10)),
                text(my, "ab  "),
                text(my, "😀 é\t\n"),
            ],
        )
        .render(Render::Hex),
        col("char0", "char(0)", "STRING", vec![text(my, "")]).render(Render::Hex),
        col("varchar 40", "varchar(40)", "VARCHAR(40)", {
            let mut v = strings(my, 40, usize::MAX);
            v.push(text(my, "nul \0 inside"));
            v
        })
        .render(Render::Hex),
        col("tinytext", "tinytext", "STRING", strings(my, 255, 255)).render(Render::Hex),
        col("文本 text", "text", "STRING", {
            let mut v = strings(my, 1000, 65_535);
            v.push(text(my, &"long text ".repeat(6_553)));
            v.push(text(my, "\0"));
            v
        })
        .render(Render::Hex),
        col("mediumtext", "mediumtext", "STRING", {
            let mut v = strings(my, 1000, usize::MAX);
            v.extend(long_strings(my));
            v
        })
        .render(Render::Hex),
        col("longtext", "longtext", "STRING", {
            let mut v = strings(my, 1000, usize::MAX);
            v.extend(long_strings(my));
            v
        })
        .render(Render::Hex),
        col(
            "json",
            "json",
            "STRING",
            l(&[
                "{}",
                "[]",
                " { \"b\" : 1 ,\n \"a\" : [1, 2.50] } ",
                "{\"a\":1,\"a\":2}",
                "\"名 😀 \\u00e9\"",
                "1e308",
                "null",
                "[-0, 1.000]",
            ]),
        )
        .render(Render::Hex),
        col(
            "enum",
            "enum('a','b c','名 😀','')",
            "STRING",
            vec![
                text(my, "a"),
                text(my, "b c"),
                text(my, "名 😀"),
                text(my, ""),
            ],
        )
        .render(Render::Hex),
        col(
            "set",
            "set('x','y z','名')",
            "STRING",
            vec![
                text(my, ""),
                text(my, "x"),
                text(my, "x,y z,名"),
                text(my, "名"),
            ],
        )
        .render(Render::Hex),
        col(
            "uuid",
            "uuid",
            "STRING",
            l(&[
                "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff",
                "123e4567-e89b-12d3-a456-426614174000",
            ]),
        ),
        col(
            "inet4",
            "inet4",
            "STRING",
            l(&["0.0.0.0", "255.255.255.255", "192.168.1.1"]),
        ),
        col(
            "inet6",
            "inet6",
            "STRING",
            l(&[
                "::",
                "::1",
                "::ffff:1.2.3.4",
                "2001:db8::ff00:42:8329",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ]),
        ),
        col("binary16", "binary(16)", "BYTES", byte_values(my, 16)).render(Render::Hex),
        col("varbinary", "varbinary(255)", "BYTES", byte_values(my, 255)).render(Render::Hex),
        col("tinyblob", "tinyblob", "BYTES", byte_values(my, 255)).render(Render::Hex),
        col("blob", "blob", "BYTES", byte_values(my, 65_535)).render(Render::Hex),
        col(
            "mediumblob",
            "mediumblob",
            "BYTES",
            byte_values(my, 1 << 20),
        )
        .render(Render::Hex),
        col("longblob", "longblob", "BYTES", byte_values(my, 1 << 20)).render(Render::Hex),
        col("date", "date", "DATE", l(DATES)),
    ]);
    for p in 0..=6 {
        c.push(col(
            &format!("datetime{p}"),
            &format!("datetime({p})"),
            &format!("TIMESTAMP({p})"),
            date_times(p).iter().map(|t| lit(my, t)).collect(),
        ));
    }
    c.push(col(
        "datetime",
        "datetime",
        "TIMESTAMP(0)",
        date_times(0).iter().map(|t| lit(my, t)).collect(),
    ));
    for p in 0..=6 {
        let flink = if p <= 3 {
            format!("TIME({p})")
        } else {
            "STRING".into()
        };
        c.push(col(
            &format!("time{p}"),
            &format!("time({p})"),
            &flink,
            times(my, p),
        ));
    }
    c.push(col("time", "time", "TIME(0)", times(my, 0)));
    c.push(col(
        "year",
        "year",
        "SMALLINT",
        numbers(&[1901, 2155, 0, 2024, 1970]),
    ));
    c
}

// --- tables ---------------------------------------------------------------------------------

fn quote(db: Db, name: &str) -> String {
    match db {
        Db::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        Db::Maria => format!("`{}`", name.replace('`', "``")),
    }
}

/// A table: its name in SQL (qualified, quoted) and as a job's `object`.
struct Table {
    db: Db,
    sql: String,
    object: String,
}

impl Table {
    fn new(db: Db, schema: &str, name: &str) -> Self {
        let object_part = |p: &str| format!("\"{}\"", p.replace('"', "\"\""));
        Table {
            db,
            sql: format!("{}.{}", quote(db, schema), quote(db, name)),
            object: match db {
                Db::Postgres => format!("{}.{}", object_part(schema), object_part(name)),
                // The source's database is the schema.
                Db::Maria => object_part(name),
            },
        }
    }
}

fn create_sql(t: &Table, columns: &[Col]) -> String {
    let mut defs: Vec<String> = columns
        .iter()
        .map(|c| {
            let null = if c.not_null { " NOT NULL" } else { "" };
            format!("{} {}{null}", quote(t.db, &c.name), c.ddl)
        })
        .collect();
    let key: Vec<String> = KEY.iter().map(|k| quote(t.db, k)).collect();
    defs.push(format!("PRIMARY KEY ({})", key.join(", ")));
    let tail = match t.db {
        Db::Postgres => "",
        Db::Maria => " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    };
    format!("CREATE TABLE {} ({}){tail};\n", t.sql, defs.join(",\n  "))
}

/// The rows: row `r` takes each column's value `r` (its list cycled), so
/// every value of every column appears; then a row of NULLs.
fn rows(columns: &[Col]) -> Vec<Vec<String>> {
    let n = columns.iter().map(|c| c.values.len()).max().unwrap();
    let mut out: Vec<Vec<String>> = (0..n)
        .map(|r| {
            columns
                .iter()
                .map(|c| {
                    if c.name == ID {
                        (r + 1).to_string()
                    } else {
                        c.values[r % c.values.len()].clone()
                    }
                })
                .collect()
        })
        .collect();
    out.push(
        columns
            .iter()
            .map(|c| match (c.name.as_str(), c.not_null) {
                (ID, _) => (n + 1).to_string(),
                (_, true) => c.values[0].clone(),
                (_, false) => "NULL".into(),
            })
            .collect(),
    );
    out
}

fn insert_sql(t: &Table, columns: &[Col], rows: &[Vec<String>]) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote(t.db, &c.name)).collect();
    rows.iter()
        .map(|row| {
            format!(
                "INSERT INTO {} ({}) VALUES ({});\n",
                t.sql,
                names.join(", "),
                row.join(", ")
            )
        })
        .collect()
}

fn run_sql(db: Db, sql: &str) -> String {
    match db {
        Db::Postgres => db::psql_script(sql),
        Db::Maria => db::mariadb_script(sql),
    }
}

// --- exact comparison -----------------------------------------------------------------------

/// Session settings that fix the text of every value: the shortest
/// round-trip form of floats, instants in UTC, ISO dates, hex bytea.
const PG_SESSION: &str = "SET extra_float_digits = 1; SET TimeZone = 'UTC'; \
     SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex';\n";

/// One value as exact text, NULL as the bare word NULL (a string is quoted).
fn render(db: Db, c: &Col) -> String {
    let q = quote(db, &c.name);
    match db {
        // The type's output function, which its input reads back, quoted
        // as a literal: nothing is cut (bpchar keeps its padding).
        Db::Postgres => format!("format('%L', {q})"),
        Db::Maria => {
            let exact = match c.render {
                Render::Text => format!("CAST({q} AS CHAR)"),
                Render::Float => format!("CAST(CAST({q} AS DOUBLE) AS CHAR)"),
                Render::Hex => format!("HEX({q})"),
                Render::Bits => format!("BIN({q} + 0)"),
            };
            format!("QUOTE({exact})")
        }
    }
}

/// The row count and an md5 over the sorted md5s of all rows, each row's
/// md5 taken over the exact texts of all its columns (an md5 a row keeps
/// the aggregate small: nothing in it can be cut by a length limit; a row
/// whose text MariaDB could not build, NULL, is not counted).
fn checksum_sql(t: &Table, columns: &[Col]) -> String {
    let parts: Vec<String> = columns.iter().map(|c| render(t.db, c)).collect();
    match t.db {
        // `||` rather than concat_ws: a function takes at most 100 arguments.
        Db::Postgres => format!(
            "SELECT count(h), md5(coalesce(string_agg(h, '' ORDER BY h), '')) \
             FROM (SELECT md5(convert_to({}, 'UTF8')) AS h FROM {}) s;\n",
            parts.join(" || ',' || "),
            t.sql
        ),
        Db::Maria => format!(
            "SELECT COUNT(h), MD5(COALESCE(GROUP_CONCAT(h ORDER BY h SEPARATOR ''), '')) \
             FROM (SELECT MD5(CONCAT_WS(',', {})) AS h FROM {}) s;\n",
            parts.join(", "),
            t.sql
        ),
    }
}

fn checksums(db: Db, tables: &[&Table], columns: &[Col]) -> Vec<(u64, String)> {
    let mut sql = match db {
        Db::Postgres => PG_SESSION.to_owned(),
        // 33 bytes a row.
        Db::Maria => "SET SESSION group_concat_max_len = 1048576;\n".to_owned(),
    };
    for t in tables {
        sql.push_str(&checksum_sql(t, columns));
    }
    let out = run_sql(db, &sql);
    let sums: Vec<(u64, String)> = out
        .lines()
        .filter_map(|line| {
            let (count, md5) = line.split_once('\t')?;
            Some((count.parse().ok()?, md5.to_owned()))
        })
        .collect();
    assert_eq!(sums.len(), tables.len(), "checksums: {out}");
    sums
}

/// Every row's exact texts, by id (for the report of a difference).
fn dump(t: &Table, columns: &[Col]) -> BTreeMap<String, Vec<String>> {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| match t.db {
            Db::Postgres => format!("encode(convert_to({}, 'UTF8'), 'hex')", render(t.db, c)),
            Db::Maria => format!("HEX({})", render(t.db, c)),
        })
        .collect();
    let mut sql = match t.db {
        Db::Postgres => PG_SESSION.to_owned(),
        Db::Maria => String::new(),
    };
    sql.push_str(&format!(
        "SELECT {}, {} FROM {};\n",
        quote(t.db, ID),
        fields.join(", "),
        t.sql
    ));
    run_sql(t.db, &sql)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let id = fields.next()?.to_owned();
            let values: Vec<String> = fields.map(unhex).collect();
            (values.len() == columns.len()).then_some((id, values))
        })
        .collect()
}

fn unhex(h: &str) -> String {
    let b: Vec<u8> = (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    String::from_utf8_lossy(&b).into_owned()
}

/// A value for the report: control characters escaped, long ones cut.
fn shorten(s: &str) -> String {
    let escaped = s.escape_debug().to_string();
    if escaped.chars().count() > 120 {
        let head: String = escaped.chars().take(120).collect();
        format!("{head}… ({} bytes)", s.len())
    } else {
        escaped
    }
}

/// The rows and columns where `target` differs from `source`.
fn differences(source: &Table, target: &Table, columns: &[Col]) -> String {
    let want = dump(source, columns);
    let got = dump(target, columns);
    let mut out = Vec::new();
    let mut per_column: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, w) in &want {
        let Some(g) = got.get(id) else {
            out.push(format!("row {id}: missing from the target"));
            continue;
        };
        for ((a, b), c) in w.iter().zip(g).zip(columns) {
            if a != b {
                *per_column.entry(&c.name).or_default() += 1;
                out.push(format!(
                    "row {id} column {:?} ({}, {}): source {} target {}",
                    c.name,
                    c.ddl,
                    c.flink,
                    shorten(a),
                    shorten(b)
                ));
            }
        }
    }
    for id in got.keys().filter(|id| !want.contains_key(*id)) {
        out.push(format!("row {id}: only in the target"));
    }
    format!(
        "{} differences, per column {per_column:?}:\n{}",
        out.len(),
        out[..out.len().min(60)].join("\n")
    )
}

// --- the test -------------------------------------------------------------------------------

/// The job's columns as stored, `(name, type)`.
fn stored_columns(job: &Value) -> Vec<(String, String)> {
    job["source"]["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("no source.columns: {job}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Creates the table and its twins, saves a job per write mode without
/// columns, checks what discovery stored, runs them, and compares the
/// twins with the source.
async fn every_type_is_discovered_and_synced_exactly(
    db: Db,
    schema: &str,
    source_id: &str,
    api: &Api,
    tenant: &str,
    columns: &[Col],
) {
    let started = Instant::now();
    let label = format!("{db:?}");
    // A reserved word, a space and unicode in every name.
    let source = Table::new(db, schema, "order 订单 src");
    let twins = [
        ("append", Table::new(db, schema, "order 订单 append")),
        ("upsert", Table::new(db, schema, "order 订单 upsert")),
    ];
    let data = rows(columns);
    let mut script = create_sql(&source, columns);
    script.push_str(&insert_sql(&source, columns, &data));
    for (_, twin) in &twins {
        script.push_str(&create_sql(twin, columns));
    }
    run_sql(db, &script);
    eprintln!(
        "{label}: {} columns x {} rows created in {:?}",
        columns.len(),
        data.len(),
        started.elapsed()
    );

    let expected: Vec<(String, String)> = columns
        .iter()
        .map(|c| (c.name.clone(), c.flink.clone()))
        .collect();
    let mut runs = Vec::new();
    for (mode, twin) in &twins {
        let body = json!({
            "name": format!("every type {label} {mode}"),
            "source": {"source_id": source_id, "object": source.object},
            "target": {"source_id": source_id, "object": twin.object, "write_mode": mode},
            "options": {"mode": "batch", "parallelism": 1}
        });
        let job_id = create_job(api, tenant, &body).await;
        let job = api.get(&format!("/jobs/{job_id}"), tenant).await.json();
        let stored = stored_columns(&job);
        let wrong: Vec<String> = expected
            .iter()
            .zip(&stored)
            .filter(|(e, s)| e != s)
            .map(|((name, want), (got_name, got))| {
                format!("{name}: expected {want}, discovered {got_name} {got}")
            })
            .collect();
        assert!(
            wrong.is_empty() && stored.len() == expected.len(),
            "{label} {mode}: {} columns discovered, {} expected; proposals that differ from \
             the README: {wrong:#?}",
            stored.len(),
            expected.len()
        );
        if *mode == "upsert" {
            assert_eq!(
                job["target"]["primary_key"],
                json!(KEY),
                "{label}: the upsert takes the table's key: {job}"
            );
        }
        let run = api
            .post(&format!("/jobs/{job_id}/runs"), tenant, &json!({}))
            .await;
        assert_eq!(run.status, 202, "{label} {mode}: {}", run.text);
        runs.push((*mode, twin, run.json()["id"].as_str().unwrap().to_owned()));
    }
    for (mode, _, run_id) in &runs {
        let run = wait_for_run_end(api, tenant, run_id, 300).await;
        // A write error that quotes a whole batch of wide rows can exceed
        // Flink's RPC frame, so the run only says the task is "no longer
        // running": the cause is then in the TaskManager's log.
        assert_eq!(
            run["state"], "succeeded",
            "{label} {mode}: {run:#} (see also $SLUICE_STATE/flink/log)"
        );
    }
    eprintln!("{label}: runs ended after {:?}", started.elapsed());

    let all: Vec<&Table> = std::iter::once(&source)
        .chain(twins.iter().map(|(_, t)| t))
        .collect();
    let sums = checksums(db, &all, columns);
    let (count, sum) = &sums[0];
    assert_eq!(*count as usize, data.len(), "{label}: rows in the source");
    let mut failures = Vec::new();
    for ((mode, twin), (n, s)) in twins.iter().zip(&sums[1..]) {
        if (n, s) != (count, sum) {
            failures.push(format!(
                "{label} {mode}: {n} rows, checksum {s}; the source: {count} rows, checksum \
                 {sum}; {}",
                differences(&source, twin, columns)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{label}: {} columns (a type each) x {} rows: {} values equal in {} twins, in {:?}",
        columns.len(),
        data.len(),
        columns.len() * data.len(),
        twins.len(),
        started.elapsed()
    );
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn postgres_every_type_is_discovered_and_synced_exactly() {
    let api = Api::new();
    let tenant = fresh_tenant("everytype-pg");
    let schema = format!("every type 名 {}", &tenant[tenant.len() - 8..]);
    let q = quote(Db::Postgres, &schema);
    // The schema's own types: an enum, a composite, domains (one over
    // another); citext and hstore are trusted extensions the database's
    // owner may create.
    db::psql_script(&format!(
        "CREATE EXTENSION IF NOT EXISTS citext; CREATE EXTENSION IF NOT EXISTS hstore;
         CREATE SCHEMA {q};
         CREATE TYPE {q}.mood AS ENUM ('sad', 'ok', 'happy 😀');
         CREATE TYPE {q}.pair AS (a integer, b text);
         CREATE DOMAIN {q}.amount AS numeric(10,2) NOT NULL;
         CREATE DOMAIN {q}.price AS {q}.amount;
         CREATE DOMAIN {q}.code AS varchar(20);"
    ));
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let columns = postgres_columns(&q);
    every_type_is_discovered_and_synced_exactly(
        Db::Postgres,
        &schema,
        &pg,
        &api,
        &tenant,
        &columns,
    )
    .await;
    db::psql(&format!("DROP SCHEMA {q} CASCADE"));
}

#[tokio::test]
#[ignore = "needs the local stack: run `make test`"]
async fn mariadb_every_type_is_discovered_and_synced_exactly() {
    let api = Api::new();
    let tenant = fresh_tenant("everytype-maria");
    // The `sluice` user may create databases named sluice_….
    let database = format!("sluice_every_type_{}", &tenant[tenant.len() - 8..]);
    let d = quote(Db::Maria, &database);
    db::mariadb(&format!(
        "CREATE DATABASE {d} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ));
    let mut source = db::mariadb_source();
    source["config"]["database"] = json!(database);
    let maria = api.register_source(&tenant, source).await;
    let columns = mariadb_columns();
    every_type_is_discovered_and_synced_exactly(
        Db::Maria,
        &database,
        &maria,
        &api,
        &tenant,
        &columns,
    )
    .await;
    db::mariadb(&format!("DROP DATABASE {d}"));
}

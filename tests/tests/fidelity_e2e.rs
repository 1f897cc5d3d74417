//! The type-fidelity matrix: for each kind pair, one wide table with a
//! column of every type of the type-mapping table (named like real schemas:
//! reserved words, unicode, spaces, quotes and backticks), filled with edge
//! rows and seeded random rows, synced by a real run on the local Flink
//! cluster, then compared value by value, order-independently. Every value
//! is read back in an exact form (integers and decimals as text, floats as
//! their bits, strings and bytes as hex, times to the microsecond), so no
//! difference hides behind a cast. Run with `make test`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Value, json};
use sluice_tests::{Api, create_job, db, fresh_tenant, wait_for_run_end};

/// Random rows per table, besides the edge rows.
const RANDOM_ROWS: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int {
        bits: u32,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    Real,
    Double,
    Bool,
    Char(usize),
    Varchar(usize),
    Text,
    Bytes,
    Date,
    Time,
    Timestamp(u32),
    /// An instant: PostgreSQL `timestamptz`, MariaDB `DATETIME(6)` in UTC.
    Instant,
    Json,
    Uuid,
}

struct Column {
    name: &'static str,
    kind: Kind,
}

/// The columns after the key; names as real schemas have them.
const NAMED_COLUMNS: &[Column] = &[
    Column {
        name: "order",
        kind: Kind::Int { bits: 8 },
    },
    Column {
        name: "select",
        kind: Kind::Int { bits: 16 },
    },
    Column {
        name: "名称",
        kind: Kind::Int { bits: 32 },
    },
    Column {
        name: "a b",
        kind: Kind::Int { bits: 64 },
    },
    Column {
        name: "Order-Id",
        kind: Kind::Decimal {
            precision: 38,
            scale: 0,
        },
    },
    Column {
        name: "Ünïcode",
        kind: Kind::Decimal {
            precision: 38,
            scale: 10,
        },
    },
    Column {
        name: "quo\"te",
        kind: Kind::Decimal {
            precision: 38,
            scale: 19,
        },
    },
    Column {
        name: "back`tick",
        kind: Kind::Decimal {
            precision: 38,
            scale: 38,
        },
    },
    Column {
        name: "dec_9_4",
        kind: Kind::Decimal {
            precision: 9,
            scale: 4,
        },
    },
    Column {
        name: "Real",
        kind: Kind::Real,
    },
    Column {
        name: "double precision",
        kind: Kind::Double,
    },
    Column {
        name: "is",
        kind: Kind::Bool,
    },
    Column {
        name: "char",
        kind: Kind::Char(10),
    },
    Column {
        name: "varchar 255",
        kind: Kind::Varchar(255),
    },
    Column {
        name: "文本 text",
        kind: Kind::Text,
    },
    Column {
        name: "bytes",
        kind: Kind::Bytes,
    },
    Column {
        name: "date",
        kind: Kind::Date,
    },
    Column {
        name: "time",
        kind: Kind::Time,
    },
    Column {
        name: "ts0",
        kind: Kind::Timestamp(0),
    },
    Column {
        name: "ts1",
        kind: Kind::Timestamp(1),
    },
    Column {
        name: "ts2",
        kind: Kind::Timestamp(2),
    },
    Column {
        name: "ts3",
        kind: Kind::Timestamp(3),
    },
    Column {
        name: "ts4",
        kind: Kind::Timestamp(4),
    },
    Column {
        name: "ts5",
        kind: Kind::Timestamp(5),
    },
    Column {
        name: "ts6",
        kind: Kind::Timestamp(6),
    },
    Column {
        name: "at zone",
        kind: Kind::Instant,
    },
    Column {
        name: "json",
        kind: Kind::Json,
    },
    Column {
        name: "uuid",
        kind: Kind::Uuid,
    },
    Column {
        name: "empty or null",
        kind: Kind::Varchar(20),
    },
];

/// The named columns, then a DECIMAL(38, s) column for every other scale.
static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    let named_scales: Vec<u32> = NAMED_COLUMNS
        .iter()
        .filter_map(|c| match c.kind {
            Kind::Decimal {
                precision: 38,
                scale,
            } => Some(scale),
            _ => None,
        })
        .collect();
    let mut out: Vec<Column> = NAMED_COLUMNS
        .iter()
        .map(|c| Column {
            name: c.name,
            kind: c.kind,
        })
        .collect();
    for scale in (0..=38).filter(|s| !named_scales.contains(s)) {
        out.push(Column {
            name: Box::leak(format!("decimal 38 {scale}").into_boxed_str()),
            kind: Kind::Decimal {
                precision: 38,
                scale,
            },
        });
    }
    out
});

const KEY: &str = "from";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Db {
    Postgres,
    Maria,
}

impl Kind {
    fn flink(self) -> String {
        match self {
            Kind::Int { bits: 8 } => "TINYINT".into(),
            Kind::Int { bits: 16 } => "SMALLINT".into(),
            Kind::Int { bits: 32 } => "INT".into(),
            Kind::Int { .. } => "BIGINT".into(),
            Kind::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            Kind::Real => "FLOAT".into(),
            Kind::Double => "DOUBLE".into(),
            Kind::Bool => "BOOLEAN".into(),
            Kind::Char(n) => format!("CHAR({n})"),
            Kind::Varchar(n) => format!("VARCHAR({n})"),
            Kind::Text | Kind::Json | Kind::Uuid => "STRING".into(),
            Kind::Bytes => "BYTES".into(),
            Kind::Date => "DATE".into(),
            Kind::Time => "TIME(3)".into(),
            Kind::Timestamp(p) => format!("TIMESTAMP({p})"),
            Kind::Instant => "TIMESTAMP_LTZ(6)".into(),
        }
    }

    fn native(self, db: Db) -> String {
        let pg = db == Db::Postgres;
        match self {
            Kind::Int { bits: 8 } => if pg { "smallint" } else { "tinyint" }.into(),
            Kind::Int { bits: 16 } => "smallint".into(),
            Kind::Int { bits: 32 } => "integer".into(),
            Kind::Int { .. } => "bigint".into(),
            Kind::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
            Kind::Real => if pg { "real" } else { "float" }.into(),
            Kind::Double => "double precision".into(),
            Kind::Bool => "boolean".into(),
            Kind::Char(n) => format!("char({n})"),
            Kind::Varchar(n) => format!("varchar({n})"),
            Kind::Text => if pg { "text" } else { "longtext" }.into(),
            Kind::Bytes => if pg { "bytea" } else { "longblob" }.into(),
            Kind::Date => "date".into(),
            Kind::Time => "time(3)".into(),
            Kind::Timestamp(p) => {
                if pg {
                    format!("timestamp({p})")
                } else {
                    format!("datetime({p})")
                }
            }
            Kind::Instant => if pg { "timestamptz(6)" } else { "datetime(6)" }.into(),
            Kind::Json => if pg { "jsonb" } else { "json" }.into(),
            Kind::Uuid => if pg { "uuid" } else { "char(36)" }.into(),
        }
    }

    /// The column as exact text: hex for strings and bytes, microseconds
    /// for times, the shortest round-trip form of floats (parsed to bits).
    fn read(self, db: Db, column: &str) -> String {
        let pg = db == Db::Postgres;
        match self {
            Kind::Int { .. } | Kind::Decimal { .. } | Kind::Bool => {
                if pg {
                    format!("({column})::text")
                } else {
                    format!("CAST({column} AS CHAR)")
                }
            }
            Kind::Real | Kind::Double => {
                if pg {
                    format!("({column})::float8::text")
                } else {
                    format!("CAST(CAST({column} AS DOUBLE) AS CHAR)")
                }
            }
            Kind::Char(_) | Kind::Varchar(_) | Kind::Text | Kind::Json | Kind::Uuid => {
                if pg {
                    format!("encode(convert_to(({column})::text, 'UTF8'), 'hex')")
                } else {
                    format!("LOWER(HEX({column}))")
                }
            }
            Kind::Bytes => {
                if pg {
                    format!("encode({column}, 'hex')")
                } else {
                    format!("LOWER(HEX({column}))")
                }
            }
            Kind::Date => {
                if pg {
                    format!("to_char({column}, 'YYYY-MM-DD')")
                } else {
                    format!("DATE_FORMAT({column}, '%Y-%m-%d')")
                }
            }
            Kind::Time => {
                if pg {
                    format!("to_char({column}, 'HH24:MI:SS.US')")
                } else {
                    format!("TIME_FORMAT({column}, '%H:%i:%s.%f')")
                }
            }
            Kind::Instant => {
                if pg {
                    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
                } else {
                    format!("DATE_FORMAT({column}, '%Y-%m-%d %H:%i:%s.%f')")
                }
            }
            Kind::Timestamp(_) => {
                if pg {
                    format!("to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')")
                } else {
                    format!("DATE_FORMAT({column}, '%Y-%m-%d %H:%i:%s.%f')")
                }
            }
        }
    }
}

/// One value, as the test writes it.
#[derive(Debug, Clone)]
enum V {
    Null,
    Num(String),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    Date(String),
    Time(String),
    Ts(String),
    /// An instant: as PostgreSQL reads it (with an offset), and in UTC.
    At {
        zoned: String,
        utc: String,
    },
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl V {
    fn literal(&self, kind: Kind, db: Db) -> String {
        let pg = db == Db::Postgres;
        match self {
            V::Null => "NULL".into(),
            V::Num(n) => match kind {
                Kind::Decimal { precision, scale } if pg => {
                    format!("'{n}'::numeric({precision}, {scale})")
                }
                Kind::Decimal { precision, scale } => {
                    format!("CAST('{n}' AS DECIMAL({precision}, {scale}))")
                }
                _ => n.clone(),
            },
            V::F32(f) => float_literal(f64::from(*f), if pg { "real" } else { "" }),
            V::F64(f) => float_literal(*f, if pg { "float8" } else { "" }),
            V::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            V::Str(s) if kind == Kind::Uuid && pg => format!("'{s}'::uuid"),
            V::Str(s) if kind == Kind::Json && pg => {
                format!(
                    "convert_from('\\x{}'::bytea, 'UTF8')::jsonb",
                    hex(s.as_bytes())
                )
            }
            V::Str(s) if pg => format!("convert_from('\\x{}'::bytea, 'UTF8')", hex(s.as_bytes())),
            V::Str(s) => format!("CONVERT(X'{}' USING utf8mb4)", hex(s.as_bytes())),
            V::Bytes(b) if pg => format!("'\\x{}'::bytea", hex(b)),
            V::Bytes(b) => format!("X'{}'", hex(b)),
            V::Date(d) => format!("DATE '{d}'"),
            V::Time(t) => format!("TIME '{t}'"),
            V::Ts(t) => format!("TIMESTAMP '{t}'"),
            V::At { zoned, .. } if pg => format!("TIMESTAMPTZ '{zoned}'"),
            V::At { utc, .. } => format!("TIMESTAMP '{utc}'"),
        }
    }
}

fn float_literal(f: f64, pg_type: &str) -> String {
    let text = if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{f:e}")
    };
    if pg_type.is_empty() {
        text
    } else {
        format!("'{text}'::{pg_type}")
    }
}

/// A seeded xorshift generator: the same rows on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: u32) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
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
    "-- comment /* not */ ; DROP TABLE x;",
    "${jndi:ldap://x} {{template}} :name ?",
];

fn edge_values(kind: Kind, db_pair: (Db, Db)) -> Vec<V> {
    let both_pg = db_pair == (Db::Postgres, Db::Postgres);
    let s = |x: &str| V::Str(x.to_owned());
    match kind {
        Kind::Int { bits } => {
            let (min, max) = match bits {
                // PostgreSQL has no TINYINT: a smallint column holds the range.
                8 => (-128i128, 127i128),
                16 => (i16::MIN.into(), i16::MAX.into()),
                32 => (i32::MIN.into(), i32::MAX.into()),
                _ => (i64::MIN.into(), i64::MAX.into()),
            };
            [min, max, 0, -1, 1]
                .iter()
                .map(|n| V::Num(n.to_string()))
                .collect()
        }
        Kind::Decimal { precision, scale } => {
            let int_digits = precision - scale;
            let nines_int = "9".repeat(int_digits as usize);
            let nines_frac = "9".repeat(scale as usize);
            let smallest = if scale > 0 {
                format!("{}1", "0".repeat(scale as usize - 1))
            } else {
                String::new()
            };
            let zero_frac = "0".repeat(scale as usize);
            let mut out = vec![
                V::Num(decimal_text(false, &nines_int, &nines_frac)),
                V::Num(decimal_text(true, &nines_int, &nines_frac)),
                V::Num(decimal_text(false, "0", &zero_frac)),
            ];
            if scale > 0 {
                out.push(V::Num(decimal_text(false, "0", &smallest)));
                out.push(V::Num(decimal_text(true, "0", &smallest)));
            }
            if int_digits > 0 {
                out.push(V::Num(decimal_text(false, "1", &zero_frac)));
            }
            out
        }
        Kind::Real => {
            let mut v = vec![
                0.0f32,
                -0.0,
                1.0,
                -1.5,
                f32::MAX,
                f32::MIN,
                f32::MIN_POSITIVE,
                f32::EPSILON,
                0.1,
                16_777_217.0,
            ];
            // MariaDB has no subnormal-safe FLOAT round trip guarantee to
            // hide; PostgreSQL keeps them.
            v.push(f32::from_bits(1));
            let mut out: Vec<V> = v.into_iter().map(V::F32).collect();
            if both_pg {
                out.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY].map(V::F32));
            }
            out
        }
        Kind::Double => {
            let v = [
                0.0f64,
                -0.0,
                1.0,
                -1.5,
                f64::MAX,
                f64::MIN,
                f64::MIN_POSITIVE,
                f64::from_bits(1), // the smallest subnormal, 4.9e-324
                f64::EPSILON,
                0.1,
                9_007_199_254_740_993.0,
                std::f64::consts::PI,
            ];
            let mut out: Vec<V> = v.into_iter().map(V::F64).collect();
            if both_pg {
                out.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY].map(V::F64));
            }
            out
        }
        Kind::Bool => vec![V::Bool(true), V::Bool(false)],
        Kind::Char(n) => vec![
            s(""),
            s("a"),
            s(&"x".repeat(n)),
            s(&"名".repeat(n)),
            s("ab  "),
            s("😀 é"),
        ],
        Kind::Varchar(n) => {
            let mut out: Vec<V> = STRINGS
                .iter()
                .filter(|x| x.chars().count() <= n)
                .map(|x| s(x))
                .collect();
            out.push(s(&"z".repeat(n)));
            out.push(s(&"😀".repeat(n)));
            out.push(s(&"e\u{301}".repeat(n / 2)));
            out
        }
        Kind::Text => {
            let mut out: Vec<V> = STRINGS.iter().map(|x| s(x)).collect();
            // Every scalar value of the BMP except NUL and the surrogates,
            // in one string, plus a long one.
            let bmp: String = (1u32..0xFFFF).filter_map(char::from_u32).collect();
            out.push(V::Str(bmp));
            out.push(s(&"long text ".repeat(20_000)));
            out
        }
        Kind::Bytes => vec![
            V::Bytes(Vec::new()),
            V::Bytes((0..=255u8).collect()),
            V::Bytes(vec![0]),
            V::Bytes(vec![0xff; 1000]),
            V::Bytes(b"\\x00 'quoted'".to_vec()),
        ],
        Kind::Date => [
            "0001-01-01",
            "1000-01-01",
            "1582-10-04",
            "1582-10-10",
            "1582-10-15",
            "1899-12-31",
            "1969-12-31",
            "1970-01-01",
            "2000-02-29",
            "2038-01-19",
            "9999-12-31",
        ]
        .iter()
        .map(|d| V::Date((*d).to_owned()))
        .collect(),
        Kind::Time => [
            "00:00:00.000",
            "23:59:59.999",
            "12:34:56.789",
            "00:00:00.001",
        ]
        .iter()
        .map(|t| V::Time((*t).to_owned()))
        .collect(),
        Kind::Timestamp(p) => {
            let frac = |digits: &str| -> String {
                if p == 0 {
                    String::new()
                } else {
                    format!(".{}", &digits[..p as usize])
                }
            };
            vec![
                V::Ts(format!("0001-01-01 00:00:00{}", frac("000001"))),
                V::Ts(format!("1582-10-10 12:00:00{}", frac("500000"))),
                V::Ts(format!("1970-01-01 00:00:00{}", frac("000000"))),
                V::Ts(format!("1969-12-31 23:59:59{}", frac("999999"))),
                V::Ts(format!("2024-03-10 02:30:00{}", frac("123456"))),
                V::Ts(format!("2024-11-03 01:30:00{}", frac("654321"))),
                V::Ts(format!("9999-12-31 23:59:59{}", frac("999999"))),
            ]
        }
        Kind::Instant => [
            // Offsets of every sign, DST gaps and overlaps, the range ends.
            (
                "0001-01-01 00:00:00.000001+00",
                "0001-01-01 00:00:00.000001",
            ),
            ("1970-01-01 00:00:00+00", "1970-01-01 00:00:00.000000"),
            (
                "2024-03-10 01:59:59.999999-05",
                "2024-03-10 06:59:59.999999",
            ),
            ("2024-03-10 03:00:00-04", "2024-03-10 07:00:00.000000"),
            ("2024-11-03 01:30:00.5-04", "2024-11-03 05:30:00.500000"),
            ("2024-11-03 01:30:00.5-05", "2024-11-03 06:30:00.500000"),
            ("2024-03-31 02:30:00+05:45", "2024-03-30 20:45:00.000000"),
            ("2024-10-27 01:00:00-09:30", "2024-10-27 10:30:00.000000"),
            (
                "9999-12-31 23:59:59.999999+00",
                "9999-12-31 23:59:59.999999",
            ),
        ]
        .iter()
        .map(|(zoned, utc)| V::At {
            zoned: (*zoned).to_owned(),
            utc: (*utc).to_owned(),
        })
        .collect(),
        Kind::Json => [
            "{}",
            "[]",
            "{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"名称 😀\"}}",
            "\"string\"",
            "1.5",
            "null",
        ]
        .iter()
        .map(|j| s(j))
        .collect(),
        Kind::Uuid => [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "123e4567-e89b-12d3-a456-426614174000",
        ]
        .iter()
        .map(|u| s(u))
        .collect(),
    }
}

fn random_value(kind: Kind, rng: &mut Rng) -> V {
    if rng.below(10) == 0 {
        return V::Null;
    }
    match kind {
        Kind::Int { bits } => {
            let n = rng.next() as i64;
            let n: i128 = match bits {
                8 => i128::from(n as i8),
                16 => i128::from(n as i16),
                32 => i128::from(n as i32),
                _ => i128::from(n),
            };
            V::Num(n.to_string())
        }
        Kind::Decimal { precision, scale } => {
            let int_len = rng.below(u64::from(precision - scale) + 1) as u32;
            let neg = rng.below(2) == 0;
            V::Num(decimal_text(neg, &rng.digits(int_len), &rng.digits(scale)))
        }
        Kind::Real => loop {
            let f = f32::from_bits(rng.next() as u32);
            if f.is_finite() {
                break V::F32(f);
            }
        },
        Kind::Double => loop {
            let f = f64::from_bits(rng.next());
            if f.is_finite() {
                break V::F64(f);
            }
        },
        Kind::Bool => V::Bool(rng.below(2) == 0),
        Kind::Char(n) | Kind::Varchar(n) => {
            let len = rng.below(n as u64 + 1) as usize;
            V::Str(random_text(rng, len))
        }
        Kind::Text => {
            let len = rng.below(300) as usize;
            V::Str(random_text(rng, len))
        }
        Kind::Bytes => {
            let len = rng.below(64) as usize;
            V::Bytes((0..len).map(|_| rng.next() as u8).collect())
        }
        Kind::Date => V::Date(format!(
            "{:04}-{:02}-{:02}",
            1 + rng.below(9999),
            1 + rng.below(12),
            1 + rng.below(28)
        )),
        Kind::Time => V::Time(format!(
            "{:02}:{:02}:{:02}.{:03}",
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(1000)
        )),
        Kind::Timestamp(p) => {
            let micros = format!("{:06}", rng.below(1_000_000));
            let frac = if p == 0 {
                String::new()
            } else {
                format!(".{}", &micros[..p as usize])
            };
            V::Ts(format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{frac}",
                1 + rng.below(9999),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60)
            ))
        }
        Kind::Instant => {
            let utc = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
                1 + rng.below(9998),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.below(1_000_000)
            );
            V::At {
                zoned: format!("{utc}+00"),
                utc,
            }
        }
        Kind::Json => V::Str(format!("{{\"n\": {}}}", rng.below(1_000_000))),
        Kind::Uuid => {
            let h = format!("{:016x}{:016x}", rng.next(), rng.next());
            V::Str(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
    }
}

/// Random text from every plane, without NUL and surrogates; no trailing
/// space (CHAR drops it, a documented conversion tested by the edge rows).
fn random_text(rng: &mut Rng, len: usize) -> String {
    let mut out = String::new();
    while out.chars().count() < len {
        let c = match rng.below(4) {
            0 => char::from_u32(0x20 + rng.below(0x5f) as u32),
            1 => char::from_u32(0xA0 + rng.below(0x2000) as u32),
            2 => char::from_u32(0x4E00 + rng.below(0x5000) as u32),
            _ => char::from_u32(0x1_0000 + rng.below(0x1_0000) as u32),
        };
        if let Some(c) = c {
            out.push(c);
        }
    }
    out.trim_end_matches(' ').to_owned()
}

/// The rows of a pair: the edge values column by column (a column's edge
/// list is cycled when shorter than the longest), then random rows.
fn rows(pair: (Db, Db), seed: u64) -> Vec<Vec<V>> {
    let edges: Vec<Vec<V>> = COLUMNS.iter().map(|c| edge_values(c.kind, pair)).collect();
    let edge_rows = edges.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for r in 0..edge_rows {
        out.push(edges.iter().map(|e| e[r % e.len()].clone()).collect());
    }
    // A row of NULLs, and one of empty strings where strings are.
    out.push(COLUMNS.iter().map(|_| V::Null).collect());
    let mut rng = Rng(seed);
    for _ in 0..RANDOM_ROWS {
        out.push(
            COLUMNS
                .iter()
                .map(|c| random_value(c.kind, &mut rng))
                .collect(),
        );
    }
    out
}

fn quote(db: Db, name: &str) -> String {
    match db {
        Db::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        Db::Maria => format!("`{}`", name.replace('`', "``")),
    }
}

struct Table {
    db: Db,
    /// The native, quoted name.
    sql_name: String,
    /// The job's `object`.
    object: String,
}

fn table(db: Db, name: &str) -> Table {
    match db {
        Db::Postgres => Table {
            db,
            sql_name: format!("public.{}", quote(db, name)),
            // The quoted form of the API: the name holds a dot.
            object: format!("public.\"{}\"", name.replace('"', "\"\"")),
        },
        Db::Maria => Table {
            db,
            sql_name: quote(db, name),
            object: format!("\"{}\"", name.replace('"', "\"\"")),
        },
    }
}

fn create_sql(t: &Table) -> String {
    let mut cols = vec![format!("{} bigint PRIMARY KEY", quote(t.db, KEY))];
    cols.extend(
        COLUMNS
            .iter()
            .map(|c| format!("{} {}", quote(t.db, c.name), c.kind.native(t.db))),
    );
    let tail = match t.db {
        Db::Postgres => "",
        Db::Maria => " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    };
    format!(
        "DROP TABLE IF EXISTS {name};\nCREATE TABLE {name} ({}){tail};\n",
        cols.join(", "),
        name = t.sql_name
    )
}

fn insert_sql(t: &Table, rows: &[Vec<V>]) -> String {
    let names: Vec<String> = std::iter::once(KEY)
        .chain(COLUMNS.iter().map(|c| c.name))
        .map(|n| quote(t.db, n))
        .collect();
    let mut out = String::new();
    for (chunk_no, chunk) in rows.chunks(200).enumerate() {
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let id = chunk_no * 200 + i + 1;
                let mut vals = vec![id.to_string()];
                vals.extend(
                    row.iter()
                        .zip(COLUMNS.iter())
                        .map(|(v, c)| v.literal(c.kind, t.db)),
                );
                format!("({})", vals.join(", "))
            })
            .collect();
        out.push_str(&format!(
            "INSERT INTO {} ({}) VALUES\n{};\n",
            t.sql_name,
            names.join(", "),
            values.join(",\n")
        ));
    }
    out
}

/// Every row as exact canonical text, keyed by the key column.
fn read_rows(t: &Table) -> BTreeMap<i64, Vec<String>> {
    let mut exprs = vec![quote(t.db, KEY)];
    exprs.extend(
        COLUMNS
            .iter()
            .map(|c| c.kind.read(t.db, &quote(t.db, c.name))),
    );
    let sql = format!("SELECT {} FROM {};\n", exprs.join(", "), t.sql_name);
    let text = match t.db {
        Db::Postgres => db::psql_script(&sql),
        Db::Maria => db::mariadb_script(&sql),
    };
    let null = match t.db {
        Db::Postgres => "\\N",
        Db::Maria => "NULL",
    };
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), COLUMNS.len() + 1, "{line}");
            let id: i64 = fields[0].parse().unwrap();
            let values = fields[1..]
                .iter()
                .zip(COLUMNS.iter())
                .map(|(f, c)| canonical(c.kind, f, *f == null))
                .collect();
            (id, values)
        })
        .collect()
}

/// One read-back field in a form both databases agree on exactly.
fn canonical(kind: Kind, field: &str, null: bool) -> String {
    if null {
        return "NULL".into();
    }
    match kind {
        Kind::Real | Kind::Double => {
            let f: f64 = match field {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                _ => field.parse().unwrap_or_else(|_| panic!("a float: {field}")),
            };
            if f.is_nan() {
                "NaN".into()
            } else {
                format!("bits:{:016x}", f.to_bits())
            }
        }
        Kind::Bool => match field {
            "t" | "true" | "1" => "1".into(),
            "f" | "false" | "0" => "0".into(),
            other => other.into(),
        },
        _ => field.to_owned(),
    }
}

/// What the source holds, in the canonical form, as written (the expected
/// target content is the source's own read-back).
/// The conversions of CSV files (README, "Exact values"): a string that is
/// exactly `\N` (the null literal) reads back as NULL, and Flink's CSV reader
/// moves the ten days 1582-10-05..14, which its java.sql.Date does not have,
/// ten days on.
fn through_csv(expected: &mut BTreeMap<i64, Vec<String>>) {
    let null_literal: String = hex(b"\\N");
    for row in expected.values_mut() {
        for (value, column) in row.iter_mut().zip(COLUMNS.iter()) {
            match column.kind {
                Kind::Date => {
                    if let Some(day) = value.strip_prefix("1582-10-")
                        && let Ok(d @ 5..=14) = day.parse::<u32>()
                    {
                        *value = format!("1582-10-{}", d + 10);
                    }
                }
                Kind::Bytes | Kind::Char(_) => {}
                _ if *value == null_literal => *value = "NULL".into(),
                _ => {}
            }
        }
    }
}

fn compare(pair: &str, source: &Table, target: &Table) -> Result<usize, String> {
    compare_with(pair, source, target, |_| {})
}

fn compare_with(
    pair: &str,
    source: &Table,
    target: &Table,
    convert: impl Fn(&mut BTreeMap<i64, Vec<String>>),
) -> Result<usize, String> {
    let mut expected = read_rows(source);
    convert(&mut expected);
    if target.db == Db::Maria {
        // The one documented conversion: MariaDB and MySQL have no negative
        // zero (README, "Exact values"); -0.0 arrives as 0.
        for row in expected.values_mut() {
            for value in row.iter_mut() {
                if value == "bits:8000000000000000" {
                    *value = "bits:0000000000000000".into();
                }
            }
        }
    }
    let actual = read_rows(target);
    if expected.len() != actual.len() {
        return Err(format!(
            "{pair}: {} source rows, {} target rows",
            expected.len(),
            actual.len()
        ));
    }
    let mut differences = Vec::new();
    for (id, want) in &expected {
        let Some(got) = actual.get(id) else {
            differences.push(format!("row {id} missing"));
            continue;
        };
        for ((w, g), c) in want.iter().zip(got).zip(COLUMNS.iter()) {
            if w != g {
                differences.push(format!(
                    "row {id} column {:?}: source {} target {}",
                    c.name,
                    shorten(w),
                    shorten(g)
                ));
            }
        }
    }
    let mut per_column: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &differences {
        if let Some(column) = d.split('"').nth(1) {
            *per_column.entry(column).or_default() += 1;
        }
    }
    if !differences.is_empty() {
        return Err(format!(
            "{pair}: {} differences (per column {per_column:?}), first: {:#?}",
            differences.len(),
            &differences[..differences.len().min(20)]
        ));
    }
    Ok(expected.len() * COLUMNS.len())
}

fn shorten(s: &str) -> String {
    if s.len() > 80 {
        format!("{}… ({} chars)", &s[..80], s.len())
    } else {
        s.to_owned()
    }
}

fn job_columns() -> Value {
    job_columns_through(None)
}

/// The job's columns when the rows pass through files of `format`: Flink's
/// JSON format writes TIME to whole seconds and its CSV format reads it so,
/// so a time travels as its exact text (STRING), as the compiler's 400 for
/// TIME(3) in files says to.
fn job_columns_through(format: Option<&str>) -> Value {
    let mut cols = vec![json!({"name": KEY, "type": "BIGINT"})];
    cols.extend(COLUMNS.iter().map(|c| {
        let ty = match (c.kind, format) {
            (Kind::Time, Some(_)) => "STRING".to_owned(),
            (kind, _) => kind.flink(),
        };
        json!({"name": c.name, "type": ty})
    }));
    Value::Array(cols)
}

/// The run's end, waited for as the reconciler's schedule would.
async fn wait_for_end(api: &Api, tenant: &str, run_id: &str) -> Value {
    wait_for_run_end(api, tenant, run_id, 400).await
}

struct Pair {
    label: &'static str,
    from: Db,
    to: Db,
    write_mode: &'static str,
}

/// The matrix: every pair of databases sluice moves between, each with one
/// wide table named like a real schema, all runs in flight at once.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn every_type_arrives_exactly_between_postgres_and_mariadb() {
    let api = Api::new();
    let tenant = fresh_tenant("fidelity");
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let maria = api.register_source(&tenant, db::mariadb_source()).await;
    let pairs = [
        Pair {
            label: "pg-maria",
            from: Db::Postgres,
            to: Db::Maria,
            write_mode: "upsert",
        },
        Pair {
            label: "maria-pg",
            from: Db::Maria,
            to: Db::Postgres,
            write_mode: "upsert",
        },
        Pair {
            label: "pg-pg",
            from: Db::Postgres,
            to: Db::Postgres,
            write_mode: "append",
        },
        Pair {
            label: "maria-maria",
            from: Db::Maria,
            to: Db::Maria,
            write_mode: "append",
        },
    ];
    let mut started = Vec::new();
    for (n, pair) in pairs.iter().enumerate() {
        // Names with a reserved word, unicode, spaces, a dot and mixed case.
        let source = table(pair.from, &format!("Select 订单.{} src", pair.label));
        let target = table(pair.to, &format!("Select 订单.{} dst", pair.label));
        let data = rows((pair.from, pair.to), 0x5eed_0000 + n as u64);
        let fill = format!("{}{}", create_sql(&source), insert_sql(&source, &data));
        let empty = create_sql(&target);
        match pair.from {
            Db::Postgres => db::psql_script(&fill),
            Db::Maria => db::mariadb_script(&fill),
        };
        match pair.to {
            Db::Postgres => db::psql_script(&empty),
            Db::Maria => db::mariadb_script(&empty),
        };
        let id_of = |d: Db| if d == Db::Postgres { &pg } else { &maria };
        let mut target_spec = json!({"source_id": id_of(pair.to), "object": target.object,
                                     "write_mode": pair.write_mode});
        if pair.write_mode == "upsert" {
            target_spec["primary_key"] = json!([KEY]);
        }
        let mut body = json!({
            "name": format!("fidelity {}", pair.label),
            "source": {"source_id": id_of(pair.from), "object": source.object,
                       "columns": job_columns()},
            "target": target_spec,
            "options": {"mode": "batch", "parallelism": 1}
        });
        // Names in a filter and in a mapping too (both keep every row and
        // value as it is).
        match pair.label {
            "pg-pg" => {
                body["source"]["filter"] = json!(
                    "`back``tick` IS NULL OR `back``tick` IS NOT NULL OR `名称` = 0 OR `a b` <> 0"
                );
            }
            "maria-maria" => {
                let identity: Vec<Value> = std::iter::once(KEY)
                    .chain(COLUMNS.iter().map(|c| c.name))
                    .map(|n| json!({"target": n, "expr": format!("`{}`", n.replace('`', "``"))}))
                    .collect();
                body["mapping"] = Value::Array(identity);
            }
            _ => {}
        }
        let reply = api.post("/jobs", &tenant, &body).await;
        assert_eq!(reply.status, 201, "{}: {}", pair.label, reply.text);
        let job_id = reply.json()["id"].as_str().unwrap().to_owned();
        let run = api
            .post(&format!("/jobs/{job_id}/runs"), &tenant, &json!({}))
            .await;
        assert_eq!(run.status, 202, "{}: {}", pair.label, run.text);
        started.push((
            pair,
            source,
            target,
            run.json()["id"].as_str().unwrap().to_owned(),
        ));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (pair, source, target, run_id) in &started {
        let run = wait_for_end(&api, &tenant, run_id).await;
        assert_eq!(run["state"], "succeeded", "{}: {run}", pair.label);
        match compare(pair.label, source, target) {
            Ok(n) => checked += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "fidelity matrix: {} pairs x {} columns, {} values compared exactly",
        pairs.len(),
        COLUMNS.len() + 1,
        checked
    );
}

/// Starts a job and a manual run of it; returns the run id.
async fn run_job(api: &Api, tenant: &str, body: Value) -> String {
    let job_id = create_job(api, tenant, &body).await;
    let run = api
        .post(&format!("/jobs/{job_id}/runs"), tenant, &json!({}))
        .await;
    assert_eq!(run.status, 202, "{}: {}", body["name"], run.text);
    run.json()["id"].as_str().unwrap().to_owned()
}

/// Each database's wide table written to CSV and to JSON files and read
/// back into a table of the same database: the copy equals the original.
#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn every_type_survives_a_round_trip_through_csv_and_json_files() {
    let api = Api::new();
    let tenant = fresh_tenant("fidelity-files");
    let dir = std::env::temp_dir().join(format!("sluice-fidelity-{tenant}"));
    std::fs::create_dir_all(&dir).unwrap();
    let files = api
        .register_source(
            &tenant,
            json!({"name": "files", "kind": "filesystem",
                   "config": {"path": dir.to_str().unwrap()}}),
        )
        .await;
    let pg = api.register_source(&tenant, db::postgres_source()).await;
    let maria = api.register_source(&tenant, db::mariadb_source()).await;
    let legs = [
        (Db::Postgres, "json"),
        (Db::Postgres, "csv"),
        (Db::Maria, "json"),
        (Db::Maria, "csv"),
    ];
    // Out to files, all in flight at once.
    let mut outward = Vec::new();
    for (n, (db, format)) in legs.iter().enumerate() {
        let database = if *db == Db::Postgres { &pg } else { &maria };
        let label = format!(
            "{}-{format}",
            if *db == Db::Postgres { "pg" } else { "maria" }
        );
        let source = table(*db, &format!("Files 订单.{label} src"));
        let back = table(*db, &format!("Files 订单.{label} back"));
        let data = rows((*db, *db), 0x5eed_1000 + n as u64);
        let script = format!(
            "{}{}{}",
            create_sql(&source),
            insert_sql(&source, &data),
            create_sql(&back)
        );
        match db {
            Db::Postgres => db::psql_script(&script),
            Db::Maria => db::mariadb_script(&script),
        };
        // A directory named like the tables: unicode and spaces.
        let object = format!("订单 {label}");
        let run = run_job(
            &api,
            &tenant,
            json!({
                "name": format!("to files {label}"),
                "source": {"source_id": database, "object": source.object,
                           "columns": job_columns_through(Some(format))},
                "target": {"source_id": files, "object": object, "write_mode": "append",
                           "format": {"type": format}},
                "options": {"mode": "batch", "parallelism": 1}
            }),
        )
        .await;
        outward.push((
            label,
            *db,
            *format,
            database.clone(),
            source,
            back,
            object,
            run,
        ));
    }
    // Back from the files.
    let mut inward = Vec::new();
    for (label, _, format, database, source, back, object, run_id) in outward {
        let run = wait_for_end(&api, &tenant, &run_id).await;
        assert_eq!(run["state"], "succeeded", "{label} out: {run}");
        let run = run_job(
            &api,
            &tenant,
            json!({
                "name": format!("from files {label}"),
                "source": {"source_id": files, "object": object,
                           "columns": job_columns_through(Some(format)),
                           "format": {"type": format}},
                "target": {"source_id": database, "object": back.object, "write_mode": "append"},
                "options": {"mode": "batch", "parallelism": 1}
            }),
        )
        .await;
        inward.push((label, format, source, back, run));
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (label, format, source, back, run_id) in &inward {
        let run = wait_for_end(&api, &tenant, run_id).await;
        assert_eq!(run["state"], "succeeded", "{label} back: {run}");
        let convert = |rows: &mut BTreeMap<i64, Vec<String>>| {
            if *format == "csv" {
                through_csv(rows);
            }
        };
        match compare_with(label, source, back, convert) {
            Ok(n) => checked += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "fidelity through files: {} round trips x {} columns, {checked} values compared exactly",
        legs.len(),
        COLUMNS.len() + 1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

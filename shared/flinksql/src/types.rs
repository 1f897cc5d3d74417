//! Flink SQL data types: parsed from the strings users declare, checked
//! against Flink's bounds, rendered in one canonical spelling.

use std::fmt;

/// The largest length of a character or binary string (`STRING` and `BYTES`
/// are `VARCHAR` and `VARBINARY` of this length).
pub const MAX_LENGTH: u32 = i32::MAX as u32;
/// The largest precision of `DECIMAL`.
pub const MAX_DECIMAL_PRECISION: u32 = 38;
/// The largest fractional-second precision of `TIME` and the timestamps.
pub const MAX_TIME_PRECISION: u32 = 9;

/// The longest type string accepted.
const MAX_TYPE_TEXT: usize = 64;

/// A Flink SQL type sluice can declare on a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlinkType {
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Double,
    Char(u32),
    /// `VARCHAR(n)`; `STRING` is `VARCHAR(MAX_LENGTH)`.
    Varchar(u32),
    Binary(u32),
    /// `VARBINARY(n)`; `BYTES` is `VARBINARY(MAX_LENGTH)`.
    Varbinary(u32),
    Date,
    Time(u32),
    /// `TIMESTAMP(p)`, without time zone.
    Timestamp(u32),
    /// `TIMESTAMP_LTZ(p)`, an instant shown in the session time zone.
    TimestampLtz(u32),
}

impl FlinkType {
    pub const STRING: FlinkType = FlinkType::Varchar(MAX_LENGTH);
    pub const BYTES: FlinkType = FlinkType::Varbinary(MAX_LENGTH);

    /// Parses a type string such as `bigint`, `DECIMAL(10, 2)`,
    /// `TIMESTAMP(3)` or `TIMESTAMP_LTZ(3)`. Case and spacing are free; the
    /// error says what is wrong without quoting the input.
    pub fn parse(text: &str) -> Result<FlinkType, String> {
        if text.len() > MAX_TYPE_TEXT {
            return Err(format!("must be at most {MAX_TYPE_TEXT} characters"));
        }
        let tokens = tokenize(text)?;
        let mut p = TypeParser { tokens, pos: 0 };
        let ty = p.parse_type()?;
        if p.pos != p.tokens.len() {
            return Err("unexpected text after the type".into());
        }
        Ok(ty)
    }

    /// Builds a type from its name and parameters, with Flink's defaults
    /// and bounds. `name` is upper case.
    pub(crate) fn from_parts(
        name: &str,
        params: &[u64],
        ltz_suffix: bool,
    ) -> Result<FlinkType, String> {
        let no_params = |ty: FlinkType| {
            if params.is_empty() {
                Ok(ty)
            } else {
                Err(format!("{name} takes no parameters"))
            }
        };
        let at_most_one = || -> Result<Option<u64>, String> {
            match params {
                [] => Ok(None),
                [n] => Ok(Some(*n)),
                _ => Err(format!("{name} takes one parameter")),
            }
        };
        let length = |default: u32| -> Result<u32, String> {
            match at_most_one()? {
                None => Ok(default),
                Some(n) if (1..=u64::from(MAX_LENGTH)).contains(&n) => Ok(n as u32),
                Some(_) => Err(format!("the length of {name} must be 1 to {MAX_LENGTH}")),
            }
        };
        let precision = |default: u32| -> Result<u32, String> {
            match at_most_one()? {
                None => Ok(default),
                Some(p) if p <= u64::from(MAX_TIME_PRECISION) => Ok(p as u32),
                Some(_) => Err(format!(
                    "the precision of {name} must be 0 to {MAX_TIME_PRECISION}"
                )),
            }
        };
        if ltz_suffix && name != "TIMESTAMP" {
            return Err("only TIMESTAMP takes WITH LOCAL TIME ZONE".into());
        }
        match name {
            "BOOLEAN" => no_params(FlinkType::Boolean),
            "TINYINT" => no_params(FlinkType::TinyInt),
            "SMALLINT" => no_params(FlinkType::SmallInt),
            "INT" | "INTEGER" => no_params(FlinkType::Int),
            "BIGINT" => no_params(FlinkType::BigInt),
            "FLOAT" => no_params(FlinkType::Float),
            "DOUBLE" => no_params(FlinkType::Double),
            "STRING" => no_params(FlinkType::STRING),
            "BYTES" => no_params(FlinkType::BYTES),
            "DATE" => no_params(FlinkType::Date),
            "DECIMAL" | "DEC" | "NUMERIC" => {
                let (precision, scale) = match params {
                    [] => (10, 0),
                    [p] => (*p, 0),
                    [p, s] => (*p, *s),
                    _ => return Err(format!("{name} takes a precision and a scale")),
                };
                if !(1..=u64::from(MAX_DECIMAL_PRECISION)).contains(&precision) {
                    return Err(format!(
                        "the precision of {name} must be 1 to {MAX_DECIMAL_PRECISION}"
                    ));
                }
                if scale > precision {
                    return Err(format!("the scale of {name} must be 0 to its precision"));
                }
                Ok(FlinkType::Decimal {
                    precision: precision as u32,
                    scale: scale as u32,
                })
            }
            "CHAR" | "CHARACTER" => Ok(FlinkType::Char(length(1)?)),
            "VARCHAR" => Ok(FlinkType::Varchar(length(1)?)),
            "BINARY" => Ok(FlinkType::Binary(length(1)?)),
            "VARBINARY" => Ok(FlinkType::Varbinary(length(1)?)),
            "TIME" => Ok(FlinkType::Time(precision(0)?)),
            "TIMESTAMP" if ltz_suffix => Ok(FlinkType::TimestampLtz(precision(6)?)),
            "TIMESTAMP" => Ok(FlinkType::Timestamp(precision(6)?)),
            "TIMESTAMP_LTZ" => Ok(FlinkType::TimestampLtz(precision(6)?)),
            _ => Err(
                "unknown type; expected one of BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, \
                 DECIMAL(p, s), FLOAT, DOUBLE, CHAR(n), VARCHAR(n), STRING, BINARY(n), \
                 VARBINARY(n), BYTES, DATE, TIME(p), TIMESTAMP(p), TIMESTAMP_LTZ(p)"
                    .into(),
            ),
        }
    }

    /// The canonical Flink SQL spelling.
    pub fn sql(&self) -> String {
        match *self {
            FlinkType::Boolean => "BOOLEAN".into(),
            FlinkType::TinyInt => "TINYINT".into(),
            FlinkType::SmallInt => "SMALLINT".into(),
            FlinkType::Int => "INT".into(),
            FlinkType::BigInt => "BIGINT".into(),
            FlinkType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            FlinkType::Float => "FLOAT".into(),
            FlinkType::Double => "DOUBLE".into(),
            FlinkType::Char(n) => format!("CHAR({n})"),
            FlinkType::Varchar(MAX_LENGTH) => "STRING".into(),
            FlinkType::Varchar(n) => format!("VARCHAR({n})"),
            FlinkType::Binary(n) => format!("BINARY({n})"),
            FlinkType::Varbinary(MAX_LENGTH) => "BYTES".into(),
            FlinkType::Varbinary(n) => format!("VARBINARY({n})"),
            FlinkType::Date => "DATE".into(),
            FlinkType::Time(p) => format!("TIME({p})"),
            FlinkType::Timestamp(p) => format!("TIMESTAMP({p})"),
            FlinkType::TimestampLtz(p) => format!("TIMESTAMP_LTZ({p})"),
        }
    }

    /// TINYINT, SMALLINT, INT or BIGINT.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            FlinkType::TinyInt | FlinkType::SmallInt | FlinkType::Int | FlinkType::BigInt
        )
    }

    pub fn is_boolean(&self) -> bool {
        matches!(self, FlinkType::Boolean)
    }
}

impl fmt::Display for FlinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Number(u64),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    _ => Tok::Comma,
                });
            }
            c if c.is_ascii_digit() => {
                let mut n: u64 = 0;
                while let Some(&d) = chars.peek() {
                    let Some(v) = d.to_digit(10) else { break };
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(v)))
                        .ok_or("a type parameter is too large")?;
                    chars.next();
                }
                out.push(Tok::Number(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::new();
                while let Some(&w) = chars.peek() {
                    if !(w.is_ascii_alphanumeric() || w == '_') {
                        break;
                    }
                    word.push(w.to_ascii_uppercase());
                    chars.next();
                }
                out.push(Tok::Word(word));
            }
            _ => return Err("may only contain letters, digits, _, spaces, ( ) and ,".into()),
        }
    }
    if out.is_empty() {
        return Err("must not be blank".into());
    }
    Ok(out)
}

struct TypeParser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl TypeParser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek() == Some(&Tok::Word(word.into())) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), String> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(format!("expected {word}"))
        }
    }

    fn parse_type(&mut self) -> Result<FlinkType, String> {
        let Some(Tok::Word(name)) = self.next() else {
            return Err("must start with a type name".into());
        };
        if name == "DOUBLE" {
            self.eat_word("PRECISION");
        }
        let mut params = Vec::new();
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            loop {
                match self.next() {
                    Some(Tok::Number(n)) => params.push(n),
                    _ => return Err("type parameters must be numbers".into()),
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::Close) => break,
                    _ => return Err("expected , or ) in the type parameters".into()),
                }
            }
        }
        let mut ltz = false;
        if self.eat_word("WITH") {
            self.expect_word("LOCAL")?;
            self.expect_word("TIME")?;
            self.expect_word("ZONE")?;
            ltz = true;
        } else if self.eat_word("WITHOUT") {
            self.expect_word("TIME")?;
            self.expect_word("ZONE")?;
            if name != "TIMESTAMP" && name != "TIME" {
                return Err("only TIME and TIMESTAMP take WITHOUT TIME ZONE".into());
            }
        }
        FlinkType::from_parts(&name, &params, ltz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        FlinkType::parse(text).unwrap().sql()
    }

    #[test]
    fn every_documented_type_parses_to_its_canonical_form() {
        for (text, expected) in [
            ("INT", "INT"),
            ("integer", "INT"),
            ("BIGINT", "BIGINT"),
            ("SmallInt", "SMALLINT"),
            ("TINYINT", "TINYINT"),
            ("BOOLEAN", "BOOLEAN"),
            ("DECIMAL", "DECIMAL(10, 0)"),
            ("DECIMAL(12)", "DECIMAL(12, 0)"),
            ("decimal( 12 ,2 )", "DECIMAL(12, 2)"),
            ("NUMERIC(38, 38)", "DECIMAL(38, 38)"),
            ("DEC(5,1)", "DECIMAL(5, 1)"),
            ("VARCHAR(100)", "VARCHAR(100)"),
            ("VARCHAR", "VARCHAR(1)"),
            ("VARCHAR(2147483647)", "STRING"),
            ("CHAR(3)", "CHAR(3)"),
            ("CHARACTER", "CHAR(1)"),
            ("STRING", "STRING"),
            ("DOUBLE", "DOUBLE"),
            ("DOUBLE PRECISION", "DOUBLE"),
            ("FLOAT", "FLOAT"),
            ("DATE", "DATE"),
            ("TIME", "TIME(0)"),
            ("TIME(3)", "TIME(3)"),
            ("TIMESTAMP", "TIMESTAMP(6)"),
            ("TIMESTAMP(3)", "TIMESTAMP(3)"),
            ("TIMESTAMP(9) WITHOUT TIME ZONE", "TIMESTAMP(9)"),
            ("TIMESTAMP_LTZ(3)", "TIMESTAMP_LTZ(3)"),
            ("TIMESTAMP_LTZ", "TIMESTAMP_LTZ(6)"),
            ("TIMESTAMP(0) WITH LOCAL TIME ZONE", "TIMESTAMP_LTZ(0)"),
            ("BYTES", "BYTES"),
            ("BINARY(16)", "BINARY(16)"),
            ("VARBINARY(255)", "VARBINARY(255)"),
            ("VARBINARY(2147483647)", "BYTES"),
        ] {
            assert_eq!(canon(text), expected, "{text}");
            // The canonical form parses back to itself.
            assert_eq!(canon(expected), expected, "{expected}");
        }
    }

    #[test]
    fn bounds_are_checked() {
        for bad in [
            "DECIMAL(0)",
            "DECIMAL(39, 2)",
            "DECIMAL(5, 6)",
            "DECIMAL(1, 2, 3)",
            "VARCHAR(0)",
            "VARCHAR(2147483648)",
            "CHAR(0)",
            "BINARY(0)",
            "TIME(10)",
            "TIMESTAMP(10)",
            "TIMESTAMP_LTZ(12)",
            "INT(11)",
            "BIGINT(20)",
            "BOOLEAN(1)",
            "DATE(1)",
            "STRING(10)",
            "VARCHAR(99999999999999999999999)",
            "INT WITH LOCAL TIME ZONE",
            "DATE WITHOUT TIME ZONE",
        ] {
            assert!(FlinkType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn anything_else_is_refused_without_echoing_it() {
        for bad in [
            "",
            "   ",
            "TEXT",
            "MAP<STRING, INT>",
            "ARRAY<INT>",
            "ROW(a INT)",
            "INT NOT NULL",
            "INT)",
            "VARCHAR(10",
            "VARCHAR(a)",
            "VARCHAR(-1)",
            "INT, x STRING",
            "INT) WITH ('connector' = 'x'",
            "INT; DROP TABLE t",
            "INT -- c",
            "INT /* c */",
            "`INT`",
            "'INT'",
            "INT\nx",
            "INT\0",
            "ＩＮＴ",
            "INТ",
            "VARCHAR（10）",
            &"INT ".repeat(40),
        ] {
            let err = FlinkType::parse(bad).unwrap_err();
            if bad.len() > 3 {
                assert!(!err.contains(bad), "{bad}: {err}");
            }
        }
    }

    #[test]
    fn integer_and_boolean_classes() {
        assert!(FlinkType::BigInt.is_integer());
        assert!(!FlinkType::Double.is_integer());
        assert!(FlinkType::Boolean.is_boolean());
        assert_eq!(FlinkType::STRING.to_string(), "STRING");
    }
}

//! Filters and mapping expressions: parsed with sqlparser, walked with an
//! allow-list into a small AST of our own ([`Expr`]), and rendered from that
//! AST only. The user's text never reaches the script, and neither does
//! sqlparser's `Display`.

use std::cell::Cell;
use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sqlparser::ast as sql;
use sqlparser::dialect::Dialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::ident::{is_identifier, quote_identifier};
use crate::literal::{date_literal, string_literal, time_literal, timestamp_literal};
use crate::types::FlinkType;

/// The longest expression text accepted.
pub const MAX_EXPR_CHARS: usize = 4096;
/// The deepest nesting accepted: the most operators, calls, casts and
/// parentheses around any part of an expression (`CAST(id AS INT)` nests
/// 1 level, `id` none).
pub const MAX_DEPTH: usize = 48;
/// sqlparser's own recursion limit, which guards its stack. One level of
/// ours can take the parser more than one (a `CASE` inside a call), so it
/// is set well above [`MAX_DEPTH`]: the walker, which counts levels as
/// documented, is what refuses an expression within the length limit.
const PARSER_RECURSION_LIMIT: usize = 4 * MAX_DEPTH;
/// The most items of an `IN (...)` list, arguments of a call or `WHEN`s.
pub const MAX_LIST: usize = 1000;

/// Flink SQL's lexical rules as sqlparser needs them: identifiers quoted
/// with backticks only, strings in single quotes with `''` as the only
/// escape (no backslash escapes), `--` and non-nesting `/* */` comments.
#[derive(Debug, Default, Clone, Copy)]
pub struct FlinkDialect;

impl Dialect for FlinkDialect {
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }

    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('`')
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_' || ch == '$'
    }

    fn supports_string_literal_backslash_escape(&self) -> bool {
        false
    }

    fn supports_nested_comments(&self) -> bool {
        false
    }
}

/// The scalar functions allowed, with their arity (`min..=max` arguments).
/// All deterministic Flink built-ins; no aggregates, no table functions,
/// nothing that reads the clock or randomness.
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    // strings
    ("UPPER", 1, 1),
    ("LOWER", 1, 1),
    ("LTRIM", 1, 1),
    ("RTRIM", 1, 1),
    ("CONCAT", 1, 64),
    ("CONCAT_WS", 2, 64),
    ("CHAR_LENGTH", 1, 1),
    ("CHARACTER_LENGTH", 1, 1),
    ("REPLACE", 3, 3),
    ("LPAD", 3, 3),
    ("RPAD", 3, 3),
    ("INITCAP", 1, 1),
    ("REPEAT", 2, 2),
    ("REVERSE", 1, 1),
    ("LOCATE", 2, 3),
    ("SPLIT_INDEX", 3, 3),
    ("MD5", 1, 1),
    ("SHA1", 1, 1),
    ("SHA256", 1, 1),
    ("SHA512", 1, 1),
    ("TO_BASE64", 1, 1),
    ("FROM_BASE64", 1, 1),
    // nulls and conditions
    ("COALESCE", 1, 64),
    ("NULLIF", 2, 2),
    ("IFNULL", 2, 2),
    ("IF", 3, 3),
    ("GREATEST", 1, 64),
    ("LEAST", 1, 64),
    // numbers
    ("ABS", 1, 1),
    ("ROUND", 1, 2),
    ("TRUNCATE", 1, 2),
    ("MOD", 2, 2),
    ("POWER", 2, 2),
    ("SQRT", 1, 1),
    ("SIGN", 1, 1),
    ("LN", 1, 1),
    ("LOG10", 1, 1),
    ("EXP", 1, 1),
    // dates and times
    ("DATE_FORMAT", 2, 2),
    ("TO_DATE", 1, 2),
    ("TO_TIMESTAMP", 1, 2),
    ("TO_TIMESTAMP_LTZ", 2, 2),
    ("FROM_UNIXTIME", 1, 2),
    ("UNIX_TIMESTAMP", 1, 2),
    ("CONVERT_TZ", 3, 3),
    ("YEAR", 1, 1),
    ("QUARTER", 1, 1),
    ("MONTH", 1, 1),
    ("WEEK", 1, 1),
    ("DAYOFYEAR", 1, 1),
    ("DAYOFMONTH", 1, 1),
    ("DAYOFWEEK", 1, 1),
    ("HOUR", 1, 1),
    ("MINUTE", 1, 1),
    ("SECOND", 1, 1),
];

/// Functions that may return a boolean (for the shape check of filters).
const MAYBE_BOOLEAN_FUNCTIONS: &[&str] =
    &["COALESCE", "NULLIF", "IFNULL", "IF", "GREATEST", "LEAST"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Plus,
    Minus,
    Multiply,
    Divide,
    Concat,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinOp {
    fn sql(self) -> &'static str {
        match self {
            BinOp::Plus => "+",
            BinOp::Minus => "-",
            BinOp::Multiply => "*",
            BinOp::Divide => "/",
            BinOp::Concat => "||",
            BinOp::Eq => "=",
            BinOp::NotEq => "<>",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }

    fn is_predicate(self) -> bool {
        !matches!(
            self,
            BinOp::Plus | BinOp::Minus | BinOp::Multiply | BinOp::Divide | BinOp::Concat
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsTest {
    Null,
    NotNull,
    True,
    NotTrue,
    False,
    NotFalse,
}

impl IsTest {
    fn sql(self) -> &'static str {
        match self {
            IsTest::Null => "IS NULL",
            IsTest::NotNull => "IS NOT NULL",
            IsTest::True => "IS TRUE",
            IsTest::NotTrue => "IS NOT TRUE",
            IsTest::False => "IS FALSE",
            IsTest::NotFalse => "IS NOT FALSE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

/// An allowed expression. Built only by [`parse`], rendered only by
/// [`Expr::sql`].
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A declared source column.
    Column(String),
    Null,
    Bool(bool),
    /// Unsigned numeric text, checked: `12`, `1.5`, `.5`, `2e10`.
    Number(String),
    Str(String),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(Box<Expr>, BinOp, Box<Expr>),
    Is(Box<Expr>, IsTest),
    DistinctFrom {
        left: Box<Expr>,
        right: Box<Expr>,
        negated: bool,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        escape: Option<char>,
        negated: bool,
    },
    Cast {
        expr: Box<Expr>,
        ty: FlinkType,
        try_cast: bool,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_result: Option<Box<Expr>>,
    },
    Call {
        name: &'static str,
        args: Vec<Expr>,
    },
    Trim {
        side: Option<TrimSide>,
        what: Option<Box<Expr>>,
        expr: Box<Expr>,
    },
    Substring {
        expr: Box<Expr>,
        from: Box<Expr>,
        len: Option<Box<Expr>>,
    },
    Position {
        needle: Box<Expr>,
        haystack: Box<Expr>,
    },
    Extract {
        field: &'static str,
        expr: Box<Expr>,
    },
    CeilFloor {
        ceil: bool,
        expr: Box<Expr>,
    },
}

/// Why an expression was refused: a reason for the field, which never
/// quotes the text (only, at most, a checked identifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub reason: String,
    /// The expression names a column that is not declared: moot while the
    /// declared columns themselves have errors.
    pub unknown_column: bool,
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Parses `text` as one expression over `columns` (name -> type) and checks
/// it against the allow-list.
pub fn parse(text: &str, columns: &BTreeMap<String, FlinkType>) -> Result<Expr, ExprError> {
    let walker = Walker {
        columns,
        unknown_column: Cell::new(false),
    };
    parse_with(text, &walker).map_err(|reason| ExprError {
        reason,
        unknown_column: walker.unknown_column.get(),
    })
}

fn parse_with(text: &str, walker: &Walker<'_>) -> Result<Expr, String> {
    if text.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if text.chars().count() > MAX_EXPR_CHARS {
        return Err(format!("must be at most {MAX_EXPR_CHARS} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters other than tabs and line breaks".into());
    }
    let dialect = FlinkDialect;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .try_with_sql(text)
        .map_err(|_| {
            "is not a valid expression: it has a character or quote that does not lex".to_string()
        })?;
    let parsed = parser.parse_expr().map_err(|e| match e {
        ParserError::RecursionLimitExceeded => too_deep(),
        _ => "is not a valid SQL expression".to_string(),
    })?;
    if parser.peek_token().token != Token::EOF {
        return Err("must be a single expression (unexpected text after it)".into());
    }
    walker.expr(&parsed, 0)
}

fn too_deep() -> String {
    format!("nests deeper than {MAX_DEPTH} levels; at most {MAX_DEPTH} are allowed")
}

struct Walker<'a> {
    columns: &'a BTreeMap<String, FlinkType>,
    unknown_column: Cell<bool>,
}

type R<T> = Result<T, String>;

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Walker<'_> {
    fn expr(&self, e: &sql::Expr, depth: usize) -> R<Expr> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let d = depth + 1;
        let sub = |e: &sql::Expr| self.expr(e, d).map(boxed);
        Ok(match e {
            sql::Expr::Identifier(ident) => self.column(ident)?,
            sql::Expr::CompoundIdentifier(_) => {
                return Err("qualified names (a.b) are not allowed: name a column".into());
            }
            sql::Expr::Nested(inner) => self.expr(inner, d)?,
            sql::Expr::Value(v) => value(&v.value)?,
            sql::Expr::TypedString(ts) => typed_string(ts)?,
            sql::Expr::UnaryOp { op, expr } => match op {
                sql::UnaryOperator::Not => Expr::Not(sub(expr)?),
                sql::UnaryOperator::Minus => Expr::Neg(sub(expr)?),
                sql::UnaryOperator::Plus => self.expr(expr, d)?,
                _ => return Err("uses an operator that is not allowed".into()),
            },
            sql::Expr::BinaryOp { left, op, right } => {
                let op = binop(op)?;
                Expr::Binary(sub(left)?, op, sub(right)?)
            }
            sql::Expr::IsNull(x) => Expr::Is(sub(x)?, IsTest::Null),
            sql::Expr::IsNotNull(x) => Expr::Is(sub(x)?, IsTest::NotNull),
            sql::Expr::IsTrue(x) => Expr::Is(sub(x)?, IsTest::True),
            sql::Expr::IsNotTrue(x) => Expr::Is(sub(x)?, IsTest::NotTrue),
            sql::Expr::IsFalse(x) => Expr::Is(sub(x)?, IsTest::False),
            sql::Expr::IsNotFalse(x) => Expr::Is(sub(x)?, IsTest::NotFalse),
            sql::Expr::IsDistinctFrom(l, r) => Expr::DistinctFrom {
                left: sub(l)?,
                right: sub(r)?,
                negated: false,
            },
            sql::Expr::IsNotDistinctFrom(l, r) => Expr::DistinctFrom {
                left: sub(l)?,
                right: sub(r)?,
                negated: true,
            },
            sql::Expr::In {
                expr,
                target,
                negated,
                global,
            } => {
                if *global {
                    return Err("GLOBAL IN is not allowed".into());
                }
                let sql::InTarget::List(items) = target else {
                    return Err("IN takes a list of values, not a subquery or table".into());
                };
                if items.is_empty() || items.len() > MAX_LIST {
                    return Err(format!("IN lists must have 1 to {MAX_LIST} items"));
                }
                Expr::InList {
                    expr: sub(expr)?,
                    list: items.iter().map(|i| self.expr(i, d)).collect::<R<_>>()?,
                    negated: *negated,
                }
            }
            sql::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: sub(expr)?,
                low: sub(low)?,
                high: sub(high)?,
                negated: *negated,
            },
            sql::Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any {
                    return Err("LIKE ANY is not allowed".into());
                }
                let escape = match escape_char.as_deref() {
                    None => None,
                    Some(sql::Expr::Value(v)) => match &v.value {
                        sql::Value::SingleQuotedString(s) if s.chars().count() == 1 => {
                            let c = s.chars().next().expect("one char");
                            if c.is_control() {
                                return Err("the LIKE escape must be a visible character".into());
                            }
                            Some(c)
                        }
                        _ => return Err("the LIKE escape must be one character in quotes".into()),
                    },
                    Some(_) => return Err("the LIKE escape must be one character in quotes".into()),
                };
                Expr::Like {
                    expr: sub(expr)?,
                    pattern: sub(pattern)?,
                    escape,
                    negated: *negated,
                }
            }
            sql::Expr::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                let try_cast = match kind {
                    sql::CastKind::Cast => false,
                    sql::CastKind::TryCast => true,
                    _ => return Err("write casts as CAST(x AS type)".into()),
                };
                if format.is_some() {
                    return Err("CAST ... FORMAT is not allowed".into());
                }
                Expr::Cast {
                    expr: sub(expr)?,
                    ty: data_type_of(data_type)?,
                    try_cast,
                }
            }
            sql::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if conditions.is_empty() || conditions.len() > MAX_LIST {
                    return Err(format!("CASE must have 1 to {MAX_LIST} WHENs"));
                }
                Expr::Case {
                    operand: operand.as_deref().map(sub).transpose()?,
                    whens: conditions
                        .iter()
                        .map(|w| Ok((self.expr(&w.condition, d)?, self.expr(&w.result, d)?)))
                        .collect::<R<_>>()?,
                    else_result: else_result.as_deref().map(sub).transpose()?,
                }
            }
            sql::Expr::Function(f) => self.function(f, d)?,
            sql::Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err("write TRIM as TRIM([BOTH|LEADING|TRAILING] [chars FROM] x)".into());
                }
                Expr::Trim {
                    side: trim_where.map(|w| match w {
                        sql::TrimWhereField::Both => TrimSide::Both,
                        sql::TrimWhereField::Leading => TrimSide::Leading,
                        sql::TrimWhereField::Trailing => TrimSide::Trailing,
                    }),
                    what: trim_what.as_deref().map(sub).transpose()?,
                    expr: sub(expr)?,
                }
            }
            sql::Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let Some(from) = substring_from else {
                    return Err("SUBSTRING needs a start position".into());
                };
                Expr::Substring {
                    expr: sub(expr)?,
                    from: sub(from)?,
                    len: substring_for.as_deref().map(sub).transpose()?,
                }
            }
            sql::Expr::Position { expr, r#in } => Expr::Position {
                needle: sub(expr)?,
                haystack: sub(r#in)?,
            },
            sql::Expr::Extract { field, expr, .. } => Expr::Extract {
                field: extract_field(field)?,
                expr: sub(expr)?,
            },
            sql::Expr::Ceil { expr, field } | sql::Expr::Floor { expr, field } => {
                let plain = matches!(
                    field,
                    sql::CeilFloorKind::DateTimeField(sql::DateTimeField::NoDateTime)
                );
                if !plain {
                    return Err("CEIL and FLOOR take one number".into());
                }
                Expr::CeilFloor {
                    ceil: matches!(e, sql::Expr::Ceil { .. }),
                    expr: sub(expr)?,
                }
            }
            sql::Expr::Subquery(_) | sql::Expr::Exists { .. } => {
                return Err("subqueries are not allowed".into());
            }
            sql::Expr::Wildcard(_) | sql::Expr::QualifiedWildcard(..) => {
                return Err("wildcards (*) are not allowed".into());
            }
            sql::Expr::Interval(_) => return Err("INTERVAL is not allowed".into()),
            _ => return Err("uses a construct that is not allowed".into()),
        })
    }

    fn column(&self, ident: &sql::Ident) -> R<Expr> {
        if !matches!(ident.quote_style, None | Some('`')) {
            return Err("quote column names with backticks".into());
        }
        if !is_identifier(&ident.value) {
            return Err(
                "names a column that is not a valid name (1 to 64 characters, no control characters)".into(),
            );
        }
        if !self.columns.contains_key(&ident.value) {
            self.unknown_column.set(true);
            return Err(format!(
                "refers to {}, which is not a declared source column",
                ident.value
            ));
        }
        Ok(Expr::Column(ident.value.clone()))
    }

    fn function(&self, f: &sql::Function, d: usize) -> R<Expr> {
        let [sql::ObjectNamePart::Identifier(ident)] = f.name.0.as_slice() else {
            return Err("functions must be called by a plain name".into());
        };
        if ident.quote_style.is_some() {
            return Err("function names must not be quoted".into());
        }
        let upper = ident.value.to_ascii_uppercase();
        let Some(&(name, min, max)) = FUNCTIONS.iter().find(|(n, _, _)| *n == upper) else {
            return Err(if is_identifier(&ident.value) {
                format!("calls {upper}, which is not an allowed function")
            } else {
                "calls a function that is not allowed".into()
            });
        };
        if f.uses_odbc_syntax
            || !matches!(f.parameters, sql::FunctionArguments::None)
            || f.filter.is_some()
            || f.null_treatment.is_some()
            || f.over.is_some()
            || !f.within_group.is_empty()
        {
            return Err(format!(
                "{name} is a scalar function: no OVER, FILTER or WITHIN GROUP"
            ));
        }
        let sql::FunctionArguments::List(list) = &f.args else {
            return Err(format!("{name} needs its arguments in parentheses"));
        };
        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
            return Err(format!("{name} takes plain arguments"));
        }
        if list.args.len() < min || list.args.len() > max {
            return Err(if min == max {
                format!("{name} takes {min} argument(s)")
            } else {
                format!("{name} takes {min} to {max} arguments")
            });
        }
        let args = list
            .args
            .iter()
            .map(|a| match a {
                sql::FunctionArg::Unnamed(sql::FunctionArgExpr::Expr(e)) => self.expr(e, d),
                sql::FunctionArg::Unnamed(_) => Err("wildcards (*) are not allowed".into()),
                _ => Err("named arguments are not allowed".into()),
            })
            .collect::<R<_>>()?;
        Ok(Expr::Call { name, args })
    }
}

fn value(v: &sql::Value) -> R<Expr> {
    Ok(match v {
        sql::Value::Null => Expr::Null,
        sql::Value::Boolean(b) => Expr::Bool(*b),
        sql::Value::Number(text, long) => {
            if *long || !is_number(text) {
                return Err("has a malformed number".into());
            }
            Expr::Number(text.clone())
        }
        sql::Value::SingleQuotedString(s) => Expr::Str(checked_string(s)?),
        sql::Value::DoubleQuotedString(_) => {
            return Err("strings go in single quotes (double quotes are not allowed)".into());
        }
        sql::Value::Placeholder(_) => return Err("placeholders are not allowed".into()),
        _ => return Err("only plain 'single-quoted' strings are allowed".into()),
    })
}

fn checked_string(s: &str) -> R<String> {
    if s.chars().any(char::is_control) {
        return Err("string literals must not contain control characters".into());
    }
    Ok(s.to_owned())
}

/// `12`, `1.5`, `1.`, `.5`, `2e10`, `2.5E-3`: what Flink lexes as one
/// unsigned numeric literal.
fn is_number(text: &str) -> bool {
    if text.is_empty() || text.len() > 64 {
        return false;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn typed_string(ts: &sql::TypedString) -> R<Expr> {
    if ts.uses_odbc_syntax {
        return Err("ODBC literals are not allowed".into());
    }
    let sql::Value::SingleQuotedString(text) = &ts.value.value else {
        return Err("typed literals take a 'single-quoted' value".into());
    };
    let text = text.trim();
    match &ts.data_type {
        sql::DataType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .map(Expr::Date)
            .ok_or_else(|| "has a DATE literal that is not a valid YYYY-MM-DD date".into()),
        sql::DataType::Time(_, sql::TimezoneInfo::None) => parse_time(text)
            .map(Expr::Time)
            .ok_or_else(|| "has a TIME literal that is not a valid HH:MM:SS[.fff] time".into()),
        sql::DataType::Timestamp(_, sql::TimezoneInfo::None) => {
            let parsed = text.split_once(' ').and_then(|(d, t)| {
                let date = NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .ok()
                    .filter(|_| d.len() == 10)?;
                Some(date.and_time(parse_time(t)?))
            });
            parsed.map(Expr::Timestamp).ok_or_else(|| {
                "has a TIMESTAMP literal that is not a valid 'YYYY-MM-DD HH:MM:SS[.fff]'".into()
            })
        }
        _ => Err("only DATE, TIME and TIMESTAMP typed literals are allowed".into()),
    }
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let (hms, fraction) = match text.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (text, None),
    };
    if hms.len() != 8 {
        return None;
    }
    if let Some(f) = fraction
        && (f.is_empty() || f.len() > 9 || !f.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    NaiveTime::parse_from_str(
        text,
        if fraction.is_some() {
            "%H:%M:%S%.f"
        } else {
            "%H:%M:%S"
        },
    )
    .ok()
}

fn binop(op: &sql::BinaryOperator) -> R<BinOp> {
    use sql::BinaryOperator as B;
    Ok(match op {
        B::Plus => BinOp::Plus,
        B::Minus => BinOp::Minus,
        B::Multiply => BinOp::Multiply,
        B::Divide => BinOp::Divide,
        B::StringConcat => BinOp::Concat,
        B::Eq => BinOp::Eq,
        B::NotEq => BinOp::NotEq,
        B::Lt => BinOp::Lt,
        B::LtEq => BinOp::LtEq,
        B::Gt => BinOp::Gt,
        B::GtEq => BinOp::GtEq,
        B::And => BinOp::And,
        B::Or => BinOp::Or,
        B::Modulo => return Err("use MOD(a, b) instead of %".into()),
        _ => return Err("uses an operator that is not allowed".into()),
    })
}

fn extract_field(field: &sql::DateTimeField) -> R<&'static str> {
    use sql::DateTimeField as F;
    Ok(match field {
        F::Year => "YEAR",
        F::Quarter => "QUARTER",
        F::Month => "MONTH",
        F::Week(None) => "WEEK",
        F::Day => "DAY",
        F::DayOfWeek => "DOW",
        F::DayOfYear => "DOY",
        F::Hour => "HOUR",
        F::Minute => "MINUTE",
        F::Second => "SECOND",
        _ => {
            return Err(
                "EXTRACT takes YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE or SECOND".into(),
            );
        }
    })
}

/// The Flink type of a CAST target.
fn data_type_of(dt: &sql::DataType) -> R<FlinkType> {
    use sql::DataType as D;
    let none = |p: &Option<u64>| p.is_none();
    let opt = |p: &Option<u64>| p.iter().copied().collect::<Vec<u64>>();
    let exact = |info: &sql::ExactNumberInfo| -> R<Vec<u64>> {
        Ok(match info {
            sql::ExactNumberInfo::None => vec![],
            sql::ExactNumberInfo::Precision(p) => vec![*p],
            sql::ExactNumberInfo::PrecisionAndScale(p, s) => {
                vec![
                    *p,
                    u64::try_from(*s).map_err(|_| "a negative scale".to_string())?,
                ]
            }
        })
    };
    let char_len = |l: &Option<sql::CharacterLength>| -> R<Vec<u64>> {
        match l {
            None => Ok(vec![]),
            Some(sql::CharacterLength::IntegerLength { length, unit: None }) => Ok(vec![*length]),
            Some(_) => Err("a character length must be a plain number".into()),
        }
    };
    let no_tz = |tz: &sql::TimezoneInfo| {
        matches!(
            tz,
            sql::TimezoneInfo::None | sql::TimezoneInfo::WithoutTimeZone
        )
    };
    let built = match dt {
        D::Boolean | D::Bool => FlinkType::from_parts("BOOLEAN", &[], false),
        D::TinyInt(p) if none(p) => FlinkType::from_parts("TINYINT", &[], false),
        D::SmallInt(p) if none(p) => FlinkType::from_parts("SMALLINT", &[], false),
        D::Int(p) | D::Integer(p) if none(p) => FlinkType::from_parts("INT", &[], false),
        D::BigInt(p) if none(p) => FlinkType::from_parts("BIGINT", &[], false),
        D::Decimal(info) | D::Numeric(info) | D::Dec(info) => {
            FlinkType::from_parts("DECIMAL", &exact(info)?, false)
        }
        D::Float(sql::ExactNumberInfo::None) => FlinkType::from_parts("FLOAT", &[], false),
        D::Double(sql::ExactNumberInfo::None) | D::DoublePrecision => {
            FlinkType::from_parts("DOUBLE", &[], false)
        }
        D::Char(l) | D::Character(l) => FlinkType::from_parts("CHAR", &char_len(l)?, false),
        D::Varchar(l) => FlinkType::from_parts("VARCHAR", &char_len(l)?, false),
        D::String(p) if none(p) => FlinkType::from_parts("STRING", &[], false),
        D::Bytes(p) if none(p) => FlinkType::from_parts("BYTES", &[], false),
        D::Binary(p) => FlinkType::from_parts("BINARY", &opt(p), false),
        D::Varbinary(l) => match l {
            None => FlinkType::from_parts("VARBINARY", &[], false),
            Some(sql::BinaryLength::IntegerLength { length }) => {
                FlinkType::from_parts("VARBINARY", &[*length], false)
            }
            Some(sql::BinaryLength::Max) => Err("VARBINARY(MAX) is spelled BYTES".into()),
        },
        D::Date => FlinkType::from_parts("DATE", &[], false),
        D::Time(p, tz) if no_tz(tz) => FlinkType::from_parts("TIME", &opt(p), false),
        D::Timestamp(p, tz) if no_tz(tz) => FlinkType::from_parts("TIMESTAMP", &opt(p), false),
        D::Custom(name, modifiers) => {
            let [sql::ObjectNamePart::Identifier(id)] = name.0.as_slice() else {
                return Err("CAST to an unknown type".into());
            };
            if id.quote_style.is_some() || !id.value.eq_ignore_ascii_case("TIMESTAMP_LTZ") {
                return Err("CAST to an unknown type".into());
            }
            let params = modifiers
                .iter()
                .map(|m| match m {
                    sql::TypeModifier::Number(n, false) => n
                        .parse::<u64>()
                        .map_err(|_| "a malformed type parameter".to_string()),
                    _ => Err("a malformed type parameter".to_string()),
                })
                .collect::<R<Vec<u64>>>()?;
            FlinkType::from_parts("TIMESTAMP_LTZ", &params, false)
        }
        _ => Err("CAST to a type that is not allowed".into()),
    };
    built.map_err(|reason| format!("has a CAST type that is invalid: {reason}"))
}

impl Expr {
    /// The type when it is known without a planner: a column's, or a
    /// CAST's.
    pub fn known_type(&self, columns: &BTreeMap<String, FlinkType>) -> Option<FlinkType> {
        match self {
            Expr::Column(name) => columns.get(name).copied(),
            Expr::Cast { ty, .. } => Some(*ty),
            _ => None,
        }
    }

    /// False when the expression certainly is not a boolean (a number, a
    /// string, arithmetic, a non-boolean column...): a filter must be one.
    pub fn may_be_boolean(&self, columns: &BTreeMap<String, FlinkType>) -> bool {
        match self {
            Expr::Column(_) | Expr::Cast { .. } => {
                self.known_type(columns).is_none_or(|t| t.is_boolean())
            }
            Expr::Null | Expr::Bool(_) | Expr::Not(_) | Expr::Is(..) => true,
            Expr::DistinctFrom { .. } | Expr::InList { .. } | Expr::Between { .. } => true,
            Expr::Like { .. } | Expr::Case { .. } => true,
            Expr::Binary(_, op, _) => op.is_predicate(),
            Expr::Call { name, .. } => MAYBE_BOOLEAN_FUNCTIONS.contains(name),
            _ => false,
        }
    }

    /// Self-delimiting forms need no parentheses as operands.
    fn is_atom(&self) -> bool {
        !matches!(
            self,
            Expr::Not(_)
                | Expr::Neg(_)
                | Expr::Binary(..)
                | Expr::Is(..)
                | Expr::DistinctFrom { .. }
                | Expr::InList { .. }
                | Expr::Between { .. }
                | Expr::Like { .. }
        )
    }

    /// As an operand: in parentheses unless it is an atom.
    fn operand(&self) -> String {
        if self.is_atom() {
            self.sql()
        } else {
            format!("({})", self.sql())
        }
    }

    /// An operand of `op`: chains of one associative logical operator stay
    /// flat (`a AND b AND c`), everything else compound is parenthesized.
    pub(crate) fn operand_of(&self, op: BinOp) -> String {
        match self {
            Expr::Binary(_, inner, _) if *inner == op && matches!(op, BinOp::And | BinOp::Or) => {
                self.sql()
            }
            _ => self.operand(),
        }
    }

    /// The Flink SQL text.
    pub fn sql(&self) -> String {
        let list = |items: &[Expr]| items.iter().map(Expr::sql).collect::<Vec<_>>().join(", ");
        match self {
            Expr::Column(name) => quote_identifier(name),
            Expr::Null => "NULL".into(),
            Expr::Bool(true) => "TRUE".into(),
            Expr::Bool(false) => "FALSE".into(),
            Expr::Number(text) => text.clone(),
            Expr::Str(s) => string_literal(s),
            Expr::Date(d) => date_literal(*d),
            Expr::Time(t) => time_literal(*t),
            Expr::Timestamp(ts) => timestamp_literal(*ts),
            Expr::Not(x) => format!("NOT {}", x.operand()),
            // An operand that is not an atom is parenthesized, so a second
            // minus can never touch the first and start a `--` comment.
            Expr::Neg(x) => format!("-{}", x.operand()),
            Expr::Binary(l, op, r) => {
                format!("{} {} {}", l.operand_of(*op), op.sql(), r.operand_of(*op))
            }
            Expr::Is(x, test) => format!("{} {}", x.operand(), test.sql()),
            Expr::DistinctFrom {
                left,
                right,
                negated,
            } => format!(
                "{} IS {}DISTINCT FROM {}",
                left.operand(),
                if *negated { "NOT " } else { "" },
                right.operand()
            ),
            Expr::InList {
                expr,
                list: items,
                negated,
            } => format!(
                "{} {}IN ({})",
                expr.operand(),
                if *negated { "NOT " } else { "" },
                list(items)
            ),
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => format!(
                "{} {}BETWEEN {} AND {}",
                expr.operand(),
                if *negated { "NOT " } else { "" },
                low.operand(),
                high.operand()
            ),
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                let mut s = format!(
                    "{} {}LIKE {}",
                    expr.operand(),
                    if *negated { "NOT " } else { "" },
                    pattern.operand()
                );
                if let Some(c) = escape {
                    s.push_str(" ESCAPE ");
                    s.push_str(&string_literal(&c.to_string()));
                }
                s
            }
            Expr::Cast { expr, ty, try_cast } => format!(
                "{}({} AS {})",
                if *try_cast { "TRY_CAST" } else { "CAST" },
                expr.sql(),
                ty.sql()
            ),
            Expr::Case {
                operand,
                whens,
                else_result,
            } => {
                let mut s = String::from("CASE");
                if let Some(op) = operand {
                    s.push(' ');
                    s.push_str(&op.operand());
                }
                for (cond, result) in whens {
                    s.push_str(&format!(" WHEN {} THEN {}", cond.sql(), result.sql()));
                }
                if let Some(e) = else_result {
                    s.push_str(&format!(" ELSE {}", e.sql()));
                }
                s.push_str(" END");
                s
            }
            Expr::Call { name, args } => format!("{name}({})", list(args)),
            Expr::Trim { side, what, expr } => {
                let mut s = String::from("TRIM(");
                if side.is_some() || what.is_some() {
                    s.push_str(match side.unwrap_or(TrimSide::Both) {
                        TrimSide::Both => "BOTH ",
                        TrimSide::Leading => "LEADING ",
                        TrimSide::Trailing => "TRAILING ",
                    });
                    if let Some(w) = what {
                        s.push_str(&w.sql());
                        s.push(' ');
                    }
                    s.push_str("FROM ");
                }
                s.push_str(&expr.sql());
                s.push(')');
                s
            }
            Expr::Substring { expr, from, len } => match len {
                Some(len) => format!(
                    "SUBSTRING({} FROM {} FOR {})",
                    expr.sql(),
                    from.sql(),
                    len.sql()
                ),
                None => format!("SUBSTRING({} FROM {})", expr.sql(), from.sql()),
            },
            Expr::Position { needle, haystack } => {
                format!("POSITION({} IN {})", needle.operand(), haystack.operand())
            }
            Expr::Extract { field, expr } => format!("EXTRACT({field} FROM {})", expr.sql()),
            Expr::CeilFloor { ceil, expr } => {
                format!("{}({})", if *ceil { "CEIL" } else { "FLOOR" }, expr.sql())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> BTreeMap<String, FlinkType> {
        [
            ("id", FlinkType::BigInt),
            ("name", FlinkType::Varchar(100)),
            (
                "amount",
                FlinkType::Decimal {
                    precision: 12,
                    scale: 2,
                },
            ),
            ("active", FlinkType::Boolean),
            ("created_at", FlinkType::Timestamp(3)),
            ("order", FlinkType::Int),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect()
    }

    fn ok(text: &str) -> String {
        parse(text, &cols())
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .sql()
    }

    fn err(text: &str) -> String {
        match parse(text, &cols()) {
            Ok(e) => panic!("{text} was accepted as {}", e.sql()),
            Err(e) => e.reason,
        }
    }

    #[test]
    fn columns_literals_and_parentheses() {
        assert_eq!(ok("id"), "`id`");
        assert_eq!(ok("`order`"), "`order`");
        assert_eq!(ok("((id))"), "`id`");
        assert_eq!(ok("NULL"), "NULL");
        assert_eq!(ok("true"), "TRUE");
        assert_eq!(ok("FALSE"), "FALSE");
        assert_eq!(ok("42"), "42");
        assert_eq!(ok("1.50"), "1.50");
        assert_eq!(ok(".5"), ".5");
        assert_eq!(ok("2e10"), "2e10");
        assert_eq!(ok("'it''s'"), "'it''s'");
        assert_eq!(ok("''"), "''");
        assert_eq!(ok("-5"), "-5");
        assert_eq!(ok("- -5"), "-(-5)");
        assert_eq!(ok("-(-id)"), "-(-`id`)");
        assert_eq!(ok("+id"), "`id`");
    }

    #[test]
    fn typed_literals_are_validated_and_canonical() {
        assert_eq!(ok("DATE '2024-02-29'"), "DATE '2024-02-29'");
        assert_eq!(ok("TIME '07:05:03'"), "TIME '07:05:03'");
        assert_eq!(ok("TIME '07:05:03.250'"), "TIME '07:05:03.25'");
        assert_eq!(
            ok("TIMESTAMP '2024-01-01 00:00:00.000001'"),
            "TIMESTAMP '2024-01-01 00:00:00.000001'"
        );
        for bad in [
            "DATE '2023-02-29'",
            "DATE '2024-1-1'",
            "DATE 'yesterday'",
            "DATE '2024-01-01'' OR ''1'='1'",
            "TIME '25:00:00'",
            "TIME '12:00'",
            "TIME '12:00:00.'",
            "TIMESTAMP '2024-01-01'",
            "TIMESTAMP '2024-01-01T00:00:00'",
            "TIMESTAMP '2024-01-01 00:00:00.1234567890'",
            "TIMESTAMP WITH TIME ZONE '2024-01-01 00:00:00'",
            "INTERVAL '1' DAY",
        ] {
            err(bad);
        }
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(ok("id = 1"), "`id` = 1");
        assert_eq!(ok("id != 1"), "`id` <> 1");
        assert_eq!(ok("id <> 1"), "`id` <> 1");
        assert_eq!(ok("id < 1 OR id <= 2"), "(`id` < 1) OR (`id` <= 2)");
        assert_eq!(
            ok("id > 1 AND id >= 2 AND active"),
            "(`id` > 1) AND (`id` >= 2) AND `active`"
        );
        assert_eq!(
            ok("NOT active OR (id = 1 AND id = 2)"),
            "(NOT `active`) OR ((`id` = 1) AND (`id` = 2))"
        );
        assert_eq!(ok("NOT (id = 1)"), "NOT (`id` = 1)");
    }

    #[test]
    fn arithmetic_and_concat_keep_their_grouping() {
        assert_eq!(ok("id + 1 * 2"), "`id` + (1 * 2)");
        assert_eq!(ok("(id + 1) * 2"), "(`id` + 1) * 2");
        assert_eq!(ok("amount / 2 - id"), "(`amount` / 2) - `id`");
        assert_eq!(ok("id - -1"), "`id` - (-1)");
        assert_eq!(ok("name || '-' || name"), "(`name` || '-') || `name`");
        assert!(err("id % 2").contains("MOD"));
        err("id & 1");
        err("id | 1");
        err("id ^ 1");
        err("id << 1");
        err("name ~ 'x'");
        err("id DIV 2");
    }

    #[test]
    fn predicates() {
        assert_eq!(ok("name IS NULL"), "`name` IS NULL");
        assert_eq!(ok("name IS NOT NULL"), "`name` IS NOT NULL");
        assert_eq!(ok("active IS TRUE"), "`active` IS TRUE");
        assert_eq!(ok("active IS NOT FALSE"), "`active` IS NOT FALSE");
        assert_eq!(ok("id IS DISTINCT FROM 3"), "`id` IS DISTINCT FROM 3");
        assert_eq!(ok("id IN (1, 2, 3)"), "`id` IN (1, 2, 3)");
        assert_eq!(ok("name NOT IN ('a', 'b')"), "`name` NOT IN ('a', 'b')");
        assert_eq!(ok("id BETWEEN 1 AND 10"), "`id` BETWEEN 1 AND 10");
        assert_eq!(
            ok("id NOT BETWEEN 1 + 1 AND 10"),
            "`id` NOT BETWEEN (1 + 1) AND 10"
        );
        assert_eq!(ok("name LIKE 'a%'"), "`name` LIKE 'a%'");
        assert_eq!(
            ok("name NOT LIKE 'a!%%' ESCAPE '!'"),
            "`name` NOT LIKE 'a!%%' ESCAPE '!'"
        );
        err("name LIKE 'a' ESCAPE 'ab'");
        err("name ILIKE 'a%'");
        err("name SIMILAR TO 'a'");
        err("name RLIKE 'a'");
        err("name REGEXP 'a'");
        err("id IN (SELECT 1)");
        err("id = ANY (SELECT 1)");
    }

    #[test]
    fn cast_and_case() {
        assert_eq!(ok("CAST(id AS STRING)"), "CAST(`id` AS STRING)");
        assert_eq!(
            ok("cast(name as decimal(10,2))"),
            "CAST(`name` AS DECIMAL(10, 2))"
        );
        assert_eq!(ok("CAST(id AS VARCHAR(20))"), "CAST(`id` AS VARCHAR(20))");
        assert_eq!(ok("CAST(id AS TIMESTAMP(3))"), "CAST(`id` AS TIMESTAMP(3))");
        assert_eq!(
            ok("CAST(created_at AS TIMESTAMP_LTZ(3))"),
            "CAST(`created_at` AS TIMESTAMP_LTZ(3))"
        );
        assert_eq!(ok("CAST(id AS INTEGER)"), "CAST(`id` AS INT)");
        assert_eq!(ok("CAST(id AS BYTES)"), "CAST(`id` AS BYTES)");
        assert_eq!(ok("TRY_CAST(name AS INT)"), "TRY_CAST(`name` AS INT)");
        err("CAST(id AS TEXT)");
        err("CAST(id AS DECIMAL(40, 2))");
        err("CAST(id AS MAP<STRING, INT>)");
        err("CAST(id AS `INT`)");
        err("id::INT");
        err("CAST(id AS INT FORMAT 'x')");
        assert_eq!(
            ok("CASE WHEN id > 1 THEN 'big' WHEN id = 1 THEN 'one' ELSE 'small' END"),
            "CASE WHEN `id` > 1 THEN 'big' WHEN `id` = 1 THEN 'one' ELSE 'small' END"
        );
        assert_eq!(
            ok("CASE id WHEN 1 THEN 'a' END"),
            "CASE `id` WHEN 1 THEN 'a' END"
        );
    }

    #[test]
    fn allowed_functions_render_canonically() {
        assert_eq!(ok("upper(name)"), "UPPER(`name`)");
        assert_eq!(ok("CONCAT(name, '-', id)"), "CONCAT(`name`, '-', `id`)");
        assert_eq!(
            ok("CONCAT_WS('/', name, name)"),
            "CONCAT_WS('/', `name`, `name`)"
        );
        assert_eq!(ok("COALESCE(name, 'n/a')"), "COALESCE(`name`, 'n/a')");
        assert_eq!(ok("ROUND(amount, 1)"), "ROUND(`amount`, 1)");
        assert_eq!(
            ok("DATE_FORMAT(created_at, 'yyyy-MM')"),
            "DATE_FORMAT(`created_at`, 'yyyy-MM')"
        );
        assert_eq!(ok("YEAR(created_at)"), "YEAR(`created_at`)");
        assert_eq!(ok("HOUR(created_at)"), "HOUR(`created_at`)");
        assert_eq!(ok("MD5(name)"), "MD5(`name`)");
        assert_eq!(ok("SHA256(name)"), "SHA256(`name`)");
        assert_eq!(ok("TRIM(name)"), "TRIM(`name`)");
        assert_eq!(
            ok("TRIM(LEADING 'x' FROM name)"),
            "TRIM(LEADING 'x' FROM `name`)"
        );
        assert_eq!(ok("SUBSTR(name, 1, 3)"), "SUBSTRING(`name` FROM 1 FOR 3)");
        assert_eq!(ok("SUBSTRING(name FROM 2)"), "SUBSTRING(`name` FROM 2)");
        assert_eq!(ok("POSITION('a' IN name)"), "POSITION('a' IN `name`)");
        assert_eq!(
            ok("EXTRACT(YEAR FROM created_at)"),
            "EXTRACT(YEAR FROM `created_at`)"
        );
        assert_eq!(ok("CEIL(amount)"), "CEIL(`amount`)");
        assert_eq!(ok("FLOOR(amount)"), "FLOOR(`amount`)");
        assert_eq!(ok("MOD(id, 2)"), "MOD(`id`, 2)");
        assert_eq!(ok("IFNULL(name, '')"), "IFNULL(`name`, '')");
        assert_eq!(ok("NULLIF(name, '')"), "NULLIF(`name`, '')");
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        let mut wrong = Vec::new();
        for (text, reason) in [
            ("COUNT(id)", "not an allowed function"),
            ("SUM(amount)", "not an allowed function"),
            ("NOW()", "not an allowed function"),
            ("RAND()", "not an allowed function"),
            ("CURRENT_TIMESTAMP", "not an allowed function"),
            ("EXEC_SQL('DROP TABLE x')", "not an allowed function"),
            ("UPPER(name) OVER ()", "OVER"),
            ("COALESCE(DISTINCT name)", "plain arguments"),
            ("UPPER(name, name)", "argument"),
            ("UPPER()", "argument"),
            ("sys.UPPER(name)", "plain name"),
            ("`UPPER`(name)", "quoted"),
            ("UPPER(*)", "wildcards"),
            ("*", "not a valid"),
            ("t.id", "qualified"),
            ("src.id", "qualified"),
            ("(SELECT 1)", "subqueries"),
            ("EXISTS (SELECT 1)", "subqueries"),
            ("missing = 1", "not a declared source column"),
            ("ID = 1", "not a declared source column"),
            ("\"name\" = 'x'", "single quotes"),
            ("name = \"x\"", "single quotes"),
            ("name = E'x'", "single expression"),
            ("name = X'00'", "single-quoted"),
            ("name = N'x'", "single-quoted"),
            ("name = $1", "placeholder"),
            ("name = ?", "placeholder"),
            ("id = 1; DROP TABLE x", "single expression"),
            ("id = 1 -- comment\n OR TRUE", ""),
            ("id = 1) OR (1 = 1", "single expression"),
            ("name = 'x''); DROP TABLE x; --'", ""),
            ("name = 'a\u{0}b'", "control"),
            ("name = 'a\nb'", "control"),
            ("name = ＇x＇", "not a valid"),
            ("name ＝ 'x'", "single expression"),
            ("nаme = 'x'", "not a declared source column"),
            ("id = 1 UNION SELECT 1", "single expression"),
            ("ARRAY[1, 2]", "not allowed"),
            ("ROW(1, 2)", "not an allowed function"),
            ("id = 1L", "malformed number"),
        ] {
            match parse(text, &cols()) {
                // Accepted only when the result is inert: a comment is
                // dropped, a string stays one literal.
                Ok(e) if !reason.is_empty() => {
                    wrong.push(format!("{text} was accepted as {}", e.sql()))
                }
                Err(r) if !r.reason.contains(reason) || reason.is_empty() => {
                    wrong.push(format!("{text}: {r}"))
                }
                _ => {}
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert_eq!(ok("id = 1 -- comment\n OR TRUE"), "(`id` = 1) OR TRUE");
        assert_eq!(
            ok("name = 'x''); DROP TABLE x; --'"),
            "`name` = 'x''); DROP TABLE x; --'"
        );
    }

    #[test]
    fn string_tricks_are_refused() {
        for text in [
            r"name = U&'\0041'",
            "name = $$x$$",
            "name = B'01'",
            "name = R'x'",
            "name = 'a' 'b'",
            "name = 'x' COLLATE utf8",
            "name = 0x41",
            "name = CHR(39) || 'x'",
            "name = CHAR(39)",
            "name = CONCAT('''', CHR(59))",
            "name = '\u{85}'",
            "name = 'x' \\ 'y'",
        ] {
            assert!(parse(text, &cols()).is_err(), "{text}");
        }
        // Accepted, but only as one literal each: nothing else survives.
        assert_eq!(ok("name = '\u{2028}'"), "`name` = '\u{2028}'");
        assert_eq!(
            ok("name = 'x' -- ' OR TRUE\n OR TRUE = FALSE"),
            "(`name` = 'x') OR (TRUE = FALSE)"
        );
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = format!("{}id{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep, &cols()).is_err());
        let deep_not = format!("{}active", "NOT ".repeat(200));
        assert!(parse(&deep_not, &cols()).is_err());
        let long = format!("id IN ({})", vec!["1"; 2000].join(","));
        assert!(parse(&long, &cols()).is_err());
        let chain = vec!["id"; 1000].join(" + ");
        assert!(parse(&chain, &cols()).is_err());
        assert!(parse(" ", &cols()).is_err());
    }

    /// `wrap` applied `levels` times around `id`.
    fn nested(levels: usize, wrap: fn(&str) -> String) -> String {
        (0..levels).fold("id".to_owned(), |inner, _| wrap(&inner))
    }

    #[test]
    fn the_nesting_limit_is_named() {
        let cast: fn(&str) -> String = |e| format!("CAST({e} AS BIGINT)");
        ok(&nested(MAX_DEPTH, cast));
        let too_deep =
            format!("nests deeper than {MAX_DEPTH} levels; at most {MAX_DEPTH} are allowed");
        assert_eq!(err(&nested(MAX_DEPTH + 1, cast)), too_deep);
        // The report of issue #12: 50 CASTs were "not a valid SQL expression".
        assert_eq!(err(&nested(50, cast)), too_deep);
        // Far past the parser's own limit, within the length limit.
        assert_eq!(err(&nested(1000, |e| format!("({e})"))), too_deep);
        assert_eq!(err(&nested(300, |e| format!("- {e}"))), too_deep);
    }

    #[test]
    fn the_walker_not_the_parser_refuses_deep_expressions() {
        let too_deep =
            format!("nests deeper than {MAX_DEPTH} levels; at most {MAX_DEPTH} are allowed");
        let parses = |text: &str| {
            Parser::new(&FlinkDialect)
                .with_recursion_limit(PARSER_RECURSION_LIMIT)
                .try_with_sql(text)
                .and_then(|mut p| p.parse_expr())
                .is_ok()
        };
        let wraps: [fn(&str) -> String; 16] = [
            |e| format!("({e})"),
            |e| format!("- {e}"),
            |e| format!("ABS({e})"),
            |e| format!("TRY_CAST({e} AS BIGINT)"),
            |e| format!("1 + {e}"),
            |e| format!("({e}) * 2"),
            |e| format!("NOT ({e} = 1)"),
            |e| format!("({e}) BETWEEN 1 AND 2"),
            |e| format!("({e}) IN (1, 2)"),
            |e| format!("({e}) IS NULL"),
            |e| format!("CASE WHEN {e} > 0 THEN 1 ELSE 0 END"),
            |e| format!("CASE {e} WHEN 1 THEN 2 END"),
            |e| format!("COALESCE(NULLIF({e}, 0), 1)"),
            |e| format!("ABS(CASE WHEN TRUE THEN ({e}) END)"),
            |e| format!("SUBSTRING(CAST({e} AS STRING) FROM 1 FOR 2)"),
            |e| format!("CHAR_LENGTH(TRIM(BOTH ' ' FROM CAST({e} AS STRING)))"),
        ];
        for wrap in wraps {
            // The first nesting refused is refused by the walker, with the
            // limit named; the parser alone still takes it.
            let refused = (1..=MAX_DEPTH + 1)
                .map(|n| nested(n, wrap))
                .find(|text| parse(text, &cols()).is_err())
                .expect("some nesting up to MAX_DEPTH + 1 is refused");
            assert!(refused.chars().count() <= MAX_EXPR_CHARS, "{refused}");
            assert_eq!(err(&refused), too_deep, "{refused}");
            assert!(parses(&refused), "{refused}");
        }
    }

    #[test]
    fn errors_never_quote_the_text() {
        let canary = "canary_Xq";
        for text in [
            format!("{canary}("),
            format!("'{canary}"),
            format!("{canary} @@ 1"),
        ] {
            let reason = parse(&text, &cols()).unwrap_err().reason;
            assert!(!reason.contains(canary), "{reason}");
        }
    }

    #[test]
    fn known_types_and_boolean_shape() {
        let c = cols();
        assert_eq!(
            parse("id", &c).unwrap().known_type(&c),
            Some(FlinkType::BigInt)
        );
        assert_eq!(
            parse("CAST(id AS INT)", &c).unwrap().known_type(&c),
            Some(FlinkType::Int)
        );
        assert_eq!(parse("UPPER(name)", &c).unwrap().known_type(&c), None);
        for b in [
            "active",
            "id = 1",
            "NOT active",
            "name IS NULL",
            "COALESCE(active, FALSE)",
        ] {
            assert!(parse(b, &c).unwrap().may_be_boolean(&c), "{b}");
        }
        for n in ["id", "1", "'x'", "id + 1", "UPPER(name)", "CAST(id AS INT)"] {
            assert!(!parse(n, &c).unwrap().may_be_boolean(&c), "{n}");
        }
    }
}

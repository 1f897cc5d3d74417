//! Identifiers (column names) and object names (tables, topics, paths):
//! strict patterns, and the one way they are written into SQL.

use sluice_domain::{FieldError, SourceKind};

/// The longest identifier: 64 characters, as MySQL allows (PostgreSQL's
/// 63-byte limit is checked per kind, [`check_name_for_kind`]).
pub const MAX_IDENTIFIER: usize = 64;

/// Any name a database accepts when quoted: 1 to 64 characters, not blank,
/// no control characters. Unicode, spaces, reserved words, quotes and
/// backticks are all names; every place that writes one quotes and escapes it.
pub fn is_identifier(name: &str) -> bool {
    (1..=MAX_IDENTIFIER).contains(&name.chars().count())
        && !name.trim().is_empty()
        && !name.chars().any(char::is_control)
}

/// Checks an identifier; the reason never quotes the value.
pub fn check_identifier(field: &str, name: &str) -> Result<(), FieldError> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "must be a name of 1 to {MAX_IDENTIFIER} characters, not blank, without \
                 control characters"
            ),
        ))
    }
}

/// What a database of `kind` adds to [`is_identifier`] for a name on one
/// side of a job: PostgreSQL keeps 63 bytes of a name (it would cut a longer
/// one silently); MySQL refuses names ending in a space, and a MySQL target
/// cannot hold `:` or `?` (Flink's JDBC sink reads `:name` as a parameter
/// and refuses `?`; PostgreSQL has Unicode escapes for them, MySQL none).
pub fn check_name_for_kind(
    field: &str,
    name: &str,
    kind: SourceKind,
    target: bool,
) -> Result<(), FieldError> {
    match kind {
        SourceKind::Postgres if name.len() > 63 => Err(FieldError::new(
            field,
            "must be at most 63 bytes in UTF-8 for PostgreSQL, which would cut a longer name",
        )),
        SourceKind::Mysql if name.ends_with(' ') => Err(FieldError::new(
            field,
            "must not end with a space for MySQL/MariaDB",
        )),
        SourceKind::Mysql if target && (name.contains(':') || name.contains('?')) => {
            Err(FieldError::new(
                field,
                "must not contain : or ? in a MySQL/MariaDB target: Flink's JDBC sink binds \
                 values by :name and refuses ?, and MySQL has no escape for them",
            ))
        }
        _ => Ok(()),
    }
}

/// The identifier in backticks, a backtick inside doubled (Flink SQL).
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The Flink field name of a JDBC table's column, decoded again by sluice's
/// JDBC dialects (infra/flink-jdbc-dialects, `SluiceNames`). Flink's JDBC
/// sink binds values by `:field`, which ends at the first character that is
/// not a Java identifier part, so those characters (and `$`, the escape) are
/// written `$<hex code point>$`. ASCII letters, digits, `_` and the letters
/// of the common scripts stay as they are.
pub fn jdbc_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || is_plain_letter(c) {
            out.push(c);
        } else {
            out.push_str(&format!("${:X}$", u32::from(c)));
        }
    }
    out
}

/// Letters of the Latin, Greek, Cyrillic, CJK, kana and Hangul blocks: all
/// Java identifier parts (Unicode letters), unlike some other alphabetic
/// characters (circled letters, enclosing marks).
fn is_plain_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(u32::from(c),
            0x00C0..=0x024F | 0x0370..=0x03FF | 0x0400..=0x04FF | 0x3040..=0x30FF
            | 0x4E00..=0x9FFF | 0xAC00..=0xD7A3)
}

/// A JDBC table's Flink `table-name`: each part [`jdbc_name`]-encoded (a dot
/// inside a part is escaped), joined with `.`.
pub fn jdbc_table_name(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| jdbc_name(p))
        .collect::<Vec<_>>()
        .join(".")
}

/// Splits a JDBC object into its parts: `table` or `schema.table`, where a
/// part holding `.` or `"` (or starting or ending with a space) is written in
/// double quotes with `""` for a quote, as in PostgreSQL.
pub fn jdbc_table_parts(object: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = object.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                if c == '"' {
                    return None;
                }
                part.push(c);
                chars.next();
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

/// A JDBC table: `table` or `schema.table` (see [`jdbc_table_parts`]), each
/// part a name the database accepts. `allow_schema` is false for MySQL, whose
/// database comes from the source.
pub fn check_jdbc_table(
    field: &str,
    object: &str,
    kind: SourceKind,
    target: bool,
) -> Result<Vec<String>, FieldError> {
    let allow_schema = kind == SourceKind::Postgres;
    let Some(parts) = jdbc_table_parts(object) else {
        return Err(FieldError::new(
            field,
            "must be table or schema.table; write a part that holds . or \" in double quotes, \
             with \"\" for a quote",
        ));
    };
    match parts.len() {
        1 => {}
        2 if allow_schema => {}
        _ => {
            return Err(FieldError::new(
                field,
                if allow_schema {
                    "must be table or schema.table"
                } else {
                    "must be a table name without a schema (the database is the source's); \
                     write a name that holds . in double quotes"
                },
            ));
        }
    }
    for part in &parts {
        check_identifier(field, part)?;
        check_name_for_kind(field, part, kind, target)?;
    }
    Ok(parts)
}

/// A Kafka topic: 1-249 of `[A-Za-z0-9._-]`, and not `.` or `..`.
pub fn check_topic(field: &str, topic: &str) -> Result<(), FieldError> {
    let ok = (1..=249).contains(&topic.len())
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && topic != "."
        && topic != "..";
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be a Kafka topic: 1-249 of letters, digits, . _ -",
        ))
    }
}

/// A path below a filesystem source's path: relative, no `..` or empty
/// segments, no control characters, and only characters that mean the same
/// in a URI path (letters, digits, `. _ - = + @ ,` and spaces).
pub fn check_relative_path(field: &str, path: &str) -> Result<(), FieldError> {
    let fail = |reason: &str| Err(FieldError::new(field, reason));
    if path.is_empty() || path.chars().count() > 1024 {
        return fail("must be 1 to 1024 characters");
    }
    if path.chars().any(char::is_control) {
        return fail("must not contain control characters");
    }
    if path.starts_with('/') {
        return fail("must be relative to the source's path (no leading /)");
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if segments.iter().any(|s| *s == ".." || *s == ".") {
        return fail("must not contain . or .. segments");
    }
    if segments.iter().any(|s| s.is_empty()) {
        return fail("must not contain empty segments (//)");
    }
    let ok_char = |c: char| c.is_alphanumeric() || "._-=+@, /".contains(c);
    if !path.chars().all(ok_char) {
        return fail("may only contain letters, digits, spaces, / and . _ - = + @ ,");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in [
            "a",
            "_",
            "A_1",
            "order",
            "select",
            "名称",
            "a b",
            "Order-Id",
            "Ünïcode",
            "a`b",
            "a\"b",
            "a'b",
            "a.b",
            "1a",
            "😀",
            "x".repeat(64).as_str(),
            "名".repeat(64).as_str(),
        ] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in ["", " ", "a\nb", "a\0", "\u{7f}", "x".repeat(65).as_str()] {
            assert!(!is_identifier(bad), "{bad:?}");
            let err = check_identifier("source.columns[0].name", bad).unwrap_err();
            assert_eq!(err.field, "source.columns[0].name");
        }
    }

    #[test]
    fn names_per_kind() {
        let pg = |n: &str| check_name_for_kind("f", n, SourceKind::Postgres, true).is_ok();
        let my = |n: &str, t| check_name_for_kind("f", n, SourceKind::Mysql, t).is_ok();
        assert!(pg(&"x".repeat(63)) && !pg(&"x".repeat(64)));
        // 21 CJK characters are 63 bytes, 22 are 66.
        assert!(pg(&"名".repeat(21)) && !pg(&"名".repeat(22)));
        assert!(pg("a:b?") && my("a:b?", false) && !my("a:b", true) && !my("a?", true));
        assert!(!my("a ", false) && my(" a", true));
    }

    #[test]
    fn quoting_uses_backticks() {
        assert_eq!(quote_identifier("order"), "`order`");
        assert_eq!(quote_identifier("a`b"), "`a``b`");
    }

    #[test]
    fn jdbc_names_keep_letters_and_escape_the_rest() {
        assert_eq!(jdbc_name("order_1"), "order_1");
        assert_eq!(jdbc_name("名称"), "名称");
        assert_eq!(jdbc_name("Ünïcode"), "Ünïcode");
        assert_eq!(jdbc_name("a b"), "a$20$b");
        assert_eq!(jdbc_name("Order-Id"), "Order$2D$Id");
        assert_eq!(jdbc_name("price$usd"), "price$24$usd");
        assert_eq!(jdbc_name("😀"), "$1F600$");
        assert_eq!(jdbc_name("Ⓐ"), "$24B6$");
        assert_eq!(
            jdbc_table_name(&["public".into(), "a.b".into()]),
            "public.a$2E$b"
        );
    }

    #[test]
    fn jdbc_tables() {
        let pg = |o: &str| check_jdbc_table("f", o, SourceKind::Postgres, false);
        let my = |o: &str| check_jdbc_table("f", o, SourceKind::Mysql, true);
        assert_eq!(pg("orders").unwrap(), ["orders"]);
        assert_eq!(pg("public.orders").unwrap(), ["public", "orders"]);
        assert_eq!(pg("销售.Order-Id").unwrap(), ["销售", "Order-Id"]);
        assert_eq!(pg("\"a.b\".\"x\"\"y\"").unwrap(), ["a.b", "x\"y"]);
        assert_eq!(my("a b").unwrap(), ["a b"]);
        assert_eq!(my("\"v1.2\"").unwrap(), ["v1.2"]);
        assert!(my("public.orders").is_err());
        assert!(my("a:b").is_err());
        for bad in [
            "", ".orders", "a.b.c", "a.", "a\"b", "\"a", "\"a\"b", "a\nb",
        ] {
            assert!(pg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn topics() {
        assert!(check_topic("f", "orders.v1_eu-west").is_ok());
        for bad in ["", ".", "..", "a b", "a/b", "a'b", &"t".repeat(250)] {
            assert!(check_topic("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_paths() {
        for ok in [
            "orders",
            "orders/2024/dt=2024-01-01",
            "a b/c.csv",
            "données/",
            "x+y@z,1",
        ] {
            assert!(check_relative_path("f", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\nb",
            "a\0b",
            "a'b",
            "a\\b",
            "a?b",
            "a#b",
            "a%2e%2e",
            "s3://other-bucket/x",
        ] {
            assert!(check_relative_path("f", bad).is_err(), "{bad}");
        }
    }
}

//! Identifiers (column names) and object names (tables, topics, paths):
//! strict patterns, and the one way they are written into SQL.

use sluice_domain::FieldError;

/// The longest identifier: 64 characters, as MySQL allows.
pub const MAX_IDENTIFIER: usize = 64;

/// `^[A-Za-z_][A-Za-z0-9_]{0,63}$`: ASCII only, so no look-alike letters.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name.len() <= MAX_IDENTIFIER && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks an identifier; the reason never quotes the value.
pub fn check_identifier(field: &str, name: &str) -> Result<(), FieldError> {
    if is_identifier(name) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "must be an identifier: a letter or _ then letters, digits or _ \
                 (ASCII, at most {MAX_IDENTIFIER} characters)"
            ),
        ))
    }
}

/// The identifier in backticks. Callers pass checked identifiers; a stray
/// backtick would still be doubled, as Flink escapes it.
pub fn quote_identifier(name: &str) -> String {
    debug_assert!(is_identifier(name), "unchecked identifier");
    format!("`{}`", name.replace('`', "``"))
}

/// A JDBC table: `table` or `schema.table`, each part an identifier.
/// `allow_schema` is false for MySQL, whose database comes from the source
/// (Flink's MySQL dialect quotes the whole name as one identifier).
pub fn check_jdbc_table(field: &str, object: &str, allow_schema: bool) -> Result<(), FieldError> {
    let parts: Vec<&str> = object.split('.').collect();
    let shape_ok = match parts.len() {
        1 => true,
        2 => allow_schema,
        _ => false,
    };
    if !shape_ok {
        return Err(FieldError::new(
            field,
            if allow_schema {
                "must be table or schema.table"
            } else {
                "must be a table name without a schema (the database is the source's)"
            },
        ));
    }
    if parts.iter().all(|p| is_identifier(p)) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!(
                "each part must be an identifier: a letter or _ then letters, digits or _ \
                 (ASCII, at most {MAX_IDENTIFIER} characters)"
            ),
        ))
    }
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
        for ok in ["a", "_", "A_1", "order", "x".repeat(64).as_str()] {
            assert!(is_identifier(ok), "{ok}");
        }
        for bad in [
            "",
            "1a",
            "a b",
            "a-b",
            "a.b",
            "a`b",
            "a'b",
            "a\"b",
            "a;b",
            "a\nb",
            "a\0",
            "nаme", // Cyrillic а
            "ｎａｍｅ",
            "é",
            "x".repeat(65).as_str(),
        ] {
            assert!(!is_identifier(bad), "{bad}");
            let err = check_identifier("source.columns[0].name", bad).unwrap_err();
            assert_eq!(err.field, "source.columns[0].name");
        }
    }

    #[test]
    fn quoting_uses_backticks() {
        assert_eq!(quote_identifier("order"), "`order`");
    }

    #[test]
    fn jdbc_tables() {
        assert!(check_jdbc_table("f", "orders", true).is_ok());
        assert!(check_jdbc_table("f", "public.orders", true).is_ok());
        assert!(check_jdbc_table("f", "public.orders", false).is_err());
        for bad in [
            "",
            ".orders",
            "a.b.c",
            "orders;",
            "orders`",
            "o rders",
            "a.",
            "orders' --",
        ] {
            assert!(check_jdbc_table("f", bad, true).is_err(), "{bad}");
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

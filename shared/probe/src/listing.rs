//! Listing helpers shared by the probes whose sources are listed whole
//! and filtered here (Kafka topics, files): SQL `LIKE` and paging.

use sluice_domain::model::discovery::{ObjectKind, ObjectPage, ObjectQuery, ObjectRef};

/// SQL `LIKE`: `%` is any run of characters, `_` one character, `\` makes
/// the next character literal (PostgreSQL's and MySQL's default escape).
/// Case-sensitive, as topic names and object keys are.
pub(crate) fn like_matches(pattern: &str, name: &str) -> bool {
    #[derive(PartialEq)]
    enum Token {
        Any,
        One,
        Char(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '%' => Token::Any,
            '_' => Token::One,
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            c => Token::Char(c),
        });
    }
    let name: Vec<char> = name.chars().collect();
    // Greedy matching that backtracks to the last `%`: O(n·m) at worst.
    let (mut i, mut j) = (0, 0);
    let mut last_any: Option<(usize, usize)> = None;
    while i < name.len() {
        match tokens.get(j) {
            Some(Token::One) => (i, j) = (i + 1, j + 1),
            Some(Token::Char(c)) if *c == name[i] => (i, j) = (i + 1, j + 1),
            Some(Token::Any) => {
                last_any = Some((j, i));
                j += 1;
            }
            _ => match last_any {
                Some((any, from)) => {
                    last_any = Some((any, from + 1));
                    (i, j) = (from + 1, any + 1);
                }
                None => return false,
            },
        }
    }
    tokens[j..].iter().all(|t| *t == Token::Any)
}

/// The characters every name a `LIKE` pattern matches starts with.
pub(crate) fn like_prefix(pattern: &str) -> String {
    let mut prefix = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => break,
            '\\' => prefix.push(chars.next().unwrap_or('\\')),
            c => prefix.push(c),
        }
    }
    prefix
}

/// The name a `LIKE` pattern is matched against: a prefix's name without
/// its closing `/`.
pub(crate) fn like_subject(object: &ObjectRef) -> &str {
    match object.kind {
        ObjectKind::Prefix => object.name.strip_suffix('/').unwrap_or(&object.name),
        _ => &object.name,
    }
}

/// One page of `objects` in name order: those after `query.after` whose
/// name matches `query.like`, at most `query.limit`, with `next_after` when
/// more follow.
pub(crate) fn page_of(mut objects: Vec<ObjectRef>, query: &ObjectQuery) -> ObjectPage {
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    objects.dedup_by(|a, b| a.name == b.name);
    let limit = query.limit.max(1);
    let mut items: Vec<ObjectRef> = objects
        .into_iter()
        .filter(|o| {
            query
                .after
                .as_deref()
                .is_none_or(|after| o.name.as_str() > after)
        })
        .filter(|o| {
            query
                .like
                .as_deref()
                .is_none_or(|like| like_matches(like, like_subject(o)))
        })
        .take(limit + 1)
        .collect();
    let next_after = (items.len() > limit).then(|| {
        items.truncate(limit);
        items[limit - 1].name.clone()
    });
    ObjectPage { items, next_after }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_is_sql_like() {
        let cases = [
            ("%", "", true),
            ("%", "orders", true),
            ("orders", "orders", true),
            ("orders", "Orders", false),
            ("ord%", "orders", true),
            ("%ers", "orders", true),
            ("%rde%", "orders", true),
            ("o_ders", "orders", true),
            ("o_ders", "oders", false),
            ("o__ers", "orders", true),
            ("o___ers", "orders", false),
            ("%a%b%c%", "xaxbxcx", true),
            ("%a%b%c", "xaxbxcx", false),
            ("a%a%a", "aaaa", true),
            ("a%a%a", "aa", false),
            ("_", "é", true),
            ("数据_", "数据表", true),
            ("orders\\_v1", "orders_v1", true),
            ("orders\\_v1", "ordersxv1", false),
            ("100\\%", "100%", true),
            ("100\\%", "1000", false),
            ("a\\", "a\\", true),
            ("", "", true),
            ("", "a", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                like_matches(pattern, name),
                expected,
                "{pattern:?} ~ {name:?}"
            );
        }
    }

    #[test]
    fn like_prefix_stops_at_the_first_wildcard() {
        assert_eq!(like_prefix("orders_%"), "orders");
        assert_eq!(like_prefix("a\\_b%"), "a_b");
        assert_eq!(like_prefix("%x"), "");
        assert_eq!(like_prefix("plain"), "plain");
    }

    fn topic(name: &str) -> ObjectRef {
        ObjectRef {
            name: name.to_owned(),
            kind: ObjectKind::Topic,
        }
    }

    #[test]
    fn pages_follow_name_order_after_a_name() {
        let all: Vec<ObjectRef> = ["c", "a", "e", "b", "d"].map(topic).into();
        let query = |after: Option<&str>, like: Option<&str>, limit| ObjectQuery {
            schema: None,
            like: like.map(str::to_owned),
            limit,
            after: after.map(str::to_owned),
        };
        let names = |page: &ObjectPage| {
            page.items
                .iter()
                .map(|o| o.name.clone())
                .collect::<Vec<_>>()
        };

        let first = page_of(all.clone(), &query(None, None, 2));
        assert_eq!(names(&first), ["a", "b"]);
        assert_eq!(first.next_after.as_deref(), Some("b"));
        let second = page_of(all.clone(), &query(Some("b"), None, 2));
        assert_eq!(names(&second), ["c", "d"]);
        let last = page_of(all.clone(), &query(Some("d"), None, 2));
        assert_eq!(names(&last), ["e"]);
        assert_eq!(last.next_after, None);
        let exact = page_of(all.clone(), &query(None, None, 5));
        assert_eq!(exact.next_after, None, "no more follow a full last page");
        let filtered = page_of(all, &query(None, Some("_"), 10));
        assert_eq!(filtered.items.len(), 5);
    }

    #[test]
    fn prefixes_match_without_their_slash() {
        let prefix = ObjectRef {
            name: "data/".to_owned(),
            kind: ObjectKind::Prefix,
        };
        assert_eq!(like_subject(&prefix), "data");
    }
}

//! The injection corpus: hostile inputs in every place a user's text can
//! reach, each either rejected by `check` with the right JSON path, or
//! rendered inertly.
//!
//! Inert means, on the script tokenized with [`FlinkDialect`] (Flink's
//! lexing: backtick identifiers, `''` escapes, no backslash escapes):
//! - the statements are exactly 3 SETs, 2 CREATEs and 1 INSERT, and there
//!   is no comment anywhere;
//! - every token outside single-quoted strings and backtick identifiers is
//!   the same as when the same place holds the benign text `benign`;
//! - the payload sits inside one string literal (in the encoding its place
//!   needs: as is, percent-encoded in a URL, escaped in a JAAS value).
//!
//! With `INJECTION_DUMP_DIR=<dir>` the inert scripts are also written there,
//! to be planned by Flink itself (`infra/flink/validate.sh <dir>/*.sql`).

mod common;

use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::ports::{JobCompiler, RenderError, SecretExposure};
use sluice_domain::{Secrets, Source, SourceKind};
use sluice_flinksql::ident::{jdbc_name, jdbc_table_name, jdbc_table_parts};
use sluice_flinksql::literal::{jaas_quoted, url_component};
use sluice_flinksql::{FlinkDialect, FlinkSqlCompiler};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

use common::*;

use SourceKind::{Filesystem as Fs, Kafka, Mysql, Postgres as Pg};

struct Fixture {
    spec: Value,
    src: Source,
    dst: Source,
    src_secrets: Secrets,
    dst_secrets: Secrets,
}

fn object_of(kind: SourceKind, side: &str) -> &'static str {
    match (kind, side) {
        (Pg, "source") => "public.orders",
        (Pg, _) => "public.orders_copy",
        (Mysql, "source") => "orders",
        (Mysql, _) => "orders_copy",
        (Kafka, "source") => "orders",
        (Kafka, _) => "orders.out",
        (Fs, "source") => "in",
        (Fs, _) => "out",
    }
}

fn fixture(src_kind: SourceKind, dst_kind: SourceKind) -> Fixture {
    let mut spec = simple_spec();
    set(
        &mut spec,
        "/source/object",
        json!(object_of(src_kind, "source")),
    );
    set(
        &mut spec,
        "/target/object",
        json!(object_of(dst_kind, "target")),
    );
    if matches!(src_kind, Kafka | Fs) {
        set(&mut spec, "/source/format", json!({"type": "csv"}));
    }
    if matches!(dst_kind, Kafka | Fs) {
        set(&mut spec, "/target/format", json!({"type": "json"}));
    }
    Fixture {
        spec,
        src: reading(src_kind),
        dst: writing(dst_kind),
        src_secrets: secrets(src_kind, "s3cr3t-src"),
        dst_secrets: secrets(dst_kind, "s3cr3t-dst"),
    }
}

enum Expect {
    /// `check` names this field.
    Rejected(&'static str),
    /// Accepted and rendered inertly; the payload is inside a literal.
    Inert,
    /// Accepted; the payload held a comment, which is gone from the script.
    /// The text is its twin without the comment.
    Dropped(&'static str),
}

struct Case {
    what: &'static str,
    src: SourceKind,
    dst: SourceKind,
    payload: &'static str,
    apply: fn(&mut Fixture, &str),
    expect: Expect,
}

fn sql_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn cfg(source: &mut Source, key: &str, value: &str) {
    source.config.insert(key.into(), json!(value));
}

fn secret(s: &mut Secrets, key: &str, value: &str) {
    s.insert(key, SecretString::from(value.to_owned()));
}

fn corpus() -> Vec<Case> {
    use Expect::*;
    macro_rules! case {
        ($what:expr, $src:expr, $dst:expr, $payload:expr, $apply:expr, $expect:expr) => {
            Case {
                what: $what,
                src: $src,
                dst: $dst,
                payload: $payload,
                apply: $apply,
                expect: $expect,
            }
        };
    }
    let name: fn(&mut Fixture, &str) = |f, p| set(&mut f.spec, "/name", json!(p));
    let src_obj: fn(&mut Fixture, &str) = |f, p| set(&mut f.spec, "/source/object", json!(p));
    let dst_obj: fn(&mut Fixture, &str) = |f, p| set(&mut f.spec, "/target/object", json!(p));
    let col_name: fn(&mut Fixture, &str) =
        |f, p| set(&mut f.spec, "/source/columns/1/name", json!(p));
    let col_type: fn(&mut Fixture, &str) =
        |f, p| set(&mut f.spec, "/source/columns/2/type", json!(p));
    let filter: fn(&mut Fixture, &str) = |f, p| set(&mut f.spec, "/source/filter", json!(p));
    let filter_str: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/source/filter",
            json!(format!("customer = {}", sql_quoted(p))),
        )
    };
    let map_expr: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/mapping",
            json!([{"target": "id", "expr": p, "type": "STRING"}]),
        )
    };
    let map_str: fn(&mut Fixture, &str) = |f, p| {
        let expr = format!("CONCAT(customer, {})", sql_quoted(p));
        set(
            &mut f.spec,
            "/mapping",
            json!([{"target": "label", "expr": expr, "type": "STRING"}]),
        )
    };
    let map_target: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/mapping",
            json!([{"target": p, "expr": "id"}]),
        )
    };
    let map_type: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/mapping",
            json!([{"target": "id", "expr": "id", "type": p}]),
        )
    };
    let pk: fn(&mut Fixture, &str) = |f, p| {
        set(&mut f.spec, "/target/write_mode", json!("upsert"));
        set(&mut f.spec, "/target/primary_key", json!([p]));
    };
    let src_cfg_database: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.src, "database", p);
    let src_cfg_username: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.src, "username", p);
    let dst_cfg_username: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.dst, "username", p);
    let src_cfg_path: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.src, "path", p);
    let src_cfg_bootstrap: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.src, "bootstrap_servers", p);
    let src_cfg_sasl_user: fn(&mut Fixture, &str) = |f, p| cfg(&mut f.src, "sasl_username", p);
    let src_password: fn(&mut Fixture, &str) = |f, p| secret(&mut f.src_secrets, "password", p);
    let dst_password: fn(&mut Fixture, &str) = |f, p| secret(&mut f.dst_secrets, "password", p);
    let src_sasl_password: fn(&mut Fixture, &str) =
        |f, p| secret(&mut f.src_secrets, "sasl_password", p);
    let dst_sasl_password: fn(&mut Fixture, &str) =
        |f, p| secret(&mut f.dst_secrets, "sasl_password", p);
    let delimiter: fn(&mut Fixture, &str) =
        |f, p| set(&mut f.spec, "/source/format/field_delimiter", json!(p));
    let format_type: fn(&mut Fixture, &str) =
        |f, p| set(&mut f.spec, "/source/format/type", json!(p));
    let startup: fn(&mut Fixture, &str) = |f, p| set(&mut f.spec, "/source/startup_mode", json!(p));
    let incremental: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/source/incremental",
            json!({"column": p, "start": "2024-01-01T00:00:00Z"}),
        )
    };
    let partition: fn(&mut Fixture, &str) = |f, p| {
        set(
            &mut f.spec,
            "/options/partitioned_read",
            json!({"column": p, "num": 2, "lower_bound": 0, "upper_bound": 10}),
        )
    };

    vec![
        // The job name: free text, always inside one string literal.
        case!(
            "name: quote and DROP",
            Pg,
            Pg,
            "x'; DROP TABLE dst; --",
            name,
            Inert
        ),
        case!(
            "name: closes WITH",
            Pg,
            Pg,
            "x') WITH ('connector' = 'blackhole",
            name,
            Inert
        ),
        case!(
            "name: backticks",
            Pg,
            Pg,
            "`dst`; INSERT INTO `dst` SELECT 1",
            name,
            Inert
        ),
        case!("name: comments", Pg, Pg, "/* c */ -- x", name, Inert),
        case!(
            "name: fullwidth quote/semicolon",
            Pg,
            Pg,
            "evil＇；DROP TABLE x",
            name,
            Inert
        ),
        case!(
            "name: newline SET",
            Pg,
            Pg,
            "a\nSET 'pipeline.name' = 'x",
            name,
            Rejected("name")
        ),
        case!("name: NUL", Pg, Pg, "x\0y", name, Rejected("name")),
        // Objects: tables, topics, paths.
        case!(
            "table: semicolon",
            Pg,
            Pg,
            "orders; DROP TABLE x",
            src_obj,
            Inert
        ),
        case!("table: quote comment", Pg, Pg, "orders' --", src_obj, Inert),
        case!("table: backtick", Pg, Pg, "orders`", src_obj, Inert),
        case!(
            "table: closes WITH",
            Pg,
            Pg,
            "public.orders') WITH ('connector'='datagen",
            src_obj,
            Inert
        ),
        case!("table: homoglyph", Pg, Pg, "оrders", src_obj, Inert),
        case!(
            "table: newline",
            Pg,
            Pg,
            "orders\n",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "mysql table: schema",
            Pg,
            Mysql,
            "mysql.user",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "topic: quote",
            Pg,
            Kafka,
            "out'; DROP",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "topic: slash",
            Pg,
            Kafka,
            "out/../x",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "topic: source",
            Kafka,
            Pg,
            "a b",
            src_obj,
            Rejected("source.object")
        ),
        case!(
            "path: parent",
            Pg,
            Fs,
            "../../etc",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "path: absolute",
            Fs,
            Pg,
            "/etc/passwd",
            src_obj,
            Rejected("source.object")
        ),
        case!(
            "path: quote",
            Fs,
            Pg,
            "in'); DROP TABLE x; --",
            src_obj,
            Rejected("source.object")
        ),
        case!(
            "path: NUL",
            Fs,
            Pg,
            "in\0x",
            src_obj,
            Rejected("source.object")
        ),
        case!(
            "path: other scheme",
            Pg,
            Fs,
            "s3://other/x",
            dst_obj,
            Rejected("target.object")
        ),
        case!(
            "path: spaces are fine",
            Fs,
            Pg,
            "data dir/2024",
            src_obj,
            Inert
        ),
        // Column names and types.
        case!(
            "column: closes the list",
            Pg,
            Pg,
            "name`, `x` INT) WITH ('connector'='x",
            col_name,
            Inert
        ),
        case!("column: semicolon", Pg, Pg, "a;b", col_name, Inert),
        case!("column: homoglyph", Pg, Pg, "custоmer", col_name, Inert),
        case!("column: comment", Pg, Pg, "customer -- x", col_name, Inert),
        case!("column: quote", Pg, Pg, "x'y", col_name, Inert),
        case!(
            "type: closes WITH",
            Pg,
            Pg,
            "INT) WITH ('connector' = 'blackhole') --",
            col_type,
            Rejected("source.columns[2].type")
        ),
        case!(
            "type: extra column",
            Pg,
            Pg,
            "STRING, `evil` STRING",
            col_type,
            Rejected("source.columns[2].type")
        ),
        case!(
            "type: semicolon",
            Pg,
            Pg,
            "VARCHAR(10); DROP TABLE x",
            col_type,
            Rejected("source.columns[2].type")
        ),
        case!(
            "type: comment",
            Pg,
            Pg,
            "INT /* x */",
            col_type,
            Rejected("source.columns[2].type")
        ),
        case!(
            "type: fullwidth",
            Pg,
            Pg,
            "ＩＮＴ",
            col_type,
            Rejected("source.columns[2].type")
        ),
        // Filters.
        case!(
            "filter: breaks out",
            Pg,
            Pg,
            "1=1) OR (1=1",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: second statement",
            Pg,
            Pg,
            "id = 1; DROP TABLE dst",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: union",
            Pg,
            Pg,
            "id = 1 UNION SELECT * FROM dst",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: subquery",
            Pg,
            Pg,
            "id IN (SELECT id FROM dst)",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: exists",
            Pg,
            Pg,
            "EXISTS (SELECT 1)",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: backtick column",
            Pg,
            Pg,
            "customer = `x`",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: fullwidth quotes",
            Pg,
            Pg,
            "customer = ＇x＇",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: fullwidth semicolon",
            Pg,
            Pg,
            "id = 1；DROP TABLE x",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: NUL",
            Pg,
            Pg,
            "customer = 'x'\0",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: unknown function",
            Pg,
            Pg,
            "LOAD_FILE('/etc/passwd') IS NOT NULL",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: qualified",
            Pg,
            Pg,
            "src.id = 1",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: CHR trick",
            Pg,
            Pg,
            "customer = CHR(39)",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: homoglyph column",
            Pg,
            Pg,
            "custоmer = 'x'",
            filter,
            Rejected("source.filter")
        ),
        case!(
            "filter: line comment",
            Pg,
            Pg,
            "id = 1 -- OR 1 = 1",
            filter,
            Dropped("id = 1")
        ),
        case!(
            "filter: block comment",
            Pg,
            Pg,
            "id = 1 /* ; DROP TABLE dst */",
            filter,
            Dropped("id = 1")
        ),
        case!(
            "filter string: quote and DROP",
            Pg,
            Pg,
            "x'); DROP TABLE dst; --",
            filter_str,
            Inert
        ),
        case!(
            "filter string: tautology",
            Pg,
            Pg,
            "' OR '1'='1",
            filter_str,
            Inert
        ),
        case!(
            "filter string: backslash",
            Pg,
            Pg,
            "\\'; DROP TABLE x; --",
            filter_str,
            Inert
        ),
        case!(
            "filter string: comment opener",
            Pg,
            Pg,
            "/* x",
            filter_str,
            Inert
        ),
        // Mapping expressions, targets and types.
        case!(
            "expr: second statement",
            Pg,
            Pg,
            "id); DROP TABLE dst; --",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr: subquery",
            Pg,
            Pg,
            "(SELECT MAX(id) FROM dst)",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr: aggregate",
            Pg,
            Pg,
            "COUNT(*)",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr: window function",
            Pg,
            Pg,
            "ROW_NUMBER() OVER (ORDER BY id)",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr: wildcard",
            Pg,
            Pg,
            "*",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr: newline comment",
            Pg,
            Pg,
            "id --\n, 1",
            map_expr,
            Rejected("mapping[0].expr")
        ),
        case!(
            "expr string: closes the call",
            Pg,
            Pg,
            "'), 'x') FROM src; --",
            map_str,
            Inert
        ),
        case!(
            "target: closes the column",
            Pg,
            Pg,
            "x` BIGINT) WITH (",
            map_target,
            Inert
        ),
        case!(
            "target: backtick comment",
            Pg,
            Pg,
            "dst`; --",
            map_target,
            Inert
        ),
        case!("target: fullwidth", Pg, Pg, "ｉｄ", map_target, Inert),
        case!(
            "mapping type: closes WITH",
            Pg,
            Pg,
            "BIGINT) WITH ('connector'='print'",
            map_type,
            Rejected("mapping[0].type")
        ),
        case!(
            "primary key: closes the key",
            Pg,
            Pg,
            "id`) NOT ENFORCED) WITH (",
            pk,
            Rejected("target.primary_key[0]")
        ),
        case!(
            "primary key: semicolon",
            Pg,
            Pg,
            "id; DROP",
            pk,
            Rejected("target.primary_key[0]")
        ),
        // Connector option values from the source's config and secrets.
        case!(
            "database: quote and DROP",
            Pg,
            Pg,
            "db'); DROP TABLE x; --",
            src_cfg_database,
            Inert
        ),
        case!(
            "database: URL parameters",
            Pg,
            Pg,
            "db?sslmode=disable&socketFactory=evil",
            src_cfg_database,
            Inert
        ),
        case!(
            "mariadb database: URL parameters",
            Mysql,
            Pg,
            "db?allowLoadLocalInfile=true",
            src_cfg_database,
            Rejected("source.source_id")
        ),
        case!(
            "username: quote and DROP",
            Pg,
            Pg,
            "u'); DROP TABLE x; --",
            src_cfg_username,
            Inert
        ),
        case!(
            "username: fullwidth",
            Pg,
            Pg,
            "u＇；DROP TABLE x",
            src_cfg_username,
            Inert
        ),
        case!(
            "mysql username: host part",
            Pg,
            Mysql,
            "root'@'%",
            dst_cfg_username,
            Inert
        ),
        case!(
            "password: quote and DROP",
            Pg,
            Pg,
            "'); DROP TABLE x; --",
            src_password,
            Inert
        ),
        case!(
            "password: concatenation",
            Pg,
            Pg,
            "p'||'w",
            dst_password,
            Inert
        ),
        case!("password: newline", Pg, Pg, "a\nb';--", src_password, Inert),
        case!(
            "sasl password: JAAS module",
            Kafka,
            Pg,
            "\"; org.evil.Module required x=\"",
            src_sasl_password,
            Inert
        ),
        case!(
            "sasl password: quote and DROP",
            Pg,
            Kafka,
            "'); DROP TABLE x; --",
            dst_sasl_password,
            Inert
        ),
        case!(
            "sasl username: JAAS option",
            Kafka,
            Pg,
            "u\" password=\"x",
            src_cfg_sasl_user,
            Inert
        ),
        case!(
            "bootstrap servers: option",
            Kafka,
            Pg,
            "127.0.0.1:9092', 'connector'='x",
            src_cfg_bootstrap,
            Inert
        ),
        case!(
            "file path: quote",
            Fs,
            Pg,
            "/tmp/x'); DROP TABLE y; --",
            src_cfg_path,
            Inert
        ),
        // Formats and modes.
        case!(
            "delimiter: quote",
            Fs,
            Pg,
            "'",
            delimiter,
            Rejected("source.format.field_delimiter")
        ),
        case!(
            "delimiter: backslash",
            Fs,
            Pg,
            "\\",
            delimiter,
            Rejected("source.format.field_delimiter")
        ),
        case!(
            "format: option",
            Kafka,
            Pg,
            "json', 'connector'='x",
            format_type,
            Rejected("source.format.type")
        ),
        case!(
            "startup mode: option",
            Kafka,
            Pg,
            "earliest-offset', 'x'='y",
            startup,
            Rejected("source.startup_mode")
        ),
        case!(
            "incremental column: tautology",
            Pg,
            Pg,
            "updated_at` >= 0 OR 1=1 --",
            incremental,
            Rejected("source.incremental.column")
        ),
        case!(
            "partition column: quote",
            Pg,
            Pg,
            "id'; --",
            partition,
            Rejected("options.partitioned_read.column")
        ),
    ]
}

/// The tokens of a script, without whitespace; fails on comments.
fn tokens(script: &str) -> Vec<Token> {
    let all = Tokenizer::new(&FlinkDialect, script)
        .tokenize()
        .unwrap_or_else(|e| panic!("the script does not lex: {e}\n{script}"));
    let mut out = Vec::new();
    for t in all {
        match t {
            Token::Whitespace(Whitespace::Space | Whitespace::Newline | Whitespace::Tab) => {}
            Token::Whitespace(w) => panic!("the script has a comment: {w:?}\n{script}"),
            t => out.push(t),
        }
    }
    out
}

/// The structure: every token but literal contents.
fn skeleton(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| match t {
            Token::SingleQuotedString(_) => "<string>".to_owned(),
            Token::Word(w) if w.quote_style == Some('`') => "<identifier>".to_owned(),
            Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The skeleton without the one view the compiler adds to rename a JDBC
/// source's encoded fields, after checking that it is exactly that shape:
/// `CREATE TEMPORARY VIEW <id> AS SELECT <id> AS <id>, ... FROM <id>;`.
fn without_renaming_view(skeleton: Vec<String>, what: &str) -> Vec<String> {
    let statements: Vec<&[String]> = skeleton.split_inclusive(|t| t == "SemiColon").collect();
    let is_view = |s: &[String]| s.len() > 2 && s[0] == "CREATE" && s[2] == "VIEW";
    let views: Vec<&[String]> = statements.iter().copied().filter(|s| is_view(s)).collect();
    assert!(views.len() <= 1, "{what}: more than one view");
    if let Some(view) = views.first() {
        let id = "<identifier>";
        let head = ["CREATE", "TEMPORARY", "VIEW", id, "AS", "SELECT"];
        assert!(
            view.starts_with(&head.map(String::from)),
            "{what}: view {view:?}"
        );
        let body = &view[head.len()..];
        let tail = ["FROM", id, "SemiColon"].map(String::from);
        assert!(body.ends_with(&tail), "{what}: view {view:?}");
        let items = &body[..body.len() - tail.len()];
        let ok = items
            .split(|t| t == "Comma")
            .all(|item| item == [id, "AS", id].map(String::from));
        assert!(ok, "{what}: view {view:?}");
    }
    statements
        .into_iter()
        .filter(|s| !is_view(s))
        .flat_map(|s| s.iter())
        .cloned()
        .collect()
}

/// The first word of each statement.
fn statement_kinds(skeleton: &[String]) -> Vec<String> {
    skeleton
        .split(|t| t == "SemiColon")
        .filter(|s| !s.is_empty())
        .map(|s| s[0].clone())
        .collect()
}

fn literals(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::SingleQuotedString(s) => Some(s.clone()),
            Token::Word(w) if w.quote_style == Some('`') => Some(w.value.clone()),
            _ => None,
        })
        .collect()
}

fn check_and_render(case: &Case, payload: &str) -> (Result<(), Vec<String>>, Option<String>) {
    let mut f = fixture(case.src, case.dst);
    (case.apply)(&mut f, payload);
    let spec = spec(f.spec.clone());
    let checked = FlinkSqlCompiler
        .check(&spec, &f.src, &f.dst)
        .map_err(|e| e.errors().iter().map(|e| e.to_string()).collect());
    let rendered = FlinkSqlCompiler.render(
        &job_id(),
        &spec,
        &f.src,
        &f.dst,
        None,
        SecretExposure::Revealed {
            source: &f.src_secrets,
            target: &f.dst_secrets,
        },
    );
    match (&checked, rendered) {
        (Ok(()), Ok(script)) => (checked, Some(script)),
        (Err(_), Err(RenderError::Invalid(_))) => (checked, None),
        (c, r) => panic!("{}: check {c:?} but render {r:?}", case.what),
    }
}

#[test]
fn the_corpus_is_large_and_spread_out() {
    let corpus = corpus();
    assert!(corpus.len() >= 50, "{}", corpus.len());
    let inert = corpus
        .iter()
        .filter(|c| matches!(c.expect, Expect::Inert))
        .count();
    let rejected = corpus
        .iter()
        .filter(|c| matches!(c.expect, Expect::Rejected(_)))
        .count();
    assert!(
        inert >= 15 && rejected >= 40,
        "{inert} inert, {rejected} rejected"
    );
}

#[test]
fn every_hostile_input_is_rejected_or_inert() {
    let expected_kinds = ["SET", "SET", "SET", "SET", "CREATE", "CREATE", "INSERT"];
    let mut failures = Vec::new();
    let dump = std::env::var_os("INJECTION_DUMP_DIR").map(std::path::PathBuf::from);
    for (i, case) in corpus().into_iter().enumerate() {
        let (checked, script) = check_and_render(&case, case.payload);
        match (&case.expect, checked, script) {
            (Expect::Rejected(field), Err(errors), None) => {
                let named = errors.iter().any(|e| e.starts_with(&format!("{field}: ")));
                if !named {
                    failures.push(format!("{}: expected {field}, got {errors:?}", case.what));
                }
                if case.payload.chars().count() > 3
                    && errors.iter().any(|e| e.contains(case.payload))
                {
                    failures.push(format!("{}: an error quotes the payload", case.what));
                }
            }
            (Expect::Inert | Expect::Dropped(_), Ok(()), Some(script)) => {
                if let Some(dir) = &dump {
                    std::fs::create_dir_all(dir).unwrap();
                    std::fs::write(dir.join(format!("case_{i:03}.sql")), &script).unwrap();
                }
                let hostile = tokens(&script);
                let shape = without_renaming_view(skeleton(&hostile), case.what);
                let kinds = statement_kinds(&shape);
                if kinds != expected_kinds {
                    failures.push(format!("{}: statements {kinds:?}", case.what));
                }
                let twin = match case.expect {
                    Expect::Dropped(twin) => twin,
                    _ => "benign",
                };
                let (_, benign_script) = check_and_render(&case, twin);
                let benign_script = benign_script.expect("the benign twin renders");
                if shape != without_renaming_view(skeleton(&tokens(&benign_script)), "benign") {
                    failures.push(format!(
                        "{}: the structure changed:\n{script}\n--- benign:\n{benign_script}",
                        case.what
                    ));
                }
                let found = literals(&hostile);
                if matches!(case.expect, Expect::Inert) {
                    let jaas = jaas_quoted(case.payload);
                    let forms = [
                        case.payload.to_owned(),
                        url_component(case.payload),
                        jaas[1..jaas.len() - 1].to_owned(),
                        // JDBC tables' field and table names (decoded by sluice's dialects).
                        jdbc_name(case.payload),
                        jdbc_table_name(&jdbc_table_parts(case.payload).unwrap_or_default()),
                    ];
                    if !found
                        .iter()
                        .any(|l| forms.iter().any(|f| l.contains(f.as_str())))
                    {
                        failures.push(format!(
                            "{}: payload not inside a literal:\n{script}",
                            case.what
                        ));
                    }
                } else if script.contains(case.payload) || script != benign_script {
                    failures.push(format!("{}: the comment survived:\n{script}", case.what));
                }
            }
            (_, checked, script) => failures.push(format!(
                "{}: unexpected outcome: check {checked:?}, script {}",
                case.what,
                script.unwrap_or_default()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_tokenizer_sees_what_flink_sees() {
    // '' inside a literal, and a backslash is no escape.
    let t = tokens("SET 'a''b' = 'c\\'; SELECT `x``y`;");
    assert_eq!(
        skeleton(&t),
        [
            "SET",
            "<string>",
            "Eq",
            "<string>",
            "SemiColon",
            "SELECT",
            "<identifier>",
            "SemiColon"
        ]
    );
    assert_eq!(literals(&t)[0], "a'b");
    assert_eq!(literals(&t)[1], "c\\");
}

#[test]
fn secret_values_never_reach_error_messages() {
    // A secret that breaks nothing still must not be echoed by any error.
    let mut f = fixture(Pg, Pg);
    secret(&mut f.src_secrets, "password", "canary-pw-'\"");
    set(&mut f.spec, "/source/filter", json!("nope = 1"));
    let err = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(f.spec.clone()),
            &f.src,
            &f.dst,
            None,
            SecretExposure::Revealed {
                source: &f.src_secrets,
                target: &f.dst_secrets,
            },
        )
        .unwrap_err();
    assert!(!err.to_string().contains("canary"));
    assert!(!format!("{err:?}").contains("canary"));
}

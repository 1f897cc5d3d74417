//! The compiler through the `JobCompiler` port: validation paths, role
//! rules, windows, secrets.

mod common;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use sluice_domain::SourceKind;
use sluice_domain::model::job::Window;
use sluice_domain::ports::{JobCompiler, RenderError, SecretExposure};
use sluice_flinksql::FlinkSqlCompiler;

use common::*;

fn check_fields(spec_json: &Value, src: SourceKind, dst: SourceKind) -> Vec<String> {
    match FlinkSqlCompiler.check(&spec(spec_json.clone()), &reading(src), &writing(dst)) {
        Ok(()) => vec![],
        Err(e) => e.errors().iter().map(|e| e.field.clone()).collect(),
    }
}

fn pg_fields(spec_json: &Value) -> Vec<String> {
    check_fields(spec_json, SourceKind::Postgres, SourceKind::Postgres)
}

fn render(
    spec_json: &Value,
    src: SourceKind,
    dst: SourceKind,
    window: Option<Window>,
    secrets: SecretExposure<'_>,
) -> Result<String, RenderError> {
    FlinkSqlCompiler.render(
        &job_id(),
        &spec(spec_json.clone()),
        &reading(src),
        &writing(dst),
        window,
        secrets,
    )
}

#[test]
fn the_simple_job_is_valid() {
    assert_eq!(pg_fields(&simple_spec()), Vec::<String>::new());
}

#[test]
fn every_problem_is_named_by_its_json_path() {
    let cases: Vec<(&str, Value, &[&str])> = vec![
        ("/name", json!(" "), &["name"]),
        ("/name", json!("a\nb"), &["name"]),
        ("/name", json!("x".repeat(201)), &["name"]),
        (
            "/source/object",
            json!("public.orders.x"),
            &["source.object"],
        ),
        ("/source/object", json!("a.b.c"), &["source.object"]),
        ("/target/object", json!("\"x"), &["target.object"]),
        ("/source/columns", json!([]), &["source.columns"]),
        (
            "/source/columns/1/name",
            json!("cust\nomer"),
            &["source.columns[1].name"],
        ),
        (
            "/source/columns/1/name",
            json!("id"),
            &["source.columns[1].name"],
        ),
        (
            "/source/columns/2/type",
            json!("DECIMAL(40, 2)"),
            &["source.columns[2].type"],
        ),
        (
            "/source/columns/2/type",
            json!("MONEY"),
            &["source.columns[2].type"],
        ),
        ("/source/filter", json!("id +"), &["source.filter"]),
        ("/source/filter", json!("id + 1"), &["source.filter"]),
        ("/source/filter", json!("nope = 1"), &["source.filter"]),
        (
            "/source/startup_mode",
            json!("earliest-offset"),
            &["source.startup_mode"],
        ),
        ("/source/format", json!({"type": "csv"}), &["source.format"]),
        (
            "/target/format",
            json!({"type": "json"}),
            &["target.format"],
        ),
        (
            "/source/incremental",
            json!({"column": "customer", "start": "2024-01-01T00:00:00Z"}),
            &["source.incremental.column"],
        ),
        (
            "/source/incremental",
            json!({"column": "nope", "start": "2024-01-01T00:00:00Z"}),
            &["source.incremental.column"],
        ),
        (
            "/target/primary_key",
            json!(["id"]),
            &["target.primary_key"],
        ),
        (
            "/target/write_mode",
            json!("upsert"),
            &["target.primary_key"],
        ),
        ("/mapping", json!([]), &["mapping"]),
        (
            "/mapping",
            json!([{"target": "id", "expr": "id"}, {"target": "id", "expr": "customer"}]),
            &["mapping[1].target"],
        ),
        (
            "/mapping",
            json!([{"target": "a\tb", "expr": "id"}]),
            &["mapping[0].target"],
        ),
        (
            "/mapping",
            json!([{"target": "a", "expr": "SUM(id)"}]),
            &["mapping[0].expr"],
        ),
        (
            "/mapping",
            json!([{"target": "a", "expr": "UPPER(customer)"}]),
            &["mapping[0].type"],
        ),
        (
            "/mapping",
            json!([{"target": "a", "expr": "id", "type": "INT(11)"}]),
            &["mapping[0].type"],
        ),
        ("/options/parallelism", json!(0), &["options.parallelism"]),
        ("/options/fetch_size", json!(0), &["options.fetch_size"]),
        (
            "/options/flush_max_rows",
            json!(0),
            &["options.flush_max_rows"],
        ),
        (
            "/options/max_retries",
            json!(1000),
            &["options.max_retries"],
        ),
        (
            "/options/partitioned_read",
            json!({"column": "customer", "num": 4, "lower_bound": 0, "upper_bound": 10}),
            &["options.partitioned_read.column"],
        ),
        (
            "/options/partitioned_read",
            json!({"column": "nope", "num": 0, "lower_bound": 10, "upper_bound": 0}),
            &[
                "options.partitioned_read.num",
                "options.partitioned_read.upper_bound",
                "options.partitioned_read.column",
            ],
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut s = simple_spec();
        set(&mut s, pointer, value.clone());
        assert_eq!(pg_fields(&s), expected, "{pointer} = {value}");
    }
}

#[test]
fn all_problems_are_collected_at_once() {
    let mut s = simple_spec();
    set(&mut s, "/name", json!(""));
    set(&mut s, "/source/columns/0/type", json!("NOPE"));
    set(&mut s, "/target/primary_key", json!(["id"]));
    set(&mut s, "/options/parallelism", json!(0));
    assert_eq!(
        pg_fields(&s),
        [
            "name",
            "options.parallelism",
            "source.columns[0].type",
            "target.primary_key"
        ]
    );
}

#[test]
fn primary_keys_must_be_target_columns() {
    let mut s = simple_spec();
    set(&mut s, "/target/write_mode", json!("upsert"));
    set(
        &mut s,
        "/target/primary_key",
        json!(["id", "nope", "id", "a b"]),
    );
    assert_eq!(
        pg_fields(&s),
        [
            "target.primary_key[1]",
            "target.primary_key[2]",
            "target.primary_key[3]"
        ]
    );
    set(&mut s, "/target/primary_key", json!([]));
    assert_eq!(pg_fields(&s), ["target.primary_key"]);
    // With a mapping, the key is among the mapped targets.
    set(&mut s, "/target/primary_key", json!(["key"]));
    set(&mut s, "/mapping", json!([{"target": "key", "expr": "id"}]));
    assert_eq!(pg_fields(&s), Vec::<String>::new());
}

#[test]
fn role_rules_per_kind() {
    // Files cannot be upserted into.
    let mut s = simple_spec();
    set(&mut s, "/target/object", json!("out"));
    set(&mut s, "/target/format", json!({"type": "csv"}));
    set(&mut s, "/target/write_mode", json!("upsert"));
    set(&mut s, "/target/primary_key", json!(["id"]));
    assert_eq!(
        check_fields(&s, SourceKind::Postgres, SourceKind::Filesystem),
        ["target.write_mode"]
    );
    // JDBC-only options on other kinds.
    let mut s = simple_spec();
    set(&mut s, "/source/object", json!("orders"));
    set(&mut s, "/source/format", json!({"type": "json"}));
    set(&mut s, "/target/object", json!("out"));
    set(&mut s, "/target/format", json!({"type": "json"}));
    set(&mut s, "/options/fetch_size", json!(10));
    set(&mut s, "/options/flush_max_rows", json!(10));
    set(
        &mut s,
        "/options/partitioned_read",
        json!({"column": "id", "num": 2, "lower_bound": 0, "upper_bound": 9}),
    );
    assert_eq!(
        check_fields(&s, SourceKind::Kafka, SourceKind::Kafka),
        [
            "options.partitioned_read",
            "options.fetch_size",
            "options.flush_max_rows"
        ]
    );
    // MySQL tables have no schema part; topics and paths have their own rules.
    let s = simple_spec();
    assert_eq!(
        check_fields(&s, SourceKind::Mysql, SourceKind::Mysql),
        ["source.object", "target.object"]
    );
}

#[test]
fn incremental_needs_batch() {
    let mut s = simple_spec();
    set(
        &mut s,
        "/source/incremental",
        json!({"column": "updated_at", "start": "2024-01-01T00:00:00Z"}),
    );
    assert_eq!(pg_fields(&s), Vec::<String>::new());
    set(&mut s, "/options/mode", json!("streaming"));
    assert_eq!(pg_fields(&s), ["source.incremental"]);
}

#[test]
fn windows_are_required_exactly_for_incremental_jobs() {
    let plain = simple_spec();
    let err = render(
        &plain,
        SourceKind::Postgres,
        SourceKind::Postgres,
        Some(window()),
        SecretExposure::Masked,
    )
    .unwrap_err();
    assert!(matches!(err, RenderError::Window(_)), "{err}");
    assert!(
        render(
            &plain,
            SourceKind::Postgres,
            SourceKind::Postgres,
            None,
            SecretExposure::Masked
        )
        .is_ok()
    );

    let mut inc = simple_spec();
    set(
        &mut inc,
        "/source/incremental",
        json!({"column": "updated_at", "start": "2024-01-01T00:00:00Z"}),
    );
    let err = render(
        &inc,
        SourceKind::Postgres,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap_err();
    assert!(matches!(err, RenderError::Window(_)), "{err}");
    let backwards = Window {
        from: window().to,
        to: window().from,
    };
    let err = render(
        &inc,
        SourceKind::Postgres,
        SourceKind::Postgres,
        Some(backwards),
        SecretExposure::Masked,
    )
    .unwrap_err();
    assert!(matches!(err, RenderError::Window(_)), "{err}");
    let script = render(
        &inc,
        SourceKind::Postgres,
        SourceKind::Postgres,
        Some(window()),
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(script.contains(
        "WHERE (`updated_at` >= TIMESTAMP '2024-01-01 00:00:00')\n  AND (`updated_at` < TIMESTAMP '2024-01-02 00:00:00');"
    ));
}

#[test]
fn window_literals_follow_the_column_type() {
    let mut s = simple_spec();
    set(&mut s, "/source/columns/3/type", json!("TIMESTAMP_LTZ(3)"));
    set(
        &mut s,
        "/source/incremental",
        json!({"column": "updated_at", "start": "2024-01-01T00:00:00Z"}),
    );
    let w = Window {
        from: Utc.with_ymd_and_hms(2024, 3, 1, 6, 30, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2024, 3, 2, 6, 30, 0).unwrap(),
    };
    let script = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Postgres,
        Some(w),
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(
        script.contains("(`updated_at` >= TO_TIMESTAMP_LTZ(1709274600000, 3))"),
        "{script}"
    );
    set(&mut s, "/source/columns/3/type", json!("DATE"));
    let script = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Postgres,
        Some(w),
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(
        script.contains("(`updated_at` >= DATE '2024-03-02')"),
        "{script}"
    );
    assert!(
        script.contains("(`updated_at` < DATE '2024-03-03')"),
        "{script}"
    );
}

#[test]
fn masked_scripts_hide_every_secret() {
    let mut s = simple_spec();
    set(&mut s, "/source/object", json!("orders"));
    set(&mut s, "/source/format", json!({"type": "json"}));
    let script = render(
        &s,
        SourceKind::Kafka,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(script.contains("'properties.sasl.jaas.config' = '******'"));
    assert!(script.contains("'password' = '******'"));
    assert!(!script.contains("LoginModule"));
}

#[test]
fn revealed_scripts_carry_escaped_secrets() {
    let mut s = simple_spec();
    set(&mut s, "/source/object", json!("orders"));
    set(&mut s, "/source/format", json!({"type": "json"}));
    let source_secrets = secrets(SourceKind::Kafka, "p\"w'\\d");
    let target_secrets = secrets(SourceKind::Postgres, "it's");
    let script = render(
        &s,
        SourceKind::Kafka,
        SourceKind::Postgres,
        None,
        SecretExposure::Revealed {
            source: &source_secrets,
            target: &target_secrets,
        },
    )
    .unwrap();
    assert!(script.contains("'password' = 'it''s'"), "{script}");
    assert!(
        script.contains(
            "'properties.sasl.jaas.config' = 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required username=\"sluice\" password=\"p\\\"w''\\\\d\";'"
        ),
        "{script}"
    );
}

#[test]
fn missing_secrets_are_named_without_values() {
    let s = simple_spec();
    let empty = sluice_domain::Secrets::new();
    let present = secrets(SourceKind::Postgres, "canary-secret");
    let err = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Postgres,
        None,
        SecretExposure::Revealed {
            source: &present,
            target: &empty,
        },
    )
    .unwrap_err();
    assert!(matches!(&err, RenderError::MissingSecret(name) if name == "target.password"));
    assert!(!err.to_string().contains("canary"));
    // Files need no secret at all.
    let mut f = simple_spec();
    set(&mut f, "/source/object", json!("in"));
    set(&mut f, "/source/format", json!({"type": "csv"}));
    set(&mut f, "/target/object", json!("out"));
    set(&mut f, "/target/format", json!({"type": "csv"}));
    assert!(
        render(
            &f,
            SourceKind::Filesystem,
            SourceKind::Filesystem,
            None,
            SecretExposure::Revealed {
                source: &empty,
                target: &empty,
            },
        )
        .is_ok()
    );
}

#[test]
fn invalid_jobs_fail_to_render_with_their_errors() {
    let mut s = simple_spec();
    set(&mut s, "/source/filter", json!("id = (SELECT 1)"));
    let err = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap_err();
    match err {
        RenderError::Invalid(errors) => assert_eq!(errors.errors()[0].field, "source.filter"),
        other => panic!("{other}"),
    }
}

#[test]
fn kafka_reads_are_bounded_in_batch_only() {
    let mut s = simple_spec();
    set(&mut s, "/source/object", json!("orders"));
    set(&mut s, "/source/format", json!({"type": "json"}));
    set(&mut s, "/source/startup_mode", json!("group-offsets"));
    let batch = render(
        &s,
        SourceKind::Kafka,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(batch.contains("'scan.bounded.mode' = 'latest-offset'"));
    assert!(batch.contains("'scan.startup.mode' = 'group-offsets'"));
    assert!(batch.contains("'properties.auto.offset.reset' = 'earliest'"));
    set(&mut s, "/options/mode", json!("streaming"));
    let streaming = render(
        &s,
        SourceKind::Kafka,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(!streaming.contains("scan.bounded.mode"));
    set(&mut s, "/source/startup_mode", json!("timestamp"));
    assert_eq!(
        check_fields(&s, SourceKind::Kafka, SourceKind::Postgres),
        ["source.startup_mode"]
    );
}

#[test]
fn jdbc_urls_per_driver() {
    let s = simple_spec();
    let mut src = reading(SourceKind::Postgres);
    src.config.insert("host".into(), json!("::1"));
    src.config.insert("database".into(), json!("my db?x=1"));
    let script = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(s.clone()),
            &src,
            &writing(SourceKind::Postgres),
            None,
            SecretExposure::Masked,
        )
        .unwrap();
    assert!(
        script.contains("'url' = 'jdbc:postgresql://[::1]:5432/my%20db%3Fx%3D1?sslmode=disable'"),
        "{script}"
    );

    let mut m = simple_spec();
    set(&mut m, "/source/object", json!("orders"));
    set(&mut m, "/target/object", json!("orders_copy"));
    let mut maria_dst = writing(SourceKind::Mysql);
    maria_dst.config.insert("flavor".into(), json!("mariadb"));
    maria_dst
        .config
        .insert("ssl_mode".into(), json!("verify_identity"));
    let script = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(m.clone()),
            &reading(SourceKind::Mysql),
            &maria_dst,
            None,
            SecretExposure::Masked,
        )
        .unwrap();
    // MariaDB read with its defaults (preferred has no MariaDB equivalent).
    assert!(
        script.contains("'url' = 'jdbc:mysql://127.0.0.1:3306/sluice_src?permitMysqlScheme&useServerPrepStmts=true',"),
        "{script}"
    );
    assert!(script.contains(
        "'url' = 'jdbc:mysql://127.0.0.1:3306/sluice_dst?permitMysqlScheme&sslMode=verify-full&useBulkStmtsForInserts=true&rewriteBatchedStatements=true'"
    ), "{script}");
    assert_eq!(
        script
            .matches("'driver' = 'org.mariadb.jdbc.Driver'")
            .count(),
        2
    );

    let mut mysql_src = reading(SourceKind::Mysql);
    mysql_src.config.insert("flavor".into(), json!("mysql"));
    let script = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(m.clone()),
            &mysql_src,
            &writing(SourceKind::Mysql),
            None,
            SecretExposure::Masked,
        )
        .unwrap();
    assert!(
        script.contains(
            "'url' = 'jdbc:mysql://127.0.0.1:3306/sluice_src?sslMode=PREFERRED&useCursorFetch=true'"
        ),
        "{script}"
    );
    assert!(script.contains("'driver' = 'com.mysql.cj.jdbc.Driver'"));

    // MariaDB Connector/J does not percent-decode database names.
    let mut odd = reading(SourceKind::Mysql);
    odd.config.insert("database".into(), json!("my db"));
    let err = FlinkSqlCompiler
        .check(&spec(m), &odd, &writing(SourceKind::Mysql))
        .unwrap_err();
    assert_eq!(err.errors()[0].field, "source.source_id");
}

#[test]
fn jdbc_sinks_flush_in_batches_of_5000_unless_the_job_says() {
    let render_pg = |s: &Value| {
        render(
            s,
            SourceKind::Postgres,
            SourceKind::Postgres,
            None,
            SecretExposure::Masked,
        )
        .unwrap()
    };
    let script = render_pg(&simple_spec());
    assert_eq!(
        script
            .matches("'sink.buffer-flush.max-rows' = '5000'")
            .count(),
        1,
        "{script}"
    );
    let mut s = simple_spec();
    set(&mut s, "/options/flush_max_rows", json!(200));
    let script = render_pg(&s);
    assert!(
        script.contains("'sink.buffer-flush.max-rows' = '200'"),
        "{script}"
    );
    assert!(!script.contains("'5000'"), "{script}");
    // Not on a source table, nor on sinks that are not JDBC.
    let mut to_kafka = simple_spec();
    set(&mut to_kafka, "/target/object", json!("orders.out"));
    set(&mut to_kafka, "/target/format", json!({"type": "json"}));
    let script = render(
        &to_kafka,
        SourceKind::Postgres,
        SourceKind::Kafka,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(!script.contains("sink.buffer-flush"), "{script}");
}

#[test]
fn s3_credentials_cannot_be_carried_by_a_table() {
    let mut f = simple_spec();
    set(&mut f, "/source/object", json!("in"));
    set(&mut f, "/source/format", json!({"type": "parquet"}));
    let mut s3 = source(
        SRC_ID,
        SourceKind::Filesystem,
        json!({"path": "s3://bucket/data", "access_key_id": "AKIA", "region": "eu-west-1"}),
        &["secret_access_key"],
    );
    let err = FlinkSqlCompiler
        .check(&spec(f.clone()), &s3, &writing(SourceKind::Postgres))
        .unwrap_err();
    assert_eq!(err.errors()[0].field, "source.source_id");
    s3.config.remove("access_key_id");
    s3.secret_fields.clear();
    let script = FlinkSqlCompiler
        .render(
            &job_id(),
            &spec(f),
            &s3,
            &writing(SourceKind::Postgres),
            None,
            SecretExposure::Masked,
        )
        .unwrap();
    assert!(script.contains("'path' = 's3://bucket/data/in'"));
}

#[test]
fn broken_source_configs_are_reported_not_panicked_on() {
    let s = simple_spec();
    let mut src = reading(SourceKind::Postgres);
    src.config.remove("host");
    src.config.insert("port".into(), json!("5432"));
    let err = FlinkSqlCompiler
        .check(&spec(s), &src, &writing(SourceKind::Postgres))
        .unwrap_err();
    assert_eq!(err.errors()[0].field, "source.source_id");
    assert!(err.errors()[0].reason.contains("host, port"), "{err}");
}

#[test]
fn mapping_types_are_declared_or_inferred() {
    let mut s = simple_spec();
    set(
        &mut s,
        "/mapping",
        json!([
            {"target": "id", "expr": "id"},
            {"target": "id_text", "expr": "CAST(id AS VARCHAR(20))"},
            {"target": "amount", "expr": "amount", "type": "DOUBLE"},
            {"target": "label", "expr": "customer || '!'", "type": "STRING"}
        ]),
    );
    let script = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Postgres,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    assert!(
        script.contains(
            "  `id` BIGINT,\n  `id_text` VARCHAR(20),\n  `amount` DOUBLE,\n  `label` STRING\n"
        ),
        "{script}"
    );
    assert!(script.contains(
        "SELECT\n  `id`,\n  CAST(`id` AS VARCHAR(20)) AS `id_text`,\n  CAST(`amount` AS DOUBLE) AS `amount`,\n  CAST(`customer` || '!' AS STRING) AS `label`\nFROM `src`;"
    ), "{script}");
}

#[test]
fn a_broken_column_is_reported_once_not_at_every_use() {
    let mut s = simple_spec();
    set(&mut s, "/source/columns/1/name", json!("cust\nomer"));
    set(&mut s, "/source/filter", json!("customer IS NOT NULL"));
    set(
        &mut s,
        "/mapping",
        json!([{"target": "c", "expr": "customer", "type": "STRING"}]),
    );
    assert_eq!(pg_fields(&s), ["source.columns[1].name"]);
    // Other problems of the same expressions are still reported.
    set(&mut s, "/source/filter", json!("COUNT(id) > 1"));
    assert_eq!(pg_fields(&s), ["source.columns[1].name", "source.filter"]);
}

#[test]
fn names_as_real_schemas_have_them_are_quoted_and_encoded_for_jdbc() {
    let mut s = simple_spec();
    set(&mut s, "/source/object", json!("销售.\"Order.Id\""));
    set(
        &mut s,
        "/source/columns",
        json!([
            {"name": "order", "type": "BIGINT"},
            {"name": "名称", "type": "STRING"},
            {"name": "a b", "type": "STRING"},
            {"name": "back`tick", "type": "STRING"}
        ]),
    );
    set(
        &mut s,
        "/source/filter",
        json!("`a b` <> '' AND `back``tick` IS NOT NULL"),
    );
    set(&mut s, "/target/object", json!("Select 订单"));
    set(&mut s, "/target/write_mode", json!("upsert"));
    set(&mut s, "/target/primary_key", json!(["order"]));
    let script = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Mysql,
        None,
        SecretExposure::Masked,
    )
    .unwrap();
    // JDBC tables carry encoded field names and table names; a view gives
    // the user's names back to the filter and the INSERT.
    for expected in [
        "CREATE TEMPORARY TABLE `src_fields` (\n  `order` BIGINT,\n  `名称` STRING,\n  `a$20$b` STRING,\n  `back$60$tick` STRING\n)",
        "'table-name' = '销售.Order$2E$Id'",
        "CREATE TEMPORARY VIEW `src` AS\nSELECT\n  `order` AS `order`,\n  `名称` AS `名称`,\n  `a$20$b` AS `a b`,\n  `back$60$tick` AS `back``tick`\nFROM `src_fields`;",
        "CREATE TEMPORARY TABLE `dst` (\n  `order` BIGINT,\n  `名称` STRING,\n  `a$20$b` STRING,\n  `back$60$tick` STRING,\n  PRIMARY KEY (`order`) NOT ENFORCED\n)",
        "'table-name' = 'Select$20$订单'",
        "INSERT INTO `dst` (`order`, `名称`, `a$20$b`, `back$60$tick`)",
        "WHERE (`a b` <> '') AND (`back``tick` IS NOT NULL)",
    ] {
        assert!(script.contains(expected), "{expected}\n---\n{script}");
    }
    // A MySQL target cannot hold : or ? in a name; PostgreSQL can.
    set(&mut s, "/source/columns/1/name", json!("a:b"));
    assert_eq!(
        check_fields(&s, SourceKind::Postgres, SourceKind::Mysql),
        ["source.columns[1].name"]
    );
    assert!(check_fields(&s, SourceKind::Postgres, SourceKind::Postgres).is_empty());
    // PostgreSQL keeps 63 bytes of a name.
    set(&mut s, "/source/columns/1/name", json!("名".repeat(22)));
    assert_eq!(
        check_fields(&s, SourceKind::Postgres, SourceKind::Mysql),
        ["source.columns[1].name"]
    );
}

#[test]
fn types_a_jdbc_table_cannot_hold_exactly_are_refused_when_saved() {
    for (ty, ok) in [
        ("TIME(3)", true),
        ("TIME(6)", false),
        ("TIMESTAMP(6)", true),
        ("TIMESTAMP(9)", false),
        ("TIMESTAMP_LTZ(9)", false),
        ("BYTES", true),
        ("VARBINARY(16)", false),
        ("BINARY(16)", false),
    ] {
        let mut s = simple_spec();
        set(&mut s, "/source/columns/3/type", json!(ty));
        let fields = pg_fields(&s);
        if ok {
            assert!(fields.is_empty(), "{ty}: {fields:?}");
        } else {
            // The source column, and the target column it becomes.
            assert_eq!(
                fields,
                ["source.columns[3].type", "source.columns[3].type"],
                "{ty}"
            );
        }
    }
}

#[test]
fn time_with_fractions_in_json_or_csv_is_refused_when_saved() {
    let mut s = simple_spec();
    set(&mut s, "/target/object", json!("out"));
    for (format, ty, ok) in [
        ("json", "TIME(0)", true),
        ("json", "TIME(3)", false),
        ("json", "STRING", true),
        ("csv", "TIME(0)", true),
        ("csv", "TIME(1)", false),
    ] {
        set(&mut s, "/target/format", json!({"type": format}));
        set(&mut s, "/source/columns/3/type", json!(ty));
        let fields = check_fields(&s, SourceKind::Postgres, SourceKind::Filesystem);
        if ok {
            assert!(fields.is_empty(), "{format} {ty}: {fields:?}");
        } else {
            assert_eq!(fields, ["source.columns[3].type"], "{format} {ty}");
        }
    }
}

#[test]
fn incremental_and_partition_columns_named_like_real_schemas() {
    let mut s = simple_spec();
    set(&mut s, "/source/columns/0/name", json!("order id"));
    set(&mut s, "/source/columns/3/name", json!("更新 at"));
    set(&mut s, "/target/object", json!("订单 copy"));
    set(
        &mut s,
        "/source/incremental",
        json!({"column": "更新 at", "start": "2024-01-01T00:00:00Z"}),
    );
    set(
        &mut s,
        "/options/partitioned_read",
        json!({"column": "order id", "num": 2, "lower_bound": 1, "upper_bound": 100}),
    );
    let w = Window {
        from: Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2024, 3, 2, 0, 0, 0).unwrap(),
    };
    let script = render(
        &s,
        SourceKind::Postgres,
        SourceKind::Mysql,
        Some(w),
        SecretExposure::Masked,
    )
    .unwrap();
    for expected in [
        // The JDBC table's field, decoded by the dialect into "order id".
        "'scan.partition.column' = 'order$20$id'",
        "`更新$20$at` TIMESTAMP(3)",
        "`更新$20$at` AS `更新 at`",
        // The window on the user's name, through the view.
        "(`更新 at` >= TIMESTAMP '2024-03-01 00:00:00')",
    ] {
        assert!(script.contains(expected), "{expected}\n---\n{script}");
    }
}

//! Fixtures shared by the integration tests: registered sources of every
//! kind (on 127.0.0.1, with local databases), job specs and secrets.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use sluice_domain::model::job::{JobId, JobSpec, Window};
use sluice_domain::{Secrets, Source, SourceId, SourceKind, TenantId};

pub const JOB_ID: &str = "job_01J0000000000000000000000A";

pub fn job_id() -> JobId {
    JobId::parse(JOB_ID).expect("a valid job id")
}

pub fn window() -> Window {
    Window {
        from: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap(),
    }
}

pub fn kind_name(kind: SourceKind) -> &'static str {
    kind.as_str()
}

/// A registered source with this config (defaults already applied, as the
/// catalog stores them).
pub fn source(id: &str, kind: SourceKind, config: Value, secret_fields: &[&str]) -> Source {
    let at = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    Source {
        id: SourceId::parse(id).expect("a valid source id"),
        tenant: TenantId::parse("acme").unwrap(),
        name: format!("{kind} fixture"),
        kind,
        config: config.as_object().expect("an object").clone(),
        secret_fields: secret_fields.iter().map(|s| s.to_string()).collect(),
        sealed_secrets: None,
        secrets_updated_at: Some(at),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

pub const SRC_ID: &str = "src_01J0000000000000000000000A";
pub const DST_ID: &str = "src_01J0000000000000000000000B";

/// The source end of the golden jobs, per kind.
pub fn reading(kind: SourceKind) -> Source {
    match kind {
        SourceKind::Postgres => source(
            SRC_ID,
            kind,
            json!({"host": "127.0.0.1", "port": 5432, "database": "sluice_src",
                   "username": "sluice", "ssl_mode": "disable"}),
            &["password"],
        ),
        SourceKind::Mysql => source(
            SRC_ID,
            kind,
            json!({"host": "127.0.0.1", "port": 3306, "database": "sluice_src",
                   "username": "sluice", "flavor": "mariadb", "ssl_mode": "preferred"}),
            &["password"],
        ),
        SourceKind::Kafka => source(
            SRC_ID,
            kind,
            json!({"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "SASL_PLAINTEXT",
                   "sasl_mechanism": "SCRAM-SHA-256", "sasl_username": "sluice"}),
            &["sasl_password"],
        ),
        SourceKind::Filesystem => source(SRC_ID, kind, json!({"path": "/tmp/sluice/in"}), &[]),
    }
}

/// The target end of the golden jobs, per kind.
pub fn writing(kind: SourceKind) -> Source {
    match kind {
        SourceKind::Postgres => source(
            DST_ID,
            kind,
            json!({"host": "127.0.0.1", "port": 5432, "database": "sluice_dst",
                   "username": "sluice", "ssl_mode": "prefer"}),
            &["password"],
        ),
        SourceKind::Mysql => source(
            DST_ID,
            kind,
            json!({"host": "127.0.0.1", "port": 3306, "database": "sluice_dst",
                   "username": "sluice", "flavor": "mysql", "ssl_mode": "disabled"}),
            &["password"],
        ),
        SourceKind::Kafka => source(
            DST_ID,
            kind,
            json!({"bootstrap_servers": "127.0.0.1:9092,127.0.0.1:9093",
                   "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                   "sasl_username": "sluice-writer"}),
            &["sasl_password"],
        ),
        SourceKind::Filesystem => source(DST_ID, kind, json!({"path": "/tmp/sluice/out"}), &[]),
    }
}

/// Secrets for both ends, as the trigger would decrypt them.
pub fn secrets(kind: SourceKind, value: &str) -> Secrets {
    let mut s = Secrets::new();
    match kind {
        SourceKind::Postgres | SourceKind::Mysql => {
            s.insert("password", SecretString::from(value.to_owned()))
        }
        SourceKind::Kafka => s.insert("sasl_password", SecretString::from(value.to_owned())),
        SourceKind::Filesystem => {}
    }
    s
}

pub fn spec(value: Value) -> JobSpec {
    serde_json::from_value(value).expect("a valid job spec")
}

/// A small valid postgres -> postgres job, the base of the negative tests.
pub fn simple_spec() -> Value {
    json!({
        "name": "orders copy",
        "source": {
            "source_id": SRC_ID,
            "object": "public.orders",
            "columns": [
                {"name": "id", "type": "BIGINT"},
                {"name": "customer", "type": "VARCHAR(100)"},
                {"name": "amount", "type": "DECIMAL(12, 2)"},
                {"name": "updated_at", "type": "TIMESTAMP(3)"}
            ]
        },
        "target": {
            "source_id": DST_ID,
            "object": "public.orders_copy",
            "write_mode": "append"
        },
        "options": {"mode": "batch", "parallelism": 1}
    })
}

/// Sets `pointer` (a JSON pointer) in `v` to `value`, creating objects on
/// the way.
pub fn set(v: &mut Value, pointer: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        cur = match cur {
            Value::Object(map) => {
                if last {
                    map.insert(part.to_string(), value);
                    return;
                }
                map.entry(part.to_string()).or_insert_with(|| json!({}))
            }
            Value::Array(items) => {
                let idx: usize = part.parse().expect("an index");
                if last {
                    items[idx] = value;
                    return;
                }
                &mut items[idx]
            }
            _ => panic!("cannot descend into {pointer}"),
        };
    }
}

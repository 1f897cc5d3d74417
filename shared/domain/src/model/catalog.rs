//! The connector catalog: per kind, which settings exist, which are required,
//! which are secret, their types and limits. Validation of a source's
//! `config` and `secrets` is driven entirely by this table.

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::model::validation::{FieldError, ValidationErrors, check_text};
use crate::{Secrets, SourceKind};

/// The type and limits of one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A DNS host name (RFC 1123) or an IPv4/IPv6 literal.
    Host,
    /// A TCP port, 1..=65535.
    Port,
    /// Free text without control characters.
    Text { max_chars: usize },
    /// One of a fixed set of values.
    OneOf(&'static [&'static str]),
    /// `host:port` pairs, comma-separated, as Kafka takes them.
    HostPortList,
    /// `s3://bucket/prefix` or an absolute local path.
    FilePath,
    /// An AWS region name such as `eu-west-1`.
    AwsRegion,
}

/// One setting of a connector.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Secret fields are sent under `secrets`, stored sealed, never shown.
    pub secret: bool,
    /// Applied when the field is absent.
    pub default: Option<DefaultValue>,
}

#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    Int(u16),
    Str(&'static str),
}

impl DefaultValue {
    fn to_json(self) -> Value {
        match self {
            DefaultValue::Int(n) => Value::from(n),
            DefaultValue::Str(s) => Value::from(s),
        }
    }
}

const fn field(name: &'static str, ty: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        required: false,
        secret: false,
        default: None,
    }
}

impl FieldSpec {
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
    const fn default(mut self, value: DefaultValue) -> Self {
        self.default = Some(value);
        self
    }
}

const NAME: FieldType = FieldType::Text { max_chars: 128 };
const PASSWORD: FieldType = FieldType::Text { max_chars: 1024 };

const POSTGRES: &[FieldSpec] = &[
    field("host", FieldType::Host).required(),
    field("port", FieldType::Port).default(DefaultValue::Int(5432)),
    field("database", FieldType::Text { max_chars: 63 }).required(),
    field("username", FieldType::Text { max_chars: 63 }).required(),
    field(
        "ssl_mode",
        FieldType::OneOf(&[
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ]),
    )
    .default(DefaultValue::Str("prefer")),
    field("password", PASSWORD).required().secret(),
];

const MYSQL: &[FieldSpec] = &[
    field("host", FieldType::Host).required(),
    field("port", FieldType::Port).default(DefaultValue::Int(3306)),
    field("database", FieldType::Text { max_chars: 64 }).required(),
    field("username", FieldType::Text { max_chars: 80 }).required(),
    field("flavor", FieldType::OneOf(&["mysql", "mariadb", "tidb"]))
        .default(DefaultValue::Str("mysql")),
    field(
        "ssl_mode",
        FieldType::OneOf(&[
            "disabled",
            "preferred",
            "required",
            "verify_ca",
            "verify_identity",
        ]),
    )
    .default(DefaultValue::Str("preferred")),
    field("password", PASSWORD).required().secret(),
];

const SASL_PROTOCOLS: [&str; 2] = ["SASL_PLAINTEXT", "SASL_SSL"];

const KAFKA: &[FieldSpec] = &[
    field("bootstrap_servers", FieldType::HostPortList).required(),
    field(
        "security_protocol",
        FieldType::OneOf(&["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]),
    )
    .default(DefaultValue::Str("PLAINTEXT")),
    field(
        "sasl_mechanism",
        FieldType::OneOf(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]),
    ),
    field("sasl_username", NAME),
    field("sasl_password", PASSWORD).secret(),
];

const FILESYSTEM: &[FieldSpec] = &[
    field("path", FieldType::FilePath).required(),
    field("region", FieldType::AwsRegion),
    field("access_key_id", FieldType::Text { max_chars: 128 }),
    field("secret_access_key", PASSWORD).secret(),
];

/// The settings of a kind, in the order they are documented.
pub fn fields(kind: SourceKind) -> &'static [FieldSpec] {
    match kind {
        SourceKind::Postgres => POSTGRES,
        SourceKind::Mysql => MYSQL,
        SourceKind::Kafka => KAFKA,
        SourceKind::Filesystem => FILESYSTEM,
    }
}

/// Names of the secret settings a kind has.
pub fn secret_field_names(kind: SourceKind) -> Vec<&'static str> {
    fields(kind)
        .iter()
        .filter(|f| f.secret)
        .map(|f| f.name)
        .collect()
}

/// Validates `config` against the catalog and returns it with defaults
/// applied. `secret_names` are the secret fields that will be set after the
/// write (new ones, or kept ones on an update without `secrets`).
pub fn validate_config(
    kind: SourceKind,
    config: &Map<String, Value>,
    secret_names: &[String],
) -> Result<Map<String, Value>, ValidationErrors> {
    let specs = fields(kind);
    let mut errors = ValidationErrors::new();
    let mut normalized = Map::new();

    for (key, value) in config {
        match specs.iter().find(|s| s.name == key) {
            None => errors.push(
                format!("config.{}", printable(key)),
                format!("unknown field for kind {kind}"),
            ),
            Some(spec) if spec.secret => errors.push(
                format!("config.{key}"),
                "is a secret; send it under secrets",
            ),
            Some(spec) => match check_value(&format!("config.{key}"), spec.ty, value) {
                Ok(()) => {
                    normalized.insert(key.clone(), value.clone());
                }
                Err(e) => errors.add(e),
            },
        }
    }
    for spec in specs.iter().filter(|s| !s.secret) {
        if config.contains_key(spec.name) {
            continue;
        }
        if let Some(default) = spec.default {
            normalized.insert(spec.name.to_owned(), default.to_json());
        } else if spec.required {
            errors.push(format!("config.{}", spec.name), "is required");
        }
    }
    for spec in specs.iter().filter(|s| s.secret && s.required) {
        if !secret_names.iter().any(|n| n == spec.name) {
            errors.push(format!("secrets.{}", spec.name), "is required");
        }
    }
    if errors.is_empty() {
        check_combinations(kind, &normalized, secret_names, &mut errors);
    }
    errors.into_result().map(|()| normalized)
}

/// Validates the secret values: known names, right shapes.
pub fn validate_secrets(kind: SourceKind, secrets: &Secrets) -> Result<(), ValidationErrors> {
    let specs = fields(kind);
    let mut errors = ValidationErrors::new();
    for name in secrets.names() {
        let field = format!("secrets.{}", printable(&name));
        match specs.iter().find(|s| s.name == name) {
            None => errors.push(field, format!("unknown secret for kind {kind}")),
            Some(spec) if !spec.secret => {
                errors.push(field, "is not a secret; send it under config")
            }
            Some(spec) => {
                let value: &SecretString = secrets.get(&name).expect("name came from the map");
                // The reason never quotes the value: it is a secret.
                if let Err(e) = check_secret(&field, spec.ty, value.expose_secret()) {
                    errors.add(e);
                }
            }
        }
    }
    errors.into_result()
}

fn check_secret(field: &str, ty: FieldType, value: &str) -> Result<(), FieldError> {
    match ty {
        FieldType::Text { max_chars } => {
            if value.is_empty() {
                return Err(FieldError::new(field, "must not be empty"));
            }
            if value.chars().count() > max_chars {
                return Err(FieldError::new(
                    field,
                    format!("must be at most {max_chars} characters"),
                ));
            }
            if value.chars().any(|c| c == '\0') {
                return Err(FieldError::new(field, "must not contain NUL"));
            }
            Ok(())
        }
        _ => unreachable!("secret fields are text"),
    }
}

/// Rules that span fields.
fn check_combinations(
    kind: SourceKind,
    config: &Map<String, Value>,
    secret_names: &[String],
    errors: &mut ValidationErrors,
) {
    let has_secret = |n: &str| secret_names.iter().any(|s| s == n);
    match kind {
        SourceKind::Kafka => {
            let protocol = config
                .get("security_protocol")
                .and_then(Value::as_str)
                .unwrap_or("PLAINTEXT");
            let sasl = SASL_PROTOCOLS.contains(&protocol);
            for name in ["sasl_mechanism", "sasl_username"] {
                match (sasl, config.contains_key(name)) {
                    (true, false) => errors.push(
                        format!("config.{name}"),
                        format!("is required with security_protocol {protocol}"),
                    ),
                    (false, true) => errors.push(
                        format!("config.{name}"),
                        format!("is only allowed with a SASL security_protocol, not {protocol}"),
                    ),
                    _ => {}
                }
            }
            match (sasl, has_secret("sasl_password")) {
                (true, false) => errors.push(
                    "secrets.sasl_password",
                    format!("is required with security_protocol {protocol}"),
                ),
                (false, true) => errors.push(
                    "secrets.sasl_password",
                    "is only allowed with a SASL security_protocol",
                ),
                _ => {}
            }
        }
        SourceKind::Filesystem => {
            let path = config.get("path").and_then(Value::as_str).unwrap_or("");
            let on_s3 = path.starts_with("s3://");
            if !on_s3 {
                for name in ["region", "access_key_id"] {
                    if config.contains_key(name) {
                        errors.push(format!("config.{name}"), "is only allowed for s3:// paths");
                    }
                }
            }
            match (
                config.contains_key("access_key_id"),
                has_secret("secret_access_key"),
            ) {
                (true, false) => errors.push(
                    "secrets.secret_access_key",
                    "is required when config.access_key_id is set",
                ),
                (false, true) => errors.push(
                    "config.access_key_id",
                    "is required when secrets.secret_access_key is set",
                ),
                _ => {}
            }
        }
        SourceKind::Postgres | SourceKind::Mysql => {}
    }
}

/// A field name safe to echo: unknown keys come from the caller.
fn printable(key: &str) -> String {
    let cleaned: String = key.chars().filter(|c| !c.is_control()).take(64).collect();
    if cleaned.len() < key.len() {
        format!("{cleaned}…")
    } else {
        cleaned
    }
}

fn check_value(field: &str, ty: FieldType, value: &Value) -> Result<(), FieldError> {
    match ty {
        FieldType::Port => match value.as_u64() {
            Some(1..=65535) => Ok(()),
            Some(_) => Err(FieldError::new(field, "must be between 1 and 65535")),
            None => Err(FieldError::new(field, "must be an integer port number")),
        },
        _ => {
            let Some(text) = value.as_str() else {
                return Err(FieldError::new(field, "must be a string"));
            };
            check_string(field, ty, text)
        }
    }
}

fn check_string(field: &str, ty: FieldType, text: &str) -> Result<(), FieldError> {
    match ty {
        FieldType::Host => check_host(field, text),
        FieldType::Text { max_chars } => check_text(field, text, max_chars),
        FieldType::OneOf(allowed) => {
            if allowed.contains(&text) {
                Ok(())
            } else {
                Err(FieldError::new(
                    field,
                    format!("must be one of {}", allowed.join(", ")),
                ))
            }
        }
        FieldType::HostPortList => check_host_port_list(field, text),
        FieldType::FilePath => check_file_path(field, text),
        FieldType::AwsRegion => {
            let ok = (9..=25).contains(&text.len())
                && text.split('-').all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
                && text.matches('-').count() >= 2;
            if ok {
                Ok(())
            } else {
                Err(FieldError::new(
                    field,
                    "must be an AWS region such as eu-west-1",
                ))
            }
        }
        FieldType::Port => unreachable!("ports are numbers"),
    }
}

/// RFC 1123 host name, or an IP literal (IPv6 with or without brackets).
pub fn check_host(field: &str, text: &str) -> Result<(), FieldError> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = text.strip_suffix('.').unwrap_or(text);
    let all_numeric = name
        .split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit()));
    if name.len() <= 253 && !all_numeric && name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be a host name (letters, digits, hyphens, dots) or an IP address",
        ))
    }
}

fn check_host_port_list(field: &str, text: &str) -> Result<(), FieldError> {
    if text.len() > 2048 {
        return Err(FieldError::new(field, "must be at most 2048 characters"));
    }
    let bad = || FieldError::new(field, "must be comma-separated host:port pairs");
    if text.trim().is_empty() {
        return Err(bad());
    }
    for pair in text.split(',') {
        let pair = pair.trim();
        let (host, port) = pair.rsplit_once(':').ok_or_else(bad)?;
        check_host(field, host).map_err(|_| bad())?;
        match port.parse::<u32>() {
            Ok(1..=65535) if !port.starts_with('+') => {}
            _ => return Err(bad()),
        }
    }
    Ok(())
}

fn check_file_path(field: &str, text: &str) -> Result<(), FieldError> {
    if text.len() > 1024 {
        return Err(FieldError::new(field, "must be at most 1024 characters"));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    if text.split('/').any(|segment| segment == "..") {
        return Err(FieldError::new(field, "must not contain .. segments"));
    }
    if let Some(rest) = text.strip_prefix("s3://") {
        let bucket = rest.split('/').next().unwrap_or("");
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        return if bucket_ok {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                "s3:// paths need a valid bucket name (3-63 of a-z 0-9 . -)",
            ))
        };
    }
    if text.starts_with('/') {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be an s3://bucket/prefix or an absolute local path",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn fields_of(err: ValidationErrors) -> Vec<String> {
        err.errors().iter().map(|e| e.field.clone()).collect()
    }

    fn pw() -> Vec<String> {
        vec!["password".into()]
    }

    #[test]
    fn postgres_gets_defaults() {
        let out = validate_config(
            SourceKind::Postgres,
            &cfg(json!({"host": "db.internal", "database": "shop", "username": "etl"})),
            &pw(),
        )
        .unwrap();
        assert_eq!(out["port"], json!(5432));
        assert_eq!(out["ssl_mode"], json!("prefer"));
    }

    #[test]
    fn missing_required_and_secret_are_named() {
        let err = validate_config(SourceKind::Mysql, &cfg(json!({"host": "h"})), &[]).unwrap_err();
        assert_eq!(
            fields_of(err),
            ["config.database", "config.username", "secrets.password"]
        );
    }

    #[test]
    fn unknown_mistyped_and_misplaced_fields_are_named() {
        let err = validate_config(
            SourceKind::Postgres,
            &cfg(json!({"host": "h", "database": "d", "username": "u",
                        "port": "5432", "hots": "x", "password": "canary"})),
            &pw(),
        )
        .unwrap_err();
        let fields = fields_of(err.clone());
        assert!(fields.contains(&"config.port".to_string()));
        assert!(fields.contains(&"config.hots".to_string()));
        assert!(fields.contains(&"config.password".to_string()));
        assert!(!err.to_string().contains("canary"));
    }

    #[test]
    fn ports_are_bounded() {
        for (port, ok) in [
            (json!(0), false),
            (json!(1), true),
            (json!(65535), true),
            (json!(65536), false),
            (json!(-1), false),
            (json!(5.5), false),
        ] {
            let r = validate_config(
                SourceKind::Postgres,
                &cfg(json!({"host": "h", "database": "d", "username": "u", "port": port})),
                &pw(),
            );
            assert_eq!(r.is_ok(), ok, "{port}");
        }
    }

    #[test]
    fn hosts() {
        for ok in [
            "localhost",
            "db-1.eu-west-1.rds.amazonaws.com",
            "10.0.0.1",
            "::1",
            "[::1]",
            "a.b.",
        ] {
            assert!(check_host("h", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a..b",
            "a b",
            "host;drop",
            "ho'st",
            "999.1.1.1",
            &"a".repeat(64),
        ] {
            assert!(check_host("h", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kafka_sasl_rules() {
        let plain = cfg(json!({"bootstrap_servers": "k1:9092,k2:9092"}));
        assert!(validate_config(SourceKind::Kafka, &plain, &[]).is_ok());
        let sasl = cfg(json!({"bootstrap_servers": "k1:9092", "security_protocol": "SASL_SSL"}));
        let err = validate_config(SourceKind::Kafka, &sasl, &[]).unwrap_err();
        assert_eq!(
            fields_of(err),
            [
                "config.sasl_mechanism",
                "config.sasl_username",
                "secrets.sasl_password"
            ]
        );
        for bad in ["k1", "k1:0", "k1:99999", "k1:9092,", "k 1:9092"] {
            let c = cfg(json!({"bootstrap_servers": bad}));
            assert!(
                validate_config(SourceKind::Kafka, &c, &[]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn filesystem_paths() {
        for ok in ["s3://my-bucket/data/", "s3://my.bucket", "/var/data/in"] {
            let c = cfg(json!({"path": ok}));
            assert!(
                validate_config(SourceKind::Filesystem, &c, &[]).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "relative/path",
            "s3://",
            "s3://Bad_Bucket/x",
            "/data/../etc",
            "file:///x",
            "/a\nb",
        ] {
            let c = cfg(json!({"path": bad}));
            assert!(
                validate_config(SourceKind::Filesystem, &c, &[]).is_err(),
                "{bad}"
            );
        }
        let local_with_region = cfg(json!({"path": "/data", "region": "eu-west-1"}));
        assert!(validate_config(SourceKind::Filesystem, &local_with_region, &[]).is_err());
    }

    #[test]
    fn secrets_are_checked_without_echoing_values() {
        let mut s = Secrets::new();
        s.insert("password", SecretString::from("x".repeat(2000)));
        s.insert("host", SecretString::from("canary"));
        s.insert("api_key", SecretString::from("canary"));
        let err = validate_secrets(SourceKind::Postgres, &s).unwrap_err();
        assert_eq!(
            fields_of(err.clone()),
            ["secrets.api_key", "secrets.host", "secrets.password"]
        );
        assert!(!err.to_string().contains("canary"));
    }

    #[test]
    fn every_kind_has_its_secrets_marked() {
        assert_eq!(secret_field_names(SourceKind::Postgres), ["password"]);
        assert_eq!(secret_field_names(SourceKind::Mysql), ["password"]);
        assert_eq!(secret_field_names(SourceKind::Kafka), ["sasl_password"]);
        assert_eq!(
            secret_field_names(SourceKind::Filesystem),
            ["secret_access_key"]
        );
    }
}

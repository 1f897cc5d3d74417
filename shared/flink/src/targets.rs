//! The deployment's Flink targets, read and checked in one place at cold
//! start.
//!
//! `SLUICE_FLINK_TARGETS` is a JSON list; the first entry is the default
//! target (jobs without `flink_target`):
//!
//! ```json
//! [{"name": "local", "kind": "session", "rest_url": "http://127.0.0.1:8081"},
//!  {"name": "gw", "kind": "gateway", "gateway_url": "http://127.0.0.1:8083",
//!   "rest_url": "http://127.0.0.1:8081", "plaintext_credentials": true},
//!  {"name": "msf", "kind": "managed", "bucket": "sluice-artifacts",
//!   "runner_jar_key": "runner/flink-sql-runner-0.1.0.jar",
//!   "service_role_arn": "arn:aws:iam::123456789012:role/sluice-msf"}]
//! ```
//!
//! - `session`: `rest_url`, and `runner_jar` (default `SLUICE_RUNNER_JAR`;
//!   only the trigger needs it). Scripts go sealed.
//! - `gateway`: `gateway_url` (https, or http on loopback only), `rest_url`
//!   (the JobManager behind it, for status and cancel) and
//!   `plaintext_credentials: true`, which must be set: a gateway takes
//!   scripts in plaintext, credentials included (ARCHITECTURE.md §6).
//! - `managed` (Amazon Managed Service for Apache Flink): `bucket` and
//!   `runner_jar_key` (the runner jar in S3), `service_role_arn` (the role
//!   the applications run as), optionally `application_prefix` (`sluice`),
//!   `script_prefix` (`sluice/runs`) and `script_bucket` (default
//!   `SLUICE_SCRIPT_BUCKET`, else `bucket`). Scripts go sealed, through S3.
//!   The adapter is `sluice_aws::msf`.
//!
//! Without `SLUICE_FLINK_TARGETS`, the deployment has one `session` target
//! named `session` from `SLUICE_FLINK_REST_URL` and `SLUICE_RUNNER_JAR` (how
//! the stack ran before targets had names).
//!
//! Names are 1-32 of `a-z 0-9 - _`, unique. Unknown fields are errors, and
//! every error names the entry and the field.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sluice_domain::model::job::FlinkTarget;
use sluice_domain::ports::{FlinkCluster, FlinkJobTargets, FlinkJobs, FlinkTargets, Targets};

use crate::gateway::{
    FlinkGatewayClient, FlinkGatewayConfig, GatewayConfigError, parse_gateway_url,
};
use crate::session::{FlinkConfigError, FlinkSessionClient, FlinkSessionConfig};

pub const TARGETS_VAR: &str = "SLUICE_FLINK_TARGETS";
pub const REST_URL_VAR: &str = "SLUICE_FLINK_REST_URL";
pub const RUNNER_JAR_VAR: &str = "SLUICE_RUNNER_JAR";
pub const SCRIPT_BUCKET_VAR: &str = "SLUICE_SCRIPT_BUCKET";

/// One configured target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    pub name: FlinkTarget,
    pub kind: TargetKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    Session {
        rest_url: String,
        runner_jar: Option<PathBuf>,
    },
    Gateway {
        gateway_url: String,
        rest_url: String,
    },
    Managed(ManagedTargetConfig),
}

/// An MSF target: where the runner jar and the scripts are, which role the
/// applications run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedTargetConfig {
    /// The bucket of the runner jar.
    pub bucket: String,
    pub runner_jar_key: String,
    pub service_role_arn: String,
    /// Applications are named `<application_prefix>-<job id>`.
    pub application_prefix: String,
    /// Where sealed scripts (and the runner's status objects) go.
    pub script_bucket: String,
    /// Key prefix of the scripts, without a trailing `/`.
    pub script_prefix: String,
}

/// All targets; the first is the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetsConfig {
    targets: Vec<TargetConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetsConfigError {
    #[error("{TARGETS_VAR}: {path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{TARGETS_VAR}: target {name}: {source}")]
    Session {
        name: FlinkTarget,
        #[source]
        source: FlinkConfigError,
    },
    #[error("{TARGETS_VAR}: target {name}: {source}")]
    Gateway {
        name: FlinkTarget,
        #[source]
        source: GatewayConfigError,
    },
    #[error("target {name}: the runner jar is needed to submit (runner_jar or {RUNNER_JAR_VAR})")]
    RunnerJar { name: FlinkTarget },
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> TargetsConfigError {
    TargetsConfigError::Invalid {
        path: path.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawTarget {
    Session {
        name: FlinkTarget,
        rest_url: String,
        #[serde(default)]
        runner_jar: Option<PathBuf>,
    },
    Gateway {
        name: FlinkTarget,
        gateway_url: String,
        rest_url: String,
        #[serde(default)]
        plaintext_credentials: bool,
    },
    Managed {
        name: FlinkTarget,
        bucket: String,
        runner_jar_key: String,
        service_role_arn: String,
        #[serde(default)]
        application_prefix: Option<String>,
        #[serde(default)]
        script_bucket: Option<String>,
        #[serde(default)]
        script_prefix: Option<String>,
    },
}

/// An S3 bucket name (the general rules: 3-63 of `a-z 0-9 . -`).
fn is_bucket(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// An S3 key or key prefix we put in requests: printable, no `..` parts.
fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && !s.starts_with('/')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=".contains(&b))
        && !s.split('/').any(|part| part == "..")
}

impl TargetsConfig {
    pub fn from_env() -> Result<Self, TargetsConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, TargetsConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let runner_jar = get(RUNNER_JAR_VAR).map(PathBuf::from);
        let Some(raw) = get(TARGETS_VAR) else {
            let rest_url = get(REST_URL_VAR).ok_or(TargetsConfigError::Missing(REST_URL_VAR))?;
            return Ok(Self {
                targets: vec![TargetConfig {
                    name: FlinkTarget::DEFAULT_SESSION,
                    kind: TargetKind::Session {
                        rest_url,
                        runner_jar,
                    },
                }],
            });
        };
        let parsed: Vec<RawTarget> =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&raw))
                .map_err(|e| {
                    let path = e.path().to_string();
                    invalid(path, e.into_inner().to_string())
                })?;
        if parsed.is_empty() {
            return Err(invalid(".", "the list names no target"));
        }
        let script_bucket = get(SCRIPT_BUCKET_VAR);
        let mut targets: Vec<TargetConfig> = Vec::with_capacity(parsed.len());
        for (i, raw) in parsed.into_iter().enumerate() {
            let at = |field: &str| format!("[{i}].{field}");
            let target = match raw {
                RawTarget::Session {
                    name,
                    rest_url,
                    runner_jar: own_jar,
                } => TargetConfig {
                    name,
                    kind: TargetKind::Session {
                        rest_url,
                        runner_jar: own_jar.or_else(|| runner_jar.clone()),
                    },
                },
                RawTarget::Gateway {
                    name,
                    gateway_url,
                    rest_url,
                    plaintext_credentials,
                } => {
                    if !plaintext_credentials {
                        return Err(invalid(
                            at("plaintext_credentials"),
                            "a gateway takes scripts in plaintext, credentials included: \
                             set plaintext_credentials to true to accept that for this target",
                        ));
                    }
                    parse_gateway_url(&gateway_url)
                        .map_err(|source| TargetsConfigError::Gateway { name, source })?;
                    TargetConfig {
                        name,
                        kind: TargetKind::Gateway {
                            gateway_url,
                            rest_url,
                        },
                    }
                }
                RawTarget::Managed {
                    name,
                    bucket,
                    runner_jar_key,
                    service_role_arn,
                    application_prefix,
                    script_bucket: own_bucket,
                    script_prefix,
                } => {
                    let script_bucket = own_bucket
                        .or_else(|| script_bucket.clone())
                        .unwrap_or_else(|| bucket.clone());
                    for (field, value) in [("bucket", &bucket), ("script_bucket", &script_bucket)] {
                        if !is_bucket(value) {
                            return Err(invalid(at(field), "is not an S3 bucket name"));
                        }
                    }
                    if !is_key(&runner_jar_key) || !runner_jar_key.ends_with(".jar") {
                        return Err(invalid(at("runner_jar_key"), "is not an S3 key of a .jar"));
                    }
                    let script_prefix = script_prefix.unwrap_or_else(|| "sluice/runs".into());
                    let script_prefix = script_prefix.trim_end_matches('/').to_owned();
                    if !is_key(&script_prefix) {
                        return Err(invalid(at("script_prefix"), "is not an S3 key prefix"));
                    }
                    let application_prefix = application_prefix.unwrap_or_else(|| "sluice".into());
                    // MSF names: [a-zA-Z0-9_.-]{1,128}; a job id takes 30.
                    if application_prefix.is_empty()
                        || application_prefix.len() > 64
                        || !application_prefix
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                    {
                        return Err(invalid(
                            at("application_prefix"),
                            "must be 1-64 of a-z A-Z 0-9 _ . -",
                        ));
                    }
                    if !service_role_arn.starts_with("arn:")
                        || service_role_arn.split(':').count() < 6
                    {
                        return Err(invalid(at("service_role_arn"), "is not an IAM role ARN"));
                    }
                    TargetConfig {
                        name,
                        kind: TargetKind::Managed(ManagedTargetConfig {
                            bucket,
                            runner_jar_key,
                            service_role_arn,
                            application_prefix,
                            script_bucket,
                            script_prefix,
                        }),
                    }
                }
            };
            if targets.iter().any(|t| t.name == target.name) {
                return Err(invalid(
                    at("name"),
                    format!("{} is used twice", target.name),
                ));
            }
            targets.push(target);
        }
        Ok(Self { targets })
    }

    pub fn targets(&self) -> &[TargetConfig] {
        &self.targets
    }

    pub fn default_name(&self) -> FlinkTarget {
        self.targets[0].name
    }

    pub fn names(&self) -> Vec<FlinkTarget> {
        self.targets.iter().map(|t| t.name).collect()
    }

    /// The targets as the trigger uses them (submit, adopt, cancel a
    /// previous run): session targets need their runner jar. `managed`
    /// builds the adapter of a managed target (`sluice_aws`), which this
    /// crate does not know.
    pub fn submitting(
        &self,
        request_timeout: Duration,
        managed: impl Fn(FlinkTarget, &ManagedTargetConfig) -> Arc<dyn FlinkCluster>,
    ) -> Result<FlinkTargets, TargetsConfigError> {
        self.build(request_timeout, RunnerJar::Required, |c| c, |c| c, managed)
    }

    /// The targets as the reconciler and the jobs API use them: follow and
    /// cancel runs, never submit (no runner jar needed).
    pub fn following(
        &self,
        request_timeout: Duration,
        managed: impl Fn(FlinkTarget, &ManagedTargetConfig) -> Arc<dyn FlinkJobs>,
    ) -> Result<FlinkJobTargets, TargetsConfigError> {
        self.build(request_timeout, RunnerJar::NotNeeded, |c| c, |c| c, managed)
    }

    fn build<P: ?Sized>(
        &self,
        request_timeout: Duration,
        runner_jar: RunnerJar,
        session: fn(Arc<FlinkSessionClient>) -> Arc<P>,
        gateway: fn(Arc<FlinkGatewayClient>) -> Arc<P>,
        managed: impl Fn(FlinkTarget, &ManagedTargetConfig) -> Arc<P>,
    ) -> Result<Targets<P>, TargetsConfigError> {
        let mut built: Vec<(FlinkTarget, Arc<P>)> = Vec::new();
        for target in &self.targets {
            let name = target.name;
            let cluster = match &target.kind {
                TargetKind::Session {
                    rest_url,
                    runner_jar: jar,
                } => {
                    if runner_jar == RunnerJar::Required && jar.is_none() {
                        return Err(TargetsConfigError::RunnerJar { name });
                    }
                    session(Arc::new(
                        FlinkSessionClient::new(FlinkSessionConfig {
                            rest_url: rest_url.clone(),
                            runner_jar: jar.clone().unwrap_or_default(),
                            request_timeout,
                        })
                        .map_err(|source| TargetsConfigError::Session { name, source })?,
                    ))
                }
                TargetKind::Gateway {
                    gateway_url,
                    rest_url,
                } => gateway(Arc::new(
                    FlinkGatewayClient::new(FlinkGatewayConfig {
                        gateway_url: gateway_url.clone(),
                        rest_url: rest_url.clone(),
                        request_timeout,
                        statement_timeout: request_timeout,
                    })
                    .map_err(|source| TargetsConfigError::Gateway { name, source })?,
                )),
                TargetKind::Managed(config) => managed(name, config),
            };
            built.push((name, cluster));
        }
        Ok(Targets::new(self.default_name(), built).expect("the default is the first target"))
    }
}

/// Whether the process submits runs, so session targets need their jar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunnerJar {
    Required,
    NotNeeded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_domain::ports::ScriptTransport;

    fn parse(
        targets: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<TargetsConfig, TargetsConfigError> {
        let targets = targets.map(str::to_owned);
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TargetsConfig::from_lookup(|name| {
            if name == TARGETS_VAR {
                return targets.clone();
            }
            extra
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    fn name(raw: &str) -> FlinkTarget {
        FlinkTarget::parse(raw).unwrap()
    }

    const ALL: &str = r#"[
        {"name": "local", "kind": "session", "rest_url": "http://127.0.0.1:8081"},
        {"name": "gw", "kind": "gateway", "gateway_url": "http://127.0.0.1:8083",
         "rest_url": "http://127.0.0.1:8081", "plaintext_credentials": true},
        {"name": "msf", "kind": "managed", "bucket": "sluice-artifacts",
         "runner_jar_key": "runner/flink-sql-runner.jar",
         "service_role_arn": "arn:aws:iam::123456789012:role/sluice-msf"}
    ]"#;

    #[test]
    fn without_the_list_the_session_cluster_is_the_only_target() {
        let config = parse(
            None,
            &[
                (REST_URL_VAR, "http://127.0.0.1:8081"),
                (RUNNER_JAR_VAR, "/jar"),
            ],
        )
        .unwrap();
        assert_eq!(config.names(), [FlinkTarget::DEFAULT_SESSION]);
        assert_eq!(
            config.targets()[0].kind,
            TargetKind::Session {
                rest_url: "http://127.0.0.1:8081".into(),
                runner_jar: Some("/jar".into())
            }
        );
        assert!(matches!(
            parse(None, &[]),
            Err(TargetsConfigError::Missing(REST_URL_VAR))
        ));
    }

    #[test]
    fn every_kind_parses_and_the_first_is_the_default() {
        let config = parse(Some(ALL), &[(RUNNER_JAR_VAR, "/jar")]).unwrap();
        assert_eq!(config.names(), [name("local"), name("gw"), name("msf")]);
        assert_eq!(config.default_name(), name("local"));
        let TargetKind::Managed(msf) = &config.targets()[2].kind else {
            panic!("managed");
        };
        assert_eq!(msf.script_bucket, "sluice-artifacts");
        assert_eq!(msf.script_prefix, "sluice/runs");
        assert_eq!(msf.application_prefix, "sluice");
        let with_bucket = parse(Some(ALL), &[(SCRIPT_BUCKET_VAR, "sluice-scripts")]).unwrap();
        let TargetKind::Managed(msf) = &with_bucket.targets()[2].kind else {
            panic!("managed");
        };
        assert_eq!(msf.script_bucket, "sluice-scripts");

        let built = config
            .submitting(Duration::from_secs(5), |_, _| {
                Arc::new(sluice_domain::fakes::FakeFlink::default())
            })
            .unwrap();
        assert_eq!(built.names(), [name("gw"), name("local"), name("msf")]);
        assert_eq!(built.default_name(), name("local"));
        assert_eq!(
            built.get(&name("gw")).unwrap().transport(),
            ScriptTransport::Plaintext
        );
        assert_eq!(
            built.get(&name("local")).unwrap().transport(),
            ScriptTransport::Sealed
        );
    }

    #[test]
    fn errors_name_the_entry_and_the_field() {
        let cases = [
            (r#"[]"#, "the list names no target"),
            (r#"{"name": "x"}"#, "invalid type"),
            (r#"[{"name": "x", "kind": "yarn"}]"#, "unknown variant"),
            (
                r#"[{"name": "Bad Name", "kind": "session", "rest_url": "http://h"}]"#,
                "[0]: must be a Flink target name",
            ),
            (
                r#"[{"name": "x", "kind": "session", "rest_url": "http://h", "colour": 1}]"#,
                "colour",
            ),
            (
                r#"[{"name": "x", "kind": "session", "rest_url": "http://h"},
                    {"name": "x", "kind": "session", "rest_url": "http://h"}]"#,
                "[1].name: x is used twice",
            ),
            (
                r#"[{"name": "g", "kind": "gateway", "gateway_url": "https://gw", "rest_url": "http://h"}]"#,
                "[0].plaintext_credentials",
            ),
            (
                r#"[{"name": "g", "kind": "gateway", "gateway_url": "http://gw.example:8083",
                     "rest_url": "http://h", "plaintext_credentials": true}]"#,
                "use https",
            ),
            (
                r#"[{"name": "m", "kind": "managed", "bucket": "Bad_Bucket", "runner_jar_key": "r.jar",
                     "service_role_arn": "arn:aws:iam::1:role/r"}]"#,
                "[0].bucket",
            ),
            (
                r#"[{"name": "m", "kind": "managed", "bucket": "b-1", "runner_jar_key": "../r.jar",
                     "service_role_arn": "arn:aws:iam::1:role/r"}]"#,
                "[0].runner_jar_key",
            ),
            (
                r#"[{"name": "m", "kind": "managed", "bucket": "b-1", "runner_jar_key": "r.jar",
                     "service_role_arn": "role"}]"#,
                "[0].service_role_arn",
            ),
        ];
        for (json, expected) in cases {
            let error = parse(Some(json), &[]).unwrap_err().to_string();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }

    #[test]
    fn submitting_needs_the_runner_jar_of_session_targets() {
        let config = parse(
            Some(r#"[{"name": "s", "kind": "session", "rest_url": "http://h"}]"#),
            &[],
        )
        .unwrap();
        let follow =
            |_: FlinkTarget, _: &ManagedTargetConfig| -> Arc<dyn FlinkJobs> { unreachable!() };
        let submit =
            |_: FlinkTarget, _: &ManagedTargetConfig| -> Arc<dyn FlinkCluster> { unreachable!() };
        assert!(config.following(Duration::from_secs(1), follow).is_ok());
        assert!(matches!(
            config.submitting(Duration::from_secs(1), submit),
            Err(TargetsConfigError::RunnerJar { .. })
        ));
    }
}

//! What the API returns. A view never holds a secret value: only the names
//! of the secret fields that are set and when they last changed.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sluice_domain::Secrets;
use sluice_domain::Source;
use sluice_domain::service::sources::SourceDraft;

/// The body of `POST /sources` and `PUT /sources/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRequest {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub config: Map<String, Value>,
    /// Absent on PUT: keep the stored secrets.
    #[serde(default)]
    pub secrets: Option<BTreeMap<String, SecretString>>,
}

impl From<SourceRequest> for SourceDraft {
    fn from(r: SourceRequest) -> Self {
        SourceDraft {
            name: r.name,
            kind: r.kind,
            config: r.config,
            secrets: r.secrets.map(|m| {
                let mut s = Secrets::new();
                m.into_iter().for_each(|(k, v)| s.insert(k, v));
                s
            }),
        }
    }
}

#[derive(Serialize)]
pub struct SourceView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub config: Map<String, Value>,
    pub secret_fields: Vec<String>,
    pub secrets_updated_at: Option<String>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl From<&Source> for SourceView {
    fn from(s: &Source) -> Self {
        Self {
            id: s.id.to_string(),
            name: s.name.clone(),
            kind: s.kind.to_string(),
            config: s.config.clone(),
            secret_fields: s.secret_fields.clone(),
            secrets_updated_at: s.secrets_updated_at.map(timestamp),
            version: s.version,
            created_at: timestamp(s.created_at),
            updated_at: timestamp(s.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct SourceList {
    pub items: Vec<SourceView>,
    /// Pass as `next_token` for the next page; absent on the last page.
    pub next_token: Option<String>,
}

/// A page of a source's objects.
#[derive(Serialize)]
pub struct ObjectList {
    pub items: Vec<sluice_domain::model::discovery::ObjectRef>,
    /// Pass as `next_token` for the next page; absent on the last page.
    pub next_token: Option<String>,
}

/// `GET`/`PUT /jobs/{id}/notifications`: the rules as stored, never the signing secret (only
/// whether one is set).
#[derive(Serialize)]
pub struct NotificationsView {
    pub job_id: String,
    pub rules: Vec<sluice_domain::model::notification::Rule>,
    pub quiet_period_seconds: u32,
    pub signing_secret_set: bool,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&sluice_domain::model::notification::Notifications> for NotificationsView {
    fn from(n: &sluice_domain::model::notification::Notifications) -> Self {
        Self {
            job_id: n.job_id.to_string(),
            rules: n.rules.clone(),
            quiet_period_seconds: n.quiet_period_seconds,
            signing_secret_set: n.signing_secret.is_some(),
            version: n.version,
            created_at: timestamp(n.created_at),
            updated_at: timestamp(n.updated_at),
        }
    }
}

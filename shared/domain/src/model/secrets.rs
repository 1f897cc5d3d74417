//! Secret values and their sealed (envelope-encrypted) form.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use crate::TenantId;
use crate::model::ids::SourceId;

/// What a sealed blob is for. Part of the encryption context, so a blob sealed
/// for one purpose cannot be opened as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The credentials of a registered data source.
    SourceSecrets,
    /// The script of one run, sealed for the Flink runner.
    FlinkScript,
    /// A job's webhook signing secret, opened by the notifier only.
    NotificationSecrets,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SourceSecrets => "source-secrets",
            Purpose::FlinkScript => "flink-script",
            Purpose::NotificationSecrets => "notification-secrets",
        }
    }
}

/// The encryption context `{tenant, source_id, purpose}`: passed to KMS with
/// the data key and bound to the ciphertext as AES-GCM associated data, so a
/// ciphertext copied onto another record, tenant or purpose fails to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionContext {
    pairs: BTreeMap<String, String>,
}

impl EncryptionContext {
    pub fn for_source(tenant: &TenantId, source_id: &SourceId) -> Self {
        let pairs = BTreeMap::from([
            ("tenant".to_owned(), tenant.as_str().to_owned()),
            ("source_id".to_owned(), source_id.as_str().to_owned()),
            (
                "purpose".to_owned(),
                Purpose::SourceSecrets.as_str().to_owned(),
            ),
        ]);
        Self { pairs }
    }

    /// The context of a run's script: readable only by the runner opening
    /// that run of that job.
    pub fn for_run(tenant: &TenantId, job_id: &str, run_id: &str) -> Self {
        let pairs = BTreeMap::from([
            ("tenant".to_owned(), tenant.as_str().to_owned()),
            ("job_id".to_owned(), job_id.to_owned()),
            ("run_id".to_owned(), run_id.to_owned()),
            (
                "purpose".to_owned(),
                Purpose::FlinkScript.as_str().to_owned(),
            ),
        ]);
        Self { pairs }
    }

    /// The context of a job's webhook signing secret: `{tenant, job_id, purpose:
    /// notification-secrets}`.
    pub fn for_notifications(tenant: &TenantId, job_id: &str) -> Self {
        let pairs = BTreeMap::from([
            ("tenant".to_owned(), tenant.as_str().to_owned()),
            ("job_id".to_owned(), job_id.to_owned()),
            (
                "purpose".to_owned(),
                Purpose::NotificationSecrets.as_str().to_owned(),
            ),
        ]);
        Self { pairs }
    }

    /// The pairs in key order, as KMS takes them.
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.pairs
    }

    /// The canonical encoding used as AAD: a JSON object with keys in
    /// lexicographic order and no whitespace. JSON escaping makes it
    /// unambiguous whatever the values contain.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.pairs).expect("a map of strings always serializes")
    }
}

/// Named secret values of one source (e.g. `password`). Debug and Display
/// show the names only; the values leave this type only through
/// [`Secrets::to_plaintext_json`], which the sealer calls.
#[derive(Clone, Default)]
pub struct Secrets(BTreeMap<String, SecretString>);

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: SecretString) {
        self.0.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The plaintext JSON to seal. The caller must zeroize it after use.
    pub fn to_plaintext_json(&self) -> Vec<u8> {
        let exposed: BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose_secret()))
            .collect();
        serde_json::to_vec(&exposed).expect("a map of strings always serializes")
    }

    /// Parses what [`Secrets::to_plaintext_json`] produced.
    pub fn from_plaintext_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let map: BTreeMap<String, String> = serde_json::from_slice(bytes)?;
        Ok(Self(
            map.into_iter()
                .map(|(k, v)| (k, SecretString::from(v)))
                .collect(),
        ))
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, "******")))
            .finish()
    }
}

impl fmt::Display for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Secrets as stored: AES-256-GCM ciphertext under a one-off data key, which
/// is itself stored only encrypted by the key provider (KMS).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecrets {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub encrypted_data_key: Vec<u8>,
    pub key_id: String,
    pub algorithm: String,
}

impl SealedSecrets {
    /// The envelope handed to the Flink runner, the contract with
    /// `infra/flink-sql-runner`: `{"v":1,"alg","key_id","edk","nonce","ct",
    /// "ctx"}`, binary fields in standard base64. The runner asks KMS to
    /// open `edk` under `ctx` and uses the canonical `ctx` as AAD.
    pub fn to_envelope_json(&self, context: &EncryptionContext) -> String {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        serde_json::json!({
            "v": 1,
            "alg": self.algorithm,
            "key_id": self.key_id,
            "edk": STANDARD.encode(&self.encrypted_data_key),
            "nonce": STANDARD.encode(&self.nonce),
            "ct": STANDARD.encode(&self.ciphertext),
            "ctx": context.pairs(),
        })
        .to_string()
    }
}

impl fmt::Debug for SealedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecrets")
            .field("ciphertext_len", &self.ciphertext.len())
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_values() {
        let mut s = Secrets::new();
        s.insert("password", SecretString::from("canary-Xy9"));
        assert_eq!(format!("{s:?}"), r#"{"password": "******"}"#);
        assert!(!format!("{s}").contains("canary"));
    }

    #[test]
    fn plaintext_json_round_trips() {
        let mut s = Secrets::new();
        s.insert("password", SecretString::from("p\"w"));
        let back = Secrets::from_plaintext_json(&s.to_plaintext_json()).unwrap();
        assert_eq!(back.get("password").unwrap().expose_secret(), "p\"w");
    }

    #[test]
    fn context_encoding_is_canonical_and_binds_every_field() {
        let t = TenantId::parse("acme").unwrap();
        let id = SourceId::parse("src_01J0000000000000000000000A").unwrap();
        let ctx = EncryptionContext::for_source(&t, &id);
        assert_eq!(
            String::from_utf8(ctx.canonical_bytes()).unwrap(),
            r#"{"purpose":"source-secrets","source_id":"src_01J0000000000000000000000A","tenant":"acme"}"#
        );
        let other = TenantId::parse("acme2").unwrap();
        assert_ne!(
            ctx.canonical_bytes(),
            EncryptionContext::for_source(&other, &id).canonical_bytes()
        );
    }
}

//! The source-registry use cases, each with its own error enum.

use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::model::catalog;
use crate::model::validation::{ValidationErrors, check_text};
use crate::ports::{Clock, RepositoryError, SealError, SecretSealer, SourcePage, SourceRepository};
use crate::{EncryptionContext, Secrets, Source, SourceId, SourceKind, TenantId};

/// What a caller sends to register or replace a source.
#[derive(Debug, Clone)]
pub struct SourceDraft {
    pub name: String,
    pub kind: String,
    pub config: Map<String, Value>,
    /// On update, `None` keeps the stored secrets.
    pub secrets: Option<Secrets>,
}

pub const MAX_PAGE_SIZE: usize = 100;
const NAME_MAX_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum RegisterSourceError {
    #[error("invalid source: {0}")]
    Invalid(ValidationErrors),
    #[error("could not seal the secrets")]
    Sealing(#[source] SealError),
    #[error("could not store the source")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum GetSourceError {
    #[error("source {0} not found")]
    NotFound(String),
    #[error("could not read the source")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum ListSourcesError {
    #[error("invalid page request: {0}")]
    Invalid(ValidationErrors),
    #[error("could not list sources")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateSourceError {
    #[error("invalid source: {0}")]
    Invalid(ValidationErrors),
    #[error("source {0} not found")]
    NotFound(String),
    #[error("source is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("could not seal the secrets")]
    Sealing(#[source] SealError),
    #[error("could not store the source")]
    Repository(#[source] RepositoryError),
}

#[derive(Debug, thiserror::Error)]
pub enum DeleteSourceError {
    #[error("source {0} not found")]
    NotFound(String),
    #[error("source {id} is used by {jobs} job(s)")]
    InUse { id: String, jobs: u64 },
    #[error("source is at version {current}, not {expected}")]
    VersionMismatch { expected: u64, current: u64 },
    #[error("could not delete the source")]
    Repository(#[source] RepositoryError),
}

/// The source registry: validation, sealing and storage of sources.
#[derive(Clone)]
pub struct SourcesService {
    repository: Arc<dyn SourceRepository>,
    sealer: Arc<dyn SecretSealer>,
    clock: Arc<dyn Clock>,
}

impl SourcesService {
    pub fn new(
        repository: Arc<dyn SourceRepository>,
        sealer: Arc<dyn SecretSealer>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repository,
            sealer,
            clock,
        }
    }

    pub async fn register(
        &self,
        tenant: &TenantId,
        draft: SourceDraft,
    ) -> Result<Source, RegisterSourceError> {
        let secrets = draft.secrets.unwrap_or_default();
        let (kind, config) = validate_draft(
            &draft.name,
            &draft.kind,
            &draft.config,
            &secrets,
            &secrets.names(),
        )
        .map_err(RegisterSourceError::Invalid)?;

        let id = SourceId::generate();
        let now = self.clock.now();
        let sealed = self
            .seal(tenant, &id, &secrets)
            .await
            .map_err(RegisterSourceError::Sealing)?;
        let source = Source {
            id,
            tenant: tenant.clone(),
            name: draft.name,
            kind,
            config,
            secret_fields: secrets.names(),
            secrets_updated_at: sealed.as_ref().map(|_| now),
            sealed_secrets: sealed,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.repository
            .insert(&source)
            .await
            .map_err(RegisterSourceError::Repository)?;
        Ok(source)
    }

    pub async fn get(&self, tenant: &TenantId, id: &SourceId) -> Result<Source, GetSourceError> {
        let not_found = || GetSourceError::NotFound(id.to_string());
        self.repository
            .get(tenant, id)
            .await
            .map_err(GetSourceError::Repository)?
            .ok_or_else(not_found)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&SourceId>,
    ) -> Result<SourcePage, ListSourcesError> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ListSourcesError::Invalid(
                crate::FieldError::new("limit", format!("must be between 1 and {MAX_PAGE_SIZE}"))
                    .into(),
            ));
        }
        self.repository
            .list(tenant, limit, after)
            .await
            .map_err(ListSourcesError::Repository)
    }

    /// Replaces name and config (and secrets when given) of a source, only
    /// at `expected_version` when one is given. The kind cannot change:
    /// jobs depend on it.
    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        draft: SourceDraft,
        expected_version: Option<u64>,
    ) -> Result<Source, UpdateSourceError> {
        let not_found = || UpdateSourceError::NotFound(id.to_string());
        let current = self
            .repository
            .get(tenant, id)
            .await
            .map_err(UpdateSourceError::Repository)?
            .ok_or_else(not_found)?;
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            return Err(UpdateSourceError::VersionMismatch {
                expected,
                current: current.version,
            });
        }

        let (config, secret_names) = check_update(&current, &draft)?;
        let now = self.clock.now();
        let mut next = current.revised(draft.name, config, now);
        if let Some(secrets) = &draft.secrets {
            // A fresh data key and nonce on every secrets change.
            let sealed = self
                .seal(tenant, id, secrets)
                .await
                .map_err(UpdateSourceError::Sealing)?;
            next.replace_secrets(sealed, secret_names, now);
        }

        match self.repository.update(&next, current.version).await {
            Ok(()) => Ok(next),
            Err(RepositoryError::NotFound) => Err(not_found()),
            Err(RepositoryError::VersionMismatch { current: stored }) => {
                Err(UpdateSourceError::VersionMismatch {
                    expected: current.version,
                    current: stored,
                })
            }
            Err(e) => Err(UpdateSourceError::Repository(e)),
        }
    }

    pub async fn delete(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        expected_version: Option<u64>,
    ) -> Result<(), DeleteSourceError> {
        let not_found = || DeleteSourceError::NotFound(id.to_string());
        match self.repository.delete(tenant, id, expected_version).await {
            Ok(()) => Ok(()),
            Err(RepositoryError::NotFound) => Err(not_found()),
            Err(RepositoryError::InUse { jobs }) => Err(DeleteSourceError::InUse {
                id: id.to_string(),
                jobs,
            }),
            Err(RepositoryError::VersionMismatch { current }) => {
                Err(DeleteSourceError::VersionMismatch {
                    expected: expected_version.unwrap_or_default(),
                    current,
                })
            }
            Err(e) => Err(DeleteSourceError::Repository(e)),
        }
    }

    async fn seal(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        secrets: &Secrets,
    ) -> Result<Option<crate::SealedSecrets>, SealError> {
        if secrets.is_empty() {
            return Ok(None);
        }
        let context = EncryptionContext::for_source(tenant, id);
        let mut plaintext = secrets.to_plaintext_json();
        let sealed = self.sealer.seal(&context, &plaintext).await;
        plaintext.zeroize();
        sealed.map(Some)
    }
}

/// The config and secret names an update leaves, checked against the
/// source as it is. A kind change is the one thing to report then: the
/// config was written for another kind, so its field errors would only
/// mislead.
fn check_update(
    current: &Source,
    draft: &SourceDraft,
) -> Result<(Map<String, Value>, Vec<String>), UpdateSourceError> {
    if let Ok(kind) = draft.kind.parse::<SourceKind>()
        && kind != current.kind
    {
        return Err(UpdateSourceError::Invalid(
            crate::FieldError::new(
                "kind",
                format!(
                    "cannot change from {} to {kind}; register a new source",
                    current.kind
                ),
            )
            .into(),
        ));
    }
    let secret_names = match &draft.secrets {
        Some(s) => s.names(),
        None => current.secret_fields.clone(),
    };
    let empty = Secrets::new();
    let (_, config) = validate_draft(
        &draft.name,
        &draft.kind,
        &draft.config,
        draft.secrets.as_ref().unwrap_or(&empty),
        &secret_names,
    )
    .map_err(UpdateSourceError::Invalid)?;
    Ok((config, secret_names))
}

/// Checks name, kind, secrets and config together so a caller sees every
/// problem at once. Returns the kind and the config with defaults applied.
pub(crate) fn validate_draft(
    name: &str,
    kind: &str,
    config: &Map<String, Value>,
    secrets: &Secrets,
    secret_names: &[String],
) -> Result<(SourceKind, Map<String, Value>), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if let Err(e) = check_text("name", name, NAME_MAX_CHARS) {
        errors.add(e);
    }
    let kind = match kind.parse::<SourceKind>() {
        Ok(k) => k,
        Err(reason) => {
            errors.push("kind", reason);
            return Err(errors);
        }
    };
    if let Err(e) = catalog::validate_secrets(kind, secrets) {
        e.errors().iter().cloned().for_each(|e| errors.add(e));
    }
    match catalog::validate_config(kind, config, secret_names) {
        Ok(normalized) => errors.into_result().map(|()| (kind, normalized)),
        Err(e) => {
            e.errors().iter().cloned().for_each(|e| errors.add(e));
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{FakeSealer, FixedClock, MemorySourceRepository};
    use secrecy::SecretString;
    use serde_json::json;

    fn service() -> (SourcesService, Arc<MemorySourceRepository>, Arc<FakeSealer>) {
        let repo = Arc::new(MemorySourceRepository::default());
        let sealer = Arc::new(FakeSealer::default());
        let svc = SourcesService::new(
            repo.clone(),
            sealer.clone(),
            Arc::new(FixedClock::default()),
        );
        (svc, repo, sealer)
    }

    fn tenant(t: &str) -> TenantId {
        TenantId::parse(t).unwrap()
    }

    fn pg_draft(password: Option<&str>) -> SourceDraft {
        SourceDraft {
            name: "orders db".into(),
            kind: "postgres".into(),
            config: json!({"host": "db", "database": "shop", "username": "etl"})
                .as_object()
                .unwrap()
                .clone(),
            secrets: password.map(|p| {
                let mut s = Secrets::new();
                s.insert("password", SecretString::from(p));
                s
            }),
        }
    }

    #[tokio::test]
    async fn register_seals_under_the_source_context() {
        let (svc, repo, sealer) = service();
        let t = tenant("acme");
        let src = svc.register(&t, pg_draft(Some("canary-1"))).await.unwrap();
        assert_eq!(src.version, 1);
        assert_eq!(src.secret_fields, ["password"]);
        assert!(src.secrets_updated_at.is_some());
        assert_eq!(
            sealer.contexts(),
            [EncryptionContext::for_source(&t, &src.id)]
        );
        let stored = repo.get(&t, &src.id).await.unwrap().unwrap();
        assert_eq!(stored, src);
        assert!(!format!("{stored:?}").contains("canary-1"));
    }

    #[tokio::test]
    async fn register_reports_every_problem_and_stores_nothing() {
        let (svc, repo, _) = service();
        let mut draft = pg_draft(None);
        draft.name = " ".into();
        draft.config.insert("port".into(), json!(70000));
        let Err(RegisterSourceError::Invalid(errors)) = svc.register(&tenant("a"), draft).await
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "config.port", "secrets.password"]);
        assert_eq!(repo.len(), 0);
    }

    #[tokio::test]
    async fn update_keeps_secrets_when_absent_and_reseals_when_present() {
        let (svc, _, sealer) = service();
        let t = tenant("acme");
        let src = svc.register(&t, pg_draft(Some("one"))).await.unwrap();

        let mut rename = pg_draft(None);
        rename.name = "renamed".into();
        let v2 = svc.update(&t, &src.id, rename, Some(1)).await.unwrap();
        assert_eq!(v2.version, 2);
        assert_eq!(v2.sealed_secrets, src.sealed_secrets);
        assert_eq!(sealer.contexts().len(), 1);

        let v3 = svc
            .update(&t, &src.id, pg_draft(Some("two")), Some(2))
            .await
            .unwrap();
        assert_ne!(v3.sealed_secrets, src.sealed_secrets);
        assert_eq!(sealer.contexts().len(), 2);
    }

    #[tokio::test]
    async fn update_checks_version_and_kind() {
        let (svc, repo, _) = service();
        let t = tenant("acme");
        let src = svc.register(&t, pg_draft(Some("p"))).await.unwrap();
        let err = svc
            .update(&t, &src.id, pg_draft(None), Some(7))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            UpdateSourceError::VersionMismatch {
                expected: 7,
                current: 1
            }
        ));

        let mut as_mysql = pg_draft(Some("p"));
        as_mysql.kind = "mysql".into();
        let err = svc
            .update(&t, &src.id, as_mysql, Some(1))
            .await
            .unwrap_err();
        assert!(matches!(err, UpdateSourceError::Invalid(_)));
        assert_eq!(repo.get(&t, &src.id).await.unwrap().unwrap(), src);
    }

    #[tokio::test]
    async fn other_tenants_see_nothing_and_change_nothing() {
        let (svc, repo, _) = service();
        let owner = tenant("acme");
        let intruder = tenant("evil");
        let src = svc.register(&owner, pg_draft(Some("p"))).await.unwrap();
        let id = src.id.as_str();
        assert!(matches!(
            svc.get(&intruder, &SourceId::parse(id).unwrap()).await,
            Err(GetSourceError::NotFound(_))
        ));
        assert!(matches!(
            svc.update(
                &intruder,
                &SourceId::parse(id).unwrap(),
                pg_draft(Some("x")),
                None
            )
            .await,
            Err(UpdateSourceError::NotFound(_))
        ));
        assert!(matches!(
            svc.delete(&intruder, &SourceId::parse(id).unwrap(), None)
                .await,
            Err(DeleteSourceError::NotFound(_))
        ));
        assert_eq!(repo.get(&owner, &src.id).await.unwrap().unwrap(), src);
        assert!(
            svc.list(&intruder, 10, None)
                .await
                .unwrap()
                .items
                .is_empty()
        );
    }

    #[tokio::test]
    async fn list_pages_in_id_order() {
        let (svc, _, _) = service();
        let t = tenant("acme");
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(svc.register(&t, pg_draft(Some("p"))).await.unwrap().id);
        }
        // ULIDs sort by creation millisecond; within one millisecond, randomly.
        ids.sort();
        let first = svc.list(&t, 2, None).await.unwrap();
        assert_eq!(
            first.items.iter().map(|s| &s.id).collect::<Vec<_>>(),
            [&ids[0], &ids[1]]
        );
        let second = svc.list(&t, 2, first.next_after.as_ref()).await.unwrap();
        assert_eq!(second.items[0].id, ids[2]);
        let last = svc.list(&t, 2, Some(&ids[3])).await.unwrap();
        assert_eq!(last.items.len(), 1);
        assert_eq!(last.next_after, None);
        assert!(matches!(
            svc.list(&t, 0, None).await,
            Err(ListSourcesError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn delete_honours_version() {
        let (svc, repo, _) = service();
        let t = tenant("acme");
        let src = svc.register(&t, pg_draft(Some("p"))).await.unwrap();
        assert!(matches!(
            svc.delete(&t, &src.id, Some(3)).await,
            Err(DeleteSourceError::VersionMismatch { current: 1, .. })
        ));
        svc.delete(&t, &src.id, Some(1)).await.unwrap();
        assert_eq!(repo.len(), 0);
        assert!(matches!(
            svc.delete(&t, &src.id, None).await,
            Err(DeleteSourceError::NotFound(_))
        ));
    }
}

//! Connection tests and discovery (README, "Discovery"): a registered
//! source, or an unsaved one a form is about to save, is reached with its
//! secrets, which are opened only here and dropped (zeroized) after the call.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::discovery::{
    ConnectionReport, DiscoveredColumn, DriftCheck, ObjectDescription, ObjectPage, ObjectQuery,
    Preparation, RowCount, RowCountRequest, RowCounts, RunPreparation, SchemaDrift, TableColumn,
    TablePreparation, TableReady, TargetCheck, TypeProposal,
};
use crate::model::validation::{FieldError, ValidationErrors};
use crate::ports::{
    Clock, DiscoveryError, PrepareError, RepositoryError, RowCounter, RunPreparer, SealError,
    SecretSealer, SourceProbe, SourceRepository,
};
use crate::service::sources::{SourceDraft, validate_draft};
use crate::{EncryptionContext, Secrets, Source, SourceId, TenantId};

pub const MAX_OBJECT_PAGE: usize = 1000;
pub const DEFAULT_OBJECT_PAGE: usize = 100;
/// Longest object name or pattern taken (PostgreSQL's `schema.table`,
/// each part at most 63 bytes, quoted).
pub const MAX_OBJECT_NAME: usize = 300;
/// The connections a `describe_many` describes its objects on.
const DESCRIBE_CONNECTIONS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("source {0} not found")]
    NotFound(String),
    #[error("object {0} not found")]
    ObjectNotFound(String),
    #[error("invalid request: {0}")]
    Invalid(ValidationErrors),
    /// The source's own settings or secrets do not reach it.
    #[error("the source could not be reached")]
    Unreachable(crate::model::discovery::Check),
    /// KMS could not open the stored secrets: retrying may help.
    #[error("the source's secrets could not be opened")]
    SecretsUnavailable,
    /// The stored secrets do not open (another key, tampered).
    #[error("the source's secrets do not open; set them again")]
    SecretsUnreadable,
    #[error("could not read the source")]
    Repository(#[source] RepositoryError),
}

/// The discovery use cases on registered sources, as the APIs call them:
/// in process ([`DiscoveryService`]), or in the discovery function, the
/// only one that reaches databases, through a remote adapter (`sluice_aws`).
#[async_trait]
pub trait SourceDiscovery: Send + Sync {
    async fn test(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<ConnectionReport, DiscoverError>;
    async fn list(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        query: ObjectQuery,
    ) -> Result<ObjectPage, DiscoverError>;
    async fn describe(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        name: &str,
    ) -> Result<ObjectDescription, DiscoverError>;
    /// Several objects described in one call (a multi-table job's tables),
    /// in the order named; `None` for a name the source has no object of.
    async fn describe_many(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoverError>;
}

/// The connection test of an unsaved source (its secrets in the request).
#[async_trait]
pub trait DraftTester: Send + Sync {
    async fn test_draft(
        &self,
        tenant: &TenantId,
        draft: SourceDraft,
    ) -> Result<ConnectionReport, DiscoverError>;
}

#[async_trait]
impl SourceDiscovery for DiscoveryService {
    async fn test(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<ConnectionReport, DiscoverError> {
        DiscoveryService::test(self, tenant, id).await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        query: ObjectQuery,
    ) -> Result<ObjectPage, DiscoverError> {
        DiscoveryService::list(self, tenant, id, query).await
    }

    async fn describe(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        name: &str,
    ) -> Result<ObjectDescription, DiscoverError> {
        DiscoveryService::describe(self, tenant, id, name).await
    }

    async fn describe_many(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoverError> {
        DiscoveryService::describe_many(self, tenant, id, names).await
    }
}

#[async_trait]
impl DraftTester for DiscoveryService {
    async fn test_draft(
        &self,
        tenant: &TenantId,
        draft: SourceDraft,
    ) -> Result<ConnectionReport, DiscoverError> {
        DiscoveryService::test_draft(self, tenant, draft).await
    }
}

/// The discovery use cases over their ports.
#[derive(Clone)]
pub struct DiscoveryService {
    sources: Arc<dyn SourceRepository>,
    sealer: Arc<dyn SecretSealer>,
    probe: Arc<dyn SourceProbe>,
    clock: Arc<dyn Clock>,
}

impl DiscoveryService {
    pub fn new(
        sources: Arc<dyn SourceRepository>,
        sealer: Arc<dyn SecretSealer>,
        probe: Arc<dyn SourceProbe>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            sources,
            sealer,
            probe,
            clock,
        }
    }

    /// Tests a registered source with its stored secrets.
    pub async fn test(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<ConnectionReport, DiscoverError> {
        let (source, secrets) = self.open(tenant, id).await?;
        Ok(self.probe.test(&source, &secrets).await)
    }

    /// Tests a source as a form would register it, without storing it (the
    /// same checks as registering: a bad draft is 400 naming the field).
    pub async fn test_draft(
        &self,
        tenant: &TenantId,
        draft: SourceDraft,
    ) -> Result<ConnectionReport, DiscoverError> {
        let secrets = draft.secrets.unwrap_or_default();
        let (kind, config) = validate_draft(
            &draft.name,
            &draft.kind,
            &draft.config,
            &secrets,
            &secrets.names(),
        )
        .map_err(DiscoverError::Invalid)?;
        let now = self.clock.now();
        let unsaved = Source {
            id: SourceId::generate(),
            tenant: tenant.clone(),
            name: draft.name,
            kind,
            config,
            secret_fields: secrets.names(),
            sealed_secrets: None,
            secrets_updated_at: None,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        Ok(self.probe.test(&unsaved, &secrets).await)
    }

    /// A page of the source's objects.
    pub async fn list(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        query: ObjectQuery,
    ) -> Result<ObjectPage, DiscoverError> {
        check_query(&query)?;
        let (source, secrets) = self.open(tenant, id).await?;
        self.probe
            .list(&source, &secrets, &query)
            .await
            .map_err(discovery_error)
    }

    /// One object's columns and proposed types.
    pub async fn describe(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        name: &str,
    ) -> Result<ObjectDescription, DiscoverError> {
        if name.is_empty() || name.chars().count() > MAX_OBJECT_NAME {
            return Err(DiscoverError::ObjectNotFound(name.to_owned()));
        }
        let (source, secrets) = self.open(tenant, id).await?;
        self.probe
            .describe(&source, &secrets, name)
            .await
            .map_err(discovery_error)?
            .ok_or_else(|| DiscoverError::ObjectNotFound(name.to_owned()))
    }

    /// Objects described with the source's secrets opened once, on a few
    /// connections; at most
    /// [`crate::model::selection::MAX_TABLES`] names.
    pub async fn describe_many(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoverError> {
        if names.len() > crate::model::selection::MAX_TABLES {
            return Err(DiscoverError::Invalid(
                FieldError::new(
                    "names",
                    format!(
                        "must be at most {} names",
                        crate::model::selection::MAX_TABLES
                    ),
                )
                .into(),
            ));
        }
        let (source, secrets) = self.open(tenant, id).await?;
        // A few connections, each describing its share one table after
        // the other.
        let share = names.len().div_ceil(DESCRIBE_CONNECTIONS).max(1);
        let described = futures_util::future::try_join_all(
            names
                .chunks(share)
                .map(|chunk| self.probe.describe_many(&source, &secrets, chunk)),
        )
        .await
        .map_err(discovery_error)?;
        Ok(described.into_iter().flatten().collect())
    }

    /// The tenant's source with its secrets opened.
    async fn open(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<(Source, Secrets), DiscoverError> {
        let source = self
            .sources
            .get(tenant, id)
            .await
            .map_err(DiscoverError::Repository)?
            .ok_or_else(|| DiscoverError::NotFound(id.to_string()))?;
        let secrets = open_secrets(self.sealer.as_ref(), &source)
            .await
            .map_err(|e| match e {
                OpenSecretsError::KeyUnavailable => DiscoverError::SecretsUnavailable,
                OpenSecretsError::Unreadable => DiscoverError::SecretsUnreadable,
            })?;
        Ok((source, secrets))
    }
}

/// A run's preparation (README, "Target tables and schema drift"): first
/// the drift check, whose verdict decides whether the target is touched at
/// all, then the target table, created with the columns `add_columns`
/// adds, or extended with them. A multi-table job's tables one after the
/// other, the sources' secrets opened once; the first table that must not
/// run ends the preparation with its verdict.
#[async_trait]
impl RunPreparer for DiscoveryService {
    #[tracing::instrument(skip_all, fields(%tenant, %source_id, %target_id, tables = request.tables.len()))]
    async fn prepare_run(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        request: &RunPreparation,
    ) -> Result<Preparation, PrepareError> {
        let single = [TablePreparation {
            drift: request.drift.clone(),
            target: request.target.clone(),
        }];
        let tables = if request.tables.is_empty() {
            &single[..]
        } else {
            &request.tables[..]
        };
        let source = match tables.iter().any(|t| t.drift.is_some()) {
            true => Some(self.open(tenant, source_id).await.map_err(prepare_error)?),
            false => None,
        };
        let target = match tables.iter().any(|t| t.target.is_some()) {
            true => Some(self.open(tenant, target_id).await.map_err(prepare_error)?),
            false => None,
        };
        let mut ready = Vec::with_capacity(tables.len());
        for table in tables {
            match self
                .prepare_table(table, source.as_ref(), target.as_ref())
                .await?
            {
                Ok(done) => ready.push(done),
                Err(verdict) => return Ok(verdict),
            }
        }
        drop((source, target));
        if request.tables.is_empty() {
            let one = ready.pop().unwrap_or_default();
            return Ok(Preparation::Ready {
                created: one.created,
                added: one.added,
                current: one.current,
                tables: Vec::new(),
            });
        }
        Ok(Preparation::Ready {
            created: ready.iter().any(|t| t.created),
            added: Vec::new(),
            current: None,
            tables: ready,
        })
    }
}

/// `validate: count`: both tables counted at once, each with its own
/// source's secrets (opened, used and dropped here).
#[async_trait]
impl RowCounter for DiscoveryService {
    #[tracing::instrument(skip_all, fields(%tenant, %source_id, %target_id))]
    async fn count_rows(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        requests: &[RowCountRequest],
    ) -> Result<Vec<RowCounts>, PrepareError> {
        let sources: Vec<RowCount> = requests.iter().map(|r| r.source.clone()).collect();
        let targets: Vec<RowCount> = requests.iter().map(|r| r.target.clone()).collect();
        let (source_rows, target_rows) = futures_util::future::try_join(
            self.count_side(tenant, source_id, &sources),
            self.count_side(tenant, target_id, &targets),
        )
        .await?;
        if source_rows.len() != requests.len() || target_rows.len() != requests.len() {
            return Err(PrepareError::Invalid("a count is missing".into()));
        }
        Ok(source_rows
            .into_iter()
            .zip(target_rows)
            .map(|(source_rows, target_rows)| RowCounts {
                source_rows,
                target_rows,
            })
            .collect())
    }
}

impl DiscoveryService {
    async fn count_side(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        counts: &[RowCount],
    ) -> Result<Vec<u64>, PrepareError> {
        let (source, secrets) = self.open(tenant, id).await.map_err(prepare_error)?;
        self.probe
            .count_rows(&source, &secrets, counts)
            .await
            .map_err(probe_error)
    }
}

/// What a drift check found: the columns to add and the source's columns
/// now, or the verdict that ends the run.
type DriftFound = Result<(Vec<DiscoveredColumn>, Option<Vec<DiscoveredColumn>>), Preparation>;

/// A source with its secrets opened.
type Opened = (Source, Secrets);

impl DiscoveryService {
    /// One table's drift check, then its target table.
    async fn prepare_table(
        &self,
        table: &TablePreparation,
        source: Option<&Opened>,
        target: Option<&Opened>,
    ) -> Result<Result<TableReady, Preparation>, PrepareError> {
        let (added, current) = match (&table.drift, source) {
            (Some(check), Some(source)) => match self.check_drift(source, check).await? {
                Ok(found) => found,
                Err(verdict) => return Ok(Err(verdict)),
            },
            _ => (Vec::new(), None),
        };
        let mut created = false;
        if let (Some(check), Some(target)) = (&table.target, target) {
            match self.prepare_target(target, check, &added).await? {
                Ok(new) => created = new,
                Err(verdict) => return Ok(Err(verdict)),
            }
        }
        Ok(Ok(TableReady {
            created,
            added,
            current,
        }))
    }

    async fn check_drift(
        &self,
        (source, secrets): &Opened,
        check: &DriftCheck,
    ) -> Result<DriftFound, PrepareError> {
        let described = self
            .probe
            .describe(source, secrets, &check.object)
            .await
            .map_err(probe_error)?;
        let Some(described) = described else {
            return Ok(Err(Preparation::SchemaDrift {
                message: format!("the source table {} no longer exists", check.object),
            }));
        };
        let drift = SchemaDrift::between(&check.snapshot, &described.columns);
        if drift.is_empty() {
            return Ok(Ok((Vec::new(), Some(described.columns))));
        }
        tracing::info!(drift = %drift.describe(), "the source table changed");
        let mut message = format!(
            "the columns of the source table {} changed since the job was saved: {}",
            check.object,
            drift.describe()
        );
        if !check.add_columns || !drift.only_added() {
            if check.add_columns {
                message.push_str(" (add_columns adds columns only)");
            }
            return Ok(Err(Preparation::SchemaDrift { message }));
        }
        let unsupported: Vec<String> = drift
            .added
            .iter()
            .filter_map(|c| match &c.proposal {
                TypeProposal::Unsupported { reason } => Some(format!("{}: {reason}", c.name)),
                TypeProposal::Supported { .. } => None,
            })
            .collect();
        if !unsupported.is_empty() {
            message.push_str(&format!(
                " (no Flink type carries {})",
                unsupported.join("; ")
            ));
            return Ok(Err(Preparation::SchemaDrift { message }));
        }
        Ok(Ok((drift.added, Some(described.columns))))
    }

    /// Creates the target table when asked and missing, else checks that
    /// it exists; then adds `added`. `Ok(created)`, or `target_missing`.
    async fn prepare_target(
        &self,
        (target, secrets): &Opened,
        check: &TargetCheck,
        added: &[DiscoveredColumn],
    ) -> Result<Result<bool, Preparation>, PrepareError> {
        let new_columns: Vec<TableColumn> = added
            .iter()
            .filter_map(|c| match &c.proposal {
                TypeProposal::Supported { flink_type } => Some(TableColumn {
                    name: c.name.clone(),
                    flink_type: flink_type.clone(),
                    nullable: true,
                }),
                TypeProposal::Unsupported { .. } => None,
            })
            .collect();
        let mut table = check.table.clone();
        let object = table.object.clone();
        table.columns.extend(new_columns.iter().cloned());
        let created = if check.create {
            let created = self
                .probe
                .create_table(target, secrets, &table)
                .await
                .map_err(probe_error)?;
            if created {
                tracing::info!(table = %object, "target table created");
            }
            created
        } else {
            let found = self
                .probe
                .describe(target, secrets, &object)
                .await
                .map_err(probe_error)?;
            if found.is_none() {
                return Ok(Err(Preparation::TargetMissing { table: object }));
            }
            false
        };
        if !created && !new_columns.is_empty() {
            let names = self
                .probe
                .add_columns(target, secrets, &object, &new_columns)
                .await
                .map_err(probe_error)?;
            tracing::info!(table = %object, added = ?names, "columns added to the target table");
        }
        Ok(Ok(created))
    }
}

fn prepare_error(e: DiscoverError) -> PrepareError {
    match e {
        DiscoverError::NotFound(id) => PrepareError::SourceNotFound(id),
        DiscoverError::ObjectNotFound(name) => PrepareError::Invalid(format!("no object {name}")),
        DiscoverError::Invalid(errors) => PrepareError::Invalid(errors.to_string()),
        DiscoverError::Unreachable(check) => PrepareError::Unreachable(check),
        DiscoverError::SecretsUnavailable => PrepareError::SecretsUnavailable,
        DiscoverError::SecretsUnreadable => PrepareError::SecretsUnreadable,
        DiscoverError::Repository(e) => PrepareError::Unavailable(Box::new(e)),
    }
}

fn probe_error(e: DiscoveryError) -> PrepareError {
    match e {
        DiscoveryError::Unreachable(check) => PrepareError::Unreachable(check),
        DiscoveryError::Invalid { field, reason } => {
            PrepareError::Invalid(format!("{field}: {reason}"))
        }
    }
}

fn check_query(query: &ObjectQuery) -> Result<(), DiscoverError> {
    let mut errors = ValidationErrors::new();
    if !(1..=MAX_OBJECT_PAGE).contains(&query.limit) {
        errors.push("limit", format!("must be between 1 and {MAX_OBJECT_PAGE}"));
    }
    for (field, value) in [("schema", &query.schema), ("like", &query.like)] {
        if let Some(value) = value
            && (value.is_empty()
                || value.chars().count() > MAX_OBJECT_NAME
                || value.chars().any(char::is_control))
        {
            errors.push(
                field,
                format!("must be 1-{MAX_OBJECT_NAME} characters without control characters"),
            );
        }
    }
    errors.into_result().map_err(DiscoverError::Invalid)
}

fn discovery_error(e: DiscoveryError) -> DiscoverError {
    match e {
        DiscoveryError::Unreachable(check) => DiscoverError::Unreachable(check),
        DiscoveryError::Invalid { field, reason } => {
            DiscoverError::Invalid(FieldError::new(field, reason).into())
        }
    }
}

/// Why a source's stored secrets did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenSecretsError {
    /// KMS could not decrypt the data key: retrying may help.
    KeyUnavailable,
    /// They do not open or are malformed: they must be set again.
    Unreadable,
}

/// A source's secrets, opened with the context they were sealed under.
pub(crate) async fn open_secrets(
    sealer: &dyn SecretSealer,
    source: &Source,
) -> Result<Secrets, OpenSecretsError> {
    let Some(sealed) = &source.sealed_secrets else {
        return Ok(Secrets::new());
    };
    let context = EncryptionContext::for_source(&source.tenant, &source.id);
    let plaintext = sealer.open(&context, sealed).await.map_err(|e| match e {
        SealError::KeyProvider(_) => OpenSecretsError::KeyUnavailable,
        _ => OpenSecretsError::Unreadable,
    })?;
    Secrets::from_plaintext_json(&plaintext).map_err(|_| OpenSecretsError::Unreadable)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;
    use crate::fakes::{FakeProbe, FakeSealer, FixedClock, MemoryStore};
    use crate::model::discovery::{Check, CheckCode, DiscoveredColumn, ObjectKind, TypeProposal};
    use crate::ports::SourceRepository;
    use crate::service::sources::SourcesService;

    const CANARY: &str = "canary-pw-Ω-7f3a";

    struct Fixture {
        store: Arc<MemoryStore>,
        probe: Arc<FakeProbe>,
        sources: SourcesService,
        discovery: DiscoveryService,
        tenant: TenantId,
    }

    fn description(name: &str) -> ObjectDescription {
        ObjectDescription {
            name: name.into(),
            kind: ObjectKind::Table,
            columns: vec![DiscoveredColumn {
                name: "id".into(),
                native_type: "bigint".into(),
                nullable: false,
                primary_key_position: Some(1),
                proposal: TypeProposal::Supported {
                    flink_type: "BIGINT".into(),
                },
            }],
            primary_key: vec!["id".into()],
        }
    }

    fn fixture() -> Fixture {
        let store = Arc::new(MemoryStore::default());
        let sealer = Arc::new(FakeSealer::default());
        let clock = Arc::new(FixedClock::default());
        let probe = Arc::new(
            FakeProbe::default()
                .with_object(description("public.b"))
                .with_object(description("public.a"))
                .with_object(description("public.c")),
        );
        Fixture {
            sources: SourcesService::new(store.clone(), sealer.clone(), clock.clone()),
            discovery: DiscoveryService::new(store.clone(), sealer, probe.clone(), clock),
            store,
            probe,
            tenant: TenantId::parse("acme").unwrap(),
        }
    }

    fn draft(password: &str) -> SourceDraft {
        let mut secrets = Secrets::new();
        secrets.insert("password", SecretString::from(password.to_owned()));
        SourceDraft {
            name: "orders db".into(),
            kind: "postgres".into(),
            config: json!({"host": "db", "database": "shop", "username": "etl"})
                .as_object()
                .unwrap()
                .clone(),
            secrets: Some(secrets),
        }
    }

    fn query(limit: usize, after: Option<&str>) -> ObjectQuery {
        ObjectQuery {
            limit,
            after: after.map(str::to_owned),
            ..ObjectQuery::default()
        }
    }

    #[tokio::test]
    async fn a_registered_source_is_tested_with_its_opened_secrets() {
        let f = fixture();
        let source = f.sources.register(&f.tenant, draft(CANARY)).await.unwrap();
        let report = f.discovery.test(&f.tenant, &source.id).await.unwrap();
        assert!(report.ok);
        assert_eq!(
            f.probe.seen(),
            vec![(
                "orders db".to_owned(),
                vec![("password".to_owned(), CANARY.to_owned())]
            )]
        );
        let other = TenantId::parse("globex").unwrap();
        assert!(matches!(
            f.discovery.test(&other, &source.id).await,
            Err(DiscoverError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_draft_is_tested_as_registering_would_check_it_and_nothing_is_stored() {
        let f = fixture();
        let mut bad = draft(CANARY);
        bad.config.remove("host");
        let Err(DiscoverError::Invalid(errors)) = f.discovery.test_draft(&f.tenant, bad).await
        else {
            panic!("a draft without host must be refused");
        };
        assert_eq!(errors.errors()[0].field, "config.host");
        assert!(
            f.probe.seen().is_empty(),
            "a refused draft reached the probe"
        );

        f.probe.set_unreachable(Some(Check::failed(
            "authenticate",
            CheckCode::Auth,
            "password authentication failed for user etl",
        )));
        let report = f
            .discovery
            .test_draft(&f.tenant, draft(CANARY))
            .await
            .unwrap();
        assert!(!report.ok);
        assert_eq!(report.first_failure(), Some(CheckCode::Auth));
        assert!(!format!("{report:?}").contains(CANARY));
        let page = f.store.list(&f.tenant, 10, None).await.unwrap();
        assert!(page.items.is_empty(), "a tested draft was stored");
    }

    #[tokio::test]
    async fn objects_are_listed_in_pages_and_described() {
        let f = fixture();
        let source = f.sources.register(&f.tenant, draft("p")).await.unwrap();
        let first = f
            .discovery
            .list(&f.tenant, &source.id, query(2, None))
            .await
            .unwrap();
        let names: Vec<_> = first.items.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["public.a", "public.b"]);
        assert_eq!(first.next_after.as_deref(), Some("public.b"));
        let rest = f
            .discovery
            .list(&f.tenant, &source.id, query(2, Some("public.b")))
            .await
            .unwrap();
        assert_eq!(rest.items.len(), 1);
        assert_eq!(rest.next_after, None);

        let described = f
            .discovery
            .describe(&f.tenant, &source.id, "public.c")
            .await
            .unwrap();
        assert_eq!(described.primary_key, ["id"]);
        assert!(matches!(
            f.discovery.describe(&f.tenant, &source.id, "public.zz").await,
            Err(DiscoverError::ObjectNotFound(name)) if name == "public.zz"
        ));
    }

    #[tokio::test]
    async fn bad_queries_name_the_field_and_unreachable_sources_say_why() {
        let f = fixture();
        let source = f.sources.register(&f.tenant, draft("p")).await.unwrap();
        for (bad, field) in [
            (query(0, None), "limit"),
            (query(MAX_OBJECT_PAGE + 1, None), "limit"),
            (
                ObjectQuery {
                    like: Some("a\u{0}".into()),
                    ..query(10, None)
                },
                "like",
            ),
            (
                ObjectQuery {
                    schema: Some(String::new()),
                    ..query(10, None)
                },
                "schema",
            ),
        ] {
            let Err(DiscoverError::Invalid(errors)) =
                f.discovery.list(&f.tenant, &source.id, bad).await
            else {
                panic!("{field}: expected a 400");
            };
            assert_eq!(errors.errors()[0].field, field);
        }
        f.probe.set_unreachable(Some(Check::failed(
            "connect",
            CheckCode::Refused,
            "connection refused",
        )));
        assert!(matches!(
            f.discovery.list(&f.tenant, &source.id, query(10, None)).await,
            Err(DiscoverError::Unreachable(check)) if check.code == Some(CheckCode::Refused)
        ));
    }
}

//! The discovery function's protocol (ARCHITECTURE.md §2): the sources API
//! hands it one request through Lambda's Invoke API (`RequestResponse`) and
//! gets one reply. Only the discovery function reaches databases (in the
//! VPC) and opens stored secrets; requests carry ids, and an unsaved
//! draft's secrets travel sealed under a KMS data key (purpose
//! `source-secrets`, the draft's own id), never in clear.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::Client;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sluice_domain::model::discovery::{
    Check, ConnectionReport, ObjectDescription, ObjectPage, ObjectQuery, ObjectRef, Preparation,
    RowCountRequest, RowCounts, RunPreparation,
};
use sluice_domain::ports::{PrepareError, RepositoryError, RowCounter, RunPreparer, SecretSealer};
use sluice_domain::service::discovery::{DiscoverError, DraftTester, SourceDiscovery};
use sluice_domain::service::sources::SourceDraft;
use sluice_domain::{
    EncryptionContext, FieldError, SealedSecrets, Secrets, SourceId, TenantId, ValidationErrors,
};

use crate::config::LazyClient;

/// What the sources API asks the discovery function.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DiscoveryRequest {
    Test {
        tenant: TenantId,
        source_id: SourceId,
    },
    TestDraft {
        tenant: TenantId,
        /// The id the draft's secrets are sealed under.
        draft_id: SourceId,
        name: String,
        kind: String,
        config: Map<String, Value>,
        sealed_secrets: Option<SealedWire>,
    },
    List {
        tenant: TenantId,
        source_id: SourceId,
        schema: Option<String>,
        like: Option<String>,
        limit: usize,
        after: Option<String>,
    },
    Describe {
        tenant: TenantId,
        source_id: SourceId,
        name: String,
    },
    /// A multi-table job's tables, described in one call.
    DescribeMany {
        tenant: TenantId,
        source_id: SourceId,
        names: Vec<String>,
    },
    /// The trigger's one call before a run (README, "Target tables and
    /// schema drift"): the drift check and the target table at once.
    PrepareRun {
        tenant: TenantId,
        source_id: SourceId,
        target_id: SourceId,
        request: RunPreparation,
    },
    /// The reconciler's count of a run's rows on both sides (`validate:
    /// count`, README "Validation").
    CountRows {
        tenant: TenantId,
        source_id: SourceId,
        target_id: SourceId,
        requests: Vec<RowCountRequest>,
    },
}

/// A draft's sealed secrets on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedWire {
    #[serde(with = "serde_bytes")]
    pub ciphertext: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub nonce: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub encrypted_data_key: Vec<u8>,
    pub key_id: String,
    pub algorithm: String,
}

impl From<SealedSecrets> for SealedWire {
    fn from(s: SealedSecrets) -> Self {
        Self {
            ciphertext: s.ciphertext,
            nonce: s.nonce,
            encrypted_data_key: s.encrypted_data_key,
            key_id: s.key_id,
            algorithm: s.algorithm,
        }
    }
}

impl From<SealedWire> for SealedSecrets {
    fn from(s: SealedWire) -> Self {
        Self {
            ciphertext: s.ciphertext,
            nonce: s.nonce,
            encrypted_data_key: s.encrypted_data_key,
            key_id: s.key_id,
            algorithm: s.algorithm,
        }
    }
}

/// The discovery function's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DiscoveryReply {
    Report {
        report: ConnectionReport,
    },
    Page {
        items: Vec<ObjectRef>,
        next_after: Option<String>,
    },
    Object {
        description: ObjectDescription,
    },
    Objects {
        descriptions: Vec<Option<ObjectDescription>>,
    },
    Prepared {
        preparation: Preparation,
    },
    Counted {
        counts: Vec<RowCounts>,
    },
    Error {
        error: WireError,
    },
}

/// A [`DiscoverError`] on the wire (a store failure's cause stays in the
/// discovery function's log).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireError {
    NotFound { id: String },
    ObjectNotFound { name: String },
    Invalid { errors: Vec<(String, String)> },
    Unreachable { check: Check },
    SecretsUnavailable,
    SecretsUnreadable,
    Unavailable,
}

impl From<DiscoverError> for WireError {
    fn from(e: DiscoverError) -> Self {
        match e {
            DiscoverError::NotFound(id) => WireError::NotFound { id },
            DiscoverError::ObjectNotFound(name) => WireError::ObjectNotFound { name },
            DiscoverError::Invalid(errors) => WireError::Invalid {
                errors: errors
                    .errors()
                    .iter()
                    .map(|e| (e.field.clone(), e.reason.clone()))
                    .collect(),
            },
            DiscoverError::Unreachable(check) => WireError::Unreachable { check },
            DiscoverError::SecretsUnavailable => WireError::SecretsUnavailable,
            DiscoverError::SecretsUnreadable => WireError::SecretsUnreadable,
            DiscoverError::Repository(e) => {
                tracing::error!(error = %e, "discovery could not read the source");
                WireError::Unavailable
            }
        }
    }
}

impl From<WireError> for DiscoverError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::NotFound { id } => DiscoverError::NotFound(id),
            WireError::ObjectNotFound { name } => DiscoverError::ObjectNotFound(name),
            WireError::Invalid { errors } => {
                let mut all = ValidationErrors::new();
                for (field, reason) in errors {
                    all.add(FieldError::new(field, reason));
                }
                DiscoverError::Invalid(all)
            }
            WireError::Unreachable { check } => DiscoverError::Unreachable(check),
            WireError::SecretsUnavailable => DiscoverError::SecretsUnavailable,
            WireError::SecretsUnreadable => DiscoverError::SecretsUnreadable,
            WireError::Unavailable => {
                unavailable("the discovery function could not read the source")
            }
        }
    }
}

impl WireError {
    fn from_prepare(e: PrepareError) -> Self {
        match e {
            PrepareError::SourceNotFound(id) => WireError::NotFound { id },
            PrepareError::Unreachable(check) => WireError::Unreachable { check },
            PrepareError::Invalid(reason) => WireError::Invalid {
                errors: vec![("request".to_owned(), reason)],
            },
            PrepareError::SecretsUnavailable => WireError::SecretsUnavailable,
            PrepareError::SecretsUnreadable => WireError::SecretsUnreadable,
            PrepareError::Unavailable(cause) => {
                tracing::error!(error = %cause, "could not prepare a run");
                WireError::Unavailable
            }
        }
    }

    fn into_prepare(self) -> PrepareError {
        match self {
            WireError::NotFound { id } => PrepareError::SourceNotFound(id),
            WireError::ObjectNotFound { name } => {
                PrepareError::Invalid(format!("no object {name}"))
            }
            WireError::Invalid { errors } => PrepareError::Invalid(
                errors
                    .into_iter()
                    .map(|(field, reason)| format!("{field}: {reason}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            WireError::Unreachable { check } => PrepareError::Unreachable(check),
            WireError::SecretsUnavailable => PrepareError::SecretsUnavailable,
            WireError::SecretsUnreadable => PrepareError::SecretsUnreadable,
            WireError::Unavailable => {
                PrepareError::Unavailable("the discovery function could not read a source".into())
            }
        }
    }
}

fn unavailable(reason: &str) -> DiscoverError {
    DiscoverError::Repository(RepositoryError::Unavailable(reason.to_owned().into()))
}

/// Serves one request with the discovery use cases (the discovery
/// function's handler); `sealer` opens a draft's sealed secrets.
pub async fn serve<D: SourceDiscovery + DraftTester + RunPreparer + RowCounter>(
    discovery: &D,
    sealer: &dyn SecretSealer,
    request: DiscoveryRequest,
) -> DiscoveryReply {
    let reply = match request {
        DiscoveryRequest::Test { tenant, source_id } => discovery
            .test(&tenant, &source_id)
            .await
            .map(|report| DiscoveryReply::Report { report }),
        DiscoveryRequest::TestDraft {
            tenant,
            draft_id,
            name,
            kind,
            config,
            sealed_secrets,
        } => match open_draft_secrets(sealer, &tenant, &draft_id, sealed_secrets).await {
            Ok(secrets) => discovery
                .test_draft(
                    &tenant,
                    SourceDraft {
                        name,
                        kind,
                        config,
                        secrets: Some(secrets),
                    },
                )
                .await
                .map(|report| DiscoveryReply::Report { report }),
            Err(e) => Err(e),
        },
        DiscoveryRequest::List {
            tenant,
            source_id,
            schema,
            like,
            limit,
            after,
        } => discovery
            .list(
                &tenant,
                &source_id,
                ObjectQuery {
                    schema,
                    like,
                    limit,
                    after,
                },
            )
            .await
            .map(|page| DiscoveryReply::Page {
                items: page.items,
                next_after: page.next_after,
            }),
        DiscoveryRequest::Describe {
            tenant,
            source_id,
            name,
        } => discovery
            .describe(&tenant, &source_id, &name)
            .await
            .map(|description| DiscoveryReply::Object { description }),
        DiscoveryRequest::DescribeMany {
            tenant,
            source_id,
            names,
        } => discovery
            .describe_many(&tenant, &source_id, &names)
            .await
            .map(|descriptions| DiscoveryReply::Objects { descriptions }),
        DiscoveryRequest::PrepareRun {
            tenant,
            source_id,
            target_id,
            request,
        } => {
            return match discovery
                .prepare_run(&tenant, &source_id, &target_id, &request)
                .await
            {
                Ok(preparation) => DiscoveryReply::Prepared { preparation },
                Err(e) => DiscoveryReply::Error {
                    error: WireError::from_prepare(e),
                },
            };
        }
        DiscoveryRequest::CountRows {
            tenant,
            source_id,
            target_id,
            requests,
        } => {
            return match discovery
                .count_rows(&tenant, &source_id, &target_id, &requests)
                .await
            {
                Ok(counts) => DiscoveryReply::Counted { counts },
                Err(e) => DiscoveryReply::Error {
                    error: WireError::from_prepare(e),
                },
            };
        }
    };
    reply.unwrap_or_else(|e| DiscoveryReply::Error { error: e.into() })
}

async fn open_draft_secrets(
    sealer: &dyn SecretSealer,
    tenant: &TenantId,
    draft_id: &SourceId,
    sealed: Option<SealedWire>,
) -> Result<Secrets, DiscoverError> {
    let Some(sealed) = sealed else {
        return Ok(Secrets::new());
    };
    let context = EncryptionContext::for_source(tenant, draft_id);
    let plaintext = sealer
        .open(&context, &sealed.into())
        .await
        .map_err(|_| DiscoverError::SecretsUnavailable)?;
    Secrets::from_plaintext_json(&plaintext).map_err(|_| DiscoverError::SecretsUnreadable)
}

/// [`SourceDiscovery`] in the discovery function, through Lambda's Invoke
/// API.
#[derive(Clone)]
pub struct LambdaDiscovery {
    client: LazyClient<Client>,
    function_name: String,
}

/// [`DraftTester`] in the discovery function: the draft's secrets are
/// sealed here first (KMS `GenerateDataKey`, purpose `source-secrets`).
#[derive(Clone)]
pub struct LambdaDraftTester {
    discovery: LambdaDiscovery,
    sealer: Arc<dyn SecretSealer>,
}

impl LambdaDraftTester {
    pub fn new(discovery: LambdaDiscovery, sealer: Arc<dyn SecretSealer>) -> Self {
        Self { discovery, sealer }
    }
}

impl LambdaDiscovery {
    /// `client`: a client, or one built on first use.
    pub fn new(client: impl Into<LazyClient<Client>>, function_name: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            function_name: function_name.into(),
        }
    }

    async fn call(&self, request: &DiscoveryRequest) -> Result<DiscoveryReply, DiscoverError> {
        const FUNCTION: &str = "the discovery function";
        let reply: DiscoveryReply =
            crate::lambda::call(&self.client, &self.function_name, FUNCTION, request)
                .await
                .map_err(|failure| unavailable(&failure.reason(FUNCTION)))?;
        match reply {
            DiscoveryReply::Error { error } => Err(error.into()),
            other => Ok(other),
        }
    }
}

fn unexpected(reply: &DiscoveryReply) -> DiscoverError {
    tracing::error!(?reply, "the discovery function answered another request");
    unavailable("the discovery function answered another request")
}

#[async_trait]
impl SourceDiscovery for LambdaDiscovery {
    async fn test(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<ConnectionReport, DiscoverError> {
        let request = DiscoveryRequest::Test {
            tenant: tenant.clone(),
            source_id: id.clone(),
        };
        match self.call(&request).await? {
            DiscoveryReply::Report { report } => Ok(report),
            other => Err(unexpected(&other)),
        }
    }

    async fn list(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        query: ObjectQuery,
    ) -> Result<ObjectPage, DiscoverError> {
        let request = DiscoveryRequest::List {
            tenant: tenant.clone(),
            source_id: id.clone(),
            schema: query.schema,
            like: query.like,
            limit: query.limit,
            after: query.after,
        };
        match self.call(&request).await? {
            DiscoveryReply::Page { items, next_after } => Ok(ObjectPage { items, next_after }),
            other => Err(unexpected(&other)),
        }
    }

    async fn describe(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        name: &str,
    ) -> Result<ObjectDescription, DiscoverError> {
        let request = DiscoveryRequest::Describe {
            tenant: tenant.clone(),
            source_id: id.clone(),
            name: name.to_owned(),
        };
        match self.call(&request).await? {
            DiscoveryReply::Object { description } => Ok(description),
            other => Err(unexpected(&other)),
        }
    }

    async fn describe_many(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoverError> {
        let request = DiscoveryRequest::DescribeMany {
            tenant: tenant.clone(),
            source_id: id.clone(),
            names: names.to_vec(),
        };
        match self.call(&request).await? {
            DiscoveryReply::Objects { descriptions } if descriptions.len() == names.len() => {
                Ok(descriptions)
            }
            other => Err(unexpected(&other)),
        }
    }
}

/// [`RunPreparer`] in the discovery function: the trigger's one call
/// before a run.
#[async_trait]
impl RunPreparer for LambdaDiscovery {
    async fn prepare_run(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        request: &RunPreparation,
    ) -> Result<Preparation, PrepareError> {
        let request = DiscoveryRequest::PrepareRun {
            tenant: tenant.clone(),
            source_id: source_id.clone(),
            target_id: target_id.clone(),
            request: request.clone(),
        };
        match self.call(&request).await {
            Ok(DiscoveryReply::Prepared { preparation }) => Ok(preparation),
            Ok(other) => Err(PrepareError::Unavailable(Box::new(unexpected(&other)))),
            Err(DiscoverError::Repository(e)) => Err(PrepareError::Unavailable(Box::new(e))),
            Err(e) => Err(WireError::from(e).into_prepare()),
        }
    }
}

#[async_trait]
impl RowCounter for LambdaDiscovery {
    async fn count_rows(
        &self,
        tenant: &TenantId,
        source_id: &SourceId,
        target_id: &SourceId,
        requests: &[RowCountRequest],
    ) -> Result<Vec<RowCounts>, PrepareError> {
        let request = DiscoveryRequest::CountRows {
            tenant: tenant.clone(),
            source_id: source_id.clone(),
            target_id: target_id.clone(),
            requests: requests.to_vec(),
        };
        match self.call(&request).await {
            Ok(DiscoveryReply::Counted { counts }) => Ok(counts),
            Ok(other) => Err(PrepareError::Unavailable(Box::new(unexpected(&other)))),
            Err(DiscoverError::Repository(e)) => Err(PrepareError::Unavailable(Box::new(e))),
            Err(e) => Err(WireError::from(e).into_prepare()),
        }
    }
}

#[async_trait]
impl DraftTester for LambdaDraftTester {
    async fn test_draft(
        &self,
        tenant: &TenantId,
        draft: SourceDraft,
    ) -> Result<ConnectionReport, DiscoverError> {
        let draft_id = SourceId::generate();
        let secrets = draft.secrets.unwrap_or_default();
        let sealed_secrets = if secrets.is_empty() {
            None
        } else {
            let context = EncryptionContext::for_source(tenant, &draft_id);
            let plaintext = zeroize::Zeroizing::new(secrets.to_plaintext_json());
            let sealed = self.sealer.seal(&context, &plaintext).await.map_err(|e| {
                tracing::error!(error = %e, "could not seal a draft's secrets");
                DiscoverError::SecretsUnavailable
            })?;
            Some(SealedWire::from(sealed))
        };
        let request = DiscoveryRequest::TestDraft {
            tenant: tenant.clone(),
            draft_id,
            name: draft.name,
            kind: draft.kind,
            config: draft.config,
            sealed_secrets,
        };
        match self.discovery.call(&request).await? {
            DiscoveryReply::Report { report } => Ok(report),
            other => Err(unexpected(&other)),
        }
    }
}

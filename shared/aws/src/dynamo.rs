//! The DynamoDB repository of sources.
//!
//! Table design (one table, name from configuration; see README):
//!
//! | entity       | pk                 | sk                        |
//! |--------------|--------------------|---------------------------|
//! | source       | `TENANT#<tenant>`  | `SOURCE#<id>`             |
//! | job          | `TENANT#<tenant>`  | `JOB#<id>`                |
//! | source usage | `TENANT#<tenant>`  | `SOURCEUSE#<source id>`   |
//!
//! Every key starts with the tenant, so no query can cross tenants. A
//! tenant's sources are one `Query` on `pk` with `begins_with(sk, "SOURCE#")`,
//! in id (ULID, so creation-time) order. Writes are conditional: inserts on
//! the key being free, updates and deletes on `version`. A source-usage item
//! counts the jobs referencing a source; it changes in the same transaction
//! as the job, and a source is deleted only in a transaction that finds the
//! count at zero, so no job can end up pointing at a deleted source.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sluice_domain::ports::{BoxError, RepositoryError, SourcePage, SourceRepository};
use sluice_domain::{SealedSecrets, Source, SourceId, SourceKind, TenantId};

const SOURCE_PREFIX: &str = "SOURCE#";

#[derive(Clone)]
pub struct DynamoSourceRepository {
    client: Client,
    table: String,
}

impl DynamoSourceRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

pub(crate) fn tenant_pk(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

fn source_sk(id: &SourceId) -> String {
    format!("{SOURCE_PREFIX}{id}")
}

pub(crate) fn item_key(tenant: &TenantId, sk: String) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(tenant_pk(tenant))),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

pub(crate) fn key(tenant: &TenantId, id: &SourceId) -> HashMap<String, AttributeValue> {
    item_key(tenant, source_sk(id))
}

/// The key of the item counting the jobs that reference a source.
pub(crate) fn usage_key(tenant: &TenantId, id: &SourceId) -> HashMap<String, AttributeValue> {
    item_key(tenant, format!("SOURCEUSE#{id}"))
}

/// One item by key, read consistently.
pub(crate) async fn get_item(
    client: &Client,
    table: &str,
    key: HashMap<String, AttributeValue>,
) -> Result<Option<HashMap<String, AttributeValue>>, RepositoryError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    Ok(out.item)
}

/// Up to `limit` of a tenant's items whose sort key starts with `prefix`,
/// after `start`, and whether more follow. One extra item is fetched to
/// tell, so the last page never carries a token that leads nowhere.
pub(crate) async fn query_prefix(
    client: &Client,
    table: &str,
    tenant: &TenantId,
    prefix: &str,
    start: Option<HashMap<String, AttributeValue>>,
    limit: usize,
) -> Result<(Vec<HashMap<String, AttributeValue>>, bool), RepositoryError> {
    let fetch = i32::try_from(limit + 1).unwrap_or(i32::MAX);
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(tenant_pk(tenant)))
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
        .set_exclusive_start_key(start)
        .limit(fetch)
        .consistent_read(true)
        .send()
        .await
        .map_err(unavailable)?;
    let mut items = out.items.unwrap_or_default();
    let more = items.len() > limit;
    items.truncate(limit);
    Ok((items, more))
}

/// After a failed condition on a record: the record is gone, or newer.
/// `current` is a consistent read of its version.
pub(crate) fn condition_failure(current: Result<Option<u64>, RepositoryError>) -> RepositoryError {
    match current {
        Ok(None) => RepositoryError::NotFound,
        Ok(Some(version)) => RepositoryError::VersionMismatch { current: version },
        Err(e) => e,
    }
}

/// Replaces an item only if the stored one is at `expected` version:
/// `Ok(false)` when the condition failed (see [`condition_failure`]).
pub(crate) async fn put_if_version(
    client: &Client,
    table: &str,
    item: HashMap<String, AttributeValue>,
    expected: u64,
) -> Result<bool, RepositoryError> {
    let result = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_exists(pk) AND version = :expected")
        .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(unavailable(e)),
    }
}

/// Which operations of a cancelled transaction failed their condition.
pub(crate) fn failed_conditions<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Option<Vec<bool>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match e.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(t) => Some(
            t.cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// A source as stored. Binary fields are DynamoDB `B` values.
#[derive(Serialize, Deserialize)]
struct SourceItem {
    pk: String,
    sk: String,
    entity: String,
    id: String,
    tenant: String,
    name: String,
    kind: String,
    config: Map<String, Value>,
    secret_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed_secrets: Option<SealedItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secrets_updated_at: Option<DateTime<Utc>>,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SealedItem {
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
    #[serde(with = "serde_bytes")]
    nonce: Vec<u8>,
    #[serde(with = "serde_bytes")]
    encrypted_data_key: Vec<u8>,
    key_id: String,
    algorithm: String,
}

impl From<&SealedSecrets> for SealedItem {
    fn from(x: &SealedSecrets) -> Self {
        Self {
            ciphertext: x.ciphertext.clone(),
            nonce: x.nonce.clone(),
            encrypted_data_key: x.encrypted_data_key.clone(),
            key_id: x.key_id.clone(),
            algorithm: x.algorithm.clone(),
        }
    }
}

impl From<SealedItem> for SealedSecrets {
    fn from(x: SealedItem) -> Self {
        Self {
            ciphertext: x.ciphertext,
            nonce: x.nonce,
            encrypted_data_key: x.encrypted_data_key,
            key_id: x.key_id,
            algorithm: x.algorithm,
        }
    }
}

impl From<&Source> for SourceItem {
    fn from(s: &Source) -> Self {
        Self {
            pk: tenant_pk(&s.tenant),
            sk: source_sk(&s.id),
            entity: "source".to_owned(),
            id: s.id.to_string(),
            tenant: s.tenant.to_string(),
            name: s.name.clone(),
            kind: s.kind.to_string(),
            config: s.config.clone(),
            secret_fields: s.secret_fields.clone(),
            sealed_secrets: s.sealed_secrets.as_ref().map(SealedItem::from),
            secrets_updated_at: s.secrets_updated_at,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

impl TryFrom<SourceItem> for Source {
    type Error = RepositoryError;

    fn try_from(item: SourceItem) -> Result<Self, Self::Error> {
        let corrupt = |what: &str| corrupt_item(format!("stored source has an invalid {what}"));
        Ok(Source {
            id: SourceId::parse(&item.id).ok_or_else(|| corrupt("id"))?,
            tenant: TenantId::parse(&item.tenant).map_err(|_| corrupt("tenant"))?,
            kind: item
                .kind
                .parse::<SourceKind>()
                .map_err(|_| corrupt("kind"))?,
            name: item.name,
            config: item.config,
            secret_fields: item.secret_fields,
            sealed_secrets: item.sealed_secrets.map(SealedSecrets::from),
            secrets_updated_at: item.secrets_updated_at,
            version: item.version,
            created_at: item.created_at,
            updated_at: item.updated_at,
        })
    }
}

fn corrupt_item(message: String) -> RepositoryError {
    RepositoryError::Unavailable(message.into())
}

pub(crate) fn unavailable<E: std::error::Error + Send + Sync + 'static>(e: E) -> RepositoryError {
    RepositoryError::Unavailable(Box::new(e) as BoxError)
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Source, RepositoryError> {
    let parsed: SourceItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    parsed.try_into()
}

fn to_item(source: &Source) -> Result<HashMap<String, AttributeValue>, RepositoryError> {
    serde_dynamo::to_item(SourceItem::from(source)).map_err(unavailable)
}

impl DynamoSourceRepository {
    /// After a failed condition: tells a missing record from a newer one.
    async fn explain_condition_failure(&self, tenant: &TenantId, id: &SourceId) -> RepositoryError {
        condition_failure(self.get(tenant, id).await.map(|s| s.map(|s| s.version)))
    }
}

#[async_trait]
impl SourceRepository for DynamoSourceRepository {
    #[tracing::instrument(skip_all, fields(source_id = %source.id))]
    async fn insert(&self, source: &Source) -> Result<(), RepositoryError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(source)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(RepositoryError::AlreadyExists)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(source_id = %id))]
    async fn get(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Source>, RepositoryError> {
        get_item(&self.client, &self.table, key(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&SourceId>,
    ) -> Result<SourcePage, RepositoryError> {
        let start = after.map(|a| key(tenant, a));
        let (raw, more) = query_prefix(
            &self.client,
            &self.table,
            tenant,
            SOURCE_PREFIX,
            start,
            limit,
        )
        .await?;
        let items = raw
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = more.then(|| items[items.len() - 1].id.clone());
        Ok(SourcePage { items, next_after })
    }

    #[tracing::instrument(skip_all, fields(source_id = %source.id, expected_version))]
    async fn update(&self, source: &Source, expected_version: u64) -> Result<(), RepositoryError> {
        if put_if_version(
            &self.client,
            &self.table,
            to_item(source)?,
            expected_version,
        )
        .await?
        {
            Ok(())
        } else {
            Err(self
                .explain_condition_failure(&source.tenant, &source.id)
                .await)
        }
    }

    #[tracing::instrument(skip_all, fields(source_id = %id))]
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
        let mut delete_source = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(tenant, id)));
        delete_source = match expected_version {
            Some(v) => delete_source
                .condition_expression("attribute_exists(pk) AND version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(v.to_string())),
            None => delete_source.condition_expression("attribute_exists(pk)"),
        };
        // The usage item goes with the source, and only at a zero count.
        let delete_usage = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(usage_key(tenant, id)))
            .condition_expression("attribute_not_exists(pk) OR jobs <= :zero")
            .expression_attribute_values(":zero", AttributeValue::N("0".into()));
        let result = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete_source.build().map_err(unavailable)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(delete_usage.build().map_err(unavailable)?)
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match failed_conditions(&e).as_deref() {
                Some([true, ..]) => Err(self.explain_condition_failure(tenant, id).await),
                Some([_, true]) => Err(RepositoryError::InUse {
                    jobs: self.usage(tenant, id).await?,
                }),
                _ => Err(unavailable(e)),
            },
        }
    }
}

impl DynamoSourceRepository {
    /// How many jobs reference a source.
    async fn usage(&self, tenant: &TenantId, id: &SourceId) -> Result<u64, RepositoryError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(usage_key(tenant, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .item
            .and_then(|i| {
                i.get("jobs")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0))
    }
}

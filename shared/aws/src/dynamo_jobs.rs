//! The DynamoDB repository of jobs (table design in `dynamo.rs`). Every job
//! write is one transaction with the usage counts of the sources it
//! references.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_domain::model::discovery::DiscoveredColumn;
use sluice_domain::model::job::{Job, JobId, JobSpec};
use sluice_domain::model::selection::JobTable;
use sluice_domain::ports::{JobPage, JobRepository, RepositoryError};
use sluice_domain::{SourceId, TenantId};

use crate::dynamo::{
    condition_failure, failed_conditions, get_item, item_key, key, query_prefix, tenant_pk,
    unavailable, usage_key,
};

const JOB_PREFIX: &str = "JOB#";

#[derive(Clone)]
pub struct DynamoJobRepository {
    client: Client,
    table: String,
}

impl DynamoJobRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn job_key(tenant: &TenantId, id: &JobId) -> HashMap<String, AttributeValue> {
    item_key(tenant, format!("{JOB_PREFIX}{id}"))
}

#[derive(Serialize, Deserialize)]
struct JobItem {
    pk: String,
    sk: String,
    entity: String,
    id: String,
    tenant: String,
    spec: JobSpec,
    source_id: String,
    target_id: String,
    /// Absent on jobs saved before snapshots were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_snapshot: Option<Vec<DiscoveredColumn>>,
    /// A multi-table job's `spec.tables`, as JSON compressed with DEFLATE
    /// (a binary attribute): 500 tables with their columns and snapshots
    /// would pass DynamoDB's 400 KB item limit as a map.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    tables_deflated: Option<Vec<u8>>,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The most bytes a job's tables inflate to when read back (a corrupt or
/// hostile attribute cannot exhaust memory).
const MAX_TABLES_JSON: usize = 64 << 20;

/// `tables` as compressed JSON; `None` for a single-table job.
fn deflate_tables(tables: &[JobTable]) -> Result<Option<Vec<u8>>, RepositoryError> {
    if tables.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_vec(tables).map_err(unavailable)?;
    Ok(Some(miniz_oxide::deflate::compress_to_vec(&json, 6)))
}

fn inflate_tables(bytes: &[u8]) -> Result<Vec<JobTable>, RepositoryError> {
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, MAX_TABLES_JSON).map_err(
        |e| RepositoryError::Unavailable(format!("stored job tables do not inflate: {e}").into()),
    )?;
    serde_json::from_slice(&json).map_err(unavailable)
}

fn to_item(job: &Job) -> Result<HashMap<String, AttributeValue>, RepositoryError> {
    let mut spec = job.spec.clone();
    let tables = std::mem::take(&mut spec.tables);
    serde_dynamo::to_item(JobItem {
        pk: tenant_pk(&job.tenant),
        sk: format!("{JOB_PREFIX}{}", job.id),
        entity: "job".into(),
        id: job.id.to_string(),
        tenant: job.tenant.to_string(),
        spec,
        source_id: job.source_id.to_string(),
        target_id: job.target_id.to_string(),
        source_snapshot: job.source_snapshot.clone(),
        tables_deflated: deflate_tables(&tables)?,
        version: job.version,
        created_at: job.created_at,
        updated_at: job.updated_at,
    })
    .map_err(unavailable)
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Job, RepositoryError> {
    let mut i: JobItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    if let Some(bytes) = &i.tables_deflated {
        i.spec.tables = inflate_tables(bytes)?;
    }
    let corrupt = |what: &str| {
        RepositoryError::Unavailable(format!("stored job has an invalid {what}").into())
    };
    Ok(Job {
        id: JobId::parse(&i.id).ok_or_else(|| corrupt("id"))?,
        tenant: TenantId::parse(&i.tenant).map_err(|_| corrupt("tenant"))?,
        source_id: SourceId::parse(&i.source_id).ok_or_else(|| corrupt("source_id"))?,
        target_id: SourceId::parse(&i.target_id).ok_or_else(|| corrupt("target_id"))?,
        spec: i.spec,
        source_snapshot: i.source_snapshot,
        version: i.version,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

fn refs(job: &Job) -> BTreeSet<SourceId> {
    BTreeSet::from([job.source_id.clone(), job.target_id.clone()])
}

impl DynamoJobRepository {
    /// `ADD jobs :delta` on a source's usage item (created on first use).
    fn count(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        delta: i64,
    ) -> Result<TransactWriteItem, RepositoryError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(usage_key(tenant, id)))
            .update_expression("ADD jobs :delta")
            .expression_attribute_values(":delta", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// A condition that the source still exists.
    fn source_exists(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<TransactWriteItem, RepositoryError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(tenant, id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn put(
        &self,
        job: &Job,
        condition: &str,
        expected: Option<u64>,
    ) -> Result<TransactWriteItem, RepositoryError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(job)?))
            .condition_expression(condition);
        if let Some(v) = expected {
            put = put.expression_attribute_values(":expected", AttributeValue::N(v.to_string()));
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(unavailable)?)
            .build())
    }

    /// After a failed condition on the job item: gone, or newer.
    async fn explain(&self, tenant: &TenantId, id: &JobId) -> RepositoryError {
        condition_failure(self.get(tenant, id).await.map(|j| j.map(|j| j.version)))
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Option<Vec<bool>>> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let failed = failed_conditions(&e);
                if failed.is_none() {
                    tracing::error!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "transaction failed");
                }
                Err(failed)
            }
        }
    }
}

fn transaction_failed() -> RepositoryError {
    RepositoryError::Unavailable("DynamoDB transaction failed".into())
}

#[async_trait]
impl JobRepository for DynamoJobRepository {
    #[tracing::instrument(skip_all, fields(job_id = %job.id))]
    async fn insert(&self, job: &Job) -> Result<(), RepositoryError> {
        let mut items = vec![self.put(job, "attribute_not_exists(pk)", None)?];
        for id in refs(job) {
            items.push(self.source_exists(&job.tenant, &id)?);
            items.push(self.count(&job.tenant, &id, 1)?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Some(failed)) if failed.first() == Some(&true) => {
                Err(RepositoryError::AlreadyExists)
            }
            Err(Some(failed)) if failed.iter().any(|f| *f) => {
                Err(RepositoryError::MissingReference)
            }
            Err(_) => Err(transaction_failed()),
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %id))]
    async fn get(&self, tenant: &TenantId, id: &JobId) -> Result<Option<Job>, RepositoryError> {
        get_item(&self.client, &self.table, job_key(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&JobId>,
    ) -> Result<JobPage, RepositoryError> {
        let start = after.map(|a| job_key(tenant, a));
        let (raw, more) =
            query_prefix(&self.client, &self.table, tenant, JOB_PREFIX, start, limit).await?;
        let items = raw
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_after = more.then(|| items[items.len() - 1].id.clone());
        Ok(JobPage { items, next_after })
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id))]
    async fn update(&self, job: &Job, previous: &Job) -> Result<(), RepositoryError> {
        let mut items = vec![self.put(
            job,
            "attribute_exists(pk) AND version = :expected",
            Some(previous.version),
        )?];
        let (old, new) = (refs(previous), refs(job));
        for id in old.difference(&new) {
            items.push(self.count(&job.tenant, id, -1)?);
        }
        for id in new.difference(&old) {
            items.push(self.source_exists(&job.tenant, id)?);
            items.push(self.count(&job.tenant, id, 1)?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Some(failed)) if failed.first() == Some(&true) => {
                Err(self.explain(&job.tenant, &job.id).await)
            }
            Err(Some(failed)) if failed.iter().any(|f| *f) => {
                Err(RepositoryError::MissingReference)
            }
            Err(_) => Err(transaction_failed()),
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %id))]
    async fn delete(
        &self,
        tenant: &TenantId,
        id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        // The references to release are those of the version deleted, so the
        // delete is conditional on that version.
        let current = self
            .get(tenant, id)
            .await?
            .ok_or(RepositoryError::NotFound)?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(job_key(tenant, id)))
            .condition_expression("attribute_exists(pk) AND version = :expected")
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(current.version.to_string()),
            )
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().delete(delete).build()];
        for source in refs(&current) {
            items.push(self.count(tenant, &source, -1)?);
        }
        // What belongs to the job goes with it: its schedule record,
        // watermark, run slot, notification settings and alert history (absent items delete
        // as no-ops).
        for sk in [
            crate::dynamo_schedules::schedule_sk(id),
            crate::dynamo_notifications::settings_sk(id),
            crate::dynamo_notifications::alert_state_sk(id),
            watermark_sk(id),
            crate::dynamo_runs::slot_sk(id),
        ] {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(tenant, sk)))
                .build()
                .map_err(unavailable)?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(Some(failed)) if failed.first() == Some(&true) => {
                Err(self.explain(tenant, id).await)
            }
            Err(_) => Err(transaction_failed()),
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %id))]
    async fn watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
    ) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        let Some(item) = get_item(
            &self.client,
            &self.table,
            item_key(tenant, watermark_sk(id)),
        )
        .await?
        else {
            return Ok(None);
        };
        let stored: WatermarkItem = serde_dynamo::from_item(item).map_err(unavailable)?;
        Ok(Some(stored.watermark))
    }

    #[tracing::instrument(skip_all, fields(job_id = %id, to = %to))]
    async fn advance_watermark(
        &self,
        tenant: &TenantId,
        id: &JobId,
        to: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        // Forward only, by condition: two runs ending together cannot move
        // it back, whatever order their writes land in.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, watermark_sk(id))))
            .update_expression("SET entity = :entity, watermark = :at, watermark_us = :ms")
            .condition_expression("attribute_not_exists(watermark_us) OR watermark_us < :ms")
            .expression_attribute_values(":entity", AttributeValue::S("watermark".into()))
            .expression_attribute_values(
                ":at",
                AttributeValue::S(to.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            )
            .expression_attribute_values(
                ":ms",
                AttributeValue::N(to.timestamp_micros().to_string()),
            )
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
}

pub(crate) fn watermark_sk(id: &JobId) -> String {
    format!("WATERMARK#{id}")
}

/// An incremental job's watermark, beside the job (a job's `PutItem` on
/// edit would otherwise overwrite it). `watermark_us` holds microseconds,
/// for the forward-only condition.
#[derive(Deserialize)]
struct WatermarkItem {
    watermark: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A job of 500 tables of 50 columns, with their snapshots.
    fn widest_job() -> Job {
        let source = SourceId::generate();
        let tables: Vec<serde_json::Value> = (0..500)
            .map(|t| {
                json!({"source": format!("public.table_{t:03}"), "target": format!("table_{t:03}"),
                       "columns": (0..50).map(|i| json!({"name": format!("c{i}_{t}"), "type": "DECIMAL(12, 2)"})).collect::<Vec<_>>(),
                       "primary_key": ["c0"],
                       "snapshot": (0..50).map(|i| json!({"name": format!("c{i}_{t}"), "native_type": "numeric(12,2)",
                           "nullable": i > 0, "primary_key_position": if i == 0 { Some(1) } else { None },
                           "proposal": {"status": "supported", "flink_type": "DECIMAL(12, 2)"}})).collect::<Vec<_>>()})
            })
            .collect();
        let spec: JobSpec = serde_json::from_value(json!({
            "name": "500 tables",
            "source": {"source_id": source.as_str(), "include": {"schema": "public"}},
            "target": {"source_id": source.as_str(), "write_mode": "upsert"},
            "options": {"mode": "batch"},
            "tables": tables
        }))
        .unwrap();
        let at = Utc::now();
        Job {
            id: JobId::generate(),
            tenant: TenantId::parse("acme").unwrap(),
            spec,
            source_id: source.clone(),
            target_id: source,
            source_snapshot: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_widest_job_fits_an_item_and_reads_back_the_same() {
        let job = widest_job();
        let item = to_item(&job).unwrap();
        let AttributeValue::B(bytes) = &item["tables_deflated"] else {
            panic!("a binary attribute");
        };
        let json = serde_json::to_vec(&job.spec.tables).unwrap().len();
        eprintln!(
            "{json} bytes of tables as {} deflated",
            bytes.as_ref().len()
        );
        assert!(
            bytes.as_ref().len() < 300 * 1024,
            "{}",
            bytes.as_ref().len()
        );
        assert!(!item.contains_key("tables"), "not in the spec's map");
        assert_eq!(from_item(item).unwrap(), job);
        // A single-table job has no such attribute.
        let mut single = job.clone();
        single.spec.tables.clear();
        assert!(!to_item(&single).unwrap().contains_key("tables_deflated"));
    }

    #[test]
    fn a_corrupt_attribute_is_an_error_not_a_panic() {
        assert!(inflate_tables(b"not deflate").is_err());
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MAX_TABLES_JSON + 1], 6);
        assert!(inflate_tables(&bomb).is_err());
    }
}

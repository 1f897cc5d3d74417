//! The DynamoDB repository of runs. Runs live in the one table beside
//! sources and jobs (see `dynamo.rs`), with two global secondary indexes:
//!
//! | entity | pk                | sk             | `job_pk` / `job_sk` (GSI `by_job`)          | `active_pk` / `active_sk` (GSI `active`)   |
//! |--------|-------------------|----------------|---------------------------------------------|--------------------------------------------|
//! | run    | `TENANT#<tenant>` | `RUN#<run id>` | `TENANT#<tenant>#JOB#<job id>` / `<run id>` | `ACTIVE` / `<run id>`, only while active   |
//!
//! Both indexes project all attributes. Run ids are ULIDs whose time is the
//! run's scheduled time, so both indexes sort runs by scheduled time:
//!
//! - `by_job` holds every run under its job (and tenant): a job's history is
//!   one `Query` on `job_pk`, newest first. A tenant's key prefixes the
//!   partition, so no query can cross tenants.
//! - `active` is sparse: `active_pk`/`active_sk` are written only while the
//!   run is pending, submitting or running, and every write is a whole-item
//!   `PutItem`, so a run that finishes drops out of the index. The reconciler
//!   reads it oldest first, across tenants.
//!
//! Trade-off of `active`: every active run of every tenant sits in the one
//! partition `ACTIVE`, so every transition in or out of an active state is a
//! write to that partition (about 1,000 writes/s per partition, and a
//! throttled GSI throttles the table). At sluice's scale (runs per minute,
//! not per millisecond) that is far away, and one partition keeps
//! `list_active` a single query. If it ever is not, shard the key
//! (`ACTIVE#<n>`, `n` from a hash of the run id) and merge N queries.
//!
//! GSI reads are eventually consistent: a run just created or finished can
//! be missing from (or linger in) `list_for_job` and `list_active` for a
//! moment. `get` is strongly consistent, and every write is conditional on
//! `version`, so acting on a stale listing cannot overwrite newer state.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_domain::TenantId;
use sluice_domain::model::job::{FlinkTarget, JobId, Window};
use sluice_domain::model::notification::NotificationOutcome;
use sluice_domain::model::run::{
    Run, RunError, RunId, RunState, TableRows, TriggerKind, Validation,
};
use sluice_domain::model::schedule::RunPolicy;
use sluice_domain::ports::{Created, RepositoryError, RunPage, RunRepository, SlotClaim};

use crate::dynamo::{
    condition_failure, get_item, item_key, put_if_version, tenant_pk, unavailable,
};

const RUN_PREFIX: &str = "RUN#";
const BY_JOB_INDEX: &str = "by_job";
const ACTIVE_INDEX: &str = "active";
/// The one partition of the `active` index.
const ACTIVE_PK: &str = "ACTIVE";

#[derive(Clone)]
pub struct DynamoRunRepository {
    client: Client,
    table: String,
}

impl DynamoRunRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// The item naming the run that holds a job's run slot (overlap policy).
pub(crate) fn slot_sk(job: &JobId) -> String {
    format!("JOBSLOT#{job}")
}

fn run_sk(id: &RunId) -> String {
    format!("{RUN_PREFIX}{id}")
}

fn run_key(tenant: &TenantId, id: &RunId) -> HashMap<String, AttributeValue> {
    item_key(tenant, run_sk(id))
}

fn job_pk(tenant: &TenantId, job: &JobId) -> String {
    format!("{}#JOB#{job}", tenant_pk(tenant))
}

/// Where a `by_job` query resumes after `before`: a GSI's start key names
/// the table key as well as the index key.
fn by_job_start_key(
    tenant: &TenantId,
    job: &JobId,
    before: &RunId,
) -> HashMap<String, AttributeValue> {
    let mut start = run_key(tenant, before);
    start.insert("job_pk".into(), AttributeValue::S(job_pk(tenant, job)));
    start.insert("job_sk".into(), AttributeValue::S(before.to_string()));
    start
}

/// A run as stored.
#[derive(Serialize, Deserialize)]
struct RunItem {
    pk: String,
    sk: String,
    entity: String,
    job_pk: String,
    job_sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active_sk: Option<String>,
    id: String,
    tenant: String,
    job_id: String,
    trigger: TriggerKind,
    scheduled_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
    state: RunState,
    flink_target: FlinkTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flink_job_id: Option<String>,
    attempts: u32,
    /// Absent before the first submission (and on runs stored before
    /// submissions had numbers).
    #[serde(default, skip_serializing_if = "is_zero")]
    submission: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<RunError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows_read: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rows_written: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validation: Option<Validation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tables: Vec<TableRows>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    policy: RunPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deadline: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    follow_up_pending: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_run_id: Option<String>,
    /// TTL (epoch seconds): a run the reconciler is done with expires
    /// [`RUN_RETENTION_DAYS`] after it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// How the run's notices were delivered (the notifier), once it ended for good.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notifications: Vec<NotificationOutcome>,
    version: u64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How long finished runs are kept (the table's TTL attribute `expires_at`).
pub const RUN_RETENTION_DAYS: i64 = 90;

fn to_item(run: &Run) -> Result<HashMap<String, AttributeValue>, RepositoryError> {
    let active = run.needs_reconciler();
    let expires_at = (!active)
        .then(|| run.finished_at.unwrap_or(run.updated_at))
        .map(|ended| (ended + chrono::Duration::days(RUN_RETENTION_DAYS)).timestamp());
    serde_dynamo::to_item(RunItem {
        pk: tenant_pk(&run.tenant),
        sk: run_sk(&run.id),
        entity: "run".into(),
        job_pk: job_pk(&run.tenant, &run.job_id),
        job_sk: run.id.to_string(),
        active_pk: active.then(|| ACTIVE_PK.to_owned()),
        active_sk: active.then(|| run.id.to_string()),
        id: run.id.to_string(),
        tenant: run.tenant.to_string(),
        job_id: run.job_id.to_string(),
        trigger: run.trigger,
        scheduled_time: run.scheduled_time,
        window: run.window,
        state: run.state,
        flink_target: run.flink_target,
        flink_job_id: run.flink_job_id.clone(),
        attempts: run.attempts,
        submission: run.submission,
        error: run.error.clone(),
        rows_read: run.rows_read,
        rows_written: run.rows_written,
        validation: run.validation,
        tables: run.tables.clone(),
        created_at: run.created_at,
        updated_at: run.updated_at,
        finished_at: run.finished_at,
        policy: run.policy.clone(),
        deadline: run.deadline,
        next_attempt_at: run.next_attempt_at,
        follow_up_pending: run.follow_up_pending,
        parent_run_id: run.parent_run_id.as_ref().map(|id| id.to_string()),
        expires_at,
        notifications: run.notifications.clone(),
        version: run.version,
    })
    .map_err(unavailable)
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Run, RepositoryError> {
    let i: RunItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    let corrupt = |what: &str| {
        RepositoryError::Unavailable(format!("stored run has an invalid {what}").into())
    };
    Ok(Run {
        id: RunId::parse(&i.id).ok_or_else(|| corrupt("id"))?,
        tenant: TenantId::parse(&i.tenant).map_err(|_| corrupt("tenant"))?,
        job_id: JobId::parse(&i.job_id).ok_or_else(|| corrupt("job_id"))?,
        trigger: i.trigger,
        scheduled_time: i.scheduled_time,
        window: i.window,
        state: i.state,
        flink_target: i.flink_target,
        flink_job_id: i.flink_job_id,
        attempts: i.attempts,
        submission: i.submission,
        error: i.error,
        rows_read: i.rows_read,
        rows_written: i.rows_written,
        validation: i.validation,
        tables: i.tables,
        created_at: i.created_at,
        updated_at: i.updated_at,
        finished_at: i.finished_at,
        policy: i.policy,
        deadline: i.deadline,
        next_attempt_at: i.next_attempt_at,
        follow_up_pending: i.follow_up_pending,
        parent_run_id: match i.parent_run_id {
            Some(raw) => Some(RunId::parse(&raw).ok_or_else(|| corrupt("parent_run_id"))?),
            None => None,
        },
        notifications: i.notifications,
        version: i.version,
    })
}

fn from_items(
    items: Option<Vec<HashMap<String, AttributeValue>>>,
) -> Result<Vec<Run>, RepositoryError> {
    items
        .unwrap_or_default()
        .into_iter()
        .map(from_item)
        .collect()
}

impl DynamoRunRepository {
    /// After a failed condition on an update: gone, or newer.
    async fn explain(&self, tenant: &TenantId, id: &RunId) -> RepositoryError {
        condition_failure(self.get(tenant, id).await.map(|r| r.map(|r| r.version)))
    }
}

#[async_trait]
impl RunRepository for DynamoRunRepository {
    #[tracing::instrument(skip_all, fields(run_id = %run.id))]
    async fn create(&self, run: &Run) -> Result<Created<Run>, RepositoryError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(run)?))
            .condition_expression("attribute_not_exists(pk)")
            // The run that won comes back with the failure, saving a read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Created::New(run.clone())),
            Err(e) => e,
        };
        let stored = match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(c)) => c.item.clone(),
            _ => return Err(unavailable(error)),
        };
        let stored = match stored {
            Some(item) => from_item(item)?,
            // A store that does not return the item: read it.
            None => self.get(&run.tenant, &run.id).await?.ok_or_else(|| {
                RepositoryError::Unavailable("a run failed its create but cannot be read".into())
            })?,
        };
        Ok(Created::Existing(stored))
    }

    #[tracing::instrument(skip_all, fields(run_id = %id))]
    async fn get(&self, tenant: &TenantId, id: &RunId) -> Result<Option<Run>, RepositoryError> {
        get_item(&self.client, &self.table, run_key(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id, limit))]
    async fn list_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        limit: usize,
        before: Option<&RunId>,
    ) -> Result<RunPage, RepositoryError> {
        if limit == 0 {
            return Ok(RunPage {
                items: Vec::new(),
                next_after: None,
            });
        }
        // One extra item tells whether another page follows, so the last
        // page never carries a token that leads nowhere.
        let fetch = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_JOB_INDEX)
            .key_condition_expression("job_pk = :job_pk")
            .expression_attribute_values(":job_pk", AttributeValue::S(job_pk(tenant, job_id)))
            .scan_index_forward(false)
            .set_exclusive_start_key(before.map(|b| by_job_start_key(tenant, job_id, b)))
            .limit(fetch)
            .send()
            .await
            .map_err(unavailable)?;
        // Only the 1 MB cap of a response could cut a page short; then the
        // last item read is where the next page starts.
        let cut_short = out.last_evaluated_key.is_some();
        let mut items = from_items(out.items)?;
        let next_after = if items.len() > limit {
            items.truncate(limit);
            Some(items[limit - 1].id.clone())
        } else if cut_short {
            items.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(RunPage { items, next_after })
    }

    #[tracing::instrument(skip_all, fields(run_id = %run.id, expected_version))]
    async fn update(&self, run: &Run, expected_version: u64) -> Result<(), RepositoryError> {
        if put_if_version(&self.client, &self.table, to_item(run)?, expected_version).await? {
            Ok(())
        } else {
            Err(self.explain(&run.tenant, &run.id).await)
        }
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn list_active(&self, limit: usize) -> Result<Vec<Run>, RepositoryError> {
        let mut runs = Vec::new();
        let mut start = None;
        // Pages of the query until `limit` runs or the end of the index.
        while runs.len() < limit {
            let want = i32::try_from(limit - runs.len()).unwrap_or(i32::MAX);
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ACTIVE_INDEX)
                .key_condition_expression("active_pk = :active")
                .expression_attribute_values(":active", AttributeValue::S(ACTIVE_PK.to_owned()))
                .scan_index_forward(true)
                .set_exclusive_start_key(start)
                .limit(want)
                .send()
                .await
                .map_err(unavailable)?;
            runs.extend(from_items(out.items)?);
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        runs.truncate(limit);
        Ok(runs)
    }

    /// Reads the sparse `active` index (the runs the reconciler follows, a
    /// few by design) filtered to the job, newest first, rather than the
    /// job's whole history in `by_job`. Eventually consistent, like every
    /// GSI read: a run created a moment ago can be missed.
    #[tracing::instrument(skip_all, fields(job_id = %job_id))]
    async fn active_for_job(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Run>, RepositoryError> {
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ACTIVE_INDEX)
                .key_condition_expression("active_pk = :active")
                .filter_expression("job_pk = :job_pk")
                .expression_attribute_values(":active", AttributeValue::S(ACTIVE_PK.to_owned()))
                .expression_attribute_values(":job_pk", AttributeValue::S(job_pk(tenant, job_id)))
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            // The index also holds ended runs with follow-ups left.
            let found = from_items(out.items)?
                .into_iter()
                .find(|r| r.state.is_active());
            start = out.last_evaluated_key;
            if found.is_some() || start.is_none() {
                return Ok(found);
            }
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id, run_id = %run))]
    async fn claim_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
        stale: Option<&RunId>,
    ) -> Result<SlotClaim, RepositoryError> {
        let mut item = item_key(tenant, slot_sk(job_id));
        item.insert("entity".into(), AttributeValue::S("run_slot".into()));
        item.insert("holder".into(), AttributeValue::S(run.to_string()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR holder = :me OR holder = :stale")
            .expression_attribute_values(":me", AttributeValue::S(run.to_string()))
            .expression_attribute_values(
                ":stale",
                // No run id is empty, so this matches no holder.
                AttributeValue::S(stale.map(ToString::to_string).unwrap_or_default()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(SlotClaim::Claimed),
            Err(e) => e,
        };
        let holder = match error.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(c)) => c
                .item
                .as_ref()
                .and_then(|item| item.get("holder"))
                .and_then(|v| v.as_s().ok())
                .and_then(|raw| RunId::parse(raw)),
            _ => return Err(unavailable(error)),
        };
        match holder {
            Some(holder) => Ok(SlotClaim::HeldBy(holder)),
            // A store that does not return the item: read it.
            None => {
                let item =
                    get_item(&self.client, &self.table, item_key(tenant, slot_sk(job_id))).await?;
                let holder = item
                    .as_ref()
                    .and_then(|item| item.get("holder"))
                    .and_then(|v| v.as_s().ok())
                    .and_then(|raw| RunId::parse(raw));
                match holder {
                    Some(holder) => Ok(SlotClaim::HeldBy(holder)),
                    None => Err(RepositoryError::Unavailable(
                        "the run slot changed while it was claimed".into(),
                    )),
                }
            }
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id, run_id = %run))]
    async fn release_slot(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        run: &RunId,
    ) -> Result<(), RepositoryError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, slot_sk(job_id))))
            .condition_expression("holder = :me")
            .expression_attribute_values(":me", AttributeValue::S(run.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Someone else holds it (or nobody): nothing of ours to free.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sluice_domain::model::run::{NewRun, RunErrorCode};

    fn failed_run(error: RunError) -> Run {
        let job = JobId::parse("job_01J0000000000000000000000A").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let pending = Run::pending(
            NewRun {
                id: RunId::for_fire(&job, at),
                tenant: TenantId::parse("acme").unwrap(),
                job_id: job,
                trigger: TriggerKind::Schedule,
                scheduled_time: at,
                window: None,
                flink_target: FlinkTarget::DEFAULT_SESSION,
            },
            at,
        );
        pending.fail(error, at)
    }

    fn stored_error(item: &HashMap<String, AttributeValue>) -> &HashMap<String, AttributeValue> {
        item["error"].as_m().expect("the error is a map")
    }

    #[test]
    fn an_error_is_stored_as_its_code_message_and_flag() {
        let run = failed_run(RunError::new(
            RunErrorCode::KmsUnavailable,
            "KMS could not issue a data key",
        ));
        let item = to_item(&run).unwrap();
        let error = stored_error(&item);
        assert_eq!(error.len(), 3);
        assert_eq!(error["code"], AttributeValue::S("kms_unavailable".into()));
        assert_eq!(
            error["message"],
            AttributeValue::S("KMS could not issue a data key".into())
        );
        assert_eq!(error["retryable"], AttributeValue::Bool(true));
        assert_eq!(from_item(item).unwrap(), run);
    }

    #[test]
    fn an_item_with_a_code_this_version_does_not_know_still_loads() {
        let run = failed_run(RunError::new(RunErrorCode::FlinkRejected, "refused"));
        let mut item = to_item(&run).unwrap();
        let mut error = stored_error(&item).clone();
        error.insert("code".into(), AttributeValue::S("flink_failed".into()));
        error.insert("retryable".into(), AttributeValue::Bool(true));
        item.insert("error".into(), AttributeValue::M(error));
        let loaded = from_item(item.clone()).unwrap();
        let loaded_error = loaded.error.clone().unwrap();
        assert_eq!(
            loaded_error.code,
            RunErrorCode::Other("flink_failed".into())
        );
        assert!(loaded_error.retryable, "the stored flag is kept");
        assert_eq!(to_item(&loaded).unwrap()["error"], item["error"]);
    }
}

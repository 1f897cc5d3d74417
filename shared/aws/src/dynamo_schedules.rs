//! The DynamoDB repository of schedule records: one item per scheduled job,
//! `TENANT#<tenant>` / `SCHEDULE#<job id>`, beside the job (a job's edit
//! replaces the job item whole, so the schedule lives in its own item).
//! The EventBridge schedule is the delivery side; this record is what the
//! trigger reads (policies) and what the API shows.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::schedule::{DeliveryRetry, RunPolicy, Schedule};
use sluice_domain::ports::RepositoryError;
use sluice_domain::ports::ScheduleRepository;

use crate::dynamo::{condition_failure, get_item, item_key, put_if_version, unavailable};

#[derive(Clone)]
pub struct DynamoScheduleRepository {
    client: Client,
    table: String,
}

impl DynamoScheduleRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

pub(crate) fn schedule_sk(job: &JobId) -> String {
    format!("SCHEDULE#{job}")
}

fn job_key(tenant: &TenantId, job: &JobId) -> HashMap<String, AttributeValue> {
    item_key(tenant, format!("JOB#{job}"))
}

#[derive(Serialize, Deserialize)]
struct ScheduleItem {
    pk: String,
    sk: String,
    entity: String,
    tenant: String,
    job_id: JobId,
    expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    xxl_cron: Option<String>,
    timezone: String,
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flexible_window_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery_retry: Option<DeliveryRetry>,
    policy: RunPolicy,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn to_item(s: &Schedule) -> Result<HashMap<String, AttributeValue>, RepositoryError> {
    let key = item_key(&s.tenant, schedule_sk(&s.job_id));
    serde_dynamo::to_item(ScheduleItem {
        pk: key["pk"].as_s().expect("keys are strings").clone(),
        sk: schedule_sk(&s.job_id),
        entity: "schedule".into(),
        tenant: s.tenant.to_string(),
        job_id: s.job_id.clone(),
        expression: s.expression.clone(),
        xxl_cron: s.xxl_cron.clone(),
        timezone: s.timezone.clone(),
        enabled: s.enabled,
        start_at: s.start_at,
        end_at: s.end_at,
        flexible_window_minutes: s.flexible_window_minutes,
        delivery_retry: s.delivery_retry,
        policy: s.policy.clone(),
        version: s.version,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
    .map_err(unavailable)
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Schedule, RepositoryError> {
    let i: ScheduleItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    Ok(Schedule {
        tenant: TenantId::parse(&i.tenant)
            .map_err(|_| RepositoryError::Unavailable("stored schedule has a bad tenant".into()))?,
        job_id: i.job_id,
        expression: i.expression,
        xxl_cron: i.xxl_cron,
        timezone: i.timezone,
        enabled: i.enabled,
        start_at: i.start_at,
        end_at: i.end_at,
        flexible_window_minutes: i.flexible_window_minutes,
        delivery_retry: i.delivery_retry,
        policy: i.policy,
        version: i.version,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

impl DynamoScheduleRepository {
    async fn version(
        &self,
        tenant: &TenantId,
        job: &JobId,
    ) -> Result<Option<u64>, RepositoryError> {
        Ok(self.get(tenant, job).await?.map(|s| s.version))
    }
}

#[async_trait]
impl ScheduleRepository for DynamoScheduleRepository {
    #[tracing::instrument(skip_all, fields(job_id = %job_id))]
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Schedule>, RepositoryError> {
        get_item(
            &self.client,
            &self.table,
            item_key(tenant, schedule_sk(job_id)),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(job_id = %schedule.job_id, ?expected_version))]
    async fn put(
        &self,
        schedule: &Schedule,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        // A schedule only for a job that exists (the job's delete removes
        // the record in its transaction).
        if get_item(
            &self.client,
            &self.table,
            job_key(&schedule.tenant, &schedule.job_id),
        )
        .await?
        .is_none()
        {
            return Err(RepositoryError::MissingReference);
        }
        let item = to_item(schedule)?;
        let Some(expected) = expected_version else {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            return match result {
                Ok(_) => Ok(()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    Err(RepositoryError::AlreadyExists)
                }
                Err(e) => Err(unavailable(e)),
            };
        };
        if put_if_version(&self.client, &self.table, item, expected).await? {
            Ok(())
        } else {
            Err(condition_failure(
                self.version(&schedule.tenant, &schedule.job_id).await,
            ))
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id, ?expected_version))]
    async fn delete(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, schedule_sk(job_id))))
            .condition_expression("attribute_exists(pk)");
        if let Some(expected) = expected_version {
            request = request
                .condition_expression("attribute_exists(pk) AND version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()));
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(condition_failure(self.version(tenant, job_id).await))
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}

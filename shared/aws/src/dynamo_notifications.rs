//! The DynamoDB side of notifications, in the one table beside the job:
//!
//! | entity            | pk                | sk                   |
//! |-------------------|-------------------|----------------------|
//! | settings          | `TENANT#<tenant>` | `NOTIFY#<job id>`    |
//! | alert history     | `TENANT#<tenant>` | `ALERTS#<job id>`    |
//! | a run's claim     | `TENANT#<tenant>` | `NOTICE#<run id>`    |
//!
//! Settings and history go with the job (its delete removes them in its transaction); a claim
//! expires by TTL (`expires_at`) a week after it was made. Every write is conditional: settings
//! and history on `version`, a claim on being free (absent, or unsent and expired).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::notification::{AlertState, Notifications, Rule};
use sluice_domain::model::run::RunId;
use sluice_domain::ports::{AlertLedger, NoticeClaim, NotificationRepository, RepositoryError};

use crate::dynamo::{
    SealedItem, condition_failure, get_item, item_key, put_if_version, tenant_pk, unavailable,
};

/// How long a run's claim is kept (TTL) after it was made.
const CLAIM_RETENTION_DAYS: i64 = 7;

pub(crate) fn settings_sk(job: &JobId) -> String {
    format!("NOTIFY#{job}")
}

pub(crate) fn alert_state_sk(job: &JobId) -> String {
    format!("ALERTS#{job}")
}

fn claim_sk(run: &RunId) -> String {
    format!("NOTICE#{run}")
}

#[derive(Clone)]
pub struct DynamoNotificationRepository {
    client: Client,
    table: String,
}

impl DynamoNotificationRepository {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SettingsItem {
    pk: String,
    sk: String,
    entity: String,
    tenant: String,
    job_id: JobId,
    rules: Vec<Rule>,
    quiet_period_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signing_secret: Option<SealedItem>,
    version: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn to_item(s: &Notifications) -> Result<HashMap<String, AttributeValue>, RepositoryError> {
    serde_dynamo::to_item(SettingsItem {
        pk: tenant_pk(&s.tenant),
        sk: settings_sk(&s.job_id),
        entity: "notifications".into(),
        tenant: s.tenant.to_string(),
        job_id: s.job_id.clone(),
        rules: s.rules.clone(),
        quiet_period_seconds: s.quiet_period_seconds,
        signing_secret: s.signing_secret.as_ref().map(SealedItem::from),
        version: s.version,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
    .map_err(unavailable)
}

fn from_item(item: HashMap<String, AttributeValue>) -> Result<Notifications, RepositoryError> {
    let i: SettingsItem = serde_dynamo::from_item(item).map_err(unavailable)?;
    Ok(Notifications {
        tenant: TenantId::parse(&i.tenant).map_err(|_| {
            RepositoryError::Unavailable("stored notifications have a bad tenant".into())
        })?,
        job_id: i.job_id,
        rules: i.rules,
        quiet_period_seconds: i.quiet_period_seconds,
        signing_secret: i.signing_secret.map(Into::into),
        version: i.version,
        created_at: i.created_at,
        updated_at: i.updated_at,
    })
}

#[async_trait]
impl NotificationRepository for DynamoNotificationRepository {
    #[tracing::instrument(skip_all, fields(job_id = %job_id))]
    async fn get(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<Option<Notifications>, RepositoryError> {
        get_item(
            &self.client,
            &self.table,
            item_key(tenant, settings_sk(job_id)),
        )
        .await?
        .map(from_item)
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(job_id = %settings.job_id, ?expected_version))]
    async fn put(
        &self,
        settings: &Notifications,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let job = item_key(&settings.tenant, format!("JOB#{}", settings.job_id));
        if get_item(&self.client, &self.table, job).await?.is_none() {
            return Err(RepositoryError::MissingReference);
        }
        let item = to_item(settings)?;
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
            let current = self
                .get(&settings.tenant, &settings.job_id)
                .await
                .map(|s| s.map(|s| s.version));
            Err(condition_failure(current))
        }
    }
}

/// Claims of runs' notices and jobs' alert histories.
#[derive(Clone)]
pub struct DynamoAlertLedger {
    client: Client,
    table: String,
}

impl DynamoAlertLedger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct AlertStateItem {
    pk: String,
    sk: String,
    entity: String,
    failing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_failure_alert_at: Option<DateTime<Utc>>,
    suppressed: u32,
    version: u64,
}

#[async_trait]
impl AlertLedger for DynamoAlertLedger {
    #[tracing::instrument(skip_all, fields(run_id = %run))]
    async fn claim(
        &self,
        tenant: &TenantId,
        run: &RunId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<NoticeClaim, RepositoryError> {
        let mut item = item_key(tenant, claim_sk(run));
        item.insert("entity".into(), AttributeValue::S("notice_claim".into()));
        item.insert(
            "claimed_until".into(),
            AttributeValue::N(until.timestamp_millis().to_string()),
        );
        item.insert("sent".into(), AttributeValue::Bool(false));
        item.insert(
            "expires_at".into(),
            AttributeValue::N(
                (now + chrono::Duration::days(CLAIM_RETENTION_DAYS))
                    .timestamp()
                    .to_string(),
            ),
        );
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (sent = :false AND claimed_until < :now)",
            )
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(NoticeClaim::Claimed),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(NoticeClaim::Taken)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(run_id = %run))]
    async fn complete(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, claim_sk(run))))
            .update_expression("SET sent = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(run_id = %run))]
    async fn release(&self, tenant: &TenantId, run: &RunId) -> Result<(), RepositoryError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, claim_sk(run))))
            .condition_expression("sent = :false")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id))]
    async fn state(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
    ) -> Result<AlertState, RepositoryError> {
        let Some(item) = get_item(
            &self.client,
            &self.table,
            item_key(tenant, alert_state_sk(job_id)),
        )
        .await?
        else {
            return Ok(AlertState::default());
        };
        let i: AlertStateItem = serde_dynamo::from_item(item).map_err(unavailable)?;
        Ok(AlertState {
            failing: i.failing,
            last_failure_alert_at: i.last_failure_alert_at,
            suppressed: i.suppressed,
            version: i.version,
        })
    }

    #[tracing::instrument(skip_all, fields(job_id = %job_id, version = state.version))]
    async fn save_state(
        &self,
        tenant: &TenantId,
        job_id: &JobId,
        state: &AlertState,
    ) -> Result<(), RepositoryError> {
        let item = serde_dynamo::to_item(AlertStateItem {
            pk: tenant_pk(tenant),
            sk: alert_state_sk(job_id),
            entity: "alert_state".into(),
            failing: state.failing,
            last_failure_alert_at: state.last_failure_alert_at,
            suppressed: state.suppressed,
            version: state.version,
        })
        .map_err(unavailable)?;
        let expected = state.version.saturating_sub(1);
        let written = if expected == 0 {
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            match result {
                Ok(_) => true,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    false
                }
                Err(e) => return Err(unavailable(e)),
            }
        } else {
            put_if_version(&self.client, &self.table, item, expected).await?
        };
        if written {
            return Ok(());
        }
        let current = self.state(tenant, job_id).await?.version;
        Err(RepositoryError::VersionMismatch { current })
    }
}

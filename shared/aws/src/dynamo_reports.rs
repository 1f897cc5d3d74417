//! The run report's counters in DynamoDB: one item per tenant and hour, per tenant and day, and
//! the same per job, each grown by an atomic `ADD` when a run ends (never a scan of the runs).
//!
//! | item                 | pk                | sk                                    |
//! |----------------------|-------------------|---------------------------------------|
//! | tenant, hour         | `TENANT#<tenant>` | `REPORT#ALL#H#2026-12-05T13`          |
//! | tenant, day          | `TENANT#<tenant>` | `REPORT#ALL#D#2026-12-05`             |
//! | job, hour / day      | `TENANT#<tenant>` | `REPORT#JOB#<job id>#H#…` / `#D#…`    |
//!
//! Attributes: `runs_<state>` and `rows_written` (numbers), `d<i>` (runs in duration bucket `i`,
//! see `sluice_domain::model::report`), `bucket_start` (epoch seconds). A report is one `Query`
//! between two sort keys of one prefix.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;
use sluice_domain::TenantId;
use sluice_domain::model::job::JobId;
use sluice_domain::model::report::{
    Counters, FINAL_STATES, Granularity, ReportQuery, RunEnd, duration_bucket,
};
use sluice_domain::ports::{RepositoryError, RunReports};

use crate::dynamo::{item_key, tenant_pk, unavailable};

#[derive(Clone)]
pub struct DynamoRunReports {
    client: Client,
    table: String,
}

impl DynamoRunReports {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn prefix(job: Option<&JobId>, granularity: Granularity) -> String {
    let scope = job.map_or_else(|| "ALL".to_owned(), |j| format!("JOB#{j}"));
    let unit = match granularity {
        Granularity::Hour => "H",
        Granularity::Day => "D",
    };
    format!("REPORT#{scope}#{unit}#")
}

fn bucket_label(granularity: Granularity, start: DateTime<Utc>) -> String {
    match granularity {
        Granularity::Hour => start.format("%Y-%m-%dT%H").to_string(),
        Granularity::Day => start.format("%Y-%m-%d").to_string(),
    }
}

fn sort_key(job: Option<&JobId>, granularity: Granularity, start: DateTime<Utc>) -> String {
    format!(
        "{}{}",
        prefix(job, granularity),
        bucket_label(granularity, start)
    )
}

fn number(n: impl ToString) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

impl DynamoRunReports {
    /// Adds one run's end to one bucket item (created by the first `ADD`).
    async fn add(
        &self,
        tenant: &TenantId,
        job: Option<&JobId>,
        granularity: Granularity,
        start: DateTime<Utc>,
        end: &RunEnd,
    ) -> Result<(), RepositoryError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item_key(tenant, sort_key(job, granularity, start))))
            .update_expression(
                "ADD #runs :one, rows_written :rows, #duration :one \
                 SET bucket_start = if_not_exists(bucket_start, :start)",
            )
            .expression_attribute_names("#runs", format!("runs_{}", end.state.as_str()))
            .expression_attribute_names("#duration", format!("d{}", duration_bucket(end.duration)))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":rows", number(end.rows_written.unwrap_or(0)))
            .expression_attribute_values(":start", number(start.timestamp()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl RunReports for DynamoRunReports {
    async fn record(&self, end: &RunEnd) -> Result<(), RepositoryError> {
        try_join_all(
            end.buckets()
                .into_iter()
                .map(|(job, g, start)| self.add(&end.tenant, job, g, start, end)),
        )
        .await?;
        Ok(())
    }

    async fn counters(
        &self,
        query: &ReportQuery,
    ) -> Result<BTreeMap<DateTime<Utc>, Counters>, RepositoryError> {
        let job = query.job_id.as_ref();
        let last = query.to - query.granularity.step();
        let mut out = BTreeMap::new();
        let mut start_key = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
                .expression_attribute_values(":pk", AttributeValue::S(tenant_pk(&query.tenant)))
                .expression_attribute_values(
                    ":first",
                    AttributeValue::S(sort_key(job, query.granularity, query.from)),
                )
                .expression_attribute_values(
                    ":last",
                    AttributeValue::S(sort_key(job, query.granularity, last)),
                )
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                let (start, counters) = parse(&item)?;
                out.insert(start, counters);
            }
            start_key = page.last_evaluated_key;
            if start_key.is_none() {
                return Ok(out);
            }
        }
    }
}

fn parse(
    item: &HashMap<String, AttributeValue>,
) -> Result<(DateTime<Utc>, Counters), RepositoryError> {
    let corrupt = || RepositoryError::Unavailable("stored report item is malformed".into());
    let n = |name: &str| -> Result<u64, RepositoryError> {
        match item.get(name) {
            None => Ok(0),
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| corrupt()),
            Some(_) => Err(corrupt()),
        }
    };
    let start = match item.get("bucket_start") {
        Some(AttributeValue::N(v)) => v
            .parse::<i64>()
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(corrupt)?,
        _ => return Err(corrupt()),
    };
    let mut counters = Counters {
        rows_written: n("rows_written")?,
        ..Counters::default()
    };
    for state in FINAL_STATES {
        let runs = n(&format!("runs_{}", state.as_str()))?;
        if runs > 0 {
            counters.runs.insert(state, runs);
        }
    }
    for (name, _) in item.iter().filter(|(k, _)| k.starts_with('d')) {
        if let Ok(index) = name[1..].parse::<u16>() {
            counters.durations.insert(index, n(name)?);
        }
    }
    Ok((start, counters))
}

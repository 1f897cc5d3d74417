//! Run metrics in CloudWatch's embedded metric format (EMF): one JSON line on stdout per measured
//! change, which CloudWatch Logs turns into metrics. No `cloudwatch:PutMetricData` call, no
//! latency on the run's path.
//!
//! - a final change: `Runs` (1), `RowsWritten` and `Duration` (ms, from the fire to the end),
//!   dimension `State`;
//! - the change to `running`: `StartLag` (ms, from the scheduled time to Flink starting the job),
//!   no dimension.
//!
//! `State` is the only dimension (9 values at most), so the metrics do not multiply with tenants
//! or jobs; those stay in the line as properties, searchable in Logs Insights.

use std::io::Write;

use serde_json::{Value, json};
use sluice_domain::model::report::RunEnd;
use sluice_domain::model::run::{RunState, RunStateChange};
use sluice_domain::ports::RunMetrics;

/// The namespace when `SLUICE_METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "sluice";

/// [`RunMetrics`] written to stdout in EMF.
#[derive(Debug, Clone)]
pub struct EmfRunMetrics {
    namespace: String,
}

impl EmfRunMetrics {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
        }
    }

    /// From `SLUICE_METRICS_NAMESPACE` (the template sets `sluice/<stack>`).
    pub fn from_env() -> Self {
        Self::new(
            std::env::var("SLUICE_METRICS_NAMESPACE")
                .ok()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned()),
        )
    }

    /// The EMF document of a change, if it measures anything.
    pub fn document(&self, change: &RunStateChange) -> Option<Value> {
        let timestamp = change.time.timestamp_millis();
        let common = json!({
            "tenant": change.tenant.as_str(),
            "job_id": change.job_id.as_str(),
            "run_id": change.run_id.as_str(),
        });
        let (directive, values) = if let Some(end) = RunEnd::of(change) {
            (
                json!({"Namespace": self.namespace, "Dimensions": [["State"]], "Metrics": [
                    {"Name": "Runs", "Unit": "Count"},
                    {"Name": "RowsWritten", "Unit": "Count"},
                    {"Name": "Duration", "Unit": "Milliseconds"},
                ]}),
                json!({
                    "State": end.state.as_str(),
                    "Runs": 1,
                    "RowsWritten": end.rows_written.unwrap_or(0),
                    "Duration": end.duration.num_milliseconds(),
                }),
            )
        } else if change.state == RunState::Running {
            let lag = (change.time - change.scheduled_time)
                .num_milliseconds()
                .max(0);
            (
                json!({"Namespace": self.namespace, "Dimensions": [[]], "Metrics": [
                    {"Name": "StartLag", "Unit": "Milliseconds"},
                ]}),
                json!({"StartLag": lag}),
            )
        } else {
            return None;
        };
        let mut document = json!({
            "_aws": {"Timestamp": timestamp, "CloudWatchMetrics": [directive]},
        });
        let object = document.as_object_mut()?;
        for source in [common, values] {
            if let Value::Object(fields) = source {
                object.extend(fields);
            }
        }
        Some(document)
    }
}

impl RunMetrics for EmfRunMetrics {
    fn observe(&self, change: &RunStateChange) {
        if let Some(document) = self.document(change) {
            // One line, written whole: CloudWatch reads each log event as one document.
            let line = format!("{document}\n");
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use sluice_domain::TenantId;
    use sluice_domain::model::job::JobId;
    use sluice_domain::model::run::{RunId, TriggerKind};

    use super::*;

    fn change(state: RunState, is_final: bool) -> RunStateChange {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        let job_id = JobId::generate();
        RunStateChange {
            tenant: TenantId::parse("acme").unwrap(),
            run_id: RunId::for_fire(&job_id, at),
            job_id,
            previous_state: Some(RunState::Running),
            state,
            trigger: TriggerKind::Schedule,
            scheduled_time: at,
            flink_job_id: None,
            rows_read: Some(10),
            rows_written: Some(9),
            tables: Vec::new(),
            error: None,
            attempt: 1,
            version: 4,
            time: at + Duration::milliseconds(61_500),
            created_at: at + Duration::milliseconds(1_500),
            is_final,
        }
    }

    #[test]
    fn a_final_change_is_one_run_its_rows_and_its_duration_by_state() {
        let emf = EmfRunMetrics::new("sluice/test");
        let doc = emf.document(&change(RunState::Succeeded, true)).unwrap();
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "sluice/test");
        assert_eq!(directive["Dimensions"], json!([["State"]]));
        assert_eq!(doc["_aws"]["Timestamp"], 1_772_352_061_500_i64);
        // Every metric and dimension named in the directive is a member of the document.
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(doc[metric["Name"].as_str().unwrap()].is_number(), "{doc}");
        }
        assert_eq!(
            (
                &doc["State"],
                &doc["Runs"],
                &doc["RowsWritten"],
                &doc["Duration"]
            ),
            (&json!("succeeded"), &json!(1), &json!(9), &json!(60_000))
        );
    }

    #[test]
    fn running_measures_the_start_lag_and_other_changes_nothing() {
        let emf = EmfRunMetrics::new("sluice/test");
        let doc = emf.document(&change(RunState::Running, false)).unwrap();
        assert_eq!(doc["StartLag"], 61_500);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert!(emf.document(&change(RunState::Submitting, false)).is_none());
        // A failed attempt that will be retried is not a final state yet.
        assert!(emf.document(&change(RunState::Failed, false)).is_none());
    }
}

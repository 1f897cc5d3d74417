//! What happens to each published state change of a run besides the event itself: the metrics
//! see it, and a final one is added to the run report's counters.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::report::RunEnd;
use crate::model::run::RunStateChange;
use crate::ports::{BoxError, RunEvents, RunMetrics, RunReports};

/// The [`RunEvents`] the services are given in a deployment: metrics first (a log line), then
/// the report's counters for a final change, then the subscribers. The counters and the event
/// are each tried once per change (the services publish a change once, after the write that
/// made it); a counter that could not be written is logged and the event still goes out.
pub struct RunOutcomes {
    events: Arc<dyn RunEvents>,
    reports: Arc<dyn RunReports>,
    metrics: Arc<dyn RunMetrics>,
}

impl RunOutcomes {
    pub fn new(
        events: Arc<dyn RunEvents>,
        reports: Arc<dyn RunReports>,
        metrics: Arc<dyn RunMetrics>,
    ) -> Self {
        Self {
            events,
            reports,
            metrics,
        }
    }
}

#[async_trait]
impl RunEvents for RunOutcomes {
    async fn publish(&self, change: &RunStateChange) -> Result<(), BoxError> {
        self.metrics.observe(change);
        if let Some(end) = RunEnd::of(change)
            && let Err(e) = self.reports.record(&end).await
        {
            tracing::warn!(
                error = %e,
                run_id = %change.run_id,
                state = change.state.as_str(),
                "could not add the run's end to the report"
            );
        }
        self.events.publish(change).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::TenantId;
    use crate::fakes::{MemoryRunReports, RecordingRunEvents, RecordingRunMetrics};
    use crate::model::job::{FlinkTarget, JobId};
    use crate::model::report::{Granularity, ReportQuery};
    use crate::model::run::{NewRun, Run, RunId, RunState, TriggerKind};

    fn run(state: RunState, retry_left: bool) -> Run {
        let created = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
        let job = JobId::generate();
        let mut run = Run::pending(
            NewRun {
                id: RunId::for_fire(&job, created),
                tenant: TenantId::parse("acme").unwrap(),
                job_id: job,
                trigger: TriggerKind::Schedule,
                scheduled_time: created,
                window: None,
                flink_target: FlinkTarget::DEFAULT_SESSION,
            },
            created,
        );
        run.state = state;
        run.rows_written = Some(42);
        run.updated_at = created + Duration::seconds(90);
        run.next_attempt_at = retry_left.then(|| created + Duration::minutes(5));
        run
    }

    #[tokio::test]
    async fn only_final_changes_are_counted_and_every_change_is_published() {
        let events = Arc::new(RecordingRunEvents::default());
        let reports = Arc::new(MemoryRunReports::default());
        let metrics = Arc::new(RecordingRunMetrics::default());
        let outcomes = RunOutcomes::new(events.clone(), reports.clone(), metrics.clone());

        let retried = run(RunState::Failed, true);
        let failed = run(RunState::Failed, false);
        let running = run(RunState::Running, false);
        for (previous, run) in [
            (RunState::Running, &retried),
            (RunState::Running, &failed),
            (RunState::Submitting, &running),
        ] {
            let change = RunStateChange::between(Some(previous), run).unwrap();
            outcomes.publish(&change).await.unwrap();
        }
        assert_eq!(events.changes().len(), 3);
        assert_eq!(metrics.observed().len(), 3);
        assert_eq!(
            events
                .changes()
                .iter()
                .map(|c| c.is_final)
                .collect::<Vec<_>>(),
            [false, true, false]
        );

        let day = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        for run in [&retried, &failed] {
            let counted = reports
                .counters(&ReportQuery {
                    tenant: run.tenant.clone(),
                    job_id: Some(run.job_id.clone()),
                    granularity: Granularity::Day,
                    from: day,
                    to: day + Duration::days(1),
                })
                .await
                .unwrap();
            let runs: u64 = counted.values().flat_map(|c| c.runs.values()).sum();
            let expected = u64::from(run.id == failed.id);
            assert_eq!(runs, expected, "{:?}", run.next_attempt_at);
        }
    }

    #[tokio::test]
    async fn a_failing_report_store_neither_stops_the_event_nor_fails_the_publish() {
        struct Down;
        #[async_trait]
        impl RunReports for Down {
            async fn record(&self, _: &RunEnd) -> Result<(), crate::ports::RepositoryError> {
                Err(crate::ports::RepositoryError::Unavailable("down".into()))
            }
            async fn counters(
                &self,
                _: &ReportQuery,
            ) -> Result<
                std::collections::BTreeMap<chrono::DateTime<Utc>, crate::model::report::Counters>,
                crate::ports::RepositoryError,
            > {
                unreachable!()
            }
        }
        let events = Arc::new(RecordingRunEvents::default());
        let outcomes = RunOutcomes::new(
            events.clone(),
            Arc::new(Down),
            Arc::new(RecordingRunMetrics::default()),
        );
        let change =
            RunStateChange::between(Some(RunState::Running), &run(RunState::Succeeded, false))
                .unwrap();
        outcomes.publish(&change).await.unwrap();
        assert_eq!(events.changes(), [change]);
    }
}

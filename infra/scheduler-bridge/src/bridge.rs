//! The tick: which schedules exist, which of their fires are due.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::BoxError;
use crate::fires::{Fire, MAX_FIRES_PER_TICK, ScheduleDetails, due_fires, first_bound};
use crate::input::format_time;

/// A schedule as ListSchedules names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSummary {
    pub arn: String,
    pub group: String,
    pub name: String,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// Where the schedules are stored (moto's EventBridge Scheduler).
#[async_trait]
pub trait ScheduleSource: Send + Sync {
    /// Every schedule of every group the bridge serves.
    async fn list(&self) -> Result<Vec<ScheduleSummary>, BoxError>;
    async fn get(&self, group: &str, name: &str) -> Result<ScheduleDetails, BoxError>;
}

struct Tracked {
    created: DateTime<Utc>,
    /// The modification the details were read at.
    modified: Option<DateTime<Utc>>,
    details: Option<Arc<ScheduleDetails>>,
    /// Whether these details' fault was logged already.
    warned: bool,
    /// Fires up to here (inclusive) were handled.
    fired_until: DateTime<Utc>,
}

/// The schedules seen so far and how far each has been fired.
pub struct Bridge {
    source: Arc<dyn ScheduleSource>,
    started: DateTime<Utc>,
    tracked: HashMap<String, Tracked>,
}

impl Bridge {
    /// Fires before `started` are never delivered.
    pub fn new(source: Arc<dyn ScheduleSource>, started: DateTime<Utc>) -> Self {
        Self {
            source,
            started,
            tracked: HashMap::new(),
        }
    }

    /// The fires due since the previous tick, up to `now`. A schedule that
    /// could not be read is not advanced, so its fires come on a later tick;
    /// if the listing fails nothing is advanced.
    pub async fn tick(&mut self, now: DateTime<Utc>) -> Vec<Fire> {
        let summaries = match self.source.list().await {
            Ok(summaries) => summaries,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the schedules; trying again next tick");
                return Vec::new();
            }
        };
        let mut fires = Vec::new();
        let mut present = HashSet::new();
        for summary in summaries {
            present.insert(summary.arn.clone());
            let started = self.started;
            let tracked = self
                .tracked
                .entry(summary.arn.clone())
                .or_insert_with(|| Tracked {
                    created: summary.created,
                    modified: None,
                    details: None,
                    warned: false,
                    fired_until: first_bound(summary.created, started),
                });
            if tracked.created != summary.created {
                // Deleted and made again under the same name.
                *tracked = Tracked {
                    created: summary.created,
                    modified: None,
                    details: None,
                    warned: false,
                    fired_until: first_bound(summary.created, started),
                };
            }
            if tracked.modified != Some(summary.modified) || tracked.details.is_none() {
                match self.source.get(&summary.group, &summary.name).await {
                    Ok(details) => {
                        tracing::info!(
                            schedule_arn = %details.arn,
                            expression = %details.expression,
                            timezone = %details.timezone,
                            enabled = details.enabled,
                            "schedule read"
                        );
                        tracked.details = Some(Arc::new(details));
                        tracked.warned = false;
                        tracked.modified = Some(summary.modified);
                    }
                    Err(e) => {
                        tracing::warn!(schedule_arn = %summary.arn, error = %e, "could not read the schedule");
                        continue;
                    }
                }
            }
            let details = tracked.details.clone().expect("read above");
            match due_fires(&details, tracked.fired_until, now) {
                Ok(due) => {
                    if due.len() == MAX_FIRES_PER_TICK {
                        tracing::warn!(
                            schedule_arn = %details.arn,
                            "more than {MAX_FIRES_PER_TICK} fires due at once; the rest are skipped"
                        );
                    }
                    for scheduled_time in due {
                        tracing::info!(
                            schedule_arn = %details.arn,
                            scheduled_time = %format_time(scheduled_time),
                            "fire due"
                        );
                        fires.push(Fire {
                            schedule: details.clone(),
                            scheduled_time,
                        });
                    }
                }
                Err(e) => {
                    // Once per version of the schedule.
                    if !tracked.warned {
                        tracing::warn!(schedule_arn = %details.arn, error = %e, "the schedule cannot fire");
                        tracked.warned = true;
                    }
                }
            }
            tracked.fired_until = now;
        }
        self.tracked.retain(|arn, _| present.contains(arn));
        fires
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Duration;

    use super::*;
    use crate::fires::TargetDetails;
    use crate::retry::RetryLimits;

    #[derive(Default)]
    struct FakeSource {
        schedules: Mutex<Vec<(ScheduleSummary, ScheduleDetails)>>,
        list_fails: Mutex<bool>,
        get_fails: Mutex<bool>,
        gets: Mutex<u32>,
    }

    #[async_trait]
    impl ScheduleSource for FakeSource {
        async fn list(&self) -> Result<Vec<ScheduleSummary>, BoxError> {
            if *self.list_fails.lock().unwrap() {
                return Err("moto is down".into());
            }
            Ok(self
                .schedules
                .lock()
                .unwrap()
                .iter()
                .map(|(s, _)| s.clone())
                .collect())
        }

        async fn get(&self, group: &str, name: &str) -> Result<ScheduleDetails, BoxError> {
            *self.gets.lock().unwrap() += 1;
            if *self.get_fails.lock().unwrap() {
                return Err("throttled".into());
            }
            self.schedules
                .lock()
                .unwrap()
                .iter()
                .find(|(s, _)| s.group == group && s.name == name)
                .map(|(_, d)| d.clone())
                .ok_or_else(|| "not found".into())
        }
    }

    impl FakeSource {
        fn put(
            &self,
            name: &str,
            expression: &str,
            created: DateTime<Utc>,
            modified: DateTime<Utc>,
            enabled: bool,
        ) {
            let arn = format!("arn:aws:scheduler:us-east-1:123456789012:schedule/g/{name}");
            let summary = ScheduleSummary {
                arn: arn.clone(),
                group: "g".into(),
                name: name.into(),
                created,
                modified,
            };
            let details = ScheduleDetails {
                arn,
                expression: expression.into(),
                timezone: "UTC".into(),
                enabled,
                start: None,
                end: None,
                created,
                flexible_window_minutes: None,
                target: TargetDetails {
                    arn: "arn:aws:lambda:us-east-1:123456789012:function:trigger".into(),
                    input: None,
                    retry: RetryLimits::default(),
                    dead_letter_arn: None,
                },
            };
            let mut all = self.schedules.lock().unwrap();
            all.retain(|(s, _)| s.name != name);
            all.push((summary, details));
        }

        fn remove(&self, name: &str) {
            self.schedules
                .lock()
                .unwrap()
                .retain(|(s, _)| s.name != name);
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn times(fires: &[Fire]) -> Vec<String> {
        fires
            .iter()
            .map(|f| format_time(f.scheduled_time))
            .collect()
    }

    #[tokio::test]
    async fn the_past_is_never_fired_in_bulk() {
        let source = Arc::new(FakeSource::default());
        // Made long before the bridge started: every minute since is past.
        source.put(
            "old",
            "cron(* * * * ? *)",
            at("2026-01-01T00:00:00Z"),
            at("2026-01-01T00:00:00Z"),
            true,
        );
        let mut bridge = Bridge::new(source.clone(), at("2026-05-01T10:00:30Z"));
        assert!(bridge.tick(at("2026-05-01T10:00:31Z")).await.is_empty());
        assert_eq!(
            times(&bridge.tick(at("2026-05-01T10:01:00Z")).await),
            ["2026-05-01T10:01:00Z"]
        );
        assert!(bridge.tick(at("2026-05-01T10:01:01Z")).await.is_empty());
    }

    #[tokio::test]
    async fn a_new_rate_schedule_fires_at_creation() {
        let source = Arc::new(FakeSource::default());
        let mut bridge = Bridge::new(source.clone(), at("2026-05-01T10:00:00Z"));
        assert!(bridge.tick(at("2026-05-01T10:00:05Z")).await.is_empty());
        source.put(
            "new",
            "rate(1 minute)",
            at("2026-05-01T10:00:05.5Z"),
            at("2026-05-01T10:00:05.5Z"),
            true,
        );
        let fires = bridge.tick(at("2026-05-01T10:00:06Z")).await;
        assert_eq!(times(&fires), ["2026-05-01T10:00:05Z"]);
        assert!(bridge.tick(at("2026-05-01T10:00:07Z")).await.is_empty());
        let fires = bridge.tick(at("2026-05-01T10:01:06Z")).await;
        assert_eq!(times(&fires), ["2026-05-01T10:01:05Z"]);
    }

    #[tokio::test]
    async fn a_disabled_schedule_skips_its_fires_for_good() {
        let source = Arc::new(FakeSource::default());
        let t0 = at("2026-05-01T10:00:00Z");
        source.put("s", "cron(* * * * ? *)", t0, t0, false);
        let mut bridge = Bridge::new(source.clone(), t0);
        assert!(bridge.tick(at("2026-05-01T10:05:00Z")).await.is_empty());
        // Enabled again: only fires from now on.
        source.put(
            "s",
            "cron(* * * * ? *)",
            t0,
            at("2026-05-01T10:05:10Z"),
            true,
        );
        assert!(bridge.tick(at("2026-05-01T10:05:30Z")).await.is_empty());
        assert_eq!(
            times(&bridge.tick(at("2026-05-01T10:06:00Z")).await),
            ["2026-05-01T10:06:00Z"]
        );
    }

    #[tokio::test]
    async fn failures_to_read_delay_fires_without_losing_them() {
        let source = Arc::new(FakeSource::default());
        let t0 = at("2026-05-01T10:00:00Z");
        source.put("s", "cron(* * * * ? *)", t0, t0, true);
        let mut bridge = Bridge::new(source.clone(), t0);
        *source.list_fails.lock().unwrap() = true;
        assert!(bridge.tick(at("2026-05-01T10:01:00Z")).await.is_empty());
        *source.list_fails.lock().unwrap() = false;
        *source.get_fails.lock().unwrap() = true;
        assert!(bridge.tick(at("2026-05-01T10:01:01Z")).await.is_empty());
        *source.get_fails.lock().unwrap() = false;
        assert_eq!(
            times(&bridge.tick(at("2026-05-01T10:01:02Z")).await),
            ["2026-05-01T10:01:00Z"]
        );
    }

    #[tokio::test]
    async fn schedules_are_read_again_only_when_modified() {
        let source = Arc::new(FakeSource::default());
        let t0 = at("2026-05-01T10:00:00Z");
        source.put("s", "rate(1 hour)", t0, t0, true);
        let mut bridge = Bridge::new(source.clone(), t0);
        for s in 1..=5 {
            bridge.tick(t0 + Duration::seconds(s)).await;
        }
        assert_eq!(*source.gets.lock().unwrap(), 1);
        source.put("s", "rate(2 hours)", t0, t0 + Duration::seconds(6), true);
        bridge.tick(t0 + Duration::seconds(7)).await;
        assert_eq!(*source.gets.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_deleted_and_recreated_schedule_starts_afresh() {
        let source = Arc::new(FakeSource::default());
        let t0 = at("2026-05-01T10:00:00Z");
        source.put(
            "s",
            "rate(1 hour)",
            t0 + Duration::seconds(1),
            t0 + Duration::seconds(1),
            true,
        );
        let mut bridge = Bridge::new(source.clone(), t0);
        assert_eq!(bridge.tick(t0 + Duration::seconds(2)).await.len(), 1);
        source.remove("s");
        assert!(bridge.tick(t0 + Duration::seconds(3)).await.is_empty());
        assert!(bridge.tracked.is_empty());
        let again = t0 + Duration::seconds(4);
        source.put("s", "rate(1 hour)", again, again, true);
        assert_eq!(
            times(&bridge.tick(t0 + Duration::seconds(5)).await),
            ["2026-05-01T10:00:04Z"]
        );
    }
}

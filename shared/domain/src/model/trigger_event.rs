//! The event that hands a fire to the trigger function (ARCHITECTURE.md §4).
//! Every producer builds it from this one type: the scheduler adapter (the
//! schedule's Input), the jobs API (manual and backfill runs), the
//! reconciler (next attempts, child jobs). It carries ids only, never a
//! secret or SQL.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::TenantId;
use crate::model::job::{JobId, Window};
use crate::model::run::{Run, RunId, TriggerKind};

/// One delivery to the trigger, tagged by `kind`. EventBridge Scheduler's
/// Input has no `kind`: [`TriggerEvent::parse`] reads it as `schedule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerEvent {
    /// A fire of the job's schedule (EventBridge substitutes the
    /// placeholders of [`TriggerEvent::scheduler_input`]).
    Schedule {
        tenant: TenantId,
        job_id: JobId,
        scheduled_time: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schedule_arn: Option<String>,
        /// EventBridge's delivery attempt, 1 for the first; it sends it as
        /// a string.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "attempt_number"
        )]
        attempt: Option<u32>,
    },
    /// A run the jobs API recorded (manual, or backfill with a window).
    Manual {
        tenant: TenantId,
        job_id: JobId,
        run_id: RunId,
        scheduled_time: DateTime<Utc>,
        #[serde(default = "manual")]
        trigger: TriggerKind,
        #[serde(default)]
        window: Option<Window>,
    },
    /// The next attempt of a failed run, after its backoff (reconciler).
    Retry {
        tenant: TenantId,
        job_id: JobId,
        run_id: RunId,
        scheduled_time: DateTime<Utc>,
    },
    /// The run of a child job after its parent succeeded (reconciler).
    Parent {
        tenant: TenantId,
        job_id: JobId,
        run_id: RunId,
        parent_run_id: RunId,
        scheduled_time: DateTime<Utc>,
    },
}

impl TriggerEvent {
    /// Reads a delivery: an event without `kind` is a schedule fire.
    pub fn parse(payload: serde_json::Value) -> Result<Self, serde_json::Error> {
        let payload = match payload {
            serde_json::Value::Object(mut fields) if !fields.contains_key("kind") => {
                fields.insert("kind".into(), "schedule".into());
                serde_json::Value::Object(fields)
            }
            other => other,
        };
        serde_json::from_value(payload)
    }

    /// The Input an EventBridge schedule of the job stores: the `schedule`
    /// variant's fields, without `kind` (as schedules were always stored),
    /// the time, ARN and attempt as EventBridge's placeholders.
    pub fn scheduler_input(tenant: &TenantId, job_id: &JobId) -> String {
        #[derive(Serialize)]
        struct Input<'a> {
            tenant: &'a TenantId,
            job_id: &'a JobId,
            scheduled_time: &'static str,
            schedule_arn: &'static str,
            attempt: &'static str,
        }
        serde_json::to_string(&Input {
            tenant,
            job_id,
            scheduled_time: "<aws.scheduler.scheduled-time>",
            schedule_arn: "<aws.scheduler.schedule-arn>",
            attempt: "<aws.scheduler.attempt-number>",
        })
        .expect("strings serialize")
    }

    /// The hand-over of a run the jobs API recorded (manual or backfill).
    pub fn manual(run: &Run) -> Self {
        Self::Manual {
            tenant: run.tenant.clone(),
            job_id: run.job_id.clone(),
            run_id: run.id.clone(),
            scheduled_time: run.scheduled_time,
            trigger: run.trigger,
            window: run.window,
        }
    }

    /// The hand-over of a failed run's next attempt.
    pub fn retry(run: &Run) -> Self {
        Self::Retry {
            tenant: run.tenant.clone(),
            job_id: run.job_id.clone(),
            run_id: run.id.clone(),
            scheduled_time: run.scheduled_time,
        }
    }

    /// The run of `child` that `parent`'s success starts (its id derived
    /// from the parent's, so a repeated hand-over starts nothing twice).
    pub fn child(child: &JobId, parent: &Run) -> Self {
        Self::Parent {
            tenant: parent.tenant.clone(),
            job_id: child.clone(),
            run_id: RunId::for_child(child, &parent.id),
            parent_run_id: parent.id.clone(),
            scheduled_time: parent.scheduled_time,
        }
    }

    /// The kind of run this event starts.
    pub fn trigger(&self) -> TriggerKind {
        match self {
            Self::Schedule { .. } => TriggerKind::Schedule,
            Self::Manual { trigger, .. } => *trigger,
            Self::Retry { .. } => TriggerKind::Retry,
            Self::Parent { .. } => TriggerKind::Parent,
        }
    }

    pub fn scheduled_time(&self) -> DateTime<Utc> {
        match self {
            Self::Schedule { scheduled_time, .. }
            | Self::Manual { scheduled_time, .. }
            | Self::Retry { scheduled_time, .. }
            | Self::Parent { scheduled_time, .. } => *scheduled_time,
        }
    }

    /// The run the event names; a schedule fire names none (its run's id
    /// derives from the job and the scheduled time).
    pub fn run_id(&self) -> Option<&RunId> {
        match self {
            Self::Schedule { .. } => None,
            Self::Manual { run_id, .. }
            | Self::Retry { run_id, .. }
            | Self::Parent { run_id, .. } => Some(run_id),
        }
    }

    pub fn tenant(&self) -> &TenantId {
        match self {
            Self::Schedule { tenant, .. }
            | Self::Manual { tenant, .. }
            | Self::Retry { tenant, .. }
            | Self::Parent { tenant, .. } => tenant,
        }
    }

    pub fn job_id(&self) -> &JobId {
        match self {
            Self::Schedule { job_id, .. }
            | Self::Manual { job_id, .. }
            | Self::Retry { job_id, .. }
            | Self::Parent { job_id, .. } => job_id,
        }
    }
}

fn manual() -> TriggerKind {
    TriggerKind::Manual
}

/// `"3"` (as EventBridge sends it) or `3`.
fn attempt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Attempt {
        Number(u32),
        Text(String),
    }
    match Option::<Attempt>::deserialize(d)? {
        None => Ok(None),
        Some(Attempt::Number(n)) => Ok(Some(n)),
        Some(Attempt::Text(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("attempt {text:?} is not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    fn job() -> JobId {
        JobId::parse("job_01J0000000000000000000000A").unwrap()
    }

    fn run(suffix: char) -> RunId {
        RunId::parse(&format!("run_01J000000000000000000000{suffix}0")).unwrap()
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap() + chrono::Duration::microseconds(123_456)
    }

    #[test]
    fn every_variant_round_trips() {
        let window = Window {
            from: at() - chrono::Duration::hours(1),
            to: at(),
        };
        let events = [
            TriggerEvent::Schedule {
                tenant: tenant(),
                job_id: job(),
                scheduled_time: at(),
                schedule_arn: Some("arn:aws:scheduler:us-east-1:1:schedule/g/j".into()),
                attempt: Some(2),
            },
            TriggerEvent::Schedule {
                tenant: tenant(),
                job_id: job(),
                scheduled_time: at(),
                schedule_arn: None,
                attempt: None,
            },
            TriggerEvent::Manual {
                tenant: tenant(),
                job_id: job(),
                run_id: run('A'),
                scheduled_time: at(),
                trigger: TriggerKind::Backfill,
                window: Some(window),
            },
            TriggerEvent::Retry {
                tenant: tenant(),
                job_id: job(),
                run_id: run('B'),
                scheduled_time: at(),
            },
            TriggerEvent::Parent {
                tenant: tenant(),
                job_id: job(),
                run_id: run('C'),
                parent_run_id: run('D'),
                scheduled_time: at(),
            },
        ];
        for event in events {
            let wire = serde_json::to_value(&event).unwrap();
            assert!(wire["kind"].is_string(), "{wire}");
            assert_eq!(TriggerEvent::parse(wire.clone()).unwrap(), event, "{wire}");
            assert_eq!(event.tenant(), &tenant());
            assert_eq!(event.job_id(), &job());
        }
    }

    #[test]
    fn the_stored_scheduler_input_parses_as_a_schedule_fire() {
        let input = TriggerEvent::scheduler_input(&tenant(), &job());
        assert_eq!(
            input,
            r#"{"tenant":"acme","job_id":"job_01J0000000000000000000000A","scheduled_time":"<aws.scheduler.scheduled-time>","schedule_arn":"<aws.scheduler.schedule-arn>","attempt":"<aws.scheduler.attempt-number>"}"#
        );
        // As EventBridge delivers it: placeholders substituted, no `kind`.
        let delivered = input
            .replace("<aws.scheduler.scheduled-time>", "2026-03-01T08:00:00Z")
            .replace("<aws.scheduler.schedule-arn>", "arn:aws:scheduler:x")
            .replace("<aws.scheduler.attempt-number>", "3");
        let event = TriggerEvent::parse(serde_json::from_str(&delivered).unwrap()).unwrap();
        assert_eq!(
            event,
            TriggerEvent::Schedule {
                tenant: tenant(),
                job_id: job(),
                scheduled_time: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
                schedule_arn: Some("arn:aws:scheduler:x".into()),
                attempt: Some(3),
            }
        );
    }

    #[test]
    fn a_manual_event_without_trigger_is_manual() {
        let event = TriggerEvent::parse(json!({
            "kind": "manual", "tenant": "acme", "job_id": job().as_str(),
            "run_id": run('A').as_str(), "scheduled_time": "2026-03-01T09:00:00+01:00"
        }))
        .unwrap();
        let TriggerEvent::Manual {
            trigger,
            window,
            scheduled_time,
            ..
        } = event
        else {
            panic!("{event:?}");
        };
        assert_eq!((trigger, window), (TriggerKind::Manual, None));
        assert_eq!(
            scheduled_time,
            Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn malformed_events_name_what_is_wrong() {
        let job = job();
        let job = job.as_str();
        let run = run('A');
        let run = run.as_str();
        for (bad, expected) in [
            (json!([]), "kind"),
            (json!({"tenant": "acme", "job_id": job}), "scheduled_time"),
            (
                json!({"tenant": "acme", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
                "not a job id",
            ),
            (
                json!({"tenant": "acme", "job_id": job, "scheduled_time": "yesterday"}),
                "input contains invalid characters",
            ),
            (
                json!({"kind": "cron", "tenant": "acme", "job_id": job, "scheduled_time": "2026-03-01T08:00:00Z"}),
                "unknown variant",
            ),
            (
                json!({"kind": "retry", "tenant": "acme", "job_id": job, "scheduled_time": "2026-03-01T08:00:00Z"}),
                "run_id",
            ),
            (
                json!({"kind": "parent", "tenant": "acme", "job_id": job, "run_id": run, "scheduled_time": "2026-03-01T08:00:00Z"}),
                "parent_run_id",
            ),
            (
                json!({"tenant": "acme", "job_id": job, "scheduled_time": "2026-03-01T08:00:00Z", "attempt": "first"}),
                "not a number",
            ),
        ] {
            let error = TriggerEvent::parse(bad.clone()).unwrap_err().to_string();
            assert!(error.contains(expected), "{bad}: {error}");
        }
    }
}

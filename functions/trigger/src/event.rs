//! The two event shapes the trigger accepts. Both carry ids only.
//!
//! Scheduler (the schedule's Input, placeholders substituted by EventBridge):
//! `{"tenant", "job_id", "scheduled_time", "schedule_arn", "attempt"}`.
//! Manual run (from the jobs API): `{"kind": "manual", "tenant", "job_id",
//! "run_id", "scheduled_time", "trigger", "window"}`.
//! Next attempt (from the reconciler): `{"kind": "retry", "tenant",
//! "job_id", "run_id", "scheduled_time"}`.
//! Child run (from the reconciler): `{"kind": "parent", "tenant", "job_id",
//! "run_id", "parent_run_id", "scheduled_time"}`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sluice_domain::TenantId;
use sluice_domain::model::job::Window;
use sluice_domain::model::run::{RunId, TriggerKind};
use sluice_domain::service::trigger::Fire;

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    kind: Option<String>,
    tenant: String,
    job_id: String,
    scheduled_time: String,
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    trigger: Option<TriggerKind>,
    #[serde(default)]
    window: Option<Window>,
    #[serde(default)]
    parent_run_id: Option<String>,
}

/// The fire an event asks for, or why it is not one.
pub fn parse(payload: Value) -> Result<Fire, String> {
    let event: Event = serde_json::from_value(payload).map_err(|e| e.to_string())?;
    let tenant = TenantId::parse(&event.tenant).map_err(|e| e.to_string())?;
    let scheduled_time = DateTime::parse_from_rfc3339(&event.scheduled_time)
        .map_err(|e| format!("scheduled_time: {e}"))?
        .with_timezone(&Utc);
    let run_id = |kind: &str| -> Result<RunId, String> {
        let raw = event
            .run_id
            .as_deref()
            .ok_or_else(|| format!("a {kind} event needs run_id"))?;
        RunId::parse(raw).ok_or_else(|| "run_id is not a run id".to_owned())
    };
    let (trigger, run, parent) = match event.kind.as_deref() {
        None | Some("schedule") => (TriggerKind::Schedule, None, None),
        Some("manual") => (
            event.trigger.unwrap_or(TriggerKind::Manual),
            Some(run_id("manual")?),
            None,
        ),
        Some("retry") => (TriggerKind::Retry, Some(run_id("retry")?), None),
        Some("parent") => {
            let parent = event
                .parent_run_id
                .as_deref()
                .and_then(RunId::parse)
                .ok_or("a parent event needs parent_run_id")?;
            (TriggerKind::Parent, Some(run_id("parent")?), Some(parent))
        }
        Some(other) => return Err(format!("unknown kind {other:?}")),
    };
    Ok(Fire {
        tenant,
        job_id: event.job_id,
        scheduled_time: scheduled_time.with_timezone(&Utc),
        trigger,
        window: event.window,
        run_id: run,
        parent_run_id: parent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn scheduler_event() {
        let fire = parse(fixture("scheduler.json")).unwrap();
        assert_eq!(fire.trigger, TriggerKind::Schedule);
        assert_eq!(
            fire.scheduled_time.to_rfc3339(),
            "2026-03-01T08:00:00+00:00"
        );
        assert_eq!(fire.run_id, None);
    }

    #[test]
    fn manual_event() {
        let fire = parse(fixture("manual.json")).unwrap();
        assert_eq!(fire.trigger, TriggerKind::Manual);
        assert!(fire.run_id.is_some());
    }

    #[test]
    fn retry_and_parent_events() {
        let retry = parse(serde_json::json!({
            "kind": "retry", "tenant": "a", "job_id": "j",
            "run_id": "run_01J0000000000000000000000A", "scheduled_time": "2026-03-01T08:00:00Z"
        }))
        .unwrap();
        assert_eq!(retry.trigger, TriggerKind::Retry);
        assert!(retry.run_id.is_some());
        let child = parse(serde_json::json!({
            "kind": "parent", "tenant": "a", "job_id": "j",
            "run_id": "run_01J0000000000000000000000A",
            "parent_run_id": "run_01J0000000000000000000000B",
            "scheduled_time": "2026-03-01T08:00:00Z"
        }))
        .unwrap();
        assert_eq!(child.trigger, TriggerKind::Parent);
        assert_eq!(
            child.parent_run_id.unwrap().as_str(),
            "run_01J0000000000000000000000B"
        );
    }

    #[test]
    fn bad_events_are_refused() {
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"tenant": "a", "job_id": "j", "scheduled_time": "yesterday"}),
            serde_json::json!({"tenant": "a b", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
            serde_json::json!({"kind": "manual", "tenant": "a", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
            serde_json::json!({"kind": "cron", "tenant": "a", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
            serde_json::json!({"kind": "retry", "tenant": "a", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
            serde_json::json!({"kind": "parent", "tenant": "a", "job_id": "j", "run_id": "run_01J0000000000000000000000A", "scheduled_time": "2026-03-01T08:00:00Z"}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}

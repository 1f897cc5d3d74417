//! The event the trigger accepts: [`TriggerEvent`] (ids only), tagged by
//! `kind`; EventBridge Scheduler's Input has none and is a `schedule` fire.

use serde_json::Value;
use sluice_domain::model::trigger_event::TriggerEvent;
use sluice_domain::service::trigger::Fire;

/// The fire an event asks for, or why it is not one.
pub fn parse(payload: Value) -> Result<Fire, String> {
    TriggerEvent::parse(payload)
        .map(Fire::from)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_domain::TenantId;
    use sluice_domain::model::job::JobId;
    use sluice_domain::model::run::TriggerKind;

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
            "kind": "retry", "tenant": "a", "job_id": "job_01J0000000000000000000000A",
            "run_id": "run_01J0000000000000000000000A", "scheduled_time": "2026-03-01T08:00:00Z"
        }))
        .unwrap();
        assert_eq!(retry.trigger, TriggerKind::Retry);
        assert!(retry.run_id.is_some());
        let child = parse(serde_json::json!({
            "kind": "parent", "tenant": "a", "job_id": "job_01J0000000000000000000000A",
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

    /// The Input the scheduler adapter stores on every EventBridge schedule,
    /// substituted as EventBridge delivers it.
    #[test]
    fn the_stored_scheduler_input_is_a_schedule_fire() {
        let tenant = TenantId::parse("acme").unwrap();
        let job = JobId::parse("job_01J0000000000000000000000A").unwrap();
        let delivered = sluice_aws::scheduler::target_input(&tenant, &job)
            .replace("<aws.scheduler.scheduled-time>", "2026-03-01T08:00:00Z")
            .replace(
                "<aws.scheduler.schedule-arn>",
                "arn:aws:scheduler:us-east-1:123456789012:schedule/sluice-acme/job_01J0000000000000000000000A",
            )
            .replace("<aws.scheduler.attempt-number>", "1");
        let fire = parse(serde_json::from_str(&delivered).unwrap()).unwrap();
        assert_eq!(fire.trigger, TriggerKind::Schedule);
        assert_eq!((&fire.tenant, &fire.job_id), (&tenant, &job));
        assert_eq!(fire, parse(fixture("scheduler.json")).unwrap());
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
            serde_json::json!({"tenant": "a", "job_id": "j", "scheduled_time": "2026-03-01T08:00:00Z"}),
            serde_json::json!({"kind": "manual", "tenant": "a", "job_id": "job_01J0000000000000000000000A", "run_id": "r", "scheduled_time": "2026-03-01T08:00:00Z"}),
        ] {
            assert!(parse(bad.clone()).is_err(), "{bad}");
        }
    }
}

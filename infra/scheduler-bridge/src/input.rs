//! The target input as EventBridge Scheduler delivers it: its context
//! keywords replaced by their values.

use chrono::{DateTime, Utc};

/// What one delivery attempt substitutes into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context<'a> {
    pub scheduled_time: DateTime<Utc>,
    pub schedule_arn: &'a str,
    pub attempt: u32,
    pub execution_id: &'a str,
}

/// EventBridge's format: `2022-03-22T18:59:43Z`.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `input` (EventBridge sends `{}` when the target has none) with every
/// `<aws.scheduler.*>` keyword replaced. The values hold no character that
/// needs escaping inside a JSON string.
pub fn substitute(input: Option<&str>, context: &Context<'_>) -> String {
    input
        .unwrap_or("{}")
        .replace(
            "<aws.scheduler.scheduled-time>",
            &format_time(context.scheduled_time),
        )
        .replace("<aws.scheduler.schedule-arn>", context.schedule_arn)
        .replace(
            "<aws.scheduler.attempt-number>",
            &context.attempt.to_string(),
        )
        .replace("<aws.scheduler.execution-id>", context.execution_id)
}

/// A fresh execution id, shaped like EventBridge's (`d32c5kddcf5bb8c3`).
pub fn execution_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLUICE_INPUT: &str = r#"{"tenant":"acme","job_id":"job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB","scheduled_time":"<aws.scheduler.scheduled-time>","schedule_arn":"<aws.scheduler.schedule-arn>","attempt":"<aws.scheduler.attempt-number>"}"#;

    fn context(attempt: u32) -> Context<'static> {
        Context {
            // Sub-second parts are dropped, as EventBridge's format has none.
            scheduled_time: DateTime::parse_from_rfc3339("2026-03-01T08:00:00.750+01:00")
                .unwrap()
                .with_timezone(&Utc),
            schedule_arn: "arn:aws:scheduler:us-east-1:123456789012:schedule/sluice-acme/job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB",
            attempt,
            execution_id: "d32c5kddcf5bb8c3",
        }
    }

    #[test]
    fn sluice_input_is_substituted_exactly() {
        assert_eq!(
            substitute(Some(SLUICE_INPUT), &context(3)),
            r#"{"tenant":"acme","job_id":"job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB","scheduled_time":"2026-03-01T07:00:00Z","schedule_arn":"arn:aws:scheduler:us-east-1:123456789012:schedule/sluice-acme/job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB","attempt":"3"}"#
        );
    }

    #[test]
    fn every_keyword_and_every_occurrence_is_replaced() {
        let input = "<aws.scheduler.execution-id> <aws.scheduler.attempt-number> \
                     <aws.scheduler.attempt-number> <aws.scheduler.unknown>";
        assert_eq!(
            substitute(Some(input), &context(1)),
            "d32c5kddcf5bb8c3 1 1 <aws.scheduler.unknown>"
        );
        assert_eq!(substitute(None, &context(1)), "{}");
    }

    /// What the bridge delivers for the Input sluice stores is the
    /// trigger's `schedule` event, with the fire's time.
    #[test]
    fn the_delivered_sluice_input_is_a_schedule_trigger_event() {
        use sluice_domain::TenantId;
        use sluice_domain::model::job::JobId;
        use sluice_domain::model::trigger_event::TriggerEvent;

        let tenant = TenantId::parse("acme").unwrap();
        let job = JobId::parse("job_01J9Z3Q4Y8R5T6V7W8X9Y0Z1AB").unwrap();
        let stored = TriggerEvent::scheduler_input(&tenant, &job);
        assert_eq!(stored, SLUICE_INPUT);
        let delivered = substitute(Some(&stored), &context(3));
        let event = TriggerEvent::parse(serde_json::from_str(&delivered).unwrap()).unwrap();
        assert_eq!(
            event,
            TriggerEvent::Schedule {
                tenant,
                job_id: job,
                scheduled_time: DateTime::parse_from_rfc3339("2026-03-01T07:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc),
                schedule_arn: Some(context(3).schedule_arn.to_owned()),
                attempt: Some(3),
            }
        );
    }

    #[test]
    fn execution_ids_look_like_eventbridges() {
        let id = execution_id();
        assert_eq!(id.len(), 16);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, execution_id());
    }
}

//! Delivery of one fire: invoke, retry by the schedule's policy, and dead-
//! letter what could not be delivered.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rand::Rng;
use tracing::Instrument;

use crate::BoxError;
use crate::fires::Fire;
use crate::input::{self, Context};
use crate::retry::{Backoff, Exhausted, Next, after_failure};

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DeliveryError {
    /// `FunctionError` (the function ran and failed) or `InvokeFailed`
    /// (it could not be invoked).
    pub code: String,
    pub message: String,
}

/// Runs a Lambda function synchronously.
#[async_trait]
pub trait Invoker: Send + Sync {
    async fn invoke(&self, function: &str, payload: &str) -> Result<(), DeliveryError>;
}

/// A fire given up on, as EventBridge sends it to a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub queue_arn: String,
    /// The input of the last attempt.
    pub body: String,
    pub error: DeliveryError,
    pub exhausted: Exhausted,
    /// Retries made after the first attempt.
    pub retry_attempts: u32,
    pub schedule_arn: String,
    pub target_arn: String,
}

#[async_trait]
pub trait DeadLetters: Send + Sync {
    async fn send(&self, letter: &DeadLetter) -> Result<(), BoxError>;
}

/// How a fire ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        attempts: u32,
    },
    DeadLettered {
        attempts: u32,
        exhausted: Exhausted,
    },
    /// Given up, and no dead-letter queue took it.
    Dropped {
        attempts: u32,
        exhausted: Exhausted,
    },
    /// Not a Lambda target.
    Unsupported,
}

/// The function a Lambda target ARN names (its qualifier dropped); a bare
/// function name is taken as it is. `None` for other targets.
pub fn function_name(target_arn: &str) -> Option<&str> {
    if !target_arn.starts_with("arn:") {
        return (!target_arn.is_empty() && !target_arn.contains(':')).then_some(target_arn);
    }
    // arn:partition:lambda:region:account:function:name[:qualifier]
    let parts: Vec<&str> = target_arn.split(':').collect();
    (parts.len() >= 7 && parts[2] == "lambda" && parts[5] == "function" && !parts[6].is_empty())
        .then(|| parts[6])
}

pub struct Deliverer {
    invoker: Arc<dyn Invoker>,
    dead_letters: Arc<dyn DeadLetters>,
    backoff: Backoff,
    honor_flexible_window: bool,
}

impl Deliverer {
    pub fn new(
        invoker: Arc<dyn Invoker>,
        dead_letters: Arc<dyn DeadLetters>,
        backoff: Backoff,
        honor_flexible_window: bool,
    ) -> Self {
        Self {
            invoker,
            dead_letters,
            backoff,
            honor_flexible_window,
        }
    }

    /// Delivers `fire` until it succeeds or the retry policy gives up.
    pub async fn deliver(&self, fire: Fire) -> Outcome {
        let execution_id = input::execution_id();
        let span = tracing::info_span!(
            "fire",
            schedule_arn = %fire.schedule.arn,
            scheduled_time = %input::format_time(fire.scheduled_time),
            execution_id = %execution_id,
        );
        self.attempts(fire, execution_id).instrument(span).await
    }

    async fn attempts(&self, fire: Fire, execution_id: String) -> Outcome {
        let schedule = &fire.schedule;
        let Some(function) = function_name(&schedule.target.arn) else {
            tracing::error!(
                target_arn = %schedule.target.arn,
                outcome = "unsupported",
                "the bridge invokes Lambda targets only; fire skipped"
            );
            return Outcome::Unsupported;
        };
        if self.honor_flexible_window
            && let Some(minutes) = schedule.flexible_window_minutes.filter(|m| *m > 0)
        {
            let delay =
                Duration::from_millis(rand::thread_rng().gen_range(0..u64::from(minutes) * 60_000));
            tracing::info!(
                delay_ms = delay.as_millis() as u64,
                "waiting within the flexible window"
            );
            tokio::time::sleep(delay).await;
        }
        let first_attempt = Utc::now();
        let mut attempt = 1;
        loop {
            let payload = input::substitute(
                schedule.target.input.as_deref(),
                &Context {
                    scheduled_time: fire.scheduled_time,
                    schedule_arn: &schedule.arn,
                    attempt,
                    execution_id: &execution_id,
                },
            );
            let error = match self.invoker.invoke(function, &payload).await {
                Ok(()) => {
                    tracing::info!(function, attempt, outcome = "delivered", "delivered");
                    return Outcome::Delivered { attempts: attempt };
                }
                Err(error) => error,
            };
            match after_failure(
                attempt,
                schedule.target.retry,
                self.backoff,
                first_attempt,
                Utc::now(),
            ) {
                Next::RetryAfter(wait) => {
                    tracing::warn!(
                        function,
                        attempt,
                        outcome = "failed",
                        error = %error,
                        retry_in_ms = wait.as_millis() as u64,
                        "attempt failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Next::GiveUp(exhausted) => {
                    return self
                        .give_up(&fire, function, payload, error, exhausted, attempt)
                        .await;
                }
            }
        }
    }

    async fn give_up(
        &self,
        fire: &Fire,
        function: &str,
        body: String,
        error: DeliveryError,
        exhausted: Exhausted,
        attempts: u32,
    ) -> Outcome {
        let schedule = &fire.schedule;
        let Some(queue_arn) = schedule.target.dead_letter_arn.clone() else {
            tracing::error!(
                function,
                attempts,
                exhausted = exhausted.as_str(),
                error = %error,
                outcome = "dropped",
                "retries exhausted and no dead-letter queue; event dropped"
            );
            return Outcome::Dropped {
                attempts,
                exhausted,
            };
        };
        let letter = DeadLetter {
            queue_arn,
            body,
            error,
            exhausted,
            retry_attempts: attempts - 1,
            schedule_arn: schedule.arn.clone(),
            target_arn: schedule.target.arn.clone(),
        };
        match self.dead_letters.send(&letter).await {
            Ok(()) => {
                tracing::error!(
                    function,
                    attempts,
                    exhausted = exhausted.as_str(),
                    error = %letter.error,
                    dead_letter_queue = %letter.queue_arn,
                    outcome = "dead_lettered",
                    "retries exhausted; event sent to the dead-letter queue"
                );
                Outcome::DeadLettered {
                    attempts,
                    exhausted,
                }
            }
            Err(e) => {
                tracing::error!(
                    function,
                    attempts,
                    exhausted = exhausted.as_str(),
                    error = %letter.error,
                    dead_letter_queue = %letter.queue_arn,
                    dead_letter_error = %e,
                    outcome = "dropped",
                    "retries exhausted and the dead-letter queue refused the event; dropped"
                );
                Outcome::Dropped {
                    attempts,
                    exhausted,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::DateTime;

    use super::*;
    use crate::fires::{ScheduleDetails, TargetDetails};
    use crate::retry::RetryLimits;

    /// Fails the first `failures` invocations, records every payload.
    #[derive(Default)]
    struct FakeInvoker {
        failures: u32,
        calls: Mutex<Vec<(String, String)>>,
    }

    #[async_trait]
    impl Invoker for FakeInvoker {
        async fn invoke(&self, function: &str, payload: &str) -> Result<(), DeliveryError> {
            let mut calls = self.calls.lock().unwrap();
            calls.push((function.to_owned(), payload.to_owned()));
            if calls.len() as u32 <= self.failures {
                return Err(DeliveryError {
                    code: "FunctionError".into(),
                    message: "flink unreachable".into(),
                });
            }
            Ok(())
        }
    }

    #[derive(Default)]
    struct FakeDeadLetters {
        refuse: bool,
        sent: Mutex<Vec<DeadLetter>>,
    }

    #[async_trait]
    impl DeadLetters for FakeDeadLetters {
        async fn send(&self, letter: &DeadLetter) -> Result<(), BoxError> {
            if self.refuse {
                return Err("no such queue".into());
            }
            self.sent.lock().unwrap().push(letter.clone());
            Ok(())
        }
    }

    const INPUT: &str = r#"{"job_id":"job_1","scheduled_time":"<aws.scheduler.scheduled-time>","attempt":"<aws.scheduler.attempt-number>","execution":"<aws.scheduler.execution-id>"}"#;

    fn fire(max_retries: u32, dlq: Option<&str>, target: &str) -> Fire {
        Fire {
            schedule: Arc::new(ScheduleDetails {
                arn: "arn:aws:scheduler:us-east-1:123456789012:schedule/g/job_1".into(),
                expression: "rate(1 hour)".into(),
                timezone: "UTC".into(),
                enabled: true,
                start: None,
                end: None,
                created: Utc::now(),
                // Honoured only when the deliverer is told to.
                flexible_window_minutes: Some(15),
                target: TargetDetails {
                    arn: target.into(),
                    input: Some(INPUT.into()),
                    retry: RetryLimits {
                        max_retries,
                        max_event_age: Duration::from_secs(3600),
                    },
                    dead_letter_arn: dlq.map(str::to_owned),
                },
            }),
            scheduled_time: DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    const TRIGGER: &str = "arn:aws:lambda:us-east-1:123456789012:function:trigger";
    const DLQ: &str = "arn:aws:sqs:us-east-1:123456789012:dlq";

    fn deliverer(invoker: &Arc<FakeInvoker>, dead: &Arc<FakeDeadLetters>) -> Deliverer {
        Deliverer::new(
            invoker.clone(),
            dead.clone(),
            Backoff {
                initial: Duration::from_millis(1),
                max: Duration::from_millis(4),
            },
            false,
        )
    }

    fn payload(call: &(String, String)) -> serde_json::Value {
        serde_json::from_str(&call.1).unwrap()
    }

    #[tokio::test]
    async fn a_failed_attempt_is_retried_with_the_next_attempt_number() {
        let invoker = Arc::new(FakeInvoker {
            failures: 2,
            ..Default::default()
        });
        let dead = Arc::new(FakeDeadLetters::default());
        let outcome = deliverer(&invoker, &dead)
            .deliver(fire(5, Some(DLQ), TRIGGER))
            .await;
        assert_eq!(outcome, Outcome::Delivered { attempts: 3 });
        let calls = invoker.calls.lock().unwrap();
        assert_eq!(calls.len(), 3);
        for (i, call) in calls.iter().enumerate() {
            assert_eq!(call.0, "trigger");
            let p = payload(call);
            assert_eq!(p["attempt"], (i + 1).to_string());
            assert_eq!(p["scheduled_time"], "2026-05-01T10:00:00Z");
            // One execution id for the fire, the same on every attempt.
            assert_eq!(p["execution"], payload(&calls[0])["execution"]);
        }
        assert!(dead.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_undeliverable_fire_goes_to_the_dead_letter_queue() {
        let invoker = Arc::new(FakeInvoker {
            failures: u32::MAX,
            ..Default::default()
        });
        let dead = Arc::new(FakeDeadLetters::default());
        let outcome = deliverer(&invoker, &dead)
            .deliver(fire(2, Some(DLQ), TRIGGER))
            .await;
        assert_eq!(
            outcome,
            Outcome::DeadLettered {
                attempts: 3,
                exhausted: Exhausted::MaximumRetryAttempts
            }
        );
        assert_eq!(invoker.calls.lock().unwrap().len(), 3);
        let sent = dead.sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let letter = &sent[0];
        assert_eq!(letter.queue_arn, DLQ);
        assert_eq!(letter.retry_attempts, 2);
        assert_eq!(letter.error.code, "FunctionError");
        assert_eq!(letter.target_arn, TRIGGER);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&letter.body).unwrap()["attempt"],
            "3"
        );
    }

    #[tokio::test]
    async fn without_a_queue_or_with_a_refusing_one_the_fire_is_dropped() {
        let invoker = Arc::new(FakeInvoker {
            failures: u32::MAX,
            ..Default::default()
        });
        let dead = Arc::new(FakeDeadLetters::default());
        let outcome = deliverer(&invoker, &dead)
            .deliver(fire(0, None, TRIGGER))
            .await;
        assert_eq!(
            outcome,
            Outcome::Dropped {
                attempts: 1,
                exhausted: Exhausted::MaximumRetryAttempts
            }
        );
        let refusing = Arc::new(FakeDeadLetters {
            refuse: true,
            ..Default::default()
        });
        let outcome = deliverer(&invoker, &refusing)
            .deliver(fire(0, Some(DLQ), TRIGGER))
            .await;
        assert!(matches!(outcome, Outcome::Dropped { .. }));
    }

    #[tokio::test]
    async fn only_lambda_targets_are_invoked() {
        let invoker = Arc::new(FakeInvoker::default());
        let dead = Arc::new(FakeDeadLetters::default());
        let outcome = deliverer(&invoker, &dead)
            .deliver(fire(0, None, "arn:aws:sqs:us-east-1:123456789012:queue"))
            .await;
        assert_eq!(outcome, Outcome::Unsupported);
        assert!(invoker.calls.lock().unwrap().is_empty());
    }

    #[test]
    fn function_names_come_from_lambda_arns() {
        assert_eq!(function_name(TRIGGER), Some("trigger"));
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:trigger:live"),
            Some("trigger")
        );
        assert_eq!(function_name("reconciler"), Some("reconciler"));
        assert_eq!(function_name("arn:aws:sqs:us-east-1:123456789012:q"), None);
        assert_eq!(
            function_name("arn:aws:scheduler:::aws-sdk:sqs:sendMessage"),
            None
        );
        assert_eq!(function_name(""), None);
    }
}

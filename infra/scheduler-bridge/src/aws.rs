//! The bridge's ports on the AWS SDK: moto's EventBridge Scheduler and SQS,
//! and Lambda's Invoke API as `cargo lambda watch` serves it.

use async_trait::async_trait;
use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::primitives::DateTime as AwsDateTime;
use aws_sdk_scheduler::types::{FlexibleTimeWindowMode, ScheduleState};
use aws_sdk_sqs::types::MessageAttributeValue;
use chrono::{DateTime, Utc};

use crate::BoxError;
use crate::bridge::{ScheduleSource, ScheduleSummary};
use crate::delivery::{DeadLetter, DeadLetters, DeliveryError, Invoker};
use crate::fires::{ScheduleDetails, TargetDetails};
use crate::retry::RetryLimits;

/// Longest error text kept from a target's answer.
const MAX_ERROR_TEXT: usize = 1000;

fn utc(t: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// What the bridge needs of a GetSchedule answer.
pub fn details_from(out: &GetScheduleOutput) -> Result<ScheduleDetails, String> {
    let arn = out.arn().ok_or("the schedule has no ARN")?;
    let target = out.target().ok_or("the schedule has no target")?;
    let defaults = RetryLimits::default();
    let retry = target.retry_policy().map_or(defaults, |p| RetryLimits {
        max_retries: p
            .maximum_retry_attempts()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults.max_retries),
        max_event_age: p
            .maximum_event_age_in_seconds()
            .and_then(|n| u64::try_from(n).ok())
            .map_or(defaults.max_event_age, std::time::Duration::from_secs),
    });
    let flexible_window_minutes = out
        .flexible_time_window()
        .filter(|w| w.mode() == &FlexibleTimeWindowMode::Flexible)
        .and_then(|w| w.maximum_window_in_minutes())
        .and_then(|m| u32::try_from(m).ok());
    Ok(ScheduleDetails {
        arn: arn.to_owned(),
        expression: out
            .schedule_expression()
            .ok_or("the schedule has no expression")?
            .to_owned(),
        timezone: out
            .schedule_expression_timezone()
            .filter(|tz| !tz.is_empty())
            .unwrap_or("UTC")
            .to_owned(),
        // EventBridge's default state is ENABLED.
        enabled: out.state().is_none_or(|s| s == &ScheduleState::Enabled),
        start: out.start_date().and_then(utc),
        end: out.end_date().and_then(utc),
        created: out
            .creation_date()
            .and_then(utc)
            .ok_or("the schedule has no creation date")?,
        flexible_window_minutes,
        target: TargetDetails {
            arn: target.arn().to_owned(),
            input: target.input().map(str::to_owned),
            retry,
            dead_letter_arn: target
                .dead_letter_config()
                .and_then(|d| d.arn())
                .map(str::to_owned),
        },
    })
}

/// The schedules of every group whose name starts with `group_prefix`.
pub struct SchedulerSource {
    client: aws_sdk_scheduler::Client,
    group_prefix: Option<String>,
}

impl SchedulerSource {
    pub fn new(client: aws_sdk_scheduler::Client, group_prefix: Option<String>) -> Self {
        Self {
            client,
            group_prefix: group_prefix.filter(|p| !p.is_empty()),
        }
    }
}

#[async_trait]
impl ScheduleSource for SchedulerSource {
    async fn list(&self) -> Result<Vec<ScheduleSummary>, BoxError> {
        let groups = self
            .client
            .list_schedule_groups()
            .set_name_prefix(self.group_prefix.clone())
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let mut summaries = Vec::new();
        for group in groups {
            let Some(group) = group.name() else { continue };
            let schedules = self
                .client
                .list_schedules()
                .group_name(group)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await?;
            for s in schedules {
                let (Some(arn), Some(name)) = (s.arn(), s.name()) else {
                    continue;
                };
                let created = s.creation_date().and_then(utc).unwrap_or_else(Utc::now);
                summaries.push(ScheduleSummary {
                    arn: arn.to_owned(),
                    group: s.group_name().unwrap_or(group).to_owned(),
                    name: name.to_owned(),
                    created,
                    modified: s.last_modification_date().and_then(utc).unwrap_or(created),
                });
            }
        }
        Ok(summaries)
    }

    async fn get(&self, group: &str, name: &str) -> Result<ScheduleDetails, BoxError> {
        let out = self
            .client
            .get_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await?;
        Ok(details_from(&out)?)
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// Synchronous invocations (`RequestResponse`), so a function error is seen.
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
}

impl LambdaInvoker {
    /// `client` should not retry on its own: the attempts are the bridge's.
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Invoker for LambdaInvoker {
    async fn invoke(&self, function: &str, payload: &str) -> Result<(), DeliveryError> {
        let sent = self
            .client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload.as_bytes()))
            .send()
            .await;
        match sent {
            Ok(out) => match out.function_error() {
                None => Ok(()),
                // Lambda: 200 with X-Amz-Function-Error and the error as payload.
                Some(kind) => Err(DeliveryError {
                    code: "FunctionError".into(),
                    message: clip(
                        &out.payload()
                            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                            .unwrap_or_else(|| kind.to_owned()),
                    ),
                }),
            },
            Err(e) => {
                // cargo lambda answers a function error with a 500 whose
                // body is the function's {"errorType", "errorMessage"}.
                let body = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                Err(match body {
                    Some(body) if body.contains("\"errorType\"") => DeliveryError {
                        code: "FunctionError".into(),
                        message: clip(&body),
                    },
                    _ => DeliveryError {
                        code: "InvokeFailed".into(),
                        message: clip(&DisplayErrorContext(&e).to_string()),
                    },
                })
            }
        }
    }
}

/// An SQS queue ARN's name and owner: `arn:aws:sqs:region:account:name`.
pub fn queue_of(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] if !name.is_empty() => Some((name, account)),
        _ => None,
    }
}

/// Sends given-up fires to the schedule's SQS dead-letter queue.
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
}

impl SqsDeadLetters {
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        Self { client }
    }
}

fn attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        // SQS refuses an empty attribute value.
        .string_value(if value.is_empty() { "-" } else { value })
        .build()
        .expect("data type is set")
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn send(&self, letter: &DeadLetter) -> Result<(), BoxError> {
        let (name, account) = queue_of(&letter.queue_arn)
            .ok_or_else(|| format!("{} is not an SQS queue ARN", letter.queue_arn))?;
        let url = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?
            .queue_url
            .ok_or("GetQueueUrl answered no URL")?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(&letter.body)
            .message_attributes("ERROR_CODE", attribute(&letter.error.code))
            .message_attributes("ERROR_MESSAGE", attribute(&letter.error.message))
            .message_attributes(
                "EXHAUSTED_RETRY_CONDITION",
                attribute(letter.exhausted.as_str()),
            )
            .message_attributes(
                "RETRY_ATTEMPTS",
                attribute(&letter.retry_attempts.to_string()),
            )
            .message_attributes("SCHEDULE_ARN", attribute(&letter.schedule_arn))
            .message_attributes("TARGET_ARN", attribute(&letter.target_arn))
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(())
    }
}

/// The queue an EventBridge rule (moto) sends events to.
pub struct SqsEventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsEventQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        Self { client, url }
    }
}

#[async_trait]
impl crate::events::EventQueue for SqsEventQueue {
    async fn receive(&self) -> Result<Vec<crate::events::QueuedEvent>, BoxError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            // An event whose delivery failed comes back after this.
            .visibility_timeout(10)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(crate::events::QueuedEvent {
                    receipt: m.receipt_handle?,
                    body: m.body?,
                })
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), BoxError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_scheduler::types::{DeadLetterConfig, FlexibleTimeWindow, RetryPolicy, Target};

    use super::*;

    fn target() -> aws_sdk_scheduler::types::builders::TargetBuilder {
        Target::builder()
            .arn("arn:aws:lambda:us-east-1:123456789012:function:trigger")
            .role_arn("arn:aws:iam::123456789012:role/r")
    }

    #[test]
    fn get_schedule_answers_become_details() {
        let out = GetScheduleOutput::builder()
            .arn("arn:aws:scheduler:us-east-1:123456789012:schedule/g/job_1")
            .schedule_expression("cron(0 8 * * ? *)")
            .schedule_expression_timezone("Europe/Berlin")
            .state(ScheduleState::Disabled)
            .start_date(AwsDateTime::from_secs(1_800_000_000))
            .creation_date(AwsDateTime::from_secs_f64(1_700_000_000.25))
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Flexible)
                    .maximum_window_in_minutes(5)
                    .build()
                    .unwrap(),
            )
            .target(
                target()
                    .input("{}")
                    .retry_policy(
                        RetryPolicy::builder()
                            .maximum_retry_attempts(3)
                            .maximum_event_age_in_seconds(120)
                            .build(),
                    )
                    .dead_letter_config(
                        DeadLetterConfig::builder()
                            .arn("arn:aws:sqs:us-east-1:123456789012:dlq")
                            .build(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let d = details_from(&out).unwrap();
        assert_eq!(d.expression, "cron(0 8 * * ? *)");
        assert_eq!(d.timezone, "Europe/Berlin");
        assert!(!d.enabled);
        assert_eq!(d.start.unwrap().timestamp(), 1_800_000_000);
        assert_eq!(d.created.timestamp_millis(), 1_700_000_000_250);
        assert_eq!(d.flexible_window_minutes, Some(5));
        assert_eq!(d.target.input.as_deref(), Some("{}"));
        assert_eq!(d.target.retry.max_retries, 3);
        assert_eq!(d.target.retry.max_event_age.as_secs(), 120);
        assert_eq!(
            d.target.dead_letter_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:123456789012:dlq")
        );

        // The defaults: UTC, enabled, EventBridge's retry policy, no window.
        let bare = GetScheduleOutput::builder()
            .arn("arn:x")
            .schedule_expression("rate(1 hour)")
            .creation_date(AwsDateTime::from_secs(1_700_000_000))
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .unwrap(),
            )
            .target(target().build().unwrap())
            .build();
        let d = details_from(&bare).unwrap();
        assert_eq!(d.timezone, "UTC");
        assert!(d.enabled);
        assert_eq!(d.flexible_window_minutes, None);
        assert_eq!(d.target.retry, RetryLimits::default());
        assert_eq!(d.target.input, None);

        let no_target = GetScheduleOutput::builder()
            .arn("arn:x")
            .schedule_expression("rate(1 hour)")
            .creation_date(AwsDateTime::from_secs(1_700_000_000))
            .build();
        assert!(details_from(&no_target).is_err());
    }

    #[test]
    fn queue_arns_name_queue_and_owner() {
        assert_eq!(
            queue_of("arn:aws:sqs:us-east-1:123456789012:sluice-scheduler-dlq"),
            Some(("sluice-scheduler-dlq", "123456789012"))
        );
        assert_eq!(queue_of("arn:aws:sns:us-east-1:123456789012:topic"), None);
        assert_eq!(queue_of("sluice-scheduler-dlq"), None);
    }

    #[test]
    fn error_texts_are_clipped() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_ERROR_TEXT + 5);
        assert_eq!(clip(&long).chars().count(), MAX_ERROR_TEXT + 3);
    }
}

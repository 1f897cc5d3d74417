//! SNS topics: the notice as the message (JSON), its one-line summary as the subject.

use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;
use sluice_aws::config::LazyClient;
use sluice_domain::model::notification::{Notice, TopicArn};
use sluice_domain::ports::DeliveryError;

/// SNS takes subjects of up to 100 printable ASCII characters.
const MAX_SUBJECT: usize = 100;

/// Codes of SNS answers another attempt may get past.
const PASSING: [&str; 4] = [
    "Throttling",
    "ThrottledException",
    "InternalError",
    "KMSThrottling",
];

pub struct SnsTopics {
    client: LazyClient<aws_sdk_sns::Client>,
}

impl SnsTopics {
    pub fn new(client: impl Into<LazyClient<aws_sdk_sns::Client>>) -> Self {
        Self {
            client: client.into(),
        }
    }

    /// One attempt to publish `notice` to `topic`.
    pub async fn publish(&self, topic: &TopicArn, notice: &Notice) -> Result<(), DeliveryError> {
        let message = serde_json::to_string(notice).expect("a notice serializes");
        let attribute = |value: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .expect("data type is set")
        };
        let result = self
            .client
            .publish()
            .topic_arn(topic.as_str())
            .subject(subject(&notice.summary()))
            .message(message)
            .message_attributes("kind", attribute(notice.kind.as_str()))
            .message_attributes("job_id", attribute(notice.job_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let code = e.code().map(str::to_owned);
                let retryable = code.as_deref().is_none_or(|c| PASSING.contains(&c));
                Err(DeliveryError {
                    message: match code {
                        Some(code) => format!("SNS refused the message: {code}"),
                        None => "SNS could not be reached".into(),
                    },
                    retryable,
                })
            }
        }
    }
}

/// `summary` as an SNS subject: printable ASCII (others as `?`), at most 100 characters.
pub fn subject(summary: &str) -> String {
    summary
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(MAX_SUBJECT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_short_printable_ascii() {
        let s = subject(&format!(
            "sluice: job orders → täglich\n{}",
            "x".repeat(200)
        ));
        assert_eq!(s.len(), MAX_SUBJECT);
        assert!(s.starts_with("sluice: job orders ? t?glich?x"));
    }
}

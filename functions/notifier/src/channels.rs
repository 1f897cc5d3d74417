//! The [`NoticeChannels`] of a deployment: SNS topics and webhooks.

use async_trait::async_trait;
use secrecy::SecretString;
use sluice_domain::model::notification::{Channel, Notice};
use sluice_domain::ports::{DeliveryError, NoticeChannels};

use crate::sns::SnsTopics;
use crate::webhook::Webhooks;

pub struct Channels {
    pub sns: SnsTopics,
    pub webhooks: Webhooks,
}

#[async_trait]
impl NoticeChannels for Channels {
    async fn deliver(
        &self,
        channel: &Channel,
        notice: &Notice,
        signing_secret: Option<&SecretString>,
    ) -> Result<(), DeliveryError> {
        match channel {
            Channel::Sns { topic_arn } => self.sns.publish(topic_arn, notice).await,
            Channel::Webhook { url, format } => {
                self.webhooks
                    .post(url, *format, notice, signing_secret)
                    .await
            }
        }
    }
}

/// Waits with tokio's timer.
pub struct Sleep;

#[async_trait]
impl sluice_domain::ports::Pause for Sleep {
    async fn pause(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }
}

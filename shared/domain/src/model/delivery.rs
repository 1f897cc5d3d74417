//! What a run records of its notices: the outcomes of the notification
//! rules (model/notification.rs) that a run's `notifications[]` holds. A
//! module of its own so that runs need nothing of the rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a rule alerts on: the final outcomes of a run, and `recovered` (the first success after a
/// failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    Failed,
    TimedOut,
    Skipped,
    Succeeded,
    Recovered,
}

impl NotifyOn {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Skipped => "skipped",
            Self::Succeeded => "succeeded",
            Self::Recovered => "recovered",
        }
    }

    /// A failure: what the quiet period limits and what `recovered` follows.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut)
    }
}

/// How one channel's delivery ended, as a run records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    Failed,
}

/// One notice's delivery to one channel (`notifications[]` on a run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationOutcome {
    /// The channel's label (`Channel::label` in model/notification.rs): the
    /// topic ARN or the webhook's origin.
    pub channel: String,
    pub kind: NotifyOn,
    pub status: DeliveryStatus,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

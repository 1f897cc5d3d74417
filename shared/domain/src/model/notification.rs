//! Notifications of a job's runs (README, "Notifications"): which final outcomes alert, where
//! (an SNS topic of the deployer, or an HTTPS webhook signed with the job's signing secret), and
//! the rules that keep alerts useful: only final runs, one alert per run, a `recovered` notice on
//! the first success after a failure, and one failure alert per quiet period while a job keeps
//! failing, the next one carrying the count of those not sent.
//!
//! The use cases are in `service::notifications`; storage, the alert ledger and the channels are
//! ports.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::TenantId;
use crate::model::job::JobId;
use crate::model::run::{RunErrorCode, RunId, RunState, RunStateChange, TriggerKind};
use crate::model::secrets::SealedSecrets;
// What a run records of its notices (model/delivery.rs, below run.rs).
pub use crate::model::delivery::{DeliveryStatus, NotificationOutcome, NotifyOn};
use crate::model::validation::ValidationErrors;

/// A job's quiet period when it sets none: one failure alert per hour while it keeps failing.
pub const DEFAULT_QUIET_PERIOD_SECONDS: u32 = 3600;
/// The longest quiet period: a day.
pub const MAX_QUIET_PERIOD_SECONDS: u32 = 24 * 3600;
/// Rules per job.
pub const MAX_RULES: usize = 10;
/// A webhook URL's longest form.
pub const MAX_URL_LEN: usize = 2048;
/// A signing secret's bounds, in bytes.
pub const MIN_SECRET_LEN: usize = 16;
pub const MAX_SECRET_LEN: usize = 256;

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Slack's incoming-webhook shape: `{"text": ...}`.
    Slack,
    /// The notice itself ([`Notice`]).
    Json,
}

/// Where the deployment may publish and deliver: SNS topics of its own account and region whose
/// names start with a prefix (the notifier's role may publish to those only), and whether plain
/// `http` to loopback is allowed (the `local-dev` builds of the local stack only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPolicy {
    /// `arn:aws:sns:<region>:<account>:<name prefix>`, e.g. `arn:aws:sns:eu-west-1:123456789012:sluice-`.
    pub topic_arn_prefix: String,
    pub allow_loopback_http: bool,
}

impl ChannelPolicy {
    /// Checks `raw` as a topic this deployment may publish to; the reason otherwise.
    pub fn topic(&self, raw: &str) -> Result<TopicArn, String> {
        let parts = |arn: &str| -> Option<[String; 5]> {
            let mut it = arn.splitn(6, ':');
            let (scheme, partition, service, region, account, name) = (
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
            );
            (scheme == "arn" && service == "sns")
                .then(|| [partition, region, account, name, ""].map(str::to_owned))
        };
        let [partition, region, account, name, _] =
            parts(raw).ok_or("must be an SNS topic ARN: arn:aws:sns:<region>:<account>:<name>")?;
        let [own_partition, own_region, own_account, prefix, _] =
            parts(&self.topic_arn_prefix).ok_or("this deployment publishes to no SNS topic")?;
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err("must name a topic: 1-256 of A-Z, a-z, 0-9, - and _".into());
        }
        if partition != own_partition || region != own_region {
            return Err(format!(
                "must be a topic in this deployment's region {own_region} (not {region})"
            ));
        }
        if account != own_account {
            return Err("must be a topic of this deployment's account".into());
        }
        if !name.starts_with(&prefix) {
            return Err(format!(
                "must be a topic whose name starts with {prefix:?} (the topics the notifier may publish to)"
            ));
        }
        Ok(TopicArn(raw.to_owned()))
    }

    /// Checks `raw` as a webhook URL; the reason otherwise.
    pub fn webhook(&self, raw: &str) -> Result<WebhookUrl, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters"));
        }
        let url = url::Url::parse(raw).map_err(|e| format!("must be an absolute URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials".into());
        }
        let host = url.host().ok_or("must name a host")?;
        let loopback = match &host {
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
            url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        };
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback_http && loopback => {}
            _ => return Err("must be an https URL".into()),
        }
        let refused = match host {
            url::Host::Ipv4(ip) => refused_address(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => refused_address(IpAddr::V6(ip)),
            url::Host::Domain(name) => refused_name(name),
        };
        if let Some(reason) = refused {
            return Err(format!("must not point at {reason}"));
        }
        Ok(WebhookUrl(url.to_string()))
    }
}

/// Host names of instance metadata services.
const METADATA_NAMES: [&str; 4] = [
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
];

fn refused_name(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    METADATA_NAMES
        .contains(&name.as_str())
        .then_some("a metadata service")
}

/// Why a webhook may not be delivered to `ip`: a link-local address (169.254.0.0/16, fe80::/10,
/// where the instance metadata services answer), AWS's IPv6 metadata address, or the unspecified
/// address. Checked on the URL and on every address its host resolves to at delivery.
pub fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                Some("a metadata service")
            } else if v6.segments()[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else {
                None
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(169, 254, 170, 2) {
        Some("a metadata service")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_unspecified() {
        Some("the unspecified address")
    } else {
        None
    }
}

/// An SNS topic ARN the deployment may publish to ([`ChannelPolicy::topic`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TopicArn(String);

impl TopicArn {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A checked webhook URL ([`ChannelPolicy::webhook`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Scheme, host and port only: what a run records and logs show of the webhook (its path
    /// may hold a token, as Slack's do).
    pub fn origin(&self) -> String {
        url::Url::parse(&self.0)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| "webhook".into())
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.origin())
    }
}

/// Where a rule's notices go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    Sns {
        topic_arn: TopicArn,
    },
    Webhook {
        url: WebhookUrl,
        format: WebhookFormat,
    },
}

impl Channel {
    /// How a run's record and the logs name the channel: the topic ARN, or the webhook's origin.
    pub fn label(&self) -> String {
        match self {
            Self::Sns { topic_arn } => topic_arn.as_str().to_owned(),
            Self::Webhook { url, .. } => url.origin(),
        }
    }
}

/// A checked rule: the outcomes it alerts on, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub on: BTreeSet<NotifyOn>,
    pub channel: Channel,
}

/// A channel as `PUT /jobs/{id}/notifications` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelSpec {
    Sns {
        topic_arn: String,
    },
    Webhook {
        url: String,
        #[serde(default = "default_format")]
        format: WebhookFormat,
    },
}

fn default_format() -> WebhookFormat {
    WebhookFormat::Json
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub on: Vec<NotifyOn>,
    pub channel: ChannelSpec,
}

/// The body of `PUT /jobs/{id}/notifications`. `signing_secret` is write-only: left out, the
/// stored one is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsSpec {
    pub rules: Vec<RuleSpec>,
    #[serde(default)]
    pub quiet_period_seconds: Option<u32>,
    #[serde(default)]
    pub signing_secret: Option<SecretString>,
}

/// A spec's checked content.
#[derive(Debug)]
pub struct CheckedNotifications {
    pub rules: Vec<Rule>,
    pub quiet_period_seconds: u32,
    pub signing_secret: Option<SecretString>,
}

impl NotificationsSpec {
    /// Every problem of the spec, named by JSON path (`rules[0].channel.url`).
    /// `secret_stored`: whether the job has a signing secret already.
    pub fn check(
        self,
        policy: &ChannelPolicy,
        secret_stored: bool,
    ) -> Result<CheckedNotifications, ValidationErrors> {
        use secrecy::ExposeSecret;
        let mut errors = ValidationErrors::new();
        if self.rules.len() > MAX_RULES {
            errors.push("rules", format!("must have at most {MAX_RULES} rules"));
        }
        let mut rules = Vec::new();
        for (i, rule) in self.rules.into_iter().enumerate() {
            if rule.on.is_empty() {
                errors.push(format!("rules[{i}].on"), "must name at least one outcome");
            }
            let channel = match rule.channel {
                ChannelSpec::Sns { topic_arn } => policy
                    .topic(&topic_arn)
                    .map(|topic_arn| Channel::Sns { topic_arn })
                    .map_err(|reason| (format!("rules[{i}].channel.topic_arn"), reason)),
                ChannelSpec::Webhook { url, format } => policy
                    .webhook(&url)
                    .map(|url| Channel::Webhook { url, format })
                    .map_err(|reason| (format!("rules[{i}].channel.url"), reason)),
            };
            match channel {
                Ok(channel) => rules.push(Rule {
                    on: rule.on.into_iter().collect(),
                    channel,
                }),
                Err((field, reason)) => errors.push(field, reason),
            }
        }
        let quiet_period_seconds = self
            .quiet_period_seconds
            .unwrap_or(DEFAULT_QUIET_PERIOD_SECONDS);
        if quiet_period_seconds > MAX_QUIET_PERIOD_SECONDS {
            errors.push(
                "quiet_period_seconds",
                format!("must be at most {MAX_QUIET_PERIOD_SECONDS}"),
            );
        }
        if let Some(secret) = &self.signing_secret {
            let len = secret.expose_secret().len();
            if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&len) {
                errors.push(
                    "signing_secret",
                    format!("must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes long"),
                );
            }
        }
        let webhooks = rules
            .iter()
            .any(|r| matches!(r.channel, Channel::Webhook { .. }));
        if webhooks && self.signing_secret.is_none() && !secret_stored {
            errors.push(
                "signing_secret",
                "is required for webhook channels (webhooks are signed with it)",
            );
        }
        errors.into_result()?;
        Ok(CheckedNotifications {
            rules,
            quiet_period_seconds,
            signing_secret: self.signing_secret,
        })
    }
}

/// A job's stored notification settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Notifications {
    pub tenant: TenantId,
    pub job_id: JobId,
    pub rules: Vec<Rule>,
    pub quiet_period_seconds: u32,
    /// The webhooks' signing secret, sealed under
    /// [`EncryptionContext::for_notifications`](crate::EncryptionContext::for_notifications).
    pub signing_secret: Option<SealedSecrets>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The outcome a final run notifies as, before the job's history is known; `None` for a final
/// state no rule names (`canceled`).
pub fn outcome_of(state: RunState) -> Option<NotifyOn> {
    match state {
        RunState::Succeeded => Some(NotifyOn::Succeeded),
        RunState::Failed | RunState::Lost => Some(NotifyOn::Failed),
        RunState::TimedOut => Some(NotifyOn::TimedOut),
        RunState::Skipped => Some(NotifyOn::Skipped),
        RunState::Canceled | RunState::Pending | RunState::Submitting | RunState::Running => None,
    }
}

/// A job's alert history: whether its last final outcome was a failure, when a failure alert
/// last went out, and how many failures were not alerted since (the quiet period).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertState {
    /// The last final run's outcome was a failure (`failed` or `timed_out`).
    pub failing: bool,
    pub last_failure_alert_at: Option<DateTime<Utc>>,
    /// Failures not alerted since the last failure alert.
    pub suppressed: u32,
    /// The stored version (0: none stored).
    pub version: u64,
}

/// What a final run makes of a job's alert history: the notice to send (if any rule may want
/// it), and the history after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDecision {
    /// The kind of notice and the failures not alerted that it reports; `None`: nothing to send
    /// (a failure inside the quiet period).
    pub notice: Option<(NotifyOn, u32)>,
    pub next: AlertState,
}

impl AlertState {
    /// Applies one final outcome at `at`. A failure alerts when the last failure alert is at
    /// least `quiet` old (or there was none since the job last succeeded), else it is counted;
    /// the next failure alert carries that count. The first success after a failure is
    /// `recovered` (carrying the count too) and clears the history.
    pub fn decide(&self, outcome: NotifyOn, at: DateTime<Utc>, quiet: Duration) -> AlertDecision {
        let mut next = AlertState {
            version: self.version,
            ..self.clone()
        };
        let notice = match outcome {
            NotifyOn::Failed | NotifyOn::TimedOut => {
                next.failing = true;
                let quiet_since = self
                    .last_failure_alert_at
                    .is_some_and(|last| at < last + quiet && at >= last);
                if quiet_since {
                    next.suppressed += 1;
                    None
                } else {
                    next.last_failure_alert_at = Some(at);
                    next.suppressed = 0;
                    Some((outcome, self.suppressed))
                }
            }
            NotifyOn::Succeeded | NotifyOn::Recovered => {
                next = AlertState {
                    version: self.version,
                    ..AlertState::default()
                };
                if self.failing {
                    Some((NotifyOn::Recovered, self.suppressed))
                } else {
                    Some((NotifyOn::Succeeded, 0))
                }
            }
            NotifyOn::Skipped => Some((NotifyOn::Skipped, 0)),
        };
        AlertDecision { notice, next }
    }
}

/// Whether `rule` wants a notice of `kind`: it names it, or (for `recovered`) names `succeeded`.
pub fn wants(rule: &Rule, kind: NotifyOn) -> bool {
    rule.on.contains(&kind)
        || (kind == NotifyOn::Recovered && rule.on.contains(&NotifyOn::Succeeded))
}

/// What a notice says (the `json` webhook body, the SNS message): ids, the outcome, the error's
/// code and message, counts. Never a secret or SQL (run errors carry neither).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `failed`, `timed_out`, `skipped`, `succeeded` or `recovered`.
    pub kind: NotifyOn,
    pub tenant: TenantId,
    pub job_id: JobId,
    pub job_name: Option<String>,
    pub run_id: RunId,
    pub state: RunState,
    pub trigger: TriggerKind,
    pub scheduled_time: DateTime<Utc>,
    /// Attempts the run made.
    pub attempts: u32,
    pub error: Option<NoticeError>,
    pub rows_read: Option<u64>,
    pub rows_written: Option<u64>,
    /// When the run ended.
    pub time: DateTime<Utc>,
    /// Failures of the job that were not alerted (inside the quiet period) since the previous
    /// failure alert.
    pub suppressed_failures: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeError {
    pub code: RunErrorCode,
    pub message: String,
}

impl Notice {
    pub fn new(
        kind: NotifyOn,
        change: &RunStateChange,
        job_name: Option<String>,
        suppressed_failures: u32,
    ) -> Self {
        Self {
            kind,
            tenant: change.tenant.clone(),
            job_id: change.job_id.clone(),
            job_name,
            run_id: change.run_id.clone(),
            state: change.state,
            trigger: change.trigger,
            scheduled_time: change.scheduled_time,
            attempts: change.attempt,
            error: change.error.as_ref().map(|e| NoticeError {
                code: e.code.clone(),
                message: e.message.clone(),
            }),
            rows_read: change.rows_read,
            rows_written: change.rows_written,
            time: change.time,
            suppressed_failures,
        }
    }

    /// One line for people (Slack's `text`, the SNS subject's source).
    pub fn summary(&self) -> String {
        let job = self.job_name.as_deref().unwrap_or(self.job_id.as_str());
        let mut text = match self.kind {
            NotifyOn::Recovered => {
                format!("sluice: job {job} recovered: run {} succeeded", self.run_id)
            }
            kind => format!("sluice: job {job}: run {} {}", self.run_id, kind.as_str()),
        };
        if self.kind.is_failure() {
            text.push_str(&format!(" after {} attempt(s)", self.attempts));
        }
        if let Some(error) = &self.error
            && self.kind != NotifyOn::Recovered
            && self.kind != NotifyOn::Succeeded
        {
            text.push_str(&format!(": {} ({})", error.message, error.code));
        }
        if let Some(rows) = self.rows_written
            && !self.kind.is_failure()
        {
            text.push_str(&format!(", {rows} rows written"));
        }
        if self.suppressed_failures > 0 {
            text.push_str(&format!(
                "; {} more failure(s) since the last alert were not alerted (quiet period)",
                self.suppressed_failures
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy(local: bool) -> ChannelPolicy {
        ChannelPolicy {
            topic_arn_prefix: "arn:aws:sns:eu-west-1:123456789012:sluice-".into(),
            allow_loopback_http: local,
        }
    }

    #[test]
    fn topics_of_the_deployers_account_region_and_prefix_only() {
        let p = policy(false);
        assert_eq!(
            p.topic("arn:aws:sns:eu-west-1:123456789012:sluice-alerts")
                .unwrap()
                .as_str(),
            "arn:aws:sns:eu-west-1:123456789012:sluice-alerts"
        );
        for (bad, says) in [
            (
                "arn:aws:sns:us-east-1:123456789012:sluice-alerts",
                "region eu-west-1 (not us-east-1)",
            ),
            (
                "arn:aws:sns:eu-west-1:999999999999:sluice-alerts",
                "account",
            ),
            (
                "arn:aws:sns:eu-west-1:123456789012:alerts",
                "starts with \"sluice-\"",
            ),
            (
                "arn:aws:sqs:eu-west-1:123456789012:sluice-q",
                "SNS topic ARN",
            ),
            ("arn:aws:sns:eu-west-1:123456789012:sluice-ä", "1-256"),
            ("sluice-alerts", "SNS topic ARN"),
            ("", "SNS topic ARN"),
        ] {
            let reason = p.topic(bad).unwrap_err();
            assert!(reason.contains(says), "{bad}: {reason}");
        }
    }

    #[test]
    fn webhooks_are_https_and_never_link_local_or_metadata() {
        let deployed = policy(false);
        let local = policy(true);
        assert!(
            deployed
                .webhook("https://hooks.example.com/T0/B0/x?y=1")
                .is_ok()
        );
        assert!(deployed.webhook("https://[2001:db8::1]:8443/h").is_ok());
        for (bad, says) in [
            ("http://hooks.example.com/x", "https"),
            ("http://127.0.0.1:8080/x", "https"),
            ("ftp://example.com/x", "https"),
            ("https://169.254.169.254/latest/meta-data", "metadata"),
            ("https://169.254.10.1/x", "link-local"),
            ("https://[fe80::1]/x", "link-local"),
            ("https://[::ffff:169.254.169.254]/x", "metadata"),
            ("https://[fd00:ec2::254]/x", "metadata"),
            ("https://metadata.google.internal/x", "metadata"),
            ("https://0.0.0.0/x", "unspecified"),
            ("https://user:pw@example.com/x", "credentials"),
            ("hooks.example.com/x", "absolute URL"),
            ("", "absolute URL"),
        ] {
            let reason = deployed.webhook(bad).unwrap_err();
            assert!(reason.contains(says), "{bad}: {reason}");
        }
        // Loopback http only in local builds, and only loopback.
        assert!(local.webhook("http://127.0.0.1:8080/x").is_ok());
        assert!(local.webhook("http://localhost:8080/x").is_ok());
        assert!(local.webhook("http://[::1]:8080/x").is_ok());
        assert!(local.webhook("http://10.0.0.1/x").is_err());
        assert!(local.webhook("http://169.254.169.254/x").is_err());
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(deployed.webhook(&long).unwrap_err().contains("at most"));
    }

    #[test]
    fn a_webhook_shows_its_origin_only() {
        let url = policy(false)
            .webhook("https://hooks.slack.com/services/T0/B0/token123")
            .unwrap();
        assert_eq!(url.origin(), "https://hooks.slack.com");
        assert!(!format!("{url:?}").contains("token123"));
        let channel = Channel::Webhook {
            url,
            format: WebhookFormat::Slack,
        };
        assert_eq!(channel.label(), "https://hooks.slack.com");
    }

    fn spec(json: serde_json::Value) -> Result<NotificationsSpec, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn a_spec_names_every_bad_field() {
        let bad = spec(serde_json::json!({
            "rules": [
                {"on": [], "channel": {"type": "webhook", "url": "http://example.com/h"}},
                {"on": ["failed"], "channel": {"type": "sns", "topic_arn": "arn:aws:sns:us-east-1:123456789012:sluice-a"}},
                {"on": ["failed"], "channel": {"type": "webhook", "url": "https://169.254.169.254/"}},
            ],
            "quiet_period_seconds": 90000,
            "signing_secret": "short",
        }))
        .unwrap();
        let errors = bad.check(&policy(false), false).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rules[0].on",
                "rules[0].channel.url",
                "rules[1].channel.topic_arn",
                "rules[2].channel.url",
                "quiet_period_seconds",
                "signing_secret",
            ]
        );
        assert!(
            !errors.to_string().contains("short"),
            "the secret is never quoted"
        );
        // An unknown outcome is refused by the parser, at its path.
        assert!(
            spec(serde_json::json!({"rules": [{"on": ["exploded"], "channel": {"type": "sns", "topic_arn": "x"}}]}))
                .is_err()
        );
    }

    #[test]
    fn webhooks_need_a_signing_secret_given_or_stored() {
        let json = serde_json::json!({
            "rules": [{"on": ["failed", "recovered"], "channel": {"type": "webhook", "url": "https://example.com/h", "format": "slack"}}],
        });
        let errors = spec(json.clone())
            .unwrap()
            .check(&policy(false), false)
            .unwrap_err();
        assert_eq!(errors.errors()[0].field, "signing_secret");
        let checked = spec(json).unwrap().check(&policy(false), true).unwrap();
        assert_eq!(checked.quiet_period_seconds, DEFAULT_QUIET_PERIOD_SECONDS);
        assert_eq!(
            checked.rules[0].on,
            BTreeSet::from([NotifyOn::Failed, NotifyOn::Recovered])
        );
    }

    #[test]
    fn failures_alert_once_per_quiet_period_and_recovery_reports_the_rest() {
        let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap();
        let quiet = Duration::minutes(30);
        let mut state = AlertState::default();
        let mut notices = Vec::new();
        for (minute, outcome) in [
            (0, NotifyOn::Failed),
            (5, NotifyOn::Failed),
            (10, NotifyOn::TimedOut),
            (31, NotifyOn::Failed),
            (32, NotifyOn::Skipped),
            (33, NotifyOn::Failed),
            (40, NotifyOn::Succeeded),
            (41, NotifyOn::Succeeded),
            (42, NotifyOn::Failed),
        ] {
            let d = state.decide(outcome, t0 + Duration::minutes(minute), quiet);
            notices.push(d.notice);
            state = d.next;
        }
        assert_eq!(
            notices,
            [
                Some((NotifyOn::Failed, 0)),
                None,
                None,
                Some((NotifyOn::Failed, 2)),
                Some((NotifyOn::Skipped, 0)),
                None,
                Some((NotifyOn::Recovered, 1)),
                Some((NotifyOn::Succeeded, 0)),
                Some((NotifyOn::Failed, 0)),
            ]
        );
    }

    #[test]
    fn recovered_reaches_rules_on_recovered_or_succeeded() {
        let rule = |on: &[NotifyOn]| Rule {
            on: on.iter().copied().collect(),
            channel: Channel::Sns {
                topic_arn: TopicArn("arn:aws:sns:eu-west-1:1:sluice-a".into()),
            },
        };
        assert!(wants(&rule(&[NotifyOn::Recovered]), NotifyOn::Recovered));
        assert!(wants(&rule(&[NotifyOn::Succeeded]), NotifyOn::Recovered));
        assert!(!wants(&rule(&[NotifyOn::Recovered]), NotifyOn::Succeeded));
        assert!(!wants(&rule(&[NotifyOn::Failed]), NotifyOn::TimedOut));
    }

    #[test]
    fn final_states_and_their_outcomes() {
        assert_eq!(outcome_of(RunState::Lost), Some(NotifyOn::Failed));
        assert_eq!(outcome_of(RunState::TimedOut), Some(NotifyOn::TimedOut));
        assert_eq!(outcome_of(RunState::Canceled), None);
        assert_eq!(outcome_of(RunState::Running), None);
    }
}

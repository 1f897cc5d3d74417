//! The run report: counters kept per tenant (and per job) and per hour and day as runs end, read
//! back as buckets of runs per final state, rows written and duration percentiles.
//!
//! Durations are kept as a histogram of log-spaced buckets (each 10% wider than the one before),
//! so an item's size is bounded however many runs it counts; a percentile is the upper bound of
//! the bucket it falls in, at most 10% above the exact figure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use super::job::JobId;
use super::run::{RunState, RunStateChange};
use super::tenant::TenantId;
use super::validation::ValidationErrors;

/// The width of a report bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn step(self) -> Duration {
        match self {
            Granularity::Hour => Duration::hours(1),
            Granularity::Day => Duration::days(1),
        }
    }

    /// The most buckets one report answers (31 days of hours, 366 days).
    pub fn max_buckets(self) -> i64 {
        match self {
            Granularity::Hour => 31 * 24,
            Granularity::Day => 366,
        }
    }

    /// The start of the bucket holding `at`.
    pub fn floor(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.step()).unwrap_or(at)
    }
}

/// What a report counts of one run, recorded once when the run ends for good (after its last
/// attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    pub tenant: TenantId,
    pub job_id: JobId,
    pub state: RunState,
    pub rows_written: Option<u64>,
    /// From the run's creation (the fire) to its end, retries included.
    pub duration: Duration,
    pub ended_at: DateTime<Utc>,
}

impl RunEnd {
    /// The four buckets one end is counted in: tenant-wide and the job's (`None`, `Some`), per
    /// hour and per day, each with its start.
    pub fn buckets(&self) -> [(Option<&JobId>, Granularity, DateTime<Utc>); 4] {
        let at = |job, g: Granularity| (job, g, g.floor(self.ended_at));
        [
            at(None, Granularity::Hour),
            at(None, Granularity::Day),
            at(Some(&self.job_id), Granularity::Hour),
            at(Some(&self.job_id), Granularity::Day),
        ]
    }

    /// What the report counts of a change: its run's end when the change is final.
    pub fn of(change: &RunStateChange) -> Option<Self> {
        change.is_final.then(|| Self {
            tenant: change.tenant.clone(),
            job_id: change.job_id.clone(),
            state: change.state,
            rows_written: change.rows_written,
            duration: (change.time - change.created_at).max(Duration::zero()),
            ended_at: change.time,
        })
    }
}

/// The final states a report counts, in the order it lists them.
pub const FINAL_STATES: [RunState; 6] = [
    RunState::Succeeded,
    RunState::Failed,
    RunState::TimedOut,
    RunState::Canceled,
    RunState::Skipped,
    RunState::Lost,
];

/// Log-spaced duration buckets: bucket `i` holds durations up to `BASE_MS × RATIO^i`.
const BASE_MS: f64 = 100.0;
const RATIO: f64 = 1.1;
/// Bucket 170 ends past 30 days; longer runs share it.
pub const DURATION_BUCKETS: u16 = 171;

/// The histogram bucket a duration falls in.
pub fn duration_bucket(duration: Duration) -> u16 {
    let ms = duration.num_milliseconds().max(0) as f64;
    if ms <= BASE_MS {
        return 0;
    }
    let index = ((ms / BASE_MS).ln() / RATIO.ln()).ceil();
    (index as u16).min(DURATION_BUCKETS - 1)
}

/// The largest duration bucket `index` holds, in milliseconds.
pub fn duration_bucket_upper_ms(index: u16) -> u64 {
    (BASE_MS * RATIO.powi(i32::from(index))).round() as u64
}

/// The counters of one bucket as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub runs: BTreeMap<RunState, u64>,
    pub rows_written: u64,
    /// Duration bucket index -> runs.
    pub durations: BTreeMap<u16, u64>,
}

impl Counters {
    /// Adds one run's end (what the store does atomically, for the fakes and tests).
    pub fn add(&mut self, end: &RunEnd) {
        *self.runs.entry(end.state).or_default() += 1;
        self.rows_written += end.rows_written.unwrap_or(0);
        *self
            .durations
            .entry(duration_bucket(end.duration))
            .or_default() += 1;
    }

    /// The duration at quantile `q` (0-1): the upper bound of its bucket; `None` without runs.
    pub fn duration_quantile_ms(&self, q: f64) -> Option<u64> {
        let total: u64 = self.durations.values().sum();
        if total == 0 {
            return None;
        }
        // The rank of the q-quantile, 1-based (nearest-rank method).
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (index, count) in &self.durations {
            seen += count;
            if seen >= rank {
                return Some(duration_bucket_upper_ms(*index));
            }
        }
        None
    }
}

/// A report request, parsed: `[from, to)` aligned to whole buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportQuery {
    pub tenant: TenantId,
    pub job_id: Option<JobId>,
    pub granularity: Granularity,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The query parameters of `GET /reports/runs`, as received.
#[derive(Debug, Clone, Default)]
pub struct ReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub bucket: Option<String>,
    pub job_id: Option<String>,
}

impl ReportParams {
    /// Parses and bounds the request; every error names its parameter. Without `to`, the report
    /// ends with the bucket holding `now`; without `from`, it starts 7 days (hours: 24 hours)
    /// before `to`.
    pub fn parse(
        self,
        tenant: TenantId,
        now: DateTime<Utc>,
    ) -> Result<ReportQuery, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let granularity = match self.bucket.as_deref() {
            None | Some("day") => Granularity::Day,
            Some("hour") => Granularity::Hour,
            Some(_) => {
                errors.push("bucket", "must be \"hour\" or \"day\"");
                Granularity::Day
            }
        };
        let time = |name: &str, value: Option<&str>, errors: &mut ValidationErrors| {
            let text = value?;
            match DateTime::parse_from_rfc3339(text) {
                Ok(t) => Some(t.with_timezone(&Utc)),
                Err(_) => {
                    errors.push(
                        name,
                        "must be an RFC 3339 time with an offset, e.g. 2026-12-01T00:00:00Z",
                    );
                    None
                }
            }
        };
        let to = time("to", self.to.as_deref(), &mut errors);
        let from = time("from", self.from.as_deref(), &mut errors);
        let job_id = self.job_id.and_then(|id| {
            let parsed = JobId::parse(&id);
            if parsed.is_none() {
                errors.push("job_id", "must be a job id (job_…)");
            }
            parsed
        });
        // Whole buckets: `to` rounds up, `from` down.
        let to = to.map_or_else(
            || granularity.floor(now) + granularity.step(),
            |t| ceil(granularity, t),
        );
        let from = from.map_or_else(
            || {
                to - match granularity {
                    Granularity::Hour => Duration::hours(24),
                    Granularity::Day => Duration::days(7),
                }
            },
            |f| granularity.floor(f),
        );
        if from >= to {
            errors.push("from", "must be before `to`");
        } else if (to - from).num_seconds() / granularity.step().num_seconds()
            > granularity.max_buckets()
        {
            errors.push(
                "from",
                format!(
                    "the report spans at most {} buckets of a {}",
                    granularity.max_buckets(),
                    granularity.as_str()
                ),
            );
        }
        errors.into_result().map(|()| ReportQuery {
            tenant,
            job_id,
            granularity,
            from,
            to,
        })
    }
}

fn ceil(granularity: Granularity, at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = granularity.floor(at);
    if floor == at {
        at
    } else {
        floor + granularity.step()
    }
}

/// One bucket of the report as answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportBucket {
    pub start: DateTime<Utc>,
    /// Runs per final state (every state listed, zeros included).
    pub runs: BTreeMap<&'static str, u64>,
    pub rows_written: u64,
    /// Duration percentiles (bucket upper bounds, see the module doc); `null` without runs.
    pub duration_ms: Percentiles,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p50: Option<u64>,
    pub p95: Option<u64>,
}

impl ReportBucket {
    pub fn new(start: DateTime<Utc>, counters: &Counters) -> Self {
        Self {
            start,
            runs: FINAL_STATES
                .iter()
                .map(|s| (s.as_str(), counters.runs.get(s).copied().unwrap_or(0)))
                .collect(),
            rows_written: counters.rows_written,
            duration_ms: Percentiles {
                p50: counters.duration_quantile_ms(0.50),
                p95: counters.duration_quantile_ms(0.95),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn params(from: Option<&str>, to: Option<&str>, bucket: Option<&str>) -> ReportParams {
        ReportParams {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            bucket: bucket.map(str::to_owned),
            job_id: None,
        }
    }

    fn tenant() -> TenantId {
        TenantId::parse("acme").unwrap()
    }

    #[test]
    fn buckets_grow_by_ten_percent_and_hold_their_bounds() {
        assert_eq!(duration_bucket(Duration::milliseconds(0)), 0);
        assert_eq!(duration_bucket(Duration::milliseconds(100)), 0);
        assert_eq!(duration_bucket(Duration::milliseconds(101)), 1);
        assert_eq!(duration_bucket(Duration::milliseconds(110)), 1);
        assert_eq!(duration_bucket(Duration::days(400)), DURATION_BUCKETS - 1);
        for ms in [1, 99, 150, 999, 1_000, 1_001, 61_234, 3_600_000, 86_400_000] {
            let index = duration_bucket(Duration::milliseconds(ms));
            let upper = duration_bucket_upper_ms(index);
            assert!(
                upper as i64 >= ms,
                "{ms} ms in bucket {index} up to {upper}"
            );
            assert!(
                upper as f64 <= (ms.max(100) as f64) * 1.1 + 1.0,
                "{ms} ms: bound {upper} more than 10% above"
            );
        }
    }

    #[test]
    fn percentiles_are_nearest_rank_over_the_buckets() {
        let mut counters = Counters::default();
        assert_eq!(counters.duration_quantile_ms(0.5), None);
        for ms in [1_000, 1_000, 1_000, 10_000] {
            counters.add(&RunEnd {
                tenant: tenant(),
                job_id: JobId::generate(),
                state: RunState::Succeeded,
                rows_written: Some(5),
                duration: Duration::milliseconds(ms),
                ended_at: at("2026-12-05T10:00:00Z"),
            });
        }
        let p50 = counters.duration_quantile_ms(0.5).unwrap();
        let p95 = counters.duration_quantile_ms(0.95).unwrap();
        assert!((1_000..=1_100).contains(&p50), "{p50}");
        assert!((10_000..=11_000).contains(&p95), "{p95}");
        assert_eq!(counters.rows_written, 20);
        assert_eq!(counters.runs[&RunState::Succeeded], 4);
    }

    #[test]
    fn a_query_is_aligned_to_whole_buckets() {
        let now = at("2026-12-05T10:30:00Z");
        let q = params(
            Some("2026-12-01T13:00:00Z"),
            Some("2026-12-03T01:00:00+01:00"),
            None,
        )
        .parse(tenant(), now)
        .unwrap();
        assert_eq!(q.granularity, Granularity::Day);
        assert_eq!(
            (q.from, q.to),
            (at("2026-12-01T00:00:00Z"), at("2026-12-03T00:00:00Z"))
        );

        let q = params(None, None, Some("hour"))
            .parse(tenant(), now)
            .unwrap();
        assert_eq!(
            (q.from, q.to),
            (at("2026-12-04T11:00:00Z"), at("2026-12-05T11:00:00Z"))
        );
        let q = params(None, None, None).parse(tenant(), now).unwrap();
        assert_eq!(
            (q.from, q.to),
            (at("2026-11-29T00:00:00Z"), at("2026-12-06T00:00:00Z"))
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let now = at("2026-12-05T10:30:00Z");
        let fields = |p: ReportParams| -> Vec<String> {
            p.parse(tenant(), now)
                .unwrap_err()
                .errors()
                .iter()
                .map(|e| e.field.clone())
                .collect()
        };
        assert_eq!(fields(params(None, None, Some("week"))), ["bucket"]);
        assert_eq!(fields(params(Some("yesterday"), None, None)), ["from"]);
        assert_eq!(fields(params(None, Some("2026-12-05"), None)), ["to"]);
        assert_eq!(
            fields(params(
                Some("2026-12-05T00:00:00Z"),
                Some("2026-12-01T00:00:00Z"),
                None
            )),
            ["from"]
        );
        // 32 days of hours is more than a report answers.
        assert_eq!(
            fields(params(
                Some("2026-11-01T00:00:00Z"),
                Some("2026-12-03T00:00:00Z"),
                Some("hour")
            )),
            ["from"]
        );
        let mut with_job = params(None, None, None);
        with_job.job_id = Some("not-a-job".into());
        assert_eq!(fields(with_job), ["job_id"]);
    }
}

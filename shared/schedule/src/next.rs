//! Next-fire preview with EventBridge Scheduler's semantics.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::expression::{CronSchedule, DayOfMonth, DayOfWeek, RateSchedule, ScheduleExpression};
use crate::timezone::Timezone;

/// Upper bound on the fires returned by one call, whatever `n` asks for.
pub const MAX_FIRES: usize = 10_000;

/// Upper bound on the calendar days a cron evaluation looks at. 1970-2199 is ~84,000 days, so
/// this only guards against a bug; a never-matching cron (`cron(0 0 30 2 ? *)`) ends when its
/// years run out, after a few hundred month checks.
const MAX_DAYS: u32 = 100_000;

/// The next (at most `n`) fire times strictly after `after`, within `[start, end]` (either bound
/// optional), in order.
///
/// * `cron`: evaluated on the wall clock of `tz`. A local time that does not exist (the
///   spring-forward gap) does not fire that day; a local time that occurs twice (fall-back) fires
///   once, at its first occurrence.
/// * `rate`: fires at `start + k × interval`. Without `start` the schedule is taken as created at
///   `after` and fires immediately (EventBridge: "if you don't provide a StartDate for a
///   rate-based schedule, your schedule starts invoking the target immediately"), i.e. at
///   `after` itself, then every interval. The interval is elapsed time: `rate(1 day)` does not
///   follow the wall clock across DST changes.
/// * `at`: fires once at its local time in `tz` (first occurrence if repeated, never if it falls
///   in a gap).
pub fn next_fires(
    expr: &ScheduleExpression,
    tz: &Timezone,
    after: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let n = n.min(MAX_FIRES);
    if n == 0 {
        return Vec::new();
    }
    match expr {
        ScheduleExpression::Cron(cron) => cron_fires(cron, tz, after, start, end, n),
        ScheduleExpression::Rate(rate) => rate_fires(*rate, after, start, end, n),
        ScheduleExpression::At(local) => tz
            .resolve(*local)
            .filter(|t| *t > after && start.is_none_or(|s| *t >= s) && end.is_none_or(|e| *t <= e))
            .into_iter()
            .collect(),
    }
}

fn rate_fires(
    rate: RateSchedule,
    after: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let interval = rate.interval();
    let step = interval.num_seconds();
    let (anchor, inclusive) = match start {
        Some(s) => (s, false),
        None => (after, true),
    };
    let mut k = if after < anchor {
        0
    } else {
        let elapsed = (after - anchor).num_seconds();
        let k = elapsed / step;
        if inclusive && elapsed % step == 0 {
            k
        } else {
            k + 1
        }
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let Some(t) = i32::try_from(k)
            .ok()
            .and_then(|k| interval.checked_mul(k))
            .and_then(|d| anchor.checked_add_signed(d))
        else {
            break;
        };
        if end.is_some_and(|e| t > e) {
            break;
        }
        if t > after || (inclusive && t == after) {
            out.push(t);
        }
        k += 1;
    }
    out
}

fn last_day(year: i32, month: u32) -> u32 {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// Day of week with 1 = SUN … 7 = SAT.
fn dow(date: NaiveDate) -> u32 {
    date.weekday().number_from_sunday()
}

fn is_weekday(date: NaiveDate) -> bool {
    (2..=6).contains(&dow(date))
}

fn day_matches(cron: &CronSchedule, date: NaiveDate, last: u32) -> bool {
    let day = date.day();
    let dom_ok = match &cron.day_of_month {
        DayOfMonth::NoSpecific => true,
        DayOfMonth::Days(set) => set.contains(day),
        DayOfMonth::Last => day == last,
        DayOfMonth::LastWeekday => {
            let mut d = date.with_day(last).unwrap_or(date);
            while !is_weekday(d) {
                d = d.pred_opt().unwrap_or(d);
            }
            day == d.day()
        }
        DayOfMonth::NearestWeekday(target) => {
            *target <= last && {
                let t = date.with_day(*target).unwrap_or(date);
                let nearest = match dow(t) {
                    // Saturday: Friday before, or Monday after when the 1st.
                    7 if *target == 1 => 3,
                    7 => *target - 1,
                    // Sunday: Monday after, or Friday before when the last day.
                    1 if *target == last => *target - 2,
                    1 => *target + 1,
                    _ => *target,
                };
                day == nearest
            }
        }
    };
    let dow_ok = match &cron.day_of_week {
        DayOfWeek::NoSpecific => true,
        DayOfWeek::Days(set) => set.contains(dow(date)),
        DayOfWeek::LastOf(d) => dow(date) == *d && day + 7 > last,
        DayOfWeek::Nth(d, nth) => dow(date) == *d && (day - 1) / 7 + 1 == *nth,
    };
    dom_ok && dow_ok
}

fn cron_fires(
    cron: &CronSchedule,
    tz: &Timezone,
    after: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    n: usize,
) -> Vec<DateTime<Utc>> {
    let lower = start.map_or(after, |s| s.max(after));
    // A day early, so that no local date whose fires can follow `lower` is missed.
    let first_day = tz.local_date(lower).and_then(|d| d.pred_opt());
    let last_day_local = end.and_then(|e| tz.local_date(e)?.succ_opt());
    let Some(first_day) = first_day else {
        return Vec::new();
    };
    let hours = cron.hours.values();
    let minutes = cron.minutes.values();
    let months = cron.months.values();
    let mut out = Vec::with_capacity(n);
    let mut days_seen = 0u32;
    for year in cron.years.values() {
        let year = year as i32;
        if year < first_day.year() {
            continue;
        }
        for &month in &months {
            if (year, month) < (first_day.year(), first_day.month()) {
                continue;
            }
            let last = last_day(year, month);
            for day in 1..=last {
                let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
                    continue;
                };
                if date < first_day {
                    continue;
                }
                if last_day_local.is_some_and(|l| date > l) {
                    return out;
                }
                days_seen += 1;
                if days_seen > MAX_DAYS {
                    return out;
                }
                if !day_matches(cron, date, last) {
                    continue;
                }
                for &h in &hours {
                    for &m in &minutes {
                        let Some(local) = date.and_hms_opt(h, m, 0) else {
                            continue;
                        };
                        let Some(t) = tz.resolve(local) else {
                            continue;
                        };
                        if t <= after || start.is_some_and(|s| t < s) {
                            continue;
                        }
                        if end.is_some_and(|e| t > e) {
                            return out;
                        }
                        out.push(t);
                        if out.len() == n {
                            return out;
                        }
                    }
                }
            }
        }
    }
    out
}

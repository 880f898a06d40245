//! The one place for wall-clock time and UTC calendar arithmetic.
//!
//! Every crate that reads "now" or turns Unix milliseconds into a calendar date does it here, so the
//! days-to-civil arithmetic exists once and is tested once (leap years, 1970, 2100, before 1970).
//! Gateway budgets reset at UTC midnight and on the first of the month; readiness days are UTC days;
//! export file names carry a UTC stamp. Code that measures windows asks a [`Clock`], so tests move time
//! by hand instead of sleeping. The pure cores (auren-hrm, auren-hrv, auren-cep) never depend on this
//! crate: their callers pass time in.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// This instant moved forward by `duration` (saturating).
    pub fn plus(self, duration: Duration) -> Self {
        let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// The UTC calendar day this instant falls on.
    pub fn utc_date(self) -> UtcDate {
        UtcDate::from_days(self.0.div_euclid(MS_PER_DAY))
    }
}

impl fmt::Display for UnixMillis {
    /// RFC 3339 in UTC, to the second: `2025-11-21T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.utc_date();
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{date}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// Milliseconds in one UTC day (UTC has no leap seconds in Unix time).
pub const MS_PER_DAY: i64 = 86_400_000;

impl UnixMillis {
    /// The operating system's wall clock, now.
    pub fn now() -> Self {
        SystemClock.now()
    }

    /// Whole UTC days since 1970-01-01 (negative before it): the day a moment counts for.
    pub fn day_number(self) -> i64 {
        self.0.div_euclid(MS_PER_DAY)
    }

    /// `YYYY-MM-DD HH:MM` in UTC: sorts by time, fits a file name or a table cell.
    pub fn civil_minute(self) -> String {
        let minutes_of_day = self.0.rem_euclid(MS_PER_DAY) / 60_000;
        format!(
            "{} {:02}:{:02}",
            self.utc_date(),
            minutes_of_day / 60,
            minutes_of_day % 60
        )
    }
}

/// Now, as Unix milliseconds: the glue's one call for "now" (the pure cores get time passed in).
pub fn now_unix_ms() -> i64 {
    UnixMillis::now().0
}

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> UnixMillis;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixMillis(ms)
    }
}

/// A clock that only moves when told to: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: UnixMillis) -> Self {
        Self(AtomicI64::new(start.0))
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, to: UnixMillis) {
        self.0.store(to.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.0.load(Ordering::SeqCst))
    }
}

/// A proleptic Gregorian calendar date in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl UtcDate {
    /// The date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    pub fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }

    /// Days from 1970-01-01 to this date (Howard Hinnant's `days_from_civil`).
    pub fn to_days(self) -> i64 {
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let month = i64::from(self.month);
        let era = year.div_euclid(400);
        let yoe = year.rem_euclid(400);
        let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Midnight UTC at the start of this date.
    pub fn start(self) -> UnixMillis {
        UnixMillis(self.to_days() * MS_PER_DAY)
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Self {
        Self { day: 1, ..self }
    }

    /// The first day of the following month.
    pub fn first_of_next_month(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
                day: 1,
            }
        } else {
            Self {
                month: self.month + 1,
                day: 1,
                ..self
            }
        }
    }

    /// The next calendar day.
    pub fn next_day(self) -> Self {
        Self::from_days(self.to_days() + 1)
    }

    /// `YYYY-MM`, the key monthly totals are grouped by.
    pub fn month_key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for UtcDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

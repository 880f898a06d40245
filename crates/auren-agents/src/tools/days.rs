//! The calendar words tools accept (`YYYY-MM-DD`, `today`, `yesterday`) and the periods built from them.
//! Days are UTC day numbers, as readiness counts them.

use auren_clock::UtcDate;

/// The longest period a tool reads, in days (a bit over a year, so "the last year" always fits).
pub const MAX_PERIOD_DAYS: i64 = 400;

/// The day `text` names, relative words counted from `today`.
pub fn parse_day(text: &str, today: i64) -> Result<i64, String> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "today" => return Ok(today),
        "yesterday" => return Ok(today - 1),
        _ => {}
    }
    let bad = || format!("{t:?} is not a date: write YYYY-MM-DD, \"today\" or \"yesterday\"");
    let mut parts = t.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    let day: u32 = d.parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(format!("{t:?} is not a calendar date"));
    }
    Ok(UtcDate { year, month, day }.to_days())
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD` of day number `day`.
pub fn format_day(day: i64) -> String {
    UtcDate::from_days(day).to_string()
}

/// An inclusive span of days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// The period from `from` to `to` (either absent: `default_days` ending at `to`, `to` defaulting to today),
    /// refused when reversed or longer than [`MAX_PERIOD_DAYS`].
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: i64,
        default_days: i64,
    ) -> Result<Self, String> {
        let to = to.map(|t| parse_day(t, today)).transpose()?.unwrap_or(today);
        let from = from
            .map(|f| parse_day(f, today))
            .transpose()?
            .unwrap_or(to - (default_days - 1));
        Self::new(from, to)
    }

    pub fn new(from: i64, to: i64) -> Result<Self, String> {
        if from > to {
            return Err(format!(
                "the period starts {} after it ends {}",
                format_day(from),
                format_day(to)
            ));
        }
        if to - from + 1 > MAX_PERIOD_DAYS {
            return Err(format!(
                "the period {}..{} spans {} days; at most {MAX_PERIOD_DAYS} are allowed",
                format_day(from),
                format_day(to),
                to - from + 1
            ));
        }
        Ok(Self { from, to })
    }

    pub fn days(self) -> i64 {
        self.to - self.from + 1
    }

    pub fn contains(self, day: i64) -> bool {
        (self.from..=self.to).contains(&day)
    }

    /// "2026-11-24..2026-11-30".
    pub fn label(self) -> String {
        format!("{}..{}", format_day(self.from), format_day(self.to))
    }
}

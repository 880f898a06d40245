//! The grounding check: every measured quantity in an answer becomes a [`Claim`], grounded when a receipt
//! of the turn vouches for it. A measured quantity is
//! - a number with a unit: ms, ms², bpm or % ("62 ms", "6.3%");
//! - a decimal after "lnRMSSD" in its sentence or right before it ("3.9 lnRMSSD");
//! - a number **anchored to a metric name** (see `metric_names`: RMSSD, SDNN, lnRMSSD, HR / heart rate /
//!   resting HR, pNN50, SD1, SD2, DFA α1/α2, LF, HF, LF/HF, VLF, total power, stress index, SampEn, ApEn,
//!   PNS/SNS index, readiness, HRV, …), with or without a unit. Anchored means: the name comes before the
//!   number with nothing between but at most `MAX_LINK_WORDS` linking words ("is", "was", "of", "at",
//!   "averaged", "fell to", "this morning", …, see `LINK_WORDS`), a date, or `: = ≈ ~ ( )` — "RMSSD 45",
//!   "RMSSD: 45", "RMSSD was 45", "your RMSSD this morning was 45", "resting HR of 52", "DFA α1 0.62",
//!   "LF/HF 2.3"; or the name comes right after the number, or after "for" — "0.62 α1", "45 for RMSSD".
//!   A list of names shares the number ("RMSSD and HR were 45 and 52": either metric). The number must be
//!   the first one after the name, and a range ("RMSSD 40–45", "from 40 to 45") gives both ends the name;
//! - a number **anchored to a test statistic** (see `statistics`): t, df, p, Mann–Whitney U, Cohen's d,
//!   Hedges' g, effect size, n, z, the rank-biserial r — "t = 2.31", "t(12) = 2.31" (12 is the df),
//!   "p = .03", "a p of 0.03", "p < 0.05", "U: 14", "Cohen's d 0.8", "the effect size was 0.8", "n = 14",
//!   "(df 12.3)". A bare letter needs a relation or a linking word and its usual case ("d) 3", "don't 5",
//!   "p.m.", "vitamin d 30" are not statistics).
//!
//! Not measurements: counts and durations (a number followed by "days", "sessions", "mornings", "times",
//! …), ordinals and labels ("2nd", "day 2", "zone 2 HR": a number after "day", "zone", "week", … or glued to
//! letters), times ("07:30"), versions and abbreviations ("1.2.3", "v.2", "fig.3"), fractions ("3/5"), a
//! metric name followed by a count ("7 lnRMSSD readings"), and a year right before a name that has a number
//! of its own ("in 2045 RMSSD 45": only 45 is the RMSSD). A leading-dot decimal is read whole (".62" is
//! 0.62); an ellipsis is no decimal point ("...62 ms" is 62 ms). A name and its number in other words
//! ("RMSSD over 7 days", "SD1 looks fine at 31") are not anchored: the linking words are a closed list, so
//! prose is not read as a claim.
//!
//! A stated value with k decimals matches a receipt value of the same unit that rounds to it at k decimals
//! (so "62 ms" is grounded by 61.8 ms, "62.4 ms" is not); percentages are also accepted when the receipt
//! value rounded to one decimal first rounds to the statement. Signs are ignored ("fell by 0.3" states a
//! difference of −0.3). A number without a unit is read in its metric's units (RMSSD in ms, HR in bpm,
//! pNN50 in %, LF in ms², lnRMSSD in ln ms, the ratios and indices as plain numbers). When the number is
//! anchored to a metric, a receipt value whose label names a metric must name that one ("RMSSD 1,234" is not
//! grounded by SDNN 1,234 ms); a label naming none (a difference, a change in %) still grounds it in a
//! measured unit, but a plain number of no metric (a count, t, p, U) never grounds a metric's value. A
//! statistic is grounded only by a receipt value whose label names that statistic ("Welch t", "Mann–Whitney
//! p (two-sided)", "Cohen's d", "n period A …"; "effect size" by d, g or r), at the same rounding; a bound
//! ("p < 0.05", "p ≤ .01", "n of at least 10") by such a value that satisfies it. When the
//! sentence names a date, only receipt values of that day (or of no day) count, so a true value put on the
//! wrong day is flagged. Ranges ("55–62 ms") give both ends the unit.
//! A hand-written scanner, no regex: an answer of 2,000 tokens is checked in well under a millisecond.

mod metric_names;
mod statistics;

use metric_names::{Metric, MetricSet, Metrics, Named, find_names, label_metrics, normalise, units_of};
use statistics::{Bound, Stats};

use crate::events::Claim;
use crate::receipt::{Receipt, ReceiptId, ReceiptValue, Unit};

/// At most this many linking words between a metric name and its number.
const MAX_LINK_WORDS: usize = 5;

/// The words that may stand between a metric name and its number ("your RMSSD this morning was 45").
const LINK_WORDS: &[&str] = &[
    "is",
    "was",
    "were",
    "are",
    "be",
    "been",
    "being",
    "has",
    "have",
    "had",
    "of",
    "at",
    "to",
    "from",
    "by",
    "for",
    "on",
    "about",
    "around",
    "roughly",
    "approximately",
    "approx",
    "near",
    "nearly",
    "almost",
    "just",
    "only",
    "still",
    "now",
    "currently",
    "today",
    "yesterday",
    "tonight",
    "this",
    "that",
    "last",
    "morning",
    "week",
    "night",
    "averaged",
    "averaging",
    "average",
    "mean",
    "median",
    "typically",
    "fell",
    "dropped",
    "dipped",
    "declined",
    "decreased",
    "rose",
    "climbed",
    "increased",
    "jumped",
    "improved",
    "recovered",
    "went",
    "came",
    "reached",
    "hit",
    "peaked",
    "stood",
    "stayed",
    "remained",
    "measured",
    "read",
    "up",
    "down",
    "a",
    "an",
    "the",
    "your",
    "my",
    "its",
    "ranged",
    "ranging",
    "varied",
    "between",
    "sat",
    "sits",
    "settled",
    "showed",
    "shows",
    "registered",
    "recorded",
];

/// A number found in the text, before matching.
#[derive(Clone, Debug, PartialEq)]
struct Stated {
    start: usize,
    end: usize,
    value: f64,
    decimals: u32,
    unit: Option<Unit>,
    /// The metrics it is anchored to by name (0: none).
    metrics: Metrics,
    /// The test statistics it is anchored to by name (0: none; see `statistics`).
    stats: Stats,
    /// A bound the statistic is said to keep ("p < 0.05"), instead of equalling the number.
    bound: Option<Bound>,
}

/// A date named in the text: the byte span, and the day as `-MM-DD` with the year when given.
#[derive(Clone, Debug, PartialEq)]
struct NamedDate {
    start: usize,
    end: usize,
    year: Option<i32>,
    month: u32,
    day: u32,
}

/// The claims of `text` against `receipts`, in the order they appear.
pub fn ground(text: &str, receipts: &[Receipt]) -> Vec<Claim> {
    let dates = find_dates(text);
    let mut numbers = find_numbers(text, &dates);
    let norm = normalise(text);
    let names = find_names(text, &norm);
    anchor_to_names(text, &norm, &names, &dates, &mut numbers);
    inherit_range_units(text, &mut numbers);
    let mut counted = Counted::default();
    numbers
        .into_iter()
        .filter(|n| n.unit.is_some() || n.metrics != 0 || n.stats != 0)
        .map(|n| {
            let mut units = match n.unit {
                Some(u) => vec![u],
                None if n.stats != 0 => vec![Unit::Plain],
                None => units_of(n.metrics),
            };
            // "HRV 3.8" is lnRMSSD, "HRV 45" RMSSD: the likelier unit first (it names an ungrounded claim's unit).
            if n.decimals > 0 && n.value.abs() < 10.0 && units.contains(&Unit::LnMs) {
                units.sort_by_key(|u| *u != Unit::LnMs);
            }
            let wanted = Wanted {
                value: n.value,
                decimals: n.decimals,
                units: &units,
                metrics: MetricSet::of(n.metrics),
                stats: n.stats,
                bound: n.bound,
                date: date_in_sentence(text, &dates, n.start, n.end),
            };
            let found = find_receipt(receipts, &wanted);
            let stated = text[n.start..n.end].trim();
            Claim {
                text: stated.to_owned(),
                occurrence: counted.occurrence(text, stated, n.start),
                value: n.value,
                unit: found.as_ref().map_or(units[0], |f| f.unit),
                grounded: found.is_some(),
                value_index: found.as_ref().map(|f| f.index),
                receipt: found.map(|f| f.receipt),
            }
        })
        .collect()
}

/// What a receipt value must be to ground a stated number.
struct Wanted<'a> {
    value: f64,
    decimals: u32,
    /// The stated unit, or the units of the metric it is anchored to.
    units: &'a [Unit],
    /// The metrics it is anchored to (none: empty).
    metrics: MetricSet,
    /// The test statistics it is anchored to (none: 0), and the bound it states for them.
    stats: Stats,
    bound: Option<Bound>,
    date: Option<&'a NamedDate>,
}

impl Wanted<'_> {
    /// Whether value `v`, of one of its units, grounds this number, day aside: it rounds to it, and when the
    /// number is anchored to a metric, a label naming metrics must name this one, and a label naming none
    /// vouches for a measured unit, never for a plain count or test statistic. The label is read last: only
    /// for the few values that already match (reading every label of a year's trend cost more than the rest).
    fn admits(&self, v: &ReceiptValue) -> bool {
        // A statistic is vouched for only by a value of that statistic: "t = 3.3" by "Welch t", never by a
        // count or an index that happens to be 3.3; a bound by any such value that keeps it.
        if self.stats != 0 {
            let value_ok = match self.bound {
                Some(b) => b.holds(v.value, self.value),
                None => rounds_to(v.value, self.value, self.decimals, v.unit),
            };
            return value_ok && statistics::label_grounds(&v.label, self.stats);
        }
        if !rounds_to(v.value, self.value, self.decimals, v.unit) {
            return false;
        }
        if self.metrics.is_empty() {
            return true;
        }
        let named = label_metrics(&v.label);
        self.metrics.overlaps(named) || (named.is_empty() && v.unit != Unit::Plain)
    }
}

/// The receipt value that grounds a claim.
struct Found {
    receipt: ReceiptId,
    /// The value's index in the receipt's `values`.
    index: u32,
    unit: Unit,
}

/// The receipt value that grounds `w`: a value of the named day first.
fn find_receipt(receipts: &[Receipt], w: &Wanted) -> Option<Found> {
    let day_ok = |day: &Option<String>| match (w.date, day) {
        (None, _) | (Some(_), None) => true,
        (Some(d), Some(day)) => date_matches(d, day),
    };
    // A value of the named day first, so the claim points at the receipt that states that day.
    let mut fallback = None;
    for r in receipts {
        for (index, v) in (0u32..).zip(&r.values) {
            if !w.units.contains(&v.unit) || !day_ok(&v.day) || !w.admits(v) {
                continue;
            }
            let found = || Found {
                receipt: r.id.clone(),
                index,
                unit: v.unit,
            };
            if w.date.is_none() || v.day.is_some() {
                return Some(found());
            }
            fallback.get_or_insert_with(found);
        }
    }
    fallback
}

/// For each claim text, how far the answer has been searched for it and the whole occurrences found
/// before there. Claims come in text order, so a text's search resumes where its last claim's stopped:
/// searching from the start for every claim cost most of the check of a long answer full of statistics.
#[derive(Default)]
struct Counted<'t> {
    searched: std::collections::HashMap<&'t str, (usize, u32)>,
}

impl<'t> Counted<'t> {
    /// Which occurrence (from 0) of `stated` in `text` the one at byte `start` is, counting only
    /// occurrences that are whole numbers: the window finds a claim by it, so "45" is not marked inside
    /// "145", "6:45", "3.45" or an earlier "45 minutes". `start` is after the previous claim of `stated`.
    fn occurrence(&mut self, text: &str, stated: &'t str, start: usize) -> u32 {
        let (from, mut count) = self.searched.get(stated).copied().unwrap_or((0, 0));
        let from = from.min(start);
        for (at, _) in text[from..].match_indices(stated) {
            let at = from + at;
            if at >= start {
                break;
            }
            if whole_number_at(text, at, at + stated.len()) {
                count += 1;
            }
        }
        self.searched.insert(stated, (start, count));
        count
    }
}

/// Whether `text[start..end]` is not part of a longer number: no digit next to it, and no '.' or ':' next
/// to it that has a digit on its other side ("3.45", "6:45", "45.2"; "1,045" has a digit next to "45").
fn whole_number_at(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let digit = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit);
    let joiner = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(|c| matches!(c, b'.' | b':'));
    let before = start.checked_sub(1);
    let after = Some(end);
    !(digit(before)
        || digit(after)
        || (joiner(before) && digit(start.checked_sub(2)))
        || (joiner(after) && digit(Some(end + 1))))
}

fn rounds_to(actual: f64, stated: f64, decimals: u32, unit: Unit) -> bool {
    let scale = 10f64.powi(decimals.min(12) as i32);
    let (a, s) = (actual.abs(), stated.abs());
    let same = |x: f64| ((x * scale).round() - (s * scale).round()).abs() < 0.5;
    same(a) || (unit == Unit::Percent && same((a * 10.0).round() / 10.0))
}

/// Whether receipt day `day` (`YYYY-MM-DD`) is the named date; compared as numbers, without allocating.
fn date_matches(d: &NamedDate, day: &str) -> bool {
    let b = day.as_bytes();
    if b.len() != 10 {
        return false;
    }
    let (year, _) = digits_at(b, 0, 4);
    let (month, _) = digits_at(b, 5, 2);
    let (dom, _) = digits_at(b, 8, 2);
    month == d.month && dom == d.day && d.year.is_none_or(|y| i64::from(y) == i64::from(year))
}

/// The date nearest to the number within its sentence.
fn date_in_sentence<'a>(
    text: &str,
    dates: &'a [NamedDate],
    start: usize,
    end: usize,
) -> Option<&'a NamedDate> {
    let (s_from, s_to) = sentence_bounds(text, start, end);
    dates
        .iter()
        .filter(|d| d.start >= s_from && d.end <= s_to)
        .min_by_key(|d| {
            if d.end <= start {
                start - d.end
            } else {
                d.start.saturating_sub(end)
            }
        })
}

/// The sentence around `start..end`: up to a '.', '!', '?' followed by whitespace, or a line break.
fn sentence_bounds(text: &str, start: usize, end: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let is_end = |i: usize| {
        b[i] == b'\n'
            || (matches!(b[i], b'.' | b'!' | b'?' | b';')
                && b.get(i + 1).is_none_or(|c| c.is_ascii_whitespace()))
    };
    let from = (0..start).rev().find(|&i| is_end(i)).map_or(0, |i| i + 1);
    let to = (end..b.len()).find(|&i| is_end(i)).unwrap_or(b.len());
    (from, to)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_at(lower: &str, i: usize) -> Option<(u32, usize)> {
    let rest = &lower[i..];
    let idx = MONTHS.iter().position(|m| rest.starts_with(m))?;
    let len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
    // "mar" of "march" and "sept" are months; "mayor" or "decide" are not.
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = &rest[..len];
    (word.len() == 3 || FULL[idx] == word || word == "sept").then_some((idx as u32 + 1, len))
}

fn digits_at(b: &[u8], i: usize, max: usize) -> (u32, usize) {
    let start = i.min(b.len());
    let len = b[start..]
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let v = b[start..start + len]
        .iter()
        .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    (v, len)
}

/// `YYYY-MM-DD`, `3 December [2026]`, `December 3[, 2026]`, `Dec 3`.
fn find_dates(text: &str) -> Vec<NamedDate> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if !word_start || !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let found = if b[i].is_ascii_digit() {
            iso_date_at(b, i).or_else(|| day_month_at(&lower, i))
        } else {
            month_day_at(&lower, i)
        };
        match found {
            Some(d) => {
                i = d.end;
                out.push(d);
            }
            // Skip the rest of the word or number.
            None => {
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
            }
        }
    }
    out
}

/// `2026-12-03` at `i`.
fn iso_date_at(b: &[u8], i: usize) -> Option<NamedDate> {
    let (year, yl) = digits_at(b, i, 5);
    if yl != 4 || b.get(i + 4) != Some(&b'-') || b.get(i + 7) != Some(&b'-') {
        return None;
    }
    let (month, ml) = digits_at(b, i + 5, 3);
    let (day, dl) = digits_at(b, i + 8, 3);
    (ml == 2 && dl == 2 && (1..=12).contains(&month) && (1..=31).contains(&day)).then_some(NamedDate {
        start: i,
        end: i + 10,
        year: Some(year as i32),
        month,
        day,
    })
}

/// A four-digit year at `at` after `skip` separator bytes: the year and the end of the date.
fn year_after(b: &[u8], at: usize, skip: usize) -> (Option<i32>, usize) {
    let (y, yl) = digits_at(b, at + skip, 5);
    if yl == 4 {
        (Some(y as i32), at + skip + 4)
    } else {
        (None, at)
    }
}

/// `3 December [2026]`, `3rd Dec` at `i`.
fn day_month_at(lower: &str, i: usize) -> Option<NamedDate> {
    let b = lower.as_bytes();
    let (day, len) = digits_at(b, i, 3);
    if !(1..=2).contains(&len) || !(1..=31).contains(&day) {
        return None;
    }
    let mut j = i + len;
    if ["st", "nd", "rd", "th"].iter().any(|s| lower[j..].starts_with(s)) {
        j += 2;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    let (month, ml) = month_at(lower, j + 1)?;
    let end = j + 1 + ml;
    let (year, end) = if b.get(end) == Some(&b' ') {
        year_after(b, end, 1)
    } else {
        (None, end)
    };
    Some(NamedDate {
        start: i,
        end,
        year,
        month,
        day,
    })
}

/// `December 3[, 2026]`, `Dec. 3` at `i`.
fn month_day_at(lower: &str, i: usize) -> Option<NamedDate> {
    let b = lower.as_bytes();
    let (month, ml) = month_at(lower, i)?;
    let mut j = i + ml;
    if b.get(j) == Some(&b'.') {
        j += 1;
    }
    if b.get(j) != Some(&b' ') {
        return None;
    }
    let (day, dl) = digits_at(b, j + 1, 3);
    if !(1..=2).contains(&dl) || !(1..=31).contains(&day) {
        return None;
    }
    let end = j + 1 + dl;
    let (year, end) = match b.get(end) {
        Some(b',') if b.get(end + 1) == Some(&b' ') => year_after(b, end, 2),
        Some(b' ') => year_after(b, end, 1),
        _ => (None, end),
    };
    Some(NamedDate {
        start: i,
        end,
        year,
        month,
        day,
    })
}

/// The unit written right after byte `i` (spaces skipped), and where it ends.
fn unit_after(lower: &str, i: usize) -> Option<(Unit, usize)> {
    let rest = &lower[i..];
    let trimmed = rest.trim_start_matches([' ', '\u{a0}', '\u{202f}']);
    let at = i + (rest.len() - trimmed.len());
    let word_end = |len: usize| trimmed[len..].chars().next().is_none_or(|c| !c.is_alphanumeric());
    for (pat, unit) in [
        ("ms²", Unit::Ms2),
        ("ms^2", Unit::Ms2),
        ("ms2", Unit::Ms2),
        ("milliseconds squared", Unit::Ms2),
        ("milliseconds", Unit::Ms),
        ("ms", Unit::Ms),
        ("bpm", Unit::Bpm),
        ("beats per minute", Unit::Bpm),
        ("beats/min", Unit::Bpm),
        ("%", Unit::Percent),
        ("percent", Unit::Percent),
        ("per cent", Unit::Percent),
    ] {
        if trimmed.starts_with(pat) && (pat == "%" || word_end(pat.len())) {
            return Some((unit, at + pat.len()));
        }
    }
    None
}

/// The spellings of lnRMSSD a number may follow or precede.
const LN_RMSSD_NAMES: [&str; 5] = ["lnrmssd", "ln rmssd", "ln(rmssd)", "log rmssd", "ln-rmssd"];

/// lnRMSSD named right after byte `i` ("3.9 lnRMSSD", spaces skipped), and where the name ends.
fn ln_rmssd_after(lower: &str, i: usize) -> Option<usize> {
    let rest = &lower[i..];
    let trimmed = rest.trim_start_matches([' ', '\u{a0}', '\u{202f}']);
    let at = i + (rest.len() - trimmed.len());
    LN_RMSSD_NAMES.iter().find_map(|name| {
        let after = trimmed.strip_prefix(name)?;
        after
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
            .then_some(at + name.len())
    })
}

/// Whether the 48 bytes before `start` in its sentence name lnRMSSD.
fn after_ln_rmssd(lower: &str, start: usize, sentence_from: usize) -> bool {
    let mut from = start.saturating_sub(48).max(sentence_from);
    while !lower.is_char_boundary(from) {
        from += 1;
    }
    let window = &lower[from..start];
    LN_RMSSD_NAMES.iter().any(|p| window.contains(p))
}

fn find_numbers(text: &str, dates: &[NamedDate]) -> Vec<Stated> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Dates are found in text order: the next one to skip is always at the front.
    let mut dates = dates.iter().peekable();
    while i < b.len() {
        while dates.peek().is_some_and(|d| d.end <= i) {
            dates.next();
        }
        if let Some(d) = dates.peek().filter(|d| d.start == i) {
            i = d.end;
            continue;
        }
        if !b[i].is_ascii_digit() || (i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) {
            i += 1;
            continue;
        }
        let start = match dot_before(b, i) {
            DotBefore::InToken => {
                i += 1;
                continue;
            }
            DotBefore::LeadingPoint => i - 1,
            DotBefore::Absent => i,
        };
        let negative = lower[..start].ends_with('-') && (start < 2 || !b[start - 2].is_ascii_alphanumeric())
            || lower[..start].ends_with('\u{2212}');
        let (digits, decimals, j) = read_number(b, start);
        // A time of day (07:30) or a version (1.2.3) is not a measurement.
        let tail_is_time = b.get(j) == Some(&b':') && b.get(j + 1).is_some_and(u8::is_ascii_digit);
        let tail_is_version = b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit);
        if tail_is_time || tail_is_version {
            i = j + 1;
            continue;
        }
        let Ok(mut value) = digits.parse::<f64>() else {
            i = j;
            continue;
        };
        if negative {
            value = -value;
        }
        // lnRMSSD has no unit word: a decimal below 10 right before or after its name is one.
        let ln_plausible = decimals > 0 && value.abs() < 10.0;
        let named_after = ln_rmssd_after(&lower, j).filter(|_| ln_plausible);
        // A number with neither is anchored to a metric name later, or read as lnRMSSD by its sentence.
        let (unit, end) = match (unit_after(&lower, j), named_after) {
            (Some((u, e)), _) => (Some(u), e),
            (None, Some(e)) => (Some(Unit::LnMs), e),
            (None, None) => (None, j),
        };
        let metrics = if unit == Some(Unit::LnMs) {
            Metric::LnRmssd.bit()
        } else {
            0
        };
        out.push(Stated {
            start,
            end,
            value,
            decimals,
            unit,
            metrics,
            stats: 0,
            bound: None,
        });
        i = end.max(j);
    }
    out
}

/// What a '.' right before a number's first digit makes of it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum DotBefore {
    /// No '.', or an ellipsis ("was...62"): the number starts at the digit.
    Absent,
    /// A decimal point that opens the number (".62", "(.5", "−.3"): it starts at the '.'.
    LeadingPoint,
    /// A '.' glued to a letter or digit ("v.2", "fig.3", the tail of "1.2.3"): not a number.
    InToken,
}

/// What the byte before the digit at `i` makes of the number there (see [`DotBefore`]).
fn dot_before(b: &[u8], i: usize) -> DotBefore {
    if i == 0 || b[i - 1] != b'.' {
        return DotBefore::Absent;
    }
    match i.checked_sub(2).map(|k| b[k]) {
        Some(c) if c.is_ascii_alphanumeric() || c == b'_' => DotBefore::InToken,
        Some(b'.') => DotBefore::Absent,
        _ => DotBefore::LeadingPoint,
    }
}

/// Separators a metric name and its number may have between them besides linking words.
const LINK_MARKS: [char; 17] = [
    ' ', '\t', '\u{a0}', '\u{202f}', ':', '=', '≈', '~', '(', ')', '*', '`', '-', '–', '—', '\u{2212}', '+',
];

/// Words right before a number that make it a label or an ordinal ("day 2", "zone 2 HR", "session 14").
const LABEL_WORDS: [&str; 24] = [
    "day", "days", "zone", "zones", "week", "weeks", "session", "sessions", "set", "sets", "round", "lap",
    "rep", "reps", "level", "phase", "step", "stage", "no", "number", "top", "grade", "version", "id",
];

/// Anchors each number to the metric names before it or right after it (the module's rule), lets a
/// range's ends share them, and reads the rest by the lnRMSSD-in-the-sentence rule. Digits inside a name
/// ("α1", "SD2") are not numbers.
fn anchor_to_names(text: &str, norm: &str, names: &[Named], dates: &[NamedDate], numbers: &mut Vec<Stated>) {
    let mut k = 0;
    numbers.retain(|n| {
        while k < names.len() && names[k].end <= n.start {
            k += 1;
        }
        names.get(k).is_none_or(|m| n.start < m.start)
    });
    // A number given as a test statistic ("t = 2.31", "p < 0.05") is that, whatever metric is near.
    statistics::anchor(text, norm, numbers);
    // Where each number starts, to see whether a name right after a number has a number of its own.
    let starts: Vec<usize> = numbers.iter().map(|n| n.start).collect();
    let mut next = 0usize;
    for (at, n) in numbers.iter_mut().enumerate() {
        while next < names.len() && names[next].end <= n.start {
            next += 1;
        }
        if n.metrics != 0 || n.stats != 0 {
            continue;
        }
        let before = next
            .checked_sub(1)
            .filter(|&k| links_only(norm, names[k].end, n.start, dates));
        if let Some(k) = before {
            if n.unit.is_some() || measure_like(norm, n.start, n.end) {
                n.metrics = listed_before(norm, names, k);
            }
        } else if let Some((metrics, name_end)) = name_after(norm, n.end, &names[next..]) {
            // "in 2045 RMSSD 45": the year is when, and 45 is the RMSSD.
            let year_before_value = year_like(n)
                && starts
                    .get(at + 1)
                    .is_some_and(|&s| links_only(norm, name_end, s, dates));
            if n.unit.is_some() {
                n.metrics = metrics;
            } else if measure_like(norm, n.start, n.end)
                && !after_label_word(norm, n.start)
                && !year_before_value
            {
                n.metrics = metrics;
                n.end = name_end;
            }
        }
    }
    share_across_ranges(text, norm, numbers);
    for n in numbers
        .iter_mut()
        .filter(|n| n.unit.is_none() && n.metrics == 0 && n.stats == 0)
    {
        if ln_rmssd_nearby(text, norm, n) {
            n.unit = Some(Unit::LnMs);
            n.metrics = Metric::LnRmssd.bit();
        }
    }
    // "normal range of 4.02 to 4.31": the far end of a range read as lnRMSSD by its sentence shares it too.
    share_across_ranges(text, norm, numbers);
}

/// Whether a number without a unit reads as a year: four digits, no decimals, 1900 to 2100.
fn year_like(n: &Stated) -> bool {
    n.unit.is_none() && n.decimals == 0 && n.end - n.start == 4 && (1900.0..=2100.0).contains(&n.value)
}

/// Whether `norm[from..to]` holds only linking words (at most `MAX_LINK_WORDS`), dates and link marks.
fn links_only(norm: &str, from: usize, to: usize, dates: &[NamedDate]) -> bool {
    if to < from || to - from > 80 {
        return false;
    }
    let mut words = 0;
    let mut at = from;
    let inside = dates.iter().filter(|d| d.start >= from && d.end <= to);
    let mut pieces = Vec::with_capacity(2);
    for d in inside {
        pieces.push(&norm[at..d.start]);
        at = d.end;
        words += 1;
    }
    pieces.push(&norm[at..to]);
    for piece in pieces {
        for word in piece.split(LINK_MARKS).filter(|w| !w.is_empty()) {
            words += 1;
            if !LINK_WORDS.contains(&word) {
                return false;
            }
        }
    }
    words <= MAX_LINK_WORDS
}

/// The metrics of name `k` and of the names listed with it before it ("RMSSD, SDNN and HR were …").
fn listed_before(norm: &str, names: &[Named], k: usize) -> Metrics {
    let mut metrics = names[k].metric.bit();
    let mut j = k;
    while j > 0 {
        let between = norm[names[j - 1].end..names[j].start].trim();
        if !matches!(between, "," | "and" | "or" | "/" | "&" | ", and" | ", or") {
            break;
        }
        metrics |= names[j - 1].metric.bit();
        j -= 1;
    }
    metrics
}

/// The metric named right after byte `end` (spaces, or "for", between), and where its name ends.
fn name_after(norm: &str, end: usize, names: &[Named]) -> Option<(Metrics, usize)> {
    let name = names.first()?;
    let between = norm.get(end..name.start)?.trim_matches(LINK_MARKS[..4].as_ref());
    if !(between.is_empty() || between == "for") {
        return None;
    }
    // "7 lnRMSSD readings", "3 HRV days": the name describes counted things.
    (!counted_word(&norm[name.end..])).then_some((name.metric.bit(), name.end))
}

/// Whether the number at `start..end` reads as a value, not a count, ordinal or fraction ("3 days",
/// "2nd", "3x", "3/5", "#5").
fn measure_like(norm: &str, start: usize, end: usize) -> bool {
    let rest = &norm[end..];
    let glued = rest.chars().next().is_some_and(char::is_alphanumeric);
    let fraction = rest.starts_with('/') && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    let numbered = norm[..start].ends_with('#');
    !(glued || fraction || numbered || counted_word(rest))
}

/// Whether the word before byte `start` makes the number a label ("day 2", "zone 2").
fn after_label_word(norm: &str, start: usize) -> bool {
    let before = norm[..start].trim_end_matches([' ', '.']);
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    LABEL_WORDS.contains(&&before[word_start..])
}

/// "RMSSD 40–45", "from 40 to 45", "45 and 52": a range's end without a name takes the other end's.
fn share_across_ranges(text: &str, norm: &str, numbers: &mut [Stated]) {
    for k in 0..numbers.len().saturating_sub(1) {
        let between = text[numbers[k].end..numbers[k + 1].start].trim();
        let statistic = numbers[k].stats != 0 || numbers[k + 1].stats != 0;
        if statistic || !matches!(between, "-" | "–" | "—" | "to" | "and") {
            continue;
        }
        let (a, b) = (numbers[k].metrics, numbers[k + 1].metrics);
        if a != 0 && b == 0 && measure_like(norm, numbers[k + 1].start, numbers[k + 1].end) {
            numbers[k + 1].metrics = a;
        } else if a == 0 && b != 0 && measure_like(norm, numbers[k].start, numbers[k].end) {
            numbers[k].metrics = b;
        }
    }
}

/// lnRMSSD has no unit word: a decimal below 10 after its name in the sentence is one, unless a count.
fn ln_rmssd_nearby(text: &str, norm: &str, n: &Stated) -> bool {
    let ln_plausible = n.decimals > 0 && n.value.abs() < 10.0;
    let (s_from, _) = sentence_bounds(text, n.start, n.end);
    ln_plausible && !counted_word(&norm[n.end..]) && after_ln_rmssd(norm, n.start, s_from)
}

/// The digits at `i` (thousands commas dropped, one decimal point kept, `i` may be a leading '.'), their
/// decimals, and where they end.
fn read_number(b: &[u8], i: usize) -> (String, u32, usize) {
    let mut j = i;
    let mut digits = String::new();
    while j < b.len() {
        let thousands = b[j] == b','
            && b.get(j + 1..j + 4)
                .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
            && b.get(j + 4).is_none_or(|c| !c.is_ascii_digit());
        if b[j].is_ascii_digit() {
            digits.push(b[j] as char);
        } else if !thousands {
            break;
        }
        j += 1;
    }
    let mut decimals = 0;
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        // ".62" has no integer part: written as "0.62" so it parses.
        if digits.is_empty() {
            digits.push('0');
        }
        digits.push('.');
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            digits.push(b[j] as char);
            decimals += 1;
            j += 1;
        }
    }
    (digits, decimals, j)
}

/// "55–62 ms", "55 to 62 ms": the first number takes the second's unit.
fn inherit_range_units(text: &str, numbers: &mut [Stated]) {
    for k in 0..numbers.len().saturating_sub(1) {
        if numbers[k].unit.is_some() || numbers[k].stats != 0 || numbers[k + 1].unit.is_none() {
            continue;
        }
        let between = text[numbers[k].end..numbers[k + 1].start].trim();
        if matches!(between, "-" | "–" | "—" | "to" | "and") {
            numbers[k].unit = numbers[k + 1].unit;
        }
    }
}

/// Whether `rest` (lower case) starts with a word that makes the number before it a count or a duration
/// ("4.5 days", "7 readings") or a time of day ("6 am").
fn counted_word(rest: &str) -> bool {
    const WORDS: [&str; 46] = [
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "min",
        "mins",
        "minute",
        "minutes",
        "hour",
        "hours",
        "hr",
        "hrs",
        "h",
        "s",
        "sec",
        "secs",
        "second",
        "seconds",
        "times",
        "morning",
        "mornings",
        "night",
        "nights",
        "session",
        "sessions",
        "reading",
        "readings",
        "value",
        "values",
        "alert",
        "alerts",
        "beats",
        "breaths",
        "points",
        "measurements",
        "samples",
        "zones",
        "sets",
        "reps",
        "x",
        "am",
        "pm",
    ];
    // "7-day average", "3‑week trend": the dash joins the count to what it counts.
    let rest = rest.trim_start().trim_start_matches(['-', '–', '‑']);
    let len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
    WORDS.contains(&&rest[..len])
}

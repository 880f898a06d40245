//! The grounding check: every measured quantity in an answer (a number with ms, ms², bpm or %, a decimal
//! after "lnRMSSD" or right before it — "3.9 lnRMSSD") becomes a [`Claim`], grounded when a receipt of the
//! turn vouches for it.
//!
//! A stated value with k decimals matches a receipt value of the same unit that rounds to it at k decimals
//! (so "62 ms" is grounded by 61.8 ms, "62.4 ms" is not); percentages are also accepted when the receipt
//! value rounded to one decimal first rounds to the statement. Signs are ignored ("fell by 0.3" states a
//! difference of −0.3). When the sentence names a date, only receipt values of that day (or of no day)
//! count, so a true value put on the wrong day is flagged. Ranges ("55–62 ms") give both ends the unit.
//! A hand-written scanner, no regex: an answer of 2,000 tokens is checked in microseconds.

use crate::events::Claim;
use crate::receipt::{Receipt, ReceiptId, Unit};

/// A number found in the text, before matching.
#[derive(Clone, Debug, PartialEq)]
struct Stated {
    start: usize,
    end: usize,
    value: f64,
    decimals: u32,
    unit: Option<Unit>,
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
    inherit_range_units(text, &mut numbers);
    numbers
        .into_iter()
        .filter_map(|n| {
            let unit = n.unit?;
            let date = date_in_sentence(text, &dates, n.start, n.end);
            let receipt = find_receipt(receipts, n.value, n.decimals, unit, date);
            Some(Claim {
                text: text[n.start..n.end].trim().to_owned(),
                value: n.value,
                unit,
                grounded: receipt.is_some(),
                receipt,
            })
        })
        .collect()
}

fn find_receipt(
    receipts: &[Receipt],
    value: f64,
    decimals: u32,
    unit: Unit,
    date: Option<&NamedDate>,
) -> Option<ReceiptId> {
    let day_ok = |day: &Option<String>| match (date, day) {
        (None, _) | (Some(_), None) => true,
        (Some(d), Some(day)) => date_matches(d, day),
    };
    // A value of the named day first, so the claim points at the receipt that states that day.
    let mut fallback = None;
    for r in receipts {
        for v in r.values.iter().filter(|v| v.unit == unit && day_ok(&v.day)) {
            if rounds_to(v.value, value, decimals, unit) {
                if date.is_none() || v.day.is_some() {
                    return Some(r.id.clone());
                }
                fallback.get_or_insert_with(|| r.id.clone());
            }
        }
    }
    fallback
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
        // A '.' before the digits makes it a decimal we entered mid-way ("v.2"), not a number.
        if i > 0 && b[i - 1] == b'.' && i > 1 && b[i - 2].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let negative = lower[..i].ends_with('-') && (i < 2 || !b[i - 2].is_ascii_alphanumeric())
            || lower[..i].ends_with('\u{2212}');
        let (digits, decimals, j) = read_number(b, i);
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
        let (unit, end) = match (unit_after(&lower, j), named_after) {
            (Some((u, e)), _) => (Some(u), e),
            (None, Some(e)) => (Some(Unit::LnMs), e),
            (None, None) => {
                let (s_from, _) = sentence_bounds(text, start, j);
                let counted = counted_word(&lower[j..]);
                let ln = after_ln_rmssd(&lower, start, s_from) && ln_plausible && !counted;
                (ln.then_some(Unit::LnMs), j)
            }
        };
        out.push(Stated {
            start,
            end,
            value,
            decimals,
            unit,
        });
        i = end.max(j);
    }
    out
}

/// The digits at `i` (thousands commas dropped, one decimal point kept), their decimals, and where they end.
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
        if numbers[k].unit.is_some() || numbers[k + 1].unit.is_none() {
            continue;
        }
        let between = text[numbers[k].end..numbers[k + 1].start].trim();
        if matches!(between, "-" | "–" | "—" | "to" | "and") {
            numbers[k].unit = numbers[k + 1].unit;
        }
    }
}

/// Whether `rest` starts with a word that makes the number before it a count or a duration ("4.5 days").
fn counted_word(rest: &str) -> bool {
    const WORDS: [&str; 16] = [
        "day", "days", "week", "weeks", "month", "months", "year", "years", "min", "minutes", "hours", "h",
        "s", "times", "mornings", "sessions",
    ];
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect();
    WORDS.contains(&word.as_str())
}

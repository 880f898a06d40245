//! History exports of other HRV apps — daily morning readings with their dates — read as morning readings,
//! so a person's normal range exists the day they arrive.
//!
//! The column layouts are the ones GoldenCheetah's HRV-measures importer reads from these apps
//! (GoldenCheetah/GoldenCheetah, `src/FileIO/HrvMeasuresCsvImport.cpp`):
//! - HRV4Training for iPhone: `timestamp_measurement` (ISO 8601), `rMSSD`, `HR`, …
//! - HRV4Training for Android: `date` (written `yyyy-dd-MM`), `time` (`hh:mm`), `rMSSD_lying`, `HR_lying`, …
//! - Elite HRV (web dashboard export): `Datetime` (ISO 8601), `Rmssd`, `lnRmssd`, `HR`, …
//!
//! A reading counts for the calendar date written in the file (the person's local morning), so a
//! timestamp's offset never moves it to another day. Several readings on one date: the first is the
//! morning reading, the others are left out and counted. A row whose RMSSD cell is empty (or `-`) is
//! skipped with a warning naming its line; anything else wrong — a date that is not one, a value that is
//! not a number, an RMSSD or heart rate no heart produces, a short row — is an error naming the line.

use std::collections::BTreeMap;

use serde::Serialize;

/// Which app wrote the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryFormat {
    Hrv4TrainingIos,
    Hrv4TrainingAndroid,
    EliteHrv,
}

impl HistoryFormat {
    /// The name shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryFormat::Hrv4TrainingIos => "HRV4Training (iPhone)",
            HistoryFormat::Hrv4TrainingAndroid => "HRV4Training (Android)",
            HistoryFormat::EliteHrv => "Elite HRV",
        }
    }
}

/// RMSSD values a resting morning reading can have, ms.
pub const RMSSD_RANGE_MS: std::ops::RangeInclusive<f64> = 1.0..=500.0;
/// Resting heart rates a morning reading can have, bpm.
pub const RESTING_HR_RANGE: std::ops::RangeInclusive<f64> = 20.0..=250.0;

/// One day's reading from the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyReading {
    /// The 1-based line it was read from.
    pub line: usize,
    /// Days since 1970-01-01 of the date written in the file.
    pub day: i64,
    pub rmssd_ms: f64,
    pub ln_rmssd: f64,
    pub resting_hr: Option<f64>,
}

/// A history export, read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub format: HistoryFormat,
    /// One per date, oldest first.
    pub readings: Vec<DailyReading>,
    /// Rows left out (no RMSSD value, a second reading on a date), one line each.
    pub warnings: Vec<String>,
}

/// What is wrong with a history export's content; lines are 1-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistoryError {
    #[error("line {line}: {text:?} is not a date ({expected})")]
    BadDate {
        line: usize,
        text: String,
        expected: &'static str,
    },
    #[error("line {line}: {text:?} in the {column} column is not a number")]
    NotANumber {
        line: usize,
        column: String,
        text: String,
    },
    #[error(
        "line {line}: RMSSD {value} ms is outside {}–{} ms",
        RMSSD_RANGE_MS.start(),
        RMSSD_RANGE_MS.end()
    )]
    RmssdOutOfRange { line: usize, value: f64 },
    #[error(
        "line {line}: heart rate {value} bpm is outside {}–{} bpm",
        RESTING_HR_RANGE.start(),
        RESTING_HR_RANGE.end()
    )]
    HeartRateOutOfRange { line: usize, value: f64 },
    #[error("line {line}: has {fields} fields, the header has {expected}")]
    ShortRow {
        line: usize,
        fields: usize,
        expected: usize,
    },
    #[error("the export holds no reading with an RMSSD value")]
    NoReadings,
}

impl HistoryError {
    /// The 1-based line at fault, when one is.
    pub fn line(&self) -> Option<usize> {
        match self {
            HistoryError::BadDate { line, .. }
            | HistoryError::NotANumber { line, .. }
            | HistoryError::RmssdOutOfRange { line, .. }
            | HistoryError::HeartRateOutOfRange { line, .. }
            | HistoryError::ShortRow { line, .. } => Some(*line),
            HistoryError::NoReadings => None,
        }
    }
}

/// Where the needed columns are in one export.
struct Layout {
    format: HistoryFormat,
    delimiter: char,
    width: usize,
    when: usize,
    rmssd: usize,
    heart_rate: Option<usize>,
}

/// Reads `text` as a history export: `Ok(None)` when its header is not one (it may be a recording),
/// `Err` when it is one with a bad row.
pub fn parse(text: &str) -> Result<Option<History>, HistoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let Some((_, header)) = rows.next() else {
        return Ok(None);
    };
    let Some(layout) = layout(header) else {
        return Ok(None);
    };
    let rows: Vec<(usize, Vec<&str>)> = rows.map(|(n, l)| (n, split(l, layout.delimiter))).collect();
    let day_first = layout.format == HistoryFormat::Hrv4TrainingAndroid && android_day_first(&rows, &layout);
    let mut by_day: BTreeMap<i64, DailyReading> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (line, fields) in &rows {
        let Some(reading) = row(*line, fields, &layout, day_first)? else {
            warnings.push(format!("line {line}: no RMSSD value: left out"));
            continue;
        };
        if let Some(first) = by_day.get(&reading.day) {
            warnings.push(format!(
                "line {line}: a second reading on the date of line {}: left out (the first is the morning's)",
                first.line
            ));
            continue;
        }
        by_day.insert(reading.day, reading);
    }
    if by_day.is_empty() {
        return Err(HistoryError::NoReadings);
    }
    Ok(Some(History {
        format: layout.format,
        readings: by_day.into_values().collect(),
        warnings,
    }))
}

/// Whether `header` is the header line of a history export this module reads.
pub fn is_header(header: &str) -> bool {
    layout(header).is_some()
}

fn split(line: &str, delimiter: char) -> Vec<&str> {
    line.split(delimiter)
        .map(|f| f.trim().trim_matches('"').trim())
        .collect()
}

fn layout(header: &str) -> Option<Layout> {
    let delimiter = [',', ';', '\t']
        .into_iter()
        .max_by_key(|d| header.matches(*d).count())
        .unwrap_or(',');
    let columns = split(header, delimiter);
    let find = |names: &[&str]| columns.iter().position(|c| names.contains(c));
    let (format, when, rmssd) = if let (Some(when), Some(rmssd)) =
        (find(&["timestamp_measurement"]), find(&["rMSSD", "rMSSD_lying"]))
    {
        (HistoryFormat::Hrv4TrainingIos, when, rmssd)
    } else if let (Some(when), Some(rmssd)) = (find(&["Datetime"]), find(&["Rmssd", "rMSSD"])) {
        (HistoryFormat::EliteHrv, when, rmssd)
    } else if let (Some(when), Some(rmssd)) = (find(&["date"]), find(&["rMSSD_lying", "rMSSD"])) {
        (HistoryFormat::Hrv4TrainingAndroid, when, rmssd)
    } else {
        return None;
    };
    Some(Layout {
        format,
        delimiter,
        width: columns.len(),
        when,
        rmssd,
        heart_rate: find(&["HR", "HR_lying"]),
    })
}

/// HRV4Training for Android writes `yyyy-dd-MM` (as GoldenCheetah reads it); a file whose middle fields
/// never exceed 12 is read as ISO `yyyy-MM-dd` instead, since then both orders fit and ISO is the norm.
fn android_day_first(rows: &[(usize, Vec<&str>)], layout: &Layout) -> bool {
    rows.iter().any(|(_, fields)| {
        fields
            .get(layout.when)
            .and_then(|d| d.split('-').nth(1))
            .and_then(|m| m.parse::<u32>().ok())
            .is_some_and(|m| m > 12)
    })
}

fn row(
    line: usize,
    fields: &[&str],
    layout: &Layout,
    day_first: bool,
) -> Result<Option<DailyReading>, HistoryError> {
    if fields.len() < layout.width {
        return Err(HistoryError::ShortRow {
            line,
            fields: fields.len(),
            expected: layout.width,
        });
    }
    let rmssd_text = fields[layout.rmssd];
    if rmssd_text.is_empty() || rmssd_text == "-" {
        return Ok(None);
    }
    let date_text = fields[layout.when];
    let day = match layout.format {
        HistoryFormat::Hrv4TrainingAndroid => plain_date(date_text, day_first),
        HistoryFormat::Hrv4TrainingIos | HistoryFormat::EliteHrv => iso_date_time(date_text),
    }
    .ok_or_else(|| HistoryError::BadDate {
        line,
        text: date_text.chars().take(40).collect(),
        expected: match (layout.format, day_first) {
            (HistoryFormat::Hrv4TrainingAndroid, true) => "yyyy-dd-MM",
            (HistoryFormat::Hrv4TrainingAndroid, false) => "yyyy-MM-dd",
            _ => "ISO 8601, like 2024-03-01T07:12:00",
        },
    })?;
    let rmssd_ms = number(line, "RMSSD", rmssd_text)?;
    if !RMSSD_RANGE_MS.contains(&rmssd_ms) {
        return Err(HistoryError::RmssdOutOfRange {
            line,
            value: rmssd_ms,
        });
    }
    let resting_hr = match layout.heart_rate.map(|i| fields[i]) {
        None | Some("" | "-") => None,
        Some(text) => {
            let hr = number(line, "HR", text)?;
            if !RESTING_HR_RANGE.contains(&hr) {
                return Err(HistoryError::HeartRateOutOfRange { line, value: hr });
            }
            Some(hr)
        }
    };
    Ok(Some(DailyReading {
        line,
        day,
        rmssd_ms,
        ln_rmssd: rmssd_ms.ln(),
        resting_hr,
    }))
}

fn number(line: usize, column: &str, text: &str) -> Result<f64, HistoryError> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| HistoryError::NotANumber {
            line,
            column: column.to_owned(),
            text: text.chars().take(40).collect(),
        })
}

/// The day number of the date part of an ISO 8601 date-time (`2024-03-01T07:12:00`, with a space for
/// the `T`, fractional seconds or an offset allowed), checking the time part too.
pub fn iso_date_time(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, ""));
    let day = plain_date(date, false)?;
    if !time.is_empty() {
        time_of_day(time)?;
    }
    Some(day)
}

/// Unix ms of an ISO 8601 date-time; a time without an offset is read as UTC.
pub fn iso_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' '])?;
    let day = plain_date(date, false)?;
    let (ms_of_day, offset_min) = time_of_day(time)?;
    Some(day * 86_400_000 + ms_of_day - offset_min * 60_000)
}

/// `hh:mm[:ss[.fff]][Z|±hh:mm|±hhmm]` → (ms since midnight, offset in minutes east of UTC).
fn time_of_day(text: &str) -> Option<(i64, i64)> {
    let (clock, offset) = match text.find(['Z', 'z', '+', '-']) {
        Some(at) => (&text[..at], &text[at..]),
        None => (text, ""),
    };
    let mut parts = clock.split(':');
    let hours: i64 = parts.next()?.parse().ok()?;
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds: f64 = parts.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if parts.next().is_some() || !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    if !(0.0..61.0).contains(&seconds) {
        return None;
    }
    let offset_min = match offset {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let digits: String = offset[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let ms = (hours * 3600 + minutes * 60) * 1000 + (seconds * 1000.0).round() as i64;
    Some((ms, offset_min))
}

/// The day number of `yyyy-MM-dd` (or `yyyy-dd-MM` when `day_first`), checking the date exists.
pub fn plain_date(text: &str, day_first: bool) -> Option<i64> {
    let mut parts = text.trim().split('-');
    let year: i64 = parts.next()?.parse().ok()?;
    let a: u32 = parts.next()?.parse().ok()?;
    let b: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1900..=9999).contains(&year) {
        return None;
    }
    let (month, day) = if day_first { (b, a) } else { (a, b) };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`, the same count auren-clock's `UtcDate::to_days` gives.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = year - i64::from(month <= 2);
    let month = i64::from(month);
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const IOS: &str = "timestamp_measurement,HR,AVNN,SDNN,rMSSD,pNN50,LF,HF,HRV4T_Recovery_Points\n\
        2024-03-01 07:02:11,52,1150,60,70.0,30,1000,900,8.4\n\
        2024-03-02 07:05:40,55,1090,55,,28,900,800,8.1\n\
        2024-03-03 06:58:02,54,1100,58,62.5,29,950,850,8.2\n";

    #[test]
    fn the_three_layouts_are_recognised_and_read() {
        let cases: [(&str, HistoryFormat, usize); 3] = [
            (IOS, HistoryFormat::Hrv4TrainingIos, 2),
            (
                "date,time,HR_lying,rMSSD_lying,SDNN_lying\n2024-15-03,07:01,50,80,70\n2024-16-03,07:03,51,75,66\n",
                HistoryFormat::Hrv4TrainingAndroid,
                2,
            ),
            (
                "Datetime,HR,Rmssd,lnRmssd,Sdnn\n2024-03-01T07:00:00Z,58,45.5,3.82,50\n",
                HistoryFormat::EliteHrv,
                1,
            ),
        ];
        for (text, format, n) in cases {
            let got = parse(text).unwrap().unwrap();
            assert_eq!(got.format, format, "{text}");
            assert_eq!(got.readings.len(), n, "{text}");
        }
    }

    #[test]
    fn readings_carry_their_date_ln_rmssd_and_heart_rate() {
        let got = parse(IOS).unwrap().unwrap();
        let first = &got.readings[0];
        assert_eq!(first.day, plain_date("2024-03-01", false).unwrap());
        assert!((first.ln_rmssd - 70.0_f64.ln()).abs() < 1e-12);
        assert_eq!(first.resting_hr, Some(52.0));
        assert_eq!(got.warnings, vec!["line 3: no RMSSD value: left out".to_owned()]);
    }

    #[test]
    fn android_dates_are_day_first_when_the_file_shows_it() {
        let got = parse("date,rMSSD_lying\n2024-15-03,80\n").unwrap().unwrap();
        assert_eq!(got.readings[0].day, plain_date("2024-03-15", false).unwrap());
        let iso = parse("date,rMSSD_lying\n2024-03-05,80\n").unwrap().unwrap();
        assert_eq!(iso.readings[0].day, plain_date("2024-03-05", false).unwrap());
    }

    #[test]
    fn a_second_reading_on_a_date_is_left_out() {
        let text = "Datetime,Rmssd\n2024-03-01T07:00:00,40\n2024-03-01T21:00:00,20\n";
        let got = parse(text).unwrap().unwrap();
        assert_eq!(got.readings.len(), 1);
        assert_eq!(got.readings[0].rmssd_ms, 40.0);
        assert_eq!(got.warnings.len(), 1);
        assert!(got.warnings[0].starts_with("line 3:"), "{:?}", got.warnings);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let cases: [(&str, usize, &str); 6] = [
            (
                "Datetime,Rmssd\n2024-03-01T07:00:00,40\n2024-02-30T07:00:00,40\n",
                3,
                "not a date",
            ),
            ("Datetime,Rmssd\n2024-03-01T07:00:00,forty\n", 2, "not a number"),
            ("Datetime,Rmssd\n2024-03-01T07:00:00,4000\n", 2, "outside"),
            ("Datetime,Rmssd,HR\n2024-03-01T07:00:00,40,400\n", 2, "heart rate"),
            ("Datetime,Rmssd,HR\n\n2024-03-01T07:00:00,40\n", 3, "fields"),
            (
                "timestamp_measurement,rMSSD\n2024-03-01T25:00:00,40\n",
                2,
                "not a date",
            ),
        ];
        for (text, line, words) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line(), Some(line), "{text}: {err}");
            assert!(err.to_string().contains(words), "{text}: {err}");
            assert!(err.to_string().starts_with(&format!("line {line}:")), "{err}");
        }
        assert_eq!(
            parse("Datetime,Rmssd\n2024-03-01T07:00:00,-\n"),
            Err(HistoryError::NoReadings)
        );
    }

    #[test]
    fn other_files_are_not_history_exports() {
        for text in [
            "",
            "812\n790\n",
            "time,rr\n0,800\n",
            "Phone timestamp;RR-interval [ms]\n",
        ] {
            assert_eq!(parse(text), Ok(None), "{text}");
        }
    }

    #[test]
    fn instants_and_dates_of_known_strings() {
        let cases: [(&str, Option<i64>); 6] = [
            ("1970-01-01T00:00:00Z", Some(0)),
            ("1970-01-01T01:00:00+01:00", Some(0)),
            ("2000-02-29 00:00:00", Some(951_782_400_000)),
            ("2025-11-21T04:40:00.000", Some(1_763_700_000_000)),
            ("2025-11-21T04:40", Some(1_763_700_000_000)),
            ("2025-11-31T04:40:00", None),
        ];
        for (text, want) in cases {
            assert_eq!(iso_instant(text), want, "{text}");
        }
        assert_eq!(plain_date("1969-12-31", false), Some(-1));
    }

    proptest::proptest! {
        #[test]
        fn day_numbers_round_trip_through_the_written_date(day in -25_000_i64..2_900_000) {
            let date = civil(day);
            proptest::prop_assert_eq!(plain_date(&date, false), Some(day));
        }
    }

    /// `yyyy-MM-dd` of a day number (Hinnant's civil_from_days), for the round trip.
    fn civil(days: i64) -> String {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}-{m:02}-{d:02}")
    }
}

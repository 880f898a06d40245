//! The text exports: a CSV of the raw beats and Kubios-style RR text (seconds, one interval a line).

use crate::ReportBeat;
use std::fmt::Write;

/// The raw beats as CSV: header `time_s,rr_ms,artifact`, one row per beat, `\n` line ends.
///
/// Numbers use '.' and at most 3 decimals with trailing zeros dropped (`812`, `812.5`, `1.234`), so
/// the same beats always give the same bytes whatever the locale. The artifact column is empty for a
/// clean beat; a kind containing a comma, quote or line break is quoted as RFC 4180 says.
pub fn csv(beats: &[ReportBeat<'_>]) -> String {
    let mut out = String::with_capacity(24 + beats.len() * 20);
    out.push_str("time_s,rr_ms,artifact\n");
    for beat in beats {
        // Writing to a String cannot fail.
        let _ = write!(out, "{},{},", decimal3(beat.t_s), decimal3(beat.rr_ms));
        if let Some(kind) = beat.artifact {
            push_csv_field(&mut out, kind);
        }
        out.push('\n');
    }
    out
}

/// RR intervals (ms) as Kubios HRV's RR text import reads them: one interval per line in seconds
/// with 3 decimals (`0.812`), no header, `\n` line ends.
///
/// Kubios tells seconds from milliseconds by magnitude, and so does `auren analyze` (a median under
/// 10 means seconds) — but only for files not named `*.rr`, which it always reads as ms: save this
/// as `.txt`.
pub fn kubios_rr(rr_ms: &[f64]) -> String {
    let mut out = String::with_capacity(rr_ms.len() * 6);
    for &rr in rr_ms {
        let _ = writeln!(out, "{:.3}", rr / 1000.0);
    }
    out
}

/// `value` with 3 decimals, trailing zeros and a bare '.' removed; "-0" becomes "0".
fn decimal3(value: f64) -> String {
    let mut s = format!("{value:.3}");
    if s.contains('.') {
        let kept = s.trim_end_matches('0').trim_end_matches('.').len();
        s.truncate(kept);
    }
    if s == "-0" { "0".to_owned() } else { s }
}

fn push_csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use super::decimal3;

    #[test]
    fn decimals_are_trimmed() {
        for (value, want) in [
            (812.0, "812"),
            (812.5, "812.5"),
            (812.1234, "812.123"),
            (0.0004, "0"),
            (-0.0001, "0"),
            (1.0005, "1"),
            (1200.25, "1200.25"),
        ] {
            assert_eq!(decimal3(value), want, "{value}");
        }
    }
}

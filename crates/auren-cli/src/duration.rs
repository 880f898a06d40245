//! Durations as people write them on the command line: `90s`, `5m`, `1h`, `1h30m`, `250ms`.

use std::time::Duration;

/// Why a duration was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a duration: write a whole number with a unit, e.g. 90s, 5m, 1h or 1h30m")]
pub struct BadDuration {
    pub given: String,
}

/// Parses one or more `<number><unit>` parts (units `ms`, `s`, `m`/`min`, `h`); the total must be above 0.
pub fn parse_duration(text: &str) -> Result<Duration, BadDuration> {
    let bad = || BadDuration {
        given: text.to_owned(),
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let part = number.checked_mul(unit_ms).ok_or_else(bad)?;
        total = total.checked_add(Duration::from_millis(part)).ok_or_else(bad)?;
    }
    if total.is_zero() {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_are_refused() {
        let ok = [
            ("90s", 90_000),
            ("5m", 300_000),
            ("5min", 300_000),
            ("1h", 3_600_000),
            ("1h30m", 5_400_000),
            ("250ms", 250),
            (" 2m ", 120_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse_duration(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for text in [
            "",
            "90",
            "s",
            "5x",
            "-5m",
            "1.5h",
            "0s",
            "5 m",
            "m5",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn the_error_names_the_input_and_the_expected_form() {
        let err = parse_duration("5x").unwrap_err().to_string();
        assert!(err.contains("\"5x\"") && err.contains("90s"), "{err}");
    }
}

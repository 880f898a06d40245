//! Integration tests of auren-clock (one binary for the crate): the calendar arithmetic against dates
//! whose answers are known independently (leap years, 1970, 2100, before the epoch), and round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::time::Duration;

use auren_clock::{Clock, MS_PER_DAY, ManualClock, UnixMillis, UtcDate};
use proptest::prelude::*;

fn date(year: i32, month: u32, day: u32) -> UtcDate {
    UtcDate { year, month, day }
}

/// Days since 1970-01-01 of dates checked with `date -u -d YYYY-MM-DD +%s` / 86400.
#[test]
fn known_dates_have_known_day_numbers() {
    let table = [
        (date(1970, 1, 1), 0_i64),
        (date(1969, 12, 31), -1),
        (date(1900, 3, 1), -25_508), // 1900 is not a leap year
        (date(2000, 2, 29), 11_016), // 2000 is (divisible by 400)
        (date(2000, 3, 1), 11_017),
        (date(2024, 2, 29), 19_782),
        (date(2025, 11, 21), 20_413),
        (date(2100, 2, 28), 47_540),
        (date(2100, 3, 1), 47_541), // 2100 is not: no 29 February between them
        (date(2400, 2, 29), 157_113),
    ];
    for (civil, days) in table {
        assert_eq!(civil.to_days(), days, "{civil}");
        assert_eq!(UtcDate::from_days(days), civil, "day {days}");
        assert_eq!(UnixMillis(days * MS_PER_DAY).day_number(), days, "{civil}");
    }
}

#[test]
fn instants_format_as_rfc3339_and_civil_minutes() {
    let table = [
        (0_i64, "1970-01-01T00:00:00Z", "1970-01-01 00:00"),
        (951_782_400_000, "2000-02-29T00:00:00Z", "2000-02-29 00:00"),
        (
            1_763_683_200_000 + 3_723_000,
            "2025-11-21T01:02:03Z",
            "2025-11-21 01:02",
        ),
        (-86_400_000, "1969-12-31T00:00:00Z", "1969-12-31 00:00"),
        (-1, "1969-12-31T23:59:59Z", "1969-12-31 23:59"),
        (4_107_542_399_999, "2100-02-28T23:59:59Z", "2100-02-28 23:59"),
        (4_107_542_400_000, "2100-03-01T00:00:00Z", "2100-03-01 00:00"),
    ];
    for (ms, rfc3339, minute) in table {
        assert_eq!(UnixMillis(ms).to_string(), rfc3339);
        assert_eq!(UnixMillis(ms).civil_minute(), minute);
    }
}

#[test]
fn months_and_days_roll_over() {
    let table = [
        (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 1)),
        (date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)),
        (date(2100, 2, 28), date(2100, 3, 1), date(2100, 3, 1)),
        (date(1970, 1, 31), date(1970, 2, 1), date(1970, 2, 1)),
    ];
    for (day, next_day, next_month) in table {
        assert_eq!(day.next_day(), next_day, "{day}");
        assert_eq!(day.first_of_next_month(), next_month, "{day}");
        assert_eq!(day.first_of_month(), date(day.year, day.month, 1));
    }
    assert_eq!(date(2026, 3, 5).month_key(), "2026-03");
}

#[test]
fn a_manual_clock_moves_only_when_told() {
    let clock = ManualClock::new(UnixMillis(1_000));
    assert_eq!(clock.now(), UnixMillis(1_000));
    clock.advance(Duration::from_millis(250));
    assert_eq!(clock.now(), UnixMillis(1_250));
    clock.set(UnixMillis(5));
    assert_eq!(clock.now(), UnixMillis(5));
    assert_eq!(
        UnixMillis(1_250).since(UnixMillis(5)),
        Duration::from_millis(1_245)
    );
    assert_eq!(UnixMillis(5).since(UnixMillis(1_250)), Duration::ZERO);
    assert_eq!(UnixMillis(5).plus(Duration::from_secs(1)), UnixMillis(1_005));
}

#[test]
fn the_system_clock_is_after_this_code_was_written() {
    // 2026-01-01: a clock before it is broken, whatever the machine.
    assert!(auren_clock::now_unix_ms() > 1_767_225_600_000);
}

proptest! {
    #[test]
    fn days_round_trip(days in -1_000_000_i64..1_000_000) {
        let civil = UtcDate::from_days(days);
        prop_assert_eq!(civil.to_days(), days);
        prop_assert!((1..=12).contains(&civil.month));
        prop_assert!((1..=31).contains(&civil.day));
        prop_assert!(UtcDate::from_days(days + 1) > civil);
    }

    #[test]
    fn an_instant_falls_on_its_day(ms in -10_000_000_000_000_i64..10_000_000_000_000) {
        let instant = UnixMillis(ms);
        let start = instant.utc_date().start();
        prop_assert!(start <= instant);
        prop_assert!(instant.0 - start.0 < MS_PER_DAY);
        prop_assert_eq!(start.0 / MS_PER_DAY, instant.day_number());
    }
}

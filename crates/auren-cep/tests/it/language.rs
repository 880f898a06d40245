//! The expression language: what valid expressions mean (evaluated on a fixed stream), and every
//! kind of error with its line and column in the file.

use auren_cep::{EventKind, RuleError, SessionKind, compile};

use crate::support::{SEC, Stream, baselines};

/// A one-rule file whose `when` (a TOML multi-line literal string, so quotes need no escapes)
/// starts at line 4, column 11.
fn rule_file(when: &str) -> String {
    format!("[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = '\'\'{when}'\'\'\n")
}

/// 10 s of a rest session at HR 70 with contact, then a tag `x`.
fn fixed_stream() -> Stream {
    Stream::new()
        .session(SessionKind::Rest, 0)
        .hr(0, 10 * SEC, |_| 70.0)
        .beats(0, 10 * SEC, |_| 857.0, 0)
        .at(11 * SEC, EventKind::Tag { name: "x".into() })
}

fn fires(when: &str) -> bool {
    let rules = compile(&rule_file(when)).unwrap_or_else(|e| panic!("{when}: {e}"));
    !fixed_stream().run(&rules, baselines(), 0).is_empty()
}

#[test]
fn valid_expressions_mean_what_they_say() {
    let table = [
        ("hr > 60", true),
        ("hr > 60 and hr < 65", false),
        ("hr < 60 or hr == 70", true),
        ("1 + 2 * 3 == 7", true),
        ("(1 + 2) * 3 == 9", true),
        ("10 - 4 - 3 == 3", true),
        ("12 / 2 / 3 == 2", true),
        ("-hr < 0", true),
        ("- - hr == 70", true),
        ("not hr > 80", true),
        ("not not hr > 80", false),
        ("hr >= 70 && hr <= 70 || hr != 70", true),
        ("!contact", false),
        ("contact and session.rest", true),
        ("session", true),
        ("session.exercise", false),
        ("60s == 60000", true),
        ("1h == 60m and 1min == 60s", true),
        ("250ms * 4 == 1s", true),
        ("5% == 0.05", true),
        (".5 == 0.5", true),
        ("baseline.resting_hr < hr", true),
        // An absent baseline makes the comparison unknown, and so its negation too.
        ("baseline.aerobic_threshold_hr > 0", false),
        ("not baseline.aerobic_threshold_hr > 0", false),
        ("baseline.aerobic_threshold_hr > 0 or hr > 0", true),
        ("baseline.aerobic_threshold_hr > 0 and hr < 0", false),
        // Division by zero is unknown, never infinite.
        ("10 / 0 > 1", false),
        ("not (10 / 0 > 1)", false),
        ("avg(hr, 60s) == 70 and min(hr, 5s) == max(hr, 5s)", true),
        (
            "count(beat, 60s) > 10 and sum(beat, 60s) == count(beat, 60s)",
            true,
        ),
        (
            "stddev(hr, 30s) == 0 and delta(hr, 30s) == 0 and rate(hr, 30s) == 0",
            true,
        ),
        ("abs(-3) == 3 and abs(ln(exp(2)) - 2) < 0.000001", true),
        ("ln(0) < 100", false),
        ("rmssd_60s > 0", false),
        ("event.heart_rate and hr == 70", true),
        ("event.metrics", false),
        ("tag('x')", true),
        ("tag(\"y\")", false),
        ("event.tag and not tag('y')", true),
        ("beat_hr > 69 and beat_hr < 71 and rr_ms == 857", true),
        ("artifact or ectopic or missed or extra or long_short", false),
        ("link", true),
    ];
    for (when, expected) in table {
        assert_eq!(fires(when), expected, "{when}");
    }
}

fn error_of(file: &str) -> RuleError {
    match compile(file) {
        Ok(_) => panic!("expected an error in:\n{file}"),
        Err(e) => e,
    }
}

#[test]
fn expression_errors_point_at_the_column_in_the_file() {
    // (expression, 0-based offset of the problem in it, words the message must contain)
    let table = [
        ("", 0, "empty"),
        ("hr >", 4, "end of expression"),
        ("hr = 60", 3, "`==`"),
        ("hr > 60 and", 11, "end of expression"),
        ("rmsd_60s > 3", 0, "unknown field `rmsd_60s`"),
        ("avg(hr, 60) > 3", 8, "duration"),
        ("avg(hr) > 3", 0, "a field and a window"),
        ("avg(hr + 1, 60s) > 3", 4, "a field name"),
        ("avg(hr, 0s) > 1", 8, "longer than 0"),
        ("avg(hr, 48h) > 1", 8, "at most 24 h"),
        ("hr > 5x", 6, "unknown unit `x`"),
        ("baseline.foo > 1", 0, "unknown baseline `baseline.foo`"),
        ("event.bleep", 0, "unknown event `event.bleep`"),
        ("session.nap", 0, "unknown session kind"),
        ("foo.bar", 0, "unknown namespace `foo.`"),
        ("frobnicate(hr)", 0, "unknown function `frobnicate`"),
        ("hr + 1", 0, "expected a condition"),
        ("hr > 1 and contact + 1 > 0", 11, "expected a number"),
        ("hr and contact", 0, "expected a condition"),
        ("1 < hr < 3", 7, "cannot be chained"),
        ("prev(hr) > 1", 0, "after a sequence step"),
        ("elapsed > 1s", 0, "after a sequence step"),
        ("hr > 60 )", 8, "found `)`"),
        ("(hr > 60", 8, "`)`"),
        ("tag(3)", 4, "expected a string"),
        ("tag()", 0, "one string"),
        ("hr > 'abc'", 5, "strings go in `tag(...)`"),
        ("hr # 3", 3, "unexpected character `#`"),
        ("tag(\"abc)", 4, "unterminated string"),
        ("hr > 1..2", 5, "`1..2` is not a number"),
        ("event.", 6, "a name"),
    ];
    for (when, offset, words) in table {
        let e = error_of(&rule_file(when));
        assert_eq!(e.rule.as_deref(), Some("t"), "{when}");
        assert_eq!((e.line, e.column), (4, 11 + offset), "{when}: {e}");
        assert!(e.to_string().contains(words), "{when}: `{e}` lacks `{words}`");
    }
}

#[test]
fn positions_survive_escapes_and_multi_line_strings() {
    let table = [
        // Basic string with escaped quotes before the problem: `fo` is decoded offset 12.
        (
            "[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = \"tag(\\\"a\\\") or fo > 1\"\n",
            4,
            23,
        ),
        // A \u escape counts as the one character it stands for.
        (
            "[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = \"tag('\\u00e9') or fo > 1\"\n",
            4,
            26,
        ),
        // Multi-line basic string: the newline after the opening quotes is not part of it.
        (
            "[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = \"\"\"\nhr > 60\nand foo > 1\"\"\"\n",
            6,
            5,
        ),
        // Multi-line literal string.
        (
            "[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = '''\nhr > 60 and\n  foo > 1'''\n",
            6,
            3,
        ),
    ];
    for (file, line, column) in table {
        let e = error_of(file);
        assert_eq!((e.line, e.column), (line, column), "{file}\n{e}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}hr > 1{}", "(".repeat(200), ")".repeat(200));
    let e = error_of(&rule_file(&deep));
    assert!(e.to_string().contains("nested too deeply"), "{e}");
    let long = vec!["hr > 1"; 40].join(" and ");
    assert!(
        compile(&rule_file(&long)).is_ok(),
        "a long flat expression is fine"
    );
}

mod parser_properties {
    use super::rule_file;
    use auren_cep::compile;
    use proptest::prelude::*;

    proptest! {
        /// Any text compiles or fails with a position inside the expression; it never panics.
        #[test]
        fn arbitrary_expressions_never_panic(expr in "[ -&(-~]{0,40}") {
            if let Err(e) = compile(&rule_file(&expr))
                && e.line == 4
            {
                prop_assert!(e.column >= 11 && e.column <= 11 + expr.chars().count() + 1, "{}", e);
            }
        }

        /// Non-ASCII text is refused with a position, never split inside a character.
        #[test]
        fn unicode_never_panics(expr in "\\PC{0,30}") {
            let _ = compile(&rule_file(&expr));
            let message = format!("[[rule]]\nname = \"t\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nmessage = \"\"\"{expr}\"\"\"\n");
            let _ = compile(&message);
        }

        /// Sums of numbers parse and evaluate like Rust arithmetic.
        #[test]
        fn arithmetic_agrees_with_rust(a in 0u32..1000, b in 0u32..1000, c in 1u32..1000) {
            let expected = a as f64 - b as f64 * 2.0 / c as f64;
            let when = format!("{a} - {b} * 2 / {c} > {} and {a} - {b} * 2 / {c} < {}", expected - 1e-6, expected + 1e-6);
            prop_assert!(super::fires(&when), "{}", when);
        }
    }
}

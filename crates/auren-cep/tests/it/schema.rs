//! The TOML schema: unknown keys, wrong types and inconsistent rules are refused with the rule
//! name, line and column.

use auren_cep::{ErrorKind, RuleError, compile};

fn error_of(file: &str) -> RuleError {
    match compile(file) {
        Ok(_) => panic!("expected an error in:\n{file}"),
        Err(e) => e,
    }
}

const GOOD: &str = "[[rule]]\nname = \"first\"\nseverity = \"info\"\nwhen = \"hr > 100\"\n\n";

#[test]
fn schema_errors_name_the_rule_line_and_column() {
    // (file after one good rule, rule, line, column, words of the message)
    let table: &[(&str, Option<&str>, usize, usize, &str)] = &[
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhn = \"hr > 1\"\n",
            Some("x"),
            9,
            1,
            "unknown field `whn`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\ncooldwn = \"1m\"\n",
            Some("x"),
            10,
            1,
            "unknown field `cooldwn`",
        ),
        ("[[rules]]\nname = \"x\"\n", None, 6, 3, "unknown field `rules`"),
        // After a `[[rule]]` header a key belongs to that rule, as TOML says.
        ("version = 2\n", Some("first"), 6, 1, "unknown field `version`"),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"severe\"\nwhen = \"hr > 1\"\n",
            Some("x"),
            8,
            12,
            "unknown variant `severe`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = 3\n",
            Some("x"),
            9,
            8,
            "invalid type",
        ),
        (
            "[[rule]]\nseverity = \"info\"\nwhen = \"hr > 1\"\n",
            None,
            6,
            1,
            "missing field `name`",
        ),
        ("[[rule]]\nname = \"x\"\nwhen = \"hr > 1\n", None, 8, 15, ""),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\n",
            Some("x"),
            7,
            8,
            "either `when` or `sequence`",
        ),
        (
            "[[rule]]\nname = \"first\"\nseverity = \"info\"\nwhen = \"hr > 1\"\n",
            Some("first"),
            7,
            8,
            "duplicate rule name (the first is at line 2)",
        ),
        (
            "[[rule]]\nname = \"Bad Name\"\nseverity = \"info\"\nwhen = \"hr > 1\"\n",
            Some("Bad Name"),
            7,
            8,
            "lower-case letters",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nfor = \"5 minutes\"\n",
            Some("x"),
            10,
            7,
            "`5 minutes` is not a duration",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\ncooldown = \"-1m\"\n",
            Some("x"),
            10,
            12,
            "not a duration",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"event.beat\"\nfor = \"5s\"\n",
            Some("x"),
            10,
            7,
            "true for an instant",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nwithin = \"5s\"\n",
            Some("x"),
            10,
            10,
            "`within` needs `sequence`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nsequence = [\"hr > 1\"]\n",
            Some("x"),
            9,
            12,
            "needs `within`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nsequence = []\nwithin = \"1m\"\n",
            Some("x"),
            9,
            12,
            "at least one step",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nsequence = [\"hr > 1\"]\nwithin = \"1m\"\nfor = \"1m\"\n",
            Some("x"),
            11,
            7,
            "cannot be combined with `sequence`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nsequence = [\"hr > 1\", \"prev(hr) - hx > 1\"]\nwithin = \"1m\"\n",
            Some("x"),
            9,
            35,
            "unknown field `hx`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nmessage = \"HR {hr:.0} and {avg(hr, 60s) + foo}\"\n",
            Some("x"),
            10,
            43,
            "unknown field `foo`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nmessage = \"HR {hr:.0\"\n",
            Some("x"),
            10,
            15,
            "unterminated `{`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nmessage = \"HR {hr:x}\"\n",
            Some("x"),
            10,
            19,
            "bad format `x`",
        ),
        (
            "[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhen = \"hr > 1\"\nmessage = \"HR } high\"\n",
            Some("x"),
            10,
            15,
            "unmatched `}`",
        ),
    ];
    for (rest, rule, line, column, words) in table {
        let file = format!("{GOOD}{rest}");
        let e = error_of(&file);
        assert_eq!(
            (e.rule.as_deref(), e.line, e.column),
            (*rule, *line, *column),
            "{file}\n{e}"
        );
        assert!(e.to_string().contains(words), "`{e}` lacks `{words}`");
    }
}

#[test]
fn unknown_top_level_keys_are_refused() {
    let e = error_of(&format!("version = 2\n{GOOD}"));
    assert_eq!((e.rule.as_deref(), e.line, e.column), (None, 1, 1));
    assert!(
        e.to_string().contains("unknown field `version`, expected `rule`"),
        "{e}"
    );
}

#[test]
fn toml_errors_keep_the_parser_message() {
    let e = error_of("[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhn = \"hr\"\n");
    assert!(matches!(e.kind, ErrorKind::Toml(_)), "{e:?}");
    assert_eq!(
        e.to_string().lines().next(),
        Some(
            "line 4, column 1: rule `x`: unknown field `whn`, expected one of `name`, `description`, `severity`, `enabled`, `when`, `for`, `sequence`, `within`, `not_followed_by`, `cooldown`, `message`"
        )
    );
}

#[test]
fn toml_errors_keep_the_parser_error_as_the_source() {
    let e = error_of("[[rule]]\nname = \"x\"\nseverity = \"info\"\nwhn = \"hr\"\n");
    let source = std::error::Error::source(&e.kind).map(ToString::to_string);
    // The parser's own report: its position and an excerpt of the file.
    assert!(
        source
            .as_deref()
            .is_some_and(|s| s.contains("line 4, column 1") && s.contains("whn = \"hr\"")),
        "{source:?}"
    );
    // The located error chains nothing further: its one line already says all of it.
    assert!(std::error::Error::source(&e).is_none());
}

#[test]
fn misplaced_keys_and_values_are_named_in_full() {
    // (the rule's keys after name and severity, the whole message after the rule's name)
    let table: &[(&str, &str)] = &[
        ("when = \"hr > 1\"\nwithin = \"1m\"", "`within` needs `sequence`"),
        (
            "when = \"hr > 1\"\nnot_followed_by = \"hr < 1\"",
            "`not_followed_by` needs `sequence`",
        ),
        (
            "when = \"event.beat\"\nfor = \"1m\"",
            "`for` cannot be combined with event predicates (`event.*`, `tag()`), which are true for an instant",
        ),
        (
            "when = \"elapsed > 1s\"",
            "`elapsed` is only meaningful after a sequence step (and `elapsed` in the message of a `for` rule)",
        ),
        (
            "when = \"prev(hr) > 1\"",
            "`prev()` is only meaningful after a sequence step (and `elapsed` in the message of a `for` rule)",
        ),
        (
            "when = \"hr + 1\"",
            "expected a condition (true/false) but this is a number",
        ),
        ("when = \"tag(3)\"", "expected a string but this is a number"),
    ];
    for (keys, message) in table {
        let e = error_of(&format!("[[rule]]\nname = \"x\"\nseverity = \"info\"\n{keys}\n"));
        let text = e.to_string();
        let after_name = text.split_once("rule `x`: ").map(|(_, m)| m);
        assert_eq!(after_name, Some(*message), "{keys}");
    }
}

#[test]
fn an_empty_file_and_disabled_rules_are_valid() {
    assert!(compile("").expect("empty file").is_empty());
    let rules = compile(&format!(
        "{GOOD}[[rule]]\nname = \"off\"\nseverity = \"critical\"\nenabled = false\nwhen = \"hr > 200\"\n"
    ))
    .expect("valid");
    let listed: Vec<_> = rules.rules().map(|r| (r.name, r.enabled, r.line)).collect();
    assert_eq!(listed, [("first", true, 2), ("off", false, 7)]);
}

#[test]
fn check_reports_every_faulty_rule_in_file_order() {
    let file = format!(
        "{GOOD}[[rule]]\nname = \"a\"\nseverity = \"info\"\nwhen = \"hx > 1\"\n\n\
         [[rule]]\nname = \"b\"\nseverity = \"info\"\nwhen = \"hr > 1\"\n\n\
         [[rule]]\nname = \"first\"\nseverity = \"info\"\nwhen = \"hr > 1\"\n\n\
         [[rule]]\nname = \"c\"\nseverity = \"info\"\nsequence = [\"hr > 1\"]\n"
    );
    let errors = auren_cep::check(&file).expect_err("three faulty rules");
    let found: Vec<_> = errors
        .iter()
        .map(|e| (e.rule.as_deref().unwrap_or(""), e.line, e.column))
        .collect();
    assert_eq!(found, [("a", 9, 9), ("first", 17, 8), ("c", 24, 12)]);
    assert_eq!(compile(&file).expect_err("first problem"), errors[0]);
    assert_eq!(auren_cep::check(GOOD).map(|r| r.len()), Ok(1));
}

//! Errors of rule files: what is wrong, in which rule, at which line and column of the file.

use std::fmt;

use thiserror::Error;

/// A problem in a rules file, located in the file.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("line {line}, column {column}: {}{kind}", rule_prefix(.rule))]
pub struct RuleError {
    /// The rule the problem is in, when it could be told.
    pub rule: Option<String>,
    /// 1-based line in the TOML text.
    pub line: usize,
    /// 1-based column (in characters) in the TOML text.
    pub column: usize,
    /// Shown in this error's message rather than chained as its source: callers print the chain
    /// of causes on one line (`{:#}`), where the kind would repeat and a TOML error would add
    /// the parser's multi-line excerpt. The parser's error stays reachable as the kind's source.
    pub kind: ErrorKind,
}

fn rule_prefix(rule: &Option<String>) -> String {
    match rule {
        Some(name) => format!("rule `{name}`: "),
        None => String::new(),
    }
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ErrorKind {
    /// The TOML itself is malformed, has an unknown key or a value of the wrong type. Shows the
    /// parser's message alone: the line and column are [`RuleError`]'s, and the parser's own
    /// `Display` (kept as the source) adds a multi-line excerpt of the file. Boxed: it is several
    /// times the size of every other kind, and every `Result` of compilation would carry it.
    #[error("{}", .0.message().trim())]
    Toml(#[source] Box<toml::de::Error>),
    #[error("the expression is empty")]
    EmptyExpression,
    #[error("unexpected character `{0}`")]
    UnexpectedChar(char),
    #[error("`=` is not an operator: write `==` to compare")]
    SingleEquals,
    #[error("unterminated string")]
    UnterminatedString,
    #[error("`{0}` is not a number")]
    BadNumber(String),
    #[error("unknown unit `{0}` (expected ms, s, m, h or %)")]
    UnknownUnit(String),
    #[error("found {0} where {1} was expected")]
    Unexpected(String, &'static str),
    #[error("comparisons cannot be chained: join them with `and`")]
    ChainedComparison,
    #[error("the expression is nested too deeply")]
    TooDeep,
    #[error("unknown field `{0}` (fields: {1})")]
    UnknownField(String, String),
    #[error("unknown baseline `baseline.{0}` (baselines: {1})")]
    UnknownBaseline(String, String),
    #[error("unknown event `event.{0}` (events: {1})")]
    UnknownEvent(String, String),
    #[error("unknown session kind `session.{0}` (kinds: {1})")]
    UnknownSessionKind(String, String),
    #[error("unknown namespace `{0}.` (expected event., session. or baseline.)")]
    UnknownNamespace(String),
    #[error("unknown function `{0}` (functions: {1})")]
    UnknownFunction(String, &'static str),
    #[error("`{0}` takes {1}")]
    Arity(String, &'static str),
    #[error("expected {expected} but this is {found}")]
    Type { expected: ValueType, found: ValueType },
    #[error("the window must be a duration such as `60s` or `5m`")]
    WindowNotDuration,
    #[error("the window must be longer than 0 and at most 24 h")]
    WindowRange,
    #[error("`{0}` is only meaningful after a sequence step (and `elapsed` in the message of a `for` rule)")]
    NeedsPreviousStep(StepValue),
    #[error(
        "`for` cannot be combined with event predicates (`event.*`, `tag()`), which are true for an instant"
    )]
    ForWithEventPredicate,
    #[error("`{0}` is not a duration (write e.g. `90s`, `5m`, `1h30m`)")]
    BadDuration(String),
    #[error("a rule needs either `when` or `sequence`")]
    NoCondition,
    #[error("`{0}` needs `sequence`")]
    NeedsSequence(SequenceKey),
    #[error("`sequence` needs `within`")]
    SequenceNeedsWithin,
    #[error("`sequence` needs at least one step")]
    EmptySequence,
    #[error("`for` applies to `when` alone and cannot be combined with `sequence`")]
    ForWithSequence,
    #[error("duplicate rule name (the first is at line {0})")]
    DuplicateName(usize),
    #[error("rule names use lower-case letters, digits and `_`")]
    BadName,
    #[error("unterminated `{{` in message (write `{{{{` for a literal brace)")]
    UnterminatedPlaceholder,
    #[error("unmatched `}}` in message (write `}}}}` for a literal brace)")]
    UnmatchedBrace,
    #[error("bad format `{0}` (expected `.N`, e.g. `:.0` or `:.2`)")]
    BadFormat(String),
}

/// What an expression computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Number,
    /// True or false (or unknown).
    Condition,
    /// Only as the argument of `tag()`.
    String,
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Number => "a number",
            ValueType::Condition => "a condition (true/false)",
            ValueType::String => "a string",
        })
    }
}

/// A value that refers to the previous step of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepValue {
    /// `prev(field)`: the field's value when the previous step matched.
    Prev,
    /// `elapsed`: the time since the previous step matched (or since a `for` condition began).
    Elapsed,
}

impl fmt::Display for StepValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepValue::Prev => "prev()",
            StepValue::Elapsed => "elapsed",
        })
    }
}

/// A key of a rule that belongs to `sequence` rules only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceKey {
    Within,
    NotFollowedBy,
}

impl fmt::Display for SequenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SequenceKey::Within => "within",
            SequenceKey::NotFollowedBy => "not_followed_by",
        })
    }
}

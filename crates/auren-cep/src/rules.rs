//! Rule files: the TOML schema, and compilation of every rule into slot-resolved programs, with
//! errors mapped back to the line and column of the file.

use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ErrorKind, RuleError, SequenceKey, ValueType};
use crate::event::EventClass;
use crate::expr::{self, ExprError, parse_duration};
use crate::program::{Compiled, Lookback, Op, Program, Registry, WindowSpec};
use crate::template::{self, Placeholder, Template};

/// How serious an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    severity: Severity,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    when: Option<Spanned<String>>,
    #[serde(rename = "for")]
    hold: Option<Spanned<String>>,
    sequence: Option<Spanned<Vec<Spanned<String>>>>,
    within: Option<Spanned<String>>,
    not_followed_by: Option<Spanned<String>>,
    cooldown: Option<Spanned<String>>,
    message: Option<Spanned<String>>,
}

fn enabled_by_default() -> bool {
    true
}

/// How a rule matches.
#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    Condition(Condition),
    Sequence(Sequence),
}

/// `when`, optionally held for `hold_ms`.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub when: Program,
    pub hold_ms: i64,
    /// For conditions without event predicates: the windows `when` reads. On a tick where none
    /// of them changed, the last value still holds and is reused instead of re-evaluated.
    pub tick_cache: Option<Box<[u16]>>,
}

/// `sequence` of steps within `within_ms`, optionally followed by the absence of `absent`, and
/// a `guard` (`when`) checked at completion.
#[derive(Debug, Clone)]
pub(crate) struct Sequence {
    pub steps: Vec<Program>,
    /// Event classes on which each step can become true (the rule's mask also covers
    /// deadlines).
    pub step_masks: Vec<u16>,
    pub within_ms: i64,
    pub absent: Option<Program>,
    pub guard: Option<Program>,
}

impl Pattern {
    /// What the rule's message may read of an earlier moment.
    fn message_lookback(&self) -> Lookback {
        match self {
            Pattern::Condition(c) if c.hold_ms > 0 => Lookback::Held,
            Pattern::Condition(_) => Lookback::Nothing,
            Pattern::Sequence(_) => Lookback::PreviousStep,
        }
    }
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub enabled: bool,
    pub line: usize,
    /// Event classes on which the rule is evaluated.
    pub mask: u16,
    pub pattern: Pattern,
    pub cooldown_ms: i64,
    /// Fires on every true evaluation (it reads event predicates) instead of on rising edges.
    pub per_event: bool,
    pub message: Template,
    pub leaves: Vec<(String, Op)>,
    pub longest_window_ms: i64,
}

/// A compiled rule file. Cheap to clone: detectors share it.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) inner: Arc<RuleSetInner>,
}

#[derive(Debug)]
pub(crate) struct RuleSetInner {
    pub rules: Vec<Rule>,
    /// For each event class (by discriminant), the enabled rules it triggers, in file order.
    pub by_class: Vec<Vec<u16>>,
    pub windows: Vec<WindowSpec>,
    pub tags: Vec<String>,
}

/// What a rule file says about one rule, for listings (`auren rules check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub severity: Severity,
    pub enabled: bool,
    /// Line of the rule's `name` in the file.
    pub line: usize,
}

impl RuleSet {
    /// The rules, in file order.
    pub fn rules(&self) -> impl Iterator<Item = RuleInfo<'_>> {
        self.inner.rules.iter().map(|r| RuleInfo {
            name: &r.name,
            description: &r.description,
            severity: r.severity,
            enabled: r.enabled,
            line: r.line,
        })
    }

    pub fn len(&self) -> usize {
        self.inner.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.rules.is_empty()
    }

    /// How many distinct sliding windows the rules share.
    pub fn window_count(&self) -> usize {
        self.inner.windows.len()
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Maps byte `decoded` of a TOML string's value to its byte offset in the file, given the span
/// of the string token (quotes included). Escapes are walked so positions stay exact.
pub(crate) fn map_into_file(text: &str, span: &Range<usize>, decoded: usize) -> usize {
    let raw = text.get(span.clone()).unwrap_or("");
    let (delim, basic) = if raw.starts_with("\"\"\"") {
        (3, true)
    } else if raw.starts_with("'''") {
        (3, false)
    } else if raw.starts_with('"') {
        (1, true)
    } else if raw.starts_with('\'') {
        (1, false)
    } else {
        return span.start;
    };
    let mut pos = delim;
    if delim == 3 {
        // A newline right after the opening delimiter is not part of the value.
        if raw[pos..].starts_with("\r\n") {
            pos += 2;
        } else if raw[pos..].starts_with('\n') {
            pos += 1;
        }
    }
    if !basic {
        return span.start + pos + decoded;
    }
    let bytes = raw.as_bytes();
    let mut d = 0;
    while pos < bytes.len() && d < decoded {
        if bytes[pos] == b'\\' {
            match bytes.get(pos + 1) {
                Some(b'u') | Some(b'U') => {
                    let n = if bytes[pos + 1] == b'u' { 4 } else { 8 };
                    let ch = raw
                        .get(pos + 2..pos + 2 + n)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map_or(1, char::len_utf8);
                    d += ch;
                    pos += 2 + n;
                }
                Some(c) if c.is_ascii_whitespace() => {
                    pos += 1;
                    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                        pos += 1;
                    }
                }
                _ => {
                    d += 1;
                    pos += 2;
                }
            }
        } else {
            let len = raw[pos..].chars().next().map_or(1, char::len_utf8);
            d += len;
            pos += len;
        }
    }
    span.start + pos
}

/// Where one rule stands in the file: its problems are reported with its name, line and column.
struct RuleSite<'t> {
    text: &'t str,
    name: &'t str,
}

impl RuleSite<'_> {
    fn at(&self, offset: usize, kind: ErrorKind) -> RuleError {
        let (line, column) = line_col(self.text, offset);
        RuleError {
            rule: Some(self.name.to_string()),
            line,
            column,
            kind,
        }
    }

    fn expr_error(&self, s: &Spanned<String>, e: ExprError) -> RuleError {
        let offset = map_into_file(self.text, &s.span(), e.at);
        self.at(offset, e.kind)
    }

    fn duration(&self, s: &Spanned<String>) -> Result<i64, RuleError> {
        parse_duration(s.get_ref()).map_err(|k| self.at(s.span().start, k))
    }

    /// Compiles `s`, which must be true or false.
    fn condition(
        &self,
        s: &Spanned<String>,
        registry: &mut Registry,
        lookback: Lookback,
    ) -> Result<Compiled, RuleError> {
        let text = s.get_ref();
        let parsed = expr::parse(text).map_err(|e| self.expr_error(s, e))?;
        let compiled = registry
            .compiler(lookback)
            .compile(text, &parsed)
            .map_err(|e| self.expr_error(s, e))?;
        if compiled.ty != ValueType::Condition {
            let e = ExprError {
                at: 0,
                kind: ErrorKind::Type {
                    expected: ValueType::Condition,
                    found: compiled.ty,
                },
            };
            return Err(self.expr_error(s, e));
        }
        Ok(compiled)
    }

    /// Compiles the message template `m`.
    fn message(
        &self,
        m: &Spanned<String>,
        registry: &mut Registry,
        lookback: Lookback,
    ) -> Result<(Template, Vec<Placeholder>), RuleError> {
        template::compile(m.get_ref(), &mut registry.compiler(lookback)).map_err(|e| self.expr_error(m, e))
    }
}

/// Rule names become identifiers in the store and the UI: keep them plain.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Which rule a TOML-level error at `offset` is in: the last table header up to the error's
/// line must be a `[[rule]]`; its ordinal picks the name from an untyped parse (which succeeds
/// when only the schema is wrong).
fn rule_at(text: &str, offset: usize) -> Option<String> {
    let line_end = text
        .get(offset..)
        .and_then(|rest| rest.find('\n'))
        .map_or(text.len(), |i| offset + i);
    let mut rules_seen = 0usize;
    let mut in_rule = false;
    for line in text.get(..line_end)?.lines() {
        let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.starts_with('[') {
            in_rule = compact.starts_with("[[rule]]");
            rules_seen += usize::from(in_rule);
        }
    }
    if !in_rule {
        return None;
    }
    let table: toml::Table = text.parse().ok()?;
    let rule = table.get("rule")?.as_array()?.get(rules_seen - 1)?;
    Some(rule.get("name")?.as_str()?.to_string())
}

/// A file that is not valid TOML or does not follow the schema, located in the file.
fn toml_error(text: &str, e: toml::de::Error) -> RuleError {
    let offset = e.span().map_or(0, |s| s.start);
    let (line, column) = line_col(text, offset);
    RuleError {
        rule: rule_at(text, offset),
        line,
        column,
        kind: ErrorKind::Toml(Box::new(e)),
    }
}

/// How many problems a compilation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    /// Stop at the first faulty rule.
    First,
    /// Go on after a faulty rule.
    Every,
}

/// Parses and compiles a rules file. The first problem found is returned with its rule, line
/// and column.
pub fn compile(toml_text: &str) -> Result<RuleSet, RuleError> {
    compile_reporting(toml_text, Report::First).map_err(|(first, _)| first)
}

/// Like [`compile`], but goes on after a faulty rule and reports every problem, in file order
/// (a file that is not valid TOML still stops at its first syntax error).
pub fn check(toml_text: &str) -> Result<RuleSet, Vec<RuleError>> {
    compile_reporting(toml_text, Report::Every)
        .map_err(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

/// On failure: the first problem and the others.
fn compile_reporting(toml_text: &str, report: Report) -> Result<RuleSet, (RuleError, Vec<RuleError>)> {
    let file: RawFile = toml::from_str(toml_text).map_err(|e| (toml_error(toml_text, e), Vec::new()))?;
    let mut registry = Registry::default();
    let mut rules: Vec<Rule> = Vec::new();
    let mut errors = Vec::new();
    let mut names: Vec<(&str, usize)> = Vec::new();
    for raw in &file.rule {
        let site = RuleSite {
            text: toml_text,
            name: raw.name.get_ref(),
        };
        let name_at = raw.name.span().start;
        let result = if !valid_name(site.name) {
            Err(site.at(name_at, ErrorKind::BadName))
        } else if let Some(&(_, line)) = names.iter().find(|(n, _)| *n == site.name) {
            Err(site.at(name_at, ErrorKind::DuplicateName(line)))
        } else {
            names.push((site.name, line_col(toml_text, name_at).0));
            compile_rule(&site, raw, &mut registry)
        };
        match result {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                errors.push(e);
                if report == Report::First {
                    break;
                }
            }
        }
    }
    let mut errors = errors.into_iter();
    if let Some(first) = errors.next() {
        return Err((first, errors.collect()));
    }
    let Registry { windows, tags } = registry;
    Ok(RuleSet {
        inner: Arc::new(RuleSetInner {
            by_class: rules_by_class(&rules),
            rules,
            windows,
            tags,
        }),
    })
}

/// For each event class (by discriminant), the enabled rules it triggers, in file order.
fn rules_by_class(rules: &[Rule]) -> Vec<Vec<u16>> {
    EventClass::ALL
        .iter()
        .map(|c| {
            (0..rules.len())
                .filter(|&i| rules[i].enabled && rules[i].mask & c.bit() != 0)
                .map(|i| i as u16)
                .collect()
        })
        .collect()
}

fn merge_leaves(into: &mut Vec<(String, Op)>, from: &[(String, Op)]) {
    for (label, op) in from {
        if !into.iter().any(|(l, _)| l == label) {
            into.push((label.clone(), *op));
        }
    }
}

/// What a rule's expressions read, gathered across `when`, steps and the message.
#[derive(Default)]
struct Reads {
    mask: u16,
    per_event: bool,
    longest_window_ms: i64,
    leaves: Vec<(String, Op)>,
}

impl Reads {
    fn absorb_reads(&mut self, other: Reads) {
        self.mask |= other.mask;
        self.per_event |= other.per_event;
        self.longest_window_ms = self.longest_window_ms.max(other.longest_window_ms);
        merge_leaves(&mut self.leaves, &other.leaves);
    }

    fn absorb(&mut self, c: &Compiled, counts_as_event: bool) {
        self.mask |= c.mask;
        self.per_event |= counts_as_event && c.uses_event;
        self.longest_window_ms = self.longest_window_ms.max(c.longest_window_ms);
        merge_leaves(&mut self.leaves, &c.leaves);
    }
}

/// The keys that say how a rule matches, once checked for keys that do not belong together.
enum RawPattern<'r> {
    /// `when`, with `for`.
    Condition {
        when: &'r Spanned<String>,
        hold: Option<&'r Spanned<String>>,
    },
    Sequence(RawSequence<'r>),
}

/// `sequence` with `within`, `not_followed_by` and `when` (its guard).
struct RawSequence<'r> {
    steps: &'r Spanned<Vec<Spanned<String>>>,
    within: &'r Spanned<String>,
    absent: Option<&'r Spanned<String>>,
    guard: Option<&'r Spanned<String>>,
}

impl RawRule {
    /// How the rule matches, by the keys it has.
    fn pattern(&self, site: &RuleSite<'_>) -> Result<RawPattern<'_>, RuleError> {
        match (&self.when, &self.sequence) {
            (None, None) => Err(site.at(self.name.span().start, ErrorKind::NoCondition)),
            (Some(when), None) => {
                for (key, value) in [
                    (SequenceKey::Within, &self.within),
                    (SequenceKey::NotFollowedBy, &self.not_followed_by),
                ] {
                    if let Some(v) = value {
                        return Err(site.at(v.span().start, ErrorKind::NeedsSequence(key)));
                    }
                }
                Ok(RawPattern::Condition {
                    when,
                    hold: self.hold.as_ref(),
                })
            }
            (guard, Some(steps)) => {
                if let Some(h) = &self.hold {
                    return Err(site.at(h.span().start, ErrorKind::ForWithSequence));
                }
                let Some(within) = &self.within else {
                    return Err(site.at(steps.span().start, ErrorKind::SequenceNeedsWithin));
                };
                Ok(RawPattern::Sequence(RawSequence {
                    steps,
                    within,
                    absent: self.not_followed_by.as_ref(),
                    guard: guard.as_ref(),
                }))
            }
        }
    }
}

fn compile_rule(site: &RuleSite<'_>, raw: &RawRule, registry: &mut Registry) -> Result<Rule, RuleError> {
    let (pattern, mut reads) = match raw.pattern(site)? {
        RawPattern::Condition { when, hold } => compile_condition(site, when, hold, registry)?,
        RawPattern::Sequence(sequence) => compile_sequence(site, &sequence, registry)?,
    };
    let message = match &raw.message {
        Some(m) => {
            let (template, placeholders) = site.message(m, registry, pattern.message_lookback())?;
            // What the message reads is shown, not judged: it does not add evaluations.
            let mask = reads.mask;
            for p in &placeholders {
                reads.absorb(&p.compiled, false);
            }
            reads.mask = mask;
            template
        }
        None => Template::default(),
    };
    if reads.mask == 0 {
        // Reads neither fields nor events (constants, baselines): judge it on everything.
        reads.mask = u16::MAX;
    }
    let cooldown_ms = raw
        .cooldown
        .as_ref()
        .map(|c| site.duration(c))
        .transpose()?
        .unwrap_or(0);
    let (line, _) = line_col(site.text, raw.name.span().start);
    Ok(Rule {
        name: site.name.to_string(),
        description: raw.description.trim().to_string(),
        severity: raw.severity,
        enabled: raw.enabled,
        line,
        mask: reads.mask,
        pattern,
        cooldown_ms,
        per_event: reads.per_event,
        message,
        leaves: reads.leaves,
        longest_window_ms: reads.longest_window_ms,
    })
}

/// `when`, held for `hold` if given.
fn compile_condition(
    site: &RuleSite<'_>,
    when: &Spanned<String>,
    hold: Option<&Spanned<String>>,
    registry: &mut Registry,
) -> Result<(Pattern, Reads), RuleError> {
    let c = site.condition(when, registry, Lookback::Nothing)?;
    let hold_ms = match hold {
        Some(h) if c.uses_event => {
            return Err(site.at(h.span().start, ErrorKind::ForWithEventPredicate));
        }
        Some(h) => site.duration(h)?,
        None => 0,
    };
    let mut reads = Reads::default();
    reads.absorb(&c, true);
    // Without windows or a hold, only events change the value: ticks cannot matter.
    if hold_ms > 0 || c.longest_window_ms > 0 {
        reads.mask |= EventClass::Tick.bit();
    }
    let tick_cache = (!c.uses_event).then(|| c.windows.into_boxed_slice());
    let condition = Condition {
        when: c.program,
        hold_ms,
        tick_cache,
    };
    Ok((Pattern::Condition(condition), reads))
}

/// The steps, then the absence and the guard judged after the last step.
fn compile_sequence(
    site: &RuleSite<'_>,
    raw: &RawSequence<'_>,
    registry: &mut Registry,
) -> Result<(Pattern, Reads), RuleError> {
    let within_ms = site.duration(raw.within)?;
    if raw.steps.get_ref().is_empty() {
        return Err(site.at(raw.steps.span().start, ErrorKind::EmptySequence));
    }
    // Evidence lists what was checked last (the absence, the guard) first.
    let mut reads = Reads::default();
    let mut after_last_step = |s: &Spanned<String>| {
        let c = site.condition(s, registry, Lookback::PreviousStep)?;
        reads.absorb(&c, false);
        Ok::<Program, RuleError>(c.program)
    };
    let absent = raw.absent.map(&mut after_last_step).transpose()?;
    let guard = raw.guard.map(&mut after_last_step).transpose()?;
    let mut steps = Vec::new();
    let mut step_masks = Vec::new();
    let mut step_reads = Reads::default();
    for (i, step) in raw.steps.get_ref().iter().enumerate() {
        let lookback = if i == 0 {
            Lookback::Nothing
        } else {
            Lookback::PreviousStep
        };
        let c = site.condition(step, registry, lookback)?;
        step_reads.absorb(&c, false);
        // `elapsed` and windows move with time alone; a step reading nothing is judged on
        // everything.
        step_masks.push(if c.mask == 0 {
            u16::MAX
        } else {
            c.mask | EventClass::Tick.bit()
        });
        steps.push(c.program);
    }
    reads.absorb_reads(step_reads);
    // Time alone moves `elapsed`, windows and deadlines.
    reads.mask |= EventClass::Tick.bit();
    if absent.is_some() {
        // The deadline must be noticed on whatever arrives next.
        reads.mask = u16::MAX;
    }
    let sequence = Sequence {
        steps,
        step_masks,
        within_ms,
        absent,
        guard,
    };
    Ok((Pattern::Sequence(sequence), reads))
}

#[cfg(test)]
mod tests {
    //! What each kind of rule compiles to: its pattern, the event classes that evaluate it and
    //! the evidence it gathers. The detector's behaviour rests on these masks.

    use super::*;

    /// The class names in `mask`, or `all`.
    fn classes(mask: u16) -> String {
        if mask == u16::MAX {
            return "all".into();
        }
        let names: Vec<_> = EventClass::ALL
            .iter()
            .filter(|c| mask & c.bit() != 0)
            .map(|c| c.name())
            .collect();
        names.join("|")
    }

    /// One line saying what `rule` compiled to.
    fn shape(rule: &Rule) -> String {
        let pattern = match &rule.pattern {
            Pattern::Condition(c) => format!(
                "condition hold={} tick_cache={:?}",
                c.hold_ms,
                c.tick_cache.as_deref()
            ),
            Pattern::Sequence(s) => {
                let steps: Vec<_> = s.step_masks.iter().map(|m| classes(*m)).collect();
                format!(
                    "sequence within={} steps=[{}] absent={} guard={}",
                    s.within_ms,
                    steps.join(", "),
                    s.absent.is_some(),
                    s.guard.is_some()
                )
            }
        };
        let leaves: Vec<_> = rule.leaves.iter().map(|(label, _)| label.as_str()).collect();
        format!(
            "{pattern}; mask={} per_event={} longest={} leaves=[{}]",
            classes(rule.mask),
            rule.per_event,
            rule.longest_window_ms,
            leaves.join(", ")
        )
    }

    #[test]
    fn each_kind_of_rule_compiles_to_its_shape() {
        // (the rule's keys after name and severity, what it compiles to)
        let table: &[(&str, &str)] = &[
            (
                "when = \"hr > 100\"",
                "condition hold=0 tick_cache=Some([]); mask=heart_rate per_event=false longest=0 leaves=[hr]",
            ),
            (
                "when = \"hr > 100\"\nfor = \"30s\"",
                "condition hold=30000 tick_cache=Some([]); mask=heart_rate|tick per_event=false longest=0 leaves=[hr]",
            ),
            (
                "when = \"avg(hr, 60s) > 100\"",
                "condition hold=0 tick_cache=Some([0]); mask=heart_rate|tick per_event=false longest=60000 leaves=[avg(hr, 60s)]",
            ),
            (
                "when = \"event.beat and rr_ms > 1000\"",
                "condition hold=0 tick_cache=None; mask=beat per_event=true longest=0 leaves=[rr_ms]",
            ),
            (
                "when = \"baseline.resting_hr > 50\"",
                "condition hold=0 tick_cache=Some([]); mask=all per_event=false longest=0 leaves=[baseline.resting_hr]",
            ),
            (
                "when = \"hr > 1\"\nmessage = \"{avg(rr_ms, 30s):.0} after {elapsed}\"\nfor = \"5s\"",
                "condition hold=5000 tick_cache=Some([]); mask=heart_rate|tick per_event=false longest=30000 leaves=[hr, avg(rr_ms, 30s), elapsed]",
            ),
            (
                "sequence = [\"hr > 150\", \"hr < 120\"]\nwithin = \"2m\"",
                "sequence within=120000 steps=[heart_rate|tick, heart_rate|tick] absent=false guard=false; mask=heart_rate|tick per_event=false longest=0 leaves=[hr]",
            ),
            (
                "sequence = [\"event.session_start\"]\nwithin = \"10s\"\nnot_followed_by = \"event.beat\"",
                "sequence within=10000 steps=[session_start|tick] absent=true guard=false; mask=all per_event=false longest=0 leaves=[]",
            ),
            (
                "sequence = [\"hr > 150\", \"hr < prev(hr) - 30\"]\nwithin = \"2m\"\nwhen = \"elapsed < 60s\"",
                "sequence within=120000 steps=[heart_rate|tick, heart_rate|tick] absent=false guard=true; mask=heart_rate|tick per_event=false longest=0 leaves=[elapsed, hr, prev(hr)]",
            ),
            (
                "sequence = [\"baseline.max_hr > 0\", \"max(rmssd_60s, 5m) > 1\"]\nwithin = \"1h\"\nmessage = \"{prev(hr)}\"",
                "sequence within=3600000 steps=[all, metrics|tick] absent=false guard=false; mask=metrics|tick per_event=false longest=300000 leaves=[baseline.max_hr, max(rmssd_60s, 5m), prev(hr)]",
            ),
        ];
        for (keys, expected) in table {
            let file = format!("[[rule]]\nname = \"r\"\nseverity = \"info\"\n{keys}\n");
            let set = match compile(&file) {
                Ok(set) => set,
                Err(e) => panic!("{keys}: {e}"),
            };
            assert_eq!(shape(&set.inner.rules[0]), *expected, "{keys}");
        }
    }
}

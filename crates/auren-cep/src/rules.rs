//! Rule files: the TOML schema, and compilation of every rule into slot-resolved programs, with
//! errors mapped back to the line and column of the file.

use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{ErrorKind, RuleError};
use crate::event::EventClass;
use crate::expr::{self, ExprError, parse_duration};
use crate::program::{Compiled, Compiler, Op, Program, Ty, WindowSpec};
use crate::template::{self, Template};

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
    /// `when`, optionally held for `hold_ms`.
    Condition { when: Program, hold_ms: i64 },
    /// `sequence` of steps within `within_ms`, optionally followed by the absence of
    /// `absent`, and a `guard` (`when`) checked at completion.
    Sequence {
        steps: Vec<Program>,
        /// Event classes on which each step can become true (the rule's mask also covers
        /// deadlines).
        step_masks: Vec<u16>,
        within_ms: i64,
        absent: Option<Program>,
        guard: Option<Program>,
    },
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
    /// For conditions without event predicates: the windows `when` reads. On a tick where none
    /// of them changed, the last value still holds and is reused instead of re-evaluated.
    pub tick_cache: Option<Box<[u16]>>,
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

struct FileCtx<'t> {
    text: &'t str,
}

impl FileCtx<'_> {
    fn at(&self, rule: &str, offset: usize, kind: ErrorKind) -> RuleError {
        let (line, column) = line_col(self.text, offset);
        RuleError {
            rule: Some(rule.to_string()),
            line,
            column,
            kind,
        }
    }

    fn expr_error(&self, rule: &str, s: &Spanned<String>, e: ExprError) -> RuleError {
        let offset = map_into_file(self.text, &s.span(), e.at);
        self.at(rule, offset, e.kind)
    }

    fn duration(&self, rule: &str, s: &Spanned<String>) -> Result<i64, RuleError> {
        parse_duration(s.get_ref()).map_err(|k| self.at(rule, s.span().start, k))
    }

    fn condition(
        &self,
        rule: &str,
        s: &Spanned<String>,
        compiler: &mut Compiler<'_>,
    ) -> Result<Compiled, RuleError> {
        let text = s.get_ref();
        let parsed = expr::parse(text).map_err(|e| self.expr_error(rule, s, e))?;
        let compiled = compiler
            .compile(text, &parsed)
            .map_err(|e| self.expr_error(rule, s, e))?;
        if compiled.ty != Ty::Bool {
            let e = ExprError {
                at: 0,
                kind: ErrorKind::Type {
                    expected: "a condition (true/false)",
                    found: "a number",
                },
            };
            return Err(self.expr_error(rule, s, e));
        }
        Ok(compiled)
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

/// Parses and compiles a rules file. The first problem found is returned with its rule, line
/// and column.
pub fn compile(toml_text: &str) -> Result<RuleSet, RuleError> {
    compile_reporting(toml_text, true).map_err(|(first, _)| first)
}

/// Like [`compile`], but goes on after a faulty rule and reports every problem, in file order
/// (a file that is not valid TOML still stops at its first syntax error).
pub fn check(toml_text: &str) -> Result<RuleSet, Vec<RuleError>> {
    compile_reporting(toml_text, false).map_err(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

/// On failure: the first problem and the others.
fn compile_reporting(toml_text: &str, stop_at_first: bool) -> Result<RuleSet, (RuleError, Vec<RuleError>)> {
    let file: RawFile = toml::from_str(toml_text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let (line, column) = line_col(toml_text, offset);
        let error = RuleError {
            rule: rule_at(toml_text, offset),
            line,
            column,
            kind: ErrorKind::Toml(e.message().trim().to_string()),
        };
        (error, Vec::new())
    })?;
    let ctx = FileCtx { text: toml_text };
    let mut windows = Vec::new();
    let mut tags = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut errors = Vec::new();
    let mut names: Vec<(&str, usize)> = Vec::new();
    for raw in &file.rule {
        let name = raw.name.get_ref().as_str();
        let name_at = raw.name.span().start;
        let result = if !valid_name(name) {
            Err(ctx.at(name, name_at, ErrorKind::BadName))
        } else if let Some(&(_, line)) = names.iter().find(|(n, _)| *n == name) {
            Err(ctx.at(name, name_at, ErrorKind::DuplicateName(line)))
        } else {
            names.push((name, line_col(toml_text, name_at).0));
            compile_rule(&ctx, raw, &mut windows, &mut tags)
        };
        match result {
            Ok(rule) => rules.push(rule),
            Err(e) => {
                errors.push(e);
                if stop_at_first {
                    break;
                }
            }
        }
    }
    let mut errors = errors.into_iter();
    if let Some(first) = errors.next() {
        return Err((first, errors.collect()));
    }
    let by_class = EventClass::ALL
        .iter()
        .map(|c| {
            (0..rules.len())
                .filter(|&i| rules[i].enabled && rules[i].mask & c.bit() != 0)
                .map(|i| i as u16)
                .collect()
        })
        .collect();
    Ok(RuleSet {
        inner: Arc::new(RuleSetInner {
            by_class,
            rules,
            windows,
            tags,
        }),
    })
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

fn compile_rule(
    ctx: &FileCtx<'_>,
    raw: &RawRule,
    windows: &mut Vec<WindowSpec>,
    tags: &mut Vec<String>,
) -> Result<Rule, RuleError> {
    let name = raw.name.get_ref().as_str();
    let name_at = raw.name.span().start;
    let mut reads = Reads::default();
    let mut tick_cache = None;

    let pattern = match (&raw.when, &raw.sequence) {
        (None, None) => return Err(ctx.at(name, name_at, ErrorKind::NoCondition)),
        (Some(when), None) => {
            for (key, value) in [("within", &raw.within), ("not_followed_by", &raw.not_followed_by)] {
                if let Some(v) = value {
                    return Err(ctx.at(name, v.span().start, ErrorKind::NeedsSequence(key)));
                }
            }
            let mut compiler = Compiler {
                windows: &mut *windows,
                tags: &mut *tags,
                after_step: false,
                elapsed_allowed: false,
            };
            let c = ctx.condition(name, when, &mut compiler)?;
            let hold_ms = match &raw.hold {
                Some(h) if c.uses_event => {
                    return Err(ctx.at(name, h.span().start, ErrorKind::ForWithEventPredicate("for")));
                }
                Some(h) => ctx.duration(name, h)?,
                None => 0,
            };
            reads.absorb(&c, true);
            // Without windows or a hold, only events change the value: ticks cannot matter.
            if hold_ms > 0 || c.longest_window_ms > 0 {
                reads.mask |= EventClass::Tick.bit();
            }
            tick_cache = (!c.uses_event).then(|| c.windows.clone().into_boxed_slice());
            Pattern::Condition {
                when: c.program,
                hold_ms,
            }
        }
        (guard, Some(seq)) => {
            if let Some(h) = &raw.hold {
                return Err(ctx.at(name, h.span().start, ErrorKind::ForWithSequence));
            }
            let Some(within) = &raw.within else {
                return Err(ctx.at(name, seq.span().start, ErrorKind::SequenceNeedsWithin));
            };
            let within_ms = ctx.duration(name, within)?;
            if seq.get_ref().is_empty() {
                return Err(ctx.at(name, seq.span().start, ErrorKind::EmptySequence));
            }
            let mut after_steps = Reads::default();
            let mut compile_after = |s: &Spanned<String>, into: &mut Reads| {
                let mut compiler = Compiler {
                    windows: &mut *windows,
                    tags: &mut *tags,
                    after_step: true,
                    elapsed_allowed: true,
                };
                let c = ctx.condition(name, s, &mut compiler)?;
                into.absorb(&c, false);
                Ok::<Program, RuleError>(c.program)
            };
            let absent = raw
                .not_followed_by
                .as_ref()
                .map(|s| compile_after(s, &mut after_steps))
                .transpose()?;
            let guard = guard
                .as_ref()
                .map(|s| compile_after(s, &mut after_steps))
                .transpose()?;
            let mut steps = Vec::new();
            let mut step_masks = Vec::new();
            for (i, step) in seq.get_ref().iter().enumerate() {
                let mut compiler = Compiler {
                    windows: &mut *windows,
                    tags: &mut *tags,
                    after_step: i > 0,
                    elapsed_allowed: false,
                };
                let c = ctx.condition(name, step, &mut compiler)?;
                reads.absorb(&c, false);
                steps.push(c.program);
                // `elapsed` and windows move with time alone; a step reading nothing is judged
                // on everything.
                step_masks.push(if c.mask == 0 {
                    u16::MAX
                } else {
                    c.mask | EventClass::Tick.bit()
                });
            }
            // Evidence lists what was checked last (the guard, the absence) first.
            let step_leaves = std::mem::take(&mut reads.leaves);
            reads.absorb_reads(after_steps);
            merge_leaves(&mut reads.leaves, &step_leaves);
            // Time alone moves `elapsed`, windows and deadlines.
            reads.mask |= EventClass::Tick.bit();
            if absent.is_some() {
                // The deadline must be noticed on whatever arrives next.
                reads.mask = u16::MAX;
            }
            Pattern::Sequence {
                steps,
                step_masks,
                within_ms,
                absent,
                guard,
            }
        }
    };
    let message = match &raw.message {
        Some(m) => {
            let mut compiler = Compiler {
                windows: &mut *windows,
                tags: &mut *tags,
                after_step: matches!(pattern, Pattern::Sequence { .. }),
                elapsed_allowed: matches!(pattern, Pattern::Condition { hold_ms, .. } if hold_ms > 0),
            };
            let (template, placeholders) =
                template::compile(m.get_ref(), &mut compiler).map_err(|e| ctx.expr_error(name, m, e))?;
            let mask = reads.mask;
            for p in &placeholders {
                reads.absorb(&p.compiled, false);
            }
            // What the message reads is shown, not judged: it does not add evaluations.
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
        .map(|c| ctx.duration(name, c))
        .transpose()?
        .unwrap_or(0);
    let (line, _) = line_col(ctx.text, name_at);
    Ok(Rule {
        name: name.to_string(),
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
        tick_cache,
    })
}

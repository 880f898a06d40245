//! Message templates: literal text with `{expression}` or `{expression:.N}` placeholders,
//! compiled with the rule and rendered only when the rule fires.

use std::fmt::Write;
use std::ops::Range;

use crate::error::{ErrorKind, ValueType};
use crate::expr::{self, ExprError};
use crate::program::{Compiled, Compiler, Program, Scope};

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Text(String),
    Value { program: Program, shown: Shown },
}

/// How a placeholder's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    /// A condition: `yes` or `no` (a format spec is ignored).
    YesNo,
    /// A number with this many decimals: `{x:.N}`.
    Fixed(u8),
    /// A number with up to two decimals, trailing zeros dropped.
    Short,
}

/// A compiled message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Template {
    pub segments: Vec<Segment>,
}

/// A placeholder's compiled form, whose reads join the rule's evidence.
pub(crate) struct Placeholder {
    pub compiled: Compiled,
}

fn at<T>(at: usize, kind: ErrorKind) -> Result<T, ExprError> {
    Err(ExprError { at, kind })
}

/// Compiles `text`; errors carry byte offsets into `text`.
pub(crate) fn compile(
    text: &str,
    compiler: &mut Compiler<'_>,
) -> Result<(Template, Vec<Placeholder>), ExprError> {
    let mut segments = Vec::new();
    let mut placeholders = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                literal.push('{');
                i += 2;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                literal.push('}');
                i += 2;
            }
            b'}' => return at(i, ErrorKind::UnmatchedBrace),
            b'{' => {
                let Some(len) = text[i + 1..].find('}') else {
                    return at(i, ErrorKind::UnterminatedPlaceholder);
                };
                let inner = i + 1..i + 1 + len;
                i = inner.end + 1;
                let (segment, placeholder) = compile_placeholder(text, inner, compiler)?;
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                segments.push(segment);
                placeholders.push(placeholder);
            }
            _ => {
                let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
                literal.push_str(&text[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Text(literal));
    }
    Ok((Template { segments }, placeholders))
}

/// The placeholder whose text between the braces is `text[inner]`: `expression` or
/// `expression:.N`. Errors carry byte offsets into `text`.
fn compile_placeholder(
    text: &str,
    inner: Range<usize>,
    compiler: &mut Compiler<'_>,
) -> Result<(Segment, Placeholder), ExprError> {
    let inner_start = inner.start;
    let inner = &text[inner];
    let (expr_text, decimals) = match inner.rfind(':') {
        Some(colon) => {
            let spec = &inner[colon + 1..];
            let digits = spec.strip_prefix('.').unwrap_or("");
            let decimals = match digits.parse::<u8>() {
                Ok(d) if d <= 9 => d,
                _ => return at(inner_start + colon + 1, ErrorKind::BadFormat(spec.to_string())),
            };
            (&inner[..colon], Some(decimals))
        }
        None => (inner, None),
    };
    let into_text = |e: ExprError| ExprError {
        at: e.at + inner_start,
        kind: e.kind,
    };
    let parsed = expr::parse(expr_text).map_err(into_text)?;
    let compiled = compiler.compile(expr_text, &parsed).map_err(into_text)?;
    let shown = match (compiled.ty, decimals) {
        (ValueType::Condition, _) => Shown::YesNo,
        (_, Some(d)) => Shown::Fixed(d),
        (_, None) => Shown::Short,
    };
    let segment = Segment::Value {
        program: compiled.program.clone(),
        shown,
    };
    Ok((segment, Placeholder { compiled }))
}

impl Template {
    /// The message with the current values filled in; unknown values print as `?`.
    pub(crate) fn render(&self, scope: &Scope<'_>) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Value { program, shown } => {
                    let v = program.eval(scope);
                    // Writing into a String cannot fail.
                    let _ = match shown {
                        _ if v.is_nan() => write!(out, "?"),
                        Shown::YesNo => write!(out, "{}", if v == 1.0 { "yes" } else { "no" }),
                        Shown::Fixed(d) => write!(out, "{:.*}", *d as usize, v),
                        Shown::Short => write!(out, "{}", format_default(v)),
                    };
                }
            }
        }
        out
    }
}

/// Up to two decimals, trailing zeros dropped: `42`, `0.75`, `61.3`.
fn format_default(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

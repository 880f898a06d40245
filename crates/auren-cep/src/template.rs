//! Message templates: literal text with `{expression}` or `{expression:.N}` placeholders,
//! compiled with the rule and rendered only when the rule fires.

use std::fmt::Write;

use crate::error::ErrorKind;
use crate::expr::{self, ExprError};
use crate::program::{Compiled, Compiler, Program, Scope, Ty};

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Text(String),
    Value {
        program: Program,
        is_bool: bool,
        decimals: Option<u8>,
    },
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
                let inner_start = i + 1;
                let inner = &text[inner_start..inner_start + len];
                let (expr_text, decimals) = match inner.rfind(':') {
                    Some(colon) => {
                        let spec = &inner[colon + 1..];
                        let digits = spec.strip_prefix('.').unwrap_or("");
                        let decimals = match digits.parse::<u8>() {
                            Ok(d) if d <= 9 => d,
                            _ => {
                                return at(inner_start + colon + 1, ErrorKind::BadFormat(spec.to_string()));
                            }
                        };
                        (&inner[..colon], Some(decimals))
                    }
                    None => (inner, None),
                };
                let parsed = expr::parse(expr_text).map_err(|e| ExprError {
                    at: e.at + inner_start,
                    kind: e.kind,
                })?;
                let compiled = compiler.compile(expr_text, &parsed).map_err(|e| ExprError {
                    at: e.at + inner_start,
                    kind: e.kind,
                })?;
                if !literal.is_empty() {
                    segments.push(Segment::Text(std::mem::take(&mut literal)));
                }
                segments.push(Segment::Value {
                    program: compiled.program.clone(),
                    is_bool: compiled.ty == Ty::Bool,
                    decimals,
                });
                placeholders.push(Placeholder { compiled });
                i = inner_start + len + 1;
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

impl Template {
    /// The message with the current values filled in; unknown values print as `?`.
    pub(crate) fn render(&self, scope: &Scope<'_>) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text(t) => out.push_str(t),
                Segment::Value {
                    program,
                    is_bool,
                    decimals,
                } => {
                    let v = program.eval(scope);
                    // Writing into a String cannot fail.
                    let _ = if v.is_nan() {
                        write!(out, "?")
                    } else if *is_bool {
                        write!(out, "{}", if v == 1.0 { "yes" } else { "no" })
                    } else {
                        match decimals {
                            Some(d) => write!(out, "{:.*}", *d as usize, v),
                            None => write!(out, "{}", format_default(v)),
                        }
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

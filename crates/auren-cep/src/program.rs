//! Compiled expressions: type checking, slot resolution and a flat stack program evaluated with
//! no allocation and no string lookups.
//!
//! Values are `f64`; truth values are 1 (true), 0 (false) or NaN (unknown: a field never seen,
//! an absent baseline, an empty window). `and`/`or`/`not` follow three-valued logic, so a rule
//! fires only when its condition is known to be true.

use crate::error::{ErrorKind, StepValue, ValueType};
use crate::event::{BaselineField, EventClass, SessionKind};
use crate::expr::{BinOp, Expr, ExprError, ExprKind, Unit};
use crate::field::{FIELD_COUNT, Field};
use crate::window::{Aggregate, Needs, SlidingWindow};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Const(f64),
    Field(u8),
    Baseline(u8),
    Window(u16, Aggregate),
    Prev(u8),
    Elapsed,
    /// True when the current event's class bit is in the mask.
    Event(u16),
    Tag(u16),
    InSession,
    Session(SessionKind),
    /// Skips the next `n` ops when the top of the stack is false (0): `false and x` is false.
    SkipIfFalse(u16),
    /// Skips the next `n` ops when the top of the stack is true (1): `true or x` is true.
    SkipIfTrue(u16),
    Neg,
    Not,
    Abs,
    Ln,
    Exp,
    /// Pops two values and pushes their combination.
    Binary(BinOp),
}

/// A stack program. Its depth is bounded at compile time by [`MAX_STACK`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Program {
    ops: Box<[Op]>,
}

pub(crate) const MAX_STACK: usize = 16;

/// What an expression reads, for one evaluation.
pub(crate) struct Scope<'a> {
    pub latest: &'a [f64; FIELD_COUNT],
    pub baselines: &'a [f64; BaselineField::COUNT],
    pub windows: &'a [SlidingWindow],
    pub event_bit: u16,
    pub tag: Option<&'a str>,
    pub tags: &'a [String],
    pub session: Option<SessionKind>,
    pub prev: &'a [f64; FIELD_COUNT],
    pub elapsed: f64,
}

#[inline]
fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

#[inline]
fn compare(a: f64, b: f64, f: impl Fn(f64, f64) -> bool) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        truth(f(a, b))
    }
}

impl BinOp {
    /// `a op b`, with NaN for a division by zero and three-valued `and`/`or`.
    #[inline]
    fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div if b == 0.0 => f64::NAN,
            BinOp::Div => a / b,
            BinOp::Lt => compare(a, b, |a, b| a < b),
            BinOp::Le => compare(a, b, |a, b| a <= b),
            BinOp::Gt => compare(a, b, |a, b| a > b),
            BinOp::Ge => compare(a, b, |a, b| a >= b),
            BinOp::Eq => compare(a, b, |a, b| a == b),
            BinOp::Ne => compare(a, b, |a, b| a != b),
            BinOp::And if a == 0.0 || b == 0.0 => 0.0,
            BinOp::Or if a == 1.0 || b == 1.0 => 1.0,
            _ if a.is_nan() || b.is_nan() => f64::NAN,
            BinOp::And => 1.0,
            _ => 0.0,
        }
    }
}

impl Program {
    /// Evaluates one leaf op in isolation (for evidence and templates of a single value).
    #[inline]
    fn load(op: Op, s: &Scope<'_>) -> f64 {
        match op {
            Op::Const(v) => v,
            Op::Field(i) => s.latest[i as usize],
            Op::Baseline(i) => s.baselines[i as usize],
            Op::Window(w, agg) => s.windows[w as usize].read(agg),
            Op::Prev(i) => s.prev[i as usize],
            Op::Elapsed => s.elapsed,
            Op::Event(mask) => truth(s.event_bit & mask != 0),
            Op::Tag(i) => truth(s.tag.is_some_and(|t| t == s.tags[i as usize])),
            Op::InSession => truth(s.session.is_some()),
            Op::Session(k) => truth(s.session == Some(k)),
            _ => f64::NAN,
        }
    }

    pub(crate) fn leaf_value(op: Op, s: &Scope<'_>) -> f64 {
        Self::load(op, s)
    }

    /// The value of the expression: a number, or 1/0/NaN for truth values.
    #[inline]
    pub(crate) fn eval(&self, s: &Scope<'_>) -> f64 {
        let mut stack = [0.0f64; MAX_STACK];
        let mut sp = 0usize;
        let ops = &self.ops[..];
        let mut pc = 0usize;
        while pc < ops.len() {
            let op = ops[pc];
            pc += 1;
            match op {
                Op::SkipIfFalse(n) => {
                    if stack[sp - 1] == 0.0 {
                        pc += n as usize;
                    }
                }
                Op::SkipIfTrue(n) => {
                    if stack[sp - 1] == 1.0 {
                        pc += n as usize;
                    }
                }
                Op::Neg | Op::Not | Op::Abs | Op::Ln | Op::Exp => {
                    let a = stack[sp - 1];
                    stack[sp - 1] = match op {
                        Op::Neg => -a,
                        Op::Not => 1.0 - a,
                        Op::Abs => a.abs(),
                        Op::Ln if a > 0.0 => a.ln(),
                        Op::Ln => f64::NAN,
                        _ => a.exp(),
                    };
                }
                Op::Binary(bin) => {
                    sp -= 1;
                    let b = stack[sp];
                    let a = stack[sp - 1];
                    stack[sp - 1] = bin.apply(a, b);
                }
                leaf => {
                    stack[sp] = Self::load(leaf, s);
                    sp += 1;
                }
            }
        }
        if sp == 0 { f64::NAN } else { stack[sp - 1] }
    }
}

/// A window the rule set needs: one per distinct (field, span), shared by every rule using it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowSpec {
    pub slot: u8,
    pub span_ms: i64,
    pub needs: Needs,
}

/// A compiled expression and what it reads.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub program: Program,
    pub ty: ValueType,
    /// Event classes whose arrival can change the value.
    pub mask: u16,
    /// Reads `event.*` or `tag()`: true only at the instant of an event.
    pub uses_event: bool,
    pub longest_window_ms: i64,
    /// The windows read.
    pub windows: Vec<u16>,
    /// The values worth showing as evidence: fields, baselines, aggregates, `prev`, `elapsed`.
    pub leaves: Vec<(String, Op)>,
}

/// The windows and tags of the rule set being built, shared by every rule that reads them.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub windows: Vec<WindowSpec>,
    pub tags: Vec<String>,
}

/// What an expression may read of an earlier moment, by where it stands in its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookback {
    /// Neither `prev()` nor `elapsed`: a `when`, a sequence's first step, the message of a rule
    /// that does not hold.
    Nothing,
    /// `elapsed` since the condition became true: the message of a `for` rule.
    Held,
    /// `prev()` and `elapsed` of the previous sequence step: later steps, `not_followed_by`, a
    /// sequence's `when` and message.
    PreviousStep,
}

/// Resolves names against the rule set being built, registering windows and tags.
pub(crate) struct Compiler<'r> {
    registry: &'r mut Registry,
    lookback: Lookback,
}

struct Out {
    ops: Vec<Op>,
    depth: usize,
    max_depth: usize,
    mask: u16,
    uses_event: bool,
    longest_window_ms: i64,
    windows: Vec<u16>,
    leaves: Vec<(String, Op)>,
}

impl Out {
    fn push(&mut self, op: Op) {
        self.ops.push(op);
        match op {
            Op::Neg | Op::Not | Op::Abs | Op::Ln | Op::Exp | Op::SkipIfFalse(_) | Op::SkipIfTrue(_) => {}
            Op::Binary(_) => self.depth -= 1,
            _ => {
                self.depth += 1;
                self.max_depth = self.max_depth.max(self.depth);
            }
        }
    }

    fn leaf(&mut self, text: &str, e: &Expr, op: Op) {
        let label = text[e.span.start..e.span.end].to_string();
        if !self.leaves.iter().any(|(l, _)| *l == label) {
            self.leaves.push((label, op));
        }
        self.push(op);
    }
}

fn type_err<T>(e: &Expr, expected: ValueType, found: ValueType) -> Result<T, ExprError> {
    Err(ExprError {
        at: e.span.start,
        kind: ErrorKind::Type { expected, found },
    })
}

fn fail<T>(e: &Expr, kind: ErrorKind) -> Result<T, ExprError> {
    Err(ExprError {
        at: e.span.start,
        kind,
    })
}

const FUNCTIONS: &str = "avg, sum, min, max, count, stddev, rate, delta, prev, tag, abs, ln, exp";
/// The longest window a rule may ask for: a day.
const MAX_WINDOW_MS: f64 = 86_400_000.0;

impl Compiler<'_> {
    /// Compiles `expr` (parsed from `text`).
    pub(crate) fn compile(&mut self, text: &str, expr: &Expr) -> Result<Compiled, ExprError> {
        let mut out = Out {
            ops: Vec::new(),
            depth: 0,
            max_depth: 0,
            mask: 0,
            uses_event: false,
            longest_window_ms: 0,
            windows: Vec::new(),
            leaves: Vec::new(),
        };
        let ty = self.node(text, expr, &mut out)?;
        if out.max_depth > MAX_STACK {
            return fail(expr, ErrorKind::TooDeep);
        }
        Ok(Compiled {
            program: Program {
                ops: out.ops.into_boxed_slice(),
            },
            ty,
            mask: out.mask,
            uses_event: out.uses_event,
            longest_window_ms: out.longest_window_ms,
            windows: out.windows,
            leaves: out.leaves,
        })
    }

    fn expect(&mut self, text: &str, e: &Expr, want: ValueType, out: &mut Out) -> Result<(), ExprError> {
        let got = self.node(text, e, out)?;
        if got != want {
            return type_err(e, want, got);
        }
        Ok(())
    }

    fn field_arg(e: &Expr) -> Result<Field, ExprError> {
        match &e.kind {
            ExprKind::Name(None, name) => Field::from_name(name).map_or_else(
                || fail(e, ErrorKind::UnknownField(name.clone(), Field::all_names())),
                Ok,
            ),
            _ => fail(e, ErrorKind::Unexpected("an expression".into(), "a field name")),
        }
    }

    fn field_ty(f: Field) -> ValueType {
        if f.is_flag() {
            ValueType::Condition
        } else {
            ValueType::Number
        }
    }

    fn node(&mut self, text: &str, e: &Expr, out: &mut Out) -> Result<ValueType, ExprError> {
        match &e.kind {
            ExprKind::Number(v, _) => {
                out.push(Op::Const(*v));
                Ok(ValueType::Number)
            }
            ExprKind::Str(_) => fail(
                e,
                ErrorKind::Unexpected("a string".into(), "a value (strings go in `tag(...)`)"),
            ),
            ExprKind::Neg(inner) => {
                self.expect(text, inner, ValueType::Number, out)?;
                out.push(Op::Neg);
                Ok(ValueType::Number)
            }
            ExprKind::Not(inner) => {
                self.expect(text, inner, ValueType::Condition, out)?;
                out.push(Op::Not);
                Ok(ValueType::Condition)
            }
            ExprKind::Binary(op, l, r) => self.binary(text, e, *op, l, r, out),
            ExprKind::Name(None, name) => self.name(text, e, name, out),
            ExprKind::Name(Some(ns), member) => Self::member(text, e, ns, member, out),
            ExprKind::Call(name, args) => self.call(text, e, name, args, out),
        }
    }

    /// `l op r`; `and`/`or` skip their right operand when the left one decides.
    fn binary(
        &mut self,
        text: &str,
        e: &Expr,
        op: BinOp,
        l: &Expr,
        r: &Expr,
        out: &mut Out,
    ) -> Result<ValueType, ExprError> {
        let (operand, result) = match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => (ValueType::Number, ValueType::Number),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne => {
                (ValueType::Number, ValueType::Condition)
            }
            BinOp::And | BinOp::Or => (ValueType::Condition, ValueType::Condition),
        };
        self.expect(text, l, operand, out)?;
        let skip = match op {
            BinOp::And => Some(Op::SkipIfFalse(0)),
            BinOp::Or => Some(Op::SkipIfTrue(0)),
            _ => None,
        };
        let skip_at = skip.map(|placeholder| {
            out.push(placeholder);
            out.ops.len() - 1
        });
        self.expect(text, r, operand, out)?;
        out.push(Op::Binary(op));
        if let Some(at) = skip_at {
            // Skip the right operand and the combining op: the left value is the result.
            let n = out.ops.len() - at - 1;
            let n = u16::try_from(n).map_err(|_| ExprError {
                at: e.span.start,
                kind: ErrorKind::TooDeep,
            })?;
            out.ops[at] = match out.ops[at] {
                Op::SkipIfFalse(_) => Op::SkipIfFalse(n),
                _ => Op::SkipIfTrue(n),
            };
        }
        Ok(result)
    }

    /// A bare name: `session`, `elapsed` or a field.
    fn name(&self, text: &str, e: &Expr, name: &str, out: &mut Out) -> Result<ValueType, ExprError> {
        match name {
            "session" => {
                out.mask |= EventClass::SessionStart.bit() | EventClass::SessionEnd.bit();
                out.push(Op::InSession);
                Ok(ValueType::Condition)
            }
            "elapsed" => {
                if self.lookback == Lookback::Nothing {
                    return fail(e, ErrorKind::NeedsPreviousStep(StepValue::Elapsed));
                }
                out.leaf(text, e, Op::Elapsed);
                Ok(ValueType::Number)
            }
            _ => {
                let f = Self::field_arg(e)?;
                out.mask |= f.source().bit();
                out.leaf(text, e, Op::Field(f.slot() as u8));
                Ok(Self::field_ty(f))
            }
        }
    }

    /// `namespace.member`: a baseline, an event predicate or a session kind.
    fn member(
        text: &str,
        e: &Expr,
        namespace: &str,
        member: &str,
        out: &mut Out,
    ) -> Result<ValueType, ExprError> {
        match namespace {
            "baseline" => {
                let Some(b) = BaselineField::from_name(member) else {
                    let names: Vec<_> = BaselineField::ALL.iter().map(|b| b.as_str()).collect();
                    return fail(
                        e,
                        ErrorKind::UnknownBaseline(member.to_string(), names.join(", ")),
                    );
                };
                out.leaf(text, e, Op::Baseline(b as u8));
                Ok(ValueType::Number)
            }
            "event" => {
                let Some(class) = EventClass::ALL.iter().find(|c| c.name() == member) else {
                    let names: Vec<_> = EventClass::ALL.iter().map(|c| c.name()).collect();
                    return fail(e, ErrorKind::UnknownEvent(member.to_string(), names.join(", ")));
                };
                out.mask |= class.bit();
                out.uses_event = true;
                out.push(Op::Event(class.bit()));
                Ok(ValueType::Condition)
            }
            "session" => {
                let Some(kind) = SessionKind::ALL.iter().find(|k| k.as_str() == member) else {
                    let names: Vec<_> = SessionKind::ALL.iter().map(|k| k.as_str()).collect();
                    return fail(
                        e,
                        ErrorKind::UnknownSessionKind(member.to_string(), names.join(", ")),
                    );
                };
                out.mask |= EventClass::SessionStart.bit() | EventClass::SessionEnd.bit();
                out.push(Op::Session(*kind));
                Ok(ValueType::Condition)
            }
            other => fail(e, ErrorKind::UnknownNamespace(other.to_string())),
        }
    }

    fn call(
        &mut self,
        text: &str,
        e: &Expr,
        name: &str,
        args: &[Expr],
        out: &mut Out,
    ) -> Result<ValueType, ExprError> {
        if let Some(agg) = Aggregate::from_name(name) {
            return self.aggregate(text, e, name, agg, args, out);
        }
        match name {
            "prev" => {
                if self.lookback != Lookback::PreviousStep {
                    return fail(e, ErrorKind::NeedsPreviousStep(StepValue::Prev));
                }
                let [field] = args else {
                    return fail(
                        e,
                        ErrorKind::Arity(name.to_string(), "one field, e.g. `prev(hr)`"),
                    );
                };
                let f = Self::field_arg(field)?;
                out.leaf(text, e, Op::Prev(f.slot() as u8));
                Ok(Self::field_ty(f))
            }
            "tag" => {
                let [arg] = args else {
                    return fail(
                        e,
                        ErrorKind::Arity(name.to_string(), "one string, e.g. `tag('exercise_end')`"),
                    );
                };
                let ExprKind::Str(tag) = &arg.kind else {
                    return type_err(arg, ValueType::String, ValueType::Number);
                };
                let index = self.registry.tag_index(tag);
                out.mask |= EventClass::Tag.bit();
                out.uses_event = true;
                out.push(Op::Tag(index));
                Ok(ValueType::Condition)
            }
            "abs" | "ln" | "exp" => {
                let [arg] = args else {
                    return fail(e, ErrorKind::Arity(name.to_string(), "one number"));
                };
                self.expect(text, arg, ValueType::Number, out)?;
                out.push(match name {
                    "abs" => Op::Abs,
                    "ln" => Op::Ln,
                    _ => Op::Exp,
                });
                Ok(ValueType::Number)
            }
            _ => fail(e, ErrorKind::UnknownFunction(name.to_string(), FUNCTIONS)),
        }
    }

    /// `name(field, window)`, reading the rule set's shared window of that field and span.
    fn aggregate(
        &mut self,
        text: &str,
        e: &Expr,
        name: &str,
        agg: Aggregate,
        args: &[Expr],
        out: &mut Out,
    ) -> Result<ValueType, ExprError> {
        let [field, window] = args else {
            return fail(
                e,
                ErrorKind::Arity(name.to_string(), "a field and a window, e.g. `avg(hr, 60s)`"),
            );
        };
        let f = Self::field_arg(field)?;
        let span_ms = match window.kind {
            ExprKind::Number(v, Unit::Duration) => v,
            _ => return fail(window, ErrorKind::WindowNotDuration),
        };
        if !(1.0..=MAX_WINDOW_MS).contains(&span_ms) {
            return fail(window, ErrorKind::WindowRange);
        }
        let span_ms = span_ms.round() as i64;
        let index = self.registry.window_index(f.slot() as u8, span_ms, agg.needs());
        out.mask |= f.source().bit();
        out.longest_window_ms = out.longest_window_ms.max(span_ms);
        if !out.windows.contains(&index) {
            out.windows.push(index);
        }
        out.leaf(text, e, Op::Window(index, agg));
        Ok(ValueType::Number)
    }
}

impl Registry {
    /// A compiler for an expression that may look back as far as `lookback`, registering the
    /// windows and tags it reads here.
    pub(crate) fn compiler(&mut self, lookback: Lookback) -> Compiler<'_> {
        Compiler {
            registry: self,
            lookback,
        }
    }

    /// The window of `slot` over `span_ms`, added if no rule read it yet, now also keeping what
    /// `needs` asks for.
    fn window_index(&mut self, slot: u8, span_ms: i64, needs: Needs) -> u16 {
        let index = match self
            .windows
            .iter()
            .position(|w| w.slot == slot && w.span_ms == span_ms)
        {
            Some(i) => i,
            None => {
                self.windows.push(WindowSpec {
                    slot,
                    span_ms,
                    needs: Needs::default(),
                });
                self.windows.len() - 1
            }
        };
        self.windows[index].needs.merge(needs);
        index as u16
    }

    /// The index of tag `name`, added if no rule named it yet.
    fn tag_index(&mut self, name: &str) -> u16 {
        let index = match self.tags.iter().position(|t| t == name) {
            Some(i) => i,
            None => {
                self.tags.push(name.to_string());
                self.tags.len() - 1
            }
        };
        index as u16
    }
}

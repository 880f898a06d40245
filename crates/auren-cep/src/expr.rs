//! The expression language of rules: tokens, a hand-written precedence-climbing parser and the AST.
//!
//! Grammar (lowest precedence first):
//! ```text
//! expr    := or
//! or      := and  (("or"  | "||") and)*
//! and     := not  (("and" | "&&") not)*
//! not     := ("not" | "!") not | cmp
//! cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := number unit? | string | "(" expr ")" | name ("." name)? | name "(" (expr ("," expr)*)? ")"
//! unit    := "ms" | "s" | "m" | "min" | "h" | "%"
//! ```
//! Positions are byte offsets into the expression text; the rule compiler maps them back into
//! the TOML file.

use crate::error::ErrorKind;

/// A byte range in the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// What a number literal measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Plain,
    /// A duration, stored in milliseconds.
    Duration,
    /// A percentage, stored as a fraction.
    Percent,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Number(f64, Unit),
    Str(String),
    Name(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    And,
    Or,
    Not,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(..) => "a number".into(),
            Token::Str(_) => "a string".into(),
            Token::Name(n) => format!("`{n}`"),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::Comma => "`,`".into(),
            Token::Dot => "`.`".into(),
            Token::Plus => "`+`".into(),
            Token::Minus => "`-`".into(),
            Token::Star => "`*`".into(),
            Token::Slash => "`/`".into(),
            Token::Lt => "`<`".into(),
            Token::Le => "`<=`".into(),
            Token::Gt => "`>`".into(),
            Token::Ge => "`>=`".into(),
            Token::EqEq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::And => "`and`".into(),
            Token::Or => "`or`".into(),
            Token::Not => "`not`".into(),
        }
    }
}

/// An error at a byte offset of the expression text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExprError {
    pub at: usize,
    pub kind: ErrorKind,
}

fn err<T>(at: usize, kind: ErrorKind) -> Result<T, ExprError> {
    Err(ExprError { at, kind })
}

/// Splits `text` into tokens with their spans.
pub(crate) fn tokenize(text: &str) -> Result<Vec<(Token, Span)>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (tok, len) = token_at(text, i)?;
        out.push((
            tok,
            Span {
                start: i,
                end: i + len,
            },
        ));
        i += len;
    }
    Ok(out)
}

/// The token starting at byte `i` (not whitespace) and its length in bytes.
fn token_at(text: &str, i: usize) -> Result<(Token, usize), ExprError> {
    let bytes = text.as_bytes();
    let c = bytes[i];
    let two = |a: u8, b: u8| c == a && bytes.get(i + 1) == Some(&b);
    let pair = [
        (b'<', b'=', Token::Le),
        (b'>', b'=', Token::Ge),
        (b'=', b'=', Token::EqEq),
        (b'!', b'=', Token::Ne),
        (b'&', b'&', Token::And),
        (b'|', b'|', Token::Or),
    ]
    .into_iter()
    .find(|(a, b, _)| two(*a, *b));
    if let Some((_, _, tok)) = pair {
        return Ok((tok, 2));
    }
    let single = match c {
        b'(' => Token::LParen,
        b')' => Token::RParen,
        b',' => Token::Comma,
        b'.' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => Token::Dot,
        b'+' => Token::Plus,
        b'-' => Token::Minus,
        b'*' => Token::Star,
        b'/' => Token::Slash,
        b'<' => Token::Lt,
        b'>' => Token::Gt,
        b'!' => Token::Not,
        b'=' => return err(i, ErrorKind::SingleEquals),
        b'"' | b'\'' => {
            let Some(close) = text[i + 1..].find(c as char) else {
                return err(i, ErrorKind::UnterminatedString);
            };
            let s = text[i + 1..i + 1 + close].to_string();
            return Ok((Token::Str(s), close + 2));
        }
        b'0'..=b'9' | b'.' => return number_at(text, i),
        c if c.is_ascii_alphabetic() || c == b'_' => return Ok(word_at(text, i)),
        _ => {
            let ch = text[i..].chars().next().unwrap_or('?');
            return err(i, ErrorKind::UnexpectedChar(ch));
        }
    };
    Ok((single, 1))
}

/// The number literal at byte `i`, with its unit, and its length.
fn number_at(text: &str, i: usize) -> Result<(Token, usize), ExprError> {
    let bytes = text.as_bytes();
    let mut j = i;
    while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
        j += 1;
    }
    let digits = &text[i..j];
    let value: f64 = digits.parse().map_err(|_| ExprError {
        at: i,
        kind: ErrorKind::BadNumber(digits.to_string()),
    })?;
    let mut k = j;
    while k < bytes.len() && (bytes[k].is_ascii_alphanumeric() || bytes[k] == b'%') {
        k += 1;
    }
    let (value, unit) = match &text[j..k] {
        "" => (value, Unit::Plain),
        "ms" => (value, Unit::Duration),
        "s" => (value * 1_000.0, Unit::Duration),
        "m" | "min" => (value * 60_000.0, Unit::Duration),
        "h" => (value * 3_600_000.0, Unit::Duration),
        "%" => (value / 100.0, Unit::Percent),
        other => return err(j, ErrorKind::UnknownUnit(other.to_string())),
    };
    Ok((Token::Number(value, unit), k - i))
}

/// The keyword or name at byte `i` and its length.
fn word_at(text: &str, i: usize) -> (Token, usize) {
    let bytes = text.as_bytes();
    let mut j = i;
    while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
        j += 1;
    }
    let word = &text[i..j];
    let tok = match word {
        "and" => Token::And,
        "or" => Token::Or,
        "not" => Token::Not,
        _ => Token::Name(word.to_string()),
    };
    (tok, j - i)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ExprKind {
    Number(f64, Unit),
    Str(String),
    /// `name` or `namespace.name`.
    Name(Option<String>, String),
    Call(String, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr, ExprError> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    if p.tokens.is_empty() {
        return err(0, ErrorKind::EmptyExpression);
    }
    let e = p.or()?;
    if let Some((tok, span)) = p.tokens.get(p.pos) {
        return err(
            span.start,
            ErrorKind::Unexpected(tok.describe(), "end of expression"),
        );
    }
    Ok(e)
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<(Token, Span)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, s)| s.start)
    }

    fn next(&mut self) -> Option<(Token, Span)> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token, what: &'static str) -> Result<Span, ExprError> {
        match self.next() {
            Some((t, s)) if t == want => Ok(s),
            Some((t, s)) => err(s.start, ErrorKind::Unexpected(t.describe(), what)),
            None => err(self.end, ErrorKind::Unexpected("end of expression".into(), what)),
        }
    }

    fn binary(op: BinOp, l: Expr, r: Expr) -> Expr {
        let span = Span {
            start: l.span.start,
            end: r.span.end,
        };
        Expr {
            kind: ExprKind::Binary(op, Box::new(l), Box::new(r)),
            span,
        }
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(self.here(), ErrorKind::TooDeep);
        }
        let mut l = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            let r = self.and()?;
            l = Self::binary(BinOp::Or, l, r);
        }
        self.depth -= 1;
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.not()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let r = self.not()?;
            l = Self::binary(BinOp::And, l, r);
        }
        Ok(l)
    }

    /// A prefix operator (`not`, `-`) just peeked at: consumes it and wraps what `operand` parses,
    /// counting the nesting so that a long run of prefixes cannot overflow the stack.
    fn prefixed(
        &mut self,
        wrap: fn(Box<Expr>) -> ExprKind,
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
    ) -> Result<Expr, ExprError> {
        let start = self.here();
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(start, ErrorKind::TooDeep);
        }
        let inner = operand(self)?;
        self.depth -= 1;
        let span = Span {
            start,
            end: inner.span.end,
        };
        Ok(Expr {
            kind: wrap(Box::new(inner)),
            span,
        })
    }

    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Token::Not) {
            return self.prefixed(ExprKind::Not, Self::not);
        }
        self.cmp()
    }

    fn cmp_op(tok: Option<&Token>) -> Option<BinOp> {
        Some(match tok? {
            Token::Lt => BinOp::Lt,
            Token::Le => BinOp::Le,
            Token::Gt => BinOp::Gt,
            Token::Ge => BinOp::Ge,
            Token::EqEq => BinOp::Eq,
            Token::Ne => BinOp::Ne,
            _ => return None,
        })
    }

    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let l = self.sum()?;
        let Some(op) = Self::cmp_op(self.peek()) else {
            return Ok(l);
        };
        self.pos += 1;
        let r = self.sum()?;
        if Self::cmp_op(self.peek()).is_some() {
            return err(self.here(), ErrorKind::ChainedComparison);
        }
        Ok(Self::binary(op, l, r))
    }

    fn sum(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.product()?;
        loop {
            let op = match self.peek() {
                Some(Token::Plus) => BinOp::Add,
                Some(Token::Minus) => BinOp::Sub,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.product()?;
            l = Self::binary(op, l, r);
        }
    }

    fn product(&mut self) -> Result<Expr, ExprError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Token::Star) => BinOp::Mul,
                Some(Token::Slash) => BinOp::Div,
                _ => return Ok(l),
            };
            self.pos += 1;
            let r = self.unary()?;
            l = Self::binary(op, l, r);
        }
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.peek() == Some(&Token::Minus) {
            return self.prefixed(ExprKind::Neg, Self::unary);
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let Some((tok, span)) = self.next() else {
            return err(
                self.end,
                ErrorKind::Unexpected("end of expression".into(), "a value"),
            );
        };
        match tok {
            Token::Number(v, unit) => Ok(Expr {
                kind: ExprKind::Number(v, unit),
                span,
            }),
            Token::Str(s) => Ok(Expr {
                kind: ExprKind::Str(s),
                span,
            }),
            Token::LParen => {
                let inner = self.or()?;
                let close = self.expect(Token::RParen, "`)`")?;
                Ok(Expr {
                    kind: inner.kind,
                    span: Span {
                        start: span.start,
                        end: close.end,
                    },
                })
            }
            Token::Name(name) => match self.peek() {
                Some(Token::Dot) => {
                    self.pos += 1;
                    match self.next() {
                        Some((Token::Name(member), s)) => Ok(Expr {
                            kind: ExprKind::Name(Some(name), member),
                            span: Span {
                                start: span.start,
                                end: s.end,
                            },
                        }),
                        Some((t, s)) => err(s.start, ErrorKind::Unexpected(t.describe(), "a name")),
                        None => err(
                            self.end,
                            ErrorKind::Unexpected("end of expression".into(), "a name"),
                        ),
                    }
                }
                Some(Token::LParen) => {
                    self.pos += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(&Token::RParen) {
                        loop {
                            args.push(self.or()?);
                            if self.peek() == Some(&Token::Comma) {
                                self.pos += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    let close = self.expect(Token::RParen, "`,` or `)`")?;
                    Ok(Expr {
                        kind: ExprKind::Call(name, args),
                        span: Span {
                            start: span.start,
                            end: close.end,
                        },
                    })
                }
                _ => Ok(Expr {
                    kind: ExprKind::Name(None, name),
                    span,
                }),
            },
            other => err(span.start, ErrorKind::Unexpected(other.describe(), "a value")),
        }
    }
}

/// Parses a duration written like `90s`, `5m`, `1h30m` or `250ms` into milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<i64, ErrorKind> {
    let bad = || ErrorKind::BadDuration(text.to_string());
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| bad())?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" | "min" => 60_000.0,
            "h" => 3_600_000.0,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = &rest[unit_end..];
    }
    if !total.is_finite() || total > 1e15 {
        return Err(bad());
    }
    Ok(total.round() as i64)
}

//! The test statistics a stated number can be anchored to ("t = 2.31", "t(12) = 2.31", "p < 0.05",
//! "Mann–Whitney U = 14", "Cohen's d 0.8", "the effect size was 0.8", "n = 14", "df 12.3"), and the
//! statistic a receipt value's label names ("Welch t", "Mann–Whitney p (two-sided)", "Cohen's d",
//! "n period A …", "mornings"), so a number given as a statistic is matched only against values of that
//! statistic.
//!
//! A bare letter (t, p, U, d, g, n, z, r) is a statistic only as statisticians write it: standing alone
//! (not in "don't", "I'd", "p.m.", "t-test", "vitamin d", nor a unit as in "50 g"), in its usual case (p
//! or P, n or N, U; t, d, g, z and r lower case), and followed by a relation ("p = 0.03", "p<.001", "U:
//! 14") or a linking word ("a p of 0.03", "d was 0.8"), never by the number alone ("d) 3" is a list item).
//! After a test's name ("Welch's t", "Mann–Whitney U", "Cohen's d", "Hedges' g") or spelled out
//! ("p-value", "effect size", "df", "degrees of freedom", "sample size", "z-score", "rank-biserial
//! correlation") it takes the linking words a metric name takes, and the number alone ("df 12.3", "Cohen's
//! d 0.8"). In "t(12) = 2.31" the number in parentheses is the degrees of freedom. A bound ("p < 0.05", "p
//! ≤ .01", "p below 0.05", "n of at least 10") is grounded by a value that satisfies it, not by one that
//! rounds to it.

use super::{LINK_MARKS, LINK_WORDS, MAX_LINK_WORDS, Stated, measure_like};

/// A test statistic, as the text or a receipt label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Stat {
    T,
    /// Degrees of freedom.
    Df,
    P,
    /// Mann–Whitney U.
    U,
    /// Cohen's d.
    D,
    /// Hedges' g.
    G,
    N,
    Z,
    /// The rank-biserial correlation.
    R,
    /// "effect size": Cohen's d, Hedges' g or the rank-biserial r, whichever the receipt states.
    EffectSize,
}

const ALL: [Stat; 10] = [
    Stat::T,
    Stat::Df,
    Stat::P,
    Stat::U,
    Stat::D,
    Stat::G,
    Stat::N,
    Stat::Z,
    Stat::R,
    Stat::EffectSize,
];

/// A set of statistics, one bit each.
pub(super) type Stats = u16;

impl Stat {
    pub(super) fn bit(self) -> Stats {
        1 << (self as u16)
    }

    /// What the name stands for: "effect size" for d, g or r, a letter only for itself.
    fn family(self) -> Stats {
        match self {
            Self::EffectSize => Self::EffectSize.bit() | Self::D.bit() | Self::G.bit() | Self::R.bit(),
            _ => self.bit(),
        }
    }
}

/// How a bound compares the receipt's value with the stated one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bound {
    Below,
    AtMost,
    Above,
    AtLeast,
}

impl Bound {
    fn or_equal(self) -> Self {
        match self {
            Self::Below | Self::AtMost => Self::AtMost,
            Self::Above | Self::AtLeast => Self::AtLeast,
        }
    }

    /// Whether receipt value `actual` satisfies "stat <bound> `stated`". Magnitudes are compared (t and d
    /// carry the sign of a group order the text may not follow, as everywhere in grounding), except when
    /// the bound itself is negative ("t < −2"): then signs as written.
    pub(super) fn holds(self, actual: f64, stated: f64) -> bool {
        let a = if stated < 0.0 { actual } else { actual.abs() };
        match self {
            Self::Below => a < stated,
            Self::AtMost => a <= stated,
            Self::Above => a > stated,
            Self::AtLeast => a >= stated,
        }
    }
}

/// Whether a receipt value labelled as `label` states one of the statistics `claimed` stands for.
pub(super) fn label_grounds(label: &str, claimed: Stats) -> bool {
    let named = label_stat(label).map_or(0, Stat::bit);
    let wide = ALL
        .iter()
        .filter(|s| claimed & s.bit() != 0)
        .fold(0, |acc, s| acc | s.family());
    wide & named != 0
}

/// The statistic a receipt label names: its first word ("n period A …", "p (two-sided)"), or the word
/// after a test's name ("Welch t", "Mann–Whitney U", "Cohen's d"); a count of mornings is an n.
fn label_stat(label: &str) -> Option<Stat> {
    if label == "mornings" {
        return Some(Stat::N);
    }
    let mut words = label
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '’'))));
    let first = words.next()?.to_lowercase();
    letter_stat(&first).or_else(|| {
        TESTS
            .contains(&first.as_str())
            .then(|| words.next())
            .flatten()
            .and_then(|w| letter_stat(&w.to_lowercase()))
    })
}

fn letter_stat(word: &str) -> Option<Stat> {
    Some(match word {
        "t" => Stat::T,
        "df" => Stat::Df,
        "p" => Stat::P,
        "u" => Stat::U,
        "d" => Stat::D,
        "g" => Stat::G,
        "n" => Stat::N,
        "z" => Stat::Z,
        "r" => Stat::R,
        _ => return None,
    })
}

/// Test names a statistic's letter may follow, lower case, one word each ("mann–whitney" is one).
const TESTS: &[&str] = &[
    "welch's",
    "welch’s",
    "welch",
    "student's",
    "student’s",
    "mann–whitney",
    "mann-whitney",
    "cohen's",
    "cohen’s",
    "cohens",
    "cohen",
    "hedges'",
    "hedges’",
    "hedges's",
    "hedges",
    "hedge's",
    "rank-biserial",
];

/// Spelled-out names, read like the letter after a test's name.
const SPELLED: &[(&str, Stat)] = &[
    ("t-statistic", Stat::T),
    ("t statistic", Stat::T),
    ("t-value", Stat::T),
    ("t value", Stat::T),
    ("degrees of freedom", Stat::Df),
    ("df", Stat::Df),
    ("p-value", Stat::P),
    ("p value", Stat::P),
    ("u-statistic", Stat::U),
    ("u statistic", Stat::U),
    ("sample size", Stat::N),
    ("z-score", Stat::Z),
    ("z score", Stat::Z),
    ("rank-biserial correlation", Stat::R),
    ("rank biserial correlation", Stat::R),
    ("rank-biserial", Stat::R),
    ("effect size", Stat::EffectSize),
    ("effect-size", Stat::EffectSize),
];

/// The letters, and whether each may stand bare in upper case, and in lower case.
const LETTERS: [(char, Stat, bool, bool); 8] = [
    ('t', Stat::T, false, true),
    ('p', Stat::P, true, true),
    ('u', Stat::U, true, false),
    ('d', Stat::D, false, true),
    ('g', Stat::G, false, true),
    ('n', Stat::N, true, true),
    ('z', Stat::Z, false, true),
    ('r', Stat::R, false, true),
];

/// The first words (up to a character that is not a letter or digit) of the test names, spellings and
/// letters: a word of the text that is none of them starts no name, so most words cost one comparison each.
const FIRST_WORDS: [&str; 20] = [
    "welch", "student", "mann", "cohen", "cohens", "hedges", "hedge", "rank", "degrees", "df", "sample",
    "effect", "t", "p", "u", "d", "g", "n", "z", "r",
];

/// A statistic's name found in the text.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Named {
    start: usize,
    end: usize,
    stat: Stat,
    /// A bare letter: it needs a relation or a linking word before its number.
    bare: bool,
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’')
}

/// Whether a name may start at byte `i` of `norm`: not inside a word, nor after an apostrophe ("don't").
fn word_start(norm: &str, i: usize) -> bool {
    norm[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || is_apostrophe(c)))
}

/// Whether a name of `len` bytes at the start of `rest` ends at a word end.
fn word_end(rest: &str, len: usize) -> bool {
    rest[len..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// The statistic named at byte `i` (a word start of `norm`; `text` gives the letter's case).
fn name_at(text: &str, norm: &str, i: usize) -> Option<Named> {
    let rest = &norm[i..];
    // "Welch's t", "Mann–Whitney U": a letter or spelling after a test's name, in any case.
    for test in TESTS {
        let Some(after) = rest.strip_prefix(test).and_then(|r| r.strip_prefix(' ')) else {
            continue;
        };
        let at = i + test.len() + 1;
        if let Some((len, stat)) = spelled_at(after).or_else(|| letter_at(after)) {
            return Some(Named {
                start: i,
                end: at + len,
                stat,
                bare: false,
            });
        }
    }
    if let Some((len, stat)) = spelled_at(rest) {
        return Some(Named {
            start: i,
            end: i + len,
            stat,
            bare: false,
        });
    }
    let (len, stat) = letter_at(rest)?;
    bare_letter_ok(text, norm, i, stat).then_some(Named {
        start: i,
        end: i + len,
        stat,
        bare: true,
    })
}

/// The longest spelling `rest` starts with that ends at a word end.
fn spelled_at(rest: &str) -> Option<(usize, Stat)> {
    SPELLED
        .iter()
        .filter(|(name, _)| rest.starts_with(name) && word_end(rest, name.len()))
        .max_by_key(|(name, _)| name.len())
        .map(|(name, stat)| (name.len(), *stat))
}

/// A statistic's letter standing alone at the start of `rest`.
fn letter_at(rest: &str) -> Option<(usize, Stat)> {
    let first = rest.chars().next()?;
    let (_, stat, ..) = LETTERS.iter().find(|(c, ..)| *c == first)?;
    word_end(rest, 1).then_some((1, *stat))
}

/// Whether a bare letter at `i` is written as a statistic: in its case, and not the start of an
/// abbreviation or a compound ("p.m.", "t-test", "t's"), a unit after a number ("50 g"), nor vitamin D.
fn bare_letter_ok(text: &str, norm: &str, i: usize, stat: Stat) -> bool {
    let Some(&(_, _, upper, lower)) = LETTERS.iter().find(|l| l.1 == stat) else {
        return false;
    };
    let written = text[i..].chars().next();
    let case_ok =
        written.is_some_and(|c| (c.is_ascii_uppercase() && upper) || (c.is_ascii_lowercase() && lower));
    let mut after = norm[i + 1..].chars();
    let glued = match after.next() {
        Some(c) if is_apostrophe(c) => true,
        Some('.' | '-' | '‑') => after.next().is_some_and(char::is_alphabetic),
        _ => false,
    };
    let before = norm[..i].trim_end();
    // "40 g to 50 g", "2 d to 3 d": after a number the letter is its unit.
    let unit = before.ends_with(|c: char| c.is_ascii_digit());
    let vitamin = stat == Stat::D && before.ends_with("vitamin");
    case_ok && !glued && !unit && !vitamin
}

/// Every statistic's name in `norm` (see `metric_names::normalise` of `text`), in text order.
fn find_names(text: &str, norm: &str) -> Vec<Named> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < norm.len() {
        let rest = &norm[i..];
        let word_len = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        if word_len == 0 {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        if FIRST_WORDS.contains(&&rest[..word_len])
            && word_start(norm, i)
            && let Some(named) = name_at(text, norm, i)
        {
            out.push(named);
            i = named.end;
            continue;
        }
        i += word_len;
    }
    out
}

/// Words that state a bound, and the bound ("p below 0.05", "n of at least 10").
fn bound_word(word: &str) -> Option<Bound> {
    Some(match word {
        "below" | "under" | "less" | "lower" | "smaller" => Bound::Below,
        "above" | "over" | "greater" | "more" | "higher" | "larger" | "exceeds" | "exceeding" => Bound::Above,
        "most" => Bound::AtMost,
        "least" => Bound::AtLeast,
        _ => return None,
    })
}

/// Whether `gap`, between a statistic's name and its number, joins them, and the bound it states: only
/// linking words, bound words and marks, and for a bare letter at least one relation or word.
fn link(gap: &str, bare: bool) -> Option<Option<Bound>> {
    if gap.len() > 80 {
        return None;
    }
    let (mut bound, mut equal, mut marked, mut words) = (None, false, false, 0);
    let mut rest = gap;
    while let Some(c) = rest.chars().next() {
        if c.is_alphabetic() {
            let len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
            let word = &rest[..len];
            words += 1;
            if let Some(b) = bound_word(word) {
                bound = Some(b);
            } else if matches!(word, "equal" | "equals") {
                equal = true;
            } else if !(matches!(word, "than" | "or" | "two" | "one" | "sided" | "tailed")
                || LINK_WORDS.contains(&word))
            {
                return None;
            }
            rest = &rest[len..];
            continue;
        }
        match c {
            '<' => bound = Some(Bound::Below),
            '>' => bound = Some(Bound::Above),
            '≤' | '⩽' => bound = Some(Bound::AtMost),
            '≥' | '⩾' => bound = Some(Bound::AtLeast),
            '=' => equal = true,
            ':' | '≈' | '~' => {}
            c if LINK_MARKS.contains(&c) => {}
            _ => return None,
        }
        marked |= matches!(c, '<' | '>' | '≤' | '⩽' | '≥' | '⩾' | '=' | ':' | '≈' | '~');
        rest = &rest[c.len_utf8()..];
    }
    if words > MAX_LINK_WORDS + 1 || (bare && !marked && words == 0) {
        return None;
    }
    Some(bound.map(|b| if equal { b.or_equal() } else { b }))
}

/// In "t(12) = 2.31", the number `n` right after the name (ending at `name_end`) in parentheses: where
/// the parenthesis closes.
fn df_in_parens(norm: &str, name_end: usize, n: &Stated) -> Option<usize> {
    let open = norm.get(name_end..n.start)?.trim_start().strip_prefix('(')?;
    let inside = open.trim_matches([' ', '=']);
    if !(inside.is_empty() || inside == "df") {
        return None;
    }
    let after = &norm[n.end..];
    let close = after.trim_start().strip_prefix(')')?;
    Some(norm.len() - close.len())
}

/// Whether the number reads as a statistic's value: as a measurement does, though an n may be a count
/// ("n = 14 mornings").
fn value_like(norm: &str, n: &Stated, stat: Stat) -> bool {
    if stat != Stat::N {
        return measure_like(norm, n.start, n.end);
    }
    let rest = &norm[n.end..];
    let fraction = rest.starts_with('/') && rest[1..].starts_with(|c: char| c.is_ascii_digit());
    !(rest.starts_with(char::is_alphanumeric) || fraction)
}

/// Anchors each number that has no unit to the statistic named before it (the module's rule): the first
/// number after the name, and the degrees of freedom of "t(12)".
pub(super) fn anchor(text: &str, norm: &str, numbers: &mut [Stated]) {
    let mut k = 0;
    for name in find_names(text, norm) {
        while k < numbers.len() && numbers[k].start < name.end {
            k += 1;
        }
        let (mut at, mut from) = (k, name.end);
        if let Some(first) = numbers.get_mut(k)
            && name.stat == Stat::T
            && first.unit.is_none()
            && first.stats == 0
            && let Some(close) = df_in_parens(norm, name.end, first)
        {
            first.stats = Stat::Df.bit();
            (at, from) = (k + 1, close);
        }
        let Some(n) = numbers.get_mut(at) else {
            break;
        };
        if n.unit.is_some() || n.stats != 0 || n.start < from || !value_like(norm, n, name.stat) {
            continue;
        }
        if let Some(bound) = link(&norm[from..n.start], name.bare) {
            n.stats = name.stat.bit();
            n.bound = bound;
        }
    }
}

//! What a question asks, decided by words (no model): the offline analyst answers by it, and the router
//! uses it as a hint. Dates stay relative here ("yesterday", "this week"); the caller resolves them
//! against today.

use serde::Serialize;

use crate::tools::days::parse_day;

/// A day named in a question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "day", rename_all = "snake_case")]
pub enum DayRef {
    Today,
    Yesterday,
    /// A day number (a `YYYY-MM-DD` in the question).
    Date(i64),
}

impl DayRef {
    pub fn resolve(self, today: i64) -> i64 {
        match self {
            Self::Today => today,
            Self::Yesterday => today - 1,
            Self::Date(d) => d,
        }
    }
}

/// Two spans a comparison contrasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonSpan {
    /// The last 7 days against the 7 before.
    WeekOverWeek,
    /// The last 30 days against the 30 before.
    MonthOverMonth,
}

impl ComparisonSpan {
    pub fn days(self) -> i64 {
        match self {
            Self::WeekOverWeek => 7,
            Self::MonthOverMonth => 30,
        }
    }
}

/// What the question asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum Intent {
    Readiness {
        day: DayRef,
    },
    /// The daily trend over the last `days` days.
    Trend {
        days: i64,
    },
    LastSession,
    /// Alerts of the last `days` days and why they fired.
    Alerts {
        days: i64,
    },
    Compare {
        span: ComparisonSpan,
    },
    TagEffect {
        tag: String,
    },
    /// Nothing the offline analyst recognises.
    Unknown,
}

/// The intent of `question`, with no tag list: a tag is taken from phrasings like "after alcohol" or
/// "effect of caffeine".
pub fn classify(question: &str) -> Intent {
    classify_with_tags(question, &[])
}

const STOP_WORDS: [&str; 24] = [
    "a",
    "an",
    "the",
    "my",
    "i",
    "me",
    "it",
    "that",
    "this",
    "of",
    "on",
    "to",
    "in",
    "is",
    "do",
    "does",
    "have",
    "hrv",
    "heart",
    "rate",
    "readiness",
    "morning",
    "days",
    "day",
];

/// The words that mark each intent (checked in this order: alerts, a tag, a comparison, a session, a trend,
/// readiness).
const ALERT_WORDS: &[&str] = &[
    "alert",
    "alerts",
    "alarm",
    "alarms",
    "warning",
    "warnings",
    "fired",
    "triggered",
    "notification",
];
const COMPARE_WORDS: &[&str] = &["compare", "compared", "comparison", "versus", "vs"];
const SESSION_WORDS: &[&str] = &[
    "session",
    "sessions",
    "workout",
    "recording",
    "run",
    "ride",
    "training",
];
const LAST_WORDS: &[&str] = &["last", "latest", "recent", "previous", "yesterday's", "today's"];
const TREND_WORDS: &[&str] = &[
    "trend",
    "trending",
    "lately",
    "recently",
    "week",
    "weekly",
    "past",
    "month",
    "down",
    "dropping",
    "falling",
    "up",
    "rising",
    "improving",
    "declining",
];
const READINESS_WORDS: &[&str] = &[
    "readiness",
    "ready",
    "recovered",
    "recovery",
    "today",
    "yesterday",
    "hrv",
    "rmssd",
    "lnrmssd",
    "train",
    "morning",
];

/// The intent of `question`; `known_tags` (the tags the person has recorded) are recognised anywhere in it.
pub fn classify_with_tags(question: &str, known_tags: &[String]) -> Intent {
    let q = question.to_lowercase();
    let words: Vec<&str> = q
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let has_any = |ws: &[&str]| ws.iter().any(|w| words.contains(w));
    let days = if has_any(&["month", "monthly", "30"]) {
        30
    } else {
        7
    };
    if has_any(ALERT_WORDS) {
        return Intent::Alerts { days };
    }
    if let Some(tag) = tag_in(&words, known_tags) {
        return Intent::TagEffect { tag };
    }
    if has_any(COMPARE_WORDS) || q.contains("than last") {
        let span = if days == 30 {
            ComparisonSpan::MonthOverMonth
        } else {
            ComparisonSpan::WeekOverWeek
        };
        return Intent::Compare { span };
    }
    if has_any(SESSION_WORDS) && has_any(LAST_WORDS) {
        return Intent::LastSession;
    }
    if has_any(TREND_WORDS) {
        return Intent::Trend { days };
    }
    let date = words
        .iter()
        .find_map(|w| parse_day(w, 0).ok().filter(|_| w.len() == 10));
    if has_any(READINESS_WORDS) || date.is_some() {
        let day = match date {
            Some(d) => DayRef::Date(d),
            None if has_any(&["yesterday"]) => DayRef::Yesterday,
            None => DayRef::Today,
        };
        return Intent::Readiness { day };
    }
    Intent::Unknown
}

/// A tag the question is about: a known tag named in it, or the word after "after", "tagged", "effect of",
/// "does"/"do" (when the question is about an effect).
fn tag_in(words: &[&str], known_tags: &[String]) -> Option<String> {
    if let Some(t) = known_tags
        .iter()
        .find(|t| words.contains(&t.to_lowercase().as_str()))
    {
        return Some(t.to_lowercase());
    }
    let effect_words = [
        "affect", "affects", "effect", "lower", "lowers", "raise", "raises", "hurt", "hurts", "help",
        "helps", "impact", "change", "changes",
    ];
    let about_effect = words.iter().any(|w| effect_words.contains(w));
    let usable = |w: &&&str| !STOP_WORDS.contains(w) && !w.chars().all(|c| c.is_ascii_digit());
    for (i, w) in words.iter().enumerate() {
        let next = || words[i + 1..].iter().find(usable).map(|s| (*s).to_owned());
        match *w {
            "after" | "tagged" => {
                if let Some(t) = next() {
                    return Some(t);
                }
            }
            "of" if i > 0 && words[i - 1] == "effect" => {
                if let Some(t) = next() {
                    return Some(t);
                }
            }
            "does" | "do" if about_effect => {
                if let Some(t) = next() {
                    return Some(t);
                }
            }
            _ => {}
        }
    }
    None
}

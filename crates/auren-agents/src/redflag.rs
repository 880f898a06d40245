//! The red-flag detector: symptoms that need a clinician, not a coach — chest pain, fainting, palpitations
//! with dizziness, breathlessness at rest — and an arrhythmia-like alert in the person's alert state. A red
//! flag is answered at once with [`REFERRAL`], fixed text that no model output can remove: the turn loop
//! puts it first in the final answer, whatever follows.
//!
//! An alert is arrhythmia-like by its rule's name (see [`is_arrhythmia_like`]), so a rule the person writes
//! (`afib_suspected`, `irregular_rr`) counts too. Among the default rules it is `ectopic_burst` (12 or more
//! ectopic-labelled beats in 2 minutes at rest); the turn loop reads the alerts of the last 24 hours.
//!
//! Matching is by phrases over the lower-cased question, clause by clause. A phrase preceded in its clause
//! by a negation ("no chest pain", "I haven't fainted", "without dizziness") does not count, so "no chest
//! pain, just tired" is not a red flag. Near misses are deliberate: "chest day", "faint signal",
//! "breathless after my run" (not at rest) and dizziness alone are not red flags.

use serde::{Deserialize, Serialize};

/// The fixed referral text.
pub const REFERRAL: &str = "Important: what you describe can be a sign of a heart or circulation problem that \
needs a clinician, not a coach. If it is happening now, or came with chest pain, fainting or severe \
breathlessness, call your local emergency number. Otherwise please see a doctor soon and tell them about it. \
Auren cannot diagnose; its numbers are not a medical assessment.";

/// Which red flag was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedFlag {
    ChestPain,
    Fainting,
    PalpitationsWithDizziness,
    BreathlessAtRest,
    /// An arrhythmia-like alert is active (its rule name).
    ArrhythmiaAlert,
}

/// A recent alert, as the red-flag check and the router see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentAlert {
    /// The rule's name (`cns_fatigue`, …).
    pub rule: String,
    pub at_unix_ms: i64,
}

const CHEST_PAIN: [&str; 9] = [
    "chest pain",
    "pain in my chest",
    "pain in the chest",
    "chest hurts",
    "chest tightness",
    "tight chest",
    "tightness in my chest",
    "chest pressure",
    "crushing feeling in my chest",
];
const FAINTING: [&str; 12] = [
    "fainted",
    "fainting",
    "faint spell",
    "feel faint",
    "felt faint",
    "feeling faint",
    "passed out",
    "pass out",
    "passing out",
    "blacked out",
    "syncope",
    "lost consciousness",
];
const PALPITATIONS: [&str; 9] = [
    "palpitation",
    "heart racing",
    "racing heart",
    "heart pounding",
    "pounding heart",
    "heart fluttering",
    "fluttering in my chest",
    "skipped beats",
    "skipping beats",
];
const DIZZINESS: [&str; 5] = ["dizzy", "dizziness", "lightheaded", "light-headed", "vertigo"];
const BREATHLESS: [&str; 7] = [
    "short of breath",
    "shortness of breath",
    "breathless",
    "can't breathe",
    "cannot breathe",
    "struggling to breathe",
    "out of breath",
];
const AT_REST: [&str; 8] = [
    "at rest",
    "resting",
    "sitting",
    "lying down",
    "in bed",
    "doing nothing",
    "while still",
    "asleep",
];
const NEGATIONS: [&str; 9] = [
    "no", "not", "never", "without", "haven't", "hasn't", "didn't", "don't", "nor",
];
/// Words in an alert rule's name that mark it arrhythmia-like ("ectopic" names the default `ectopic_burst`).
const ARRHYTHMIA_RULES: [&str; 5] = ["arrhythm", "ectopic", "irregular", "afib", "atrial"];

/// The red flag in `question`, or in `alerts`, if any (symptoms first).
pub fn detect(question: &str, alerts: &[RecentAlert]) -> Option<RedFlag> {
    let text = question.to_lowercase().replace('’', "'");
    let clauses: Vec<&str> = text
        .split(['.', ',', ';', '!', '?', '\n'])
        .flat_map(|c| c.split(" but "))
        .collect();
    let any = |phrases: &[&str]| clauses.iter().any(|c| affirmed(c, phrases));
    let symptom = if any(&CHEST_PAIN) {
        Some(RedFlag::ChestPain)
    } else if any(&FAINTING) {
        Some(RedFlag::Fainting)
    } else if any(&PALPITATIONS) && any(&DIZZINESS) {
        Some(RedFlag::PalpitationsWithDizziness)
    } else if clauses
        .iter()
        .any(|c| affirmed(c, &BREATHLESS) && mentions(c, &AT_REST))
    {
        Some(RedFlag::BreathlessAtRest)
    } else {
        None
    };
    symptom.or_else(|| {
        alerts
            .iter()
            .any(|a| is_arrhythmia_like(&a.rule))
            .then_some(RedFlag::ArrhythmiaAlert)
    })
}

/// Whether an alert rule's name marks it as arrhythmia-like.
pub fn is_arrhythmia_like(rule: &str) -> bool {
    let rule = rule.to_lowercase();
    ARRHYTHMIA_RULES.iter().any(|w| rule.contains(w))
}

fn mentions(clause: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| find_word(clause, p).is_some())
}

/// A phrase occurs in the clause with no negation among the words before it.
fn affirmed(clause: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|phrase| {
        find_word(clause, phrase).is_some_and(|at| {
            let before = clause.get(..at).unwrap_or("");
            !before
                .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                .any(|w| NEGATIONS.contains(&w))
        })
    })
}

/// Where `phrase` starts in `clause` at a word boundary (so "faint" is not found in "fainthearted" by
/// accident of a shorter phrase, and "no" is a word).
fn find_word(clause: &str, phrase: &str) -> Option<usize> {
    clause.match_indices(phrase).map(|(at, _)| at).find(|&at| {
        clause
            .get(..at)
            .and_then(|b| b.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

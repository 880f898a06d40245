//! The supervisor's routing: rules first — the question's words, its intent (`intent::classify`) and the
//! current alert state — and a model only when the rules do not decide. The rules score each specialist
//! by the words that belong to its trade; a strict winner is the route. A tie goes to the analyst when the
//! tools can answer the question (a known intent) and the analyst is in it; no trade words at all go to the
//! analyst for a data question, to the neuroscientist when a recent alert is about the nervous system;
//! anything else goes to the model router.

use auren_gateway::{ChatRequest, Message};

use crate::events::Specialist;
use crate::intent::Intent;
use crate::redflag::RecentAlert;

/// Words of the neuroscientist's trade: explanation of HRV, the autonomic nervous system, fatigue.
const NEUROSCIENTIST: [&str; 22] = [
    "why",
    "explain",
    "mean",
    "means",
    "autonomic",
    "parasympathetic",
    "sympathetic",
    "vagal",
    "vagus",
    "nervous",
    "cns",
    "fatigue",
    "fatigued",
    "stress",
    "stressed",
    "physiology",
    "dfa",
    "alpha1",
    "lf",
    "hf",
    "recovering",
    "overreaching",
];
/// Words of the analyst's trade: numbers, statistics, queries over the data.
const ANALYST: [&str; 18] = [
    "compare",
    "comparison",
    "versus",
    "vs",
    "average",
    "statistics",
    "significant",
    "correlation",
    "effect",
    "trend",
    "list",
    "show",
    "readiness",
    "sessions",
    "session",
    "alerts",
    "data",
    "numbers",
];
/// Words of the coach's trade: plans, goals, habits, training decisions.
const COACH: [&str; 20] = [
    "plan",
    "should",
    "goal",
    "goals",
    "habit",
    "habits",
    "routine",
    "schedule",
    "advice",
    "improve",
    "train",
    "training",
    "rest",
    "sleep",
    "race",
    "marathon",
    "load",
    "recommend",
    "tips",
    "program",
];
/// Alert rules that make a vague question the neuroscientist's.
const AUTONOMIC_ALERTS: [&str; 3] = ["cns_fatigue", "sympathetic_surge", "slow_hr_recovery"];

/// The rules' decision: a specialist, or `None` when they do not decide.
pub fn by_rules(question: &str, intent: &Intent, alerts: &[RecentAlert]) -> Option<Specialist> {
    let q = question.to_lowercase();
    let words: Vec<&str> = q
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let score = |trade: &[&str]| words.iter().filter(|w| trade.contains(w)).count();
    let mut scores = [
        (Specialist::Neuroscientist, score(&NEUROSCIENTIST)),
        (Specialist::Analyst, score(&ANALYST)),
        (Specialist::Coach, score(&COACH)),
    ];
    scores.sort_by_key(|(_, score)| std::cmp::Reverse(*score));
    let [(best, top), (runner_up, second), _] = scores;
    let data_question = !matches!(intent, Intent::Unknown);
    if top > second {
        return Some(best);
    }
    if top > 0 {
        // A tie of trades: a question the tools answer goes to the analyst, else the model decides.
        let analyst_tied = best == Specialist::Analyst || runner_up == Specialist::Analyst;
        return (data_question && analyst_tied).then_some(Specialist::Analyst);
    }
    if data_question {
        return Some(Specialist::Analyst);
    }
    // Nothing in the words: when the alerts are about the nervous system, so is the question.
    alerts
        .iter()
        .any(|a| AUTONOMIC_ALERTS.contains(&a.rule.as_str()))
        .then_some(Specialist::Neuroscientist)
}

/// The router's system prompt.
pub const ROUTER_PROMPT: &str = "You route a person's question about their heart-rate variability data to \
one specialist. Answer with exactly one word: neuroscientist (HRV physiology, autonomic balance, fatigue), \
analyst (queries and statistics over their data), or coach (goals, training load, recovery plans, habits).";

/// The request of the model router: a small, tool-less call.
pub fn router_request(question: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::system(ROUTER_PROMPT), Message::user(question)],
        max_tokens: Some(8),
        temperature: Some(0.0),
        ..ChatRequest::default()
    }
}

/// The specialist the router's answer names; the analyst when it names none (it answers from data).
pub fn parse_router_reply(text: &str) -> Specialist {
    let text = text.to_lowercase();
    [
        ("neuroscientist", Specialist::Neuroscientist),
        ("coach", Specialist::Coach),
        ("analyst", Specialist::Analyst),
    ]
    .into_iter()
    .filter_map(|(word, specialist)| text.find(word).map(|at| (at, specialist)))
    .min_by_key(|(at, _)| *at)
    .map_or(Specialist::Analyst, |(_, specialist)| specialist)
}

/// The routing suite the tests and the benchmark share: `(question, a recent cns_fatigue alert, the rules'
/// decision)`; `None` goes to the model router.
pub const SUITE: [(&str, bool, Option<Specialist>); 30] = {
    use Specialist::{Analyst, Coach, Neuroscientist};
    [
        ("Why is my HRV down this week?", false, Some(Neuroscientist)),
        ("What was my readiness yesterday?", false, Some(Analyst)),
        (
            "What does a low RMSSD mean for my nervous system?",
            false,
            Some(Neuroscientist),
        ),
        ("Compare this week versus last week", false, Some(Analyst)),
        ("Should I train hard today?", false, Some(Coach)),
        ("Give me a plan to improve my recovery", false, Some(Coach)),
        ("Am I fatigued?", false, Some(Neuroscientist)),
        ("Show my last session", false, Some(Analyst)),
        ("List my alerts from this month", false, Some(Analyst)),
        (
            "Does alcohol lower my HRV? Is the effect significant?",
            false,
            Some(Analyst),
        ),
        ("Explain parasympathetic activity", false, Some(Neuroscientist)),
        ("What habits help my sleep?", false, Some(Coach)),
        (
            "I'm training for a marathon, what's a good schedule?",
            false,
            Some(Coach),
        ),
        ("Is my stress level high?", false, Some(Neuroscientist)),
        (
            "What is the average resting heart rate over the month?",
            false,
            Some(Analyst),
        ),
        ("How is my trend this month?", false, Some(Analyst)),
        ("Why did the cns fatigue alert fire?", false, Some(Neuroscientist)),
        ("Recommend tips for better rest", false, Some(Coach)),
        ("What is DFA alpha1?", false, Some(Neuroscientist)),
        ("Show the correlation between sleep and HRV", false, Some(Analyst)),
        ("What should my goal be, and why?", false, Some(Coach)),
        (
            "Is my sympathetic system overreaching after training?",
            false,
            Some(Neuroscientist),
        ),
        ("Show my sessions", false, Some(Analyst)),
        ("Thoughts on my week?", false, Some(Analyst)),
        ("How am I doing?", true, Some(Neuroscientist)),
        ("How am I doing?", false, None),
        ("Hello", false, None),
        ("What do you think?", false, None),
        ("Tell me something interesting", false, None),
        ("Can you help me?", false, None),
    ]
};

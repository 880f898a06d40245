//! The supervisor's routing: rules first — the question's words, its intent (`intent::classify`) and the
//! current alert state — and a model only when the rules do not decide. The rules score each specialist
//! by the words that belong to its trade; a strict winner is the route, a tie or silence goes to the model.

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
const ANALYST: [&str; 19] = [
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
    "how",
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
    let data_question = !matches!(intent, Intent::Unknown);
    let mut scores = [
        (Specialist::Neuroscientist, score(&NEUROSCIENTIST)),
        (Specialist::Analyst, score(&ANALYST) + usize::from(data_question)),
        (Specialist::Coach, score(&COACH)),
    ];
    if scores.iter().all(|(_, s)| *s == 0)
        && alerts.iter().any(|a| AUTONOMIC_ALERTS.contains(&a.rule.as_str()))
    {
        // Nothing in the words, but the nervous system is what the alerts are about.
        scores[0].1 = 1;
    }
    scores.sort_by_key(|(_, score)| std::cmp::Reverse(*score));
    let [(best, top), (_, second), _] = scores;
    (top > 0 && top > second).then_some(best)
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

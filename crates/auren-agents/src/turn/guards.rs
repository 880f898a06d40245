//! The turn's deterministic guards: counted limits checked before each step, so a turn can neither loop
//! nor hang. A tripped guard ends the turn with [`crate::AgentEvent::Guard`] and the offline answer.

use std::collections::HashMap;
use std::time::Duration;

use crate::events::{Guard, Specialist};

/// The limits of one turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardLimits {
    /// Model calls per turn, the router's included.
    pub model_calls: u32,
    pub handoffs: u32,
    /// How often one tool may be called with the same arguments.
    pub identical_tool_calls: u32,
    /// Wall time from the question to the answer.
    pub time_budget: Duration,
}

impl Default for GuardLimits {
    fn default() -> Self {
        Self {
            model_calls: 8,
            handoffs: 3,
            identical_tool_calls: 2,
            time_budget: Duration::from_secs(90),
        }
    }
}

/// A guard that tripped and why, in words for the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tripped {
    pub guard: Guard,
    pub message: String,
}

/// The counts of one turn against its limits.
#[derive(Debug)]
pub struct GuardBook {
    limits: GuardLimits,
    model_calls: u32,
    handoffs: u32,
    tool_calls: HashMap<(String, String), u32>,
    /// The specialists in the order they answered.
    chain: Vec<Specialist>,
}

impl GuardBook {
    pub fn new(limits: GuardLimits) -> Self {
        Self {
            limits,
            model_calls: 0,
            handoffs: 0,
            tool_calls: HashMap::new(),
            chain: Vec::new(),
        }
    }

    pub fn limits(&self) -> &GuardLimits {
        &self.limits
    }

    pub fn model_calls(&self) -> u32 {
        self.model_calls
    }

    /// Counts a model call about to be made.
    pub fn model_call(&mut self) -> Result<(), Tripped> {
        if self.model_calls >= self.limits.model_calls {
            return Err(Tripped {
                guard: Guard::ModelCalls,
                message: format!(
                    "the turn reached its limit of {} model calls",
                    self.limits.model_calls
                ),
            });
        }
        self.model_calls += 1;
        Ok(())
    }

    /// The specialist answering now: the routed one, or the last handed over to.
    pub fn current(&self) -> Option<Specialist> {
        self.chain.last().copied()
    }

    /// Records who answers first (the routed specialist).
    pub fn start(&mut self, specialist: Specialist) {
        self.chain.push(specialist);
    }

    /// Counts a handoff to `to`; refuses a return to the specialist that handed over just before (A→B→A).
    pub fn handoff(&mut self, to: Specialist) -> Result<(), Tripped> {
        if self.handoffs >= self.limits.handoffs {
            return Err(Tripped {
                guard: Guard::Handoffs,
                message: format!("the turn reached its limit of {} handoffs", self.limits.handoffs),
            });
        }
        if self.chain.len() >= 2 && self.chain.get(self.chain.len() - 2) == Some(&to) {
            let from = self.chain.last().copied().unwrap_or(to);
            return Err(Tripped {
                guard: Guard::PingPong,
                message: format!(
                    "{from:?} handed the question back to {to:?}, which had just handed it over"
                ),
            });
        }
        self.handoffs += 1;
        self.chain.push(to);
        Ok(())
    }

    /// Counts a tool call; the same tool with the same arguments beyond the limit trips.
    pub fn tool_call(&mut self, name: &str, arguments: &serde_json::Value) -> Result<(), Tripped> {
        let key = (name.to_owned(), canonical(arguments));
        let count = self.tool_calls.entry(key).or_insert(0);
        if *count >= self.limits.identical_tool_calls {
            return Err(Tripped {
                guard: Guard::RepeatedToolCall,
                message: format!(
                    "{name} was called with the same arguments more than {} times",
                    self.limits.identical_tool_calls
                ),
            });
        }
        *count += 1;
        Ok(())
    }

    pub fn time_budget_tripped(&self) -> Tripped {
        Tripped {
            guard: Guard::TimeBudget,
            message: format!(
                "the turn ran out of its {} s time budget",
                self.limits.time_budget.as_secs_f64()
            ),
        }
    }

    pub fn cancelled() -> Tripped {
        Tripped {
            guard: Guard::Cancelled,
            message: "the turn was cancelled".into(),
        }
    }
}

/// The arguments as text with object keys sorted at every level, so `{"a":1,"b":2}` and `{"b":2,"a":1}`
/// count as the same call whatever map order serde_json was built with.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identical_calls_are_counted_whatever_the_key_order() {
        let mut book = GuardBook::new(GuardLimits::default());
        book.tool_call("get_trend", &json!({"from": "2026-11-01", "to": null}))
            .unwrap();
        book.tool_call("get_trend", &json!({"to": null, "from": "2026-11-01"}))
            .unwrap();
        let third = book.tool_call("get_trend", &json!({"from": "2026-11-01", "to": null}));
        assert_eq!(third.unwrap_err().guard, Guard::RepeatedToolCall);
        book.tool_call("get_trend", &json!({"from": "2026-11-02", "to": null}))
            .unwrap();
    }

    #[test]
    fn a_return_to_the_one_before_is_ping_pong_and_the_fourth_handoff_trips() {
        let mut book = GuardBook::new(GuardLimits::default());
        book.start(Specialist::Analyst);
        book.handoff(Specialist::Coach).unwrap();
        book.handoff(Specialist::Neuroscientist).unwrap();
        let back = book.handoff(Specialist::Coach).unwrap_err();
        assert_eq!(back.guard, Guard::PingPong);
        // A→C→N→A goes back to A, not to the one that just handed over: allowed, the third handoff.
        book.handoff(Specialist::Analyst).unwrap();
        let fourth = book.handoff(Specialist::Coach).unwrap_err();
        assert_eq!(fourth.guard, Guard::Handoffs);
    }
}

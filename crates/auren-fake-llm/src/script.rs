//! The scripted model: a test lists the requests it expects, in order, each with a matcher and the reply
//! to give. A request that does not match the next step, or that comes after the last step, is answered
//! with HTTP 500 and a body saying why, and is recorded as a violation; a step never reached is reported by
//! [`crate::FakeLlm::verify`]. This is the OpenAI Agents SDK's scripted-model bar: an unexpected extra call
//! fails the test, and so does an unused scripted step.

use crate::{RecordedRequest, Script};
use serde_json::Value;
use std::time::Duration;

/// Which wire format a request speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OpenAi,
    Anthropic,
}

/// What the next request must look like. Every field left `None` matches anything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub format: Option<Format>,
    pub model: Option<String>,
    /// A substring of the last user message's text (tool results are not user text).
    pub last_user_contains: Option<String>,
    /// A substring of the system prompt.
    pub system_contains: Option<String>,
    /// How many tool results the request carries, over the whole conversation.
    pub tool_results: Option<usize>,
    /// The names of the tools offered, in the order sent.
    pub tools_offered: Option<Vec<String>>,
    /// Substrings the body's JSON text must contain.
    pub body_contains: Vec<String>,
}

impl Expect {
    /// Any request.
    pub fn any() -> Self {
        Self::default()
    }

    pub fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_owned());
        self
    }

    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    pub fn last_user_contains(mut self, text: &str) -> Self {
        self.last_user_contains = Some(text.to_owned());
        self
    }

    pub fn system_contains(mut self, text: &str) -> Self {
        self.system_contains = Some(text.to_owned());
        self
    }

    pub fn tool_results(mut self, count: usize) -> Self {
        self.tool_results = Some(count);
        self
    }

    pub fn tools_offered<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.tools_offered = Some(names.into_iter().map(Into::into).collect());
        self
    }

    pub fn body_contains(mut self, text: &str) -> Self {
        self.body_contains.push(text.to_owned());
        self
    }

    /// Why `request` does not match, or `None` when it does.
    pub fn mismatch(&self, format: Format, request: &RecordedRequest) -> Option<String> {
        let body = &request.body;
        if let Some(want) = self.format
            && want != format
        {
            return Some(format!("expected a {want:?} request, got {format:?}"));
        }
        if let Some(want) = &self.model
            && request.model() != Some(want.as_str())
        {
            return Some(format!("expected model {want:?}, got {:?}", request.model()));
        }
        if let Some(want) = &self.last_user_contains {
            let got = last_user_text(body);
            if !got.as_deref().is_some_and(|t| t.contains(want.as_str())) {
                return Some(format!(
                    "expected the last user message to contain {want:?}, got {got:?}"
                ));
            }
        }
        if let Some(want) = &self.system_contains {
            let got = system_text(format, body);
            if !got.contains(want.as_str()) {
                return Some(format!(
                    "expected the system prompt to contain {want:?}, got {got:?}"
                ));
            }
        }
        if let Some(want) = self.tool_results {
            let got = tool_result_count(format, body);
            if got != want {
                return Some(format!("expected {want} tool results, got {got}"));
            }
        }
        if let Some(want) = &self.tools_offered {
            let got = tools_offered(format, body);
            if &got != want {
                return Some(format!("expected tools {want:?}, got {got:?}"));
            }
        }
        let text = body.to_string();
        self.body_contains
            .iter()
            .find(|want| !text.contains(want.as_str()))
            .map(|want| format!("expected the body to contain {want:?}"))
    }
}

/// One expected request and what to answer it with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub expect: Expect,
    pub reply: Script,
    /// Wait this long before answering (tokio time, so paused-clock tests skip it).
    pub delay: Duration,
}

impl Step {
    pub fn new(expect: Expect, reply: Script) -> Self {
        Self {
            expect,
            reply,
            delay: Duration::ZERO,
        }
    }

    /// Any request, answered with `reply`.
    pub fn any(reply: Script) -> Self {
        Self::new(Expect::any(), reply)
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// What [`crate::FakeLlm::verify`] found wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the scripted model was not used as scripted:\n{}", .problems.join("\n"))]
pub struct ScriptViolation {
    pub problems: Vec<String>,
}

/// The text of the last user message that carries text (tool results travel in user turns on Anthropic).
pub fn last_user_text(body: &Value) -> Option<String> {
    let messages = body.get("messages")?.as_array()?;
    messages
        .iter()
        .rev()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .find_map(message_text)
}

fn message_text(message: &Value) -> Option<String> {
    let content = message.get("content")?;
    if let Some(text) = content.as_str() {
        return Some(text.to_owned());
    }
    let texts: Vec<&str> = content
        .as_array()?
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

fn system_text(format: Format, body: &Value) -> String {
    match format {
        Format::Anthropic => match body.get("system") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Format::OpenAi => body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("system"))
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

fn tool_result_count(format: Format, body: &Value) -> usize {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match format {
        Format::OpenAi => messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
            .count(),
        Format::Anthropic => messages
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_array))
            .flatten()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            .count(),
    }
}

fn tools_offered(format: Format, body: &Value) -> Vec<String> {
    let name_at = match format {
        Format::OpenAi => "/function/name",
        Format::Anthropic => "/name",
    };
    body.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.pointer(name_at).and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

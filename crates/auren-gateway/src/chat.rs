//! The normalised chat model every provider is translated to and from: messages, tools, stream events.

use serde::{Deserialize, Serialize};

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    System {
        content: String,
    },
    User {
        content: String,
    },
    /// What the model said before: text, tool calls, or both.
    Assistant {
        content: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of running a tool the model asked for.
    Tool {
        call_id: String,
        content: String,
    },
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self::System {
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self::User {
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::Assistant {
            content: content.into(),
            tool_calls: Vec::new(),
        }
    }
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self::Tool {
            call_id: call_id.into(),
            content: content.into(),
        }
    }

    /// All the text this message sends, for token estimates.
    pub(crate) fn text_len_parts(&self) -> impl Iterator<Item = &str> {
        let (first, calls): (&str, &[ToolCall]) = match self {
            Self::System { content } | Self::User { content } | Self::Tool { content, .. } => (content, &[]),
            Self::Assistant { content, tool_calls } => (content, tool_calls),
        };
        std::iter::once(first).chain(calls.iter().flat_map(|c| [c.name.as_str(), c.arguments.as_str()]))
    }
}

/// A tool the model may call, described by a JSON Schema for its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
    /// Whether the provider may be asked to hold the model to `parameters` exactly.
    #[serde(default)]
    pub adherence: SchemaAdherence,
}

/// How closely a provider is asked to make the model's arguments follow a tool's schema.
///
/// OpenAI's `strict: true` (structured outputs for function calling) guarantees arguments that match the
/// schema, but refuses any schema that is not closed and fully required; the caller, which shaped the
/// schema, says whether it qualifies. OpenAI-compatible servers are never sent the flag (vLLM and several
/// relays answer 400 to the unknown field), and Anthropic's wire format has no use for it here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaAdherence {
    /// The schema is guidance: the model may produce arguments that do not match it.
    #[default]
    BestEffort,
    /// The schema meets OpenAI's strict-mode rules: send `"strict": true` to OpenAI.
    Strict,
}

/// A completed call of a tool by the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the JSON text the model produced (models sometimes produce invalid JSON:
    /// the caller decides what to do with it, see [`ToolCall::arguments_json`]).
    pub arguments: String,
}

impl ToolCall {
    /// The arguments parsed as JSON; an empty string counts as `{}`.
    pub fn arguments_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.arguments.trim().is_empty() {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str(&self.arguments)
    }
}

/// A request for one chat completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Vec<ToolDefinition>,
    pub temperature: Option<f32>,
    /// Upper bound on output tokens; the budget reserves this much. The gateway's default applies when unset.
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub stop: Vec<String>,
    /// Which conversation this call belongs to, for usage accounting.
    pub conversation: Option<String>,
}

impl ChatRequest {
    /// A request with a single user message.
    pub fn user(prompt: impl Into<String>) -> Self {
        Self {
            messages: vec![Message::user(prompt)],
            ..Self::default()
        }
    }
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    /// A reason this gateway does not know, as the provider spelled it.
    Other(String),
}

impl FinishReason {
    /// The name used in `gen_ai.response.finish_reasons`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::Other(other) => other,
        }
    }
}

/// Token counts of one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// All prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// The part of `input_tokens` served from the provider's prompt cache.
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// True when the provider gave no numbers and the gateway counted with a tokenizer.
    pub estimated: bool,
}

/// One event of a streamed answer.
///
/// Order: text and tool-call deltas as they arrive, each completed [`StreamEvent::ToolCall`] once its
/// arguments are whole, then exactly one [`StreamEvent::Usage`] and one [`StreamEvent::Finish`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    TextDelta {
        text: String,
    },
    /// A piece of a tool call: `id` and `name` come with the first piece of each call.
    ToolCallDelta {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    ToolCall {
        index: u32,
        call: ToolCall,
    },
    Usage {
        usage: Usage,
    },
    Finish {
        reason: FinishReason,
    },
}

/// A non-streamed answer: the stream collected.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    pub finish_reason: FinishReason,
    /// The provider and model that answered.
    pub provider: String,
    pub model: String,
}

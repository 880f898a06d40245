//! The Anthropic Messages wire format (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version`), with
//! its SSE events: message_start, content_block_start/delta/stop (`text_delta`, `input_json_delta`),
//! message_delta (stop reason, output usage), message_stop, ping and error.

use super::{Decoder, EventStream, ModelCheck, Provider, decode_sse, send, shorten, url_with};
use crate::chat::{ChatRequest, FinishReason, Message, StreamEvent, ToolCall, Usage};
use crate::error::{AttemptFailure, Cause};
use crate::secrets::ApiKey;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};

/// The API version this code speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

pub struct AnthropicProvider {
    client: reqwest::Client,
    url: String,
    /// The base URL, for the model lookup (`{base}/v1/models/{model}`).
    base: String,
    key: Option<ApiKey>,
    where_key: Cause,
}

impl AnthropicProvider {
    pub fn new(client: reqwest::Client, base_url: &str, key: Option<ApiKey>, where_key: Cause) -> Self {
        Self {
            client,
            url: format!("{base_url}/v1/messages"),
            base: base_url.to_owned(),
            key,
            where_key,
        }
    }
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("url", &self.url)
            .field("key", &self.key)
            .finish()
    }
}

impl Provider for AnthropicProvider {
    fn system(&self) -> &'static str {
        "anthropic"
    }

    fn open<'a>(
        &'a self,
        model: &'a str,
        request: &'a ChatRequest,
        max_tokens: u32,
    ) -> BoxFuture<'a, Result<EventStream, AttemptFailure>> {
        Box::pin(async move {
            let Some(key) = &self.key else {
                return Err(AttemptFailure::MissingKey(self.where_key.clone()));
            };
            let body = request_body(model, request, max_tokens)?;
            let builder = self
                .client
                .post(&self.url)
                .header("x-api-key", key.expose())
                .header("anthropic-version", ANTHROPIC_VERSION)
                .json(&body);
            let response = send(builder).await?;
            Ok(decode_sse(response, AnthropicDecoder::default()))
        })
    }

    fn check<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelCheck, AttemptFailure>> {
        Box::pin(async move {
            let Some(key) = &self.key else {
                return Err(AttemptFailure::MissingKey(self.where_key.clone()));
            };
            // Get a Model (`GET /v1/models/{model_id}`, an id or an alias): 404 for an unknown model.
            let builder = self
                .client
                .get(url_with(&self.base, &["v1", "models", model])?)
                .header("x-api-key", key.expose())
                .header("anthropic-version", ANTHROPIC_VERSION);
            send(builder).await.map(|_| ModelCheck::Known)
        })
    }
}

/// The request body: system text goes top-level; tool results travel in user turns; consecutive turns of
/// the same role are merged, as the API requires alternation.
pub fn request_body(model: &str, request: &ChatRequest, max_tokens: u32) -> Result<Value, AttemptFailure> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    let mut push = |role: &'static str, block: Value| match turns.last_mut() {
        Some((last, blocks)) if *last == role => blocks.push(block),
        _ => turns.push((role, vec![block])),
    };
    for message in &request.messages {
        match message {
            Message::System { content } => system.push(content.as_str()),
            Message::User { content } => push("user", json!({"type": "text", "text": content})),
            Message::Assistant { content, tool_calls } => {
                if !content.is_empty() {
                    push("assistant", json!({"type": "text", "text": content}));
                }
                for call in tool_calls {
                    let input = call.arguments_json().map_err(|e| {
                        AttemptFailure::InvalidRequest(format!(
                            "tool call {} has arguments that are not JSON: {e}",
                            call.id
                        ))
                    })?;
                    push(
                        "assistant",
                        json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}),
                    );
                }
            }
            Message::Tool { call_id, content } => {
                push(
                    "user",
                    json!({"type": "tool_result", "tool_use_id": call_id, "content": content}),
                );
            }
        }
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    let mut body = json!({"model": model, "max_tokens": max_tokens, "messages": messages, "stream": true});
    let Some(object) = body.as_object_mut() else {
        return Err(AttemptFailure::InvalidRequest(
            "request body is not an object".into(),
        ));
    };
    if !system.is_empty() {
        object.insert("system".into(), json!(system.join("\n\n")));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        object.insert("tools".into(), Value::Array(tools));
    }
    if let Some(temperature) = request.temperature {
        object.insert("temperature".into(), json!(temperature));
    }
    if !request.stop.is_empty() {
        object.insert("stop_sequences".into(), json!(request.stop));
    }
    Ok(body)
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        delta: MessageDelta,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: WireError,
    },
    /// Event types added after this code was written are skipped, as the API's versioning policy asks.
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct StartMessage {
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

struct PartialCall {
    ordinal: u32,
    id: String,
    name: String,
    arguments: String,
    /// The `input` of content_block_start, used when no `input_json_delta` follows.
    start_input: Value,
}

#[derive(Default)]
pub(crate) struct AnthropicDecoder {
    calls: HashMap<u32, PartialCall>,
    next_ordinal: u32,
    input_tokens: u64,
    cached_input_tokens: u64,
    output_tokens: u64,
    saw_usage: bool,
    finish: Option<FinishReason>,
}

impl AnthropicDecoder {
    /// A content block begins: text is passed on, a tool call is announced and kept until its block stops.
    fn block_start(&mut self, index: u32, block: Block, out: &mut VecDeque<StreamEvent>) {
        match block {
            Block::Text { text } if !text.is_empty() => out.push_back(StreamEvent::TextDelta { text }),
            Block::ToolUse { id, name, input } => {
                let ordinal = self.next_ordinal;
                self.next_ordinal += 1;
                out.push_back(StreamEvent::ToolCallDelta {
                    index: ordinal,
                    id: Some(id.clone()),
                    name: Some(name.clone()),
                    arguments: String::new(),
                });
                self.calls.insert(
                    index,
                    PartialCall {
                        ordinal,
                        id,
                        name,
                        arguments: String::new(),
                        start_input: input,
                    },
                );
            }
            Block::Text { .. } | Block::Other => {}
        }
    }

    /// A piece of a block: text, or a piece of a tool call's JSON arguments.
    fn block_delta(
        &mut self,
        index: u32,
        delta: BlockDelta,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<(), AttemptFailure> {
        match delta {
            BlockDelta::TextDelta { text } => out.push_back(StreamEvent::TextDelta { text }),
            BlockDelta::InputJsonDelta { partial_json } => {
                let call = self.calls.get_mut(&index).ok_or_else(|| {
                    AttemptFailure::Malformed(
                        format!("input_json_delta for block {index}, which is not a tool_use").into(),
                    )
                })?;
                call.arguments.push_str(&partial_json);
                out.push_back(StreamEvent::ToolCallDelta {
                    index: call.ordinal,
                    id: None,
                    name: None,
                    arguments: partial_json,
                });
            }
            BlockDelta::Other => {}
        }
        Ok(())
    }

    /// A block ends: a tool call's arguments are whole (the start's `input` when no pieces came).
    fn block_stop(&mut self, index: u32, out: &mut VecDeque<StreamEvent>) {
        let Some(call) = self.calls.remove(&index) else {
            return;
        };
        let arguments = if call.arguments.is_empty() {
            match call.start_input {
                Value::Null => "{}".to_owned(),
                input => input.to_string(),
            }
        } else {
            call.arguments
        };
        out.push_back(StreamEvent::ToolCall {
            index: call.ordinal,
            call: ToolCall {
                id: call.id,
                name: call.name,
                arguments,
            },
        });
    }

    /// The message ends: its usage (when the provider sent any), then the finish.
    fn message_stop(&mut self, out: &mut VecDeque<StreamEvent>) {
        if self.saw_usage {
            let usage = Usage {
                input_tokens: self.input_tokens,
                cached_input_tokens: self.cached_input_tokens,
                output_tokens: self.output_tokens,
                estimated: false,
            };
            out.push_back(StreamEvent::Usage { usage });
        }
        let reason = self.finish.take().unwrap_or(FinishReason::Stop);
        out.push_back(StreamEvent::Finish { reason });
    }

    fn take_usage(&mut self, usage: WireUsage) {
        self.saw_usage = true;
        let cache_read = usage.cache_read_input_tokens.unwrap_or(0);
        if let Some(input) = usage.input_tokens {
            // Anthropic's input_tokens leaves out cache reads and writes; the normalised figure includes them.
            self.input_tokens = input + cache_read + usage.cache_creation_input_tokens.unwrap_or(0);
            self.cached_input_tokens = cache_read;
        }
        if let Some(output) = usage.output_tokens {
            // Cumulative in message_delta.
            self.output_tokens = output;
        }
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "end_turn" | "stop_sequence" | "pause_turn" => FinishReason::Stop,
        "max_tokens" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

impl Decoder for AnthropicDecoder {
    fn event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, AttemptFailure> {
        let wire: Wire = serde_json::from_str(data).map_err(|e| {
            AttemptFailure::Malformed(Cause::from_error(
                format!("cannot decode event {}", shorten(data, 120)),
                e,
            ))
        })?;
        match wire {
            Wire::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.take_usage(usage);
                }
            }
            Wire::ContentBlockStart { index, content_block } => self.block_start(index, content_block, out),
            Wire::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out)?,
            Wire::ContentBlockStop { index } => self.block_stop(index, out),
            Wire::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.finish = Some(finish_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.take_usage(usage);
                }
            }
            Wire::MessageStop => {
                self.message_stop(out);
                return Ok(true);
            }
            Wire::Error { error } => {
                return Err(AttemptFailure::StreamError {
                    kind: error.kind,
                    message: error.message,
                });
            }
            Wire::Ping | Wire::Unknown => {}
        }
        Ok(false)
    }

    fn end(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<(), AttemptFailure> {
        Err(AttemptFailure::Broken(
            "the stream ended before message_stop".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tests::assert_tool_turn;

    #[test]
    fn decodes_text_tool_use_and_usage() {
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"rmssd","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"days\""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":":7}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}"#,
            r#"{"type":"message_stop"}"#,
        ];
        let mut decoder = AnthropicDecoder::default();
        let mut out = VecDeque::new();
        for e in events {
            decoder.event("", e, &mut out).expect("valid event");
        }
        let events: Vec<StreamEvent> = out.into_iter().collect();
        assert_tool_turn(
            &events,
            "Checking",
            "toolu_1",
            Usage {
                input_tokens: 25,
                cached_input_tokens: 5,
                output_tokens: 30,
                estimated: false,
            },
        );
    }

    #[test]
    fn error_event_is_a_stream_error() {
        let mut decoder = AnthropicDecoder::default();
        let failure = decoder
            .event(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                &mut VecDeque::new(),
            )
            .expect_err("error event");
        assert!(failure.is_transient());
        assert_eq!(
            failure.to_string(),
            "the provider reported an error in the stream (overloaded_error): Overloaded"
        );
    }
}

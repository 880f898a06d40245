//! The OpenAI Chat Completions wire format (`POST {base}/chat/completions`, SSE with
//! `stream_options.include_usage`), spoken by OpenAI and by OpenAI-compatible servers (Ollama,
//! llama.cpp server, vLLM, LM Studio, OpenRouter) at their own base URL.

use super::{Decoder, EventStream, ModelCheck, Provider, decode_sse, send, shorten, url_with};
use crate::chat::{
    ChatRequest, FinishReason, Message, SchemaAdherence, StreamEvent, ToolCall, ToolDefinition, Usage,
};
use crate::error::{AttemptFailure, Cause};
use crate::secrets::ApiKey;
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};

/// An OpenAI or OpenAI-compatible endpoint.
pub struct OpenAiProvider {
    client: reqwest::Client,
    url: String,
    /// The base URL, for the model lookup (`{base}/models/{model}`, `{base}/models`).
    base: String,
    key: Option<ApiKey>,
    /// Set when the provider needs a key and none was found: what to set.
    missing_key: Option<Cause>,
    compatible: bool,
}

impl OpenAiProvider {
    /// OpenAI itself: a key is required.
    pub fn openai(client: reqwest::Client, base_url: &str, key: Option<ApiKey>, where_key: Cause) -> Self {
        let missing_key = key.is_none().then_some(where_key);
        Self {
            client,
            url: format!("{base_url}/chat/completions"),
            base: base_url.to_owned(),
            key,
            missing_key,
            compatible: false,
        }
    }

    /// An OpenAI-compatible server: the key is optional (local servers take none).
    pub fn compatible(client: reqwest::Client, base_url: &str, key: Option<ApiKey>) -> Self {
        Self {
            client,
            url: format!("{base_url}/chat/completions"),
            base: base_url.to_owned(),
            key,
            missing_key: None,
            compatible: true,
        }
    }
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("url", &self.url)
            .field("key", &self.key)
            .finish()
    }
}

impl Provider for OpenAiProvider {
    fn system(&self) -> &'static str {
        if self.compatible {
            "openai_compatible"
        } else {
            "openai"
        }
    }

    fn open<'a>(
        &'a self,
        model: &'a str,
        request: &'a ChatRequest,
        max_tokens: u32,
    ) -> BoxFuture<'a, Result<EventStream, AttemptFailure>> {
        Box::pin(async move {
            if let Some(missing) = &self.missing_key {
                return Err(AttemptFailure::MissingKey(missing.clone()));
            }
            let body = request_body(model, request, max_tokens, self.compatible)?;
            let mut builder = self.client.post(&self.url).json(&body);
            if let Some(key) = &self.key {
                builder = builder.bearer_auth(key.expose());
            }
            let response = send(builder).await?;
            Ok(decode_sse(response, OpenAiDecoder::default()))
        })
    }

    fn check<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelCheck, AttemptFailure>> {
        Box::pin(async move {
            if let Some(missing) = &self.missing_key {
                return Err(AttemptFailure::MissingKey(missing.clone()));
            }
            let get = |url: reqwest::Url| match &self.key {
                Some(key) => self.client.get(url).bearer_auth(key.expose()),
                None => self.client.get(url),
            };
            // Retrieve model: OpenAI, Ollama's /v1 and LM Studio answer it, 404 for an unknown model.
            match send(get(url_with(&self.base, &["models", model])?)).await {
                Ok(_) => Ok(ModelCheck::Known),
                // A compatible server without that route (vLLM, llama.cpp server) only lists its models.
                Err(AttemptFailure::Status {
                    status: 404 | 405, ..
                }) if self.compatible => {
                    let listed = send(get(url_with(&self.base, &["models"])?)).await?;
                    let listed: ModelList = listed
                        .json()
                        .await
                        .map_err(|e| AttemptFailure::Malformed(Cause::from_error("the model list", e)))?;
                    listed.require(model)
                }
                Err(failure) => Err(failure),
            }
        })
    }
}

/// `GET {base}/models`: `{"object": "list", "data": [{"id": …}, …]}`.
#[derive(Deserialize)]
struct ModelList {
    data: Vec<ListedModel>,
}

#[derive(Deserialize)]
struct ListedModel {
    id: String,
    #[serde(default)]
    owned_by: Option<String>,
    /// llama-server's other names of the model (`--alias`).
    #[serde(default)]
    aliases: Vec<String>,
    /// llama-server's facts of the loaded model: only in its single-model answer (its router mode, which
    /// serves several and does look at the name, gives `status` instead).
    #[serde(default)]
    meta: Option<Value>,
}

impl ListedModel {
    /// The entry a single-model llama.cpp server lists when started without `--alias`, which answers
    /// every model name with its one model: llama-server's (`owned_by` "llamacpp", with `meta`), or
    /// llama-cpp-python's (`owned_by` "me", the id the GGUF file's path). Another server listing one model
    /// (vLLM, LM Studio) refuses other names, so only these two marks count.
    fn serves_any_name(&self) -> bool {
        match self.owned_by.as_deref() {
            Some("llamacpp") => self.meta.is_some(),
            Some("me") => self.id.to_ascii_lowercase().ends_with(".gguf"),
            _ => false,
        }
    }
}

impl ModelList {
    /// Whether a request for `model` will be answered: `model` is listed, or the server is a
    /// single-model llama.cpp server (see [`ListedModel::serves_any_name`]); else a 404 naming what the
    /// server has.
    fn require(self, model: &str) -> Result<ModelCheck, AttemptFailure> {
        if self
            .data
            .iter()
            .any(|m| m.id == model || m.aliases.iter().any(|a| a == model))
        {
            return Ok(ModelCheck::Known);
        }
        if let [only] = self.data.as_slice()
            && only.serves_any_name()
        {
            return Ok(ModelCheck::AnyNameServes {
                served: only.id.clone(),
            });
        }
        let ids: Vec<String> = self.data.into_iter().map(|m| m.id).collect();
        Err(AttemptFailure::Status {
            status: 404,
            retry_after: None,
            message: shorten(
                &format!("the server lists no model {model:?}; it has: {}", ids.join(", ")),
                300,
            ),
        })
    }
}

/// The request body. OpenAI's own API takes `max_completion_tokens` (`max_tokens` is refused by its
/// reasoning models); compatible servers know `max_tokens`.
pub fn request_body(
    model: &str,
    request: &ChatRequest,
    max_tokens: u32,
    compatible: bool,
) -> Result<Value, AttemptFailure> {
    let messages: Vec<Value> = request
        .messages
        .iter()
        .map(|m| match m {
            Message::System { content } => json!({"role": "system", "content": content}),
            Message::User { content } => json!({"role": "user", "content": content}),
            Message::Assistant { content, tool_calls } if tool_calls.is_empty() => {
                json!({"role": "assistant", "content": content})
            }
            Message::Assistant { content, tool_calls } => json!({
                "role": "assistant",
                "content": if content.is_empty() { Value::Null } else { Value::from(content.as_str()) },
                "tool_calls": tool_calls.iter().map(|c| json!({
                    "id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}
                })).collect::<Vec<_>>(),
            }),
            Message::Tool { call_id, content } => {
                json!({"role": "tool", "tool_call_id": call_id, "content": content})
            }
        })
        .collect();
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    let Some(object) = body.as_object_mut() else {
        return Err(AttemptFailure::InvalidRequest(
            "request body is not an object".into(),
        ));
    };
    let cap_field = if compatible {
        "max_tokens"
    } else {
        "max_completion_tokens"
    };
    object.insert(cap_field.into(), json!(max_tokens));
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request.tools.iter().map(|t| tool(t, compatible)).collect();
        object.insert("tools".into(), Value::Array(tools));
    }
    if let Some(temperature) = request.temperature {
        object.insert("temperature".into(), json!(temperature));
    }
    if !request.stop.is_empty() {
        object.insert("stop".into(), json!(request.stop));
    }
    Ok(body)
}

/// One function tool. `strict` goes to OpenAI itself only when the schema qualifies (see
/// [`SchemaAdherence`]); compatible servers never see the field.
fn tool(definition: &ToolDefinition, compatible: bool) -> Value {
    let mut function = json!({
        "name": definition.name,
        "description": definition.description,
        "parameters": definition.parameters,
    });
    if !compatible
        && definition.adherence == SchemaAdherence::Strict
        && let Some(object) = function.as_object_mut()
    {
        object.insert("strict".into(), Value::Bool(true));
    }
    json!({"type": "function", "function": function})
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    error: Option<WireError>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

/// A fragment of a streamed tool call. Servers differ: OpenAI sends `index` on every fragment and `id` on
/// the first; Gemini sends whole calls with an id and no index; Ollama puts every call at index 0 with
/// distinct ids; DeepSeek streams calls one after another at a colliding index with the id only first.
#[derive(Deserialize)]
struct ToolCallDelta {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct WireError {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    code: Option<Value>,
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Default)]
pub(crate) struct OpenAiDecoder {
    /// The calls in the order they first appeared; the position is the normalised index.
    calls: Vec<PartialCall>,
    /// The wire index → the call that last claimed it.
    by_index: HashMap<u32, usize>,
    calls_emitted: bool,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl OpenAiDecoder {
    fn emit_calls(&mut self, out: &mut VecDeque<StreamEvent>) {
        if self.calls_emitted {
            return;
        }
        self.calls_emitted = true;
        for (position, call) in std::mem::take(&mut self.calls).into_iter().enumerate() {
            let index = u32::try_from(position).unwrap_or(u32::MAX);
            let id = if call.id.is_empty() {
                // A server that sent no id still needs one for the tool result to answer.
                format!("call_{index}")
            } else {
                call.id
            };
            let call = ToolCall {
                id,
                name: call.name,
                arguments: call.arguments,
            };
            out.push_back(StreamEvent::ToolCall { index, call });
        }
    }

    /// The call a fragment belongs to: by id first, then by wire index, else the only call there is;
    /// a fragment that could belong to more than one call is refused rather than guessed.
    fn route(&mut self, id: Option<&str>, index: Option<u32>) -> Result<usize, AttemptFailure> {
        let id = id.filter(|id| !id.is_empty());
        let known = match (id, index) {
            (Some(id), _) => self.calls.iter().position(|c| c.id == id),
            (None, Some(index)) => self.by_index.get(&index).copied(),
            (None, None) => match self.calls.len() {
                0 => None,
                1 => Some(0),
                open => {
                    return Err(AttemptFailure::Malformed(
                        format!("a tool-call fragment with neither id nor index while {open} calls are open")
                            .into(),
                    ));
                }
            },
        };
        let position = known.unwrap_or_else(|| {
            self.calls.push(PartialCall {
                id: id.unwrap_or_default().to_owned(),
                ..PartialCall::default()
            });
            self.calls.len() - 1
        });
        if let Some(index) = index {
            self.by_index.insert(index, position);
        }
        Ok(position)
    }

    fn finish(&mut self, out: &mut VecDeque<StreamEvent>) {
        self.emit_calls(out);
        if let Some(usage) = self.usage.take() {
            out.push_back(StreamEvent::Usage { usage });
        }
        let reason = self.finish.take().unwrap_or(FinishReason::Stop);
        out.push_back(StreamEvent::Finish { reason });
    }
}

fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

impl Decoder for OpenAiDecoder {
    fn event(
        &mut self,
        _name: &str,
        data: &str,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, AttemptFailure> {
        if data.trim() == "[DONE]" {
            self.finish(out);
            return Ok(true);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            AttemptFailure::Malformed(Cause::from_error(
                format!("cannot decode chunk {}", shorten(data, 120)),
                e,
            ))
        })?;
        if let Some(error) = chunk.error {
            let kind = error
                .kind
                .or_else(|| error.code.map(|c| c.to_string()))
                .unwrap_or_else(|| "error".into());
            return Err(AttemptFailure::StreamError {
                kind,
                message: error.message.unwrap_or_default(),
            });
        }
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                out.push_back(StreamEvent::TextDelta { text });
            }
            for delta in choice.delta.tool_calls {
                let position = self.route(delta.id.as_deref(), delta.index)?;
                let Some(call) = self.calls.get_mut(position) else {
                    continue;
                };
                let (name, arguments) = match delta.function {
                    Some(f) => (f.name, f.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                if let Some(name) = &name {
                    call.name.push_str(name);
                }
                call.arguments.push_str(&arguments);
                out.push_back(StreamEvent::ToolCallDelta {
                    index: u32::try_from(position).unwrap_or(u32::MAX),
                    id: delta.id,
                    name,
                    arguments,
                });
            }
            if let Some(reason) = choice.finish_reason {
                // The arguments are whole now; hand the calls over before the usage chunk arrives.
                self.emit_calls(out);
                self.finish = Some(finish_reason(&reason));
            }
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(Usage {
                input_tokens: u.prompt_tokens,
                cached_input_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0),
                output_tokens: u.completion_tokens,
                estimated: false,
            });
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), AttemptFailure> {
        // Some compatible servers close without `[DONE]`; a finish reason means the answer was complete.
        if self.finish.is_some() {
            self.finish(out);
            Ok(())
        } else {
            Err(AttemptFailure::Broken(
                "the stream ended before a finish reason or [DONE]".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tests::assert_tool_turn;

    #[test]
    fn decodes_text_tool_calls_usage_and_done() {
        let chunks = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"rmssd","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"days\":"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"7}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":4}}}"#,
            "[DONE]",
        ];
        let mut decoder = OpenAiDecoder::default();
        let mut out = VecDeque::new();
        let done: Vec<bool> = chunks
            .iter()
            .map(|c| decoder.event("", c, &mut out).expect("valid chunk"))
            .collect();
        assert_eq!(done.last(), Some(&true));
        let events: Vec<StreamEvent> = out.into_iter().collect();
        assert_tool_turn(
            &events,
            "Hi",
            "call_1",
            Usage {
                input_tokens: 12,
                cached_input_tokens: 4,
                output_tokens: 5,
                estimated: false,
            },
        );
    }

    /// The calls a sequence of `delta.tool_calls` arrays decodes to, or the decoder's refusal.
    fn decode_calls(deltas: &[&str]) -> Result<Vec<(u32, String, String, String)>, String> {
        let mut decoder = OpenAiDecoder::default();
        let mut out = VecDeque::new();
        for delta in deltas {
            let chunk = format!(
                r#"{{"choices":[{{"index":0,"delta":{{"tool_calls":{delta}}},"finish_reason":null}}]}}"#
            );
            decoder.event("", &chunk, &mut out).map_err(|e| e.to_string())?;
        }
        let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;
        decoder.event("", finish, &mut out).map_err(|e| e.to_string())?;
        Ok(out
            .into_iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCall { index, call } => Some((index, call.id, call.name, call.arguments)),
                _ => None,
            })
            .collect())
    }

    #[test]
    fn tool_call_fragments_are_routed_by_id_then_index() {
        let call =
            |i: u32, id: &str, name: &str, args: &str| (i, id.to_owned(), name.to_owned(), args.to_owned());
        let table: [(&str, &[&str], Result<Vec<_>, &str>); 6] = [
            (
                "openai: index on every fragment, id on the first",
                &[
                    r#"[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]"#,
                    r#"[{"index":1,"id":"b","function":{"name":"g","arguments":"{}"}}]"#,
                    r#"[{"index":0,"function":{"arguments":"{\"x\":1}"}}]"#,
                ],
                Ok(vec![call(0, "a", "f", r#"{"x":1}"#), call(1, "b", "g", "{}")]),
            ),
            (
                "gemini: whole calls, no index",
                &[
                    r#"[{"id":"a","function":{"name":"f","arguments":"{}"}},{"id":"b","function":{"name":"g","arguments":"{\"d\":7}"}}]"#,
                ],
                Ok(vec![call(0, "a", "f", "{}"), call(1, "b", "g", r#"{"d":7}"#)]),
            ),
            (
                "ollama: every call at index 0, distinct ids",
                &[
                    r#"[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]"#,
                    r#"[{"index":0,"id":"b","function":{"name":"g","arguments":"{}"}}]"#,
                ],
                Ok(vec![call(0, "a", "f", "{}"), call(1, "b", "g", "{}")]),
            ),
            (
                "deepseek: colliding index, the id only first",
                &[
                    r#"[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]"#,
                    r#"[{"index":0,"function":{"arguments":"{\"x\":"}}]"#,
                    r#"[{"index":0,"function":{"arguments":"1}"}}]"#,
                    r#"[{"index":0,"id":"b","function":{"name":"g","arguments":""}}]"#,
                    r#"[{"index":0,"function":{"arguments":"{}"}}]"#,
                ],
                Ok(vec![call(0, "a", "f", r#"{"x":1}"#), call(1, "b", "g", "{}")]),
            ),
            (
                "no id at all: one is made up",
                &[r#"[{"function":{"name":"f","arguments":"{}"}}]"#],
                Ok(vec![call(0, "call_0", "f", "{}")]),
            ),
            (
                "ambiguous: neither id nor index with two calls open",
                &[
                    r#"[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]"#,
                    r#"[{"index":1,"id":"b","function":{"name":"g","arguments":""}}]"#,
                    r#"[{"function":{"arguments":"{}"}}]"#,
                ],
                Err("neither id nor index while 2 calls are open"),
            ),
        ];
        for (name, deltas, expected) in table {
            match (decode_calls(deltas), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{name}: {got}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn malformed_chunk_and_truncated_stream_are_errors() {
        let mut decoder = OpenAiDecoder::default();
        let mut out = VecDeque::new();
        assert!(matches!(
            decoder.event("", "{not json", &mut out),
            Err(AttemptFailure::Malformed(_))
        ));
        assert!(matches!(decoder.end(&mut out), Err(AttemptFailure::Broken(_))));
    }
}

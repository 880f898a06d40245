//! The two wire formats as the real APIs write them: OpenAI chat.completion(.chunk) objects with
//! `data: [DONE]`, Anthropic message objects and `event:`/`data:` SSE frames; and their error bodies.

use crate::{Format, Quirk, Reply, Script, Shared, plain};
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::stream::{self, Stream, StreamExt};
use serde_json::{Value, json};

pub(crate) const CREATED: u64 = 1_700_000_000;

pub(crate) fn respond(
    format: Format,
    model: &str,
    streaming: bool,
    include_usage: bool,
    script: Script,
    shared: Shared,
) -> Response {
    let frames = |reply: &Reply| match format {
        Format::OpenAi => openai_frames(model, reply, include_usage),
        Format::Anthropic => anthropic_frames(model, reply),
    };
    let split_utf8 = match &script {
        Script::Reply(reply)
        | Script::ResetAfter { reply, .. }
        | Script::StallAfter { reply, .. }
        | Script::StreamError { reply, .. } => reply.quirk == Quirk::SplitUtf8,
        _ => false,
    };
    let sse = |frames: stream::BoxStream<'static, Result<String, std::io::Error>>| {
        sse(frames, split_utf8, shared.clone())
    };
    match script {
        Script::Status { status, retry_after } => error_response(format, status, retry_after),
        Script::Reply(reply) if streaming => sse(stream::iter(frames(&reply)).map(Ok).boxed()),
        Script::Reply(reply) => {
            let body = match format {
                Format::OpenAi => openai_message(model, &reply),
                Format::Anthropic => anthropic_message(model, &reply),
            };
            plain(StatusCode::OK, "application/json", body.to_string())
        }
        Script::ResetAfter { events, reply } => {
            let head = stream::iter(frames(&reply).into_iter().take(events)).map(Ok);
            let reset = stream::once(async {
                // Pending once first: hyper flushes what it has written when the body is not ready, so the
                // head reaches the client before the connection breaks, as on a real network.
                tokio::task::yield_now().await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "scripted connection reset",
                ))
            });
            sse(head.chain(reset).boxed())
        }
        Script::StallBeforeFirstToken | Script::HangUntilDisconnect => sse(stream::pending().boxed()),
        Script::StallAfter { events, reply } => {
            let head = stream::iter(frames(&reply).into_iter().take(events)).map(Ok);
            sse(head.chain(stream::pending()).boxed())
        }
        Script::MalformedJson if streaming => {
            let frame = match format {
                Format::OpenAi => {
                    "data: {\"id\":\"chatcmpl-fake\",\"choices\":[{\"delta\":{\"content\":\"Hi\"\n\n"
                        .to_owned()
                }
                Format::Anthropic => {
                    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\n\n"
                        .to_owned()
                }
            };
            sse(stream::iter([Ok(frame)]).boxed())
        }
        Script::MalformedJson => plain(StatusCode::OK, "application/json", "{\"id\": \"broken\", ".into()),
        Script::StreamError {
            events,
            kind,
            message,
            reply,
        } => {
            let error = match format {
                Format::OpenAi => {
                    format!(
                        "data: {}\n\n",
                        json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
                    )
                }
                Format::Anthropic => {
                    format!(
                        "event: error\ndata: {}\n\n",
                        json!({"type": "error", "error": {"type": kind, "message": message}})
                    )
                }
            };
            let mut out: Vec<String> = frames(&reply).into_iter().take(events).collect();
            out.push(error);
            sse(stream::iter(out).map(Ok).boxed())
        }
    }
}

/// The SSE response; with `split_utf8` a frame holding a multi-byte character goes out in two writes cut
/// inside that character. A stream the client drops before its end is counted as a disconnect.
fn sse(
    frames: stream::BoxStream<'static, Result<String, std::io::Error>>,
    split_utf8: bool,
    shared: Shared,
) -> Response {
    let bytes = frames.flat_map(move |frame| match frame {
        Ok(frame) if split_utf8 => split_inside_char(frame),
        other => stream::iter([other.map(Bytes::from)]).boxed(),
    });
    let body = Watched {
        inner: bytes.boxed(),
        shared,
        ended: false,
    };
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    response
}

/// One frame as two writes cut inside its first multi-byte character (one write when it has none).
fn split_inside_char(frame: String) -> stream::BoxStream<'static, Result<Bytes, std::io::Error>> {
    let Some((at, _)) = frame.char_indices().find(|(_, c)| c.len_utf8() > 1) else {
        return stream::iter([Ok(Bytes::from(frame))]).boxed();
    };
    let mut head = Bytes::from(frame.into_bytes());
    let tail = head.split_off(at + 1);
    let second = stream::once(async move {
        // Pending once: hyper writes out the first half before the second is ready.
        tokio::task::yield_now().await;
        Ok(tail)
    });
    stream::iter([Ok(head)]).chain(second).boxed()
}

/// A response body that counts itself as a disconnect when dropped before its end.
struct Watched {
    inner: stream::BoxStream<'static, Result<Bytes, std::io::Error>>,
    shared: Shared,
    ended: bool,
}

impl Stream for Watched {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        if let std::task::Poll::Ready(None | Some(Err(_))) = &polled {
            // Its end, or a scripted break: not the client's doing.
            self.ended = true;
        }
        polled
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if !self.ended {
            self.shared.disconnected();
        }
    }
}

pub(crate) fn error_response(format: Format, status: u16, retry_after: Option<String>) -> Response {
    let (kind, message) = match status {
        400 => ("invalid_request_error", "The request is not valid."),
        401 => ("authentication_error", "Incorrect API key provided."),
        403 => ("permission_error", "This key may not use this model."),
        404 => ("not_found_error", "The model does not exist."),
        429 => ("rate_limit_error", "Rate limit reached. Please try again later."),
        503 => ("api_error", "The server is temporarily unavailable."),
        529 => ("overloaded_error", "Overloaded"),
        _ => (
            "api_error",
            "The server had an error while processing your request.",
        ),
    };
    let body = match format {
        Format::OpenAi => json!({"error": {"message": message, "type": kind, "param": null, "code": null}}),
        Format::Anthropic => json!({"type": "error", "error": {"type": kind, "message": message}}),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = plain(status, "application/json", body.to_string());
    if let Some(value) = retry_after.and_then(|v| header::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn openai_chunk(model: &str, delta: Value, finish_reason: Value, include_usage: bool) -> String {
    let mut chunk = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
    });
    if include_usage && let Some(object) = chunk.as_object_mut() {
        // With include_usage every chunk carries `usage: null` until the last one.
        object.insert("usage".into(), Value::Null);
    }
    format!("data: {chunk}\n\n")
}

fn openai_frames(model: &str, reply: &Reply, include_usage: bool) -> Vec<String> {
    let mut frames = vec![openai_chunk(
        model,
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
        include_usage,
    )];
    for text in &reply.text_chunks {
        frames.push(openai_chunk(
            model,
            json!({"content": text}),
            Value::Null,
            include_usage,
        ));
    }
    for delta in openai_tool_deltas(reply) {
        frames.push(openai_chunk(model, delta, Value::Null, include_usage));
    }
    let finish = if reply.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    frames.push(openai_chunk(model, json!({}), json!(finish), include_usage));
    if include_usage && !reply.omit_usage {
        let usage = json!({
            "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": "fp_fake", "choices": [],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}
            }
        });
        frames.push(format!("data: {usage}\n\n"));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

/// The `delta`s that carry the reply's tool calls, as the reply's quirk has them.
fn openai_tool_deltas(reply: &Reply) -> Vec<Value> {
    let mut deltas = Vec::new();
    for (n, call) in reply.tool_calls.iter().enumerate() {
        let whole = call.argument_chunks.concat();
        match reply.quirk {
            Quirk::NoIndex => deltas.push(json!({"tool_calls": [{
                "id": call.id, "type": "function", "function": {"name": call.name, "arguments": whole}
            }]})),
            Quirk::AllIndexZero => deltas.push(json!({"tool_calls": [{
                "index": 0, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": whole}
            }]})),
            Quirk::CollidingIndices | Quirk::None | Quirk::SplitUtf8 | Quirk::AnthropicEmptyPartial => {
                let index = if reply.quirk == Quirk::CollidingIndices {
                    0
                } else {
                    n
                };
                deltas.push(json!({"tool_calls": [{
                    "index": index, "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}
                }]}));
                for piece in &call.argument_chunks {
                    deltas.push(json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}));
                }
            }
        }
    }
    deltas
}

fn openai_message(model: &str, reply: &Reply) -> Value {
    let text = reply.full_text();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }, "refusal": null});
    if !reply.tool_calls.is_empty()
        && let Some(object) = message.as_object_mut()
    {
        let calls: Vec<Value> = reply
            .tool_calls
            .iter()
            .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.argument_chunks.concat()}}))
            .collect();
        object.insert("tool_calls".into(), Value::Array(calls));
    }
    let finish = if reply.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens
        }
    })
}

fn anthropic_event(data: &Value) -> String {
    let name = data.get("type").and_then(|t| t.as_str()).unwrap_or("unknown");
    format!("event: {name}\ndata: {data}\n\n")
}

fn anthropic_frames(model: &str, reply: &Reply) -> Vec<String> {
    let mut message = json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "content": [], "model": model,
        "stop_reason": null, "stop_sequence": null,
    });
    if !reply.omit_usage
        && let Some(object) = message.as_object_mut()
    {
        let usage = json!({
            "input_tokens": reply.input_tokens, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "output_tokens": 1
        });
        object.insert("usage".into(), usage);
    }
    let mut frames = vec![anthropic_event(
        &json!({"type": "message_start", "message": message}),
    )];
    let mut index = 0;
    if !reply.text_chunks.is_empty() {
        frames.push(anthropic_event(&json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})));
        frames.push(anthropic_event(&json!({"type": "ping"})));
        for text in &reply.text_chunks {
            frames.push(anthropic_event(&json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}})));
        }
        frames.push(anthropic_event(
            &json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    for call in &reply.tool_calls {
        frames.push(anthropic_event(&json!({
            "type": "content_block_start", "index": index,
            "content_block": {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        })));
        if reply.quirk == Quirk::AnthropicEmptyPartial {
            frames.push(anthropic_event(&json!({
                "type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": ""}
            })));
        }
        for piece in &call.argument_chunks {
            frames.push(anthropic_event(&json!({
                "type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece}
            })));
        }
        frames.push(anthropic_event(
            &json!({"type": "content_block_stop", "index": index}),
        ));
        index += 1;
    }
    let stop_reason = if reply.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let mut delta =
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null}});
    if !reply.omit_usage
        && let Some(object) = delta.as_object_mut()
    {
        object.insert("usage".into(), json!({"output_tokens": reply.output_tokens}));
    }
    frames.push(anthropic_event(&delta));
    frames.push(anthropic_event(&json!({"type": "message_stop"})));
    frames
}

fn anthropic_message(model: &str, reply: &Reply) -> Value {
    let mut content = Vec::new();
    if !reply.text_chunks.is_empty() {
        content.push(json!({"type": "text", "text": reply.full_text()}));
    }
    for call in &reply.tool_calls {
        let input: Value = serde_json::from_str(&call.argument_chunks.concat()).unwrap_or_else(|_| json!({}));
        content.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
    }
    let stop_reason = if reply.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop_reason, "stop_sequence": null,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
    })
}

pub(crate) fn ollama_tags(models: &[String]) -> Response {
    let models: Vec<Value> = models
        .iter()
        .map(|name| json!({"name": name, "model": name, "modified_at": "2025-01-01T00:00:00Z", "size": 0, "digest": "0"}))
        .collect();
    plain(
        StatusCode::OK,
        "application/json",
        json!({"models": models}).to_string(),
    )
}

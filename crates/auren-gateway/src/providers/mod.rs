//! The [`Provider`] trait and what the wire formats share: sending, HTTP error mapping, `Retry-After`,
//! and turning an SSE body into normalised [`StreamEvent`]s through a per-format [`Decoder`].
//!
//! One file per wire format: `openai.rs` (OpenAI and every OpenAI-compatible server) and `anthropic.rs`.

pub mod anthropic;
pub mod openai;

use crate::chat::{ChatRequest, StreamEvent};
use crate::error::{AttemptFailure, Cause};
use eventsource_stream::{EventStreamError, Eventsource};
use futures::future::BoxFuture;
use futures::stream::{Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

/// A provider's answer as normalised events. It ends after `Finish`, or with an error.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, AttemptFailure>> + Send>>;

/// One model vendor's API.
pub trait Provider: Send + Sync {
    /// The `gen_ai.system` name of the wire format.
    fn system(&self) -> &'static str;

    /// Sends a streaming request for `model`; resolves when the response headers are in and the status is a
    /// success. `max_tokens` is the output cap already resolved from the request and the configuration.
    fn open<'a>(
        &'a self,
        model: &'a str,
        request: &'a ChatRequest,
        max_tokens: u32,
    ) -> BoxFuture<'a, Result<EventStream, AttemptFailure>>;

    /// Asks, without a completion, whether the provider takes the key and knows `model`: a model lookup
    /// (`GET …/models/{model}`), which providers do not bill. `Ok` when a request for `model` will be
    /// answered ([`ModelCheck`] says under which name); a refused key is `Status` 401/403, an unknown model
    /// `Status` 404.
    fn check<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelCheck, AttemptFailure>>;
}

/// What a free model lookup found of a model the provider will answer for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelCheck {
    /// The provider knows the model by the name asked.
    Known,
    /// A llama.cpp server serving one GGUF file without `--alias` (llama-server, or llama-cpp-python's
    /// server): it lists only `served`, the file's name, and answers a request for any model name with it.
    AnyNameServes { served: String },
}

/// `base` with `segments` appended, each percent-encoded (a model name may hold `/` or `:`).
pub(crate) fn url_with(base: &str, segments: &[&str]) -> Result<reqwest::Url, AttemptFailure> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|e| AttemptFailure::InvalidRequest(format!("the base URL {base:?} is not a URL: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| AttemptFailure::InvalidRequest(format!("the base URL {base:?} cannot take a path")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

/// Sends `builder` and checks the status: a non-success answer becomes [`AttemptFailure::Status`] with the
/// provider's own error message and its `Retry-After`.
pub(crate) async fn send(builder: reqwest::RequestBuilder) -> Result<reqwest::Response, AttemptFailure> {
    let response = builder.send().await.map_err(transport_failure)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let body = response.text().await.unwrap_or_default();
    Err(AttemptFailure::Status {
        status: status.as_u16(),
        retry_after,
        message: error_message(&body),
    })
}

fn transport_failure(error: reqwest::Error) -> AttemptFailure {
    let mut refused = false;
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        refused |= cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
        source = cause.source();
    }
    let connect = error.is_connect() || (error.is_timeout() && !error.is_body());
    // The error says what it was doing ("error sending request for url ..."): no description of ours.
    let cause = Cause::from_error("", error);
    if refused {
        AttemptFailure::Refused(cause)
    } else if connect {
        AttemptFailure::Connect(cause)
    } else {
        AttemptFailure::Broken(cause)
    }
}

/// `retry-after-ms` (OpenAI) or `Retry-After` in seconds. An HTTP-date `Retry-After` is ignored (the
/// backoff applies), since providers send seconds.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(ms) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

/// The provider's `error.message` when the body is its JSON error, else the body itself, shortened.
fn error_message(body: &str) -> String {
    let parsed = serde_json::from_str::<serde_json::Value>(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))
        })
        .and_then(|m| m.as_str())
        .unwrap_or(body);
    shorten(message, 300)
}

pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max_chars).collect();
    short.push('…');
    short
}

/// Turns one wire format's SSE events into normalised events.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one SSE event; returns true when the answer is complete.
    fn event(
        &mut self,
        name: &str,
        data: &str,
        out: &mut VecDeque<StreamEvent>,
    ) -> Result<bool, AttemptFailure>;
    /// The body ended without the format's final event: a complete answer or a broken one.
    fn end(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<(), AttemptFailure>;
}

struct DecodeState<S, D> {
    sse: S,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    finished: bool,
}

/// The SSE body of `response` decoded by `decoder`.
pub(crate) fn decode_sse<D: Decoder>(response: reqwest::Response, decoder: D) -> EventStream {
    let state = DecodeState {
        sse: response.bytes_stream().eventsource(),
        decoder,
        pending: VecDeque::new(),
        finished: false,
    };
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(event) = st.pending.pop_front() {
                return Some((Ok(event), st));
            }
            if st.finished {
                return None;
            }
            let outcome = match st.sse.next().await {
                Some(Ok(event)) => st.decoder.event(&event.event, &event.data, &mut st.pending),
                Some(Err(EventStreamError::Transport(e))) => Err(transport_failure(e)),
                Some(Err(EventStreamError::Utf8(e))) => {
                    Err(AttemptFailure::Malformed(Cause::from_error("invalid UTF-8", e)))
                }
                Some(Err(EventStreamError::Parser(e))) => {
                    Err(AttemptFailure::Malformed(Cause::from_error("invalid SSE", e)))
                }
                None => st.decoder.end(&mut st.pending).map(|()| true),
            };
            match outcome {
                Ok(done) => st.finished = done,
                Err(failure) => {
                    st.finished = true;
                    st.pending.clear();
                    return Some((Err(failure), st));
                }
            }
        }
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chat::{FinishReason, ToolCall, Usage};

    /// The turn both wire formats' decoder tests stream: `text` first, then the `rmssd` tool call `call_id`
    /// with `{"days":7}` (sent in pieces), then `usage`, then the tool-calls finish last.
    pub(crate) fn assert_tool_turn(events: &[StreamEvent], text: &str, call_id: &str, usage: Usage) {
        assert_eq!(events[0], StreamEvent::TextDelta { text: text.into() });
        assert!(events.contains(&StreamEvent::ToolCall {
            index: 0,
            call: ToolCall {
                id: call_id.into(),
                name: "rmssd".into(),
                arguments: r#"{"days":7}"#.into()
            }
        }));
        assert_eq!(events[events.len() - 2], StreamEvent::Usage { usage });
        assert_eq!(
            events[events.len() - 1],
            StreamEvent::Finish {
                reason: FinishReason::ToolCalls
            }
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        type Headers = &'static [(&'static str, &'static str)];
        let table: [(Headers, Option<Duration>); 5] = [
            (&[("retry-after", "2")], Some(Duration::from_secs(2))),
            (&[("retry-after", "0.5")], Some(Duration::from_millis(500))),
            (
                &[("retry-after-ms", "150"), ("retry-after", "1")],
                Some(Duration::from_millis(150)),
            ),
            (&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
            (&[], None),
        ];
        for (headers, expected) in table {
            let mut map = reqwest::header::HeaderMap::new();
            for (name, value) in headers {
                map.insert(*name, value.parse().expect("valid header value"));
            }
            assert_eq!(retry_after(&map), expected, "{headers:?}");
        }
    }

    #[test]
    fn error_message_prefers_the_providers_text() {
        assert_eq!(
            error_message(r#"{"error":{"message":"Incorrect API key"}}"#),
            "Incorrect API key"
        );
        assert_eq!(
            error_message(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#),
            "Overloaded"
        );
        assert_eq!(error_message("plain text"), "plain text");
    }
}

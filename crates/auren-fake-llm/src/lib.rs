//! auren-fake-llm: a scriptable loopback HTTP server that speaks the OpenAI Chat Completions and the
//! Anthropic Messages wire formats — streaming (SSE) and not — for tests and benchmarks of anything that
//! talks to LLM providers.
//!
//! Layout: `lib.rs` holds the server ([`FakeLlm`]), its scripts ([`Script`], [`Reply`]) and the record of
//! requests it received ([`RecordedRequest`]); `script.rs` the scripted model (ordered [`Step`]s, each an
//! [`Expect`] matcher and a reply; [`FakeLlm::verify`]); `wire.rs` writes the two formats' bodies and
//! events, with the streamed-tool-call quirks of real servers ([`Quirk`]).
//!
//! Routes: `POST /v1/chat/completions` and `POST /chat/completions` (OpenAI; give clients
//! [`FakeLlm::openai_base_url`]), `POST /v1/messages` (Anthropic; [`FakeLlm::anthropic_base_url`]),
//! `GET /api/tags` (Ollama's model list), and the model lookups `GET /v1/models[/{id}]` (both formats;
//! `catalog.rs`, answered from a [`Catalog`], recorded apart from the chat requests in
//! [`FakeLlm::model_lookups`], taking no script). Once a test calls [`FakeLlm::expect`], every chat request
//! must match the next step in order; until then each request takes the next script queued for its model,
//! else the default reply. Streams the client abandons are counted ([`FakeLlm::disconnects`]).

mod catalog;
mod script;
mod wire;

pub use catalog::{Catalog, LlamaCppServer};
pub use script::{Expect, Format, ScriptViolation, Step, last_user_text};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// A tool call the fake model makes, its arguments sent in the given pieces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeToolCall {
    pub id: String,
    pub name: String,
    pub argument_chunks: Vec<String>,
}

/// How a streamed reply deviates from the reference wire format, as real servers do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quirk {
    /// As OpenAI and Anthropic write it.
    #[default]
    None,
    /// Gemini's OpenAI layer: each tool call whole in one delta, with its id and no `index`.
    NoIndex,
    /// Ollama: each tool call whole in one delta, every one at `index: 0`, told apart by id.
    AllIndexZero,
    /// DeepSeek: calls streamed one after another, all at `index: 0`; only a call's first fragment
    /// carries its id, the rest only the (colliding) index.
    CollidingIndices,
    /// Every frame with a multi-byte character is sent in two network writes split inside the character.
    SplitUtf8,
    /// Anthropic: each tool_use block starts with an empty `partial_json` and its JSON arrives in pieces
    /// that are not JSON on their own (already so when the argument chunks are pieces).
    AnthropicEmptyPartial,
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The text, one SSE chunk per piece.
    pub text_chunks: Vec<String>,
    pub tool_calls: Vec<FakeToolCall>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Leave the usage out of the stream (to exercise token estimates).
    pub omit_usage: bool,
    pub quirk: Quirk,
}

impl Reply {
    /// Text in the given chunks, with usage 12 in / one token per chunk out.
    pub fn text<S: Into<String>>(chunks: impl IntoIterator<Item = S>) -> Self {
        let text_chunks: Vec<String> = chunks.into_iter().map(Into::into).collect();
        let output_tokens = text_chunks.len() as u64;
        Self {
            text_chunks,
            tool_calls: Vec::new(),
            input_tokens: 12,
            output_tokens,
            omit_usage: false,
            quirk: Quirk::None,
        }
    }

    /// One tool call whose arguments arrive in the given pieces.
    pub fn tool_call<S: Into<String>>(
        id: &str,
        name: &str,
        argument_chunks: impl IntoIterator<Item = S>,
    ) -> Self {
        let call = FakeToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            argument_chunks: argument_chunks.into_iter().map(Into::into).collect(),
        };
        let output_tokens = call.argument_chunks.len() as u64 + 1;
        Self {
            text_chunks: Vec::new(),
            tool_calls: vec![call],
            input_tokens: 12,
            output_tokens,
            omit_usage: false,
            quirk: Quirk::None,
        }
    }

    /// Several tool calls in one answer, each `(id, name, argument pieces)`.
    pub fn tool_calls<S: Into<String>>(calls: impl IntoIterator<Item = (String, String, Vec<S>)>) -> Self {
        let tool_calls: Vec<FakeToolCall> = calls
            .into_iter()
            .map(|(id, name, chunks)| FakeToolCall {
                id,
                name,
                argument_chunks: chunks.into_iter().map(Into::into).collect(),
            })
            .collect();
        let output_tokens = tool_calls
            .iter()
            .map(|c| c.argument_chunks.len() as u64 + 1)
            .sum();
        Self {
            text_chunks: Vec::new(),
            tool_calls,
            input_tokens: 12,
            output_tokens,
            omit_usage: false,
            quirk: Quirk::None,
        }
    }

    /// Text first, then these tool calls.
    pub fn with_text<S: Into<String>>(mut self, chunks: impl IntoIterator<Item = S>) -> Self {
        self.text_chunks = chunks.into_iter().map(Into::into).collect();
        self
    }

    pub fn with_quirk(mut self, quirk: Quirk) -> Self {
        self.quirk = quirk;
        self
    }

    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.input_tokens = input_tokens;
        self.output_tokens = output_tokens;
        self
    }

    pub fn without_usage(mut self) -> Self {
        self.omit_usage = true;
        self
    }

    pub(crate) fn full_text(&self) -> String {
        self.text_chunks.concat()
    }
}

/// What the server does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Script {
    /// Answer normally (streamed when the request asks for `stream: true`).
    Reply(Reply),
    /// Answer with this HTTP status and the format's JSON error body; `retry_after` is sent as the
    /// `Retry-After` header verbatim.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Stream this many events of the reply (the first events of a stream carry the first tokens), then
    /// break the connection.
    ResetAfter { events: usize, reply: Reply },
    /// Send the response headers, then nothing at all.
    StallBeforeFirstToken,
    /// Send the response headers, then nothing until the client goes away (counted as a disconnect).
    HangUntilDisconnect,
    /// Stream this many events of the reply, then nothing at all.
    StallAfter { events: usize, reply: Reply },
    /// A streamed answer whose first event is not valid JSON.
    MalformedJson,
    /// Stream this many events, then the format's in-stream error (Anthropic's `error` event, an OpenAI
    /// chunk with `error`).
    StreamError {
        events: usize,
        kind: String,
        message: String,
        reply: Reply,
    },
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it was not JSON).
    pub body: serde_json::Value,
    /// When the whole request (head and body) had arrived, before any answer was written: the start of
    /// a first-token time measured by the server's clock, not by a client's polling of it.
    pub received_at: std::time::SystemTime,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `model` field of the body.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(|m| m.as_str())
    }
}

#[derive(Debug)]
struct Scripts {
    by_model: HashMap<String, VecDeque<Script>>,
    default: Script,
    ollama_models: Vec<String>,
    catalog: Catalog,
    requests: Vec<RecordedRequest>,
    /// The model lookups (`GET …/models…`): no chat requests, so not among `requests`.
    lookups: Vec<RecordedRequest>,
    /// Set by the first [`FakeLlm::expect`]: from then on requests must follow `steps`.
    scripted: bool,
    steps: VecDeque<Step>,
    violations: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Shared {
    scripts: Arc<Mutex<Scripts>>,
    /// How many streamed answers the client abandoned before their end.
    disconnects: Arc<tokio::sync::watch::Sender<usize>>,
    /// How many chat requests arrived.
    arrived: Arc<tokio::sync::watch::Sender<usize>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Scripts> {
        // Test support: a panic elsewhere must not hide the record of requests.
        self.scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn disconnected(&self) {
        self.disconnects.send_modify(|n| *n += 1);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the fake LLM server could not listen on 127.0.0.1: {0}")]
pub struct FakeLlmError(#[from] std::io::Error);

/// The running server. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FakeLlm {
    addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeLlm {
    /// Starts a server on an ephemeral loopback port, inside the current tokio runtime.
    pub async fn start() -> Result<Self, FakeLlmError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Shared {
            scripts: Arc::new(Mutex::new(Scripts {
                by_model: HashMap::new(),
                default: Script::Reply(Reply::text(["Hello", " from", " the fake."])),
                ollama_models: Vec::new(),
                catalog: Catalog::AnyModel,
                requests: Vec::new(),
                lookups: Vec::new(),
                scripted: false,
                steps: VecDeque::new(),
                violations: Vec::new(),
            })),
            disconnects: Arc::new(tokio::sync::watch::channel(0).0),
            arrived: Arc::new(tokio::sync::watch::channel(0).0),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let server = tokio::spawn(async move {
            // Serving ends only when the task is aborted (on drop); an accept error ends it early, and the
            // tests then fail on connection errors they can see.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, server })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL an OpenAI client takes (`…/v1`).
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The base URL an Anthropic client takes (it appends `/v1/messages`).
    pub fn anthropic_base_url(&self) -> String {
        self.url()
    }

    /// Queues scripts for requests naming `model`, used in order.
    pub fn script(&self, model: &str, scripts: impl IntoIterator<Item = Script>) {
        self.shared
            .lock()
            .by_model
            .entry(model.to_owned())
            .or_default()
            .extend(scripts);
    }

    /// What to do when no script is queued for a request's model.
    pub fn set_default(&self, script: Script) {
        self.shared.lock().default = script;
    }

    /// The models `GET /api/tags` lists.
    pub fn set_ollama_models(&self, models: impl IntoIterator<Item = String>) {
        self.shared.lock().ollama_models = models.into_iter().collect();
    }

    /// How the model lookups (`GET /v1/models[/{id}]`) are answered; [`Catalog::AnyModel`] until set.
    pub fn set_catalog(&self, catalog: Catalog) {
        self.shared.lock().catalog = catalog;
    }

    /// The model lookups received so far, oldest first. They are not in [`FakeLlm::requests`].
    pub fn model_lookups(&self) -> Vec<RecordedRequest> {
        self.shared.lock().lookups.clone()
    }

    /// Every request received so far but the model lookups, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the requests received so far (benchmarks call this to keep memory flat).
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Appends steps to the script. From the first call on, every chat request must match the next step;
    /// one that does not, or one past the last step, is answered 500 and recorded as a violation.
    pub fn expect(&self, steps: impl IntoIterator<Item = Step>) {
        let mut scripts = self.shared.lock();
        scripts.scripted = true;
        scripts.steps.extend(steps);
    }

    /// The script was followed: no request broke it and every step was used.
    pub fn verify(&self) -> Result<(), ScriptViolation> {
        let scripts = self.shared.lock();
        let mut problems = scripts.violations.clone();
        for (n, step) in scripts.steps.iter().enumerate() {
            problems.push(format!(
                "scripted step {n} (from now) was never requested: {:?}",
                step.expect
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ScriptViolation { problems })
        }
    }

    /// How many scripted steps are still waiting for their request.
    pub fn steps_left(&self) -> usize {
        self.shared.lock().steps.len()
    }

    /// How many streamed answers the client abandoned before their end (a dropped connection).
    pub fn disconnects(&self) -> usize {
        *self.shared.disconnects.borrow()
    }

    /// Waits until at least `count` chat requests have arrived (answered or not yet).
    pub async fn wait_for_requests(&self, count: usize) {
        let mut watch = self.shared.arrived.subscribe();
        let _ = watch.wait_for(|n| *n >= count).await;
    }

    /// Waits until at least `count` streamed answers have been abandoned by the client.
    pub async fn wait_for_disconnects(&self, count: usize) {
        let mut watch = self.shared.disconnects.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail while we hold it.
        let _ = watch.wait_for(|n| *n >= count).await;
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let recorded = RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: json.clone(),
        received_at: std::time::SystemTime::now(),
    };
    if method == Method::GET
        && let Some(lookup) = catalog::Lookup::of(&path)
    {
        let (catalog, mut scripted) = {
            let mut scripts = shared.lock();
            scripts.lookups.push(recorded);
            let scripted: Vec<String> = scripts.by_model.keys().cloned().collect();
            (scripts.catalog.clone(), scripted)
        };
        scripted.sort();
        return catalog::answer(&catalog, scripted, lookup, &headers);
    }
    let format = match (method.as_str(), path.as_str()) {
        ("POST", "/v1/chat/completions" | "/chat/completions") => Format::OpenAi,
        ("POST", "/v1/messages") => Format::Anthropic,
        ("GET", "/api/tags") => {
            let models = {
                let mut scripts = shared.lock();
                scripts.requests.push(recorded);
                scripts.ollama_models.clone()
            };
            return wire::ollama_tags(&models);
        }
        _ => {
            shared.lock().requests.push(recorded);
            return plain(
                StatusCode::NOT_FOUND,
                "application/json",
                r#"{"error":{"message":"no such route"}}"#.into(),
            );
        }
    };
    let model = json
        .get("model")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_owned();
    let (script, delay) = match next_script(&shared, format, &model, recorded) {
        Ok(next) => next,
        Err(violation) => {
            let body = serde_json::json!({"error": {"message": violation, "type": "script_violation"}});
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json",
                body.to_string(),
            );
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let streaming = json.get("stream").and_then(|s| s.as_bool()).unwrap_or(false);
    let include_usage = json
        .pointer("/stream_options/include_usage")
        .and_then(|s| s.as_bool())
        .unwrap_or(false);
    wire::respond(format, &model, streaming, include_usage, script, shared)
}

/// The script for one chat request: the next scripted step when the server is scripted (a mismatch is a
/// recorded violation), else the model's queue or the default.
fn next_script(
    shared: &Shared,
    format: Format,
    model: &str,
    recorded: RecordedRequest,
) -> Result<(Script, std::time::Duration), String> {
    let mut scripts = shared.lock();
    let number = scripts.requests.len();
    let mismatch = if scripts.scripted {
        match scripts.steps.front() {
            None => Some(format!(
                "unexpected extra call: request {number} ({format:?}, model {model:?}) came after the last scripted step"
            )),
            Some(step) => step
                .expect
                .mismatch(format, &recorded)
                .map(|why| format!("request {number} does not match the next scripted step: {why}")),
        }
    } else {
        None
    };
    scripts.requests.push(recorded);
    shared.arrived.send_modify(|n| *n += 1);
    if let Some(violation) = mismatch {
        scripts.violations.push(violation.clone());
        return Err(violation);
    }
    if scripts.scripted {
        return match scripts.steps.pop_front() {
            Some(step) => Ok((step.reply, step.delay)),
            None => Err("no scripted step".to_owned()),
        };
    }
    let queued = scripts.by_model.get_mut(model).and_then(VecDeque::pop_front);
    Ok((
        queued.unwrap_or_else(|| scripts.default.clone()),
        std::time::Duration::ZERO,
    ))
}

pub(crate) fn plain(status: StatusCode, content_type: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

//! The model lookups real providers answer for free — `GET /v1/models` and `GET /v1/models/{id}` (OpenAI,
//! and Anthropic with its `anthropic-version` header) — answered from a [`Catalog`]. They are no chat
//! requests: they take no script and are recorded apart ([`crate::FakeLlm::model_lookups`]).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::script::Format;
use crate::wire::{CREATED, error_response};

/// Which models the fake says it has when asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Catalog {
    /// Every model asked about exists (the chat routes answer any model too); the list names the models
    /// scripts are queued for.
    AnyModel,
    /// Only these.
    Only(Vec<String>),
    /// Every lookup is answered with this status and the format's error body (401: the key is refused).
    Status(u16),
    /// A llama.cpp server serving one GGUF file, started without `--alias`: the list names only `served`
    /// (the file, as `server` names it), in that server's entry shape; a lookup of one model is a 404 (neither
    /// server has the route); the chat routes answer any model name, as the fake always does.
    LlamaCpp { server: LlamaCppServer, served: String },
}

/// Which llama.cpp server [`Catalog::LlamaCpp`] imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LlamaCppServer {
    /// llama.cpp's own `llama-server`: `owned_by` "llamacpp" and a `meta` object of the loaded model.
    Native,
    /// llama-cpp-python's `python -m llama_cpp.server`: `owned_by` "me", the id the model's path.
    Python,
}

/// What a GET asks.
pub(crate) enum Lookup {
    List,
    One(String),
}

impl Lookup {
    /// The lookup `path` asks for, if it is one: `/v1/models[/{id}]`, or without `/v1` for an OpenAI base
    /// URL given without it.
    pub(crate) fn of(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("/v1").unwrap_or(path).strip_prefix("/models")?;
        match rest {
            "" | "/" => Some(Self::List),
            _ => rest.strip_prefix('/').map(|id| Self::One(percent_decoded(id))),
        }
    }
}

/// The answer to `lookup` in the wire format the headers speak (Anthropic's clients send
/// `anthropic-version`).
pub(crate) fn answer(
    catalog: &Catalog,
    scripted: Vec<String>,
    lookup: Lookup,
    headers: &HeaderMap,
) -> Response {
    let format = if headers.contains_key("anthropic-version") {
        Format::Anthropic
    } else {
        Format::OpenAi
    };
    let known = match catalog {
        Catalog::Status(status) => return error_response(format, *status, None),
        Catalog::LlamaCpp { server, served } => return llama_cpp_answer(*server, served, lookup),
        Catalog::AnyModel => scripted,
        Catalog::Only(models) => models.clone(),
    };
    match lookup {
        Lookup::One(id) if *catalog == Catalog::AnyModel || known.contains(&id) => {
            json_ok(model_object(format, &id))
        }
        Lookup::One(_) => error_response(format, 404, None),
        Lookup::List => {
            let data: Vec<Value> = known.iter().map(|id| model_object(format, id)).collect();
            json_ok(match format {
                Format::OpenAi => json!({"object": "list", "data": data}),
                Format::Anthropic => json!({
                    "data": data,
                    "has_more": false,
                    "first_id": known.first(),
                    "last_id": known.last(),
                }),
            })
        }
    }
}

fn model_object(format: Format, id: &str) -> Value {
    match format {
        Format::OpenAi => json!({"id": id, "object": "model", "created": CREATED, "owned_by": "fake"}),
        Format::Anthropic => json!({
            "type": "model",
            "id": id,
            "display_name": id,
            "created_at": "2025-01-01T00:00:00Z",
        }),
    }
}

/// What a llama.cpp server started without `--alias` answers a model lookup with (the entries as
/// llama-server's `get_res_model_info` and llama-cpp-python's `get_models` write them).
fn llama_cpp_answer(server: LlamaCppServer, served: &str, lookup: Lookup) -> Response {
    if let Lookup::One(_) = lookup {
        let body = match server {
            LlamaCppServer::Native => {
                json!({"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}})
            }
            LlamaCppServer::Python => json!({"detail": "Not Found"}),
        };
        return crate::plain(StatusCode::NOT_FOUND, "application/json", body.to_string());
    }
    let entry = match server {
        LlamaCppServer::Native => json!({
            "id": served,
            "aliases": [],
            "tags": [],
            "object": "model",
            "created": CREATED,
            "owned_by": "llamacpp",
            "meta": {"vocab_type": 2, "n_vocab": 49152, "n_ctx": 4096, "n_ctx_train": 8192},
        }),
        LlamaCppServer::Python => {
            json!({"id": served, "object": "model", "owned_by": "me", "permissions": []})
        }
    };
    json_ok(json!({"object": "list", "data": [entry]}))
}

fn json_ok(body: Value) -> Response {
    crate::plain(StatusCode::OK, "application/json", body.to_string())
}

/// `%XX` escapes decoded (a model id may hold `/` or `:`); a malformed escape is kept as it is.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_as_lookups() {
        let cases = [
            ("/v1/models", Some("list")),
            ("/models", Some("list")),
            ("/v1/models/m1", Some("m1")),
            ("/v1/models/llama3.1%3Alatest", Some("llama3.1:latest")),
            ("/models/org%2Fmodel", Some("org/model")),
            ("/v1/models/100%", Some("100%")),
            ("/v1/chat/completions", None),
            ("/v1/modelsx", None),
            ("/api/tags", None),
        ];
        for (path, expected) in cases {
            let read = Lookup::of(path).map(|l| match l {
                Lookup::List => "list".to_owned(),
                Lookup::One(id) => id,
            });
            assert_eq!(read.as_deref(), expected, "{path}");
        }
    }
}

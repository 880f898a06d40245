//! Detecting a local Ollama server and listing its models (`GET {base}/api/tags`).

use serde::Deserialize;
use std::time::Duration;

/// Where Ollama listens by default.
pub const OLLAMA_DEFAULT_URL: &str = "http://127.0.0.1:11434";

/// Its OpenAI-compatible endpoint, for a `base_url`.
pub fn openai_base_url(ollama_url: &str) -> String {
    format!("{}/v1", ollama_url.trim_end_matches('/'))
}

#[derive(Debug, thiserror::Error)]
pub enum OllamaError {
    #[error("no Ollama server answered at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered HTTP {status}, which Ollama does not answer to GET /api/tags")]
    Status { url: String, status: u16 },
    #[error("{url} answered, but not like Ollama: {source}")]
    NotOllama {
        url: String,
        #[source]
        source: reqwest::Error,
    },
}

#[derive(Deserialize)]
struct Tags {
    models: Vec<TagModel>,
}

#[derive(Deserialize)]
struct TagModel {
    name: String,
}

/// The models a running Ollama at `url` has pulled (`llama3.1:latest`, ...), sorted. Gives up after
/// `timeout` so a missing server costs little.
pub async fn detect_ollama(url: &str, timeout: Duration) -> Result<Vec<String>, OllamaError> {
    let url = url.trim_end_matches('/');
    let unreachable = |source| OllamaError::Unreachable {
        url: url.to_owned(),
        source,
    };
    let client = crate::gateway::client_builder()
        .timeout(timeout)
        .build()
        .map_err(unreachable)?;
    let response = client
        .get(format!("{url}/api/tags"))
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(OllamaError::Status {
            url: url.to_owned(),
            status: response.status().as_u16(),
        });
    }
    let tags: Tags = response.json().await.map_err(|source| OllamaError::NotOllama {
        url: url.to_owned(),
        source,
    })?;
    let mut names: Vec<String> = tags.models.into_iter().map(|m| m.name).collect();
    names.sort();
    Ok(names)
}

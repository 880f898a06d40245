//! A provider that keeps streaming: an OpenAI-compatible chat endpoint on 127.0.0.1 that sends one word
//! per tick until it has sent them all or the client goes away. It is what a Stop has to race: the
//! scripted fake (auren-fake-llm) writes a reply in one burst or stalls, so after a Stop nothing more
//! would come either way, and a window that only hid its Stop button would look frozen too.
//!
//! It speaks just enough HTTP/1.1 for the app's gateway: one request per connection, the chat answer as
//! server-sent events delimited by closing the connection, and the free model lookup (`GET …/models/…`)
//! the status line's probe makes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The longest request head and body the server reads.
const MAX_REQUEST_BYTES: usize = 4 << 20;

/// How a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every word and the closing frames were sent.
    Finished,
    /// The client closed the connection first.
    ClientLeft,
}

/// The latest stream so far: how many words went out, and how it ended once it has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamProgress {
    pub words_sent: usize,
    pub end: Option<StreamEnd>,
}

#[derive(Debug)]
struct Shared {
    words: usize,
    every: Duration,
    /// The bodies of the chat requests received, oldest first.
    requests: Mutex<Vec<serde_json::Value>>,
    progress: watch::Sender<StreamProgress>,
}

/// The running server; dropping it stops accepting connections.
#[derive(Debug)]
pub struct PacedLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for PacedLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The `n`th word a stream sends: `"word{n} "`.
pub fn word(n: usize) -> String {
    format!("word{n} ")
}

impl PacedLlm {
    /// Listens on a free loopback port; each chat request is answered with `words` words, one every `every`.
    pub async fn start(words: usize, every: Duration) -> anyhow::Result<PacedLlm> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            words,
            every,
            requests: Mutex::new(Vec::new()),
            progress: watch::channel(StreamProgress::default()).0,
        });
        let serving = Arc::clone(&shared);
        let server = tokio::spawn(async move {
            // Accepting ends only when the task is aborted (on drop); a failed connection fails the test
            // through what the app then shows.
            while let Ok((socket, _)) = listener.accept().await {
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    if let Err(error) = serve(socket, &shared).await {
                        eprintln!("[paced-llm] {error:#}");
                    }
                });
            }
        });
        Ok(PacedLlm { addr, shared, server })
    }

    /// The base URL an OpenAI client takes (`…/v1`).
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The bodies of the chat requests received so far, oldest first.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The latest stream's progress now.
    pub fn progress(&self) -> StreamProgress {
        *self.shared.progress.borrow()
    }

    /// Waits until the latest stream has ended and returns its progress then.
    pub async fn stream_ended(&self) -> StreamProgress {
        let mut watch = self.shared.progress.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail while we hold it.
        let ended = watch.wait_for(|p| p.end.is_some()).await.map(|p| *p);
        ended.unwrap_or_else(|_| self.progress())
    }
}

/// One connection: one request, one answer, then the connection closes.
async fn serve(mut socket: TcpStream, shared: &Shared) -> anyhow::Result<()> {
    let (head, body) = read_request(&mut socket).await?;
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let (method, path) = (
        request_line.next().unwrap_or_default(),
        request_line.next().unwrap_or_default(),
    );
    match (method, path.split_once("/models")) {
        ("GET", Some((_, id))) => {
            let id = id.trim_start_matches('/');
            let model = serde_json::json!({"id": id, "object": "model", "created": 0, "owned_by": "paced"});
            respond_json(&mut socket, "200 OK", &model.to_string()).await
        }
        ("POST", _) if path.ends_with("/chat/completions") => {
            let body: serde_json::Value =
                serde_json::from_slice(&body).context("the chat request is not JSON")?;
            shared
                .requests
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(body.clone());
            stream_words(socket, shared, &body).await
        }
        _ => {
            respond_json(
                &mut socket,
                "404 Not Found",
                r#"{"error":{"message":"no such route"}}"#,
            )
            .await
        }
    }
}

/// Reads a request head and its `Content-Length` body.
async fn read_request(socket: &mut TcpStream) -> anyhow::Result<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            bail!("a request head over {MAX_REQUEST_BYTES} bytes");
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed inside a request head");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>())
        .transpose()
        .context("a Content-Length that is no number")?
        .unwrap_or(0);
    if length > MAX_REQUEST_BYTES {
        bail!("a request body of {length} bytes");
    }
    let mut body = buffer.split_off(head_end);
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            bail!("the connection closed inside a request body");
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok((head, body))
}

async fn respond_json(socket: &mut TcpStream, status: &str, body: &str) -> anyhow::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await?;
    Ok(())
}

/// One OpenAI stream chunk as an SSE frame.
fn chunk_frame(model: &str, delta: serde_json::Value, finish_reason: serde_json::Value) -> String {
    let chunk = serde_json::json!({
        "id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": 0, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    });
    format!("data: {chunk}\n\n")
}

/// The answer: the role chunk, then one word per tick while the client stays, then the closing frames.
/// The client leaving is seen at once (its end of the connection closes), not at the next write.
async fn stream_words(
    mut socket: TcpStream,
    shared: &Shared,
    request: &serde_json::Value,
) -> anyhow::Result<()> {
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    shared.progress.send_replace(StreamProgress::default());
    let end = |words_sent: usize, end: StreamEnd| {
        shared.progress.send_replace(StreamProgress {
            words_sent,
            end: Some(end),
        });
    };
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    let role = chunk_frame(
        &model,
        serde_json::json!({"role": "assistant", "content": ""}),
        serde_json::Value::Null,
    );
    if socket
        .write_all(format!("{head}{role}").as_bytes())
        .await
        .is_err()
    {
        end(0, StreamEnd::ClientLeft);
        return Ok(());
    }
    let (mut from_client, mut to_client) = socket.split();
    let mut unread = [0u8; 64];
    for n in 0..shared.words {
        let frame = chunk_frame(
            &model,
            serde_json::json!({"content": word(n)}),
            serde_json::Value::Null,
        );
        if to_client.write_all(frame.as_bytes()).await.is_err() {
            end(n, StreamEnd::ClientLeft);
            return Ok(());
        }
        shared.progress.send_modify(|p| p.words_sent = n + 1);
        tokio::select! {
            () = tokio::time::sleep(shared.every) => {}
            read = from_client.read(&mut unread) => {
                // The client sends nothing after its request: a read that ends is its connection closing.
                if matches!(read, Ok(0) | Err(_)) {
                    end(n + 1, StreamEnd::ClientLeft);
                    return Ok(());
                }
            }
        }
    }
    let usage = serde_json::json!({
        "id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": shared.words, "total_tokens": 12 + shared.words},
    });
    let closing = format!(
        "{}data: {usage}\n\ndata: [DONE]\n\n",
        chunk_frame(&model, serde_json::json!({}), serde_json::json!("stop"))
    );
    let outcome = match to_client.write_all(closing.as_bytes()).await {
        Ok(()) => StreamEnd::Finished,
        Err(_) => StreamEnd::ClientLeft,
    };
    end(shared.words, outcome);
    let _ = to_client.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends a chat request and returns the response's head and the words of its body read so far.
    async fn ask(paced: &PacedLlm, read_frames: Option<usize>) -> (String, String) {
        let mut socket = TcpStream::connect(paced.addr).await.unwrap();
        let body = r#"{"model":"m1","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let frames = String::from_utf8_lossy(&got).matches("\n\n").count();
            if read_frames.is_some_and(|wanted| frames >= wanted) {
                break;
            }
            let n = socket.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        let words: String = rest
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
            .collect();
        (head.to_owned(), words)
    }

    #[tokio::test]
    async fn a_stream_read_to_its_end_is_finished_and_holds_every_word() {
        let paced = PacedLlm::start(3, Duration::from_millis(1)).await.unwrap();
        let (head, words) = ask(&paced, None).await;
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert_eq!(words, "word0 word1 word2 ");
        let progress = paced.stream_ended().await;
        assert_eq!(
            progress,
            StreamProgress {
                words_sent: 3,
                end: Some(StreamEnd::Finished)
            }
        );
        assert_eq!(paced.requests().len(), 1);
        assert_eq!(paced.requests()[0]["model"], "m1");
    }

    #[tokio::test]
    async fn a_client_that_leaves_mid_stream_is_seen_leaving_with_words_unsent() {
        let paced = PacedLlm::start(1_000, Duration::from_millis(20)).await.unwrap();
        // The head with the role chunk, then two words: the client hangs up with most words unsent.
        let (_, words) = ask(&paced, Some(3)).await;
        assert!(words.starts_with("word0 "), "{words:?}");
        let progress = tokio::time::timeout(Duration::from_secs(10), paced.stream_ended())
            .await
            .unwrap();
        assert_eq!(progress.end, Some(StreamEnd::ClientLeft));
        assert!((2..1_000).contains(&progress.words_sent), "{progress:?}");
    }
}

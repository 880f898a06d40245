//! The scripted model over raw HTTP/1.1, as a client no one here wrote would see it: a mismatched or
//! extra request is answered 500 and recorded, split UTF-8 really is split on the wire, and a client that
//! hangs up on a hanging answer is counted.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_fake_llm::{Catalog, Expect, FakeLlm, Format, Quirk, Reply, Script, Step};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one chat request and returns the raw response bytes (the server closes after it).
async fn post(fake: &FakeLlm, body: &str) -> Vec<u8> {
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    response
}

/// The data of each chunk of a chunked HTTP/1.1 body.
fn chunks(response: &[u8]) -> Vec<Vec<u8>> {
    let start = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut rest = &response[start..];
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let data = &rest[line_end + 2..line_end + 2 + size];
        out.push(data.to_vec());
        rest = &rest[line_end + 2 + size + 2..];
    }
}

const STREAM_BODY: &str = r#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;

#[tokio::test]
async fn requests_off_script_are_answered_500_and_recorded() {
    let fake = FakeLlm::start().await.unwrap();
    fake.expect([Step::new(
        Expect::any().format(Format::Anthropic),
        Script::Reply(Reply::text(["never"])),
    )]);
    let response = String::from_utf8(post(&fake, STREAM_BODY).await).unwrap();
    assert!(response.starts_with("HTTP/1.1 500"), "{response}");
    assert!(
        response.contains("does not match the next scripted step"),
        "{response}"
    );
    let problems = fake.verify().unwrap_err().problems;
    assert_eq!(
        problems.len(),
        2,
        "the mismatch and the unused step: {problems:?}"
    );
    assert_eq!(fake.requests().len(), 1, "the request is recorded all the same");
}

#[tokio::test]
async fn split_utf8_is_cut_inside_a_character_on_the_wire() {
    let fake = FakeLlm::start().await.unwrap();
    let reply = Reply::text(["ça va"]).with_quirk(Quirk::SplitUtf8);
    fake.expect([Step::any(Script::Reply(reply))]);
    let response = post(&fake, STREAM_BODY).await;
    let chunks = chunks(&response);
    let cut = chunks.iter().any(|c| c.last() == Some(&0xC3));
    assert!(cut, "one chunk ends with the first byte of 'ç'");
    let joined: Vec<u8> = chunks.concat();
    assert!(
        String::from_utf8(joined).unwrap().contains("ça va"),
        "the halves join up again"
    );
    fake.verify().unwrap();
}

#[tokio::test]
async fn a_client_hanging_up_on_a_hanging_answer_is_a_disconnect() {
    let fake = FakeLlm::start().await.unwrap();
    fake.expect([Step::any(Script::HangUntilDisconnect)]);
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{STREAM_BODY}",
        STREAM_BODY.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    assert_eq!(fake.disconnects(), 0);
    drop(stream);
    tokio::time::timeout(std::time::Duration::from_secs(20), fake.wait_for_disconnects(1))
        .await
        .expect("the server noticed the client leave");
    fake.verify().unwrap();
}

/// Sends one GET with `headers` (each `name: value\r\n`) and returns the raw response.
async fn get(fake: &FakeLlm, path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(fake.addr()).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8(response).unwrap()
}

#[tokio::test]
async fn model_lookups_answer_both_formats_and_are_no_chat_requests() {
    let fake = FakeLlm::start().await.unwrap();
    // A scripted server: a lookup taking a step would leave it unused, or be answered 500.
    fake.expect([Step::new(Expect::any(), Script::Reply(Reply::text(["hi"])))]);
    fake.script("queued-model", [Script::Reply(Reply::text(["queued"]))]);
    const ANTHROPIC: &str = "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n";
    const OPENAI: &str = "authorization: Bearer k\r\n";
    let any = Catalog::AnyModel;
    let only = Catalog::Only(vec!["m1".into(), "org/m2".into()]);
    let cases = [
        (&any, "/v1/models/whatever", OPENAI, "200", r#""object":"model""#),
        (&any, "/v1/models/whatever", ANTHROPIC, "200", r#""type":"model""#),
        (
            &any,
            "/v1/models",
            OPENAI,
            "200",
            r#""data":[{"created":1700000000,"id":"queued-model""#,
        ),
        (&only, "/v1/models/m1", OPENAI, "200", r#""id":"m1""#),
        (&only, "/v1/models/org%2Fm2", ANTHROPIC, "200", r#""id":"org/m2""#),
        (&only, "/models/m3", OPENAI, "404", r#""type":"not_found_error""#),
        (&only, "/v1/models/m3", ANTHROPIC, "404", r#"{"error":{"message""#),
        (&only, "/v1/models", ANTHROPIC, "200", r#""last_id":"org/m2""#),
        (
            &Catalog::Status(401),
            "/v1/models/m1",
            OPENAI,
            "401",
            "Incorrect API key",
        ),
        (
            &Catalog::Status(401),
            "/v1/models",
            ANTHROPIC,
            "401",
            r#""type":"authentication_error""#,
        ),
    ];
    for (catalog, path, headers, status, body) in cases {
        fake.set_catalog(catalog.clone());
        let response = get(&fake, path, headers).await;
        let case = format!("{catalog:?} GET {path} {headers:?}");
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status}")),
            "{case}: {response}"
        );
        assert!(response.contains(body), "{case}: {response}");
    }
    assert!(fake.requests().is_empty(), "lookups are no chat requests");
    assert_eq!(fake.model_lookups().len(), cases.len());
    assert_eq!(fake.steps_left(), 1, "no lookup took the scripted step");
}

//! Each wire format, streamed and collected, text and tool calls, and the exact requests sent.

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, drain, rig, text_of};
use auren_fake_llm::{Reply, Script};
use auren_gateway::{
    ChatRequest, FinishReason, Message, SchemaAdherence, StreamEvent, ToolCall, ToolDefinition, Usage,
};
use serde_json::json;

/// (route, model, path the server saw)
const FORMATS: [(&str, &str, &str); 3] = [
    ("openai:gpt-4.1", "gpt-4.1", "/v1/chat/completions"),
    ("anthropic:claude-sonnet-4-5", "claude-sonnet-4-5", "/v1/messages"),
    ("local:llama3.1", "llama3.1", "/v1/chat/completions"),
];

#[tokio::test]
async fn streams_text_with_usage_in_each_format() {
    for (route, model, path) in FORMATS {
        let rig = rig().await;
        rig.fake.script(
            model,
            [Script::Reply(
                Reply::text(["Your ", "RMSSD ", "is up."]).with_usage(21, 3),
            )],
        );
        let request = ChatRequest {
            messages: vec![Message::system("Be brief."), Message::user("How is my HRV?")],
            temperature: Some(0.25),
            stop: vec!["END".into()],
            ..ChatRequest::default()
        };
        let (events, error) = drain(&rig.gateway, route, request).await;
        assert!(error.is_none(), "{route}: {error:?}");
        assert_eq!(text_of(&events), "Your RMSSD is up.", "{route}");
        let deltas = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::TextDelta { .. }))
            .count();
        assert_eq!(deltas, 3, "{route}: one event per chunk, as they arrive");
        let n = events.len();
        assert_eq!(
            events[n - 2],
            StreamEvent::Usage {
                usage: Usage {
                    input_tokens: 21,
                    cached_input_tokens: 0,
                    output_tokens: 3,
                    estimated: false
                }
            },
            "{route}"
        );
        assert_eq!(
            events[n - 1],
            StreamEvent::Finish {
                reason: FinishReason::Stop
            },
            "{route}"
        );

        let requests = rig.fake.requests();
        assert_eq!(requests.len(), 1, "{route}");
        let sent = &requests[0];
        assert_eq!(sent.path, path, "{route}");
        assert_eq!(sent.body["stream"], json!(true), "{route}");
        assert_eq!(sent.body["model"], json!(model), "{route}");
        assert_eq!(sent.body["temperature"], json!(0.25), "{route}");
        match route.split(':').next() {
            Some("openai") => {
                assert_eq!(
                    sent.header("authorization"),
                    Some(format!("Bearer {OPENAI_KEY}").as_str())
                );
                assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
                assert_eq!(sent.body["max_completion_tokens"], json!(100));
                assert_eq!(
                    sent.body["messages"][0],
                    json!({"role": "system", "content": "Be brief."})
                );
                assert_eq!(sent.body["stop"], json!(["END"]));
            }
            Some("anthropic") => {
                assert_eq!(sent.header("x-api-key"), Some(ANTHROPIC_KEY));
                assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(sent.header("authorization"), None);
                assert_eq!(sent.body["system"], json!("Be brief."));
                assert_eq!(sent.body["max_tokens"], json!(100));
                assert_eq!(sent.body["stop_sequences"], json!(["END"]));
                assert_eq!(
                    sent.body["messages"],
                    json!([{"role": "user", "content": [{"type": "text", "text": "How is my HRV?"}]}])
                );
            }
            _ => {
                assert_eq!(sent.header("authorization"), None, "a local server gets no key");
                assert_eq!(sent.body["max_tokens"], json!(100));
            }
        }
    }
}

#[tokio::test]
async fn collected_answers_in_each_format() {
    for (route, model, _) in FORMATS {
        let rig = rig().await;
        rig.fake.script(
            model,
            [Script::Reply(Reply::text(["Rest ", "today."]).with_usage(30, 2))],
        );
        let response = rig
            .gateway
            .chat(route, ChatRequest::user("Train or rest?"))
            .await
            .expect("answer");
        assert_eq!(response.text, "Rest today.", "{route}");
        assert_eq!(response.finish_reason, FinishReason::Stop);
        assert_eq!(
            (response.usage.input_tokens, response.usage.output_tokens),
            (30, 2)
        );
        assert_eq!(format!("{}:{}", response.provider, response.model), route);
    }
}

#[tokio::test]
async fn streamed_tool_calls_in_each_format() {
    for (route, model, _) in FORMATS {
        let rig = rig().await;
        let pieces = ["{\"da", "ys\": ", "7, \"metric\": \"rm", "ssd\"}"];
        rig.fake.script(
            model,
            [Script::Reply(Reply::tool_call("call_7", "hrv_trend", pieces))],
        );
        let request = ChatRequest {
            messages: vec![Message::user("Trend of my RMSSD this week?")],
            tools: vec![ToolDefinition {
                name: "hrv_trend".into(),
                description: "The daily trend of an HRV metric".into(),
                parameters: json!({"type": "object", "properties": {"days": {"type": "integer"}, "metric": {"type": "string"}}}),
                adherence: SchemaAdherence::BestEffort,
            }],
            ..ChatRequest::default()
        };
        let (events, error) = drain(&rig.gateway, route, request).await;
        assert!(error.is_none(), "{route}: {error:?}");
        let deltas: Vec<&StreamEvent> = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::ToolCallDelta { .. }))
            .collect();
        assert_eq!(
            deltas.first(),
            Some(&&StreamEvent::ToolCallDelta {
                index: 0,
                id: Some("call_7".into()),
                name: Some("hrv_trend".into()),
                arguments: String::new()
            }),
            "{route}"
        );
        let argument_pieces: Vec<&str> = deltas
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ToolCallDelta { arguments, .. } if !arguments.is_empty() => {
                    Some(arguments.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            argument_pieces, pieces,
            "{route}: argument pieces pass through as they arrive"
        );
        let call = ToolCall {
            id: "call_7".into(),
            name: "hrv_trend".into(),
            arguments: pieces.concat(),
        };
        assert!(
            events.contains(&StreamEvent::ToolCall {
                index: 0,
                call: call.clone()
            }),
            "{route}"
        );
        assert_eq!(
            call.arguments_json().expect("valid JSON"),
            json!({"days": 7, "metric": "rmssd"})
        );
        assert_eq!(
            events.last(),
            Some(&StreamEvent::Finish {
                reason: FinishReason::ToolCalls
            }),
            "{route}"
        );

        let sent = &rig.fake.requests()[0];
        let tool = if route.starts_with("anthropic") {
            &sent.body["tools"][0]["input_schema"]
        } else {
            &sent.body["tools"][0]["function"]["parameters"]
        };
        assert_eq!(tool["properties"]["days"]["type"], json!("integer"), "{route}");
    }
}

/// `strict: true` is OpenAI's alone and only for a schema its caller says qualifies: a compatible server
/// (vLLM answers 400 to the unknown field) and Anthropic never get it, and best effort sends nothing.
#[tokio::test]
async fn strict_is_sent_to_openai_only_for_a_qualifying_schema() {
    let closed = json!({
        "type": "object",
        "properties": {"days": {"type": ["integer", "null"]}},
        "required": ["days"],
        "additionalProperties": false
    });
    let table = [
        ("openai:gpt-4.1", SchemaAdherence::Strict, Some(json!(true))),
        ("openai:gpt-4.1", SchemaAdherence::BestEffort, None),
        ("local:llama3.1", SchemaAdherence::Strict, None),
        ("anthropic:claude-sonnet-4-5", SchemaAdherence::Strict, None),
    ];
    for (route, adherence, expected) in table {
        let rig = rig().await;
        let request = ChatRequest {
            messages: vec![Message::user("Trend?")],
            tools: vec![ToolDefinition {
                name: "hrv_trend".into(),
                description: "The daily trend".into(),
                parameters: closed.clone(),
                adherence,
            }],
            ..ChatRequest::default()
        };
        rig.gateway.chat(route, request).await.expect("answer");
        let tool = &rig.fake.requests()[0].body["tools"][0];
        let (strict, parameters) = if route.starts_with("anthropic") {
            (tool.get("strict"), &tool["input_schema"])
        } else {
            (tool["function"].get("strict"), &tool["function"]["parameters"])
        };
        assert_eq!(strict, expected.as_ref(), "{route} {adherence:?}: {tool}");
        assert_eq!(parameters, &closed, "{route}: the schema travels unchanged");
    }
}

#[tokio::test]
async fn tool_results_travel_in_each_formats_shape() {
    let conversation = vec![
        Message::user("Trend?"),
        Message::Assistant {
            content: String::new(),
            tool_calls: vec![ToolCall {
                id: "call_1".into(),
                name: "hrv_trend".into(),
                arguments: "{\"days\":7}".into(),
            }],
        },
        Message::tool_result("call_1", "RMSSD 42 ms, rising"),
    ];
    let rig = rig().await;
    for route in ["openai:gpt-4.1", "anthropic:claude-sonnet-4-5"] {
        let request = ChatRequest {
            messages: conversation.clone(),
            ..ChatRequest::default()
        };
        rig.gateway.chat(route, request).await.expect("answer");
    }
    let requests = rig.fake.requests();
    assert_eq!(
        requests[0].body["messages"],
        json!([
            {"role": "user", "content": "Trend?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "hrv_trend", "arguments": "{\"days\":7}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "RMSSD 42 ms, rising"}
        ])
    );
    assert_eq!(
        requests[1].body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Trend?"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "hrv_trend", "input": {"days": 7}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "RMSSD 42 ms, rising"}]}
        ])
    );
}

#[tokio::test]
async fn missing_usage_is_estimated_with_the_tokenizer() {
    for (route, model, _) in FORMATS {
        let rig = rig().await;
        rig.fake.script(
            model,
            [Script::Reply(Reply::text(["hello", " world"]).without_usage())],
        );
        let response = rig
            .gateway
            .chat(route, ChatRequest::user("hello world"))
            .await
            .expect("answer");
        assert!(response.usage.estimated, "{route}");
        assert_eq!(
            response.usage.output_tokens,
            auren_gateway::tokens::count_text("hello world"),
            "{route}"
        );
        assert!(response.usage.input_tokens > 0, "{route}");
        assert!(
            rig.ledger.records()[0].estimated,
            "{route}: the ledger marks it too"
        );
    }
}

#[tokio::test]
async fn ollama_is_detected_and_its_models_listed() {
    let rig = rig().await;
    rig.fake
        .set_ollama_models(["qwen2.5:7b".to_owned(), "llama3.1:latest".to_owned()]);
    let models = auren_gateway::ollama::detect_ollama(&rig.fake.url(), std::time::Duration::from_secs(2))
        .await
        .expect("detected");
    assert_eq!(models, ["llama3.1:latest", "qwen2.5:7b"]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let nobody = format!("http://{closed}");
    let error = auren_gateway::ollama::detect_ollama(&nobody, std::time::Duration::from_secs(2))
        .await
        .expect_err("nobody there");
    assert!(
        error.to_string().starts_with("no Ollama server answered at"),
        "{error}"
    );
}

#[tokio::test]
async fn a_model_lookup_asks_without_a_completion_in_each_format() {
    use auren_fake_llm::{Catalog, LlamaCppServer};
    use auren_gateway::{AttemptFailure, ModelCheck, Route};
    let only = |models: &[&str]| Catalog::Only(models.iter().map(|m| (*m).to_owned()).collect());
    let llama = |server, served: &str| Catalog::LlamaCpp {
        server,
        served: served.to_owned(),
    };
    let any_name = |served: &str| {
        Ok(ModelCheck::AnyNameServes {
            served: served.to_owned(),
        })
    };
    const GGUF_PATH: &str = "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    // (route, what the fake has, what the check finds (Err: the failure's status), the paths asked)
    let cases = [
        (
            "openai:gpt-4.1",
            Catalog::AnyModel,
            Ok(ModelCheck::Known),
            vec!["/v1/models/gpt-4.1"],
        ),
        (
            "openai:gpt-4.1",
            only(&["gpt-4o"]),
            Err(404),
            vec!["/v1/models/gpt-4.1"],
        ),
        (
            "anthropic:claude-sonnet-4-5",
            Catalog::AnyModel,
            Ok(ModelCheck::Known),
            vec!["/v1/models/claude-sonnet-4-5"],
        ),
        (
            "anthropic:claude-sonnet-4-5",
            Catalog::Status(401),
            Err(401),
            vec!["/v1/models/claude-sonnet-4-5"],
        ),
        // A name with `/` goes as one path segment.
        (
            "local:org/m",
            only(&["org/m"]),
            Ok(ModelCheck::Known),
            vec!["/v1/models/org%2Fm"],
        ),
        // Not found by the one-model route: a compatible server's list decides.
        (
            "local:llama3.1",
            only(&["qwen3"]),
            Err(404),
            vec!["/v1/models/llama3.1", "/v1/models"],
        ),
        (
            "local:llama3.1",
            Catalog::Status(403),
            Err(403),
            vec!["/v1/models/llama3.1"],
        ),
        // A llama.cpp server started without --alias lists its file and answers any name with it.
        (
            "local:smollm2",
            llama(LlamaCppServer::Python, GGUF_PATH),
            any_name(GGUF_PATH),
            vec!["/v1/models/smollm2", "/v1/models"],
        ),
        (
            "local:smollm2",
            llama(LlamaCppServer::Native, "SmolLM2-135M-Instruct.Q4_1.gguf"),
            any_name("SmolLM2-135M-Instruct.Q4_1.gguf"),
            vec!["/v1/models/smollm2", "/v1/models"],
        ),
        // OpenAI itself is never taken for one: its 404 stands.
        (
            "openai:gpt-4.1",
            llama(LlamaCppServer::Native, "x.gguf"),
            Err(404),
            vec!["/v1/models/gpt-4.1"],
        ),
    ];
    for (route, catalog, expected, paths) in cases {
        let rig = rig().await;
        rig.fake.set_catalog(catalog.clone());
        let case = format!("{route} answering {catalog:?}");
        let checked = rig.gateway.check(&Route::parse(route).unwrap()).await;
        match (&expected, &checked) {
            (Ok(expected), Ok(found)) if expected == found => {}
            (Err(expected), Err(AttemptFailure::Status { status, .. })) if status == expected => {}
            _ => panic!("{case}: expected {expected:?}, got {checked:?}"),
        }
        let asked: Vec<String> = rig.fake.model_lookups().into_iter().map(|r| r.path).collect();
        assert_eq!(asked, paths, "{case}");
        for lookup in rig.fake.model_lookups() {
            match route.split(':').next() {
                Some("anthropic") => {
                    assert_eq!(lookup.header("x-api-key"), Some(ANTHROPIC_KEY), "{case}");
                    assert_eq!(lookup.header("anthropic-version"), Some("2023-06-01"), "{case}");
                }
                Some("openai") => {
                    let bearer = format!("Bearer {OPENAI_KEY}");
                    assert_eq!(lookup.header("authorization"), Some(bearer.as_str()), "{case}");
                }
                _ => assert_eq!(lookup.header("authorization"), None, "{case}"),
            }
        }
        assert!(rig.fake.requests().is_empty(), "{case}: a chat request was sent");
        assert!(rig.ledger.records().is_empty(), "{case}: the lookup was booked");
    }
}

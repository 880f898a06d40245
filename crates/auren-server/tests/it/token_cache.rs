//! The per-process cache of opened access tokens, through the server: a token the server has already
//! opened (and so answers from its cache) is still refused once its device is signed out or removed, and
//! once it expires; a tampered copy of a cached token is still refused.

use crate::support::TestServer;
use auren_protocol::auth::SignedIn;
use reqwest::StatusCode;
use serde_json::json;

/// Pulls as `token` from cursor 0: the status and the error code, if any.
async fn pull(server: &TestServer, token: &str) -> (StatusCode, Option<String>) {
    let (status, answer) = server
        .post(
            "/v1/sync/pull",
            Some(token),
            &json!({"protocol_version": 1, "cursor": 0}),
        )
        .await;
    (status, answer["code"].as_str().map(str::to_owned))
}

/// Uses `device`'s token a few times, so the server answers it from its cache from then on.
async fn warm(server: &TestServer, device: &SignedIn) {
    for _ in 0..3 {
        assert_eq!(
            pull(server, &device.tokens.access_token).await,
            (StatusCode::OK, None)
        );
    }
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_device_signs_out_or_is_removed_and_once_it_expires() {
    let server = TestServer::start().await;
    let laptop = server.account("cache@example.com").await;
    let phone = server.login("cache@example.com", "phone").await;
    let tablet = server.login("cache@example.com", "tablet").await;
    server.push_recording(&laptop, 20).await;
    for device in [&laptop, &phone, &tablet] {
        warm(&server, device).await;
    }

    // A tampered copy of a cached token is another token: decrypted, and refused.
    let mut tampered = laptop.tokens.access_token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        pull(&server, &tampered).await,
        (StatusCode::UNAUTHORIZED, Some("unauthenticated".to_owned()))
    );

    let (status, _) = server.sign_out(&phone).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = server.remove_device(&tablet, &laptop).await;
    assert!(status.is_success(), "{status} {answer}");
    // (device, expected pull answer) after the sign-out and the removal.
    let cases = [
        (&phone, (StatusCode::UNAUTHORIZED, Some("token_revoked"))),
        (&tablet, (StatusCode::UNAUTHORIZED, Some("token_revoked"))),
        (&laptop, (StatusCode::OK, None)),
    ];
    for (device, (status, code)) in cases {
        assert_eq!(
            pull(&server, &device.tokens.access_token).await,
            (status, code.map(str::to_owned)),
            "{}",
            device.device_id.0
        );
    }

    // The server's own cache (the state's `AccessTokens` is the one requests use), at and after the token's
    // expiry: refused as expired although it was opened many times before.
    let expires = laptop.tokens.access_expires_at_ms;
    for now in [expires, expires + 1, expires + 86_400_000] {
        assert_eq!(
            server.state.tokens.verify(&laptop.tokens.access_token, now),
            Err(auren_server::auth::tokens::TokenRejection::Expired),
            "at {now}"
        );
    }
    assert!(
        server
            .state
            .tokens
            .verify(&laptop.tokens.access_token, expires - 1)
            .is_ok()
    );
}

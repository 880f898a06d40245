//! auren-sync over real HTTPS: the real server behind TLS on 127.0.0.1 with a private certificate authority (a
//! coach's self-hosted server). Once the authority is trusted the way a person trusts it, signing in and a sync
//! round go through a TLS 1.3 handshake made by `Api::new`'s client (ring installed as the provider); an
//! untrusted certificate is refused with an error that names the problem.

use crate::support::{PASSWORD, TestServer};
use crate::tls_front::{
    Handshake, TestAuthority, TlsFront, assert_child_succeeded, child_url, run_trusting_child,
};
use auren_store::Store;
use auren_sync::{SignIn, SyncClient, SyncConfig, SyncError, TokenPlace, TokenVault};
use rustls::ProtocolVersion;
use std::path::Path;

const EMAIL: &str = "coached@example.org";

/// A new database in `dir`, signed in to `server` as a new account.
async fn sign_in(dir: &Path, server: &str) -> Result<SyncClient, SyncError> {
    let store = Store::open(&dir.join("tls.db")).await.unwrap();
    let vault = TokenVault::new(TokenPlace::File(dir.join("tls.tokens")));
    SyncClient::sign_in(
        &store,
        vault,
        server,
        (EMAIL, PASSWORD, "tls"),
        SignIn::Create,
        SyncConfig::default(),
    )
    .await
}

/// The server's address without its scheme (the front forwards to it).
fn plain_addr(server: &TestServer) -> std::net::SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_hosted_server_behind_a_private_authority_is_reached_over_tls13_once_trusted() {
    if let Some(url) = child_url() {
        // The child: SSL_CERT_DIR names the system's roots and the authority's directory.
        let dir = tempfile::tempdir().unwrap();
        let client = sign_in(dir.path(), &url).await.unwrap();
        let report = client.sync_once().await.unwrap();
        assert_eq!(report.parked, 0, "{report:?}");
        return;
    }
    let server = TestServer::start().await;
    let authority = TestAuthority::new();
    let front = TlsFront::start(&authority, plain_addr(&server)).await;
    let dir = tempfile::tempdir().unwrap();
    authority.write_into(dir.path());

    let child = run_trusting_child(
        "tls::a_self_hosted_server_behind_a_private_authority_is_reached_over_tls13_once_trusted",
        dir.path(),
        &front.url(),
    )
    .await;

    assert_child_succeeded(&child);
    let seen = front.handshakes(1).await;
    assert!(
        seen.iter()
            .all(|h| *h == Handshake::Completed(ProtocolVersion::TLSv1_3)),
        "{seen:?}"
    );
    let pool = sqlx::PgPool::connect(&server.database).await.unwrap();
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
        .bind(EMAIL)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(accounts, 1, "the account was made through the front");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_with_an_error_naming_it() {
    let server = TestServer::start().await;
    let front = TlsFront::start(&TestAuthority::new(), plain_addr(&server)).await;
    let dir = tempfile::tempdir().unwrap();

    let error = sign_in(dir.path(), &front.url()).await.err().unwrap();

    assert!(error.is_offline(), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("invalid peer certificate: UnknownIssuer"),
        "the message names the problem: {message}"
    );
    let seen = front.handshakes(1).await;
    assert!(
        matches!(&seen[..], [Handshake::Failed(why)] if why.contains("UnknownCA")),
        "the client refused the handshake with an unknown-CA alert: {seen:?}"
    );
}

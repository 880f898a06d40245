//! A real HTTPS front for the plain-HTTP test servers: a certificate authority made at test time (rcgen), a
//! server certificate it signs for the IP 127.0.0.1, and a tokio-rustls acceptor on loopback that forwards each
//! connection, once its handshake is done, to the plain server behind it. The real clients (the gateway's,
//! auren-sync's) then make the handshake a provider or a self-hosted sync server would make them make.
//!
//! A client trusts the authority the way a person would: our clients take their roots from the platform
//! (reqwest 0.13 with rustls-platform-verifier; on Linux rustls-native-certs, which reads `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` instead of the system store when either is set). The environment is read when a client is
//! built and setting it in a multi-threaded test process would need `unsafe`, so the trusting client runs in a
//! child: this test binary re-run with only that test and the variable set (as auren-strap's BLE tests do).
//!
//! Shared by auren-gateway's and auren-sync's tests (auren-sync includes this file by `#[path]`).

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ProtocolVersion, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// Set in the child: the HTTPS URL its client must reach.
pub const CHILD_URL_VAR: &str = "AUREN_TLS_TEST_URL";

/// The URL to reach when this process is the trusting child, `None` in the test itself.
pub fn child_url() -> Option<String> {
    std::env::var(CHILD_URL_VAR).ok()
}

/// A certificate authority made for one test and a server certificate it signed for 127.0.0.1.
pub struct TestAuthority {
    /// The authority's certificate (PEM): what a coach hands out and a person adds to their trusted roots.
    pub ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivatePkcs8KeyDer<'static>,
}

impl TestAuthority {
    pub fn new() -> Self {
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "Auren test coach CA");
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca, rcgen::KeyPair::generate().unwrap()).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        // An IP address SAN: the clients connect to 127.0.0.1 by address, never by name.
        let mut server = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(rcgen::DnType::CommonName, "127.0.0.1");
        let server = server.signed_by(&key, &ca).unwrap();
        Self {
            ca_pem: ca.pem(),
            server_chain: vec![server.der().clone(), ca.der().clone()],
            server_key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    /// Writes the authority's certificate into `dir` (a directory a person would name in `SSL_CERT_DIR`).
    pub fn write_into(&self, dir: &Path) {
        std::fs::write(dir.join("auren-coach-ca.pem"), &self.ca_pem).unwrap();
    }
}

/// How one connection's handshake ended, as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handshake {
    Completed(ProtocolVersion),
    Failed(String),
}

/// The HTTPS front: accepts TLS on 127.0.0.1 and forwards the decrypted bytes to `backend`.
pub struct TlsFront {
    pub addr: SocketAddr,
    handshakes: watch::Receiver<Vec<Handshake>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    /// Serves TLS 1.2 and 1.3 (rustls' safe defaults, ring), so the version a handshake ends with is the
    /// client's choice, not forced by the server.
    pub async fn start(authority: &TestAuthority, backend: SocketAddr) -> Self {
        let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                authority.server_chain.clone(),
                PrivateKeyDer::Pkcs8(authority.server_key.clone_key()),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (seen, handshakes) = watch::channel(Vec::new());
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(mut tls) => {
                            let version = tls.get_ref().1.protocol_version();
                            seen.send_modify(|all| {
                                all.push(version.map_or_else(
                                    || Handshake::Failed("no protocol version".into()),
                                    Handshake::Completed,
                                ))
                            });
                            if let Ok(mut plain) = TcpStream::connect(backend).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                            }
                        }
                        Err(error) => seen.send_modify(|all| all.push(Handshake::Failed(error.to_string()))),
                    }
                });
            }
        });
        Self {
            addr,
            handshakes,
            task,
        }
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The handshakes so far, once there are at least `count` (a failed one is recorded after the client has
    /// already seen its error, so tests wait for it rather than read at once).
    pub async fn handshakes(&self, count: usize) -> Vec<Handshake> {
        let mut seen = self.handshakes.clone();
        tokio::time::timeout(Duration::from_secs(60), seen.wait_for(|all| all.len() >= count))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "fewer than {count} handshakes within 60 s: {:?}",
                    self.handshakes.borrow()
                )
            })
            .unwrap()
            .clone()
    }
}

/// Re-runs the test `test_path` of this binary as the child whose client trusts the authority in `ca_dir`
/// through `SSL_CERT_DIR` (the system's directory first, as a person without root would set it), reaching
/// `url`; returns how it ended.
pub async fn run_trusting_child(test_path: &str, ca_dir: &Path, url: &str) -> Output {
    let dirs = std::env::join_paths([Path::new("/etc/ssl/certs"), ca_dir]).unwrap();
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([test_path, "--exact", "--nocapture", "--test-threads=1"])
        .env("SSL_CERT_DIR", dirs)
        .env_remove("SSL_CERT_FILE")
        .env(CHILD_URL_VAR, url)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(300), child)
        .await
        .expect("the trusting child finishes within 300 s")
        .unwrap()
}

/// Fails the test with the child's output unless it ran exactly its one test and that test passed (a path
/// that matched nothing would run no test and exit 0).
pub fn assert_child_succeeded(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the trusting child failed ({}):\n{}{}",
        output.status,
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
}

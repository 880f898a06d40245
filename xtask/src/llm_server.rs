//! A real OpenAI-compatible model server for the tests: llama-cpp-python's server with SmolLM2-135M-Instruct
//! on a free loopback port, started before `cargo test` and stopped (killed and reaped) when dropped.
//!
//! The tests find it through [`URL_VAR`] (the base URL, `http://127.0.0.1:PORT/v1`) and the model alias
//! [`MODEL_ALIAS`]. Its output goes to `<target>/llm-server.log`, named when it fails to start.

use crate::pyenv::PythonEnv;
use crate::target_dir;
use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable the tests read the server's base URL from.
pub const URL_VAR: &str = "AUREN_TEST_LLM_URL";
/// The environment variable naming the venv's Python for the tests (the MCP client test).
pub const PYTHON_VAR: &str = "AUREN_TEST_PYTHON";
/// The model name the server answers to.
pub const MODEL_ALIAS: &str = "smollm2";

/// Loading a 100 MB model takes a few seconds; past this the server is not coming up.
const START_TIMEOUT: Duration = Duration::from_secs(120);
/// How often readiness is probed while the server loads.
const PROBE_EVERY: Duration = Duration::from_millis(250);

/// The running server; dropping it stops it.
pub struct LlmServer {
    child: Child,
    /// `http://127.0.0.1:PORT/v1`.
    pub url: String,
    pub log: PathBuf,
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        // Killed by its own pid (the child we started), then reaped so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server and waits until `GET /v1/models` answers 200.
pub fn start(env: &PythonEnv) -> anyhow::Result<LlmServer> {
    let port = free_port()?;
    let log = target_dir().join("llm-server.log");
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let out = std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone()?;
    eprintln!("==> local model server (SmolLM2-135M via llama.cpp) on 127.0.0.1:{port}");
    let child = Command::new(&env.python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&env.model)
        .args(["--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        // Room for the coach's system prompt, tools and a short answer; one thread per core here.
        .args(["--n_ctx", "4096", "--n_threads", "2"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .context("cannot start python -m llama_cpp.server")?;
    let mut server = LlmServer {
        child,
        url: format!("http://127.0.0.1:{port}/v1"),
        log,
    };
    wait_ready(&mut server, port)?;
    Ok(server)
}

fn free_port() -> anyhow::Result<u16> {
    // The OS hands out a free port; it is released at once for the server to bind.
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn wait_ready(server: &mut LlmServer, port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the model server exited ({status}) before answering; see {}",
                server.log.display()
            );
        }
        if models_answer(port) {
            eprintln!("    ready in {:.1?}", started.elapsed());
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "the model server did not answer /v1/models within {} s; see {}",
                START_TIMEOUT.as_secs(),
                server.log.display()
            );
        }
        std::thread::sleep(PROBE_EVERY);
    }
}

/// Whether `GET /v1/models` answers 200 (a bare HTTP/1.0 request: xtask has no HTTP client).
fn models_answer(port: u16) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(b"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && head.ends_with(b"200"))
    };
    probe().unwrap_or(false)
}

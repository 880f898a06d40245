//! A private tansu broker for one bench run (`#[path]`-included by the server bench's examples): a fresh
//! store each time, so a run's figures do not depend on what earlier runs left on a shared broker (tansu keeps
//! every message; behind a store grown to ~600 MB by a few whole runs the relay fell minutes behind).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A tansu broker of this run on a free port, its data in a temporary folder; killed at the end.
pub struct Broker {
    port: u16,
    child: Child,
    _data: tempfile::TempDir,
}

impl Broker {
    pub async fn start(binary: &str) -> Res<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let data = tempfile::tempdir()?;
        let log = std::fs::File::create(data.path().join("broker.log"))?;
        let listener = format!("tcp://127.0.0.1:{port}");
        // `sqlite:///` + an absolute path: tansu drops the URL path's first slash.
        let storage = format!("sqlite:///{}", data.path().join("tansu.db").display());
        let child = Command::new(binary)
            .args([
                "broker",
                "--listener-url",
                &listener,
                "--advertised-listener-url",
                &listener,
            ])
            .args(["--storage-engine", &storage])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting the broker {binary}: {e}"))?;
        let broker = Self {
            port,
            child,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(broker.address()).await.is_err() {
            if Instant::now() > deadline {
                return Err(format!("the broker did not listen on {}", broker.address()).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(broker)
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

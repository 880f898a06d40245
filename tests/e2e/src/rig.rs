//! One app window under WebDriver: starts tauri-driver (which starts WebKitWebDriver, which starts the
//! app), opens the session under a timeout, and kills the whole process tree on drop.

use crate::procs;
use anyhow::{Context, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::ffi::OsString;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the rig waits for an element or a condition unless a step says otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(20);
/// Without a display the new-session request never answers; with one, the app is up in seconds.
const NEW_SESSION_TIMEOUT: Duration = Duration::from_secs(60);
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(100);
/// The longest any one step may take; the slowest (waiting for the fatigue alert) needs about two minutes
/// at most.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(150);

/// Flickers one nearly transparent pixel for ~300 frames, then removes it (see [`Rig::screenshot`]).
const REPAINT_NUDGE: &str = "\
    const d = document.createElement('div');\
    d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';\
    document.body.appendChild(d);\
    let n = 0;\
    const tick = () => {\
      d.style.background = n++ % 2 ? 'rgba(0,0,0,0.01)' : 'rgba(0,0,0,0.02)';\
      if (n < 300) requestAnimationFrame(tick); else d.remove();\
    };\
    requestAnimationFrame(tick);";

/// The CSS selector of the element with `data-testid="<id>"`.
pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// tauri-driver and everything under it; killed (the whole tree) when dropped.
struct DriverProcess {
    child: Child,
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        procs::kill_tree(self.child.id());
        let _ = self.child.wait();
    }
}

/// The app under WebDriver. Drop kills tauri-driver, WebKitWebDriver, the app and WebKit's processes.
pub struct Rig {
    // Declared before `driver` so the client's connection is closed before the processes are killed.
    client: Client,
    driver: DriverProcess,
    name: String,
    app_name: String,
}

impl Rig {
    /// Starts `app` through tauri-driver with `env` added to its environment (tauri-driver passes its
    /// environment on to the app) and opens a WebDriver session. `name` names the screenshots and logs.
    pub async fn launch(app: &Path, env: &[(&str, OsString)], name: &str) -> anyhow::Result<Rig> {
        if !app.is_file() {
            bail!(
                "{} does not exist: build it first (`cargo build -p auren-app`, after `npm run build` in ui/)",
                app.display()
            );
        }
        let app = app
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", app.display()))?;
        let port = free_port(4444, None)?;
        let native_port = free_port(4445, Some(port))?;
        std::fs::create_dir_all(crate::log_dir())?;
        let log_path = crate::log_dir().join(format!("{name}-tauri-driver.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = Command::new(tauri_driver());
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group, so the whole tree can be killed without touching the test runner.
            .process_group(0);
        let child = command.spawn().context(
            "cannot start tauri-driver: install it with `cargo install tauri-driver --locked --version ^2`",
        )?;
        let mut driver = DriverProcess { child };
        wait_for_listener(&mut driver.child, port, &log_path).await?;

        let capabilities = serde_json::json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            bail!("capabilities must be a JSON object");
        };
        let url = format!("http://127.0.0.1:{port}");
        // rustls has two providers in this tree (fantoccini's hyper-rustls brings aws-lc-rs, the app's crates
        // ring), so it cannot pick one by itself: install ring, as the app's crates do.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ClientBuilder::rustls().context("cannot set up the WebDriver HTTP client")?;
        builder.capabilities(capabilities);
        let connect = builder.connect(&url);
        let client = tokio::time::timeout(NEW_SESSION_TIMEOUT, connect)
            .await
            .with_context(|| {
                format!(
                    "the WebDriver session did not open within {} s: is there a display (DISPLAY={:?})? \
                     see {}",
                    NEW_SESSION_TIMEOUT.as_secs(),
                    std::env::var("DISPLAY").unwrap_or_default(),
                    log_path.display()
                )
            })?
            .with_context(|| format!("cannot open a WebDriver session; see {}", log_path.display()))?;
        let app_name = app
            .file_name()
            .map(|n| n.to_string_lossy().chars().take(15).collect())
            .unwrap_or_default();
        Ok(Rig {
            client,
            driver,
            name: name.to_string(),
            app_name,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The pid of the app process (a grandchild of tauri-driver), once it runs.
    pub fn app_pid(&self) -> Option<u32> {
        procs::descendants(self.driver.child.id())
            .into_iter()
            .find(|p| p.name == self.app_name)
            .map(|p| p.pid)
    }

    /// Runs one step of a test under [`STEP_TIMEOUT`]; when it fails or hangs, saves a screenshot as
    /// `<target>/e2e-screenshots/<test>-<step>.png` and names it in the error.
    pub async fn step<T>(
        &self,
        step: &str,
        body: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let started = Instant::now();
        eprintln!("[{}] {step}", self.name);
        let outcome = match tokio::time::timeout(STEP_TIMEOUT, body).await {
            Ok(outcome) => outcome,
            // A WebDriver command can hang (the page's main thread busy, a driver stuck): without this
            // the whole test would only end at its own deadline, with no screenshot.
            Err(_) => Err(anyhow::anyhow!("hung for {} s", STEP_TIMEOUT.as_secs())),
        };
        match outcome {
            Ok(value) => {
                eprintln!(
                    "[{}] {step}: ok in {:.1} s",
                    self.name,
                    started.elapsed().as_secs_f64()
                );
                Ok(value)
            }
            Err(err) => {
                let shot = tokio::time::timeout(Duration::from_secs(15), self.screenshot(step)).await;
                let shot = match shot {
                    Ok(Ok(path)) => format!("screenshot: {}", path.display()),
                    Ok(Err(e)) => format!("no screenshot: {e:#}"),
                    Err(_) => "no screenshot: the driver did not answer within 15 s".to_string(),
                };
                Err(err.context(format!("step `{step}` of {} failed ({shot})", self.name)))
            }
        }
    }

    /// Saves a screenshot of the window as `<target>/e2e-screenshots/<test>-<step>.png`.
    pub async fn screenshot(&self, step: &str) -> anyhow::Result<PathBuf> {
        // WebKitGTK's automation takes the screenshot after the next presentation update, and a page that
        // paints nothing new never has one: the request would hang. A few seconds of a 1-pixel flicker
        // guarantee updates.
        self.client.execute(REPAINT_NUDGE, Vec::new()).await?;
        let png = self.client.screenshot().await?;
        let dir = crate::screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let safe: String = step
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{}-{safe}.png", self.name));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// The element with `data-testid="<id>"`, waiting up to [`DEFAULT_WAIT`] for it to appear.
    pub async fn find(&self, id: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(DEFAULT_WAIT)
            .every(POLL_EVERY)
            .for_element(Locator::Css(&testid(id)))
            .await
            .with_context(|| {
                format!(
                    "no element [data-testid={id}] within {} s",
                    DEFAULT_WAIT.as_secs()
                )
            })
    }

    /// Every element matching a CSS selector now (possibly none).
    pub async fn find_all(&self, css: &str) -> anyhow::Result<Vec<Element>> {
        Ok(self.client.find_all(Locator::Css(css)).await?)
    }

    /// Waits for the element with `data-testid="<id>"` and clicks it.
    pub async fn click(&self, id: &str) -> anyhow::Result<()> {
        self.find(id)
            .await?
            .click()
            .await
            .with_context(|| format!("cannot click [data-testid={id}]"))
    }

    /// Types `text` into `element` as keystrokes; newlines become the Enter key (WebDriver does not turn
    /// a "\n" into one).
    pub async fn type_text(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        let enter = char::from(fantoccini::key::Key::Enter).to_string();
        Ok(element.send_keys(&text.replace('\n', &enter)).await?)
    }

    /// The visible text of the element with `data-testid="<id>"`.
    pub async fn text(&self, id: &str) -> anyhow::Result<String> {
        Ok(self.find(id).await?.text().await?)
    }

    /// Asks `probe` until it returns `Some` or `within` has passed; the error names `what` and the last
    /// failure of the probe. Elements are found afresh on each try, so re-rendering does not break it.
    pub async fn poll<T, F, Fut>(&self, what: &str, within: Duration, mut probe: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        let deadline = Instant::now() + within;
        loop {
            let last = match probe().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => "not yet".to_string(),
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "{what} did not happen within {} s (last: {last})",
                    within.as_secs()
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Calls a Tauri command the way the UI does and returns its result; an error result fails.
    pub async fn invoke(&self, command: &str, args: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let script = "const [cmd, args, done] = arguments; \
            window.__TAURI_INTERNALS__.invoke(cmd, args) \
              .then((data) => done({ ok: data }), (e) => done({ error: String(e && e.message || JSON.stringify(e)) }));";
        let answer = self
            .client
            .execute_async(script, vec![command.into(), args])
            .await
            .with_context(|| format!("cannot call {command}"))?;
        match answer.get("ok") {
            Some(data) => Ok(data.clone()),
            None => bail!("{command} failed: {}", answer["error"]),
        }
    }

    /// Ends the WebDriver session (which closes the app), then kills whatever is left.
    pub async fn close(self) -> anyhow::Result<()> {
        let Rig { client, driver, .. } = self;
        let closed = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        drop(driver);
        match closed {
            Ok(result) => Ok(result?),
            Err(_) => bail!("the WebDriver session did not close within 10 s"),
        }
    }
}

/// tauri-driver from PATH, else from cargo's bin folder (where `cargo install` puts it).
fn tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("tauri-driver"))
            .find(|p| p.is_file())
    });
    on_path.unwrap_or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_default();
        cargo_home.join("bin/tauri-driver")
    })
}

/// `preferred` when nothing listens there (and it is not `taken`), else a port the kernel picks.
fn free_port(preferred: u16, taken: Option<u16>) -> anyhow::Result<u16> {
    let bind = |port: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, port)).and_then(|l| l.local_addr());
    if Some(preferred) != taken
        && let Ok(addr) = bind(preferred)
    {
        return Ok(addr.port());
    }
    loop {
        let port = bind(0).context("cannot find a free local port")?.port();
        if Some(port) != taken {
            return Ok(port);
        }
    }
}

/// Waits until tauri-driver accepts connections on `port`; fails early when it exits.
async fn wait_for_listener(child: &mut Child, port: u16, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + DRIVER_START_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!(
                "tauri-driver exited ({status}) before listening on {port}: see {}",
                log.display()
            );
        }
        if Instant::now() >= deadline {
            bail!(
                "tauri-driver did not listen on {port} within {} s: see {}",
                DRIVER_START_TIMEOUT.as_secs(),
                log.display()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_preferred_port_is_replaced_by_a_free_one() {
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let busy_port = busy.local_addr().unwrap().port();
        let got = free_port(busy_port, None).unwrap();
        assert_ne!(got, busy_port);
        let other = free_port(got, Some(got)).unwrap();
        assert_ne!(other, got);
    }

    #[test]
    fn testid_selectors_quote_the_id() {
        assert_eq!(testid("live-hr"), "[data-testid=\"live-hr\"]");
    }
}

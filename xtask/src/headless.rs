//! Running a program the way the end-to-end tests and the desktop benchmark need it: on a virtual display
//! (`xvfb-run -a`), inside a private D-Bus session with an unlocked throwaway keyring, with XDG folders in a
//! temporary directory, in a process group of its own that is killed on timeout and on drop.
//!
//! The group matters because a killed test leaves tauri-driver, WebKitWebDriver and the app running, and
//! gnome-keyring-daemon and dbus-daemon outlive `dbus-run-session` for a moment.

use anyhow::{Context, bail};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Unlocks a keyring with a throwaway password (read from stdin), then runs the command it is given.
const SESSION_SCRIPT: &str = "\
printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1
exec \"$@\"";

/// A temporary home for the XDG folders of one headless run.
pub struct Headless {
    dir: tempfile::TempDir,
}

impl Headless {
    pub fn new() -> anyhow::Result<Headless> {
        let dir = tempfile::Builder::new()
            .prefix("auren-headless-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        for sub in ["data", "config", "cache", "runtime"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        // The XDG spec (and D-Bus, and gnome-keyring) require the runtime folder to be private.
        std::fs::set_permissions(dir.path().join("runtime"), std::fs::Permissions::from_mode(0o700))?;
        Ok(Headless { dir })
    }

    /// `program args…` wrapped as `xvfb-run -a dbus-run-session -- sh -c <unlock keyring; exec "$@"> …`,
    /// with the XDG folders, WebKit's software-rendering switches and no accessibility bus.
    pub fn command<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new("xvfb-run");
        c.args(["-a", "-s", "-screen 0 1280x1024x24", "dbus-run-session", "--"])
            .args(["sh", "-c", SESSION_SCRIPT, "sh"])
            .arg(program)
            .args(args);
        let path = |sub: &str| self.dir.path().join(sub);
        c.env("XDG_DATA_HOME", path("data"))
            .env("XDG_CONFIG_HOME", path("config"))
            .env("XDG_CACHE_HOME", path("cache"))
            .env("XDG_RUNTIME_DIR", path("runtime"))
            // No GPU buffers under Xvfb: WebKit's DMA-BUF renderer would paint nothing.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("NO_AT_BRIDGE", "1");
        c
    }
}

/// A child leading its own process group; the whole group is killed when this is dropped.
struct GroupGuard {
    child: Child,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// SIGKILL to process group `pgid` (kill(1): the workspace forbids the unsafe libc call). Members that are
/// already gone make kill(1) complain, which means nothing here.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Runs `command` in its own process group, passing each line of its stdout to `on_line` as it comes
/// (stderr is inherited). After `timeout` the group is killed and this fails; when the command ends, the
/// rest of its group (daemons it left behind) is killed too.
pub fn run_streaming(
    command: &mut Command,
    timeout: Duration,
    mut on_line: impl FnMut(&str),
) -> anyhow::Result<ExitStatus> {
    let shown = crate::cmd::show(command);
    eprintln!("$ {shown}");
    let mut child = command
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start `{shown}`"))?;
    let stdout = child.stdout.take();
    let mut guard = GroupGuard { child };
    let (lines_tx, lines) = mpsc::channel::<String>();
    // Not joined: a daemon outside the group could hold stdout open forever.
    std::thread::spawn(move || {
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match lines.recv_timeout(POLL.min(deadline.saturating_duration_since(Instant::now()))) {
            Ok(line) => on_line(&line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break guard.child.wait()?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(status) = guard.child.try_wait()? {
                    break status;
                }
                if Instant::now() >= deadline {
                    drop(guard);
                    bail!("`{shown}` did not finish within {} s: killed", timeout.as_secs());
                }
            }
        }
    };
    // Whatever the command left behind goes; then the last lines it printed are read.
    kill_group(guard.child.id());
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(2)) {
        on_line(&line);
    }
    Ok(status)
}

const POLL: Duration = Duration::from_millis(200);

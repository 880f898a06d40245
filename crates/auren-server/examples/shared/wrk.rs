//! The pulls driven by wrk (Debian's package: a C load generator on LuaJIT, one thread, epoll) beside the
//! bench's own reqwest clients, in the same run (`#[path]`-included by `server_load`). The server, PostgreSQL
//! and Redis share this machine's two cores with whatever generates the load, and the reqwest clients cost a
//! pull 21–28 µs of CPU, wrk 6–8 µs (round eight): a generator that costs less leaves the server more of the
//! cores, as a load from other machines would. Both figures are reported; the server's and PostgreSQL's CPU
//! per pull are measured the same way for both.

use std::fmt::Write as _;
use std::time::Duration;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One pull request: the device's access token and the JSON body it sends.
pub struct PullRequest {
    pub token: String,
    pub body: String,
}

/// What one wrk run measured (its `done` hook prints it as one JSON line).
#[derive(Debug, serde::Deserialize)]
pub struct WrkRun {
    pub requests: u64,
    pub bytes: u64,
    /// Connect, read, write and timeout errors and non-2xx answers, summed.
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// The mean and the longest. wrk's histogram is corrected for coordinated omission, so these (and the
    /// percentiles) exceed what it observed; `pull_row` prints rate × mean against the connections.
    pub mean_us: f64,
    pub max_us: u64,
}

/// The script: every request built once at start, then taken in turn, one device after the other (so no
/// two requests in flight ask the same, which the server would answer with one read, as in `pull_run`).
fn script(requests: &[PullRequest]) -> Res<String> {
    let mut lua = String::from("local devices = {\n");
    for request in requests {
        // Tokens are base64url and bodies JSON without single quotes or backslashes: safe in '…'.
        if [&request.token, &request.body]
            .iter()
            .any(|s| s.contains(['\'', '\\', '\n']))
        {
            return Err("a pull request has a character the wrk script cannot quote".into());
        }
        writeln!(lua, "  {{'{}', '{}'}},", request.token, request.body)?;
    }
    lua.push_str(
        r#"}
local built = {}
local next_one = 0
function init(args)
  for i, d in ipairs(devices) do
    built[i] = wrk.format("POST", "/v1/sync/pull",
      {["Authorization"] = "Bearer " .. d[1], ["Content-Type"] = "application/json"}, d[2])
  end
end
function request()
  next_one = next_one % #built + 1
  return built[next_one]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"bytes":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d}\n',
    summary.requests, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
"#,
    );
    Ok(lua)
}

/// A running wrk: started with [`Wrk::start`], its summary read by [`Wrk::finish`].
pub struct Wrk {
    child: tokio::process::Child,
    /// Holds the script while wrk runs.
    _dir: tempfile::TempDir,
}

impl Wrk {
    /// Starts wrk against `base` (`http://127.0.0.1:PORT`) for `duration` with `connections` connections on
    /// one thread, the requests taken in turn.
    pub fn start(base: &str, requests: &[PullRequest], connections: usize, duration: Duration) -> Res<Self> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("pull.lua");
        std::fs::write(&path, script(requests)?)?;
        let child = tokio::process::Command::new("wrk")
            .args([
                "-t1",
                &format!("-c{connections}"),
                &format!("-d{}s", duration.as_secs()),
            ])
            .arg("-s")
            .arg(&path)
            .arg(base)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting wrk (`cargo xtask bench server` installs Debian's wrk): {e}"))?;
        Ok(Self { child, _dir: dir })
    }

    /// wrk's process id while it runs (its CPU is the load generator's).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for wrk to end and reads the summary its `done` hook printed.
    pub async fn finish(self) -> Res<WrkRun> {
        let output = self.child.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "wrk failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .ok_or_else(|| format!("wrk printed no summary: {stdout}"))?;
        Ok(serde_json::from_str(line)?)
    }
}

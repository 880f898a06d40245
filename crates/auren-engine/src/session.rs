//! A live session: one tokio task that reads a heart source and drives the [`Pipeline`], writing
//! to the store through a batched `SessionWriter` and broadcasting updates to subscribers.
//!
//! The task takes a closed [`Input`] enum through one `select!`: shutdown, a command (a tag, stop),
//! a source event, or an idle tick. The idle tick exists for a strap that goes silent: the session
//! clock is the source's, so without events time would stand still and "signal lost" could never
//! fire; after a second of wall time (tokio's clock) without events, session time is advanced by the
//! wall time since the last event.

use std::io::Write;
use std::time::Duration;

use auren_cep::{Alert, Baselines, RuleSet, SessionKind};
use auren_hrm::capture::{CaptureHeader, KEY_ADDRESS, KEY_DEVICE, format_header};
use auren_store::{NewSession, SessionId, SessionWriter, Store, WriteSummary, WriterConfig};
use auren_strap::{HeartSource, SourceEvent, record::event_lines, start};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::dto::{AlertDto, EvidenceDto, LiveUpdateDto};
use crate::error::EngineError;
use crate::labeller::LabelledBeat;
use crate::pipeline::{Pipeline, Sink};

/// Updates a subscriber may fall behind by before it loses the oldest (it then gets `Lagged`).
pub const UPDATE_CHANNEL_CAPACITY: usize = 1024;
/// Wall time without source events after which session time is advanced by the idle timer.
pub const IDLE_AFTER: Duration = Duration::from_secs(1);

/// Everything a live session needs besides its source.
pub struct SessionConfig {
    pub kind: SessionKind,
    /// Wall-clock start of the session, Unix ms: the one reading of the system clock, by the caller.
    pub started_at_unix_ms: i64,
    pub rules: RuleSet,
    pub baselines: Baselines,
    /// Stop once the session clock passes this (the morning reading's 3 minutes); `None`: run until the
    /// source ends or shutdown.
    pub max_duration_ms: Option<u64>,
    /// What the session list shows as its source ("simulator: rest, seed 7", "strap A0:…").
    pub source_label: Option<String>,
    /// A strap address to link the session to (stored in the strap table first).
    pub strap: Option<StrapIdentity>,
    pub label: Option<String>,
    pub writer: WriterConfig,
    /// Every source event is also written here as a `.hrmcap` capture.
    pub capture: Option<Box<dyn Write + Send>>,
}

impl SessionConfig {
    /// A session of `kind` with the given rules and baselines; no limit, no capture.
    pub fn new(kind: SessionKind, started_at_unix_ms: i64, rules: RuleSet, baselines: Baselines) -> Self {
        Self {
            kind,
            started_at_unix_ms,
            rules,
            baselines,
            max_duration_ms: None,
            source_label: None,
            strap: None,
            label: None,
            writer: WriterConfig::default(),
            capture: None,
        }
    }
}

/// The strap a session is recorded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrapIdentity {
    pub address: String,
    pub name: String,
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// The source delivered everything (a replay, a simulation with a duration).
    SourceFinished,
    /// The session clock reached `max_duration_ms`.
    DurationReached,
    /// The shutdown token was cancelled or `stop` was asked.
    Stopped,
    /// The source failed; the message says why (e.g. no Bluetooth adapter).
    SourceFailed(String),
}

/// What a finished session recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSummary {
    pub session_id: i64,
    pub ended: SessionEnd,
    /// Session time reached, ms.
    pub duration_ms: i64,
    pub beats: u64,
    pub artifacts: u64,
    pub alerts: Vec<AlertDto>,
    /// What the store wrote (rows rejected or dropped are counted there).
    pub written: WriteSummary,
}

enum Command {
    Tag(String),
    Stop,
}

/// The inputs of the session task, one per `select!` branch.
enum Input {
    Shutdown,
    Command(Option<(Command, oneshot::Sender<()>)>),
    Source(Option<SourceEvent>),
    Idle,
}

/// A running session.
#[derive(Debug)]
pub struct LiveSession {
    session_id: i64,
    /// Subscribed before the task started: sees every update from the first.
    pub updates: broadcast::Receiver<LiveUpdateDto>,
    sender: broadcast::Sender<LiveUpdateDto>,
    commands: mpsc::Sender<(Command, oneshot::Sender<()>)>,
    task: JoinHandle<Result<SessionSummary, EngineError>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Tag(name) => write!(f, "Tag({name:?})"),
            Command::Stop => f.write_str("Stop"),
        }
    }
}

impl LiveSession {
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Another subscriber, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveUpdateDto> {
        self.sender.subscribe()
    }

    /// Tags the current moment of the session ("coffee", "exercise_end").
    pub async fn tag(&self, name: &str) -> Result<(), EngineError> {
        self.ask(Command::Tag(name.to_owned())).await
    }

    /// Ends the session now (as shutdown does) and waits for it to be stored.
    pub async fn stop(self) -> Result<SessionSummary, EngineError> {
        // A session that already ended has nothing to stop.
        let _ = self.ask(Command::Stop).await;
        self.finish().await
    }

    /// Waits until the session ends (source finished, duration reached, shutdown) and is stored.
    pub async fn finish(self) -> Result<SessionSummary, EngineError> {
        self.task.await?
    }

    async fn ask(&self, command: Command) -> Result<(), EngineError> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send((command, done))
            .await
            .map_err(|_| EngineError::SessionGone)?;
        wait.await.map_err(|_| EngineError::SessionGone)
    }
}

/// Creates the session in `store`, starts `source` and the session task on the current runtime.
pub async fn start_session(
    store: &Store,
    source: Box<dyn HeartSource>,
    config: SessionConfig,
    shutdown: CancellationToken,
) -> Result<LiveSession, EngineError> {
    let source_label = config.source_label.clone().unwrap_or_else(|| source.describe());
    if let Some(strap) = &config.strap {
        store
            .upsert_strap(&strap.address, &strap.name, None, None, config.started_at_unix_ms)
            .await?;
    }
    let id = store
        .start_session(&NewSession {
            started_at: config.started_at_unix_ms,
            kind: store_kind(config.kind),
            source: source_label,
            strap_address: config.strap.as_ref().map(|s| s.address.clone()),
            label: config.label.clone(),
        })
        .await?;
    let writer = store.session_writer_with(id, config.writer).await?;
    let pipeline = Pipeline::new(
        &config.rules,
        config.baselines,
        config.kind,
        Some(id.0),
        config.started_at_unix_ms,
    )?;
    let (sender, updates) = broadcast::channel(UPDATE_CHANNEL_CAPACITY);
    let (commands, command_rx) = mpsc::channel(16);
    let source_shutdown = shutdown.child_token();
    let running = start(source, source_shutdown.clone());
    let task = tokio::spawn(run(Run {
        store: store.clone(),
        strap: config.strap.clone(),
        id,
        started_at_unix_ms: config.started_at_unix_ms,
        max_duration_ms: config.max_duration_ms,
        pipeline,
        sink: LiveSink {
            writer,
            updates: sender.clone(),
            alerts: Vec::new(),
            session_id: id.0,
            started_at_unix_ms: config.started_at_unix_ms,
        },
        capture: config.capture.map(|out| Capture {
            out,
            header_written: false,
        }),
        events: running.events,
        source_task: running.task,
        source_shutdown,
        shutdown,
        commands: command_rx,
    }));
    Ok(LiveSession {
        session_id: id.0,
        updates,
        sender,
        commands,
        task,
    })
}

fn store_kind(kind: SessionKind) -> auren_store::SessionKind {
    match kind {
        SessionKind::Rest => auren_store::SessionKind::Rest,
        SessionKind::Morning => auren_store::SessionKind::Morning,
        SessionKind::Exercise => auren_store::SessionKind::Exercise,
        SessionKind::Breathing => auren_store::SessionKind::Breathing,
        SessionKind::Other => auren_store::SessionKind::Other,
    }
}

/// The sink of a live session: the store writer and the subscribers.
struct LiveSink {
    writer: SessionWriter,
    updates: broadcast::Sender<LiveUpdateDto>,
    alerts: Vec<AlertDto>,
    session_id: i64,
    started_at_unix_ms: i64,
}

impl Sink for LiveSink {
    fn beat(&mut self, beat: &LabelledBeat) {
        self.writer
            .beat(beat.at_ms, beat.rr_ms, beat.artifact.map(|k| k.as_str()));
    }

    fn gap(&mut self, from_ms: f64, to_ms: f64) {
        self.writer.gap(from_ms, to_ms);
    }

    fn heart_rate(&mut self, at_ms: f64, bpm: f64) {
        self.writer.hr_sample(at_ms, bpm);
    }

    fn metrics(&mut self, at_ms: f64, values: &[(&'static str, f64)]) {
        self.writer.metrics(at_ms, values);
    }

    fn alert(&mut self, alert: &Alert) {
        let dto = AlertDto::live(alert, Some(self.session_id), self.started_at_unix_ms);
        match serde_json::to_string(&EvidenceDto::from(&alert.evidence)) {
            Ok(evidence) => self.writer.alert(
                alert.at_ms as f64,
                &alert.rule,
                alert.severity.as_str(),
                &alert.message,
                &evidence,
            ),
            Err(error) => tracing::warn!(%error, rule = alert.rule, "alert evidence not serialisable"),
        }
        self.alerts.push(dto);
    }

    fn update(&mut self, update: LiveUpdateDto) {
        // No subscriber is not an error: the session records all the same.
        let _ = self.updates.send(update);
    }
}

struct Capture {
    out: Box<dyn Write + Send>,
    header_written: bool,
}

impl Capture {
    fn write(&mut self, event: &SourceEvent) -> std::io::Result<()> {
        if !self.header_written {
            let mut header = CaptureHeader::new();
            if let SourceEvent::Connected { name, address, .. } = event {
                header.set(KEY_DEVICE, name.clone());
                header.set(KEY_ADDRESS, address.clone());
            }
            self.out.write_all(format_header(&header).as_bytes())?;
            self.header_written = true;
        }
        self.out.write_all(event_lines(event).as_bytes())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if !self.header_written {
            self.out
                .write_all(format_header(&CaptureHeader::new()).as_bytes())?;
            self.header_written = true;
        }
        self.out.flush()
    }
}

struct Run {
    store: Store,
    strap: Option<StrapIdentity>,
    id: SessionId,
    started_at_unix_ms: i64,
    max_duration_ms: Option<u64>,
    pipeline: Pipeline,
    sink: LiveSink,
    capture: Option<Capture>,
    events: mpsc::Receiver<SourceEvent>,
    source_task: JoinHandle<Result<auren_strap::SourceSummary, auren_strap::SourceError>>,
    source_shutdown: CancellationToken,
    shutdown: CancellationToken,
    commands: mpsc::Receiver<(Command, oneshot::Sender<()>)>,
}

async fn run(mut r: Run) -> Result<SessionSummary, EngineError> {
    let mut idle = tokio::time::interval(IDLE_AFTER);
    idle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_event = (0_i64, Instant::now());
    let mut commands_open = true;
    let mut capture_error = None;
    r.pipeline.start(&mut r.sink);

    let mut ended = loop {
        let input = tokio::select! {
            biased;
            () = r.shutdown.cancelled() => Input::Shutdown,
            command = r.commands.recv(), if commands_open => Input::Command(command),
            event = r.events.recv() => Input::Source(event),
            _ = idle.tick() => Input::Idle,
        };
        match input {
            Input::Shutdown => break SessionEnd::Stopped,
            Input::Command(None) => commands_open = false,
            Input::Command(Some((Command::Tag(name), done))) => {
                r.sink.writer.tag(r.pipeline.now_ms() as f64, &name);
                r.pipeline.tag(&name, &mut r.sink);
                let _ = done.send(());
            }
            Input::Command(Some((Command::Stop, done))) => {
                let _ = done.send(());
                break SessionEnd::Stopped;
            }
            Input::Source(None) => break SessionEnd::SourceFinished,
            Input::Source(Some(event)) => {
                if let Some(max) = r.max_duration_ms
                    && event.at_ms() > max
                {
                    r.pipeline.idle(ms(max), &mut r.sink);
                    break SessionEnd::DurationReached;
                }
                if let Some(capture) = &mut r.capture
                    && capture_error.is_none()
                    && let Err(error) = capture.write(&event)
                {
                    // The session goes on being stored; the capture error is reported at the end.
                    capture_error = Some(error);
                }
                last_event = (ms(event.at_ms()), Instant::now());
                r.pipeline.on_source_event(&event, &mut r.sink);
                remember_strap(&mut r, &event).await;
            }
            Input::Idle => {
                let silent = last_event.1.elapsed();
                if silent >= IDLE_AFTER {
                    let now = last_event.0 + i64::try_from(silent.as_millis()).unwrap_or(i64::MAX);
                    let now = match r.max_duration_ms {
                        Some(max) => now.min(ms(max)),
                        None => now,
                    };
                    r.pipeline.idle(now, &mut r.sink);
                    if r.max_duration_ms.is_some_and(|max| now >= ms(max)) {
                        break SessionEnd::DurationReached;
                    }
                }
            }
        }
    };

    r.source_shutdown.cancel();
    // Close the channel so a source blocked on a full channel sees the receiver gone and ends.
    r.events.close();
    while r.events.recv().await.is_some() {}
    match r.source_task.await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => ended = SessionEnd::SourceFailed(error.to_string()),
        Err(error) => ended = SessionEnd::SourceFailed(error.to_string()),
    }

    r.pipeline.end(&mut r.sink);
    let duration_ms = r.pipeline.now_ms();
    let LiveSink { writer, alerts, .. } = r.sink;
    let written = writer.finish().await?;
    r.store
        .end_session(r.id, r.started_at_unix_ms.saturating_add(duration_ms))
        .await?;
    if let Some(capture) = &mut r.capture {
        capture.finish()?;
    }
    if let Some(error) = capture_error {
        return Err(EngineError::Capture(error));
    }
    Ok(SessionSummary {
        session_id: r.id.0,
        ended,
        duration_ms,
        beats: r.pipeline.beats_total(),
        artifacts: r.pipeline.artifacts_total(),
        alerts,
        written,
    })
}

/// Keeps the strap table current with what the strap says about itself (its advertised name, device
/// information). A failure here costs a name in a list, never the session: it is logged.
async fn remember_strap(r: &mut Run, event: &SourceEvent) {
    let Some(strap) = &mut r.strap else { return };
    let seen_at = r.started_at_unix_ms.saturating_add(ms(event.at_ms()));
    let result = match event {
        SourceEvent::Connected { name, .. } => {
            strap.name.clone_from(name);
            r.store
                .upsert_strap(&strap.address, name, None, None, seen_at)
                .await
        }
        SourceEvent::DeviceInfo {
            manufacturer, model, ..
        } => {
            r.store
                .upsert_strap(
                    &strap.address,
                    &strap.name,
                    manufacturer.as_deref(),
                    model.as_deref(),
                    seen_at,
                )
                .await
        }
        _ => return,
    };
    if let Err(error) = result {
        tracing::warn!(%error, address = strap.address, "updating the strap's details failed");
    }
}

fn ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}

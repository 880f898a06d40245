//! A live session: one tokio task that reads a heart source and drives the [`Pipeline`], writing
//! to the store through a batched `SessionWriter` and broadcasting updates to subscribers.
//!
//! The task takes a closed [`Input`] enum through one `select!`: shutdown, a command (a tag, stop),
//! a source event, or an idle tick. The idle tick exists for a strap that goes silent: the session
//! clock is the source's, so without events time would stand still and "signal lost" could never
//! fire; after a second of wall time (tokio's clock) without events, session time is advanced by the
//! wall time since the last event.
//!
//! A connection can be watched before anything is stored: [`start_monitor`] streams updates (HR,
//! beats, metrics) with no session id, and [`LiveMonitor::record`] then creates the session and starts
//! writing on the same connection; the beats before it are not stored. [`start_session`] is a monitor
//! that records from its first event. The session row is created by the caller's task, never by the
//! loop: the loop hands rows to the `SessionWriter` and awaits no database call.
//!
//! The task runs in a `session` tracing span whose `session_id` is set when recording starts, so every
//! log line of the loop says which session it belongs to.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use auren_cep::{Alert, Baselines, RuleSet, SessionKind};
use auren_hrm::capture::{CaptureHeader, KEY_ADDRESS, KEY_DEVICE, format_header};
use auren_store::{NewSession, SessionId, SessionWriter, Store, WriteSummary, WriterConfig};
use auren_strap::{HeartSource, SourceError, SourceEvent, record::event_lines, start};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::dto::{AlertDto, EvidenceDto, LiveUpdateDto};
use crate::error::EngineError;
use crate::pipeline::{Pipeline, Sink};
use auren_cep::labeller::LabelledBeat;

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

    /// What the connection needs (for its whole life) and what the recording needs (from its start).
    pub fn split(self) -> (MonitorConfig, RecordConfig) {
        (
            MonitorConfig {
                rules: self.rules,
                baselines: self.baselines,
                source_label: self.source_label,
                strap: self.strap,
                writer: self.writer,
                capture: self.capture,
            },
            RecordConfig {
                kind: self.kind,
                started_at_unix_ms: self.started_at_unix_ms,
                label: self.label,
                max_duration_ms: self.max_duration_ms,
            },
        )
    }
}

/// What a monitored source needs for as long as it is connected.
pub struct MonitorConfig {
    /// The rules run while monitoring too (their alerts then reach subscribers only, with no session id).
    pub rules: RuleSet,
    pub baselines: Baselines,
    /// What the session list shows as the source of a recording ("strap A0:…").
    pub source_label: Option<String>,
    /// The strap recordings are linked to.
    pub strap: Option<StrapIdentity>,
    pub writer: WriterConfig,
    /// Every source event from the start of the connection is also written here as a `.hrmcap` capture.
    pub capture: Option<Box<dyn Write + Send>>,
}

/// What a recording (a stored session) is, from the moment it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordConfig {
    pub kind: SessionKind,
    /// Wall-clock start of the recording, Unix ms: the one reading of the system clock, by the caller.
    pub started_at_unix_ms: i64,
    pub label: Option<String>,
    /// Stop once the recording's clock passes this; `None`: until the source ends, stop or shutdown.
    pub max_duration_ms: Option<u64>,
}

/// The strap a session is recorded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrapIdentity {
    pub address: String,
    pub name: String,
}

/// Why a session's source stopped with an error. Shared (`Arc`) because a [`SessionSummary`] is
/// `Clone`; two failures are equal when they are the same failure.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SourceFailure {
    #[error("{0}")]
    Source(#[source] Arc<SourceError>),
    /// The source's task panicked or was cancelled.
    #[error("the heart source's task ended abnormally: {0}")]
    Task(#[source] Arc<tokio::task::JoinError>),
}

impl SourceFailure {
    /// The source's own error, when it ended with one.
    pub fn source_error(&self) -> Option<&SourceError> {
        match self {
            SourceFailure::Source(error) => Some(error),
            SourceFailure::Task(_) => None,
        }
    }
}

impl PartialEq for SourceFailure {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SourceFailure::Source(a), SourceFailure::Source(b)) => Arc::ptr_eq(a, b),
            (SourceFailure::Task(a), SourceFailure::Task(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for SourceFailure {}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The source delivered everything (a replay, a simulation with a duration).
    SourceFinished,
    /// The session clock reached `max_duration_ms`.
    DurationReached,
    /// The shutdown token was cancelled or `stop` was asked.
    Stopped,
    /// The source failed (e.g. no Bluetooth adapter); what was recorded until then is stored.
    SourceFailed(SourceFailure),
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

/// A recording the caller prepared (its session row and writer exist) for the loop to switch to.
struct Recording {
    id: SessionId,
    writer: SessionWriter,
    config: RecordConfig,
}

enum Command {
    Tag(String),
    Stop,
    Record(Box<Recording>),
    /// End the recording, hand back what the caller stores, and go on monitoring.
    EndRecording(oneshot::Sender<EndedRecording>),
}

/// A recording the loop has ended: what the caller needs to store its end (the loop does no I/O).
struct EndedRecording {
    active: Active,
    writer: Option<SessionWriter>,
    alerts: Vec<AlertDto>,
    duration_ms: i64,
    beats: u64,
    artifacts: u64,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Tag(name) => write!(f, "Tag({name:?})"),
            Command::Stop => f.write_str("Stop"),
            Command::Record(r) => write!(f, "Record({})", r.id.0),
            Command::EndRecording(_) => f.write_str("EndRecording"),
        }
    }
}

/// The inputs of the session task, one per `select!` branch.
enum Input {
    Shutdown,
    Command(Option<(Command, oneshot::Sender<()>)>),
    Source(Option<SourceEvent>),
    Idle,
}

/// How the task ended: a recording's summary, or a monitor that never recorded.
#[derive(Debug)]
enum TaskEnd {
    Recorded(SessionSummary),
    Monitored(SessionEnd),
}

type Commands = mpsc::Sender<(Command, oneshot::Sender<()>)>;

/// The handles to a running task.
#[derive(Debug)]
struct TaskHandle {
    sender: broadcast::Sender<LiveUpdateDto>,
    commands: Commands,
    task: JoinHandle<Result<TaskEnd, EngineError>>,
    /// Stops the task (and its source) when a recording could not be started.
    stop: CancellationToken,
}

impl TaskHandle {
    async fn ask(&self, command: Command) -> Result<(), EngineError> {
        let (done, wait) = oneshot::channel();
        self.commands
            .send((command, done))
            .await
            .map_err(|_| EngineError::SessionGone)?;
        wait.await.map_err(|_| EngineError::SessionGone)
    }
}

/// What a recording on a connection is made with.
#[derive(Debug)]
struct Connection {
    store: Store,
    source_label: String,
    strap: Option<StrapIdentity>,
    writer: WriterConfig,
}

/// A connected source streaming updates before anything is stored.
#[derive(Debug)]
pub struct LiveMonitor {
    /// Subscribed before the task started: sees every update from the first.
    pub updates: broadcast::Receiver<LiveUpdateDto>,
    handle: TaskHandle,
    connection: Connection,
}

impl LiveMonitor {
    /// Another subscriber, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveUpdateDto> {
        self.handle.sender.subscribe()
    }

    /// Starts recording on this connection: creates the session (the beats from now on are stored; those
    /// before are not) and returns it running. Session time starts at 0 again and beat indices restart,
    /// and updates carry the new session's id, so a subscriber tells the recording from the monitoring by
    /// `session_id`. If the source has ended, the empty session is closed and `SessionGone` returned.
    pub async fn record(self, config: RecordConfig) -> Result<LiveSession, EngineError> {
        let c = &self.connection;
        let prepared = prepare(&c.store, &c.source_label, c.strap.as_ref(), c.writer, config).await;
        let recording = match prepared {
            Ok(recording) => recording,
            Err(error) => {
                self.handle.stop.cancel();
                return Err(error);
            }
        };
        let id = recording.id;
        let started_at = recording.config.started_at_unix_ms;
        if let Err(error) = self.handle.ask(Command::Record(Box::new(recording))).await {
            // The source ended first: the session has no beats and ends as it began.
            self.connection.store.end_session(id, started_at).await?;
            return Err(error);
        }
        Ok(LiveSession {
            session_id: id.0,
            updates: self.updates,
            handle: self.handle,
            connection: self.connection,
        })
    }

    /// Ends the connection without recording; waits for the source to stop.
    pub async fn stop(self) -> Result<SessionEnd, EngineError> {
        let _ = self.handle.ask(Command::Stop).await;
        match self.handle.task.await?? {
            TaskEnd::Monitored(ended) => Ok(ended),
            TaskEnd::Recorded(summary) => Ok(summary.ended),
        }
    }
}

/// A running session.
#[derive(Debug)]
pub struct LiveSession {
    session_id: i64,
    /// Subscribed before the task started: sees every update from the first.
    pub updates: broadcast::Receiver<LiveUpdateDto>,
    handle: TaskHandle,
    connection: Connection,
}

impl LiveSession {
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Another subscriber, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveUpdateDto> {
        self.handle.sender.subscribe()
    }

    /// Tags the current moment of the session ("coffee", "exercise_end").
    pub async fn tag(&self, name: &str) -> Result<(), EngineError> {
        self.handle.ask(Command::Tag(name.to_owned())).await
    }

    /// Ends the session now (as shutdown does) and waits for it to be stored.
    pub async fn stop(self) -> Result<SessionSummary, EngineError> {
        // A session that already ended has nothing to stop.
        let _ = self.handle.ask(Command::Stop).await;
        self.finish().await
    }

    /// Ends the recording and goes back to monitoring on the same connection: the session is stored
    /// and ended as by [`LiveSession::stop`], the updates go on with no session id.
    pub async fn stop_recording(self) -> Result<(SessionSummary, LiveMonitor), EngineError> {
        let (reply, ended) = oneshot::channel();
        self.handle.ask(Command::EndRecording(reply)).await?;
        let ended = ended.await.map_err(|_| EngineError::SessionGone)?;
        let summary = store_recording(&self.connection.store, ended, SessionEnd::Stopped).await?;
        let monitor = LiveMonitor {
            updates: self.updates,
            handle: self.handle,
            connection: self.connection,
        };
        Ok((summary, monitor))
    }

    /// Waits until the session ends (source finished, duration reached, shutdown) and is stored.
    pub async fn finish(self) -> Result<SessionSummary, EngineError> {
        match self.handle.task.await?? {
            TaskEnd::Recorded(summary) => Ok(summary),
            // A LiveSession exists only once the task confirmed the recording.
            TaskEnd::Monitored(_) => Err(EngineError::SessionGone),
        }
    }
}

/// Creates the session row (and its strap) and the writer of a recording: by the caller, so the loop
/// never waits for the database.
async fn prepare(
    store: &Store,
    source_label: &str,
    strap: Option<&StrapIdentity>,
    writer: WriterConfig,
    config: RecordConfig,
) -> Result<Recording, EngineError> {
    if let Some(strap) = strap {
        store
            .upsert_strap(&strap.address, &strap.name, None, None, config.started_at_unix_ms)
            .await?;
    }
    let id = store
        .start_session(&NewSession {
            started_at: config.started_at_unix_ms,
            kind: store_kind(config.kind),
            source: source_label.to_owned(),
            strap_address: strap.map(|s| s.address.clone()),
            label: config.label.clone(),
        })
        .await?;
    let writer = store.session_writer_with(id, writer).await?;
    Ok(Recording { id, writer, config })
}

/// Starts `source` and streams its updates; nothing is stored until [`LiveMonitor::record`].
pub async fn start_monitor(
    store: &Store,
    source: Box<dyn HeartSource>,
    config: MonitorConfig,
    shutdown: CancellationToken,
) -> Result<LiveMonitor, EngineError> {
    let connection = Connection {
        store: store.clone(),
        source_label: config.source_label.clone().unwrap_or_else(|| source.describe()),
        strap: config.strap.clone(),
        writer: config.writer,
    };
    let (handle, updates) = launch(store, source, config, None, shutdown)?;
    Ok(LiveMonitor {
        updates,
        handle,
        connection,
    })
}

/// Creates the session in `store`, starts `source` and the session task on the current runtime: a
/// monitor recording from its first event.
pub async fn start_session(
    store: &Store,
    source: Box<dyn HeartSource>,
    config: SessionConfig,
    shutdown: CancellationToken,
) -> Result<LiveSession, EngineError> {
    let (monitor, record) = config.split();
    let source_label = monitor.source_label.clone().unwrap_or_else(|| source.describe());
    // Prepared before the source starts, so the recording holds every event.
    let recording = prepare(
        store,
        &source_label,
        monitor.strap.as_ref(),
        monitor.writer,
        record,
    )
    .await?;
    let session_id = recording.id.0;
    let connection = Connection {
        store: store.clone(),
        source_label,
        strap: monitor.strap.clone(),
        writer: monitor.writer,
    };
    let (handle, updates) = launch(store, source, monitor, Some(recording), shutdown)?;
    Ok(LiveSession {
        session_id,
        updates,
        handle,
        connection,
    })
}

fn launch(
    store: &Store,
    source: Box<dyn HeartSource>,
    config: MonitorConfig,
    recording: Option<Recording>,
    shutdown: CancellationToken,
) -> Result<(TaskHandle, broadcast::Receiver<LiveUpdateDto>), EngineError> {
    let pipeline = Pipeline::new(&config.rules, config.baselines, SessionKind::Other, None, 0)?;
    let (sender, updates) = broadcast::channel(UPDATE_CHANNEL_CAPACITY);
    let (commands, command_rx) = mpsc::channel(16);
    let stop = shutdown.child_token();
    let source_shutdown = stop.child_token();
    let running = start(source, source_shutdown.clone());
    let span = tracing::info_span!("session", session_id = tracing::field::Empty);
    let mut run_state = Run {
        store: store.clone(),
        rules: config.rules,
        baselines: config.baselines,
        strap: config.strap,
        strap_details: (None, None),
        recording: None,
        pipeline,
        sink: LiveSink {
            writer: None,
            updates: sender.clone(),
            alerts: Vec::new(),
            session_id: None,
            started_at_unix_ms: 0,
        },
        capture: config.capture.map(|out| Capture {
            out,
            header_written: false,
        }),
        events: running.events,
        source_task: running.task,
        source_shutdown,
        shutdown: stop.clone(),
        commands: command_rx,
    };
    let task = tokio::spawn(
        async move {
            if let Some(recording) = recording {
                run_state.begin_recording(recording)?;
            }
            run(run_state).await
        }
        .instrument(span),
    );
    Ok((
        TaskHandle {
            sender,
            commands,
            task,
            stop,
        },
        updates,
    ))
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

/// The sink of a live session: the store writer (once recording) and the subscribers.
struct LiveSink {
    writer: Option<SessionWriter>,
    updates: broadcast::Sender<LiveUpdateDto>,
    alerts: Vec<AlertDto>,
    session_id: Option<i64>,
    started_at_unix_ms: i64,
}

impl Sink for LiveSink {
    fn beat(&mut self, beat: &LabelledBeat) {
        if let Some(writer) = &self.writer {
            writer.beat(beat.at_ms, beat.rr_ms, beat.artifact.map(|k| k.as_str()));
        }
    }

    fn gap(&mut self, from_ms: f64, to_ms: f64) {
        if let Some(writer) = &self.writer {
            writer.gap(from_ms, to_ms);
        }
    }

    fn heart_rate(&mut self, at_ms: f64, bpm: f64) {
        if let Some(writer) = &self.writer {
            writer.hr_sample(at_ms, bpm);
        }
    }

    fn signal(&mut self, at_ms: f64, signal: auren_store::Signal, up: bool) {
        if let Some(writer) = &self.writer {
            writer.signal(at_ms, signal, up);
        }
    }

    fn metrics(&mut self, at_ms: f64, values: &[(&'static str, f64)]) {
        if let Some(writer) = &self.writer {
            writer.metrics(at_ms, values);
        }
    }

    fn alert(&mut self, alert: &Alert) {
        // A monitor's alerts reach subscribers through the pipeline's updates only.
        let Some(writer) = &self.writer else { return };
        let dto = AlertDto::live(alert, self.session_id, self.started_at_unix_ms);
        match serde_json::to_string(&EvidenceDto::from(&alert.evidence)) {
            Ok(evidence) => writer.alert(
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

/// The recording under way: its session, and where its clock starts on the source's.
struct Active {
    id: SessionId,
    started_at_unix_ms: i64,
    /// Source time of the recording's session time 0, ms.
    origin_ms: u64,
    /// Source time at which the recording stops, ms.
    stop_at_ms: Option<u64>,
}

struct Run {
    /// Used after the loop only (the writer's last commit, the session's end).
    store: Store,
    rules: RuleSet,
    baselines: Baselines,
    strap: Option<StrapIdentity>,
    /// Manufacturer and model, once the strap said them.
    strap_details: (Option<String>, Option<String>),
    recording: Option<Active>,
    pipeline: Pipeline,
    sink: LiveSink,
    capture: Option<Capture>,
    events: mpsc::Receiver<SourceEvent>,
    source_task: JoinHandle<Result<auren_strap::SourceSummary, SourceError>>,
    source_shutdown: CancellationToken,
    shutdown: CancellationToken,
    commands: mpsc::Receiver<(Command, oneshot::Sender<()>)>,
}

impl Run {
    /// Switches the loop to recording: a fresh pipeline on a clock that starts now, the writer in the
    /// sink. No I/O: the session row and the writer were made by the caller.
    fn begin_recording(&mut self, recording: Recording) -> Result<(), EngineError> {
        let Recording { id, writer, config } = recording;
        let origin_ms = u64::try_from(self.pipeline.source_now_ms()).unwrap_or(0);
        self.pipeline = Pipeline::new(
            &self.rules,
            self.baselines,
            config.kind,
            Some(id.0),
            config.started_at_unix_ms,
        )?
        .with_origin(origin_ms);
        tracing::Span::current().record("session_id", id.0);
        tracing::info!(kind = ?config.kind, origin_ms, "recording started");
        if let Some(strap) = &self.strap {
            let (manufacturer, model) = &self.strap_details;
            if manufacturer.is_some() || model.is_some() {
                writer.strap(
                    &strap.address,
                    &strap.name,
                    manufacturer.as_deref(),
                    model.as_deref(),
                    config.started_at_unix_ms,
                );
            }
        }
        self.sink = LiveSink {
            writer: Some(writer),
            updates: self.sink.updates.clone(),
            alerts: Vec::new(),
            session_id: Some(id.0),
            started_at_unix_ms: config.started_at_unix_ms,
        };
        self.recording = Some(Active {
            id,
            started_at_unix_ms: config.started_at_unix_ms,
            origin_ms,
            stop_at_ms: config.max_duration_ms.map(|max| origin_ms.saturating_add(max)),
        });
        self.pipeline.start(&mut self.sink);
        Ok(())
    }

    /// Ends the recording (its last labels, the rules' session end, a last update) and goes back to a
    /// monitor pipeline on the same clock; `None` when not recording.
    fn end_recording(&mut self) -> Result<Option<EndedRecording>, EngineError> {
        let Some(active) = self.recording.take() else {
            return Ok(None);
        };
        self.pipeline.end(&mut self.sink);
        let origin_ms = u64::try_from(self.pipeline.source_now_ms()).unwrap_or(0);
        let ended = EndedRecording {
            active,
            writer: self.sink.writer.take(),
            alerts: std::mem::take(&mut self.sink.alerts),
            duration_ms: self.pipeline.now_ms(),
            beats: self.pipeline.beats_total(),
            artifacts: self.pipeline.artifacts_total(),
        };
        tracing::info!(beats = ended.beats, "recording ended; monitoring goes on");
        self.pipeline =
            Pipeline::new(&self.rules, self.baselines, SessionKind::Other, None, 0)?.with_origin(origin_ms);
        self.sink.session_id = None;
        self.pipeline.start(&mut self.sink);
        Ok(Some(ended))
    }

    fn stop_at_ms(&self) -> Option<u64> {
        self.recording.as_ref().and_then(|r| r.stop_at_ms)
    }
}

async fn run(mut r: Run) -> Result<TaskEnd, EngineError> {
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
                if let Some(writer) = &r.sink.writer {
                    writer.tag(r.pipeline.now_ms() as f64, &name);
                }
                r.pipeline.tag(&name, &mut r.sink);
                let _ = done.send(());
            }
            Input::Command(Some((Command::Record(recording), done))) => {
                r.begin_recording(*recording)?;
                let _ = done.send(());
            }
            Input::Command(Some((Command::EndRecording(reply), done))) => {
                if let Some(ended) = r.end_recording()? {
                    let _ = reply.send(ended);
                }
                let _ = done.send(());
            }
            Input::Command(Some((Command::Stop, done))) => {
                let _ = done.send(());
                break SessionEnd::Stopped;
            }
            Input::Source(None) => break SessionEnd::SourceFinished,
            Input::Source(Some(event)) => {
                if let Some(stop_at) = r.stop_at_ms()
                    && event.at_ms() > stop_at
                {
                    r.pipeline.idle(ms(stop_at), &mut r.sink);
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
                remember_strap(&mut r, &event);
            }
            Input::Idle => {
                let silent = last_event.1.elapsed();
                if silent >= IDLE_AFTER {
                    let now = last_event.0 + i64::try_from(silent.as_millis()).unwrap_or(i64::MAX);
                    let now = match r.stop_at_ms() {
                        Some(stop_at) => now.min(ms(stop_at)),
                        None => now,
                    };
                    r.pipeline.idle(now, &mut r.sink);
                    if r.stop_at_ms().is_some_and(|stop_at| now >= ms(stop_at)) {
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
    match (&mut r.source_task).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => ended = SessionEnd::SourceFailed(SourceFailure::Source(Arc::new(error))),
        Err(error) => ended = SessionEnd::SourceFailed(SourceFailure::Task(Arc::new(error))),
    }

    r.pipeline.end(&mut r.sink);
    tracing::info!(
        ended = ?ended,
        beats = r.pipeline.beats_total(),
        "the source's connection ended"
    );
    let finished = match r.recording.take() {
        Some(active) => Some(finish_recording(&mut r, active, ended.clone()).await?),
        None => None,
    };
    if let Some(capture) = &mut r.capture {
        capture.finish()?;
    }
    if let Some(error) = capture_error {
        return Err(EngineError::Capture(error));
    }
    Ok(match finished {
        Some(summary) => TaskEnd::Recorded(summary),
        None => TaskEnd::Monitored(ended),
    })
}

/// After the loop: the writer's last commit and the session's end.
async fn finish_recording(
    r: &mut Run,
    active: Active,
    ended: SessionEnd,
) -> Result<SessionSummary, EngineError> {
    let recording = EndedRecording {
        active,
        writer: r.sink.writer.take(),
        alerts: std::mem::take(&mut r.sink.alerts),
        duration_ms: r.pipeline.now_ms(),
        beats: r.pipeline.beats_total(),
        artifacts: r.pipeline.artifacts_total(),
    };
    store_recording(&r.store, recording, ended).await
}

/// The writer's last commit and the session's end, awaited outside the loop.
async fn store_recording(
    store: &Store,
    recording: EndedRecording,
    ended: SessionEnd,
) -> Result<SessionSummary, EngineError> {
    let written = match recording.writer {
        Some(writer) => writer.finish().await?,
        None => WriteSummary::default(),
    };
    let active = recording.active;
    let ended_at = active.started_at_unix_ms.saturating_add(recording.duration_ms);
    store.end_session(active.id, ended_at).await?;
    // The full panel is stored now, so its readers only read; derived data, so a failure never fails the end.
    if let Err(error) = crate::panels::store_panel(store, active.id.0, ended_at).await {
        tracing::warn!(%error, session = active.id.0, "the session's panel was not stored");
    }
    Ok(SessionSummary {
        session_id: active.id.0,
        ended,
        duration_ms: recording.duration_ms,
        beats: recording.beats,
        artifacts: recording.artifacts,
        alerts: recording.alerts,
        written,
    })
}

/// Keeps the strap table current with what the strap says about itself (its advertised name, device
/// information): a row for the writer while recording, remembered for the recording otherwise; never a
/// database call of the loop's own.
fn remember_strap(r: &mut Run, event: &SourceEvent) {
    let Some(strap) = &mut r.strap else { return };
    match event {
        SourceEvent::Connected { name, .. } => strap.name.clone_from(name),
        SourceEvent::DeviceInfo {
            manufacturer, model, ..
        } => r.strap_details = (manufacturer.clone(), model.clone()),
        _ => return,
    }
    let (Some(writer), Some(active)) = (&r.sink.writer, &r.recording) else {
        return;
    };
    let since_origin = event.at_ms().saturating_sub(active.origin_ms);
    let seen_at = active.started_at_unix_ms.saturating_add(ms(since_origin));
    let (manufacturer, model) = &r.strap_details;
    writer.strap(
        &strap.address,
        &strap.name,
        manufacturer.as_deref(),
        model.as_deref(),
        seen_at,
    );
}

fn ms(at_ms: u64) -> i64 {
    i64::try_from(at_ms).unwrap_or(i64::MAX)
}

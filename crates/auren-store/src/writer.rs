//! [`SessionWriter`]: the live session's handle to the database. Its methods are plain, non-blocking calls
//! that queue a row; a background tokio task stores the queue in one transaction (rows plus their outbox
//! rows plus the session's counters) every `flush_every` (250 ms) or `flush_rows` rows, whichever comes
//! first. A crash therefore loses at most the rows queued since the last commit, well under a second.
//!
//! The queue is bounded: when the disk stalls for longer than the queue lasts (65 536 rows by default, hours
//! of beats), further rows are counted as dropped instead of growing memory without limit or blocking the
//! live loop, which must keep serving the UI and the rules. The count is in [`WriteSummary::dropped`].

use crate::outbox::{self, Change, OutboxKind};
use crate::sessions::{StrapSeen, own_started_at, upsert_strap_on};
use crate::{SessionId, Signal, Store, StoreError};
use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How a [`SessionWriter`] batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterConfig {
    /// Rows that may wait in the queue before further ones are dropped.
    pub capacity: usize,
    /// Longest time a queued row waits for its commit.
    pub flush_every: Duration,
    /// Rows that trigger a commit before `flush_every` has passed.
    pub flush_rows: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            capacity: 65_536,
            flush_every: Duration::from_millis(250),
            flush_rows: 4_096,
        }
    }
}

impl WriterConfig {
    fn validate(&self) -> Result<(), StoreError> {
        if self.capacity == 0 || self.flush_rows == 0 || self.flush_every.is_zero() {
            return Err(StoreError::Invalid {
                what: "writer configuration",
                reason: format!("capacity, flush_rows and flush_every must be positive: {self:?}"),
            });
        }
        Ok(())
    }
}

/// What a finished writer stored and what it refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub beats: u64,
    pub gaps: u64,
    pub hr_samples: u64,
    /// Contact and link changes.
    pub signals: u64,
    pub metric_values: u64,
    pub alerts: u64,
    pub tags: u64,
    /// Rows refused as bad input: a value that is not finite, an RR or HR not positive, a beat or HR sample
    /// not later than the previous one, an unknown severity, evidence that is not JSON.
    pub rejected: u64,
    /// Rows dropped because the queue was full.
    pub dropped: u64,
}

enum Record {
    Beat {
        t_ms: f64,
        rr_ms: f64,
        artifact: Option<&'static str>,
    },
    Gap {
        from_ms: f64,
        to_ms: f64,
    },
    Hr {
        t_ms: f64,
        bpm: f64,
    },
    Signal {
        t_ms: f64,
        signal: Signal,
        up: bool,
    },
    Metrics {
        t_ms: f64,
        values: Box<[(&'static str, f64)]>,
    },
    Alert(AlertRecord),
    Tag {
        at_ms: f64,
        name: String,
    },
    Strap(StrapRecord),
}

struct StrapRecord {
    address: String,
    name: String,
    manufacturer: Option<String>,
    model: Option<String>,
    seen_at: i64,
}

struct AlertRecord {
    at_ms: f64,
    rule: String,
    severity: String,
    message: String,
    evidence: String,
}

/// Queues the rows of one live session for the background task that stores them. Dropping it without
/// [`SessionWriter::finish`] still stores everything queued (the task drains the queue and ends).
#[derive(Debug)]
pub struct SessionWriter {
    session: SessionId,
    queue: mpsc::Sender<Record>,
    task: JoinHandle<Result<WriteSummary, StoreError>>,
    rejected: Arc<AtomicU64>,
    dropped: AtomicU64,
}

impl Store {
    /// A writer for session `id` with the default batching.
    pub async fn session_writer(&self, id: SessionId) -> Result<SessionWriter, StoreError> {
        self.session_writer_with(id, WriterConfig::default()).await
    }

    /// A writer for session `id`, which must exist; spawns its task on the current tokio runtime.
    pub async fn session_writer_with(
        &self,
        id: SessionId,
        config: WriterConfig,
    ) -> Result<SessionWriter, StoreError> {
        config.validate()?;
        // An athlete's session (a coach's copy) takes no beats here: only the athlete's devices record it.
        let started = own_started_at(&mut *self.pool.acquire().await?, id).await?;
        let (queue, records) = mpsc::channel(config.capacity);
        let rejected = Arc::new(AtomicU64::new(0));
        // Every log line of the writer task names the session it writes.
        let span = tracing::info_span!("session", session_id = id.0);
        let task = tokio::spawn(
            run(
                Flusher {
                    pool: self.pool.clone(),
                    session: id.0,
                    started_at: started,
                    batch: Batch::default(),
                    last_beat: f64::NEG_INFINITY,
                    last_hr: f64::NEG_INFINITY,
                    statements: HashMap::new(),
                    summary: WriteSummary::default(),
                    rejected: rejected.clone(),
                    failed_rows: 0,
                    first_error: None,
                },
                records,
                config,
            )
            .instrument(span),
        );
        Ok(SessionWriter {
            session: id,
            queue,
            task,
            rejected,
            dropped: AtomicU64::new(0),
        })
    }
}

fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

impl SessionWriter {
    /// The session it writes to.
    pub fn session(&self) -> SessionId {
        self.session
    }

    fn push(&self, record: Record) {
        if self.queue.try_send(record).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// A beat at session time `t_ms` ending an RR interval of `rr_ms`, with its artifact label if any.
    /// Beats must come in increasing time; a beat not later than the previous one is rejected.
    pub fn beat(&self, t_ms: f64, rr_ms: f64, artifact: Option<&'static str>) {
        if all_finite(&[t_ms, rr_ms]) && rr_ms > 0.0 {
            self.push(Record::Beat {
                t_ms,
                rr_ms,
                artifact,
            });
        } else {
            self.reject();
        }
    }

    /// No beats between `from_ms` and `to_ms` (contact lost, link down).
    pub fn gap(&self, from_ms: f64, to_ms: f64) {
        if all_finite(&[from_ms, to_ms]) && to_ms >= from_ms {
            self.push(Record::Gap { from_ms, to_ms });
        } else {
            self.reject();
        }
    }

    /// The heart rate the strap reported at `t_ms`.
    pub fn hr_sample(&self, t_ms: f64, bpm: f64) {
        if all_finite(&[t_ms, bpm]) && bpm >= 0.0 {
            self.push(Record::Hr { t_ms, bpm });
        } else {
            self.reject();
        }
    }

    /// The strap's contact (`Signal::Contact`: detected or not) or link (`Signal::Link`: connected or not)
    /// changed at `t_ms`, as the detector was told. Changes of one moment keep the order given; a second
    /// change of one signal at one moment is kept once.
    pub fn signal(&self, t_ms: f64, signal: Signal, up: bool) {
        if t_ms.is_finite() {
            self.push(Record::Signal { t_ms, signal, up });
        } else {
            self.reject();
        }
    }

    /// Metric values computed at `t_ms`, e.g. `[("rmssd_60s", 42.0), ("dfa_a1", 0.9)]`. Values that are not
    /// finite (a window not yet filled) are skipped and counted as rejected; the others are stored.
    pub fn metrics(&self, t_ms: f64, values: &[(&'static str, f64)]) {
        if !t_ms.is_finite() {
            self.rejected.fetch_add(values.len() as u64, Ordering::Relaxed);
            return;
        }
        let kept: Box<[_]> = values.iter().copied().filter(|(_, v)| v.is_finite()).collect();
        self.rejected
            .fetch_add((values.len() - kept.len()) as u64, Ordering::Relaxed);
        if !kept.is_empty() {
            self.push(Record::Metrics { t_ms, values: kept });
        }
    }

    /// An alert at `at_ms`: `severity` is `info`, `warning` or `critical`; `evidence_json` must be JSON.
    pub fn alert(&self, at_ms: f64, rule: &str, severity: &str, message: &str, evidence_json: &str) {
        let valid = at_ms.is_finite()
            && matches!(severity, "info" | "warning" | "critical")
            && serde_json::from_str::<serde_json::Value>(evidence_json).is_ok();
        if valid {
            self.push(Record::Alert(AlertRecord {
                at_ms,
                rule: rule.to_owned(),
                severity: severity.to_owned(),
                message: message.to_owned(),
                evidence: evidence_json.to_owned(),
            }));
        } else {
            self.reject();
        }
    }

    /// A user tag at `at_ms`.
    pub fn tag(&self, at_ms: f64, name: &str) {
        if at_ms.is_finite() {
            self.push(Record::Tag {
                at_ms,
                name: name.to_owned(),
            });
        } else {
            self.reject();
        }
    }

    /// What the session's strap said about itself (its advertised name, device information) at wall time
    /// `seen_at` (Unix ms), stored in the strap table with the next commit: the live loop learns these
    /// mid-session and must not wait for the database to keep them. A detail not given keeps its stored
    /// value.
    pub fn strap(
        &self,
        address: &str,
        name: &str,
        manufacturer: Option<&str>,
        model: Option<&str>,
        seen_at: i64,
    ) {
        if address.trim().is_empty() {
            self.reject();
            return;
        }
        self.push(Record::Strap(StrapRecord {
            address: address.to_owned(),
            name: name.to_owned(),
            manufacturer: manufacturer.map(str::to_owned),
            model: model.map(str::to_owned),
            seen_at,
        }));
    }

    /// Rows dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Rows refused so far as bad input.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Stores everything queued and ends the task. Fails if a commit failed (naming how many rows were lost
    /// and why) or the task died.
    pub async fn finish(self) -> Result<WriteSummary, StoreError> {
        let Self {
            session,
            queue,
            task,
            rejected,
            dropped,
        } = self;
        drop(queue);
        let mut summary = task.await.map_err(|_| StoreError::WriterStopped(session.0))??;
        summary.rejected = rejected.load(Ordering::Relaxed);
        summary.dropped = dropped.load(Ordering::Relaxed);
        Ok(summary)
    }
}

async fn run(
    mut flusher: Flusher,
    mut records: mpsc::Receiver<Record>,
    config: WriterConfig,
) -> Result<WriteSummary, StoreError> {
    let mut tick = tokio::time::interval(config.flush_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut received = Vec::with_capacity(1024);
    loop {
        tokio::select! {
            n = records.recv_many(&mut received, 1024) => {
                if n == 0 {
                    break;
                }
                for record in received.drain(..) {
                    flusher.add(record);
                    if flusher.batch.rows() >= config.flush_rows {
                        flusher.flush().await;
                    }
                }
            }
            _ = tick.tick() => flusher.flush().await,
        }
    }
    flusher.flush().await;
    match flusher.first_error {
        None => Ok(flusher.summary),
        Some(source) => Err(StoreError::WriteFailed {
            session: flusher.session,
            rows: flusher.failed_rows,
            source,
        }),
    }
}

#[derive(Default)]
struct Batch {
    beats: Vec<(f64, f64, Option<&'static str>)>,
    gaps: Vec<(f64, f64)>,
    hr: Vec<(f64, f64)>,
    signals: Vec<(f64, Signal, bool)>,
    metrics: Vec<(f64, &'static str, f64)>,
    alerts: Vec<AlertRecord>,
    tags: Vec<(f64, String)>,
    straps: Vec<StrapRecord>,
}

impl Batch {
    fn rows(&self) -> usize {
        self.beats.len()
            + self.gaps.len()
            + self.hr.len()
            + self.signals.len()
            + self.metrics.len()
            + self.alerts.len()
            + self.tags.len()
            + self.straps.len()
    }

    fn clear(&mut self) {
        self.beats.clear();
        self.gaps.clear();
        self.hr.clear();
        self.signals.clear();
        self.metrics.clear();
        self.alerts.clear();
        self.tags.clear();
        self.straps.clear();
    }
}

struct Flusher {
    pool: SqlitePool,
    session: i64,
    started_at: i64,
    batch: Batch,
    last_beat: f64,
    last_hr: f64,
    /// Multi-row INSERT statements by (table, rows); rows are powers of two so few distinct statements exist
    /// and sqlx's per-connection statement cache keeps them all prepared.
    statements: HashMap<(Table, usize), Arc<str>>,
    summary: WriteSummary,
    rejected: Arc<AtomicU64>,
    failed_rows: u64,
    /// Kept whole for `finish`, which is its only reader (so no sharing, no flattening to text).
    first_error: Option<sqlx::Error>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Table {
    Beats,
    Gaps,
    Hr,
    Signals,
    Metrics,
}

impl Table {
    fn head(self) -> &'static str {
        match self {
            Self::Beats => "INSERT INTO beats (session_id, t_ms, rr_ms, artifact) VALUES ",
            Self::Gaps => "INSERT INTO gaps (session_id, from_ms, to_ms) VALUES ",
            Self::Hr => "INSERT INTO hr_samples (session_id, t_ms, bpm) VALUES ",
            Self::Signals => "INSERT INTO signal_changes (session_id, t_ms, signal, up) VALUES ",
            Self::Metrics => "INSERT INTO metric_snapshots (session_id, t_ms, name, value) VALUES ",
        }
    }

    /// The outbox kind of the table's rows.
    fn outbox_kind(self) -> OutboxKind {
        match self {
            Self::Beats => OutboxKind::Beats,
            Self::Gaps => OutboxKind::Gaps,
            Self::Hr => OutboxKind::HrSamples,
            Self::Signals => OutboxKind::Signals,
            Self::Metrics => OutboxKind::Metrics,
        }
    }

    fn columns(self) -> usize {
        match self {
            Self::Beats | Self::Signals | Self::Metrics => 4,
            Self::Gaps | Self::Hr => 3,
        }
    }
}

/// Rows per INSERT statement at most (4 columns × 256 = 1024 parameters, far below SQLite's limit).
const MAX_CHUNK: usize = 256;

fn insert_sql(table: Table, rows: usize) -> Arc<str> {
    let tuple = format!("({})", vec!["?"; table.columns()].join(","));
    let mut sql = String::from(table.head());
    sql.push_str(&vec![tuple; rows].join(","));
    // A repeated key (the same beat stored by two writers of one session) is kept once, not an error that
    // would lose the whole batch.
    sql.push_str(" ON CONFLICT DO NOTHING");
    sql.into()
}

impl Flusher {
    fn add(&mut self, record: Record) {
        let batch = &mut self.batch;
        match record {
            Record::Beat {
                t_ms,
                rr_ms,
                artifact,
            } => {
                if t_ms > self.last_beat {
                    self.last_beat = t_ms;
                    batch.beats.push((t_ms, rr_ms, artifact));
                } else {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Record::Gap { from_ms, to_ms } => batch.gaps.push((from_ms, to_ms)),
            Record::Hr { t_ms, bpm } => {
                if t_ms > self.last_hr {
                    self.last_hr = t_ms;
                    batch.hr.push((t_ms, bpm));
                } else {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
            Record::Signal { t_ms, signal, up } => batch.signals.push((t_ms, signal, up)),
            Record::Metrics { t_ms, values } => batch
                .metrics
                .extend(values.iter().map(|&(name, value)| (t_ms, name, value))),
            Record::Alert(alert) => batch.alerts.push(alert),
            Record::Tag { at_ms, name } => batch.tags.push((at_ms, name)),
            Record::Strap(strap) => batch.straps.push(strap),
        }
    }

    /// Commits the batch; on failure counts its rows as lost and keeps the first error for `finish`, so one
    /// failed commit (a full disk) neither stops the session nor grows memory with rows retried forever.
    async fn flush(&mut self) {
        let rows = self.batch.rows();
        if rows == 0 {
            return;
        }
        match self.commit().await {
            Ok(stored) => {
                tracing::debug!(rows, "batch committed");
                let s = &mut self.summary;
                s.beats += stored.beats;
                s.gaps += stored.gaps;
                s.hr_samples += stored.hr_samples;
                s.signals += stored.signals;
                s.metric_values += stored.metric_values;
                s.alerts += stored.alerts;
                s.tags += stored.tags;
            }
            Err(error) => {
                tracing::warn!(%error, rows, "a commit failed; its rows are lost");
                self.failed_rows += rows as u64;
                self.first_error.get_or_insert(error);
            }
        }
        self.batch.clear();
    }

    async fn commit(&mut self) -> Result<WriteSummary, sqlx::Error> {
        let mut stored = WriteSummary::default();
        let mut tx = crate::begin_write(&self.pool).await?;
        let session = self.session;
        let batch = &self.batch;
        let statements = &mut self.statements;
        stored.gaps = insert_series(
            &mut tx,
            statements,
            Table::Gaps,
            session,
            &batch.gaps,
            |g| g.0,
            |q, g| q.bind(session).bind(g.0).bind(g.1),
        )
        .await?;
        // Before the heart-rate samples: a change at a moment is queued before the notification of that
        // moment, so a reader that has a push's samples up to a time has its changes up to that time too.
        stored.signals = insert_series(
            &mut tx,
            statements,
            Table::Signals,
            session,
            &batch.signals,
            |c| c.0,
            |q, c| q.bind(session).bind(c.0).bind(c.1.as_str()).bind(i64::from(c.2)),
        )
        .await?;
        stored.hr_samples = insert_series(
            &mut tx,
            statements,
            Table::Hr,
            session,
            &batch.hr,
            |h| h.0,
            |q, h| q.bind(session).bind(h.0).bind(h.1),
        )
        .await?;
        stored.metric_values = insert_series(
            &mut tx,
            statements,
            Table::Metrics,
            session,
            &batch.metrics,
            |m| m.0,
            |q, m| q.bind(session).bind(m.0).bind(m.1).bind(m.2),
        )
        .await?;
        // The beats last: a notification's heart-rate sample (and the gaps and changes before it) is queued
        // when it arrives, its beats up to 16 beats later when the labeller confirms them, so in outbox order
        // — the order pushes keep — beats seldom come before their time's samples, gaps and changes. Not
        // never: a session's first beats are confirmed with their notification, and one that carried
        // intervals without contact or heart rate stores beats and no sample, so a commit can hold a contact
        // change and beats alone (the server's feed waits for more before it takes beats with no sample for
        // a device that stores none).
        if !batch.beats.is_empty() {
            stored.beats = insert(&mut tx, statements, Table::Beats, &batch.beats, |q, b| {
                q.bind(session).bind(b.0).bind(b.1).bind(b.2)
            })
            .await?;
            let artifacts = batch.beats.iter().filter(|b| b.2.is_some()).count() as i64;
            let (first, last) = span(batch.beats.iter().map(|b| b.0));
            sqlx::query(
                // Numbered parameters throughout: sqlx numbers a bare `?` after `?3` as 4, not as SQLite would.
                "UPDATE sessions SET beat_count = beat_count + ?1, artifact_count = artifact_count + ?2, \
                 last_beat_ms = MAX(COALESCE(last_beat_ms, ?3), ?3) WHERE id = ?4",
            )
            .bind(to_i64(stored.beats))
            .bind(artifacts)
            .bind(last)
            .bind(session)
            .execute(&mut *tx)
            .await?;
            append_range(&mut tx, OutboxKind::Beats, session, (first, last), stored.beats).await?;
        }
        for alert in &batch.alerts {
            let query = sqlx::query(
                "INSERT INTO alerts (session_id, at_ms, at, rule, severity, message, evidence) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(session)
            .bind(alert.at_ms)
            .bind(self.started_at.saturating_add(alert.at_ms.round() as i64))
            .bind(&alert.rule)
            .bind(&alert.severity)
            .bind(&alert.message)
            .bind(&alert.evidence);
            insert_entity(&mut tx, query, OutboxKind::Alert, session).await?;
            stored.alerts += 1;
        }
        for (at_ms, name) in &batch.tags {
            let query =
                sqlx::query("INSERT INTO tags (session_id, at_ms, name) VALUES (?, ?, ?) RETURNING id")
                    .bind(session)
                    .bind(at_ms)
                    .bind(name);
            insert_entity(&mut tx, query, OutboxKind::Tag, session).await?;
            stored.tags += 1;
        }
        for strap in &batch.straps {
            let seen = StrapSeen {
                address: &strap.address,
                name: &strap.name,
                manufacturer: strap.manufacturer.as_deref(),
                model: strap.model.as_deref(),
                seen_at: strap.seen_at,
            };
            upsert_strap_on(&mut tx, &seen).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The smallest and largest of `times` (which is not empty).
fn span(times: impl Iterator<Item = f64>) -> (f64, f64) {
    times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    })
}

async fn append_range(
    conn: &mut SqliteConnection,
    kind: OutboxKind,
    session: i64,
    range: (f64, f64),
    rows: u64,
) -> Result<(), sqlx::Error> {
    outbox::append(
        conn,
        Change {
            kind,
            session_id: Some(session),
            entity_id: None,
            range: Some(range),
            rows: to_i64(rows),
        },
    )
    .await
}

/// Inserts the rows of a time-series table (not beats, whose counters need more) and the outbox row
/// covering their times; returns how many were new.
async fn insert_series<T>(
    conn: &mut SqliteConnection,
    statements: &mut HashMap<(Table, usize), Arc<str>>,
    table: Table,
    session: i64,
    rows: &[T],
    time: impl Fn(&T) -> f64,
    bind: impl Fn(SqliteQuery, &T) -> SqliteQuery,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    let stored = insert(&mut *conn, statements, table, rows, bind).await?;
    append_range(
        conn,
        table.outbox_kind(),
        session,
        span(rows.iter().map(time)),
        stored,
    )
    .await?;
    Ok(stored)
}

/// Runs an `INSERT … RETURNING id` of one alert or tag and appends its outbox row.
async fn insert_entity(
    conn: &mut SqliteConnection,
    query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    kind: OutboxKind,
    session: i64,
) -> Result<(), sqlx::Error> {
    let id: i64 = sqlx::Row::try_get(&query.fetch_one(&mut *conn).await?, 0)?;
    outbox::append(
        conn,
        Change {
            kind,
            session_id: Some(session),
            entity_id: Some(id),
            range: None,
            rows: 1,
        },
    )
    .await
}

type SqliteQuery = sqlx::query::Query<'static, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Inserts `rows` with multi-row statements of 256, 128, …, 1 rows; returns how many were new.
async fn insert<T>(
    conn: &mut SqliteConnection,
    statements: &mut HashMap<(Table, usize), Arc<str>>,
    table: Table,
    rows: &[T],
    bind: impl Fn(SqliteQuery, &T) -> SqliteQuery,
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    let mut rest = rows;
    while !rest.is_empty() {
        let n = MAX_CHUNK.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(n);
        let sql = statements
            .entry((table, n))
            .or_insert_with(|| insert_sql(table, n))
            .clone();
        let query = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind);
        inserted += query.execute(&mut *conn).await?.rows_affected();
        rest = tail;
    }
    Ok(inserted)
}

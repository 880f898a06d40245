//! A session's full HRV panel, computed from its stored beats and kept in the store's session panels, so
//! that readers (the coach's get_session and trends of panel metrics, the History view) only read. The
//! engine stores a recorded session's panel when the session ends (live, morning reading, import), and
//! [`refresh_panels`] computes the ones still missing or stale: sessions stored before panels were kept,
//! sessions that arrived by sync, and every panel of a computation that changed since.
//!
//! The method a panel is stored under ([`panel_method`]) is derived, not written by hand: the crate version,
//! a hash of the panel and artifact-correction settings, and a hash of the panel computed over a fixed probe
//! series. Any change of those settings, or of the code in a way that changes a number of the probe's panel,
//! gives a new method, and every stored panel is then recomputed by the next refresh (or on its next read)
//! without anyone remembering to bump a version.

use std::sync::OnceLock;

use auren_hrv::artifacts::CorrectionConfig;
use auren_hrv::panel::{PanelOptions, analyze};
use auren_hrv::settings::Settings;
use auren_store::{AlertRow, BeatRow, GapRow, SessionId, SessionRow, Store, StoredPanel};

use crate::error::EngineError;
use crate::query::corrected_nn;

/// What computes a session's panel, in words (the receipts' method text starts with it).
pub const PANEL_COMPUTATION: &str = "auren-engine session panel: auren-hrv reference settings (Welch) over \
                                     Lipponen-Tarvainen corrected beats per gap-free stretch";

/// The name stored panels are kept under: [`PANEL_COMPUTATION`] with the fingerprint of the computation as
/// built (`auren-engine <version>`, settings hash, probe hash). Computed once per process (a probe panel of
/// 1,200 beats, well under a millisecond in release).
pub fn panel_method() -> &'static str {
    static METHOD: OnceLock<String> = OnceLock::new();
    METHOD.get_or_init(|| {
        let settings = format!(
            "{:?} {:?}",
            Settings::from(&PanelOptions::default()),
            CorrectionConfig::default()
        );
        format!(
            "{PANEL_COMPUTATION}; auren-engine {}, settings {:016x}, probe {:016x}",
            env!("CARGO_PKG_VERSION"),
            fnv1a(settings.as_bytes()),
            probe_fingerprint()
        )
    })
}

/// FNV-1a over `bytes`: a hash that is the same in every build and process (std's hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The probe: 1,200 beats (~19 minutes, long enough for VLF, DFA α2 and the geometric metrics) with
/// breathing and slower waves, a missed beat and an extra one for the correction to find, and a gap that
/// splits it in two stretches — the same per-stretch path a session takes.
fn probe_beats() -> (Vec<BeatRow>, Vec<GapRow>) {
    let mut beats = Vec::with_capacity(1_200);
    let mut t_ms = 0.0;
    for i in 0..1_200_u32 {
        let x = f64::from(i);
        let mut rr_ms = 940.0 + 45.0 * (x / 4.3).sin() + 25.0 * (x / 37.0).sin() + 7.0 * (x * 1.7).cos();
        if i == 300 {
            rr_ms *= 2.0;
        }
        if i == 700 {
            rr_ms *= 0.45;
        }
        if i == 600 {
            // A gap of 20 s before this beat.
            t_ms += 20_000.0;
        }
        t_ms += rr_ms;
        beats.push(BeatRow {
            t_ms,
            rr_ms,
            artifact: None,
        });
    }
    let gap_from = beats.get(599).map_or(0.0, |b| b.t_ms);
    let gaps = vec![GapRow {
        from_ms: gap_from,
        to_ms: gap_from + 20_000.0,
    }];
    (beats, gaps)
}

/// A hash of every value (its bits) and the beat count of the probe's panel.
fn probe_fingerprint() -> u64 {
    let (beats, gaps) = probe_beats();
    let (n_beats, values) = panel_of(&beats, &gaps);
    let mut bytes = Vec::with_capacity(values.len() * 24);
    bytes.extend_from_slice(&(n_beats as u64).to_le_bytes());
    for (key, value) in values {
        bytes.extend_from_slice(key.as_bytes());
        match value {
            Some(v) => bytes.extend_from_slice(&v.to_bits().to_le_bytes()),
            None => bytes.push(0xff),
        }
    }
    fnv1a(&bytes)
}

/// The panel of stored beats: beats analysed after the correction, and `(metric key, value)` sorted by key
/// (the order a stored panel reads back in); `None` where a metric could not be computed.
fn panel_of(beats: &[BeatRow], gaps: &[GapRow]) -> (usize, Vec<(String, Option<f64>)>) {
    let nn: Vec<f64> = corrected_nn(beats, gaps).concat();
    let panel = analyze(&nn, &PanelOptions::default());
    let mut values: Vec<(String, Option<f64>)> = panel
        .entries()
        .map(|(key, metric)| (key.to_owned(), metric.as_ref().ok().copied()))
        .collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    (panel.n_beats, values)
}

/// A session's panel as just computed, with what a reader shows beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct ComputedPanel {
    /// The session as read with its beats: its `beat_count` and `last_beat_ms` are the panel's fingerprint.
    pub session: SessionRow,
    /// Beats analysed after the correction.
    pub n_beats: usize,
    /// `(metric key, value)` sorted by key; `None` where a metric could not be computed.
    pub values: Vec<(String, Option<f64>)>,
    pub gap_count: usize,
    pub alerts: Vec<AlertRow>,
}

impl ComputedPanel {
    /// The panel as the store keeps it, under [`panel_method`].
    pub fn stored(&self) -> StoredPanel {
        StoredPanel {
            session: self.session.id,
            method: panel_method().to_owned(),
            beat_count: self.session.beat_count,
            last_beat_ms: self.session.last_beat_ms,
            n_beats: i64::try_from(self.n_beats).unwrap_or(i64::MAX),
            values: self.values.clone(),
        }
    }
}

/// Computes session `id`'s panel from its beats (read in one transaction with the session row, so the
/// fingerprint is that of the beats analysed); the analysis runs on the blocking pool, off the runtime's
/// workers. Stores nothing.
pub async fn compute_panel(store: &Store, id: i64) -> Result<ComputedPanel, EngineError> {
    let detail = store
        .session_detail(SessionId(id))
        .await?
        .ok_or(EngineError::NoSuchSession(id))?;
    let (beats, gaps) = (detail.beats, detail.gaps);
    let gap_count = gaps.len();
    let (n_beats, values) = tokio::task::spawn_blocking(move || panel_of(&beats, &gaps))
        .await
        .map_err(|e| EngineError::BadQuery(format!("the panel computation of session {id} failed: {e}")))?;
    Ok(ComputedPanel {
        session: detail.session,
        n_beats,
        values,
        gap_count,
        alerts: detail.alerts,
    })
}

/// Computes session `id`'s panel and stores it, stamped `computed_at_unix_ms`.
pub async fn store_panel(
    store: &Store,
    id: i64,
    computed_at_unix_ms: i64,
) -> Result<ComputedPanel, EngineError> {
    let computed = compute_panel(store, id).await?;
    store
        .put_session_panel(&computed.stored(), computed_at_unix_ms)
        .await?;
    Ok(computed)
}

/// What a refresh did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PanelRefresh {
    /// Panels computed and stored.
    pub stored: u64,
    /// Sessions whose panel could not be computed or stored (logged; their readers compute it themselves).
    pub failed: u64,
}

/// Computes and stores the panel of every ended session with beats whose stored panel is missing or stale
/// under [`panel_method`], most recent first — each at most once per call, so beats arriving meanwhile never
/// keep it going. A session that fails is logged and skipped.
pub async fn refresh_panels(store: &Store, computed_at_unix_ms: i64) -> Result<PanelRefresh, EngineError> {
    let mut done = PanelRefresh::default();
    for id in store.sessions_needing_panel(panel_method()).await? {
        match store_panel(store, id.0, computed_at_unix_ms).await {
            Ok(_) => done.stored += 1,
            Err(error) => {
                tracing::warn!(%error, session = id.0, "the session's panel could not be stored");
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// [`refresh_panels`] in a background task (after the database opens, after a sync round that pulled);
/// its outcome is logged.
pub fn refresh_panels_in_background(store: Store, computed_at_unix_ms: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match refresh_panels(&store, computed_at_unix_ms).await {
            Ok(done) if done.stored > 0 || done.failed > 0 => {
                tracing::info!(
                    stored = done.stored,
                    failed = done.failed,
                    "session panels refreshed"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "the session panels could not be refreshed"),
        }
    })
}

//! A session's full HRV panel, computed from its stored beats and kept in the store's session panels, so
//! that readers (the coach's get_session and trends of panel metrics, the History view) only read. The
//! engine stores a recorded session's panel when the session ends (live, morning reading, import), and
//! [`refresh_panels`] computes the ones still missing or stale: sessions stored before panels were kept,
//! sessions that arrived by sync, and every panel of a computation that changed since.
//!
//! The method a panel is stored under ([`panel_method`]) is derived, not written by hand: a hash of the panel
//! and artifact-correction settings, and a hash of the panels computed over fixed probe series. Any change of
//! those settings, or of the code in a way that changes a number (a single bit) of a probe's panel, gives a
//! new method, and every stored panel is then recomputed by the next refresh (or on its next read) without
//! anyone remembering to bump a version.
//!
//! No crate version is part of it: every workspace crate is `0.0.0`, so a version said nothing, and a version
//! bumped by hand is the rule this replaces. What a version would add is already in the probes: a change of
//! auren-hrv, of the correction, or of a numeric dependency that moves any value shows in the probe hash,
//! bit for bit. A change the probes cannot see is one that moves no value on a long series with missed and
//! extra beats and a gap, nor on a series too short for the slow metrics — the two probes are chosen to take
//! the per-stretch path, the correction, and the "too short for this metric" answers a session can take.

use std::sync::OnceLock;

use auren_hrv::artifacts::CorrectionConfig;
use auren_hrv::panel::{PanelOptions, analyze};
use auren_hrv::settings::Settings;
use auren_store::{
    AlertRow, BeatRow, GapRow, RecordingHere, SessionId, SessionRow, SessionStatus, Store, StoredPanel,
};

use crate::error::EngineError;
use crate::query::corrected_nn;

/// What computes a session's panel, in words (the receipts' method text starts with it).
pub const PANEL_COMPUTATION: &str = "auren-engine session panel: auren-hrv reference settings (Welch) over \
                                     Lipponen-Tarvainen corrected beats per gap-free stretch";

/// The name stored panels are kept under: [`PANEL_COMPUTATION`] with the fingerprint of the computation as
/// built (settings hash, probe hash). Computed once per process (the two probe panels).
pub fn panel_method() -> &'static str {
    static METHOD: OnceLock<String> = OnceLock::new();
    METHOD.get_or_init(derive_panel_method)
}

/// [`panel_method`] derived anew, not cached: the settings hash and both probes' panels, which is what the
/// first reader or refresh of a process pays (`cargo xtask bench agents` times it).
pub fn derive_panel_method() -> String {
    derive_method(&settings_text(), panel_of)
}

/// The settings a panel is computed with, as text (their `Debug` form: every field and its value).
fn settings_text() -> String {
    format!(
        "{:?} {:?}",
        Settings::from(&PanelOptions::default()),
        CorrectionConfig::default()
    )
}

/// A panel computation over stored beats: `(beats analysed, (metric key, value) sorted by key)`.
type PanelComputation = fn(&[BeatRow], &[GapRow]) -> (usize, Vec<(String, Option<f64>)>);

/// The method of the computation `compute` run with the settings `settings`: the description, the settings'
/// hash and the hash of `compute`'s panels of the probes.
fn derive_method(settings: &str, compute: PanelComputation) -> String {
    format!(
        "{PANEL_COMPUTATION}; fingerprints, settings {:016x}, probe {:016x}",
        fnv1a(settings.as_bytes()),
        probe_fingerprint(compute)
    )
}

/// FNV-1a over `bytes`: a hash that is the same in every build and process (std's hasher promises neither).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The long probe: 1,200 beats (~19 minutes, long enough for VLF, DFA α2 and the geometric metrics) with
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

/// The short probe: the first 90 beats of the long one (under 1.5 minutes, no gap), too short for the slow
/// metrics, so a change of where a metric gives up (its minimum length) changes the fingerprint too.
fn short_probe_beats() -> (Vec<BeatRow>, Vec<GapRow>) {
    let (mut beats, _) = probe_beats();
    beats.truncate(90);
    (beats, Vec::new())
}

/// A hash of the beat count and every value (its bits, or "none") of `compute`'s panel of each probe.
fn probe_fingerprint(compute: PanelComputation) -> u64 {
    let mut bytes = Vec::new();
    for (beats, gaps) in [probe_beats(), short_probe_beats()] {
        let (n_beats, values) = compute(&beats, &gaps);
        bytes.extend_from_slice(&(n_beats as u64).to_le_bytes());
        for (key, value) in values {
            bytes.extend_from_slice(key.as_bytes());
            match value {
                Some(v) => bytes.extend_from_slice(&v.to_bits().to_le_bytes()),
                None => bytes.push(0xff),
            }
        }
    }
    fnv1a(&bytes)
}

/// The panel of stored beats: beats analysed after the correction, and `(metric key, value)` sorted by key
/// (the order a stored panel reads back in); `None` where a metric could not be computed.
fn panel_of(beats: &[BeatRow], gaps: &[GapRow]) -> (usize, Vec<(String, Option<f64>)>) {
    panel_with(beats, gaps, &PanelOptions::default())
}

/// [`panel_of`] with other panel options.
fn panel_with(
    beats: &[BeatRow],
    gaps: &[GapRow],
    options: &PanelOptions,
) -> (usize, Vec<(String, Option<f64>)>) {
    let nn: Vec<f64> = corrected_nn(beats, gaps).concat();
    let panel = analyze(&nn, options);
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
    /// The session's outages, overlapping gaps counted once ([`auren_store::SessionPanelView::outages`]).
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
    let gap_count = auren_store::SessionPanelView::outages(&gaps);
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

/// Whether session `id` has a stored panel that is current: under [`panel_method`] and of the beats the
/// session has now. `false` for a session that does not exist.
pub async fn panel_is_current(store: &Store, id: i64) -> Result<bool, EngineError> {
    Ok(store
        .session_panel_view(SessionId(id))
        .await?
        .is_some_and(|view| {
            view.panel
                .is_some_and(|p| p.is_fresh_for(&view.session, panel_method()))
        }))
}

/// How long a session without an end time must have had no new beat before a refresh takes it as over and
/// stores its panel: 10 minutes.
///
/// A session without an end time is either being recorded now or will never be ended: the process recording
/// it was killed, an import crashed, or the other device that recorded it died before syncing the end. Which
/// one cannot be told from this process — `auren record`/`auren replay` in another process, or a phone whose
/// session arrives by sync, record while the desktop refreshes, so "this process records nothing" or "the app
/// started after it" say nothing about them. The last beat's age can: a recorder commits its beats every
/// 250 ms (the store's writer), so a session being recorded has a last beat seconds old; one 10 minutes
/// silent has stopped, or lost its strap for that long. Taking the latter for over is safe: its panel is
/// stored under the beats it analysed, so beats arriving later make it stale and the next refresh (or read)
/// computes it again — one panel computation wasted, never a wrong panel read.
pub const UNENDED_SESSION_QUIET_MS: i64 = 10 * 60_000;

/// Whether a session is over for the panels at `now_unix_ms`: it has beats, and by the store's rule
/// ([`SessionRow::status`] over [`UNENDED_SESSION_QUIET_MS`]) it is not being recorded — ended, or without
/// an end time and silent for the quiet span. The rule [`refresh_panels`] applies in its query.
pub fn is_over(session: &SessionRow, now_unix_ms: i64) -> bool {
    session.beat_count > 0
        && session.status(now_unix_ms, UNENDED_SESSION_QUIET_MS, RecordingHere::Nothing)
            != SessionStatus::Recording
}

/// The last-beat time before which a session without an end time is over at `now_unix_ms`.
fn unended_last_beat_before(now_unix_ms: i64) -> i64 {
    now_unix_ms.saturating_sub(UNENDED_SESSION_QUIET_MS)
}

/// What a refresh did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PanelRefresh {
    /// Panels computed and stored.
    pub stored: u64,
    /// Sessions whose panel could not be computed or stored (logged; their readers compute it themselves).
    pub failed: u64,
}

/// Computes and stores the panel of every session over at `now_unix_ms` ([`is_over`]: ended, or without an
/// end time and silent for [`UNENDED_SESSION_QUIET_MS`]) with beats whose stored panel is missing or stale
/// under [`panel_method`], most recent first — each at most once per call, so beats arriving meanwhile never
/// keep it going. Panels are stamped `now_unix_ms`. A session that fails is logged and skipped.
pub async fn refresh_panels(store: &Store, now_unix_ms: i64) -> Result<PanelRefresh, EngineError> {
    let mut done = PanelRefresh::default();
    let needing = store
        .sessions_needing_panel(panel_method(), unended_last_beat_before(now_unix_ms))
        .await?;
    for id in needing {
        match store_panel(store, id.0, now_unix_ms).await {
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
pub fn refresh_panels_in_background(store: Store, now_unix_ms: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match refresh_panels(&store, now_unix_ms).await {
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

#[cfg(test)]
mod tests {
    use auren_hrv::frequency::SpectrumMethod;
    use auren_hrv::panel::PanelOptions;
    use auren_store::{BeatRow, GapRow};

    use super::{derive_method, panel_of, panel_with, probe_beats, settings_text, short_probe_beats};

    type Values = (usize, Vec<(String, Option<f64>)>);

    /// The computation with the Lomb–Scargle spectrum instead of Welch: a changed setting the settings text
    /// does not name.
    fn lomb_scargle(beats: &[BeatRow], gaps: &[GapRow]) -> Values {
        let options = PanelOptions {
            spectrum: SpectrumMethod::LombScargle,
        };
        panel_with(beats, gaps, &options)
    }

    /// The computation with one value moved by the smallest step a float has.
    fn one_ulp_off(beats: &[BeatRow], gaps: &[GapRow]) -> Values {
        let (n, mut values) = panel_of(beats, gaps);
        if let Some((_, Some(v))) = values.iter_mut().find(|(key, _)| key == "rmssd_ms") {
            *v = f64::from_bits(v.to_bits() + 1);
        }
        (n, values)
    }

    /// The computation giving up on every metric it could not compute on a short series… and on one more.
    fn gives_up_sooner(beats: &[BeatRow], gaps: &[GapRow]) -> Values {
        let (n, mut values) = panel_of(beats, gaps);
        if n < 100
            && let Some((_, v)) = values
                .iter_mut()
                .find(|(key, v)| v.is_some() && key != "rmssd_ms")
        {
            *v = None;
        }
        (n, values)
    }

    /// The computation counting one beat fewer.
    fn counts_differently(beats: &[BeatRow], gaps: &[GapRow]) -> Values {
        let (n, values) = panel_of(beats, gaps);
        (n.saturating_sub(1), values)
    }

    #[test]
    fn the_short_probe_is_too_short_for_some_metrics_that_the_long_one_has() {
        let computed = |(beats, gaps): (Vec<BeatRow>, Vec<GapRow>)| {
            let (_, values) = panel_of(&beats, &gaps);
            values
                .into_iter()
                .filter_map(|(key, value)| value.map(|_| key))
                .collect::<Vec<_>>()
        };
        let long = computed(probe_beats());
        let short = computed(short_probe_beats());
        assert!(short.contains(&"rmssd_ms".to_owned()), "{short:?}");
        let only_long: Vec<&String> = long.iter().filter(|key| !short.contains(key)).collect();
        assert!(!only_long.is_empty(), "long {long:?}, short {short:?}");
    }

    #[test]
    fn a_changed_setting_or_computation_derives_another_method_and_the_same_one_the_same() {
        let built = derive_method(&settings_text(), panel_of);
        assert_eq!(built, super::panel_method());
        let other_settings = settings_text().replace("Welch", "LombScargle");
        assert_ne!(
            other_settings,
            settings_text(),
            "the settings text names the spectrum"
        );
        // Stored panels are recomputed when the artifact correction places its intervals otherwise.
        let other_placement = settings_text().replace("placement: Levels", "placement: Even");
        assert_ne!(
            other_placement,
            settings_text(),
            "the settings text names the correction placement"
        );
        let cases: [(&str, String, bool); 7] = [
            (
                "the same computation",
                derive_method(&settings_text(), panel_of),
                true,
            ),
            ("another setting", derive_method(&other_settings, panel_of), false),
            (
                "another correction placement",
                derive_method(&other_placement, panel_of),
                false,
            ),
            (
                "another spectrum, settings text unchanged",
                derive_method(&settings_text(), lomb_scargle),
                false,
            ),
            (
                "one value one ulp off",
                derive_method(&settings_text(), one_ulp_off),
                false,
            ),
            (
                "a metric given up on the short probe",
                derive_method(&settings_text(), gives_up_sooner),
                false,
            ),
            (
                "another beat count",
                derive_method(&settings_text(), counts_differently),
                false,
            ),
        ];
        for (name, method, same) in cases {
            assert_eq!(method == built, same, "{name}: {method} vs {built}");
        }
    }
}

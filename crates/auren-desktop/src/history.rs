//! History: today's readiness and its trend, the session list, a session's panel and its charts
//! (every stored beat and the Welch spectrum) — the account's own, or, for a coach, each athlete's who
//! granted access: their sessions and morning trend as sync pulled them, read-only (the store refuses edits
//! of an athlete's session), never mixed into the coach's own trend or normal range.

use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{AbsentDto, BeatDto, ReadinessDto, SessionSummaryDto};
use auren_engine::query;
use auren_store::{RecordingHere, SessionId, SessionRow};

use crate::desktop::Desktop;
use crate::dto::{
    BandDto, BandNameDto, HistoryOwnerDto, SessionAnnotationsDto, SessionChartsDto, SessionEndDto,
    SessionListItemDto, SessionViewDto, SpectrumDto, SpectrumMethodDto,
};
use crate::error::DesktopError;

/// Most days of readiness trend one query returns.
pub const MAX_TREND_DAYS: u32 = 3_650;
/// Most sessions one page of the list returns.
pub const MAX_PAGE: u32 = 500;

impl Desktop {
    pub async fn readiness_today(&self) -> Result<ReadinessDto, DesktopError> {
        let store = self.store().await;
        Ok(query::readiness_on(&store, UnixMillis(now_unix_ms()).day_number()).await?)
    }

    pub async fn daily_trend(&self, days: u32) -> Result<Vec<ReadinessDto>, DesktopError> {
        let (from, today) = trend_days(days)?;
        let store = self.store().await;
        Ok(query::daily_trend(&store, from, today).await?)
    }

    /// A page of the session list, each with where its recording stands now.
    pub async fn list_sessions(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionListItemDto>, DesktopError> {
        let here = self.recording_here().await;
        let store = self.store().await;
        let rows = store.sessions(limit.clamp(1, MAX_PAGE), offset).await?;
        Ok(list_items(&rows, here))
    }

    /// The History picker's entries: the account's own data first, then each athlete whose data this device
    /// holds or whose grant the last sync saw, by email. Read from the database, so it works offline.
    pub async fn history_owners(&self) -> Result<Vec<HistoryOwnerDto>, DesktopError> {
        let store = self.store().await;
        let athletes = store.athletes().await?;
        Ok(std::iter::once(HistoryOwnerDto::Own)
            .chain(
                athletes
                    .into_iter()
                    .map(|email| HistoryOwnerDto::Athlete { email }),
            )
            .collect())
    }

    /// A page of athlete `athlete`'s (email) sessions as the coach's device pulled them, with the same
    /// columns as [`Desktop::list_sessions`].
    pub async fn athlete_sessions(
        &self,
        athlete: String,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionListItemDto>, DesktopError> {
        let athlete = self.known_athlete(&athlete).await?;
        let store = self.store().await;
        let rows = store
            .athlete_sessions(&athlete, limit.clamp(1, MAX_PAGE), offset)
            .await?;
        // This app never records an athlete's session: each is judged by its stored rows alone.
        Ok(list_items(&rows, RecordingHere::Nothing))
    }

    /// Athlete `athlete`'s morning trend over the last `days` days, from their pulled mornings alone: their
    /// own normal range, never the coach's.
    pub async fn athlete_daily_trend(
        &self,
        athlete: String,
        days: u32,
    ) -> Result<Vec<ReadinessDto>, DesktopError> {
        let (from, today) = trend_days(days)?;
        let athlete = self.known_athlete(&athlete).await?;
        let store = self.store().await;
        let readings = store
            .athlete_morning_readings(&athlete, query::earliest_reading_day(from), today)
            .await?;
        Ok(query::daily_trend_of(&readings, from, today)?)
    }

    /// `athlete` trimmed, if it is one of the athletes the picker lists.
    async fn known_athlete(&self, athlete: &str) -> Result<String, DesktopError> {
        let athlete = athlete.trim();
        let store = self.store().await;
        if store.athletes().await?.iter().any(|a| a == athlete) {
            return Ok(athlete.to_owned());
        }
        Err(DesktopError::InvalidInput(format!(
            "{athlete:?} is not an athlete whose data this device holds: they grant access, then a sync fetches it"
        )))
    }

    pub(crate) async fn session_summary(&self, id: i64) -> Result<SessionSummaryDto, DesktopError> {
        let store = self.store().await;
        let row = store
            .session(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        Ok(query::session_summary(&row))
    }

    /// Session `id` with its full panel, and where its recording stands now.
    pub async fn session_detail(&self, id: i64) -> Result<SessionViewDto, DesktopError> {
        let (now, here) = (now_unix_ms(), self.recording_here().await);
        let store = self.store().await;
        // One read: the panel and the end are of the same row.
        let detail = store
            .session_detail(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        Ok(SessionViewDto {
            detail: query::session_detail_of(&detail),
            end: SessionEndDto::of(&detail.session, now, here),
            owner: HistoryOwnerDto::of(detail.session.athlete.as_deref()),
            annotations: SessionAnnotationsDto::of(&detail.session, &detail.tags),
        })
    }

    /// The session this app is recording now: it stays recording however long its strap is silent, in
    /// History and in the chat's tools.
    pub(crate) async fn recording_here(&self) -> RecordingHere {
        match self.live_status().await {
            Some(live) => RecordingHere::Session(SessionId(live.session_id)),
            None => RecordingHere::Nothing,
        }
    }

    pub async fn session_charts(&self, id: i64) -> Result<SessionChartsDto, DesktopError> {
        let store = self.store().await;
        let detail = store
            .session_detail(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        let beats = (0..)
            .zip(&detail.beats)
            .map(|(index, row)| BeatDto::stored(index, row))
            .collect();
        let (spectrum, spectrum_absent) = match spectrum_of(&query::corrected_nn(&detail.beats, &detail.gaps))
        {
            Ok(s) => (Some(s), None),
            Err(why) => (None, Some(why)),
        };
        Ok(SessionChartsDto {
            beats,
            spectrum,
            spectrum_absent,
        })
    }
}

/// The first and last day of a trend of `days` days ending today (UTC day numbers, as every trend counts).
fn trend_days(days: u32) -> Result<(i64, i64), DesktopError> {
    if !(1..=MAX_TREND_DAYS).contains(&days) {
        return Err(DesktopError::InvalidInput(format!(
            "a trend covers 1–{MAX_TREND_DAYS} days, not {days}"
        )));
    }
    let today = UnixMillis(now_unix_ms()).day_number();
    Ok((today - i64::from(days) + 1, today))
}

/// Sessions as the list shows them, each with where its recording stands now.
fn list_items(rows: &[SessionRow], here: RecordingHere) -> Vec<SessionListItemDto> {
    let now = now_unix_ms();
    rows.iter()
        .map(|row| SessionListItemDto {
            summary: query::session_summary(row),
            end: SessionEndDto::of(row, now, here),
        })
        .collect()
}

/// The Welch spectrum of the corrected intervals, joined across gaps exactly as the session panel's
/// frequency domain joins them, so the chart and the numbers agree.
pub(crate) fn spectrum_of(segments: &[Vec<f64>]) -> Result<SpectrumDto, AbsentDto> {
    use auren_hrv::frequency::{HF, LF, VLF, welch_psd};
    let nn = segments.concat();
    let psd = welch_psd(&nn).map_err(|why| AbsentDto::from(&why))?;
    let n = psd.density.len();
    let freq_hz: Vec<f64> = (0..n).map(|k| psd.frequency(k)).collect();
    let keep = freq_hz.iter().take_while(|f| **f <= 0.5).count();
    let bands = [
        (BandNameDto::Vlf, VLF),
        (BandNameDto::Lf, LF),
        (BandNameDto::Hf, HF),
    ]
    .into_iter()
    .map(|(name, band)| BandDto {
        name,
        lo_hz: band.lo,
        hi_hz: band.hi,
    })
    .collect();
    Ok(SpectrumDto {
        freq_hz: freq_hz[..keep].to_vec(),
        power_ms2_hz: psd.density[..keep].to_vec(),
        method: SpectrumMethodDto::Welch,
        bands,
    })
}

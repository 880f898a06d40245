//! History: today's readiness and its trend, the session list, a session's panel and its charts
//! (every stored beat and the Welch spectrum).

use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{AbsentDto, BeatDto, ReadinessDto, SessionSummaryDto};
use auren_engine::query;
use auren_store::{RecordingHere, SessionId};

use crate::desktop::Desktop;
use crate::dto::{
    BandDto, BandNameDto, SessionChartsDto, SessionEndDto, SessionListItemDto, SessionViewDto, SpectrumDto,
    SpectrumMethodDto,
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
        if !(1..=MAX_TREND_DAYS).contains(&days) {
            return Err(DesktopError::InvalidInput(format!(
                "a trend covers 1–{MAX_TREND_DAYS} days, not {days}"
            )));
        }
        let today = UnixMillis(now_unix_ms()).day_number();
        let store = self.store().await;
        Ok(query::daily_trend(&store, today - i64::from(days) + 1, today).await?)
    }

    /// A page of the session list, each with where its recording stands now.
    pub async fn list_sessions(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionListItemDto>, DesktopError> {
        let (now, here) = (now_unix_ms(), self.recording_here().await);
        let store = self.store().await;
        let rows = store.sessions(limit.clamp(1, MAX_PAGE), offset).await?;
        Ok(rows
            .iter()
            .map(|row| SessionListItemDto {
                summary: query::session_summary(row),
                end: SessionEndDto::of(row, now, here),
            })
            .collect())
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

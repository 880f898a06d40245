//! History: today's readiness and its trend, the session list, a session's panel and its charts
//! (every stored beat and the Welch spectrum).

use auren_clock::{UnixMillis, now_unix_ms};
use auren_engine::dto::{AbsentDto, BeatDto, ReadinessDto, SessionSummaryDto};
use auren_engine::panels::UNENDED_SESSION_QUIET_MS;
use auren_engine::query;
use auren_store::{SessionId, SessionRow, SessionStatus};

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
        let ends = self.ends_now().await;
        let store = self.store().await;
        let rows = store.sessions(limit.clamp(1, MAX_PAGE), offset).await?;
        Ok(rows
            .iter()
            .map(|row| SessionListItemDto {
                summary: query::session_summary(row),
                end: ends.of(row),
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
        let ends = self.ends_now().await;
        let store = self.store().await;
        let row = store
            .session(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        Ok(SessionViewDto {
            detail: query::session_detail(&store, id).await?,
            end: ends.of(&row),
        })
    }

    /// What decides a session's end now: the clock, and the session this app is recording.
    async fn ends_now(&self) -> Ends {
        Ends {
            now_unix_ms: now_unix_ms(),
            recording_here: self.live_status().await.map(|live| live.session_id),
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

/// Where sessions stand at one moment, as History shows them.
#[derive(Clone, Copy, Debug)]
struct Ends {
    now_unix_ms: i64,
    /// The session this app records now, if any.
    recording_here: Option<i64>,
}

impl Ends {
    /// The store's rule (ended; else recording while its last beat is under the engine's quiet span old;
    /// else no end recorded), except that the session this app records stays recording however long its
    /// strap has been silent: this process knows it is not over.
    fn of(&self, row: &SessionRow) -> SessionEndDto {
        match row.status(self.now_unix_ms, UNENDED_SESSION_QUIET_MS) {
            SessionStatus::NoEndRecorded { .. } if self.recording_here == Some(row.id.0) => {
                SessionEndDto::Recording
            }
            status => SessionEndDto::from(status),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use auren_store::SessionKind;

    const NOW: i64 = 1_764_806_400_000;

    fn row(id: i64, ended_at: Option<i64>, last_beat_ago_ms: i64) -> SessionRow {
        let started_at = NOW - 3_600_000;
        SessionRow {
            id: SessionId(id),
            started_at,
            ended_at,
            kind: SessionKind::Rest,
            source: "ble:AA:BB:CC:DD:EE:FF".into(),
            strap_address: None,
            label: None,
            beat_count: 100,
            artifact_count: 0,
            last_beat_ms: Some((NOW - last_beat_ago_ms - started_at) as f64),
        }
    }

    #[test]
    fn the_session_recorded_here_stays_recording_however_long_its_strap_is_silent() {
        let silent = UNENDED_SESSION_QUIET_MS + 60_000;
        let cases = [
            (
                "recorded here, strap silent past the quiet span",
                row(1, None, silent),
                Some(1),
                SessionEndDto::Recording,
            ),
            (
                "recorded here, beating",
                row(1, None, 1_000),
                Some(1),
                SessionEndDto::Recording,
            ),
            (
                "another session recorded here",
                row(2, None, silent),
                Some(1),
                SessionEndDto::NoEndRecorded {
                    last_beat_at_unix_ms: Some(NOW - silent),
                },
            ),
            (
                "nothing recorded here",
                row(2, None, silent),
                None,
                SessionEndDto::NoEndRecorded {
                    last_beat_at_unix_ms: Some(NOW - silent),
                },
            ),
            (
                "elsewhere, beating",
                row(2, None, 1_000),
                None,
                SessionEndDto::Recording,
            ),
            (
                "ended",
                row(3, Some(NOW - 5_000), 5_000),
                Some(3),
                SessionEndDto::Ended {
                    at_unix_ms: NOW - 5_000,
                },
            ),
        ];
        for (what, row, recording_here, expected) in cases {
            let ends = Ends {
                now_unix_ms: NOW,
                recording_here,
            };
            assert_eq!(ends.of(&row), expected, "{what}");
        }
    }
}

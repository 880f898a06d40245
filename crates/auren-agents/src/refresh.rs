//! After new data: the one step every place that stores data runs — a live session stopped, a morning
//! reading completed, a file or history export imported, a sync round that pulled rows (a phone's recording,
//! another device's morning, a server-side alert). It
//! 1. re-tests every hypothesis and stores each outcome that moved ([`hypothesis::retest_changed`]),
//! 2. runs the milestone detector on a morning stored on this device (never on pulled rows: the device that
//!    stored the morning detects its milestones, and the memory reaches the others by sync) and stores each
//!    milestone reached there as a `milestone` memory, once: the memory's provenance is the milestone's own
//!    receipt, keyed by kind and day ([`Milestone::key`]), and a key already stored — as a receipt here, or
//!    as the provenance of a memory pulled from another device — is not stored again, not even after the
//!    person forgot the memory,
//! 3. posts the proactive message of each CNS-fatigue alert and below-range morning that arrived
//!    ([`proactive`]; its trigger key keeps it to one per trigger).
//!
//! Only data of today and yesterday ([`RECENT_DAYS`]) earns a proactive message: an old recording
//! imported, or a new device's first pull of years of history, is history, not news.
//!
//! Cheap when nothing changed: a hypothesis whose outcome did not move writes nothing, a milestone already
//! stored is one indexed read, and a trigger with its message asks no model.

use auren_clock::MS_PER_DAY;
use auren_store::StoreError;
use auren_store::memory::{MemoryId, MemoryKind, NewMemory, Provenance};

use crate::hypothesis::{self, Retest};
use crate::milestone::{self, Milestone};
use crate::proactive::{self, Opener, Posted, ProactiveError};
use crate::tools::{ToolError, Toolbox};
use crate::turn::Coach;

/// Days back from today whose alerts and mornings still earn a proactive message when they arrive: today
/// and yesterday (a session that crossed midnight, a phone that synced the next morning).
pub const RECENT_DAYS: i64 = 2;

/// How important a milestone memory is to recall (a goal is 0.8, a stated fact 0.5).
const MILESTONE_IMPORTANCE: f64 = 0.6;

/// What arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A session stored on this device (a live recording stopped, a morning reading completed, a recording
    /// imported), started on `day`; `morning` when it is the day's morning reading.
    Session { id: i64, day: i64, morning: bool },
    /// Morning readings stored without a session (a history export's days).
    Mornings { days: Vec<i64> },
    /// Rows pulled by sync: which sessions, alerts and mornings is not known here, so today's and
    /// yesterday's alerts and the newest morning are looked at.
    Pulled,
}

/// A milestone stored as a memory by this refresh.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredMilestone {
    pub milestone: Milestone,
    pub memory: MemoryId,
}

/// What a refresh changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refreshed {
    /// Hypotheses whose stored outcome moved (status or numbers), with the evidence.
    pub retests: Vec<Retest>,
    /// Milestones stored for the first time.
    pub milestones: Vec<StoredMilestone>,
    /// Proactive messages posted.
    pub posted: Vec<Posted>,
}

impl Refreshed {
    /// Whether anything was stored.
    pub fn is_empty(&self) -> bool {
        self.retests.is_empty() && self.milestones.is_empty() && self.posted.is_empty()
    }

    /// "2 hypotheses re-tested (1 changed status), 1 milestone, 1 proactive message." or "".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.retests.is_empty() {
            let moved = self.retests.iter().filter(|r| r.changed()).count();
            parts.push(format!(
                "{} hypothes{} re-tested ({moved} changed status)",
                self.retests.len(),
                if self.retests.len() == 1 { "is" } else { "es" }
            ));
        }
        if !self.milestones.is_empty() {
            let n = self.milestones.len();
            parts.push(format!("{n} milestone{}", if n == 1 { "" } else { "s" }));
        }
        if !self.posted.is_empty() {
            let n = self.posted.len();
            parts.push(format!("{n} proactive message{}", if n == 1 { "" } else { "s" }));
        }
        if parts.is_empty() {
            return String::new();
        }
        format!("{}.", parts.join(", "))
    }
}

/// Why a refresh stopped.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("re-testing the hypotheses: {0}")]
    Hypotheses(#[source] ToolError),
    #[error("detecting milestones: {0}")]
    Milestones(#[source] auren_engine::EngineError),
    #[error("storing a milestone: {0}")]
    Store(#[from] StoreError),
    #[error("the proactive messages: {0}")]
    Proactive(#[from] ProactiveError),
}

/// One refresh at a time in this process: the milestone check-then-store must not run twice at once
/// (a sync round pulling while a live session stops).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// All three steps for `arrival`: [`refresh_records`], then [`post_proactive`].
pub async fn after_new_data(coach: &Coach, arrival: &Arrival) -> Result<Refreshed, RefreshError> {
    let mut refreshed = refresh_records(coach.toolbox(), arrival).await?;
    refreshed.posted = post_proactive(coach, arrival).await?;
    Ok(refreshed)
}

/// The local steps, no model involved: hypotheses re-tested, new milestones stored.
pub async fn refresh_records(tb: &Toolbox, arrival: &Arrival) -> Result<Refreshed, RefreshError> {
    let _one = ONE_AT_A_TIME.lock().await;
    let today = tb.today();
    let retests = hypothesis::retest_changed(tb, today)
        .await
        .map_err(RefreshError::Hypotheses)?;
    let mut milestones = Vec::new();
    if let Some(day) = milestone_day(arrival) {
        let reached = milestone::detect_in_store(tb.store(), day)
            .await
            .map_err(RefreshError::Milestones)?;
        for m in reached {
            if let Some(memory) = store_milestone(tb, &m).await? {
                milestones.push(StoredMilestone { milestone: m, memory });
            }
        }
    }
    Ok(Refreshed {
        retests,
        milestones,
        posted: Vec::new(),
    })
}

/// The proactive messages of what arrived, each posted once (by the coach's model when it has one that
/// answers, else the template).
pub async fn post_proactive(coach: &Coach, arrival: &Arrival) -> Result<Vec<Posted>, ProactiveError> {
    let openers = openers(coach.toolbox(), arrival).await?;
    proactive::post_new(coach, openers).await
}

/// The proactive messages `arrival` may earn, before the check for ones already posted.
async fn openers(tb: &Toolbox, arrival: &Arrival) -> Result<Vec<Opener>, ProactiveError> {
    let today = tb.today();
    let recent = |day: i64| day > today - RECENT_DAYS && day <= today;
    let openers = match arrival {
        Arrival::Session { id, day, morning } if recent(*day) => {
            proactive::openers_of_session(tb, *id, *day, *morning).await?
        }
        Arrival::Session { .. } => Vec::new(),
        Arrival::Mornings { days } => match days.iter().copied().filter(|d| recent(*d)).max() {
            Some(day) => proactive::opener_of_morning(tb, day).await?.into_iter().collect(),
            None => Vec::new(),
        },
        Arrival::Pulled => {
            let newest = recent_morning(tb, today).await?;
            proactive::openers_of_days(tb, today - (RECENT_DAYS - 1), today, newest).await?
        }
    };
    Ok(openers)
}

/// The day whose milestones `arrival` may have reached: the morning stored here, if any. Pulled rows never
/// make a milestone: the device that stored the morning detects it and its memory reaches the others by
/// sync. A second detector here would, after the person forgot the memory on that device and the tombstone
/// erased the copy here, find neither the receipt (receipts are local) nor the memory, and store it again
/// under a new sync key — the forgotten milestone would come back everywhere.
fn milestone_day(arrival: &Arrival) -> Option<i64> {
    match arrival {
        Arrival::Session {
            day, morning: true, ..
        } => Some(*day),
        Arrival::Session { morning: false, .. } | Arrival::Pulled => None,
        Arrival::Mornings { days } => days.iter().copied().max(),
    }
}

/// The newest of today's and yesterday's ([`RECENT_DAYS`]) mornings, if any.
async fn recent_morning(tb: &Toolbox, today: i64) -> Result<Option<i64>, StoreError> {
    let recent = tb
        .store()
        .morning_readings(today - (RECENT_DAYS - 1), today)
        .await?;
    Ok(recent.last().map(|m| m.day))
}

/// Stores `m` as a milestone memory with its receipt, unless its key is known already; the memory's id
/// when it was stored.
async fn store_milestone(tb: &Toolbox, m: &Milestone) -> Result<Option<MemoryId>, StoreError> {
    let receipt = m.receipt();
    let key = receipt.id.0.as_str();
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM receipts WHERE id = ?1 \
         UNION ALL SELECT 1 FROM memories WHERE source_kind = 'receipt' AND source_ref = ?1 LIMIT 1",
    )
    .bind(key)
    .fetch_optional(tb.store().pool())
    .await?;
    if known.is_some() {
        return Ok(None);
    }
    let now = tb.clock().now().0;
    let memory = tb
        .store()
        .memories()
        .remember(
            &NewMemory {
                kind: MemoryKind::Milestone,
                text: m.text.clone(),
                provenance: Provenance::Receipt(key.to_owned()),
                importance: MILESTONE_IMPORTANCE,
                // True of the person from the morning it was reached.
                valid_from: (m.day * MS_PER_DAY).min(now),
            },
            now,
        )
        .await?;
    let body = serde_json::to_string(&receipt).unwrap_or_default();
    tb.store().conversations().save_receipt(key, &body, now).await?;
    tracing::info!(key, memory = memory.0, "milestone stored");
    Ok(Some(memory))
}

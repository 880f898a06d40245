//! A coach's device watches its athletes from its one long poll: [`PullRequest::watch`] names the athletes
//! it follows and how far it has read each, and the poll of the account's own data then also ends when one
//! of them has data past that cursor or when the live grants are not that list. So a device holds one parked
//! request however many athletes it follows, and learns of a new grant at once rather than by its timer.
//!
//! The poll listens on each watched athlete's wake-ups beside its own before it reads anything (as a pull
//! does, so a push committing in between still wakes it). An athlete's push or a server alert wakes the
//! athlete; a grant or a revocation wakes the coach ([`crate::auth::coach`]). Either way the poll reads the
//! live grants and their versions once, as the coach (row-level security shows a version only under a live
//! grant), and answers if anything differs from what the device said it had.
//!
//! [`PullRequest::watch`]: auren_protocol::PullRequest::watch

use crate::app::SharedState;
use crate::db::begin_as;
use crate::error::ApiError;
use crate::redis::WakeListener;
use auren_protocol::{AthletesNews, MAX_WATCHED, UserId, WatchedAthlete};
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// The athletes one long poll watches, with the wake-ups of each.
#[derive(Debug)]
pub struct AthleteWatch {
    /// Each watched athlete and the cursor the device has read them to.
    cursors: HashMap<Uuid, i64>,
    listeners: Vec<WakeListener>,
}

impl AthleteWatch {
    /// Checks the request's list and listens on each athlete (before the poll reads anything).
    pub fn start(state: &SharedState, watched: &[WatchedAthlete]) -> Result<Self, ApiError> {
        if watched.len() > MAX_WATCHED {
            return Err(ApiError::Invalid(format!(
                "watch names {} athletes; at most {MAX_WATCHED} may be watched",
                watched.len()
            )));
        }
        let mut cursors = HashMap::with_capacity(watched.len());
        for (index, entry) in watched.iter().enumerate() {
            let athlete = Uuid::parse_str(&entry.athlete.0).map_err(|_| {
                ApiError::Invalid(format!(
                    "watch[{index}].athlete {:?} is not a user id",
                    entry.athlete.0
                ))
            })?;
            if entry.cursor < 0 {
                return Err(ApiError::Invalid(format!(
                    "watch[{index}].cursor must be 0 or a cursor the server returned"
                )));
            }
            if cursors.insert(athlete, entry.cursor).is_some() {
                return Err(ApiError::Invalid(format!("watch names athlete {athlete} twice")));
            }
        }
        let listeners = cursors
            .keys()
            .map(|&athlete| state.wake.listen(athlete))
            .collect();
        Ok(Self { cursors, listeners })
    }

    /// What differs now between the account's live grants (and their athletes' versions) and the watch.
    pub async fn news(&self, state: &SharedState, coach: Uuid) -> Result<AthletesNews, ApiError> {
        let mut tx = begin_as(&state.pools.app, coach).await?;
        let rows = sqlx::query(
            "SELECT g.athlete_id, coalesce(uv.version, 0) FROM coach_grants g \
             LEFT JOIN user_versions uv ON uv.user_id = g.athlete_id \
             WHERE g.coach_id = $1 AND g.revoked_at IS NULL",
        )
        .bind(coach)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut live = HashMap::with_capacity(rows.len());
        for row in &rows {
            live.insert(row.try_get::<Uuid, _>(0)?, row.try_get::<i64, _>(1)?);
        }
        Ok(compare(&self.cursors, &live))
    }

    /// Returns once a watched athlete has been notified since the last return (never, watching none).
    pub async fn notified(&mut self) {
        if self.listeners.is_empty() {
            return std::future::pending().await;
        }
        let wakes = self
            .listeners
            .iter_mut()
            .map(|listener| Box::pin(listener.notified()));
        futures::future::select_all(wakes).await;
    }
}

/// The news between what a device has read (`cursors`) and the live grants with their versions (`live`).
fn compare(cursors: &HashMap<Uuid, i64>, live: &HashMap<Uuid, i64>) -> AthletesNews {
    let mut ahead: Vec<Uuid> = cursors
        .iter()
        .filter(|&(athlete, cursor)| live.get(athlete).is_some_and(|version| version > cursor))
        .map(|(&athlete, _)| athlete)
        .collect();
    ahead.sort_unstable();
    AthletesNews {
        ahead: ahead.into_iter().map(|id| UserId(id.to_string())).collect(),
        grants_changed: cursors.len() != live.len()
            || live.keys().any(|athlete| !cursors.contains_key(athlete)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_names_the_athletes_ahead_and_any_difference_in_the_grants() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        // (watched, live, ahead, grants changed)
        type Case<'a> = (&'a [(Uuid, i64)], &'a [(Uuid, i64)], &'a [Uuid], bool);
        let cases: [Case; 6] = [
            (&[], &[], &[], false),
            (&[(a, 5)], &[(a, 5)], &[], false),
            (&[(a, 5)], &[(a, 6)], &[a], false),
            (&[(a, 5), (b, 0)], &[(a, 6), (b, 1)], &[a, b], false),
            (&[(a, 5)], &[(a, 5), (c, 1)], &[], true),
            (&[(a, 5), (b, 0)], &[(b, 3)], &[b], true),
        ];
        for (watched, live, ahead, grants_changed) in cases {
            let news = compare(
                &watched.iter().copied().collect(),
                &live.iter().copied().collect(),
            );
            let expected = AthletesNews {
                ahead: ahead.iter().map(|id| UserId(id.to_string())).collect(),
                grants_changed,
            };
            assert_eq!(news, expected, "watched {watched:?}, live {live:?}");
            assert_eq!(news.any(), grants_changed || !ahead.is_empty());
        }
    }
}

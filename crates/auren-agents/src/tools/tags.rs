//! Which days carry a tag: a tag is stored inside a session at a session time, so its day is the UTC day of
//! the session's start plus that time. Read through `Store::pool` because the store has no tag-by-day query.
//! Only the person's own sessions' tags count: a coach's device also holds the tags of athletes' sessions,
//! which are the athletes' habits, not the coach's.

use std::collections::BTreeSet;

use auren_clock::MS_PER_DAY;
use auren_store::{Store, StoreError};
use sqlx::Row;

/// The UTC days of `from_day..=to_day` on which a tag named `tag` (case-insensitive) was recorded.
pub async fn tagged_days(
    store: &Store,
    tag: &str,
    from_day: i64,
    to_day: i64,
) -> Result<BTreeSet<i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT (s.started_at + CAST(t.at_ms AS INTEGER)) / ?1 AS day \
         FROM tags t JOIN sessions s ON s.id = t.session_id \
         WHERE s.athlete IS NULL AND lower(t.name) = lower(?2) AND s.started_at + t.at_ms >= ?3 AND s.started_at + t.at_ms < ?4",
    )
    .bind(MS_PER_DAY)
    .bind(tag.trim())
    .bind(from_day * MS_PER_DAY)
    .bind((to_day + 1) * MS_PER_DAY)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
        .collect()
}

/// Every tag name recorded in the person's own sessions, with the number of days it was recorded on, most frequent first.
pub async fn tag_names(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT lower(t.name), COUNT(DISTINCT (s.started_at + CAST(t.at_ms AS INTEGER)) / ?1) AS days \
         FROM tags t JOIN sessions s ON s.id = t.session_id WHERE s.athlete IS NULL \
         GROUP BY lower(t.name) ORDER BY days DESC, 1",
    )
    .bind(MS_PER_DAY)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

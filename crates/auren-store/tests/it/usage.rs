//! The llm_usage table through the store's own types: rows land on their UTC day, the per-day totals and
//! their filters agree with a fold written here for any rows, costs since an instant add up, counts too
//! large for SQLite are refused, and a reopened database keeps its rows in WAL mode.

use auren_clock::UnixMillis;
use auren_store::{Store, StoreError, UsageDayTotals, UsageFilter, UsageRow};
use proptest::prelude::*;
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;
/// 2025-11-21T00:00:00Z.
const T0: i64 = 1_763_683_200_000;

fn row(at_ms: i64, model: &str, conversation: Option<&str>, cost: Option<i64>) -> UsageRow {
    UsageRow {
        at_ms,
        provider: if model.starts_with("claude") {
            "anthropic"
        } else {
            "openai"
        }
        .into(),
        model: model.into(),
        conversation: conversation.map(Into::into),
        input_tokens: 100,
        cached_input_tokens: 10,
        output_tokens: 20,
        estimated: cost.is_none(),
        cost_picodollars: cost,
    }
}

/// What `usage_by_day` must answer, summed in Rust.
fn reference(rows: &[UsageRow], filter: &UsageFilter) -> Vec<UsageDayTotals> {
    let mut sums: BTreeMap<(String, String, String, Option<String>), UsageDayTotals> = BTreeMap::new();
    let kept = rows.iter().filter(|r| {
        filter.since_ms.is_none_or(|s| r.at_ms >= s)
            && filter.until_ms.is_none_or(|u| r.at_ms < u)
            && filter
                .conversation
                .as_ref()
                .is_none_or(|c| r.conversation.as_ref() == Some(c))
    });
    for r in kept {
        let day = UnixMillis(r.at_ms).utc_date().to_string();
        let key = (
            day.clone(),
            r.provider.clone(),
            r.model.clone(),
            r.conversation.clone(),
        );
        let sum = sums.entry(key).or_insert_with(|| UsageDayTotals {
            day,
            provider: r.provider.clone(),
            model: r.model.clone(),
            conversation: r.conversation.clone(),
            ..UsageDayTotals::default()
        });
        sum.calls += 1;
        sum.input_tokens += r.input_tokens;
        sum.cached_input_tokens += r.cached_input_tokens;
        sum.output_tokens += r.output_tokens;
        sum.cost_picodollars += r.cost_picodollars.unwrap_or(0);
        sum.estimated_calls += u64::from(r.estimated);
        sum.unpriced_calls += u64::from(r.cost_picodollars.is_none());
    }
    sums.into_values().collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn any_row() -> impl Strategy<Value = UsageRow> {
    (
        // Three days before 1970 are included: days are Euclidean, not truncated towards zero.
        prop_oneof![T0 - 3 * DAY..T0 + 40 * DAY, -3 * DAY..3 * DAY],
        prop::sample::select(vec!["gpt-4.1", "claude-sonnet-4-5", "llama3.1"]),
        prop::option::of(prop::sample::select(vec!["a", "b", "évening"])),
        (0u64..1_000_000, 0u64..1_000_000, 0u64..1_000_000),
        prop::option::of(0i64..1_000_000_000_000),
    )
        .prop_map(|(at_ms, model, conversation, tokens, cost)| UsageRow {
            input_tokens: tokens.0,
            cached_input_tokens: tokens.1,
            output_tokens: tokens.2,
            ..row(at_ms, model, conversation, cost)
        })
}

fn any_filter() -> impl Strategy<Value = UsageFilter> {
    (
        prop::option::of(T0 - 3 * DAY..T0 + 40 * DAY),
        prop::option::of(T0..T0 + 40 * DAY),
        prop::option::of(prop::sample::select(vec!["a", "b", "évening", "none such"])),
    )
        .prop_map(|(since_ms, until_ms, conversation)| UsageFilter {
            since_ms,
            until_ms,
            conversation: conversation.map(Into::into),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn totals_per_day_match_a_fold_of_the_rows(
        rows in proptest::collection::vec(any_row(), 0..60),
        filters in proptest::collection::vec(any_filter(), 1..4),
    ) {
        let answers = runtime().block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
            for r in &rows {
                store.record_usage(r).await.expect("insert");
            }
            let mut answers = vec![store.usage_by_day(&UsageFilter::default()).await.expect("all")];
            for filter in &filters {
                answers.push(store.usage_by_day(filter).await.expect("filtered"));
            }
            store.close().await;
            answers
        });
        prop_assert_eq!(&answers[0], &reference(&rows, &UsageFilter::default()));
        for (filter, got) in filters.iter().zip(&answers[1..]) {
            prop_assert_eq!(got, &reference(&rows, filter), "{:?}", filter);
        }
    }
}

#[tokio::test]
async fn a_call_lands_on_its_utc_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let cases = [
        (T0 - 1, "2025-11-20"),
        (T0, "2025-11-21"),
        (T0 + DAY - 1, "2025-11-21"),
        (-1, "1969-12-31"),
        (951_782_400_000, "2000-02-29"),
    ];
    for (at_ms, want) in cases {
        let conversation = format!("at {at_ms}");
        store
            .record_usage(&row(at_ms, "gpt-4.1", Some(&conversation), Some(1)))
            .await
            .expect("insert");
        let filter = UsageFilter {
            conversation: Some(conversation),
            ..UsageFilter::default()
        };
        let totals = store.usage_by_day(&filter).await.expect("totals");
        let days: Vec<&str> = totals.iter().map(|t| t.day.as_str()).collect();
        assert_eq!(days, [want], "{at_ms}");
    }
}

#[tokio::test]
async fn cost_since_adds_the_priced_calls_from_that_instant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let rows = [
        row(T0, "gpt-4.1", Some("a"), Some(360_000_000)),
        row(T0 + DAY, "claude-sonnet-4-5", None, Some(1_050_000_000)),
        row(T0 + DAY + 5, "llama3.1", None, None),
        row(T0 + 10 * DAY, "gpt-4.1", Some("b"), Some(18_000_000)),
    ];
    for r in &rows {
        store.record_usage(r).await.expect("insert");
    }
    let cases = [
        (i64::MIN, 1_428_000_000),
        (T0, 1_428_000_000),
        (T0 + 1, 1_068_000_000),
        (T0 + DAY + 1, 18_000_000),
        (T0 + 10 * DAY + 1, 0),
    ];
    for (since_ms, want) in cases {
        assert_eq!(
            store.usage_cost_since(since_ms).await.expect("cost"),
            want,
            "{since_ms}"
        );
    }
}

#[tokio::test]
async fn a_count_beyond_sqlite_integer_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("auren.db")).await.expect("open");
    let huge = UsageRow {
        output_tokens: u64::MAX,
        ..row(T0, "gpt-4.1", None, Some(1))
    };
    let error = store.record_usage(&huge).await.expect_err("refused");
    assert!(matches!(error, StoreError::Range(_)), "{error}");
    assert_eq!(
        store.usage_by_day(&UsageFilter::default()).await.expect("totals"),
        []
    );
}

#[tokio::test]
async fn reopening_keeps_rows_and_uses_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/dir/auren.db");
    let first = row(T0, "gpt-4.1", Some("a"), Some(7));
    {
        let store = Store::open(&path).await.expect("opens, creating folders");
        store.record_usage(&first).await.expect("insert");
        store.close().await;
    }
    let store = Store::open(&path).await.expect("reopen runs no migration twice");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let totals = store.usage_by_day(&UsageFilter::default()).await.expect("totals");
    assert_eq!(totals, reference(&[first], &UsageFilter::default()));
}

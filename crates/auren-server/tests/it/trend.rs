//! GET /v1/trend: the daily trend of the synced morning readings — the values, 7-day means, normal ranges
//! and verdicts worked out by hand here — served through the Redis cache (a repeat is a hit, a push of the
//! user makes the next one a miss, a coach and the athlete share the entry), refused to a coach without a
//! live grant even when the answer is cached, computed without a Redis (the header and the metrics say so),
//! and a client's mistakes answered 4xx with a code.

use crate::redis::{free_port, redis_url};
use crate::support::{TestClient, TestServer, row};
use auren_protocol::auth::SignedIn;
use auren_protocol::change::MorningValue;
use auren_protocol::{Change, Collection, Hlc, Lww, MorningChange, TombstoneChange};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The first day of the pushed readings.
const D0: i64 = 20_400;
/// Readings on days D0..D0+19, except this one.
const MISSING: i64 = D0 + 17;

/// The value of a metric on day `D0 + i`.
type DailyValue = fn(i64) -> Option<f64>;

fn stamp(device: &SignedIn, wall_ms: i64) -> Hlc {
    Hlc {
        wall_ms,
        counter: 0,
        device: device.device_id.clone(),
    }
}

/// The lnRMSSD of day `D0 + i`.
fn ln_rmssd(i: i64) -> f64 {
    4.0 + 0.1 * (i % 5) as f64
}

/// The resting HR of day `D0 + i`: on even days only.
fn resting_hr(i: i64) -> Option<f64> {
    (i % 2 == 0).then_some(50.0 + i as f64)
}

fn morning(device: &SignedIn, day: i64, ln_rmssd: f64, resting_hr: Option<f64>, wall_ms: i64) -> Change {
    Change::Morning(MorningChange {
        day,
        reading: Lww::new(
            MorningValue {
                ln_rmssd,
                resting_hr,
                session_key: None,
            },
            stamp(device, wall_ms),
        ),
    })
}

/// Pushes the 19 readings as outbox rows 1..=20.
async fn push_mornings(server: &TestServer, device: &SignedIn) {
    let rows = (0..20)
        .filter(|i| D0 + i != MISSING)
        .map(|i| {
            row(
                i + 1,
                morning(device, D0 + i, ln_rmssd(i), resting_hr(i), 1_000 + i),
            )
        })
        .collect();
    let answer = server.push(device, rows).await;
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
}

/// GET /v1/trend as `device`: the status, the `x-auren-cache` header and the body.
async fn trend(client: &TestClient, device: &SignedIn, query: &str) -> (StatusCode, String, Value) {
    let response = client
        .http
        .get(format!("{}/v1/trend?{query}", client.base))
        .bearer_auth(&device.tokens.access_token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let cache = response
        .headers()
        .get("x-auren-cache")
        .map_or("", |v| v.to_str().unwrap())
        .to_owned();
    (status, cache, response.json().await.unwrap())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Sample standard deviation (ddof = 1).
fn sd(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// The pushed values of `value` on the days `first..=last` that have one.
fn window(value: DailyValue, first: i64, last: i64) -> Vec<f64> {
    (first..=last)
        .filter(|day| *day != MISSING && (D0..D0 + 20).contains(day))
        .filter_map(|day| value(day - D0))
        .collect()
}

fn close(a: &Value, b: Option<f64>) -> bool {
    match (a.as_f64(), b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => a.is_null(),
        _ => false,
    }
}

/// Checks every day of `answer` against the method worked out by hand: the day's value, the mean of the
/// days with a value among the last 7 (from 3), the 60-day mean ± 0.5 SD (from 14), and the verdict.
fn assert_trend(answer: &Value, value: DailyValue, from: i64, to: i64) {
    let days = answer["days"].as_array().unwrap();
    assert_eq!(days.len() as i64, to - from + 1, "{answer}");
    for (day, got) in (from..=to).zip(days) {
        assert_eq!(got["day"], json!(day));
        let today = if day == MISSING || !(D0..D0 + 20).contains(&day) {
            None
        } else {
            value(day - D0)
        };
        assert!(close(&got["value"], today), "day {day}: {got}");
        let week = window(value, day - 6, day);
        let rolling = (week.len() >= 3).then(|| mean(&week));
        assert!(close(&got["rolling_mean_7d"], rolling), "day {day}: {got}");
        let baseline = window(value, day - 59, day);
        let range = (baseline.len() >= 14).then(|| {
            let (m, s) = (mean(&baseline), sd(&baseline));
            (m - 0.5 * s, m + 0.5 * s)
        });
        match range {
            Some((low, high)) => {
                assert!(close(&got["normal_range"][0], Some(low)), "day {day}: {got}");
                assert!(close(&got["normal_range"][1], Some(high)), "day {day}: {got}");
            }
            None => assert!(got["normal_range"].is_null(), "day {day}: {got}"),
        }
        let verdict = match (rolling, range) {
            (Some(r), Some((low, _))) if r < low => json!("below"),
            (Some(r), Some((_, high))) if r > high => json!("above"),
            (Some(_), Some(_)) => json!("within"),
            _ => Value::Null,
        };
        assert_eq!(got["verdict"], verdict, "day {day}: {got}");
    }
}

fn ln(i: i64) -> Option<f64> {
    Some(ln_rmssd(i))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trend_follows_the_synced_mornings_is_cached_and_a_push_makes_it_fresh() {
    let server = TestServer::start_with(|c| c.redis_url = Some(redis_url())).await;
    let ada = server.account("ada@example.com").await;
    push_mornings(&server, &ada).await;
    let (from, to) = (D0 + 10, D0 + 22);
    let cases: [(&str, DailyValue); 2] = [("ln_rmssd", ln), ("resting_hr", resting_hr)];
    for (metric, value) in cases {
        let query = format!("metric={metric}&from={from}&to={to}");
        let (status, cache, answer) = trend(&server, &ada, &query).await;
        assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"), "{answer}");
        assert_eq!(answer["metric"], json!(metric));
        assert_trend(&answer, value, from, to);
        let (_, cache, again) = trend(&server, &ada, &query).await;
        assert_eq!(
            cache, "hit",
            "the same question at the same version comes from Redis"
        );
        assert_eq!(again, answer);
    }

    // A retake of the last day and a delete of the day before: the next answer is computed afresh.
    let retake = morning(&ada, D0 + 19, 5.0, None, 9_000);
    let delete = Change::Tombstone(TombstoneChange {
        collection: Collection::Morning,
        key: (D0 + 18).to_string(),
        hlc: stamp(&ada, 9_001),
    });
    server.push(&ada, vec![row(30, retake), row(31, delete)]).await;
    let query = format!("metric=ln_rmssd&from={from}&to={to}");
    let (status, cache, answer) = trend(&server, &ada, &query).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"));
    let day = |d: i64| answer["days"][usize::try_from(d - from).unwrap()].clone();
    assert_eq!(
        day(D0 + 19)["value"],
        json!(5.0),
        "the retake replaced the reading"
    );
    assert!(day(D0 + 18)["value"].is_null(), "the deleted reading is gone");
    assert_eq!(day(D0 + 16)["value"], json!(ln_rmssd(16)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coach_reads_a_granting_athletes_trend_and_nothing_without_a_live_grant() {
    let server = TestServer::start_with(|c| c.redis_url = Some(redis_url())).await;
    let athlete = server.account("athlete@example.com").await;
    let coach = server.account("coach@example.com").await;
    let stranger = server.account("stranger@example.com").await;
    push_mornings(&server, &athlete).await;
    let query = format!(
        "metric=ln_rmssd&from={}&to={}&athlete={}",
        D0,
        D0 + 19,
        athlete.user_id.0
    );
    let (status, _, refused) = trend(&server, &coach, &query).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // The athlete's own question puts the answer in the cache.
    let own = format!("metric=ln_rmssd&from={}&to={}", D0, D0 + 19);
    let (status, cache, answer) = trend(&server, &athlete, &own).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"));
    let (status, _, _) = trend(&server, &coach, &query).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a cached answer is no way around the grant"
    );

    let status = server.grant_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, cache, seen) = trend(&server, &coach, &query).await;
    assert_eq!(
        (status, cache.as_str()),
        (StatusCode::OK, "hit"),
        "one entry for both"
    );
    assert_eq!(seen, answer);
    let (status, _, _) = trend(&server, &stranger, &query).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a grant to the coach is none to anyone else"
    );
    let (_, _, empty) = trend(&server, &coach, &own).await;
    assert!(
        empty["days"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["value"].is_null()),
        "the coach's own trend is the coach's: {empty}"
    );

    let status = server.revoke_coach(&athlete, "coach@example.com").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, after) = trend(&server, &coach, &query).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "revoked: nothing, cached or not: {after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_answering_redis_the_trend_is_computed_and_the_metrics_say_so() {
    let nobody = format!("redis://127.0.0.1:{}", free_port());
    let server = TestServer::start_with(|c| c.redis_url = Some(nobody)).await;
    let ada = server.account("ada@example.com").await;
    push_mornings(&server, &ada).await;
    let query = format!("metric=ln_rmssd&from={}&to={}", D0, D0 + 19);
    for _ in 0..2 {
        let (status, cache, answer) = trend(&server, &ada, &query).await;
        assert_eq!(
            (status, cache.as_str()),
            (StatusCode::OK, "unavailable"),
            "{answer}"
        );
        assert_trend(&answer, ln, D0, D0 + 19);
    }
    let metrics = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("auren_cache_total{result=\"unavailable\"}"))
        .unwrap_or_else(|| panic!("no unavailable lookups counted:\n{metrics}"));
    let counted: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(counted >= 2.0, "{line}");
}

#[tokio::test]
async fn a_bad_trend_question_is_a_4xx_with_a_code() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let cases = [
        (
            "metric=ln_rmssd&from=20400",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "metric=sdnn&from=20400&to=20410",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "metric=ln_rmssd&from=x&to=20410",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "metric=ln_rmssd&from=20410&to=20400",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "metric=ln_rmssd&from=11000&to=20000",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "metric=ln_rmssd&from=-5&to=20000",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "metric=ln_rmssd&from=9223372036854775807&to=9223372036854775807",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (
            "metric=ln_rmssd&from=20400&to=20410&athlete=not-a-user",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
    ];
    for (query, status, code) in cases {
        let (got, _, answer) = trend(&server, &ada, query).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{query}: {answer}"
        );
    }
    // Without Redis there is nothing to cache, and the answer says so.
    let (status, cache, answer) = trend(&server, &ada, "metric=resting_hr&from=20400&to=20400").await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "off"));
    assert_eq!(
        answer,
        json!({"metric": "resting_hr", "from": 20400, "to": 20400, "days": [
            {"day": 20400, "value": null, "rolling_mean_7d": null, "normal_range": null, "verdict": null}
        ]})
    );
}

/// A stand-in Redis on `listener` that answers every command `+OK` and every GET a miss, but first counts
/// the server's PostgreSQL sessions left idle in a transaction (sent on `seen`): a trend request waiting on
/// Redis must hold no connection.
async fn redis_counting_open_transactions(
    listener: tokio::net::TcpListener,
    owner: sqlx::PgPool,
    seen: tokio::sync::mpsc::UnboundedSender<i64>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        let (owner, seen) = (owner.clone(), seen.clone());
        tokio::spawn(async move {
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read);
            loop {
                // A command is an array of bulk strings: `*N`, then N pairs of `$len` and the bytes.
                let mut header = String::new();
                if lines.read_line(&mut header).await.unwrap_or(0) == 0 {
                    return;
                }
                let n: usize = header.trim().trim_start_matches('*').parse().unwrap_or(0);
                let mut words = Vec::new();
                for _ in 0..n * 2 {
                    let mut line = String::new();
                    lines.read_line(&mut line).await.unwrap();
                    words.push(line.trim().to_owned());
                }
                let reply: &[u8] = if words.get(1).is_some_and(|w| w.eq_ignore_ascii_case("GET")) {
                    let open: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM pg_stat_activity
                         WHERE datname = current_database() AND state = 'idle in transaction'",
                    )
                    .fetch_one(&owner)
                    .await
                    .unwrap();
                    seen.send(open).unwrap();
                    b"$-1\r\n"
                } else {
                    b"+OK\r\n"
                };
                if write.write_all(reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_database_connection_is_held_while_redis_is_asked() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", listener.local_addr().unwrap());
    let server = TestServer::start_with(|c| c.redis_url = Some(url)).await;
    let (seen, mut counts) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(redis_counting_open_transactions(
        listener,
        server.owner.clone(),
        seen,
    ));
    let ada = server.account("ada@example.com").await;
    push_mornings(&server, &ada).await;
    let query = format!("metric=ln_rmssd&from={}&to={}", D0, D0 + 19);
    let (status, cache, answer) = trend(&server, &ada, &query).await;
    assert_eq!((status, cache.as_str()), (StatusCode::OK, "miss"), "{answer}");
    assert_trend(&answer, ln, D0, D0 + 19);
    assert_eq!(
        counts.recv().await,
        Some(0),
        "a transaction was open while the cache was asked"
    );
}

//! The server's trend through the client: morning readings stored on a device, synced, and read back as the
//! server computes them.

use crate::support::{Device, TestServer, round};
use auren_protocol::trend::{TrendMetric, TrendQuery};
use auren_sync::SignIn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trend_of_synced_mornings_comes_back_from_the_server() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let a = Device::sign_in(dir.path(), "a", &server, "ada@example.org", SignIn::Create).await;
    let first = 20_500;
    for (i, ln_rmssd) in [4.0, 4.2, 4.4, 4.6].into_iter().enumerate() {
        let day = first + i64::try_from(i).unwrap();
        a.store
            .add_morning_reading(day, ln_rmssd, Some(50.0), None)
            .await
            .unwrap();
    }
    round(&[&a]).await;
    let query = TrendQuery {
        metric: TrendMetric::LnRmssd,
        from: first,
        to: first + 4,
        athlete: None,
    };
    let trend = a.client.trend(&query).await.unwrap();
    let values: Vec<Option<f64>> = trend.days.iter().map(|d| d.value).collect();
    assert_eq!(values, [Some(4.0), Some(4.2), Some(4.4), Some(4.6), None]);
    let rolling: Vec<Option<f64>> = trend.days.iter().map(|d| d.rolling_mean_7d).collect();
    let expected = [None, None, Some(4.2), Some(4.3), Some(4.3)];
    for (got, want) in rolling.iter().zip(expected) {
        match (got, want) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-12, "{rolling:?}"),
            (None, None) => {}
            _ => panic!("{rolling:?} against {expected:?}"),
        }
    }
}

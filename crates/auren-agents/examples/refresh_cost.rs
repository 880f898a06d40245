//! What the refresh after new data costs on a database (`auren simulate history --days 90`): the first run
//! (hypotheses' outcomes stored), then runs with nothing new, each arrival kind.

use std::sync::Arc;
use std::time::Instant;

use auren_agents::refresh::{Arrival, after_new_data};
use auren_agents::{Coach, CoachConfig, Toolbox};
use auren_gateway::SystemClock;
use auren_store::Store;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), Error> {
    let db = std::env::args().nth(1).ok_or("usage: refresh_cost DB")?;
    let store = Store::open(std::path::Path::new(&db)).await?;
    let tb = Toolbox::new(store.clone(), Arc::new(SystemClock));
    for (statement, tag) in [
        ("alcohol lowers my HRV", "alcohol"),
        ("meditation raises my HRV", "meditation"),
        ("sauna raises my HRV", "sauna"),
    ] {
        let args = serde_json::json!({"statement": statement, "metric": "ln_rmssd", "exposure_tag": tag});
        tb.call("propose_hypothesis", args).await?;
    }
    let coach = Coach::new(None, tb.clone(), CoachConfig::default());
    let today = tb.today();
    let arrivals = [
        ("pulled", Arrival::Pulled),
        (
            "morning session",
            Arrival::Session {
                id: 1,
                day: today,
                morning: true,
            },
        ),
        (
            "history export",
            Arrival::Mornings {
                days: (today - 89..=today).collect(),
            },
        ),
    ];
    let t = Instant::now();
    let first = after_new_data(&coach, &Arrival::Pulled).await?;
    println!(
        "first run: {:.2} ms ({})",
        t.elapsed().as_secs_f64() * 1e3,
        first.summary()
    );
    for (name, arrival) in &arrivals {
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let done = after_new_data(&coach, arrival).await?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(done.is_empty(), "{done:?}");
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}, nothing new: median {:.2} ms, p90 {:.2} ms, max {:.2} ms (50 runs)",
            times[25], times[45], times[49]
        );
    }
    store.close().await;
    Ok(())
}

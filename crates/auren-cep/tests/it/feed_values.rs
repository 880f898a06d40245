//! Everything the feed produces for the shipped recordings, pinned: every labelled beat (index, label,
//! corrected intervals), every window update (all eight values) and every alert, bit for bit. The digest
//! was recorded before the labeller's windows were made faster (issue 13), so a speed-up that moved any
//! value by one ulp fails here.

use auren_cep::feed::{FeedSink, RuleFeed, WindowValues};
use auren_cep::labeller::LabelledBeat;
use auren_cep::{Alert, Baselines, DEFAULT_RULES, EventKind, SessionKind, compile};

/// FNV-1a over everything the sink saw, plus the counts and the alerts in the clear.
struct Recorder {
    hash: u64,
    beats: usize,
    window_updates: usize,
    alerts: Vec<String>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            hash: 0xcbf2_9ce4_8422_2325,
            beats: 0,
            window_updates: 0,
            alerts: Vec::new(),
        }
    }

    fn word(&mut self, w: u64) {
        for byte in w.to_le_bytes() {
            self.hash ^= u64::from(byte);
            self.hash = self.hash.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn value(&mut self, v: Option<f64>) {
        self.word(v.map_or(u64::MAX, f64::to_bits));
    }
}

impl FeedSink for Recorder {
    fn beat(&mut self, beat: &LabelledBeat) {
        self.beats += 1;
        self.word(beat.index);
        self.word(beat.at_ms.to_bits());
        self.word(beat.artifact.map_or(0, |k| k.as_str().len() as u64 + 1));
        self.word(u64::from(beat.affected));
        for nn in &beat.nn_ms {
            self.word(nn.to_bits());
        }
    }

    fn windows(&mut self, now_ms: i64, v: &WindowValues) {
        self.window_updates += 1;
        self.word(now_ms as u64);
        for x in [
            v.rmssd_60s,
            v.rmssd_5m,
            v.sdnn_60s,
            v.sdnn_5m,
            v.mean_hr_60s,
            v.pnn50_60s,
            v.ln_rmssd,
            v.dfa_alpha1,
        ] {
            self.value(x);
        }
    }

    fn alert(&mut self, alert: &Alert) {
        self.alerts.push(format!("{} @ {} ms", alert.rule, alert.at_ms));
    }
}

fn recording(name: &str) -> Vec<f64> {
    let path = format!("{}/../../tests/data/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// Feeds `rr` a sample per second with the heart rate of its last beat (as the server's consumer does),
/// with one gap after `gap_at` beats.
fn run(rr: &[f64], gap_at: Option<usize>) -> Recorder {
    let rules = compile(DEFAULT_RULES).unwrap();
    let mut feed = RuleFeed::new(&rules, Baselines::new(), SessionKind::Rest).unwrap();
    let mut sink = Recorder::new();
    feed.start(&mut sink);
    feed.event(EventKind::Link { connected: true }, &mut sink);
    feed.event(EventKind::Contact { detected: true }, &mut sink);
    let (mut series_ms, mut next, mut at_ms) = (0.0, 0, 1_000_i64);
    let mut sample = Vec::new();
    while next < rr.len() {
        sample.clear();
        while next < rr.len() && series_ms + rr[next] <= at_ms as f64 {
            series_ms += rr[next];
            sample.push(rr[next]);
            next += 1;
            if gap_at == Some(next) {
                feed.gap(&mut sink);
            }
        }
        feed.advance(at_ms, &mut sink);
        if let Some(&last) = sample.last() {
            let bpm = (60_000.0 / last).round();
            feed.event(EventKind::HeartRate { bpm }, &mut sink);
        }
        feed.beats(at_ms as f64, &sample, &mut sink);
        at_ms += 1_000;
    }
    feed.end(&mut sink);
    sink
}

#[test]
fn the_feed_gives_the_recorded_values_on_the_shipped_recordings() {
    let nsr = recording("nsr_60min.rr");
    // Missed, extra and ectopic beats spread over the hour, so the correction paths run too.
    let injected: Vec<f64> = nsr
        .iter()
        .enumerate()
        .map(|(i, &r)| match i % 397 {
            100 => 2.0 * r,
            200 => 0.45 * r,
            300 => 0.7 * r,
            _ => r,
        })
        .collect();
    let cases = [
        ("nsr_5min", recording("nsr_5min.rr"), None),
        ("nsr_5min_artifacts", recording("nsr_5min_artifacts.rr"), None),
        ("nsr_60min", nsr, Some(2_000)),
        ("nsr_60min_injected", injected, None),
    ];
    let mut report = String::new();
    for (name, rr, gap) in cases {
        let r = run(&rr, gap);
        report.push_str(&format!(
            "{name}: {} beats labelled, {} window updates, digest {:016x}\n",
            r.beats, r.window_updates, r.hash
        ));
        for alert in r.alerts {
            report.push_str(&format!("  {alert}\n"));
        }
    }
    insta::assert_snapshot!(report);
}

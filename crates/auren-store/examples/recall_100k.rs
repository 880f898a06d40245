//! Recall over 100,000 memories (the goal: under 5 ms per question), on a real database file in a temporary
//! folder. The memories are sentences over a Zipf-distributed vocabulary of 2,000 words whose top ranks are
//! English stopwords (so the commonest content word is in about 4% of memories, most words in a few); a fifth
//! of them are superseded or retracted. The questions mix common, mid and rare words. Also times remembering
//! one memory and forgetting one at that size.
//!
//! Run: `cargo run --release -p auren-store --example recall_100k [-- COUNT]`.

use anyhow::Context as _;
use auren_store::Store;
use auren_store::memory::{MemoryKind, NewMemory, Provenance};
use std::time::{Duration, Instant};

const T0: i64 = 1_764_748_800_000;
const DAY: i64 = 86_400_000;
const VOCABULARY: usize = 2_000;

/// SplitMix64: a seeded generator, so every run builds the same memories.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The most frequent words of real text, which recall drops from a question: they take the top ranks.
const STOPWORDS: [&str; 30] = [
    "the", "a", "and", "to", "of", "in", "is", "my", "i", "it", "for", "on", "was", "with", "that", "this",
    "at", "be", "have", "me", "so", "but", "do", "what", "why", "how", "an", "are", "as", "by",
];

/// The word of Zipf rank `i`: a stopword for the top ranks, else a pronounceable made-up word (distinct for
/// every i).
fn word(i: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "ba", "gu", "ho", "ji", "wa", "ze", "fo",
        "ly", "qu", "xe",
    ];
    if let Some(stopword) = STOPWORDS.get(i) {
        return (*stopword).to_owned();
    }
    let (a, b, c) = (i % 20, (i / 20) % 20, (i / 400) % 20);
    format!("{}{}{}", SYLLABLES[a], SYLLABLES[b], SYLLABLES[c])
}

/// A word index drawn from a Zipf(1) distribution over the vocabulary (inverse of the harmonic CDF).
fn zipf(rng: &mut SplitMix64, cumulative: &[f64]) -> usize {
    let u = rng.unit() * cumulative[cumulative.len() - 1];
    cumulative.partition_point(|&c| c < u).min(cumulative.len() - 1)
}

fn sentence(rng: &mut SplitMix64, cumulative: &[f64]) -> String {
    let length = 6 + (rng.next() % 10) as usize;
    (0..length)
        .map(|_| word(zipf(rng, cumulative)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let count: usize = match std::env::args().nth(1) {
        Some(n) => n.parse().context("COUNT must be a whole number")?,
        None => 100_000,
    };
    let dir = tempfile::tempdir().context("temporary folder")?;
    let store = Store::open(&dir.path().join("auren.db")).await?;
    let memories = store.memories();
    let mut cumulative = Vec::with_capacity(VOCABULARY);
    let mut sum = 0.0;
    for rank in 1..=VOCABULARY {
        sum += 1.0 / rank as f64;
        cumulative.push(sum);
    }
    let mut rng = SplitMix64(0x5EED);
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let now = T0 + i as i64 * 60_000;
        let new = NewMemory {
            kind: MemoryKind::ALL[i % MemoryKind::ALL.len()],
            text: sentence(&mut rng, &cumulative),
            provenance: Provenance::Person,
            importance: rng.unit(),
            valid_from: now,
        };
        let id = match i % 10 {
            // A tenth supersede an earlier memory, a tenth retract one: the index holds active ones only.
            3 if !ids.is_empty() => {
                let old = ids.swap_remove((rng.next() % ids.len() as u64) as usize);
                memories.supersede(old, &new, "changed", now).await?
            }
            7 if !ids.is_empty() => {
                let old = ids.swap_remove((rng.next() % ids.len() as u64) as usize);
                memories.retract(old, "wrong", now).await?;
                memories.remember(&new, now).await?
            }
            _ => memories.remember(&new, now).await?,
        };
        ids.push(id);
    }
    let filled = started.elapsed();
    let now = T0 + count as i64 * 60_000 + DAY;
    println!(
        "{count} memories stored in {:.1} s ({:.0} µs each through the API), {} active",
        filled.as_secs_f64(),
        filled.as_secs_f64() * 1e6 / count as f64,
        ids.len()
    );

    // Questions: the most common content word or one near it, a mid word and a rare one, with stopwords
    // around them; the last two are the worst case (the two most common content words alone).
    let mut questions = Vec::new();
    for q in 0..50 {
        let common = word(STOPWORDS.len() + q % 10);
        let middle = word(100 + q * 7);
        let rare = word(1_000 + q * 13);
        questions.push(format!("why is my {common} and {middle} with {rare} so low?"));
    }
    questions.push(format!("{} {}", word(STOPWORDS.len()), word(STOPWORDS.len() + 1)));
    questions.push(word(STOPWORDS.len()));
    for question in &questions {
        memories.recall(question, 10, now).await?; // warm the cache once
    }
    let mut times = Vec::new();
    let mut worst = (Duration::ZERO, String::new());
    for _ in 0..10 {
        for question in &questions {
            let t = Instant::now();
            let hits = memories.recall(question, 10, now).await?;
            let took = t.elapsed();
            anyhow::ensure!(!hits.is_empty(), "no memory recalled for {question:?}");
            if took > worst.0 {
                worst = (took, question.clone());
            }
            times.push(took);
        }
    }
    times.sort();
    println!(
        "recall (top 10 of {} active): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} questions \
         (worst: {:?})",
        ids.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len(),
        worst.1
    );

    let t = Instant::now();
    let last = ids.pop().context("at least one memory")?;
    let forgotten = memories.forget(last).await?;
    println!(
        "forget one memory ({} version(s)) at this size: {:.1} ms (FTS optimize and WAL truncation included)",
        forgotten.memories.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    store.close().await;
    Ok(())
}

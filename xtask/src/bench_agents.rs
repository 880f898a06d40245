//! `cargo xtask bench agents`: the AI coach's figures. Runs auren-agents' `bench_tools` example (each tool
//! over a year of simulated data, recall over 100,000 memories, grounding a 2,000-token answer, and what the
//! stored session panels cost: the panel method's probes at start, the refresh on open, with nothing to do
//! and after a method change) and, when
//! the turn loop's `turn_overhead` example exists, that one too (orchestration per turn, a whole turn
//! against the fake model, model calls per question on the routing suite). Both print their figures with
//! the goals alongside; release builds, since debug timings say nothing.

use crate::{cmd, root};

/// The examples, in the order they run.
const EXAMPLES: [&str; 2] = ["bench_tools", "turn_overhead"];

pub fn run() -> anyhow::Result<()> {
    let examples = root().join("crates/auren-agents/examples");
    for example in EXAMPLES {
        if !examples.join(format!("{example}.rs")).exists() {
            println!("auren-agents example {example} does not exist yet; skipped");
            continue;
        }
        println!("== auren-agents {example}");
        cmd::run(cmd::cargo().current_dir(root()).args([
            "run",
            "--release",
            "--locked",
            "-p",
            "auren-agents",
            "--example",
            example,
        ]))?;
    }
    Ok(())
}

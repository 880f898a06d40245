//! Receipt ids and a small builder, so every tool states its numbers the same way.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::receipt::{Receipt, ReceiptId, ReceiptValue, Source, Unit};

/// Hands out receipt ids unique within a database: a random 48-bit prefix per toolbox (two processes on
/// one database draw different ones) and a counter.
#[derive(Debug)]
pub struct ReceiptIds {
    prefix: u64,
    next: AtomicU64,
}

impl Default for ReceiptIds {
    fn default() -> Self {
        Self::new()
    }
}

impl ReceiptIds {
    pub fn new() -> Self {
        // RandomState is seeded from the OS's randomness: no dependency needed for 48 random bits.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(auren_clock::now_unix_ms().unsigned_abs());
        Self {
            prefix: h.finish() & 0xffff_ffff_ffff,
            next: AtomicU64::new(1),
        }
    }

    pub fn next_id(&self) -> ReceiptId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        ReceiptId(format!("r-{:012x}-{n}", self.prefix))
    }
}

/// A receipt under construction.
#[derive(Debug)]
pub struct ReceiptBuilder {
    receipt: Receipt,
}

impl ReceiptBuilder {
    pub fn new(
        ids: &ReceiptIds,
        tool: super::ToolName,
        computed: impl Into<String>,
        method: impl Into<String>,
    ) -> Self {
        Self {
            receipt: Receipt {
                id: ids.next_id(),
                tool: tool.as_str().to_owned(),
                computed: computed.into(),
                method: method.into(),
                sources: Vec::new(),
                values: Vec::new(),
            },
        }
    }

    pub fn id(&self) -> &ReceiptId {
        &self.receipt.id
    }

    /// Adds a value unless it is not finite (a NaN is never vouched for).
    pub fn value(&mut self, label: impl Into<String>, value: f64, unit: Unit) -> &mut Self {
        self.day_value(label, value, unit, None)
    }

    pub fn day_value(
        &mut self,
        label: impl Into<String>,
        value: f64,
        unit: Unit,
        day: Option<i64>,
    ) -> &mut Self {
        if value.is_finite() {
            self.receipt.values.push(ReceiptValue {
                label: label.into(),
                value,
                unit,
                day: day.map(super::days::format_day),
            });
        }
        self
    }

    pub fn source(&mut self, source: Source) -> &mut Self {
        if !self.receipt.sources.contains(&source) {
            self.receipt.sources.push(source);
        }
        self
    }

    pub fn day_source(&mut self, day: i64) -> &mut Self {
        self.source(Source::Day {
            date: super::days::format_day(day),
        })
    }

    pub fn build(self) -> Receipt {
        self.receipt
    }
}

/// The unit of a panel or evidence key by its suffix (`rmssd_ms`, `hf_ms2`, `pnn50_pct`, `mean_hr_bpm`).
pub fn unit_of_key(key: &str) -> Unit {
    let k = metric_of_evidence_name(&key.to_ascii_lowercase());
    if k.ends_with("_ms2") {
        Unit::Ms2
    } else if k.ends_with("_ms") || k.starts_with("rmssd") || k.starts_with("sdnn") {
        Unit::Ms
    } else if k.ends_with("_pct") || k.ends_with("percent") {
        Unit::Percent
    } else if k.ends_with("_bpm") || k == "hr" || k.starts_with("hr_") || k.ends_with("_hr") {
        Unit::Bpm
    } else if k.starts_with("ln_rmssd") || k.starts_with("lnrmssd") {
        Unit::LnMs
    } else {
        Unit::Plain
    }
}

/// The metric under a CEP evidence name: `avg(hr, 2m)` → `hr`, `baseline.ln_rmssd_lo` → `ln_rmssd_lo`, so
/// an alert's evidence carries the unit its rule's message states it in.
fn metric_of_evidence_name(name: &str) -> String {
    let inner = match (name.find('('), name.find([',', ')'])) {
        (Some(open), Some(close)) if close > open => &name[open + 1..close],
        _ => name,
    };
    let inner = inner.trim();
    inner.strip_prefix("baseline.").unwrap_or(inner).to_owned()
}

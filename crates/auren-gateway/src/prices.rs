//! Money and the offline price table (`prices.json`, compiled in, never fetched at run time).
//!
//! Amounts are whole picodollars (10⁻¹² USD) so that reservations and settlements add up exactly:
//! a price of $0.025 per million tokens is 25 000 picodollars per token.

use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

/// An amount of US dollars, held exactly as picodollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd {
    pub picodollars: i64,
}

impl Usd {
    pub const ZERO: Self = Self { picodollars: 0 };
    const PER_DOLLAR: f64 = 1e12;

    /// From a dollar figure as written in configuration (rounded to the picodollar).
    pub fn from_dollars(dollars: f64) -> Self {
        Self {
            picodollars: (dollars * Self::PER_DOLLAR).round() as i64,
        }
    }

    pub fn as_dollars(self) -> f64 {
        self.picodollars as f64 / Self::PER_DOLLAR
    }

    pub fn saturating_add(self, other: Self) -> Self {
        Self {
            picodollars: self.picodollars.saturating_add(other.picodollars),
        }
    }

    pub fn saturating_sub(self, other: Self) -> Self {
        Self {
            picodollars: self.picodollars.saturating_sub(other.picodollars),
        }
    }
}

impl fmt::Display for Usd {
    /// Dollars with six decimals: enough to see the cost of one small call.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.6}", self.as_dollars())
    }
}

/// A model's list price, per token, in picodollars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelPrice {
    pub input: i64,
    pub cached_input: i64,
    pub output: i64,
}

impl ModelPrice {
    /// The cost of the given token counts; cached tokens are part of `input_tokens`.
    pub fn cost(&self, input_tokens: u64, cached_input_tokens: u64, output_tokens: u64) -> Usd {
        let cached = cached_input_tokens.min(input_tokens);
        let fresh = input_tokens - cached;
        let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let pico = tokens(fresh)
            .saturating_mul(self.input)
            .saturating_add(tokens(cached).saturating_mul(self.cached_input))
            .saturating_add(tokens(output_tokens).saturating_mul(self.output));
        Usd { picodollars: pico }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    version: u32,
    taken: String,
    #[expect(
        dead_code,
        reason = "required in the file to say where the prices come from; never read"
    )]
    source: String,
    models: HashMap<String, PriceEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceEntry {
    input: f64,
    cached_input: f64,
    output: f64,
    /// The model's context window in tokens.
    context: u32,
}

/// The price table: model name → price.
#[derive(Clone, Debug)]
pub struct PriceTable {
    pub version: u32,
    /// The date the prices were copied from the providers' pages.
    pub taken: String,
    models: HashMap<String, ModelPrice>,
    /// Model name → context window in tokens, for the meter's "context used".
    contexts: HashMap<String, u32>,
}

#[derive(Debug, thiserror::Error)]
#[error("the price table is not valid JSON of the expected shape: {0}")]
pub struct PriceTableError(#[from] serde_json::Error);

impl PriceTable {
    /// The table compiled into this build.
    pub fn bundled() -> Self {
        // The bundled file is checked by a unit test, so this cannot fail in a tested build; an empty table
        // (every model unpriced) is the safe fallback rather than a panic.
        Self::parse(include_str!("prices.json")).unwrap_or_else(|_| Self {
            version: 0,
            taken: String::new(),
            models: HashMap::new(),
            contexts: HashMap::new(),
        })
    }

    pub fn parse(json: &str) -> Result<Self, PriceTableError> {
        let file: PriceFile = serde_json::from_str(json)?;
        let per_token = |usd_per_million: f64| (usd_per_million * 1e6).round() as i64;
        let contexts = file
            .models
            .iter()
            .map(|(name, p)| (name.clone(), p.context))
            .collect();
        let models = file
            .models
            .into_iter()
            .map(|(name, p)| {
                let price = ModelPrice {
                    input: per_token(p.input),
                    cached_input: per_token(p.cached_input),
                    output: per_token(p.output),
                };
                (name, price)
            })
            .collect();
        Ok(Self {
            version: file.version,
            taken: file.taken,
            models,
            contexts,
        })
    }

    /// The price of `model`, also under a dated snapshot name (`gpt-4o-2024-08-06`,
    /// `claude-sonnet-4-5-20250929`); `None` means unpriced.
    pub fn price(&self, model: &str) -> Option<ModelPrice> {
        by_model_name(&self.models, model).copied()
    }

    /// The context window of `model` in tokens, also under a dated snapshot name; `None` means unknown.
    pub fn context_window(&self, model: &str) -> Option<u32> {
        by_model_name(&self.contexts, model).copied()
    }

    pub fn models(&self) -> impl Iterator<Item = (&str, &ModelPrice)> {
        self.models.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// `model`'s entry in `table`, under its own name or, for a dated snapshot name, the undated one.
fn by_model_name<'a, V>(table: &'a HashMap<String, V>, model: &str) -> Option<&'a V> {
    table
        .get(model)
        .or_else(|| strip_date_suffix(model).and_then(|undated| table.get(undated)))
}

/// `name-20250929` → `name`, `name-2024-08-06` → `name`.
fn strip_date_suffix(model: &str) -> Option<&str> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((head, tail)) = model.rsplit_once('-')
        && tail.len() == 8
        && all_digits(tail)
    {
        return Some(head);
    }
    let mut parts = model.rsplitn(4, '-');
    let (day, month, year, head) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (year.len() == 4
        && month.len() == 2
        && day.len() == 2
        && [year, month, day].iter().all(|p| all_digits(p)))
    .then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_parses_and_has_known_prices() {
        let table = PriceTable::parse(include_str!("prices.json")).expect("bundled prices.json parses");
        assert!(table.version >= 1);
        let table_rows = [
            ("claude-sonnet-4-5", 3_000_000, 15_000_000),
            ("claude-sonnet-4-5-20250929", 3_000_000, 15_000_000),
            ("gpt-4.1", 2_000_000, 8_000_000),
            ("gpt-4o-2024-08-06", 2_500_000, 10_000_000),
            ("gpt-4o-mini", 150_000, 600_000),
        ];
        for (model, input, output) in table_rows {
            let price = table.price(model).unwrap_or_else(|| panic!("{model} priced"));
            assert_eq!((price.input, price.output), (input, output), "{model}");
        }
        assert_eq!(table.price("llama3.1"), None);
        assert_eq!(table.price("gpt-4.1-nano").map(|p| p.cached_input), Some(25_000));
        let contexts = [
            ("gpt-4o", Some(128_000)),
            ("gpt-4o-2024-08-06", Some(128_000)),
            ("gpt-4.1", Some(1_047_576)),
            ("claude-sonnet-4-5-20250929", Some(200_000)),
            ("llama3.1", None),
        ];
        for (model, context) in contexts {
            assert_eq!(table.context_window(model), context, "{model}");
        }
    }

    #[test]
    fn cost_counts_cached_tokens_at_the_cached_price() {
        let price = ModelPrice {
            input: 3_000_000,
            cached_input: 300_000,
            output: 15_000_000,
        };
        // 1M prompt tokens of which 400k cached, 100k output: 0.6M·$3 + 0.4M·$0.30 + 0.1M·$15.
        let cost = price.cost(1_000_000, 400_000, 100_000);
        assert_eq!(cost, Usd::from_dollars(1.8 + 0.12 + 1.5));
        assert_eq!(cost.to_string(), "$3.420000");
    }
}

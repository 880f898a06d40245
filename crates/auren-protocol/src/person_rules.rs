//! The person's alert rules as they travel: a setting ([`crate::SettingChange`]) under the well-known key
//! [`SETTING_KEY`], whose value is the rules' TOML text, or `null` for the shipped defaults.
//!
//! A setting rather than a change type of its own: settings are a base type (every server of protocol
//! version 1 stores them, so no device holds the row back), they merge last writer wins by hybrid logical
//! clock like every editable record, and the rules are edited as one text (two devices editing them at once
//! keep the later edit whole, never a mix of both). Resetting to the defaults is a value (`null`), not a
//! tombstone, so an older edit arriving later cannot bring edited rules back. The text is carried as the
//! person wrote it; whether it compiles is each reader's business (the CLI and the server's consumer fall
//! back to the defaults on rules their build cannot compile, and say so).

use serde_json::Value;

/// The setting key of the person's alert rules.
pub const SETTING_KEY: &str = "cep_rules";

/// Which rules the person runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersonRules {
    /// The shipped default rules (never edited, or reset).
    Defaults,
    /// Rules the person edited: the TOML text.
    Edited(String),
}

/// A value under [`SETTING_KEY`] that is neither a string nor `null` (written by something that is not an
/// Auren build of this protocol).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRules {
    /// What was found: `a number`, `an object`, ….
    pub found: &'static str,
}

impl std::fmt::Display for NotRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the rules setting holds {}, not the rules' text or null",
            self.found
        )
    }
}

impl std::error::Error for NotRules {}

impl PersonRules {
    /// The setting's value.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Defaults => Value::Null,
            Self::Edited(text) => Value::String(text.clone()),
        }
    }

    /// The setting's value as JSON text (what a device's field table keeps).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The rules a setting's value names.
    pub fn from_value(value: &Value) -> Result<Self, NotRules> {
        match value {
            Value::Null => Ok(Self::Defaults),
            Value::String(text) => Ok(Self::Edited(text.clone())),
            Value::Bool(_) => Err(NotRules { found: "a boolean" }),
            Value::Number(_) => Err(NotRules { found: "a number" }),
            Value::Array(_) => Err(NotRules { found: "an array" }),
            Value::Object(_) => Err(NotRules { found: "an object" }),
        }
    }

    /// The rules a setting's value, as JSON text, names.
    pub fn from_json(json: &str) -> Result<Self, NotRules> {
        let value: Value = serde_json::from_str(json).map_err(|_| NotRules {
            found: "text that is not JSON",
        })?;
        Self::from_value(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::{NotRules, PersonRules};
    use proptest::prelude::*;

    #[test]
    fn a_value_names_the_defaults_edited_rules_or_nothing_usable() {
        let cases = [
            ("null", Ok(PersonRules::Defaults)),
            (
                r#""[[rule]]\nname = \"x\"""#,
                Ok(PersonRules::Edited("[[rule]]\nname = \"x\"".to_owned())),
            ),
            (r#""""#, Ok(PersonRules::Edited(String::new()))),
            ("true", Err(NotRules { found: "a boolean" })),
            ("3", Err(NotRules { found: "a number" })),
            ("[]", Err(NotRules { found: "an array" })),
            (r#"{"text":"x"}"#, Err(NotRules { found: "an object" })),
            (
                "[[rule]]",
                Err(NotRules {
                    found: "text that is not JSON",
                }),
            ),
        ];
        for (json, want) in cases {
            assert_eq!(PersonRules::from_json(json), want, "{json}");
        }
    }

    proptest! {
        #[test]
        fn any_rules_text_comes_back_as_it_went(text in any::<String>(), defaults in any::<bool>()) {
            let rules = if defaults { PersonRules::Defaults } else { PersonRules::Edited(text) };
            prop_assert_eq!(PersonRules::from_json(&rules.to_json()), Ok(rules.clone()));
            prop_assert_eq!(PersonRules::from_value(&rules.to_value()), Ok(rules));
        }
    }
}

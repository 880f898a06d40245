//! Each person's alert rules for the consumer: the rules setting their devices synced
//! (`auren_protocol::person_rules`, kept in `records` like every setting), compiled once per stored version.
//!
//! A person without the setting, whose setting is `null` (reset) or deleted runs the consumer's default
//! rules. Stored rules that this build cannot use (not text, or text that does not compile: written by a
//! newer build, or by hand) fall back to the defaults too — a consumer that stopped on one person's rules
//! would stop everyone's alerts — and the reason is logged once per stored version and counted
//! (`auren_consumer_rules_fallback_total`, [`super::ConsumerHandle::rules_fallbacks`]). `auren rules` falls
//! back the same way on a device, so both still agree.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use auren_cep::RuleSet;
use auren_protocol::person_rules::{NotRules, PersonRules, SETTING_KEY};
use auren_protocol::{Change, Hlc};
use sqlx::PgPool;
use uuid::Uuid;

/// People whose compiled rules are kept; past it the book starts again (recompiling is cheap, and a
/// consumer serving many people must not grow without bound).
const CACHED_PEOPLE: usize = 10_000;

/// Why a person's stored rules are not used (the defaults run instead).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RulesFallback {
    #[error("the stored setting is not a setting record: {0}")]
    NotASetting(#[source] serde_json::Error),
    #[error(transparent)]
    NotRules(#[from] NotRules),
    #[error("the rules do not compile: {0}")]
    DoNotCompile(#[source] auren_cep::RuleError),
}

impl RulesFallback {
    /// The metric label.
    fn label(&self) -> &'static str {
        match self {
            Self::NotASetting(_) => "not_a_setting",
            Self::NotRules(_) => "not_rules",
            Self::DoNotCompile(_) => "do_not_compile",
        }
    }
}

/// What a stored rules record asks for.
#[derive(Debug)]
pub(crate) enum StoredRules {
    /// The consumer's default rules.
    Defaults,
    /// The person's own rules, compiled.
    Own(RuleSet),
}

/// The rules a stored `records` row of the rules setting names (body and tombstone as stored).
pub(crate) fn stored_rules(
    body: Option<serde_json::Value>,
    tombstone: Option<serde_json::Value>,
) -> Result<StoredRules, RulesFallback> {
    let Some(body) = body else {
        return Ok(StoredRules::Defaults);
    };
    let setting = match serde_json::from_value::<Change>(body) {
        Ok(Change::Setting(setting)) => setting,
        Ok(other) => {
            // The collection fixes the type: another one here is a stored row no build writes.
            let found = serde::de::Error::custom(format!("a {} change", other.type_name()));
            return Err(RulesFallback::NotASetting(found));
        }
        Err(e) => return Err(RulesFallback::NotASetting(e)),
    };
    // A delete newer than the value leaves the defaults, as every device decides.
    let deleted: Option<Hlc> = tombstone.and_then(|t| serde_json::from_value(t).ok());
    if deleted.is_some_and(|t| t >= setting.value.hlc) {
        return Ok(StoredRules::Defaults);
    }
    match PersonRules::from_value(&setting.value.value)? {
        PersonRules::Defaults => Ok(StoredRules::Defaults),
        PersonRules::Edited(text) => auren_cep::compile(&text)
            .map(StoredRules::Own)
            .map_err(RulesFallback::DoNotCompile),
    }
}

/// The rules per person: the defaults, and each person's own compiled rules by the version they were
/// stored at.
pub(super) struct RulesBook {
    defaults: RuleSet,
    people: HashMap<Uuid, Compiled>,
}

/// A person's rules as compiled from the stored version `version`.
struct Compiled {
    version: i64,
    rules: Option<RuleSet>,
}

impl RulesBook {
    pub(super) fn new(defaults: RuleSet) -> Self {
        Self {
            defaults,
            people: HashMap::new(),
        }
    }

    /// The default rules.
    pub(super) fn defaults(&self) -> &RuleSet {
        &self.defaults
    }

    /// The rules `user` runs now: read from `pool` (one row by its key), compiled when its version is new
    /// here; a stored version that cannot be used counts once in `fallbacks`. A failed read is the caller's
    /// to retry.
    pub(super) async fn rules_of(
        &mut self,
        pool: &PgPool,
        user: Uuid,
        fallbacks: &AtomicU64,
    ) -> Result<RuleSet, sqlx::Error> {
        let row: Option<(Option<serde_json::Value>, Option<serde_json::Value>, i64)> = sqlx::query_as(
            "SELECT body, tombstone, version FROM records \
             WHERE user_id = $1 AND collection = 'setting' AND key = $2",
        )
        .bind(user)
        .bind(SETTING_KEY)
        .fetch_optional(pool)
        .await?;
        let Some((body, tombstone, version)) = row else {
            self.people.remove(&user);
            return Ok(self.defaults.clone());
        };
        if self.people.get(&user).is_none_or(|c| c.version != version) {
            let rules = match stored_rules(body, tombstone) {
                Ok(StoredRules::Own(rules)) => Some(rules),
                Ok(StoredRules::Defaults) => None,
                Err(why) => {
                    tracing::warn!(%user, version, error = %why, "a person's alert rules cannot be used; running the defaults");
                    metrics::counter!("auren_consumer_rules_fallback_total", "why" => why.label())
                        .increment(1);
                    fallbacks.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            if self.people.len() >= CACHED_PEOPLE {
                self.people.clear();
            }
            self.people.insert(user, Compiled { version, rules });
        }
        Ok(self
            .people
            .get(&user)
            .and_then(|c| c.rules.as_ref())
            .unwrap_or(&self.defaults)
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::{RulesFallback, StoredRules, stored_rules};
    use auren_protocol::{DeviceId, Hlc, Lww};
    use serde_json::{Value, json};

    fn hlc(wall_ms: i64) -> Hlc {
        Hlc {
            wall_ms,
            counter: 0,
            device: DeviceId("d".to_owned()),
        }
    }

    fn body(value: Value, wall_ms: i64) -> Value {
        let change = auren_protocol::Change::Setting(auren_protocol::SettingChange {
            key: "cep_rules".to_owned(),
            value: Lww {
                value,
                hlc: hlc(wall_ms),
            },
        });
        serde_json::to_value(change).unwrap()
    }

    const OWN: &str =
        "[[rule]]\nname = \"hr_high\"\nseverity = \"info\"\nwhen = \"hr > 60\"\nmessage = \"hr\"\n";

    /// Which rules a stored row names: the person's own, the defaults, or a fallback and its reason.
    #[test]
    fn a_stored_row_names_own_rules_the_defaults_or_why_not() {
        let tombstone = |wall_ms| Some(serde_json::to_value(hlc(wall_ms)).unwrap());
        let cases: [(&str, Option<Value>, Option<Value>, &str); 9] = [
            ("no body (only deleted)", None, tombstone(5), "defaults"),
            ("edited", Some(body(json!(OWN), 10)), None, "own hr_high"),
            ("reset", Some(body(Value::Null, 10)), None, "defaults"),
            (
                "deleted after the edit",
                Some(body(json!(OWN), 10)),
                tombstone(11),
                "defaults",
            ),
            (
                "edited after a delete",
                Some(body(json!(OWN), 10)),
                tombstone(9),
                "own hr_high",
            ),
            (
                "not TOML rules",
                Some(body(json!("[[rule]]\nname = 3"), 10)),
                None,
                "do_not_compile",
            ),
            ("a number", Some(body(json!(42), 10)), None, "not_rules"),
            (
                "not a change",
                Some(json!({"hello": "world"})),
                None,
                "not_a_setting",
            ),
            (
                "another change type",
                Some(json!({"type": "tombstone", "collection": "setting", "key": "k", "hlc": hlc(1)})),
                None,
                "not_a_setting",
            ),
        ];
        for (name, body, tombstone, want) in cases {
            let got = match stored_rules(body, tombstone) {
                Ok(StoredRules::Defaults) => "defaults".to_owned(),
                Ok(StoredRules::Own(rules)) => {
                    let names: Vec<_> = rules.rules().map(|r| r.name).collect();
                    format!("own {}", names.join(","))
                }
                Err(why) => why.label().to_owned(),
            };
            assert_eq!(got, want, "{name}");
        }
        let Err(RulesFallback::DoNotCompile(e)) =
            stored_rules(Some(body(json!("[[rule]]\nname = 3"), 1)), None)
        else {
            panic!("a rules text that does not compile falls back");
        };
        assert_eq!(e.line, 2, "the reason points at the line: {e}");
    }
}

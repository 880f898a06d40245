//! The rules the live sessions run: the person's own, or the shipped defaults; checked with every problem
//! at its line, saved only once they compile.
//!
//! The person's rules are the synced setting `cep_rules` (`auren_protocol::person_rules`): saving or
//! resetting them here writes it with its outbox row, so they reach the person's other devices and the
//! server's alert consumer, and rules edited on another device or with `auren rules set` run here once
//! pulled. A session reads the setting when it starts, so an edit applies from the next session.
//!
//! The rules file of earlier builds (`rules.toml` in the config folder) is migrated, not kept beside the
//! setting: two copies would need a rule for which one wins when they differ, and the setting already has
//! one that holds across devices (last writer wins by hybrid logical clock). The first read that finds the
//! file and no setting stamps the file's text as the person's rules (as `settings_sync` does for settings
//! edited before they synced); the file is then removed, since it would decide nothing any more and a hand
//! edit of it would be silently ignored.
//!
//! Rules that do not compile here (pulled from a newer build, or a hand-edited file) are shown in the
//! editor with their problems and the word that the defaults run instead ([`RulesRunning`]); a session runs
//! the defaults, with a warning in the log, as the CLI
//! and the server's consumer do: a rule this build cannot read never keeps a heart from being recorded.

use auren_cep::{Baselines, RuleSet};
use auren_clock::UnixMillis;
use auren_engine::query;
use auren_protocol::person_rules::{PersonRules, SETTING_KEY};
use auren_store::Store;
use std::path::Path;

use crate::desktop::Desktop;
use crate::dto::{RuleProblemDto, RulesDto, RulesRunning};
use crate::error::DesktopError;

impl Desktop {
    /// The person's rules, as the editor shows them.
    pub async fn rules_text(&self) -> Result<RulesDto, DesktopError> {
        let rules = self.person_rules(&self.store().await).await?;
        Ok(dto(rules))
    }

    pub fn check_rules(&self, text: &str) -> Vec<RuleProblemDto> {
        problems(text)
    }

    /// Saves edited rules once they compile, as the person's synced rules; they apply to the next session,
    /// here and on their other devices once synced.
    pub async fn save_rules(&self, text: &str) -> Result<RulesDto, DesktopError> {
        let problems = self.check_rules(text);
        if !problems.is_empty() {
            return Err(DesktopError::InvalidRules(problems));
        }
        self.keep_rules(&PersonRules::Edited(text.to_owned())).await
    }

    /// Goes back to the default rules, on the person's other devices too once synced.
    pub async fn reset_rules(&self) -> Result<RulesDto, DesktopError> {
        self.keep_rules(&PersonRules::Defaults).await
    }

    /// Writes `rules` as the setting with its outbox row (nothing when they are already the setting's).
    async fn keep_rules(&self, rules: &PersonRules) -> Result<RulesDto, DesktopError> {
        let store = self.store().await;
        store
            .edit_settings(&[(SETTING_KEY, rules.to_json())], auren_clock::now_unix_ms())
            .await?;
        // Read back: what is stored is what the editor shows (and an earlier build's file goes).
        self.rules_text().await
    }

    /// The person's rules in `store`; an earlier build's rules file becomes them when there is no setting
    /// yet (see the module's doc), and the file is removed either way.
    async fn person_rules(&self, store: &Store) -> Result<PersonRules, DesktopError> {
        let path = self.folders.rules_path();
        let fields = store.setting_fields().await?;
        let stored = fields.iter().find(|(key, ..)| key == SETTING_KEY);
        let rules = match stored {
            Some((_, json, _)) => PersonRules::from_json(json).unwrap_or_else(|error| {
                tracing::warn!(%error, "the default rules run");
                PersonRules::Defaults
            }),
            None => match read_rules_file(&path)? {
                None => return Ok(PersonRules::Defaults),
                Some(text) => {
                    let rules = PersonRules::Edited(text);
                    store
                        .edit_settings(&[(SETTING_KEY, rules.to_json())], auren_clock::now_unix_ms())
                        .await?;
                    tracing::info!(path = %path.display(), "the rules file is now the person's synced rules");
                    rules
                }
            },
        };
        remove_rules_file(&path);
        Ok(rules)
    }

    /// The compiled rules and the person's baselines as of `now`: what a session or an import runs.
    pub(crate) async fn rules_and_baselines(
        &self,
        store: &Store,
        now: i64,
    ) -> Result<(RuleSet, Baselines), DesktopError> {
        let rules = match self.person_rules(store).await? {
            PersonRules::Defaults => self.compile(auren_cep::DEFAULT_RULES)?,
            PersonRules::Edited(text) => match auren_cep::compile(&text) {
                Ok(rules) => rules,
                Err(error) => {
                    tracing::warn!(%error, "the person's rules do not compile here; this session runs the defaults");
                    self.compile(auren_cep::DEFAULT_RULES)?
                }
            },
        };
        let baselines = Baselines::from(&query::baselines(store, UnixMillis(now).day_number()).await?);
        Ok((rules, baselines))
    }

    fn compile(&self, text: &str) -> Result<RuleSet, DesktopError> {
        // `check` lists every problem where `compile` stops at the first.
        auren_cep::compile(text).map_err(|_| DesktopError::InvalidRules(self.check_rules(text)))
    }
}

/// What the editor shows of `rules`: rules that do not compile here come with their problems and the
/// word that the defaults run instead (as [`Desktop::rules_and_baselines`] decides).
fn dto(rules: PersonRules) -> RulesDto {
    match rules {
        PersonRules::Defaults => RulesDto {
            text: auren_cep::DEFAULT_RULES.to_owned(),
            running: RulesRunning::Defaults,
            problems: Vec::new(),
        },
        PersonRules::Edited(text) => {
            let problems = problems(&text);
            let running = if problems.is_empty() {
                RulesRunning::Edited
            } else {
                RulesRunning::DefaultsInstead
            };
            RulesDto {
                text,
                running,
                problems,
            }
        }
    }
}

/// The text of an earlier build's rules file; `None` when there is none.
fn read_rules_file(path: &Path) -> Result<Option<String>, DesktopError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DesktopError::Io {
            what: "reading the rules file of an earlier version",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Removes an earlier build's rules file once the setting holds the rules. A file that cannot be removed
/// is logged, not an error: the setting decides either way.
fn remove_rules_file(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::info!(path = %path.display(), "the rules file of an earlier version was removed"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "the rules file of an earlier version stays; it decides nothing");
        }
    }
}

/// Every problem of `text`, each at its line.
fn problems(text: &str) -> Vec<RuleProblemDto> {
    match auren_cep::check(text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(problem).collect(),
    }
}

/// A rule problem where the editor shows it.
fn problem(e: &auren_cep::RuleError) -> RuleProblemDto {
    RuleProblemDto {
        line: u32::try_from(e.line).unwrap_or(u32::MAX),
        column: u32::try_from(e.column).unwrap_or(u32::MAX),
        rule: e.rule.clone(),
        message: e.kind.to_string(),
    }
}

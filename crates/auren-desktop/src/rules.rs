//! The rules the live sessions run: the edited rules file in the config folder, or the shipped defaults;
//! checked with every problem at its line, saved only once they compile.

use auren_cep::{Baselines, RuleSet};
use auren_clock::UnixMillis;
use auren_engine::query;
use auren_store::Store;

use crate::desktop::{Desktop, write_atomically};
use crate::dto::{RuleProblemDto, RulesDto};
use crate::error::DesktopError;

impl Desktop {
    pub fn rules_text(&self) -> Result<RulesDto, DesktopError> {
        let path = self.folders.rules_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(RulesDto {
                text,
                is_default: false,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RulesDto {
                text: auren_cep::DEFAULT_RULES.to_owned(),
                is_default: true,
            }),
            Err(source) => Err(DesktopError::Io {
                what: "reading the rules",
                path,
                source,
            }),
        }
    }

    pub fn check_rules(&self, text: &str) -> Vec<RuleProblemDto> {
        match auren_cep::check(text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(problem).collect(),
        }
    }

    /// Saves edited rules once they compile; they apply to the next session.
    pub fn save_rules(&self, text: &str) -> Result<RulesDto, DesktopError> {
        let problems = self.check_rules(text);
        if !problems.is_empty() {
            return Err(DesktopError::InvalidRules(problems));
        }
        let path = self.folders.rules_path();
        write_atomically(&path, text.as_bytes(), "saving the rules")?;
        self.rules_text()
    }

    pub fn reset_rules(&self) -> Result<RulesDto, DesktopError> {
        let path = self.folders.rules_path();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(DesktopError::Io {
                    what: "removing the edited rules",
                    path,
                    source,
                });
            }
        }
        self.rules_text()
    }

    /// The compiled rules and the person's baselines as of `now`: what a session or an import runs.
    pub(crate) async fn rules_and_baselines(
        &self,
        store: &Store,
        now: i64,
    ) -> Result<(RuleSet, Baselines), DesktopError> {
        let rules = self.rules_text()?;
        // `check` lists every problem where `compile` stops at the first.
        let rules = auren_cep::compile(&rules.text)
            .map_err(|_| DesktopError::InvalidRules(self.check_rules(&rules.text)))?;
        let baselines = Baselines::from(&query::baselines(store, UnixMillis(now).day_number()).await?);
        Ok((rules, baselines))
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

//! `auren rules check FILE`: compiles a rules file and reports every problem with its rule, line and column.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: RulesCommand,
}

#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Check a rules file (TOML, see RULES.md); exits non-zero when it has errors.
    Check {
        /// The rules file.
        file: PathBuf,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        RulesCommand::Check { file } => check(&file),
    }
}

fn check(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match auren_cep::check(&text) {
        Ok(rules) => {
            println!("{}: {} rules, all valid", path.display(), rules.len());
            for rule in rules.rules() {
                let state = if rule.enabled { "" } else { " (disabled)" };
                println!(
                    "  {:<24} {:<8} line {}{state}",
                    rule.name,
                    rule.severity.as_str(),
                    rule.line
                );
            }
            Ok(())
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{}: {error}", path.display());
            }
            bail!("{}: {} error(s) in the rules", path.display(), errors.len())
        }
    }
}

/// The rules a session runs: `path`'s, or the defaults.
pub fn load(path: Option<&Path>) -> anyhow::Result<auren_cep::RuleSet> {
    match path {
        None => Ok(auren_cep::compile(auren_cep::DEFAULT_RULES)?),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            auren_cep::compile(&text)
                .with_context(|| format!("{} (check it with `auren rules check`)", path.display()))
        }
    }
}

//! `auren rules`: `check FILE` compiles a rules file and reports every problem with its rule, line and
//! column; `show`, `set FILE` and `reset` read and change the person's own rules in a database (`--db`).
//!
//! The person's rules are a synced setting (`auren_protocol::person_rules`): `set` and `reset` write it with
//! its outbox row, so `auren sync` sends it to the person's other devices and to the server, whose alert
//! consumer then runs the same rules over the person's beats. [`session_rules`] is what `record`, `replay`,
//! `import` and `morning` run when started without `--rules FILE` (and what `show` reports); rules that do
//! not compile here (pulled from a newer build) fall back to the defaults with a warning, as the server's
//! consumer does.

use anyhow::{Context, bail};
use auren_protocol::person_rules::{PersonRules, SETTING_KEY};
use auren_store::Store;
use std::path::{Path, PathBuf};

use crate::places::{db_path, runtime};

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
    /// Print the rules your sessions run (TOML): yours, as synced between your devices, or the defaults.
    Show {
        /// The database (default: auren.db in the platform's data directory).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Make FILE your rules, once it compiles; `auren sync` sends them to your other devices and the server.
    Set {
        /// The rules file.
        file: PathBuf,
        /// The database (default: auren.db in the platform's data directory).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Go back to the default rules (on your other devices too, once synced).
    Reset {
        /// The database (default: auren.db in the platform's data directory).
        #[arg(long)]
        db: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        RulesCommand::Check { file } => check(&file).map(|_| ()),
        RulesCommand::Show { db } => runtime()?.block_on(show(db)),
        RulesCommand::Set { file, db } => {
            let text = check(&file)?;
            runtime()?.block_on(keep(db, PersonRules::Edited(text)))
        }
        RulesCommand::Reset { db } => runtime()?.block_on(keep(db, PersonRules::Defaults)),
    }
}

/// Checks the rules file at `path`, listing its rules or every problem; its text when it compiles.
fn check(path: &Path) -> anyhow::Result<String> {
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
            Ok(text)
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{}: {error}", path.display());
            }
            bail!("{}: {} error(s) in the rules", path.display(), errors.len())
        }
    }
}

async fn show(db: Option<PathBuf>) -> anyhow::Result<()> {
    let store = Store::open(&db_path(db)?).await?;
    let rules = person_rules(&store).await?;
    // What a session started now runs (it warns when the person's rules do not compile here).
    let running = session_rules(&store, None).await?;
    store.close().await;
    let whose = match rules {
        PersonRules::Defaults => "the default rules (never edited, or reset)",
        PersonRules::Edited(_) => "your own rules",
    };
    eprintln!("{whose}; sessions run {} rules", running.len());
    print!("{}", rules_text(&rules));
    Ok(())
}

/// Saves `rules` as the person's, with the outbox row that syncs them.
async fn keep(db: Option<PathBuf>, rules: PersonRules) -> anyhow::Result<()> {
    let db = db_path(db)?;
    let store = Store::open(&db).await?;
    let written = store
        .edit_settings(&[(SETTING_KEY, rules.to_json())], auren_clock::now_unix_ms())
        .await?;
    store.close().await;
    let what = match rules {
        PersonRules::Defaults => "the default rules",
        PersonRules::Edited(_) => "your rules",
    };
    if written.is_empty() {
        println!("{}: already {what}; nothing changed", db.display());
    } else {
        println!(
            "{}: sessions now run {what}; `auren sync` sends them to your other devices and the server",
            db.display()
        );
    }
    Ok(())
}

/// The person's rules as `store` holds them (the defaults when they never edited theirs, or the setting
/// is unreadable).
async fn person_rules(store: &Store) -> anyhow::Result<PersonRules> {
    let fields = store.setting_fields().await?;
    let Some((_, json, _)) = fields.iter().find(|(key, ..)| key == SETTING_KEY) else {
        return Ok(PersonRules::Defaults);
    };
    Ok(PersonRules::from_json(json).unwrap_or_else(|error| {
        eprintln!("auren: {error}; the default rules run");
        PersonRules::Defaults
    }))
}

fn rules_text(rules: &PersonRules) -> &str {
    match rules {
        PersonRules::Defaults => auren_cep::DEFAULT_RULES,
        PersonRules::Edited(text) => text,
    }
}

/// The rules a session runs: `given` (`--rules FILE`, compiled by [`load`] before anything is stored), else
/// the person's own from `store` (the defaults when theirs do not compile here, with a warning).
pub async fn session_rules(
    store: &Store,
    given: Option<auren_cep::RuleSet>,
) -> anyhow::Result<auren_cep::RuleSet> {
    if let Some(rules) = given {
        return Ok(rules);
    }
    match person_rules(store).await? {
        PersonRules::Defaults => load(None),
        PersonRules::Edited(text) => auren_cep::compile(&text).or_else(|error| {
            eprintln!("auren: your rules do not compile here ({error}); this session runs the default rules");
            load(None)
        }),
    }
}

/// The rules `path` holds, or the defaults.
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

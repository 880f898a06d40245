//! The person's alert rules as the synced `cep_rules` setting: saving or resetting them on the desktop
//! writes the setting with its outbox row (what sync sends to the other devices and the server); rules
//! written the way `auren rules set` writes them (or pulled from another device) are what the desktop shows
//! and its next live session runs; an earlier build's rules file becomes the setting; rules this build
//! cannot compile leave the session on the defaults instead of refusing it.

use auren_desktop::dto::{RulesRunning, ScenarioDto, SessionKindDto, SourceChoiceDto};
use auren_protocol::person_rules::{PersonRules, SETTING_KEY};
use auren_store::Store;
use std::path::Path;
use std::time::Duration;

use crate::support::{collector, open, rig};

/// A rule the defaults do not have, true of any heart the simulator makes: it fires in the first seconds.
const LOW_BAR: &str = "[[rule]]\nname = \"synced_low_bar\"\nseverity = \"info\"\nwhen = \"hr > 20\"\n";

/// The desktop's database, opened beside the desktop (as `auren rules set --db` opens it).
async fn database(dir: &Path) -> Store {
    Store::open(&dir.join("data").join("auren.db")).await.unwrap()
}

/// The rules setting's value in `store`, and how many outbox rows carry it.
async fn setting_and_rows(store: &Store) -> (Option<PersonRules>, usize) {
    let fields = store.setting_fields().await.unwrap();
    let value = fields
        .iter()
        .find(|(key, ..)| key == SETTING_KEY)
        .map(|(_, json, _)| PersonRules::from_json(json).unwrap());
    let rows = store.outbox_pending(1000).await.unwrap();
    let carrying = rows
        .iter()
        .filter(|row| row.entity_key.as_deref() == Some(SETTING_KEY))
        .count();
    (value, carrying)
}

#[tokio::test]
async fn saving_and_resetting_rules_on_the_desktop_writes_the_synced_setting_to_the_outbox() {
    let r = rig().await;
    let store = database(r.dir.path()).await;
    assert_eq!(setting_and_rows(&store).await, (None, 0), "never edited");

    let edited = auren_cep::DEFAULT_RULES.replacen("cooldown = \"30m\"", "cooldown = \"45m\"", 1);
    assert_ne!(
        edited,
        auren_cep::DEFAULT_RULES,
        "the defaults have a 30m cooldown to edit"
    );
    let saved = r.desktop.save_rules(&edited).await.unwrap();
    assert_eq!(saved.running, RulesRunning::Edited);
    assert_eq!(saved.text, edited);
    assert_eq!(
        setting_and_rows(&store).await,
        (Some(PersonRules::Edited(edited.clone())), 1)
    );
    r.desktop.save_rules(&edited).await.unwrap();
    assert_eq!(
        setting_and_rows(&store).await.1,
        1,
        "saving the same rules again is no edit"
    );

    assert_eq!(
        r.desktop.reset_rules().await.unwrap().running,
        RulesRunning::Defaults
    );
    assert_eq!(
        setting_and_rows(&store).await,
        (Some(PersonRules::Defaults), 2),
        "a reset is an edit to the defaults, synced like any other"
    );
    let shown = r.desktop.rules_text().await.unwrap();
    assert_eq!(shown.running, RulesRunning::Defaults);
    assert_eq!(shown.text, auren_cep::DEFAULT_RULES);
    assert!(
        !r.dir.path().join("config").join("rules.toml").exists(),
        "the rules live in the setting only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_set_the_way_the_cli_sets_them_run_in_the_desktops_next_live_session() {
    let r = rig().await;
    // What `auren rules set FILE --db` does (crates/auren-cli/src/rules.rs), on the desktop's database
    // while the desktop has it open; a pull from another device writes the same field.
    let cli = database(r.dir.path()).await;
    cli.edit_settings(
        &[(SETTING_KEY, PersonRules::Edited(LOW_BAR.to_owned()).to_json())],
        auren_clock::now_unix_ms(),
    )
    .await
    .unwrap();
    let shown = r.desktop.rules_text().await.unwrap();
    assert_eq!(shown.text, LOW_BAR);
    assert_eq!(shown.running, RulesRunning::Edited);

    let (sink, mut seen) = collector();
    let choice = SourceChoiceDto::Simulator {
        scenario: ScenarioDto::Rest,
        speed: 60.0,
    };
    r.desktop
        .start_live(choice, SessionKindDto::Rest, sink)
        .await
        .unwrap();
    let fired = seen
        .until(Duration::from_secs(60), |updates| {
            updates
                .iter()
                .any(|u| u.alerts.iter().any(|a| a.rule == "synced_low_bar"))
        })
        .await;
    r.desktop.stop_live().await.unwrap();
    assert!(fired, "the person's own rule did not fire in the live session");
}

#[tokio::test]
async fn an_earlier_versions_rules_file_becomes_the_synced_setting_and_goes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config").join("rules.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, LOW_BAR).unwrap();
    let desktop = open(dir.path()).await;

    let shown = desktop.rules_text().await.unwrap();
    assert_eq!(shown.text, LOW_BAR);
    assert_eq!(shown.running, RulesRunning::Edited);
    assert!(
        !file.exists(),
        "the file is migrated, not kept beside the setting"
    );
    let store = database(dir.path()).await;
    assert_eq!(
        setting_and_rows(&store).await,
        (Some(PersonRules::Edited(LOW_BAR.to_owned())), 1),
        "stamped once, so the other devices get it"
    );
    desktop.rules_text().await.unwrap();
    assert_eq!(
        setting_and_rows(&store).await.1,
        1,
        "read again: nothing new to send"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_this_build_cannot_compile_are_shown_and_the_session_runs_the_defaults() {
    let r = rig().await;
    let newer = "[[rule]]\nname = 3\n";
    let store = database(r.dir.path()).await;
    store
        .edit_settings(
            &[(SETTING_KEY, PersonRules::Edited(newer.to_owned()).to_json())],
            auren_clock::now_unix_ms(),
        )
        .await
        .unwrap();
    let shown = r.desktop.rules_text().await.unwrap();
    assert_eq!(shown.text, newer, "the editor shows them, with their problems");
    assert_eq!(
        shown.running,
        RulesRunning::DefaultsInstead,
        "and says the defaults run instead"
    );
    assert_eq!(shown.problems, r.desktop.check_rules(&shown.text));
    assert_eq!(
        shown.problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![2],
        "{:?}",
        shown.problems
    );

    let (sink, _seen) = collector();
    let choice = SourceChoiceDto::Simulator {
        scenario: ScenarioDto::Rest,
        speed: 60.0,
    };
    let started = r.desktop.start_live(choice, SessionKindDto::Rest, sink).await;
    assert!(started.is_ok(), "{started:?}");
    r.desktop.stop_live().await.unwrap();
}

//! Settings: validation names the field, saved values survive a restart, a new data folder takes the
//! database along; rules: problems at their line, saved rules apply, reset restores the defaults.

use auren_desktop::dto::{RrUnitDto, RulesRunning, SettingsDto, ThemeDto};
use auren_desktop::{DesktopError, ErrorCode, IpcError};

use crate::support::{open, rig};

fn valid(dir: &std::path::Path) -> SettingsDto {
    SettingsDto {
        theme: ThemeDto::Dark,
        rr_unit: RrUnitDto::S,
        max_hr: 185,
        zones_pct: vec![55, 68, 79, 91],
        data_dir: dir.join("data").display().to_string(),
        export_dir: dir.join("elsewhere").display().to_string(),
    }
}

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field_and_nothing_is_saved() {
    let r = rig().await;
    let before = r.desktop.get_settings();
    type Spoil = fn(&mut SettingsDto);
    let cases: [(&str, Spoil, &str); 7] = [
        ("max HR too low", |s| s.max_hr = 99, "max HR"),
        ("max HR too high", |s| s.max_hr = 241, "max HR"),
        ("three zones", |s| s.zones_pct = vec![60, 70, 80], "HR zones"),
        (
            "falling zones",
            |s| s.zones_pct = vec![60, 80, 70, 90],
            "HR zones",
        ),
        (
            "zone above 99 %",
            |s| s.zones_pct = vec![60, 70, 80, 100],
            "HR zones",
        ),
        (
            "relative data folder",
            |s| s.data_dir = "data".into(),
            "data folder",
        ),
        (
            "empty export folder",
            |s| s.export_dir = " ".into(),
            "export folder",
        ),
    ];
    for (case, spoil, field) in cases {
        let mut s = valid(r.dir.path());
        spoil(&mut s);
        let error = r.desktop.save_settings(s).await.unwrap_err();
        let ipc = IpcError::from(error);
        assert_eq!(ipc.code, ErrorCode::InvalidSettings, "{case}");
        assert!(
            ipc.message.starts_with(&format!("setting {field}:")),
            "{case}: {}",
            ipc.message
        );
        assert_eq!(r.desktop.get_settings(), before, "{case}");
    }
}

#[tokio::test]
async fn saved_settings_survive_a_restart() {
    let r = rig().await;
    let saved = r.desktop.save_settings(valid(r.dir.path())).await.unwrap();
    assert_eq!(saved.max_hr, 185);
    drop(r.desktop);
    let again = open(r.dir.path()).await;
    assert_eq!(again.get_settings(), saved);
    assert!(again.app_info().export_dir.ends_with("elsewhere"));
}

#[tokio::test]
async fn a_new_data_folder_takes_the_database_along() {
    let r = rig().await;
    r.desktop
        .import_recording(&reference("nsr_5min.rr"))
        .await
        .unwrap();
    let mut s = valid(r.dir.path());
    s.data_dir = r.dir.path().join("moved").display().to_string();
    r.desktop.save_settings(s).await.unwrap();
    assert!(r.dir.path().join("moved").join("auren.db").exists());
    assert_eq!(r.desktop.list_sessions(10, 0).await.unwrap().len(), 1);
    drop(r.desktop);
    // After a restart the moved database is the one in use.
    let again = open(r.dir.path()).await;
    assert!(again.app_info().db_path.contains("moved"));
    assert_eq!(again.list_sessions(10, 0).await.unwrap().len(), 1);
}

#[tokio::test]
async fn rule_problems_come_at_their_line_and_bad_rules_are_not_saved() {
    let r = rig().await;
    let defaults = r.desktop.rules_text().await.unwrap();
    assert_eq!(defaults.running, RulesRunning::Defaults);
    assert!(r.desktop.check_rules(&defaults.text).is_empty());

    let bad =
        "[[rule]]\nname = \"broken\"\nseverity = \"info\"\nmessage = \"x\"\nwhen = \"avg(hr, 60s) > \"\n";
    let problems = r.desktop.check_rules(bad);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 5);
    assert_eq!(problems[0].rule.as_deref(), Some("broken"));
    let error = r.desktop.save_rules(bad).await.unwrap_err();
    assert!(
        matches!(error, DesktopError::InvalidRules(ref p) if p.len() == 1),
        "{error}"
    );
    assert_eq!(
        r.desktop.rules_text().await.unwrap().running,
        RulesRunning::Defaults
    );

    let edited = defaults
        .text
        .replacen("cooldown = \"30m\"", "cooldown = \"45m\"", 1);
    assert_ne!(edited, defaults.text, "the defaults have a 30m cooldown to edit");
    let saved = r.desktop.save_rules(&edited).await.unwrap();
    assert_eq!(saved.running, RulesRunning::Edited);
    assert_eq!(r.desktop.rules_text().await.unwrap().text, edited);
    assert_eq!(
        r.desktop.reset_rules().await.unwrap().running,
        RulesRunning::Defaults
    );
}

#[tokio::test]
async fn straps_are_remembered_most_recent_first_and_forgotten() {
    let r = rig().await;
    r.desktop
        .remember_strap("A0:9E:1A:00:00:01", "Polar H10 1")
        .unwrap();
    let list = r.desktop.remember_strap("A0:9E:1A:00:00:02", " ").unwrap();
    let addresses: Vec<_> = list.iter().map(|s| s.address.as_str()).collect();
    assert_eq!(addresses, ["A0:9E:1A:00:00:02", "A0:9E:1A:00:00:01"]);
    assert_eq!(
        list[0].name, "A0:9E:1A:00:00:02",
        "a blank name falls back to the address"
    );
    let left = r.desktop.forget_strap("A0:9E:1A:00:00:02").unwrap();
    assert_eq!(left.len(), 1);
    drop(r.desktop);
    assert_eq!(open(r.dir.path()).await.remembered_straps(), left);
    let error = IpcError::from(rig().await.desktop.remember_strap("  ", "x").unwrap_err());
    assert_eq!(error.code, ErrorCode::InvalidInput);
}

pub fn reference(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/reference")
        .join(name)
}

/// A desktop whose chat goes to `fake`.
async fn desktop_chatting_with(
    dir: &std::path::Path,
    fake: &auren_fake_llm::FakeLlm,
) -> auren_desktop::Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\n\
             [alias.smart]\nroutes = [\"fake:m1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    open(dir).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_setting_decides_whether_a_proposed_memory_waits_or_is_stored() {
    use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto};
    use auren_desktop::settings::MemoryApplyDto;
    use auren_fake_llm::{FakeLlm, Reply, Script};
    const EXTRACTED: &str = r#"{"ops":[{"op":"add","kind":"fact","text":"Runs 5 km three times a week"}]}"#;
    // (the setting, memories stored, proposals waiting)
    let cases = [
        (MemoryApplyDto::AskFirst, 0, 1),
        (MemoryApplyDto::Immediate, 1, 0),
    ];
    for (choice, memories, proposals) in cases {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeLlm::start().await.unwrap();
        let desktop = desktop_chatting_with(dir.path(), &fake).await;
        desktop.set_memory_apply(choice).await.unwrap();
        // The answer, then the extraction's proposal.
        fake.script(
            "m1",
            [
                Script::Reply(Reply::text(["Your trend is steady."])),
                Script::Reply(Reply::text([EXTRACTED])),
            ],
        );
        let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let request = ChatSendDto {
            conversation: None,
            text: "I started running 5 km three times a week. Why is my HRV down?".into(),
            replaces: None,
            model: None,
        };
        desktop
            .chat_send(request, Box::new(move |e| tx.send(e).is_ok()))
            .await
            .unwrap();
        loop {
            let event = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
                .await
                .expect("the turn ends")
                .expect("the turn's events end with done");
            if matches!(event, ChatEventDto::Done { .. }) {
                break;
            }
        }
        let panel = desktop.memory_panel(None).await.unwrap();
        assert_eq!(
            (panel.memories.len(), panel.proposals.len()),
            (memories, proposals),
            "{choice:?}: {panel:?}"
        );
        if memories == 1 {
            assert_eq!(panel.memories[0].text, "Runs 5 km three times a week");
        }
        desktop.shut_down().await;
    }
}

/// The app stores the memory setting as its DTO's JSON under its person-setting key; `auren ask` reads it
/// through `auren_agents::memory_setting`. Every choice must read back as itself, or the CLI would fall back
/// to "ask first" without a word.
#[test]
fn the_stored_memory_setting_reads_back_as_the_same_choice_in_the_cli() {
    use auren_agents::{MemoryApply, memory_setting};
    use auren_desktop::settings::MemoryApplyDto;
    use auren_desktop::settings_sync::PersonSetting;
    assert_eq!(PersonSetting::MemoryApply.key(), memory_setting::KEY);
    for choice in [MemoryApplyDto::Immediate, MemoryApplyDto::AskFirst] {
        let stored = serde_json::to_string(&choice).unwrap();
        assert_eq!(
            memory_setting::parse(&stored),
            Some(MemoryApply::from(choice)),
            "{stored}"
        );
    }
}

//! The person's settings across desktops, through the real `auren-server` on the real PostgreSQL: max HR
//! edited on A is on B after a round (and B's window is told); edits of different settings on two desktops
//! both stand, and of the same setting the later stamp wins on both; the device's folders never leave it;
//! a bad value pulled from elsewhere is refused with the edit's own sentence and kept; at start the synced
//! values win over the settings file, and settings edited before sync knew them are stamped.

use auren_desktop::dto::{RrUnitDto, SettingsDto, ThemeDto};
use auren_desktop::settings_sync::{PersonSetting, RefusedSetting};
use auren_desktop::sync_dto::{PersonSettingDto, SignInModeDto};
use auren_desktop::{Desktop, ErrorCode};
use auren_store::{Stamp, Store};
use std::collections::BTreeMap;
use std::path::Path;
use tempfile::TempDir;

use crate::support::open;
use crate::sync::{PASSWORD, TestServer, desktop, form};

const EMAIL: &str = "ada@example.org";

/// Two desktops, each over its own folder, signed in to one account on `server` (A created it, B logged in)
/// and through one round each.
async fn pair(server: &TestServer) -> ((TempDir, Desktop), (TempDir, Desktop)) {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = desktop(a_dir.path()).await;
    let create = form(
        SignInModeDto::CreateAccount,
        &server.base,
        EMAIL,
        PASSWORD,
        "laptop",
    );
    a.sync_sign_in(create).await.unwrap();
    let b = desktop(b_dir.path()).await;
    let login = form(SignInModeDto::Login, &server.base, EMAIL, PASSWORD, "desk");
    b.sync_sign_in(login).await.unwrap();
    rounds(&[&a, &b]).await;
    ((a_dir, a), (b_dir, b))
}

/// The database of the desktop over `dir` (a second connection to the same file).
async fn store_of(dir: &Path) -> Store {
    Store::open(&dir.join("data").join("auren.db")).await.unwrap()
}

/// The setting records of the desktop over `dir`: key → (value JSON, stamp).
async fn fields(dir: &Path) -> BTreeMap<String, (String, Stamp)> {
    store_of(dir)
        .await
        .setting_fields()
        .await
        .unwrap()
        .into_iter()
        .map(|(key, value, stamp)| (key, (value, stamp)))
        .collect()
}

/// One sync round on each desktop in order, each clean.
async fn rounds(desktops: &[&Desktop]) {
    for d in desktops {
        let report = d.sync_now().await.unwrap();
        assert_eq!(report.parked, 0, "{report:?}");
    }
}

async fn edit(d: &Desktop, change: impl FnOnce(&mut SettingsDto)) -> SettingsDto {
    let mut s = d.get_settings();
    change(&mut s);
    d.save_settings(s).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_persons_settings_reach_the_other_desktop_and_the_devices_stay() {
    let server = TestServer::start().await;
    let ((dir_a, a), (dir_b, b)) = pair(&server).await;
    let b_export = b.get_settings().export_dir;
    let revision = b.sync_status().await.unwrap().settings_revision;

    let saved = edit(&a, |s| {
        s.max_hr = 185;
        s.zones_pct = vec![55, 68, 79, 91];
        s.theme = ThemeDto::Dark;
        s.rr_unit = RrUnitDto::S;
        s.export_dir = dir_a.path().join("elsewhere").display().to_string();
    })
    .await;
    let keys: Vec<String> = fields(dir_a.path()).await.into_keys().collect();
    assert_eq!(
        keys,
        ["max_hr", "rr_unit", "theme", "zones_pct"],
        "only the person's settings are records; the export folder is not"
    );
    rounds(&[&a, &b]).await;

    let on_b = b.get_settings();
    assert_eq!(
        (on_b.max_hr, &on_b.zones_pct, on_b.theme, on_b.rr_unit),
        (185, &saved.zones_pct, ThemeDto::Dark, RrUnitDto::S)
    );
    assert_eq!(on_b.export_dir, b_export, "A's export folder stays on A");
    assert_ne!(
        on_b.data_dir, saved.data_dir,
        "each desktop keeps its own data folder"
    );
    assert!(
        b.sync_status().await.unwrap().settings_revision > revision,
        "B's window is told to reload its settings"
    );
    let file = std::fs::read_to_string(dir_b.path().join("config").join("settings.json")).unwrap();
    assert!(
        file.contains("185"),
        "B's settings file holds the adopted value: {file}"
    );

    // Saving the same values again (and B's no-op save of what it adopted) stamps nothing and queues nothing.
    let before = (fields(dir_a.path()).await, fields(dir_b.path()).await);
    a.save_settings(saved).await.unwrap();
    b.save_settings(b.get_settings()).await.unwrap();
    assert_eq!((fields(dir_a.path()).await, fields(dir_b.path()).await), before);
    for d in [&a, &b] {
        assert_eq!(d.sync_status().await.unwrap().pending_rows, 0);
    }
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_different_settings_both_stand_and_of_one_the_later_stamp_wins() {
    let server = TestServer::start().await;
    let ((dir_a, a), (dir_b, b)) = pair(&server).await;

    // Different settings, neither desktop synced in between: both edits stand on both.
    edit(&a, |s| s.max_hr = 180).await;
    edit(&b, |s| s.theme = ThemeDto::Light).await;
    rounds(&[&a, &b, &a]).await;
    for d in [&a, &b] {
        let s = d.get_settings();
        assert_eq!((s.max_hr, s.theme), (180, ThemeDto::Light));
    }

    // The same setting on both: whichever stamp is later wins, on both.
    edit(&a, |s| s.max_hr = 170).await;
    edit(&b, |s| s.max_hr = 175).await;
    let stamp = |f: BTreeMap<String, (String, Stamp)>| f["max_hr"].clone();
    let (on_a, on_b) = (
        stamp(fields(dir_a.path()).await),
        stamp(fields(dir_b.path()).await),
    );
    assert_ne!(on_a.1, on_b.1, "two edits, two stamps");
    let later = if on_a.1 > on_b.1 { &on_a } else { &on_b };
    let expected: u16 = serde_json::from_str(&later.0).unwrap();
    rounds(&[&a, &b, &a]).await;
    for d in [&a, &b] {
        assert_eq!(d.get_settings().max_hr, expected);
    }
    assert_eq!(fields(dir_a.path()).await, fields(dir_b.path()).await);
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_pulled_value_is_refused_with_the_edits_sentence_and_kept() {
    let server = TestServer::start().await;
    let ((dir_a, a), (dir_b, b)) = pair(&server).await;

    // What a faulty or newer device might send: written past A's checks, straight into its records.
    let now = auren_clock::now_unix_ms();
    let bad = [
        ("max_hr", "300".to_owned()),
        ("theme", "\"neon\"".to_owned()),
        ("zones_pct", "[50,60,70,80]".to_owned()),
    ];
    store_of(dir_a.path())
        .await
        .edit_settings(&bad, now)
        .await
        .unwrap();
    rounds(&[&a, &b]).await;

    let s = b.get_settings();
    assert_eq!(
        (s.max_hr, s.theme, &s.zones_pct),
        (190, ThemeDto::System, &vec![50, 60, 70, 80]),
        "the good value is adopted, the bad ones are not"
    );
    let adoption = b.adopt_synced_settings().await.unwrap();
    let refused: Vec<(PersonSetting, &str, &str)> = adoption
        .refused
        .iter()
        .map(|r| (r.setting, r.value.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(
        refused[0],
        (
            PersonSetting::MaxHr,
            "300",
            "setting max HR: 300 bpm is outside 100–240 bpm"
        )
    );
    assert_eq!((refused[1].0, refused[1].1), (PersonSetting::Theme, "\"neon\""));
    assert!(refused[1].2.contains("not a value"), "{}", refused[1].2);
    let detail = b.sync_status().await.unwrap().detail;
    assert!(
        detail.contains("Not used from another device: setting max HR: 300 bpm is outside 100–240 bpm."),
        "the chip's hover says so: {detail}"
    );
    let kept = fields(dir_b.path()).await;
    assert_eq!(
        (kept["max_hr"].0.as_str(), kept["theme"].0.as_str()),
        ("300", "\"neon\""),
        "nothing pulled is lost"
    );
    let stamp = &kept["max_hr"].1;
    let max_hr_note = (
        PersonSettingDto::MaxHr,
        "300 bpm".to_owned(),
        "300 bpm is outside 100–240 bpm".to_owned(),
        format!("{}.{}.{}", stamp.wall_ms, stamp.counter, stamp.device),
    );
    assert_eq!(
        refused_notes(&b).await,
        [max_hr_note.0, PersonSettingDto::Theme],
        "the Settings pane is told which fields"
    );
    let status = b.sync_status().await.unwrap();
    let first = &status.refused_settings[0];
    assert_eq!(
        (
            first.setting,
            first.value.clone(),
            first.problem.clone(),
            first.edit_id.clone()
        ),
        max_hr_note,
        "the note beside max HR: the value as read, the edit's words, the edit it is about"
    );
    assert_eq!(status.refused_settings[1].value, "neon");

    // A restart refuses them again without failing, and an edit on B replaces the bad value everywhere.
    b.shut_down().await;
    drop(b);
    let b = desktop(dir_b.path()).await;
    assert_eq!(b.get_settings().max_hr, 190);
    assert_eq!(
        refused_notes(&b).await,
        [PersonSettingDto::MaxHr, PersonSettingDto::Theme],
        "after a restart the window still shows them: they are read from the records"
    );
    // The settings file still says 190, so only a real edit is an edit: 188.
    edit(&b, |s| s.max_hr = 188).await;
    assert_eq!(
        refused_notes(&b).await,
        [PersonSettingDto::Theme],
        "the edit replaced the refused max HR at once, before any round"
    );
    rounds(&[&b, &a]).await;
    assert_eq!(a.get_settings().max_hr, 188);
    assert_eq!(fields(dir_a.path()).await["max_hr"].0, "188");
    let error = auren_desktop::IpcError::from(
        a.save_settings(SettingsDto {
            max_hr: 300,
            ..a.get_settings()
        })
        .await
        .unwrap_err(),
    );
    assert_eq!(
        error.code,
        ErrorCode::InvalidSettings,
        "an edit gets the same refusal"
    );
    assert_eq!(error.message, "setting max HR: 300 bpm is outside 100–240 bpm");
    a.shut_down().await;
    b.shut_down().await;
}

/// The settings `d`'s sync status reports as refused, in order.
async fn refused_notes(d: &Desktop) -> Vec<PersonSettingDto> {
    let status = d.sync_status().await.unwrap();
    status.refused_settings.iter().map(|r| r.setting).collect()
}

#[test]
fn a_refused_value_reads_as_a_person_writes_it() {
    let stamp = Stamp {
        wall_ms: 1,
        counter: 0,
        device: "phone".into(),
    };
    let cases = [
        (PersonSetting::MaxHr, "300", "300 bpm"),
        (PersonSetting::MaxHr, "\"fast\"", "fast"),
        (PersonSetting::HrZones, "[50,40,70,80]", "50, 40, 70, 80 %"),
        (PersonSetting::HrZones, "[50,\"x\"]", "50, x"),
        (PersonSetting::Theme, "\"neon\"", "neon"),
        (PersonSetting::RrUnit, "7", "7"),
        (PersonSetting::Theme, "not json", "not json"),
    ];
    for (setting, value, shown) in cases {
        let refused = RefusedSetting {
            setting,
            value: value.into(),
            reason: String::new(),
            problem: String::new(),
            stamp: stamp.clone(),
        };
        assert_eq!(refused.value_text(), shown, "{setting:?} {value}");
    }
}

#[tokio::test]
async fn at_start_synced_values_win_over_the_file_and_older_edits_are_stamped() {
    let dir = tempfile::tempdir().unwrap();
    let d = open(dir.path()).await;
    // Edited before settings synced: in the file only (as an older build left it).
    let file = dir.path().join("config").join("settings.json");
    let mut json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&file)
            .unwrap_or_else(|_| serde_json::to_string(&auren_desktop::Settings::default()).unwrap()),
    )
    .unwrap();
    json["max_hr"] = 185.into();
    json["rr_unit"] = "s".into();
    drop(d);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, json.to_string()).unwrap();
    let d = open(dir.path()).await;
    let seeded = fields(dir.path()).await;
    assert_eq!(
        seeded
            .iter()
            .map(|(k, (v, _))| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        [("max_hr", "185"), ("rr_unit", "\"s\"")],
        "edited settings are stamped for the other devices; the defaults are not"
    );
    assert_eq!(d.get_settings().max_hr, 185);
    drop(d);

    // A value pulled while the app was closed (or adopted by a round that was cut off) wins at start.
    let now = auren_clock::now_unix_ms();
    store_of(dir.path())
        .await
        .edit_settings(&[("max_hr", "172".to_owned())], now)
        .await
        .unwrap();
    let d = open(dir.path()).await;
    assert_eq!(d.get_settings().max_hr, 172);
    assert!(std::fs::read_to_string(&file).unwrap().contains("172"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn how_memories_apply_is_the_persons_setting_and_reaches_the_other_desktop() {
    use auren_desktop::settings::MemoryApplyDto;
    let server = TestServer::start().await;
    let ((dir_a, a), (dir_b, b)) = pair(&server).await;
    assert_eq!(
        a.get_memory_apply(),
        MemoryApplyDto::AskFirst,
        "ask first by default"
    );

    let set = a.set_memory_apply(MemoryApplyDto::Immediate).await.unwrap();
    assert_eq!(set, MemoryApplyDto::Immediate);
    let on_a = fields(dir_a.path()).await;
    assert_eq!(
        on_a.get("memory_apply").map(|(value, _)| value.as_str()),
        Some("\"immediate\""),
        "{on_a:?}"
    );
    // The same choice again stamps nothing.
    a.set_memory_apply(MemoryApplyDto::Immediate).await.unwrap();
    assert_eq!(fields(dir_a.path()).await, on_a);
    rounds(&[&a, &b]).await;
    assert_eq!(b.get_memory_apply(), MemoryApplyDto::Immediate, "B adopted it");

    // Kept across a restart, from the settings file.
    a.shut_down().await;
    drop(a);
    let again = desktop(dir_a.path()).await;
    assert_eq!(again.get_memory_apply(), MemoryApplyDto::Immediate);
    again.shut_down().await;
    b.shut_down().await;
    drop(dir_b);
}

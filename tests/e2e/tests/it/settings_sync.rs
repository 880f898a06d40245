//! The person's settings synced, seen in the real window against a real `auren-server`: a second device
//! (an `auren-sync` client over its own store, as the CLI is) shares the account. Its theme and max HR
//! reach the open Settings form by the sync loop alone, with no reload; a max HR it sends that fails the
//! edit's rules is shown beside the field as not applied, stays in the window's records and on the chip's
//! hover when the note is dismissed (the dismissal outlives a reload); and the window's own edit replaces
//! it and reaches the second device.

use auren_e2e::sync_server::SyncServer;
use auren_e2e::{AppFolders, Rig, testid};
use auren_store::Store;
use std::time::Duration;

const EMAIL: &str = "e2e-settings@example.org";
const PASSWORD: &str = "correct horse battery";
/// The sync loop's interval is 30 s: its own round comes well within this.
const LOOP_ROUND: Duration = Duration::from_secs(75);

/// The value of the field with `data-testid="<id>"` (an input's or a select's).
async fn field_value(rig: &Rig, id: &str) -> anyhow::Result<String> {
    Ok(rig
        .find(id)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// The texts of the refusal notes shown now beside the field of setting `key` (e.g. `max_hr`).
async fn refusal_notes(rig: &Rig, key: &str) -> anyhow::Result<Vec<String>> {
    let css = format!(
        "{} {}",
        testid(&format!("settings-refusals-{key}")),
        testid("settings-refusal-text")
    );
    let mut texts = Vec::new();
    for note in rig.find_all(&css).await? {
        texts.push(note.text().await?);
    }
    Ok(texts)
}

/// The wall clock in Unix milliseconds: the stamp of the phone's edits, as its app would take it.
fn now_ms() -> anyhow::Result<i64> {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    Ok(i64::try_from(since.as_millis())?)
}

/// The chip's hover text.
async fn chip_hover(rig: &Rig) -> anyhow::Result<String> {
    Ok(rig
        .find("sync-chip")
        .await?
        .attr("title")
        .await?
        .unwrap_or_default())
}

/// The window's database's record of setting `key` (a second connection to the app's file).
async fn window_record(folders: &AppFolders, key: &str) -> anyhow::Result<Option<String>> {
    let store = Store::open(&folders.data.join("auren.db")).await?;
    let fields = store.setting_fields().await?;
    Ok(fields
        .into_iter()
        .find(|(k, ..)| k == key)
        .map(|(_, value, _)| value))
}

pub async fn another_devices_settings_show_in_the_window_a_bad_one_is_refused_and_the_windows_edit_goes_back()
-> anyhow::Result<()> {
    let server = SyncServer::start("settings-sync").await?;
    let (_phone_dir, phone_store, phone) =
        crate::sync_pane::phone_creating_the_account(&server, (EMAIL, PASSWORD), "phone").await?;
    let phone_edits = |values: Vec<(&'static str, String)>| {
        let (store, phone) = (&phone_store, &phone);
        async move {
            store.edit_settings(&values, now_ms()?).await?;
            let report = phone.sync_once().await?;
            anyhow::ensure!(
                report.pending == 0 && report.parked == 0,
                "the phone's round: {report:?}"
            );
            anyhow::Ok(())
        }
    };
    let folders = AppFolders::new()?;
    let rig = Rig::launch(&auren_e2e::app_under_test(), &folders.env(), "settings-sync").await?;

    // Other journeys of the same run may have left settings behind: the values sent differ from them.
    let before = rig.invoke("get_settings", serde_json::json!({})).await?;
    let theme = if before["theme"] == "dark" {
        "light"
    } else {
        "dark"
    };
    let max_hr = if before["max_hr"] == 181 { 179 } else { 181 };

    rig.step("the window signs in to the phone's account", async {
        crate::sync_pane::sign_in_from_the_pane(&rig, &server.base, (EMAIL, PASSWORD)).await?;
        rig.poll(
            "the header chip saying synced",
            Duration::from_secs(60),
            || async {
                let chip = rig.find("sync-chip").await?;
                Ok((chip.attr("data-state").await?.as_deref() == Some("synced")).then_some(()))
            },
        )
        .await
    })
    .await?;

    rig.step(
        "the phone's theme and max HR fill the open form by the loop's own round",
        async {
            phone_edits(vec![
                ("theme", format!("\"{theme}\"")),
                ("max_hr", max_hr.to_string()),
            ])
            .await?;
            // Nothing is clicked and nothing reloaded: the loop's round pulls, the chip's channel raises the
            // settings revision, and the untouched form is refilled.
            rig.poll("the phone's values in the form", LOOP_ROUND, || async {
                let shown = (
                    field_value(&rig, "settings-theme").await?,
                    field_value(&rig, "settings-max-hr").await?,
                );
                Ok((shown == (theme.to_owned(), max_hr.to_string())).then_some(()))
            })
            .await?;
            let applied = rig
                .client()
                .execute("return document.documentElement.dataset.theme", Vec::new())
                .await?;
            anyhow::ensure!(
                applied == theme,
                "the window is drawn {applied} instead of {theme}"
            );
            Ok(())
        },
    )
    .await?;

    let sentence = "Another device set max HR to 300 bpm — not applied: 300 bpm is outside 100–240 bpm.";
    rig.step(
        "a max HR of 300 from the phone is shown beside the field, not applied",
        async {
            phone_edits(vec![("max_hr", "300".to_owned())]).await?;
            rig.click("sync-now").await?;
            let notes = rig
                .poll("the refusal beside max HR", auren_e2e::DEFAULT_WAIT, || async {
                    let notes = refusal_notes(&rig, "max_hr").await?;
                    Ok((!notes.is_empty()).then_some(notes))
                })
                .await?;
            anyhow::ensure!(notes == [sentence], "the notes beside max HR: {notes:?}");
            for other in ["theme", "rr_unit", "zones_pct"] {
                let beside = refusal_notes(&rig, other).await?;
                anyhow::ensure!(beside.is_empty(), "notes beside {other}: {beside:?}");
            }
            let shown = field_value(&rig, "settings-max-hr").await?;
            anyhow::ensure!(shown == max_hr.to_string(), "the form shows max HR {shown}");
            let kept = rig.invoke("get_settings", serde_json::json!({})).await?;
            anyhow::ensure!(kept["max_hr"] == max_hr, "the window's settings: {kept}");
            Ok(())
        },
    )
    .await?;

    rig.step(
        "dismissing hides the note here only; the record and the hover keep it",
        async {
            rig.click("settings-refusal-dismiss").await?;
            rig.poll("the note gone", auren_e2e::DEFAULT_WAIT, || async {
                Ok(refusal_notes(&rig, "max_hr").await?.is_empty().then_some(()))
            })
            .await?;
            let record = window_record(&folders, "max_hr").await?;
            anyhow::ensure!(
                record.as_deref() == Some("300"),
                "the window's record: {record:?}"
            );
            // A reload mounts everything afresh: the dismissal is kept by this window, the refusal by Rust.
            rig.client().refresh().await?;
            rig.click("nav-settings").await?;
            let hover = rig
                .poll(
                    "the chip's hover after the reload",
                    auren_e2e::DEFAULT_WAIT,
                    || async {
                        let hover = chip_hover(&rig).await?;
                        Ok(hover
                            .contains("setting max HR: 300 bpm is outside 100–240 bpm")
                            .then_some(hover))
                    },
                )
                .await?;
            anyhow::ensure!(
                hover.contains("Not used from another device"),
                "the hover: {hover}"
            );
            field_value(&rig, "settings-max-hr").await?;
            let notes = refusal_notes(&rig, "max_hr").await?;
            anyhow::ensure!(notes.is_empty(), "after the reload: {notes:?}");
            Ok(())
        },
    )
    .await?;

    let edited = if max_hr == 181 { 176 } else { 177 };
    rig.step(
        "the window's own max HR replaces the refused one and reaches the phone",
        async {
            let input = rig.find("settings-max-hr").await?;
            input.clear().await?;
            rig.type_text(&input, &edited.to_string()).await?;
            rig.click("settings-save").await?;
            rig.poll(
                "the hover no longer naming the refusal",
                auren_e2e::DEFAULT_WAIT,
                || async { Ok((!chip_hover(&rig).await?.contains("Not used")).then_some(())) },
            )
            .await?;
            rig.click("sync-now").await?;
            rig.poll("nothing left to send", auren_e2e::DEFAULT_WAIT, || async {
                let chip = rig.find("sync-chip").await?;
                let synced = chip.attr("data-state").await?.as_deref() == Some("synced");
                Ok((synced && rig.text("sync-pending").await? == "0").then_some(()))
            })
            .await?;
            phone.sync_once().await?;
            let on_phone: std::collections::BTreeMap<String, String> = phone_store
                .setting_fields()
                .await?
                .into_iter()
                .map(|(key, value, _)| (key, value))
                .collect();
            anyhow::ensure!(
                on_phone.get("max_hr") == Some(&edited.to_string())
                    && on_phone.get("theme") == Some(&format!("\"{theme}\"")),
                "the phone holds {on_phone:?}"
            );
            Ok(())
        },
    )
    .await?;
    rig.close().await
}

//! The Rules view shows a validation error at its line; a changed maximum heart rate survives a reload.

use auren_e2e::{AppFolders, Rig, fixtures, testid};

pub async fn rules_errors_show_at_their_line_and_settings_persist() -> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    let rig = Rig::launch(&auren_e2e::app_under_test(), &folders.env(), "rules-settings").await?;

    rig.step("rules-problem-at-its-line", async {
        rig.click("nav-rules").await?;
        let editor = rig.find("rules-editor").await?;
        editor.clear().await?;
        rig.type_text(&editor, fixtures::INVALID_RULES).await?;
        rig.click("rules-check").await?;
        let lines = rig
            .poll("a rules problem", auren_e2e::DEFAULT_WAIT, || async {
                let mut lines = Vec::new();
                for p in rig.find_all(&testid("rules-problem")).await? {
                    lines.push(p.attr("data-line").await?.unwrap_or_default());
                }
                Ok((!lines.is_empty()).then_some(lines))
            })
            .await?;
        let expected = fixtures::INVALID_RULES_LINE.to_string();
        anyhow::ensure!(
            lines == [expected.as_str()],
            "problems at lines {lines:?}, expected only {expected}"
        );
        Ok(())
    })
    .await?;

    let max_hr = rig
        .step("settings-save", async {
            rig.click("nav-settings").await?;
            let input = rig.find("settings-max-hr").await?;
            let before: u32 = input.prop("value").await?.unwrap_or_default().trim().parse()?;
            // Any valid value other than the current one proves the save.
            let wanted = if before == 187 { 183 } else { 187 };
            input.clear().await?;
            input.send_keys(&wanted.to_string()).await?;
            rig.click("settings-save").await?;
            // Wait until the backend holds it, asking it the way the UI does; reloading earlier would
            // race the save.
            rig.poll(
                "the backend to hold the new maximum",
                auren_e2e::DEFAULT_WAIT,
                || async {
                    let settings = rig.invoke("get_settings", serde_json::json!({})).await?;
                    Ok((settings["max_hr"].as_f64() == Some(f64::from(wanted))).then_some(()))
                },
            )
            .await?;
            Ok(wanted)
        })
        .await?;

    rig.step("settings-persisted", async {
        // A full reload: what the field shows now comes from the backend, not from the view's state.
        rig.client().refresh().await?;
        rig.click("nav-settings").await?;
        let want = max_hr.to_string();
        rig.poll(
            "the saved maximum heart rate",
            auren_e2e::DEFAULT_WAIT,
            || async {
                let shown = rig.find("settings-max-hr").await?.prop("value").await?;
                Ok((shown.as_deref().map(str::trim) == Some(want.as_str())).then_some(()))
            },
        )
        .await
    })
    .await?;

    rig.close().await
}

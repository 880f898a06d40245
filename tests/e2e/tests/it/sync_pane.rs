//! Settings → Sync in the real window, against a real `auren-server`: another device creates the account,
//! the desktop (holding a session recorded through the live pipeline) signs in from the pane, the header
//! chip turns "synced" once the session is sent — the other device then pulls it — the pane lists both
//! devices, and removing the other one there ends that device's sign-in on its very next request.

use auren_e2e::sync_server::SyncServer;
use auren_e2e::{AppFolders, Rig, fixtures, testid};
use auren_store::Store;
use auren_sync::{SignIn, SyncClient, SyncConfig, SyncError, TokenPlace, TokenVault};
use fantoccini::Locator;
use std::time::Duration;

const EMAIL: &str = "e2e-sync@example.org";
const PASSWORD: &str = "correct horse battery";

/// A second device (a store of its own in a temporary folder, tokens in a file) that creates the account on
/// `server`: the "phone" the Sync pane's journeys sign the window in beside. The folder lives as long as the
/// returned guard.
pub async fn phone_creating_the_account(
    server: &SyncServer,
    (email, password): (&str, &str),
    device_name: &str,
) -> anyhow::Result<(tempfile::TempDir, Store, SyncClient)> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("phone.db")).await?;
    let vault = TokenVault::new(TokenPlace::File(dir.path().join("phone.db.tokens")));
    let phone = SyncClient::sign_in(
        &store,
        vault,
        &server.base,
        (email, password, device_name),
        SignIn::Create,
        SyncConfig::default(),
    )
    .await?;
    Ok((dir, store, phone))
}

/// Opens Settings and signs the window in to `base` from the Sync pane as device "e2e desktop".
pub async fn sign_in_from_the_pane(
    rig: &Rig,
    base: &str,
    (email, password): (&str, &str),
) -> anyhow::Result<()> {
    rig.click("nav-settings").await?;
    for (id, text) in [
        ("sync-server", base),
        ("sync-email", email),
        ("sync-password", password),
        ("sync-device-name", "e2e desktop"),
    ] {
        let input = rig.find(id).await?;
        input.clear().await?;
        rig.type_text(&input, text).await?;
    }
    rig.click("sync-sign-in-submit").await
}

pub async fn the_sync_pane_signs_in_shows_synced_lists_devices_and_removes_one() -> anyhow::Result<()> {
    let server = SyncServer::start("sync-pane").await?;
    let (_phone_dir, phone_store, phone) =
        phone_creating_the_account(&server, (EMAIL, PASSWORD), "old phone").await?;
    let folders = AppFolders::new()?;
    fixtures::seed_session(&folders.data).await?;
    let rig = Rig::launch(&auren_e2e::app_under_test(), &folders.env(), "sync-pane").await?;

    rig.step("sign-in", async {
        sign_in_from_the_pane(&rig, &server.base, (EMAIL, PASSWORD)).await?;
        let email = rig.text("sync-account-email").await?;
        anyhow::ensure!(email == EMAIL, "the pane shows the account {email:?}");
        Ok(())
    })
    .await?;

    rig.step("chip-synced", async {
        rig.poll(
            "the header chip saying synced",
            Duration::from_secs(60),
            || async {
                let chip = rig.find("sync-chip").await?;
                Ok((chip.attr("data-state").await?.as_deref() == Some("synced")).then_some(()))
            },
        )
        .await?;
        let pending = rig.text("sync-pending").await?;
        anyhow::ensure!(pending == "0", "rows still waiting: {pending}");
        let report = phone.sync_once().await?;
        let sessions = phone_store.sessions(10, 0).await?;
        anyhow::ensure!(
            report.pulled > 0 && sessions.len() == 1,
            "the other device pulled {report:?} and holds {} sessions",
            sessions.len()
        );
        Ok(())
    })
    .await?;

    let row_css = format!(
        "{}[data-device-id=\"{}\"]",
        testid("sync-device"),
        phone.account().device_id
    );
    rig.step("devices", async {
        let names = rig
            .poll("both devices in the pane", auren_e2e::DEFAULT_WAIT, || async {
                let mut names = Vec::new();
                for row in rig.find_all(&testid("sync-device")).await? {
                    names.push(row.text().await?);
                }
                Ok((names.len() == 2).then_some(names))
            })
            .await?;
        anyhow::ensure!(
            names.iter().any(|n| n.contains("old phone"))
                && names.iter().any(|n| n.contains("e2e desktop (this device)")),
            "the pane lists {names:?}"
        );
        let here = rig
            .find_all(&format!("{}[data-device-id]", testid("sync-device")))
            .await?;
        let mut removable = 0;
        for row in here {
            removable += row
                .find_all(Locator::Css(&testid("sync-device-remove")))
                .await?
                .len();
        }
        anyhow::ensure!(
            removable == 1,
            "{removable} Remove buttons: only the other device has one"
        );
        Ok(())
    })
    .await?;

    rig.step("remove", async {
        let in_row = |id: &'static str| {
            let css = row_css.clone();
            let rig = &rig;
            async move {
                let row = rig
                    .find_all(&css)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("the old phone's row is gone"))?;
                row.find(Locator::Css(&testid(id))).await?.click().await?;
                anyhow::Ok(())
            }
        };
        in_row("sync-device-remove").await?;
        in_row("sync-device-remove-confirm").await?;
        rig.poll(
            "the old phone gone from the list",
            auren_e2e::DEFAULT_WAIT,
            || async {
                let rows = rig.find_all(&testid("sync-device")).await?;
                Ok((rows.len() == 1 && rig.find_all(&row_css).await?.is_empty()).then_some(()))
            },
        )
        .await?;
        match phone.devices().await {
            Err(SyncError::SignedOut) => Ok(()),
            other => anyhow::bail!("the removed phone's next request answered {other:?}"),
        }
    })
    .await?;
    rig.close().await
}

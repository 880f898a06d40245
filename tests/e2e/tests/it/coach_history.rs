//! A coach's History per athlete in the real window: over a database holding the coach's own session and
//! mornings and, as a sync pulls them, an athlete's session and mornings, History's picker switches to the
//! athlete; their one row shows when it started and how long it lasted, it opens marked read-only with the
//! panel the engine computes from the stored beats, and switching back to "My data" lists the coach's own
//! session alone. And over a real sync server: once an athlete grants the desktop's account access, the Sync
//! pane names them with a link to their History, which lists the session the athlete's device pushed.

use crate::sync_pane::{phone_creating_the_account, sign_in_from_the_pane};
use anyhow::Context;
use auren_e2e::fixtures::{self, ATHLETE};
use auren_e2e::sync_server::SyncServer;
use auren_e2e::{AppFolders, Rig, testid};
use auren_store::Store;
use auren_sync::{CoachAccess, SignIn, SyncClient, SyncConfig, TokenPlace, TokenVault};
use fantoccini::Locator;
use fantoccini::elements::Element;
use std::ffi::OsString;
use std::time::Duration;

/// The panel rows compared with the engine's values (keys, and the decimals History shows them with).
const PANEL_SHOWN: &[(&str, usize)] = &[("rmssd_ms", 1), ("sdnn_ms", 1), ("mean_hr_bpm", 1)];

pub async fn a_coach_picks_an_athlete_in_history_and_opens_their_session_read_only() -> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    let today = fixtures::today();
    let seed = fixtures::seed_coach_with_athlete(&folders.data, today).await?;
    let mut env = folders.env();
    // History shows local times: UTC makes the athlete's start a known text.
    env.push(("TZ", OsString::from("UTC")));
    let rig = Rig::launch(&auren_e2e::app_under_test(), &env, "coach-history").await?;
    rig.step("trends-apart", trends_apart(&rig, today)).await?;
    rig.step("pick-athlete", pick_the_athlete(&rig)).await?;
    rig.step("athlete-row", the_athletes_row(&rig, &seed)).await?;
    rig.step("athlete-session-read-only", their_session_read_only(&rig, &seed))
        .await?;
    rig.step("back-to-my-data", back_to_my_data(&rig, &seed)).await?;
    rig.close().await
}

/// The route of the athlete's session list: History's, with the email escaped as `encodeURIComponent` does.
fn athlete_list() -> String {
    format!(
        "#/history/athlete/{}",
        ATHLETE.replace('+', "%2B").replace('@', "%40")
    )
}

/// The mornings reached the athlete's trend and only theirs (the coach's today is 3.5 + 0.4).
async fn trends_apart(rig: &Rig, today: i64) -> anyhow::Result<()> {
    let on_today = |trend: serde_json::Value| {
        trend
            .as_array()
            .and_then(|days| days.iter().find(|d| d["day"] == today))
            .and_then(|d| d["today_ln_rmssd"].as_f64())
    };
    let theirs = rig
        .invoke(
            "athlete_daily_trend",
            serde_json::json!({ "athlete": ATHLETE, "days": 60 }),
        )
        .await?;
    let own = rig
        .invoke("daily_trend", serde_json::json!({ "days": 60 }))
        .await?;
    let (theirs, own) = (on_today(theirs), on_today(own));
    anyhow::ensure!(
        theirs.map(round2) == Some(fixtures::ATHLETE_LN_RMSSD_TODAY)
            && own.map(round2) == Some(round2(fixtures::LN_RMSSD_CENTRE + fixtures::LN_RMSSD_SPREAD)),
        "today's lnRMSSD: the athlete's {theirs:?}, the coach's {own:?}"
    );
    Ok(())
}

/// Opens History and chooses the athlete in the picker (shown once the app named them).
async fn pick_the_athlete(rig: &Rig) -> anyhow::Result<()> {
    rig.click("nav-history").await?;
    let picker = rig
        .poll("the athlete in the picker", auren_e2e::DEFAULT_WAIT, || async {
            let picker = rig.find("history-owner").await?;
            let options = picker.find_all(Locator::Css("option")).await?;
            Ok((options.len() == 2 && picker.is_displayed().await?).then_some(picker))
        })
        .await?;
    picker
        .select_by_value(&format!("athlete:{ATHLETE}"))
        .await
        .context("cannot choose the athlete in the picker")?;
    rig.poll("the athlete's list", auren_e2e::DEFAULT_WAIT, || async {
        Ok((location(rig).await? == athlete_list()).then_some(()))
    })
    .await
}

/// Their one row: when it started, how long it lasted, its beats; then opens it.
async fn the_athletes_row(rig: &Rig, seed: &fixtures::CoachSeed) -> anyhow::Result<()> {
    let cells = rig
        .poll("the athlete's one row", auren_e2e::DEFAULT_WAIT, || async {
            let rows = rows_shown(rig).await?;
            Ok((rows.len() == 1).then_some(rows))
        })
        .await?;
    let (id, cells) = &cells[0];
    let want_duration = fixtures::shown_duration(
        seed.athlete_detail
            .summary
            .duration_s
            .context("the athlete's session has no duration")?,
    );
    let athlete_id = seed.athlete_session.to_string();
    anyhow::ensure!(
        *id == athlete_id
            && cells.first().map(String::as_str) == Some(fixtures::ATHLETE_SESSION_START_SHOWN_UTC)
            && cells.get(4) == Some(&want_duration)
            && cells.get(5) == Some(&fixtures::ATHLETE_BEATS.to_string()),
        "the row of session {id} shows {cells:?}; wanted session {athlete_id} started {:?}, lasting \
         {want_duration}, {} beats",
        fixtures::ATHLETE_SESSION_START_SHOWN_UTC,
        fixtures::ATHLETE_BEATS
    );
    // WebKitWebDriver refuses clicks on a <tr> (not interactable); a person clicks one of its cells.
    first_row(rig)
        .await?
        .find(Locator::Css("td"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// Their session open: the read-only note, and the panel values the engine computes from the stored beats.
async fn their_session_read_only(rig: &Rig, seed: &fixtures::CoachSeed) -> anyhow::Result<()> {
    let opened = format!("{}/{}", athlete_list(), seed.athlete_session);
    rig.poll("the athlete's session open", auren_e2e::DEFAULT_WAIT, || async {
        Ok((location(rig).await? == opened).then_some(()))
    })
    .await?;
    let note = rig.text("read-only-note").await?;
    anyhow::ensure!(
        note.contains(ATHLETE) && note.contains("Read-only"),
        "the note says {note:?}"
    );
    for &(key, decimals) in PANEL_SHOWN {
        let want = seed
            .athlete_detail
            .panel
            .iter()
            .find(|m| m.key == key)
            .and_then(|m| m.value)
            .with_context(|| format!("the engine computed no {key}"))?;
        let want = format!("{want:.decimals$}");
        let css = format!("{}[data-key=\"{key}\"] td", testid("session-metric"));
        let shown = rig
            .poll(&format!("the {key} value"), auren_e2e::DEFAULT_WAIT, || async {
                match rig.find_all(&css).await?.first() {
                    Some(cell) => Ok(Some(cell.text().await?)),
                    None => Ok(None),
                }
            })
            .await?;
        anyhow::ensure!(
            shown == want,
            "{key}: the window shows {shown:?}, the engine {want}"
        );
    }
    Ok(())
}

/// Back to their list, then "My data": the coach's own session alone, and the picker says so.
async fn back_to_my_data(rig: &Rig, seed: &fixtures::CoachSeed) -> anyhow::Result<()> {
    rig.find_all("a.back")
        .await?
        .into_iter()
        .next()
        .context("no way back to the athlete's list")?
        .click()
        .await?;
    rig.poll("the athlete's list again", auren_e2e::DEFAULT_WAIT, || async {
        Ok((location(rig).await? == athlete_list() && rows_shown(rig).await?.len() == 1).then_some(()))
    })
    .await?;
    rig.find("history-owner").await?.select_by_value("own").await?;
    let own_id = seed.own_session.to_string();
    let rows = rig
        .poll("the coach's own list", auren_e2e::DEFAULT_WAIT, || async {
            if location(rig).await? != "#/history" {
                return Ok(None);
            }
            let rows = rows_shown(rig).await?;
            Ok((!rows.is_empty()).then_some(rows))
        })
        .await?;
    let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
    anyhow::ensure!(
        ids == [own_id.as_str()],
        "My data lists sessions {ids:?}; wanted only the coach's own {own_id}"
    );
    let picked = rig.find("history-owner").await?.prop("value").await?;
    anyhow::ensure!(picked.as_deref() == Some("own"), "the picker shows {picked:?}");
    Ok(())
}

const COACH: &str = "coach-e2e@example.org";
const PASSWORD: &str = "correct horse battery";

pub async fn the_sync_panes_athlete_links_to_the_history_their_device_pushed() -> anyhow::Result<()> {
    let server = SyncServer::start("coach-sync").await?;
    // The coach's account exists before the athlete can name it.
    let (_coach_phone_dir, _coach_phone_store, _coach_phone) =
        phone_creating_the_account(&server, (COACH, PASSWORD), "coach phone").await?;
    let (_athlete_dir, beats) = athlete_granting_and_pushing(&server).await?;

    let folders = AppFolders::new()?;
    let rig = Rig::launch(&auren_e2e::app_under_test(), &folders.env(), "coach-sync").await?;
    rig.step("coach-signs-in", async {
        sign_in_from_the_pane(&rig, &server.base, (COACH, PASSWORD)).await?;
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
    rig.step("athlete-link", follow_the_athlete_link(&rig)).await?;
    rig.step("athlete-history", their_pushed_session_listed(&rig, beats))
        .await?;
    rig.close().await
}

/// The athlete's device (its folder, kept as long as the guard): it creates the athlete's account, grants
/// [`COACH`] access and pushes its one recorded session; returns that session's beat count.
async fn athlete_granting_and_pushing(server: &SyncServer) -> anyhow::Result<(tempfile::TempDir, i64)> {
    let dir = tempfile::tempdir()?;
    fixtures::seed_session(dir.path()).await?;
    let store = Store::open(&dir.path().join("auren.db")).await?;
    let athlete = SyncClient::sign_in(
        &store,
        TokenVault::new(TokenPlace::File(dir.path().join("tokens"))),
        &server.base,
        (ATHLETE, PASSWORD, "athlete phone"),
        SignIn::Create,
        SyncConfig::default(),
    )
    .await?;
    athlete.coach_access(COACH, CoachAccess::Grant).await?;
    let pushed = athlete.sync_once().await?;
    let beats = store.sessions(1, 0).await?.first().map(|s| s.beat_count);
    store.close().await;
    match beats {
        Some(beats) if pushed.pushed > 0 => Ok((dir, beats)),
        _ => anyhow::bail!("the athlete's device pushed {pushed:?} of a session of {beats:?} beats"),
    }
}

/// Settings → Sync names the athlete with a link to their History; follows it.
async fn follow_the_athlete_link(rig: &Rig) -> anyhow::Result<()> {
    let link = rig.find("sync-athlete-history").await?;
    // WebKit gives the link resolved against the page (`tauri://localhost#/…`): its route is the fragment.
    let text = link.text().await?;
    let href = link.attr("href").await?;
    let route = href.as_deref().and_then(|h| h.find('#').map(|at| &h[at..]));
    anyhow::ensure!(
        text == ATHLETE && route == Some(athlete_list().as_str()),
        "the pane's athlete link reads {text:?} and goes to {href:?}"
    );
    Ok(link.click().await?)
}

/// The athlete's History lists the one session their device pushed, and the picker names them.
async fn their_pushed_session_listed(rig: &Rig, beats: i64) -> anyhow::Result<()> {
    let rows = rig
        .poll(
            "the athlete's pushed session listed",
            auren_e2e::DEFAULT_WAIT,
            || async {
                if location(rig).await? != athlete_list() {
                    return Ok(None);
                }
                let rows = rows_shown(rig).await?;
                Ok((!rows.is_empty()).then_some(rows))
            },
        )
        .await?;
    let shown: Vec<Option<&str>> = rows
        .iter()
        .map(|(_, cells)| cells.get(5).map(String::as_str))
        .collect();
    anyhow::ensure!(
        shown == [Some(beats.to_string().as_str())],
        "the athlete's History lists rows with beats {shown:?}; their device holds one of {beats}"
    );
    let picked = rig.find("history-owner").await?.prop("value").await?;
    anyhow::ensure!(
        picked.as_deref() == Some(format!("athlete:{ATHLETE}").as_str()),
        "the picker shows {picked:?}"
    );
    Ok(())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The window's route (`location.hash`).
async fn location(rig: &Rig) -> anyhow::Result<String> {
    let hash = rig.client().execute("return location.hash;", Vec::new()).await?;
    Ok(hash.as_str().unwrap_or_default().to_owned())
}

async fn first_row(rig: &Rig) -> anyhow::Result<Element> {
    rig.find_all(&testid("session-row"))
        .await?
        .into_iter()
        .next()
        .context("no session row")
}

/// Every session row shown: its session id and its cells' text.
async fn rows_shown(rig: &Rig) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let mut rows = Vec::new();
    for row in rig.find_all(&testid("session-row")).await? {
        let id = row.attr("data-session-id").await?.unwrap_or_default();
        let mut cells = Vec::new();
        for cell in row.find_all(Locator::Css("td")).await? {
            cells.push(cell.text().await?);
        }
        rows.push((id, cells));
    }
    Ok(rows)
}

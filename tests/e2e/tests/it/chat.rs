//! The chat window in the real webview: the offline analyst answers from the person's own data with the
//! value the Morning view shows; hostile model output runs nothing and fetches nothing, and a made-up
//! number is marked unverified.

use auren_e2e::{AppFolders, Rig, fixtures, testid};
use auren_fake_llm::{FakeLlm, Reply, Script};
use std::ffi::OsString;

const KEY_VAR: &str = "AUREN_E2E_OPENAI_KEY";

/// A gateway.toml routing every question to the fake provider.
fn gateway_config(folders: &AppFolders, fake: &FakeLlm) -> anyhow::Result<OsString> {
    let path = folders.root().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n[[provider]]\nname = \"openai\"\nkind = \"openai\"\n\
             base_url = \"{}\"\napi_key_env = \"{KEY_VAR}\"\n\n[alias.smart]\nroutes = [\"openai:gpt-4.1\"]\n",
            fake.openai_base_url()
        ),
    )?;
    Ok(path.into_os_string())
}

async fn ask(rig: &Rig, question: &str) -> anyhow::Result<()> {
    rig.click("nav-chat").await?;
    let input = rig.find("chat-input").await?;
    rig.type_text(&input, &format!("{question}\n")).await
}

/// The text of the newest answer once `done`, as shown.
async fn answer_when(rig: &Rig, status: &str) -> anyhow::Result<String> {
    let css = format!(".msg-assistant[data-status={status}] {}", testid("answer"));
    rig.poll("the answer", auren_e2e::DEFAULT_WAIT, || async {
        let found = rig.find_all(&css).await?;
        match found.last() {
            Some(el) => Ok(Some(el.text().await?)),
            None => Ok(None),
        }
    })
    .await
}

pub async fn offline_analyst_answers_with_the_mornings_value() -> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let mut env = folders.env();
    env.push((
        "AUREN_GATEWAY_CONFIG",
        folders.root().join("absent.toml").into_os_string(),
    ));
    let rig = Rig::launch(&auren_e2e::app_under_test(), &env, "chat-offline").await?;

    rig.step("offline-answer", async {
        let readiness = rig.invoke("readiness_today", serde_json::json!({})).await?;
        let today = readiness["today_ln_rmssd"]
            .as_f64()
            .ok_or_else(|| anyhow::anyhow!("no lnRMSSD today: {readiness}"))?;
        ask(&rig, "How is my readiness today?").await?;
        rig.find("offline-status").await?;
        // Saved answers render with status "done" once the turn is stored.
        let text = answer_when(&rig, "done").await?;
        let shown = format!("{today:.2}");
        anyhow::ensure!(
            text.contains(&shown),
            "the offline answer {text:?} does not give today's lnRMSSD {shown}"
        );
        rig.find("offline-badge").await?;
        let grounded = rig.find_all("[data-testid=claim][data-grounded=true]").await?;
        anyhow::ensure!(!grounded.is_empty(), "no grounded claim in {text:?}");
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn hostile_output_runs_nothing_and_made_up_numbers_are_marked() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    let hostile = "Your RMSSD was 123 ms today.\n\n<img src=x onerror=\"window.__pwned=1\">\n\n<script>window.__pwned=2</script>\n\n\
                   [open](javascript:window.__pwned=3) ![p](https://evil.invalid/p.png)";
    fake.set_default(Script::Reply(Reply::text([hostile]).with_usage(120, 30)));
    let folders = AppFolders::new()?;
    let mut env = folders.env();
    env.push(("AUREN_GATEWAY_CONFIG", gateway_config(&folders, &fake)?));
    env.push((KEY_VAR, OsString::from("sk-e2e-0000")));
    let rig = Rig::launch(&auren_e2e::app_under_test(), &env, "chat-hostile").await?;

    rig.step("hostile-inert", async {
        ask(&rig, "Write me a short note about recovery habits").await?;
        let text = answer_when(&rig, "done").await?;
        anyhow::ensure!(
            text.contains("<script>"),
            "raw HTML was not shown as text: {text:?}"
        );
        for css in [
            ".msg-text img",
            ".msg-text script",
            ".msg-text a[href^='javascript']",
            ".msg-text a[href^='http']",
        ] {
            let found = rig.find_all(css).await?;
            anyhow::ensure!(found.is_empty(), "{} element(s) match {css}", found.len());
        }
        let pwned = rig
            .client()
            .execute("return window.__pwned === undefined", Vec::new())
            .await?;
        anyhow::ensure!(
            pwned == serde_json::Value::Bool(true),
            "model text ran script: __pwned is set"
        );
        let unverified = rig.find_all("[data-testid=claim][data-grounded=false]").await?;
        let mut texts = Vec::new();
        for claim in &unverified {
            texts.push(claim.text().await?);
        }
        anyhow::ensure!(
            texts.iter().any(|t| t.contains("123 ms")),
            "the made-up 123 ms is not marked unverified: {texts:?}"
        );
        anyhow::ensure!(!fake.requests().is_empty(), "the provider was never asked");
        Ok(())
    })
    .await?;
    rig.close().await
}

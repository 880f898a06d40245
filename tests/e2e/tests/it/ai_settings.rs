//! Settings → AI providers in the real window: the pane shows the providers of the gateway.toml the app
//! was started with, "Test connection" sends exactly one request to that provider and reports it answered,
//! and a budget saved in the pane is written into that same file with the rest of it kept.

use auren_e2e::testid;
use auren_fake_llm::{FakeLlm, Reply, Script};
use fantoccini::Locator;

use crate::chat::launch_with_fake;

pub async fn the_ai_pane_tests_a_connection_and_saves_a_budget_into_gateway_toml() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    fake.set_default(Script::Reply(Reply::text(["ok"]).with_usage(5, 1)));
    let folders = auren_e2e::AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "ai-settings").await?;
    let path = folders.root().join("gateway.toml");
    let before = std::fs::read_to_string(&path)?;

    rig.step("test-connection", async {
        rig.click("nav-settings").await?;
        let css = format!("{}[data-name=openai]", testid("ai-provider"));
        let provider = rig
            .poll(
                "the openai provider in the pane",
                auren_e2e::DEFAULT_WAIT,
                || async { Ok(rig.find_all(&css).await?.into_iter().next()) },
            )
            .await?;
        provider
            .find(Locator::Css(&testid("ai-provider-test")))
            .await?
            .click()
            .await?;
        let outcome = rig
            .poll(
                "the connection test's result",
                auren_e2e::DEFAULT_WAIT,
                || async {
                    match rig.find_all(&testid("ai-provider-test-result")).await?.first() {
                        Some(result) => Ok(result.attr("data-outcome").await?),
                        None => Ok(None),
                    }
                },
            )
            .await?;
        anyhow::ensure!(outcome == "ok", "the connection test says {outcome:?}");
        let sent = fake.requests().len();
        anyhow::ensure!(sent == 1, "the connection test sent {sent} requests, not one");
        Ok(())
    })
    .await?;

    rig.step("budget", async {
        let daily = rig.find("ai-budget-daily").await?;
        daily.clear().await?;
        rig.type_text(&daily, "1.5").await?;
        rig.click("ai-budget-save").await?;
        let after = rig
            .poll("the budget in gateway.toml", auren_e2e::DEFAULT_WAIT, || async {
                let text = std::fs::read_to_string(&path)?;
                Ok(text.contains("1.5").then_some(text))
            })
            .await?;
        for line in before.lines().filter(|l| !l.trim().is_empty()) {
            anyhow::ensure!(after.contains(line), "the save lost {line:?}:\n{after}");
        }
        Ok(())
    })
    .await?;
    rig.close().await
}

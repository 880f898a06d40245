//! What the chat window keeps: search (Ctrl+K) finds words inside messages and the export holds the
//! specialist, model, tokens, cost and citations; edit-and-resend sends nothing of the abandoned branch,
//! and the branch arrows (‹ ›) show each branch's stored answer without asking the model; regenerate
//! asks the same question again without the answer it replaces; Shift+Enter breaks the line and sends
//! nothing, Enter sends both lines; a forgotten memory is absent from the next request; a conversation is
//! renamed and deleted in place.

use auren_e2e::{AppFolders, fixtures, testid};
use auren_fake_llm::{Expect, FakeLlm, Reply, Script, Step, last_user_text};
use auren_gateway::PriceTable;
use auren_store::Store;
use auren_store::memory::{MemoryKind, NewMemory, Provenance};
use fantoccini::Locator;
use fantoccini::key::Key;

use crate::chat::{MODEL, ask, launch_with_fake, stored_answers, text_contents};

pub async fn search_finds_words_in_messages_and_the_export_holds_the_turn() -> anyhow::Result<()> {
    let (input, output) = (1_200, 300);
    let fake = FakeLlm::start().await?;
    // Today's seeded lnRMSSD is 3.5 + 0.4: stated with two decimals it is grounded by the readiness receipt.
    fake.set_default(Script::Reply(
        Reply::text([
            "Zanzibar intervals suit you: ",
            "your lnRMSSD 3.90 today is high.",
        ])
        .with_usage(input, output),
    ));
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-search-export").await?;

    rig.step("answer", async {
        ask(&rig, "How is my readiness today?").await?;
        stored_answers(&rig, 1).await
    })
    .await?;
    rig.step("search", async {
        rig.click("chat-new").await?;
        let input = rig.find("chat-input").await?;
        input
            .send_keys(&format!("{}k{}", char::from(Key::Control), char::from(Key::Null)))
            .await?;
        let focused = rig
            .client()
            .execute(
                "return document.activeElement?.dataset.testid ?? null;",
                Vec::new(),
            )
            .await?;
        anyhow::ensure!(
            focused == "chat-search",
            "Ctrl+K focused {focused}, not the search"
        );
        let search = rig.find("chat-search").await?;
        rig.type_text(&search, "zanzibar").await?;
        let hit = rig
            .poll("a search hit", auren_e2e::DEFAULT_WAIT, || async {
                for hit in rig.find_all(&testid("chat-hit")).await? {
                    if hit.text().await?.contains("Zanzibar") {
                        return Ok(Some(hit));
                    }
                }
                Ok(None)
            })
            .await?;
        hit.find(Locator::Css("a")).await?.click().await?;
        rig.poll("the found message shown", auren_e2e::DEFAULT_WAIT, || async {
            let shown = rig.text("chat-messages").await?;
            Ok(shown.contains("Zanzibar intervals").then_some(()))
        })
        .await
    })
    .await?;
    rig.step("export", async {
        rig.click("chat-export-json").await?;
        let said = rig.text("chat-export-result").await?;
        let path = said
            .strip_prefix("Exported to ")
            .ok_or_else(|| anyhow::anyhow!("the export said {said:?}"))?;
        let export: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let answer = &export["messages"][1];
        anyhow::ensure!(
            answer["role"] == "assistant",
            "no answer in the export: {export:#}"
        );
        anyhow::ensure!(
            answer["specialist"] == "analyst",
            "specialist: {}",
            answer["specialist"]
        );
        anyhow::ensure!(
            answer["model"] == format!("openai:{MODEL}"),
            "model: {}",
            answer["model"]
        );
        let calls = fake.requests().len() as u64;
        let usage = &answer["usage"];
        anyhow::ensure!(
            usage["tokens_in"] == input * calls && usage["tokens_out"] == output * calls,
            "tokens: {usage}"
        );
        let price = PriceTable::bundled()
            .price(MODEL)
            .ok_or_else(|| anyhow::anyhow!("no bundled price for {MODEL}"))?;
        let dollars = price.cost(input * calls, 0, output * calls).as_dollars();
        let cost = usage["cost_usd"].as_f64().unwrap_or(f64::NAN);
        anyhow::ensure!(
            (cost - dollars).abs() < 1e-12,
            "cost {cost}, the usage costs {dollars}"
        );
        let cited: Vec<&str> = answer["receipts"]
            .as_array()
            .map(|ids| ids.iter().filter_map(|id| id.as_str()).collect())
            .unwrap_or_default();
        anyhow::ensure!(!cited.is_empty(), "the answer cites no receipt: {answer:#}");
        let exported: Vec<&str> = export["receipts"]
            .as_array()
            .map(|rs| rs.iter().filter_map(|r| r["id"].as_str()).collect())
            .unwrap_or_default();
        anyhow::ensure!(
            cited.iter().all(|id| exported.contains(id)),
            "cited {cited:?}, exported {exported:?}"
        );
        let claims = answer["claims"].as_array().cloned().unwrap_or_default();
        let grounded: Vec<_> = claims.iter().filter(|c| c["grounded"] == true).collect();
        let stated = grounded
            .iter()
            .find(|c| c["text"].as_str().is_some_and(|t| t.contains("3.90")))
            .ok_or_else(|| anyhow::anyhow!("the lnRMSSD 3.90 is not a grounded claim: {claims:?}"))?;
        let stated_receipt = stated["receipt"].as_str().unwrap_or_default().to_owned();
        for claim in grounded {
            let receipt = claim["receipt"].as_str().unwrap_or_default();
            anyhow::ensure!(
                exported.contains(&receipt),
                "claim {claim} cites a receipt not exported"
            );
        }
        // The Markdown export, for reading, holds the same: who answered with which model, the usage and
        // its price, the grounded claim with its receipt, and the receipts section.
        rig.click("chat-export-md").await?;
        let markdown = rig
            .poll("the Markdown export", auren_e2e::DEFAULT_WAIT, || async {
                let said = rig.text("chat-export-result").await?;
                Ok(said
                    .strip_prefix("Exported to ")
                    .filter(|path| path.ends_with(".md"))
                    .map(str::to_owned))
            })
            .await?;
        let markdown = std::fs::read_to_string(markdown)?;
        let wanted = [
            format!("analyst · openai:{MODEL}"),
            format!("{} tokens in, {} out", input * calls, output * calls),
            format!("${dollars:.6}"),
            format!("3.90 — grounded (`{stated_receipt}`)"),
            "## Receipts".to_owned(),
        ];
        for want in &wanted {
            anyhow::ensure!(
                markdown.contains(want.as_str()),
                "the Markdown export lacks {want:?}:\n{markdown}"
            );
        }
        Ok(())
    })
    .await?;
    rig.step("rename and delete in place", async {
        // Renamed in the list itself: no modal dialog, and the open conversation stays open.
        rig.click("chat-rename").await?;
        let field = rig.find("chat-rename-input").await?;
        field.clear().await?;
        rig.type_text(&field, "Zanzibar plan\n").await?;
        rig.poll("the new title in the list", auren_e2e::DEFAULT_WAIT, || async {
            for c in rig.find_all(&testid("chat-conversation")).await? {
                if c.text().await?.contains("Zanzibar plan") {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        })
        .await?;
        let shown = rig.text("chat-messages").await?;
        anyhow::ensure!(
            shown.contains("Zanzibar intervals"),
            "renaming closed the conversation: {shown}"
        );
        // Delete asks in place; Keep leaves it, a second click on Delete removes it.
        rig.click("chat-delete").await?;
        rig.click("chat-delete-no").await?;
        anyhow::ensure!(
            rig.find_all(&testid("chat-conversation")).await?.len() == 1,
            "Keep deleted the conversation"
        );
        rig.click("chat-delete").await?;
        rig.click("chat-delete-yes").await?;
        rig.poll(
            "the conversation gone from the list",
            auren_e2e::DEFAULT_WAIT,
            || async {
                Ok(rig
                    .find_all(&testid("chat-conversation"))
                    .await?
                    .is_empty()
                    .then_some(()))
            },
        )
        .await
    })
    .await?;
    rig.close().await
}

/// The three answers of [`ask_two_then_edit_the_second`], in the order they are asked for.
const HILLS: &str = "Hills on Tuesday suit you.";
const SPRINTS: &str = "Sprints belong on Thursday.";
const TEMPO: &str = "Tempo runs fit on Saturday.";

/// Asks two questions, then edits the second and sends it again: the conversation then has two branches
/// after the first exchange, the abandoned one (sprints) and the shown one (tempo runs).
async fn ask_two_then_edit_the_second(rig: &auren_e2e::Rig) -> anyhow::Result<()> {
    rig.step("two-turns", async {
        ask(rig, "Should I train hills on Tuesday?").await?;
        stored_answers(rig, 1).await?;
        let input = rig.find("chat-input").await?;
        rig.type_text(&input, "Should I add sprints to my plan?\n")
            .await?;
        stored_answers(rig, 2).await
    })
    .await?;
    rig.step("edit-second", async {
        let questions = rig.find_all(&testid("msg-user")).await?;
        let second = questions
            .get(1)
            .ok_or_else(|| anyhow::anyhow!("{} question(s) shown", questions.len()))?;
        second
            .find(Locator::Css(&testid("msg-edit")))
            .await?
            .click()
            .await?;
        let area = second.find(Locator::Css("textarea")).await?;
        area.clear().await?;
        rig.type_text(&area, "Should I add tempo runs to my plan?\n")
            .await?;
        shown_answer(rig, TEMPO).await
    })
    .await
}

/// The text of every stored answer shown, oldest first.
async fn shown_answers(rig: &auren_e2e::Rig) -> anyhow::Result<Vec<String>> {
    text_contents(rig, &format!("{} {}", testid("msg-assistant"), testid("answer"))).await
}

/// Waits until the last answer shown is `answer`.
async fn shown_answer(rig: &auren_e2e::Rig, answer: &str) -> anyhow::Result<()> {
    let what = format!("the answer {answer:?} shown last");
    rig.poll(&what, auren_e2e::DEFAULT_WAIT, || async {
        let answers = shown_answers(rig).await?;
        Ok(answers.last().is_some_and(|a| a.trim() == answer).then_some(()))
    })
    .await
}

pub async fn edit_and_resend_sends_nothing_of_the_abandoned_branch() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    let reply = |text: &str| Step::any(Script::Reply(Reply::text([text])));
    fake.expect([reply(HILLS), reply(SPRINTS), reply(TEMPO)]);
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-edit").await?;

    ask_two_then_edit_the_second(&rig).await?;
    rig.step("resent", async {
        fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
        let switch = rig.find_all(&testid("branch-switch")).await?;
        let mut labels = Vec::new();
        for s in &switch {
            labels.push(s.text().await?);
        }
        anyhow::ensure!(
            labels.iter().any(|l| l.contains("2/2")),
            "branch switches show {labels:?}"
        );
        let requests = fake.requests();
        let resent = requests
            .get(2)
            .ok_or_else(|| anyhow::anyhow!("{} request(s)", requests.len()))?
            .body
            .to_string();
        anyhow::ensure!(
            resent.contains("tempo runs"),
            "the edited question was not sent: {resent}"
        );
        // The kept branch is context; the abandoned one is not.
        for kept in ["hills on Tuesday", HILLS] {
            anyhow::ensure!(
                resent.contains(kept),
                "the kept exchange is missing ({kept:?}): {resent}"
            );
        }
        for abandoned in ["sprints", SPRINTS] {
            anyhow::ensure!(
                !resent.contains(abandoned),
                "the abandoned branch was sent ({abandoned:?}): {resent}"
            );
        }
        Ok(())
    })
    .await?;
    rig.close().await
}

/// The question a request to the model asks: a specialist's brief carries it as `question` (its user
/// message is "Brief (JSON):" and the brief); any other request's last user message is the question.
pub(crate) fn asked_question(body: &serde_json::Value) -> Option<String> {
    let text = last_user_text(body)?;
    match text.strip_prefix("Brief (JSON):") {
        Some(brief) => {
            let brief: serde_json::Value = serde_json::from_str(brief.trim()).ok()?;
            brief["question"].as_str().map(str::to_owned)
        }
        None => Some(text),
    }
}

/// Clicks the branch switch's `‹` (`back`) or `›` and waits until it shows `label` ("1/2").
async fn flip_branch(rig: &auren_e2e::Rig, back: bool, label: &str) -> anyhow::Result<()> {
    let switch = rig.find("branch-switch").await?;
    let arrows = switch.find_all(Locator::Css("button")).await?;
    let [earlier, later] = arrows.as_slice() else {
        anyhow::bail!("the branch switch has {} buttons", arrows.len());
    };
    if back { earlier } else { later }.click().await?;
    let what = format!("the branch switch showing {label}");
    rig.poll(&what, auren_e2e::DEFAULT_WAIT, || async {
        Ok(rig.text("branch-switch").await?.contains(label).then_some(()))
    })
    .await
}

pub async fn the_branch_arrows_show_each_branchs_stored_answer_and_send_nothing() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    let reply = |text: &str| Step::any(Script::Reply(Reply::text([text])));
    fake.expect([reply(HILLS), reply(SPRINTS), reply(TEMPO)]);
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-branches").await?;

    ask_two_then_edit_the_second(&rig).await?;
    rig.step("flip", async {
        // Back and forth twice: each flip shows that branch's own stored question and answer.
        for (back, label, question, answer) in [
            (true, "1/2", "sprints", SPRINTS),
            (false, "2/2", "tempo runs", TEMPO),
            (true, "1/2", "sprints", SPRINTS),
            (false, "2/2", "tempo runs", TEMPO),
        ] {
            flip_branch(&rig, back, label).await?;
            shown_answer(&rig, answer).await?;
            let answers = shown_answers(&rig).await?;
            anyhow::ensure!(
                answers.len() == 2 && answers[0].trim() == HILLS,
                "after flipping to {label} the answers shown are {answers:?}"
            );
            let questions = text_contents(&rig, &testid("msg-user")).await?;
            anyhow::ensure!(
                questions.last().is_some_and(|q| q.contains(question)),
                "branch {label} shows the question {questions:?}, not the one about {question}"
            );
        }
        // Flipping reads stored branches: the model was asked three times, for the three answers only.
        fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
        anyhow::ensure!(
            fake.requests().len() == 3,
            "{} requests after flipping branches",
            fake.requests().len()
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn regenerate_asks_the_same_question_again_without_the_abandoned_answer() -> anyhow::Result<()> {
    const QUESTION: &str = "Should I train hills on Tuesday?";
    const SECOND: &str = "Hills fit better on Wednesday.";
    let fake = FakeLlm::start().await?;
    fake.expect([
        Step::new(
            Expect::any().last_user_contains(QUESTION),
            Script::Reply(Reply::text([HILLS])),
        ),
        Step::new(
            Expect::any().last_user_contains(QUESTION),
            Script::Reply(Reply::text([SECOND])),
        ),
    ]);
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-regenerate").await?;

    rig.step("answer", async {
        ask(&rig, QUESTION).await?;
        stored_answers(&rig, 1).await?;
        shown_answer(&rig, HILLS).await
    })
    .await?;
    rig.step("regenerate", async {
        rig.click("msg-regenerate").await?;
        shown_answer(&rig, SECOND).await?;
        fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
        let requests = fake.requests();
        let [first, again] = requests.as_slice() else {
            anyhow::bail!(
                "{} requests, not the question and its regeneration",
                requests.len()
            );
        };
        for (n, request) in [first, again].into_iter().enumerate() {
            let asked = asked_question(&request.body);
            anyhow::ensure!(
                asked.as_deref() == Some(QUESTION),
                "request {n} asked {asked:?}, not {QUESTION:?}"
            );
        }
        let sent = again.body.to_string();
        anyhow::ensure!(
            !sent.contains(HILLS),
            "the answer regenerate abandons was sent again: {sent}"
        );
        // One exchange on screen, the new answer; the first is the other branch.
        let answers = shown_answers(&rig).await?;
        anyhow::ensure!(answers.len() == 1, "answers shown: {answers:?}");
        anyhow::ensure!(
            rig.text("branch-switch").await?.contains("2/2"),
            "the regenerated answer is not the second branch: {:?}",
            rig.text("branch-switch").await?
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn shift_enter_breaks_the_line_without_sending_and_enter_sends_both_lines() -> anyhow::Result<()> {
    const FIRST: &str = "Write me a short note about recovery habits";
    const SECOND: &str = "for an easy week";
    let fake = FakeLlm::start().await?;
    fake.set_default(Script::Reply(Reply::text(["Sleep and walk."])));
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-shift-enter").await?;

    rig.step("shift-enter", async {
        rig.click("nav-chat").await?;
        let input = rig.find("chat-input").await?;
        // Shift is held for the Enter only: WebKitWebDriver keeps it down past a Null key within one
        // command (the second line came out in capitals), but releases every key when a command ends.
        input
            .send_keys(&format!(
                "{FIRST}{}{}",
                char::from(Key::Shift),
                char::from(Key::Enter)
            ))
            .await?;
        input.send_keys(SECOND).await?;
        // Sending clears the composer in the same handler, before anything reaches the model: the two
        // lines still there mean nothing was sent.
        let value = input.prop("value").await?.unwrap_or_default();
        anyhow::ensure!(
            value == format!("{FIRST}\n{SECOND}"),
            "the composer holds {value:?} after Shift+Enter"
        );
        anyhow::ensure!(
            rig.find_all(".chat-messages .msg-user").await?.is_empty(),
            "Shift+Enter sent the question"
        );
        anyhow::ensure!(
            fake.requests().is_empty(),
            "the provider received {} request(s) after Shift+Enter",
            fake.requests().len()
        );
        Ok(())
    })
    .await?;
    rig.step("enter", async {
        let input = rig.find("chat-input").await?;
        input.send_keys(&char::from(Key::Enter).to_string()).await?;
        stored_answers(&rig, 1).await?;
        let both = format!("{FIRST}\n{SECOND}");
        let requests = fake.requests();
        let first = requests
            .first()
            .ok_or_else(|| anyhow::anyhow!("Enter sent nothing"))?;
        let asked = asked_question(&first.body);
        anyhow::ensure!(
            asked.as_deref() == Some(both.as_str()),
            "the provider was asked {asked:?}, not the two lines {both:?}"
        );
        let shown = text_contents(&rig, &testid("msg-user")).await?;
        anyhow::ensure!(
            shown.iter().any(|q| q.contains(&both)),
            "the question shown is {shown:?}"
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn a_forgotten_memory_is_absent_from_the_next_request() -> anyhow::Result<()> {
    const GOAL: &str = "Run the Berlin marathon in September";
    let fake = FakeLlm::start().await?;
    fake.set_default(Script::Reply(Reply::text(["Start slow and stay even."])));
    let folders = AppFolders::new()?;
    let store = Store::open(&folders.data.join("auren.db")).await?;
    let now = fixtures::today() * 86_400_000;
    store
        .memories()
        .remember(
            &NewMemory {
                kind: MemoryKind::Goal,
                text: GOAL.to_owned(),
                provenance: Provenance::Person,
                importance: 0.9,
                valid_from: now,
            },
            now,
        )
        .await?;
    store.close().await;
    let rig = launch_with_fake(&folders, &fake, "", "chat-forget").await?;

    rig.step("remembered", async {
        ask(&rig, "How should I pace the marathon?").await?;
        stored_answers(&rig, 1).await?;
        let sent = fake
            .requests()
            .first()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        anyhow::ensure!(sent.contains("Berlin"), "the memory was not in the brief: {sent}");
        Ok(())
    })
    .await?;
    rig.step("forget", async {
        rig.click("memory-toggle").await?;
        let item = rig.find("memory-item").await?;
        anyhow::ensure!(
            item.text().await?.contains(GOAL),
            "the memory panel shows {:?}",
            item.text().await?
        );
        item.find(Locator::Css(&testid("memory-forget")))
            .await?
            .click()
            .await?;
        rig.click("memory-forget-confirm").await?;
        rig.find("memory-empty").await?;
        Ok(())
    })
    .await?;
    rig.step("absent", async {
        let input = rig.find("chat-input").await?;
        rig.type_text(&input, "How should I pace the marathon in the heat?\n")
            .await?;
        stored_answers(&rig, 2).await?;
        let requests = fake.requests();
        let sent = requests.get(1).map(|r| r.body.to_string()).unwrap_or_default();
        anyhow::ensure!(requests.len() == 2, "{} request(s)", requests.len());
        anyhow::ensure!(!sent.contains("Berlin"), "the forgotten memory was sent: {sent}");
        Ok(())
    })
    .await?;
    rig.close().await
}

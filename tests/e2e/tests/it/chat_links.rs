//! Journeys for the chat's links and meters: a number an answer took from a memory is a link, and
//! clicking it opens the memory panel with that memory marked and in view; a budget refusal's "switch to
//! the local model" asks that one question of the local alias's server — the paid one hears nothing and
//! gateway.toml's default model stays as written; after a reload a stored answer still shows its context
//! figure and the conversation's cost is the sum of every branch's scripted usage.

use auren_agents::{Receipt, ReceiptId, ReceiptValue, Source, Unit};
use auren_e2e::{AppFolders, Rig, fixtures, testid};
use auren_fake_llm::{Expect, FakeLlm, Reply, Script, Step};
use auren_gateway::PriceTable;
use auren_store::Store;
use auren_store::conversations::{ClaimRow, Grounding, MessageUsage, NewMessage, Role};
use auren_store::memory::{MemoryKind, NewMemory, Provenance};
use fantoccini::Locator;

use crate::chat::{MODEL, ask, launch_with_fake, open_first_conversation, stored_answers};
use crate::chat_turns::{COACH_QUESTION, group};

const MAX_HR: &str = "Your max HR is 188 bpm.";
/// Memories besides the cited one, so the panel must pick one to mark and scroll to.
const OTHER_MEMORIES: usize = 30;

/// A store with [`OTHER_MEMORIES`] memories and a conversation whose answer states "188 bpm", grounded by
/// a recall receipt that names one more memory (recorded between the others). Returns (conversation,
/// the cited memory).
async fn seed_cited_memory(store: &Store, now: i64) -> anyhow::Result<(i64, i64)> {
    let remember = |text: String, importance: f64| NewMemory {
        kind: MemoryKind::Fact,
        text,
        provenance: Provenance::Person,
        importance,
        valid_from: now - 86_400_000,
    };
    let mut cited = None;
    for n in 0..=OTHER_MEMORIES {
        let memory = if n == OTHER_MEMORIES / 2 {
            remember("max HR 188 bpm in the spring test".to_owned(), 0.3)
        } else {
            remember(format!("Easy run number {n} felt fine"), 0.8)
        };
        let id = store.memories().remember(&memory, now - 86_400_000).await?;
        if n == OTHER_MEMORIES / 2 {
            cited = Some(id.0);
        }
    }
    let memory = cited.ok_or_else(|| anyhow::anyhow!("the cited memory was not recorded"))?;
    let receipt = Receipt {
        id: ReceiptId("r-recall-e2e".to_owned()),
        tool: "recall".into(),
        computed: "memories recalled for \"max HR\"".into(),
        method: "SQLite FTS5 BM25".into(),
        sources: vec![Source::Memory { id: memory }],
        values: vec![ReceiptValue {
            label: "max HR".into(),
            value: 188.0,
            unit: Unit::Bpm,
            day: None,
        }],
    };
    let c = store.conversations();
    let conversation = c.create("max HR", now).await?;
    let message = |parent, role, text: &str| NewMessage {
        parent,
        role,
        specialist: None,
        model: None,
        text: text.into(),
        usage: (role == Role::Assistant).then(MessageUsage::default),
        offline: true,
        created_at: now,
    };
    let question = c
        .append_message(conversation, &message(None, Role::User, "What is my max HR?"))
        .await?;
    let answer = c
        .append_message(conversation, &message(Some(question), Role::Assistant, MAX_HR))
        .await?;
    c.save_receipt(&receipt.id.0, &serde_json::to_string(&receipt)?, now)
        .await?;
    c.add_claims(
        answer,
        &[ClaimRow {
            text: "188 bpm".into(),
            value: 188.0,
            unit: "bpm".into(),
            grounding: Grounding::Grounded {
                receipt: receipt.id.0.clone(),
            },
        }],
    )
    .await?;
    Ok((conversation.0, memory))
}

/// Whether the memory item matching `arguments[0]` lies inside the window and inside every scrolling box
/// around it, and how many memory items do not.
const IN_VIEW: &str = "\
    const inView = (el) => {\n\
      const r = el.getBoundingClientRect();\n\
      if (r.top < 0 || r.bottom > window.innerHeight) return false;\n\
      for (let p = el.parentElement; p; p = p.parentElement) {\n\
        const s = getComputedStyle(p).overflowY;\n\
        if (s !== 'auto' && s !== 'scroll') continue;\n\
        const b = p.getBoundingClientRect();\n\
        if (r.top < b.top || r.bottom > b.bottom) return false;\n\
      }\n\
      return true;\n\
    };\n\
    const items = Array.from(document.querySelectorAll('[data-testid=memory-item]'));\n\
    const marked = items.find((el) => el.matches(arguments[0]));\n\
    return [marked !== undefined && inView(marked), items.filter((el) => !inView(el)).length];";

/// Every memory item the panel draws: (its id, whether it is marked as the focused one).
async fn memory_marks(rig: &Rig) -> anyhow::Result<Vec<(String, bool)>> {
    let mut marks = Vec::new();
    for item in rig.find_all(&testid("memory-item")).await? {
        let id = item.attr("data-id").await?.unwrap_or_default();
        let focused = item.attr("data-focused").await?.as_deref() == Some("true")
            || item.attr("aria-current").await?.as_deref() == Some("true");
        marks.push((id, focused));
    }
    Ok(marks)
}

pub async fn a_number_from_a_memory_links_to_the_memory_panel_marking_it() -> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    let store = Store::open(&folders.data.join("auren.db")).await?;
    let (conversation, memory) = seed_cited_memory(&store, fixtures::today() * 86_400_000).await?;
    store.close().await;
    let fake = FakeLlm::start().await?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-memory-link").await?;

    rig.step("link", async {
        open_first_conversation(&rig).await?;
        let route = format!("#/chat/{conversation}/memory/{memory}");
        let css = "a[data-testid=claim][data-grounded=true]";
        let claim = rig
            .poll("the grounded claim", auren_e2e::DEFAULT_WAIT, || async {
                Ok(rig.find_all(css).await?.into_iter().next())
            })
            .await?;
        anyhow::ensure!(
            claim.text().await?.contains("188 bpm"),
            "the link is on {:?}",
            claim.text().await?
        );
        let href = claim.attr("href").await?.unwrap_or_default();
        anyhow::ensure!(href.ends_with(&route), "the claim links {href:?}, not {route}");
        anyhow::ensure!(
            rig.find_all(&testid("memory-panel")).await?.is_empty(),
            "the memory panel was open before the click"
        );
        claim.click().await?;
        Ok(())
    })
    .await?;
    rig.step("panel-marks-it", async {
        let want = memory.to_string();
        let marks = rig
            .poll("the panel's memories", auren_e2e::DEFAULT_WAIT, || async {
                let marks = memory_marks(&rig).await?;
                Ok((marks.len() > OTHER_MEMORIES).then_some(marks))
            })
            .await?;
        let marked: Vec<&String> = marks.iter().filter(|(_, f)| *f).map(|(id, _)| id).collect();
        anyhow::ensure!(
            marked == [&want],
            "the panel marks memories {marked:?}, the link names {want}"
        );
        let focused = rig
            .find_all(&format!("{}[data-id=\"{want}\"]", testid("memory-item")))
            .await?;
        let text = match focused.first() {
            Some(item) => item.text().await?,
            None => anyhow::bail!("no memory item {want} in the panel"),
        };
        anyhow::ensure!(text.contains("max HR 188 bpm"), "memory {want} reads {text:?}");
        // Scrolled to: the marked memory comes to lie inside the window and inside every scrolling box
        // around it, while other memories are out of view (the list is longer than the panel shows, so
        // it had to be scrolled to).
        let out_of_view = rig
            .poll("the marked memory in view", auren_e2e::DEFAULT_WAIT, || async {
                let seen = rig
                    .client()
                    .execute(IN_VIEW, vec![format!("[data-id=\"{want}\"]").into()])
                    .await?;
                Ok((seen[0] == true).then(|| seen[1].as_u64().unwrap_or(0)))
            })
            .await?;
        anyhow::ensure!(
            out_of_view > 0,
            "every memory fits in view: the scroll to the marked one is not tested"
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

/// The gateway sections beside the paid default: a $0 daily budget, and an alias `local` routed to an
/// unpriced OpenAI-compatible server on this machine (`free`).
fn budget_and_local(free: &FakeLlm) -> String {
    format!(
        "[budget]\ndaily_usd = 0.0\n\n[[provider]]\nname = \"free\"\nkind = \"openai-compatible\"\n\
         base_url = \"{}\"\n\n[alias.local]\nroutes = [\"free:m1\"]\n",
        free.openai_base_url()
    )
}

/// The question each request to `fake` asked (a specialist's brief carries it), in order.
fn questions_asked(fake: &FakeLlm) -> Vec<String> {
    fake.requests()
        .iter()
        .filter_map(|r| crate::chat_history::asked_question(&r.body))
        .collect()
}

pub async fn switching_to_the_local_model_asks_its_server_once_and_leaves_gateway_toml() -> anyhow::Result<()>
{
    const LOCAL_ANSWER: &str = "Sleep well and keep the easy days easy.";
    let paid = FakeLlm::start().await?;
    let free = FakeLlm::start().await?;
    free.set_default(Script::Reply(Reply::text([LOCAL_ANSWER])));
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &paid, &budget_and_local(&free), "chat-local").await?;
    let config = folders.root().join("gateway.toml");
    let written = std::fs::read(&config)?;

    rig.step("refused", async {
        ask(&rig, COACH_QUESTION).await?;
        stored_answers(&rig, 1).await?;
        let guard = rig.find("turn-guard").await?;
        anyhow::ensure!(
            guard.attr("data-guard").await?.as_deref() == Some("budget"),
            "the turn ended on {:?}, not the budget",
            guard.attr("data-guard").await?
        );
        Ok(())
    })
    .await?;
    rig.step("switch", async {
        let way = rig.find("way-local").await?;
        anyhow::ensure!(
            way.attr("data-alias").await?.as_deref() == Some("local"),
            "the way on offers alias {:?}, not local",
            way.attr("data-alias").await?
        );
        way.click().await?;
        tokio::time::timeout(auren_e2e::DEFAULT_WAIT, free.wait_for_requests(1))
            .await
            .map_err(|_| anyhow::anyhow!("the local server was never asked"))?;
        rig.poll("the local answer shown", auren_e2e::DEFAULT_WAIT, || async {
            let live = rig.find_all(".chat-messages > .msg-assistant").await?;
            let answers = crate::chat::text_contents(&rig, &testid("answer")).await?;
            Ok((live.is_empty() && answers.iter().any(|a| a.contains(LOCAL_ANSWER))).then_some(()))
        })
        .await?;
        let asked = questions_asked(&free);
        anyhow::ensure!(
            asked.iter().all(|q| q == COACH_QUESTION) && !asked.is_empty(),
            "the local server was asked {asked:?}, not {COACH_QUESTION:?}"
        );
        anyhow::ensure!(
            paid.requests().is_empty(),
            "the paid provider got {} request(s)",
            paid.requests().len()
        );
        anyhow::ensure!(
            std::fs::read(&config)? == written,
            "gateway.toml changed on disk:\n{}",
            std::fs::read_to_string(&config)?
        );
        Ok(())
    })
    .await?;
    rig.step("default-stays", async {
        // The next question goes to the saved default again: refused by its budget, the local server
        // not asked.
        let local_calls = free.requests().len();
        rig.click("chat-new").await?;
        ask(&rig, "Write me a short note about sleep").await?;
        stored_answers(&rig, 1).await?;
        let guard = rig.find("turn-guard").await?;
        anyhow::ensure!(
            guard.attr("data-guard").await?.as_deref() == Some("budget"),
            "the next question ended on {:?}, not the default model's budget",
            guard.attr("data-guard").await?
        );
        anyhow::ensure!(
            free.requests().len() == local_calls,
            "the next question went to the local server too"
        );
        anyhow::ensure!(paid.requests().is_empty(), "the paid provider was asked");
        Ok(())
    })
    .await?;
    rig.close().await
}

/// The scripted usage of each branch's answer: (input, output) tokens. Both together cost under a cent,
/// which the meter shows to four decimals, and each alone costs less than both.
const FIRST_USAGE: (u64, u64) = (1_200, 300);
const SECOND_USAGE: (u64, u64) = (1_000, 100);

/// The shown answer's text and its context figure ("ctx 1.2k / 1M").
async fn shown_answer_and_context(rig: &Rig) -> anyhow::Result<(String, String)> {
    let answer = rig.find("msg-assistant").await?;
    let text = answer.find(Locator::Css(&testid("answer"))).await?.text().await?;
    let context = answer.find_all(Locator::Css(&testid("turn-context"))).await?;
    let context = match context.first() {
        Some(el) => el.text().await?,
        None => String::new(),
    };
    Ok((text.trim().to_owned(), context))
}

pub async fn after_a_reload_the_meter_keeps_the_context_and_sums_every_branch() -> anyhow::Result<()> {
    const FIRST: &str = "Hills on Tuesday suit you.";
    const SECOND: &str = "Hills fit better on Wednesday.";
    let fake = FakeLlm::start().await?;
    let step = |usage: (u64, u64), text: &str| {
        Step::new(
            Expect::any().last_user_contains(COACH_QUESTION),
            Script::Reply(Reply::text([text]).with_usage(usage.0, usage.1)),
        )
    };
    fake.expect([step(FIRST_USAGE, FIRST), step(SECOND_USAGE, SECOND)]);
    let price = PriceTable::bundled()
        .price(MODEL)
        .ok_or_else(|| anyhow::anyhow!("no bundled price for {MODEL}"))?;
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-meter-reload").await?;

    let before = rig
        .step("two-branches", async {
            ask(&rig, COACH_QUESTION).await?;
            stored_answers(&rig, 1).await?;
            let first = shown_answer_and_context(&rig).await?;
            rig.click("msg-regenerate").await?;
            let second = rig
                .poll("the regenerated answer", auren_e2e::DEFAULT_WAIT, || async {
                    let shown = shown_answer_and_context(&rig).await?;
                    let live = rig.find_all(".chat-messages > .msg-assistant").await?;
                    Ok((live.is_empty() && shown.0 == SECOND).then_some(shown))
                })
                .await?;
            fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
            anyhow::ensure!(first.0 == FIRST, "the first answer reads {:?}", first.0);
            for ((_, context), input) in [(&first, FIRST_USAGE.0), (&second, SECOND_USAGE.0)] {
                let want = format!("ctx {} / ", compact(input));
                anyhow::ensure!(
                    context.starts_with(&want) && !context.ends_with("unknown"),
                    "the answer's context reads {context:?}, its request took {input} tokens"
                );
            }
            Ok([first, second])
        })
        .await?;
    rig.step("after-a-reload", async {
        rig.client().refresh().await?;
        open_first_conversation(&rig).await?;
        stored_answers(&rig, 1).await?;
        let shown = rig
            .poll(
                "a stored answer with its context",
                auren_e2e::DEFAULT_WAIT,
                || async {
                    let shown = shown_answer_and_context(&rig).await?;
                    Ok((!shown.0.is_empty()).then_some(shown))
                },
            )
            .await?;
        let kept = before
            .iter()
            .find(|(text, _)| *text == shown.0)
            .ok_or_else(|| anyhow::anyhow!("after a reload the answer reads {:?}", shown.0))?;
        anyhow::ensure!(
            shown.1 == kept.1,
            "after a reload the answer's context reads {:?}, it read {:?}",
            shown.1,
            kept.1
        );
        let (input, output) = (FIRST_USAGE.0 + SECOND_USAGE.0, FIRST_USAGE.1 + SECOND_USAGE.1);
        let dollars = price.cost(input, 0, output).as_dollars();
        let shown_cost = format!("${dollars:.4}");
        anyhow::ensure!(
            (shown_cost[1..].parse::<f64>()? - dollars).abs() < 1e-12,
            "{dollars} is not exact at four decimals"
        );
        let want = format!("{} in · {} out · {shown_cost}", group(input), group(output));
        let total = rig.text("conversation-cost").await?;
        anyhow::ensure!(
            total.ends_with(&want),
            "the conversation's meter shows {total:?}, both branches cost {want}"
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

/// 812, 1.2k, 2k: as the meter writes a token count below a million.
fn compact(n: u64) -> String {
    if n < 1000 {
        return n.to_string();
    }
    let k = n as f64 / 1000.0;
    let text = if k < 10.0 {
        format!("{k:.1}")
    } else {
        format!("{}", k.round())
    };
    format!("{}k", text.trim_end_matches(".0"))
}

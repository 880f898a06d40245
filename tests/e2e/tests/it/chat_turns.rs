//! One turn of the chat window against the scripted fake provider: Stop freezes the text, ends the
//! upstream request, and the stored answer — after a reload too — is the frozen text, though more had
//! streamed; against a provider that keeps streaming, the text stops changing within 300 ms of Stop; the
//! cost meter shows the exact price of the scripted usage; a budget refusal sends nothing and shows the
//! ways on; the tool steps are the calls the server issued and the shown request bodies are what it
//! received; an inline chart draws as many points as the tool returned; a red-flag referral shows while
//! the server hangs.

use std::time::Duration;

use auren_e2e::paced_llm::{PacedLlm, StreamEnd, word};
use auren_e2e::{AppFolders, fixtures, testid};
use auren_fake_llm::{FakeLlm, Reply, Script, Step};
use auren_gateway::PriceTable;

use crate::chat::{
    MODEL, answer_when, ask, launch_with_fake, launch_with_provider, open_first_conversation, stored_answers,
    text_contents,
};

/// Long enough that a stalled stream is never ended by the gateway's idle timeout during a test: a
/// disconnect the fake sees is the Stop's doing.
const NO_IDLE_TIMEOUT: &str = "[timeouts]\nidle_ms = 600000\nfirst_token_ms = 600000\n";
/// How long the provider may take to notice the client went away.
const DISCONNECT_WAIT: Duration = Duration::from_secs(10);
/// A question the rules route to the coach, with no data intent (no tools run before the model).
pub(crate) const COACH_QUESTION: &str = "Write me a short note about recovery habits";

/// Watches the chat (the page must show it) and clicks Stop the moment the first word is drawn, in the
/// same task, before the page handles any later message: the other words came in the same burst from the
/// provider, so the turn has streamed them while they are still a text batch in transit to the window. The
/// click's outcome — shown as stopped, the frozen text — lands in `window.__aurenStop`. (How soon the text
/// stops changing is timed against a provider that keeps streaming, in
/// [`the_text_stops_changing_within_300_ms_of_stop_while_the_server_keeps_streaming`].) Every message
/// Tauri delivers to the page goes through its callback map (whose lookup is wrapped here), so the text
/// events the turn's channel delivers after the click land in `window.__aurenTextAfterStop`: what the
/// turn had streamed but the window never drew.
const STOP_AT_FIRST_WORD: &str = "\
    const callbacks = window.__TAURI_INTERNALS__.callbacks;\n\
    const lookup = callbacks.get.bind(callbacks);\n\
    window.__aurenTextAfterStop = [];\n\
    callbacks.get = (id) => {\n\
      const callback = lookup(id);\n\
      return callback && ((raw) => {\n\
        const ev = raw && raw.message;\n\
        if (window.__aurenStop && ev && ev.type === 'text') window.__aurenTextAfterStop.push(ev.delta);\n\
        return callback(raw);\n\
      });\n\
    };\n\
    const messages = document.querySelector('[data-testid=chat-messages]');\n\
    const observer = new MutationObserver(() => {\n\
      const live = document.querySelector('.msg-assistant[data-status=streaming] [data-testid=answer]');\n\
      if (!live || !live.textContent.includes('word0')) return;\n\
      observer.disconnect();\n\
      document.querySelector('[data-testid=chat-stop]').click();\n\
      const el = document.querySelector('.msg-assistant[data-status=stopping] [data-testid=answer]');\n\
      window.__aurenStop = [el !== null, el ? el.textContent : ''];\n\
    });\n\
    observer.observe(messages, { childList: true, subtree: true, characterData: true });";

pub async fn stop_freezes_the_text_and_the_provider_sees_the_disconnect() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    let words: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
    // The role chunk and five words, then silence: the turn is streaming and stays so until Stop.
    fake.set_default(Script::StallAfter {
        events: 6,
        reply: Reply::text(words),
    });
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, NO_IDLE_TIMEOUT, "chat-stop").await?;

    let frozen = rig
        .step("stop-freezes", async {
            rig.click("nav-chat").await?;
            let input = rig.find("chat-input").await?;
            rig.client().execute(STOP_AT_FIRST_WORD, Vec::new()).await?;
            rig.type_text(&input, &format!("{COACH_QUESTION}\n")).await?;
            let probe = rig
                .poll("the Stop at the first word", auren_e2e::DEFAULT_WAIT, || async {
                    let probe = rig
                        .client()
                        .execute("return window.__aurenStop ?? null;", Vec::new())
                        .await?;
                    Ok((!probe.is_null()).then_some(probe))
                })
                .await?;
            // The text freezes (`stopping`, until the turn answers the Stop) in the same task as the click.
            anyhow::ensure!(
                probe[0] == true,
                "the turn did not freeze (stopping) after Stop: {probe}"
            );
            let frozen = probe[1].as_str().unwrap_or_default().trim().to_owned();
            // What proves the race was run: the turn had streamed five words — the last of them reached
            // the page after the click — and the window drew fewer.
            anyhow::ensure!(
                frozen.starts_with("word0") && !frozen.contains("word4"),
                "Stop froze {frozen:?}, not the first word(s) alone"
            );
            rig.poll(
                "word4 reaching the page after Stop",
                auren_e2e::DEFAULT_WAIT,
                || async {
                    let after = rig
                        .client()
                        .execute("return (window.__aurenTextAfterStop ?? []).join('');", Vec::new())
                        .await?;
                    Ok(after.as_str().is_some_and(|t| t.contains("word4")).then_some(()))
                },
            )
            .await?;
            tokio::time::timeout(DISCONNECT_WAIT, fake.wait_for_disconnects(1))
                .await
                .map_err(|_| anyhow::anyhow!("the provider never saw the request end"))?;
            Ok(frozen)
        })
        .await?;
    rig.step("stays-frozen", async {
        // The stored answer is exactly the frozen text: not the offline analyst's, not the words that
        // streamed but were never drawn, nothing added after Stop.
        stored_answers(&rig, 1).await?;
        let text = stored_answer_text(&rig).await?;
        anyhow::ensure!(text == frozen, "text changed after Stop: {frozen:?} → {text:?}");
        anyhow::ensure!(
            rig.find_all(&testid("offline-badge")).await?.is_empty(),
            "the stopped answer was replaced by the offline analyst's"
        );
        rig.find("turn-stopped").await?;
        anyhow::ensure!(
            fake.requests().len() == 1,
            "{} requests after Stop",
            fake.requests().len()
        );
        Ok(())
    })
    .await?;
    rig.step("after-a-reload", async {
        // A full reload: what shows now is what was stored, read afresh.
        rig.client().refresh().await?;
        open_first_conversation(&rig).await?;
        stored_answers(&rig, 1).await?;
        let text = stored_answer_text(&rig).await?;
        anyhow::ensure!(
            text == frozen,
            "after a reload the answer is {text:?}, not the frozen {frozen:?}"
        );
        rig.find("turn-stopped").await?;
        Ok(())
    })
    .await?;
    rig.close().await
}

/// The trimmed text of the first stored answer shown.
async fn stored_answer_text(rig: &auren_e2e::Rig) -> anyhow::Result<String> {
    let stored = rig.find("msg-assistant").await?;
    let text = stored
        .find(fantoccini::Locator::Css(&testid("answer")))
        .await?
        .text()
        .await?;
    Ok(text.trim().to_owned())
}

/// The paced provider's answer: at one word per [`PACE`] it would stream for 12 s, far past a Stop's 300 ms.
const PACED_WORDS: usize = 300;
const PACE: Duration = Duration::from_millis(40);
/// How long after the click on Stop the answer's text may still change.
const FROZEN_WITHIN_MS: f64 = 300.0;
/// Long enough for the paced provider to send all its words: a Stop that ended nothing lets it finish.
const PACED_STREAM_WAIT: Duration = Duration::from_secs(30);

/// Records in the page how the newest answer's text (whitespace collapsed) changes around a click on Stop:
/// the text at the click — taken in the capture phase, before the button's own handler runs —, the text
/// 300 ms later (a timer; `at300Ms` says when it really ran), each change after the click with its time in
/// ms since the click, and how many changes came before the click. Lands in `window.__aurenStopLog`;
/// `window.__aurenAnswerText()` reads the text now.
/// The answer is looked up afresh and the whole page watched: a message list drawn anew when the question
/// opens its conversation would otherwise take later changes out of sight, and the check could not fail.
const WATCH_STOP: &str = "\
    const answerText = () => {\n\
      const all = document.querySelectorAll('[data-testid=chat-messages] [data-testid=answer]');\n\
      return all.length ? all[all.length - 1].textContent.replace(/\\s+/g, ' ').trim() : '';\n\
    };\n\
    window.__aurenAnswerText = answerText;\n\
    const log = { clickAt: null, atClick: null, at300: null, at300Ms: null, changes: [], before: 0 };\n\
    window.__aurenStopLog = log;\n\
    let last = answerText();\n\
    new MutationObserver(() => {\n\
      const now = answerText();\n\
      if (now === last) return;\n\
      last = now;\n\
      if (log.clickAt === null) log.before += 1; else log.changes.push([performance.now() - log.clickAt, now]);\n\
    }).observe(document.body, { childList: true, subtree: true, characterData: true });\n\
    document.addEventListener('click', (e) => {\n\
      if (log.clickAt !== null || !(e.target instanceof Element) || !e.target.closest('[data-testid=chat-stop]')) return;\n\
      log.clickAt = performance.now();\n\
      log.atClick = answerText();\n\
      setTimeout(() => { log.at300Ms = performance.now() - log.clickAt; log.at300 = answerText(); }, 300);\n\
    }, true);";

/// What [`WATCH_STOP`] recorded, with the text at the end.
#[derive(Debug)]
struct StopLog {
    at_click: String,
    at_300: String,
    /// When the +300 ms sample was really taken (a timer may run late).
    at_300_ms: f64,
    at_end: String,
    /// How many changes of the text were seen before the click: the words streaming in.
    changes_before: u64,
    /// Each change of the text after the click: ms since the click, and the text then.
    changes: Vec<(f64, String)>,
}

impl StopLog {
    /// Reads the log once the +300 ms sample is taken; the text "at the end" is read now.
    async fn read(rig: &auren_e2e::Rig) -> anyhow::Result<StopLog> {
        let raw = rig
            .poll("the +300 ms sample", auren_e2e::DEFAULT_WAIT, || async {
                let raw = rig
                    .client()
                    .execute(
                        "const log = window.__aurenStopLog; \
                         return log && log.at300 !== null ? Object.assign({ atEnd: window.__aurenAnswerText() }, log) : null;",
                        Vec::new(),
                    )
                    .await?;
                Ok((!raw.is_null()).then_some(raw))
            })
            .await?;
        let text = |key: &str| raw[key].as_str().unwrap_or_default().to_owned();
        let changes = raw["changes"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|c| {
                        (
                            c[0].as_f64().unwrap_or(f64::INFINITY),
                            c[1].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(StopLog {
            at_click: text("atClick"),
            at_300: text("at300"),
            at_300_ms: raw["at300Ms"].as_f64().unwrap_or(f64::NAN),
            at_end: text("atEnd"),
            changes_before: raw["before"].as_u64().unwrap_or(0),
            changes,
        })
    }

    /// When the text last changed after the click, in ms (0 when it never did).
    fn last_change_ms(&self) -> f64 {
        self.changes.iter().map(|(ms, _)| *ms).fold(0.0, f64::max)
    }
}

pub async fn the_text_stops_changing_within_300_ms_of_stop_while_the_server_keeps_streaming()
-> anyhow::Result<()> {
    let paced = PacedLlm::start(PACED_WORDS, PACE).await?;
    let folders = AppFolders::new()?;
    let rig = launch_with_provider(
        &folders,
        &paced.openai_base_url(),
        NO_IDLE_TIMEOUT,
        "chat-stop-paced",
    )
    .await?;

    let (log, progress, left_after) = rig
        .step("stop-mid-stream", async {
            rig.click("nav-chat").await?;
            let input = rig.find("chat-input").await?;
            rig.client().execute(WATCH_STOP, Vec::new()).await?;
            rig.type_text(&input, &format!("{COACH_QUESTION}\n")).await?;
            // Stop once a few words are drawn, with most of the answer still to come.
            let drawn = word(3);
            let live = format!(".msg-assistant[data-status=streaming] {}", testid("answer"));
            rig.poll("a few words drawn", auren_e2e::DEFAULT_WAIT, || async {
                for answer in rig.find_all(&live).await? {
                    if answer.text().await?.contains(drawn.trim()) {
                        return Ok(Some(()));
                    }
                }
                Ok(None)
            })
            .await?;
            anyhow::ensure!(
                paced.progress().end.is_none(),
                "the provider's stream already ended before Stop: {:?}",
                paced.progress()
            );
            let clicked = std::time::Instant::now();
            rig.click("chat-stop").await?;
            let progress = tokio::time::timeout(PACED_STREAM_WAIT, paced.stream_ended())
                .await
                .map_err(|_| anyhow::anyhow!("the provider's stream neither ended nor was left"))?;
            let left_after = clicked.elapsed();
            stored_answers(&rig, 1).await?;
            Ok((StopLog::read(&rig).await?, progress, left_after))
        })
        .await?;
    eprintln!(
        "[chat-stop-paced] the text last changed {:.0} ms after Stop; +300 ms sample at {:.0} ms; the provider \
         had sent {} of {PACED_WORDS} words ({:?}) and saw the window leave {} ms after the click was sent",
        log.last_change_ms(),
        log.at_300_ms,
        progress.words_sent,
        progress.end,
        left_after.as_millis()
    );
    rig.step("frozen-within-300-ms", async {
        anyhow::ensure!(
            progress.end == Some(StreamEnd::ClientLeft),
            "the provider streamed all {} words: Stop did not end the request ({progress:?})",
            progress.words_sent
        );
        anyhow::ensure!(
            log.at_click.starts_with(word(0).trim()),
            "Stop was clicked on {:?}, not on a streaming answer",
            log.at_click
        );
        // The watch saw the words come in, so a change after the click could not have gone unseen.
        anyhow::ensure!(
            log.changes_before >= 2,
            "the watch saw {} change(s) of the streaming answer before Stop",
            log.changes_before
        );
        anyhow::ensure!(
            log.at_end == log.at_300,
            "the text changed after the +300 ms sample: {:?} → {:?}",
            log.at_300,
            log.at_end
        );
        anyhow::ensure!(
            log.last_change_ms() < FROZEN_WITHIN_MS,
            "the text still changed {:.0} ms after Stop: {:?}",
            log.last_change_ms(),
            log.changes
        );
        // What was drawn at the click is kept: the Stop cut the answer, it did not replace it.
        anyhow::ensure!(
            log.at_end.starts_with(&log.at_click),
            "the answer at the click {:?} is not the start of the answer kept {:?}",
            log.at_click,
            log.at_end
        );
        rig.find("turn-stopped").await?;
        anyhow::ensure!(
            paced.requests().len() == 1,
            "{} requests: the stopped question was asked again",
            paced.requests().len()
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn the_cost_meter_shows_the_exact_price_of_the_scripted_usage() -> anyhow::Result<()> {
    let (input, output) = (1_200, 300);
    let fake = FakeLlm::start().await?;
    fake.set_default(Script::Reply(
        Reply::text(["Sleep ", "and an easy day."]).with_usage(input, output),
    ));
    let price = PriceTable::bundled()
        .price(MODEL)
        .ok_or_else(|| anyhow::anyhow!("no bundled price for {MODEL}"))?;
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-cost").await?;

    rig.step("meter", async {
        ask(&rig, COACH_QUESTION).await?;
        stored_answers(&rig, 1).await?;
        let calls = fake.requests().len() as u64;
        anyhow::ensure!(calls >= 1, "the provider was never asked");
        let dollars = price.cost(input * calls, 0, output * calls).as_dollars();
        // The scripted usage is chosen so the price has four decimals: the meter can show it exactly.
        let shown = format!("${dollars:.4}");
        anyhow::ensure!(
            (shown[1..].parse::<f64>()? - dollars).abs() < 1e-12,
            "{dollars} is not exact at four decimals"
        );
        let tokens = format!("{} in · {} out", group(input * calls), group(output * calls));
        let turn = rig.text("turn-cost").await?;
        anyhow::ensure!(
            turn == format!("{tokens} · {shown}"),
            "the turn's meter shows {turn:?}, the scripted usage costs {tokens} · {shown}"
        );
        let conversation = rig.text("conversation-cost").await?;
        anyhow::ensure!(
            conversation.ends_with(&format!("{tokens} · {shown}")),
            "the conversation's meter shows {conversation:?}, not {tokens} · {shown}"
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

/// `1200` → `"1,200"`, as the meter writes counts.
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub async fn a_budget_refusal_sends_nothing_and_shows_the_ways_on() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let rig = launch_with_fake(&folders, &fake, "[budget]\ndaily_usd = 0.0\n", "chat-budget").await?;

    rig.step("refused", async {
        ask(&rig, "How is my readiness today?").await?;
        stored_answers(&rig, 1).await?;
        let guard = rig.find("turn-guard").await?;
        anyhow::ensure!(
            guard.attr("data-guard").await?.as_deref() == Some("budget"),
            "the turn ended on {:?}, not the budget",
            guard.attr("data-guard").await?
        );
        let ways = rig.text("budget-ways").await?;
        for way in ["offline", "local model", "raise the budget"] {
            anyhow::ensure!(ways.contains(way), "the ways on {ways:?} do not mention {way:?}");
        }
        // The offline analyst answered from the person's data instead.
        rig.find("offline-badge").await?;
        anyhow::ensure!(
            fake.requests().is_empty(),
            "the refused turn sent {} request(s) to the provider",
            fake.requests().len()
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn tool_steps_are_the_calls_issued_and_the_shown_payload_is_what_was_received() -> anyhow::Result<()>
{
    let fake = FakeLlm::start().await?;
    let arguments = r#"{"day":"today"}"#;
    fake.expect([
        Step::any(Script::Reply(Reply::tool_call(
            "call_readiness",
            "get_readiness",
            [r#"{"day":"#, r#""today"}"#],
        ))),
        Step::any(Script::Reply(Reply::text([
            "Your readiness is in your normal range.",
        ]))),
    ]);
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-tools").await?;

    rig.step("steps", async {
        ask(&rig, COACH_QUESTION).await?;
        stored_answers(&rig, 1).await?;
        fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
        let tools = rig.find_all(&testid("step-tool")).await?;
        let mut names = Vec::new();
        for tool in &tools {
            names.push(tool.attr("data-name").await?.unwrap_or_default());
        }
        anyhow::ensure!(names == ["get_readiness"], "the steps show tool calls {names:?}");
        let shown = text_contents(&rig, &format!("{} code", testid("step-tool"))).await?;
        let want: serde_json::Value = serde_json::from_str(arguments)?;
        anyhow::ensure!(
            shown.first().map(String::as_str) == Some(&format!("get_readiness({want})")),
            "the step shows {shown:?}, the server called get_readiness({want})"
        );
        let bodies = text_contents(&rig, &testid("step-request-body")).await?;
        let received = fake.requests();
        anyhow::ensure!(
            bodies.len() == received.len(),
            "{} request step(s) shown, {} request(s) received",
            bodies.len(),
            received.len()
        );
        for (n, (body, request)) in bodies.iter().zip(&received).enumerate() {
            let body: serde_json::Value = serde_json::from_str(body)?;
            anyhow::ensure!(
                body == request.body,
                "request {n}: shown\n{body:#}\nreceived\n{:#}",
                request.body
            );
        }
        Ok(())
    })
    .await?;
    rig.close().await
}

/// The days with a value in the get_trend result the provider received back (the tool message of the
/// second request), wherever the result sits inside that message's JSON.
fn trend_points_received(request: &serde_json::Value) -> Option<usize> {
    fn days(v: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
        match v {
            serde_json::Value::Object(map) => map
                .get("days")
                .and_then(serde_json::Value::as_array)
                .or_else(|| map.values().find_map(days)),
            serde_json::Value::Array(list) => list.iter().find_map(days),
            _ => None,
        }
    }
    let messages = request["messages"].as_array()?;
    let tool = messages.iter().find(|m| m["role"] == "tool")?;
    let content: serde_json::Value = serde_json::from_str(tool["content"].as_str()?).ok()?;
    Some(days(&content)?.iter().filter(|d| d["value"].is_number()).count())
}

pub async fn an_inline_chart_draws_as_many_points_as_the_tool_returned() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    fake.expect([
        Step::any(Script::Reply(Reply::tool_call(
            "call_trend",
            "get_trend",
            [r#"{"metric":"ln_rmssd"}"#],
        ))),
        Step::any(Script::Reply(Reply::text(["Here is your week."]))),
    ]);
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-chart").await?;

    rig.step("chart", async {
        ask(&rig, COACH_QUESTION).await?;
        stored_answers(&rig, 1).await?;
        fake.verify().map_err(|v| anyhow::anyhow!("{v:?}"))?;
        let received = fake.requests();
        let want = received
            .get(1)
            .and_then(|r| trend_points_received(&r.body))
            .ok_or_else(|| anyhow::anyhow!("the second request carries no get_trend result"))?;
        anyhow::ensure!(want > 0, "the seeded week has no morning in the tool's result");
        let charts = rig.find_all(&testid("answer-chart")).await?;
        let [chart] = charts.as_slice() else {
            anyhow::bail!("{} charts in the answer, expected one", charts.len());
        };
        anyhow::ensure!(
            !chart
                .find_all(fantoccini::Locator::Css("canvas"))
                .await?
                .is_empty(),
            "the chart has no canvas"
        );
        // What uPlot drew: the chart sets it from the plot's own data after each draw, not from the count
        // the UI made beside the series. It is there once the chart has drawn.
        let drawn = rig
            .poll("the chart drawn", auren_e2e::DEFAULT_WAIT, || async {
                Ok(chart.attr("data-drawn-points").await?)
            })
            .await?;
        anyhow::ensure!(
            drawn == want.to_string(),
            "uPlot drew {drawn} points, the tool returned {want} days with a value"
        );
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn a_red_flag_referral_shows_while_the_server_hangs() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    fake.set_default(Script::HangUntilDisconnect);
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    let rig = launch_with_fake(&folders, &fake, NO_IDLE_TIMEOUT, "chat-redflag").await?;

    rig.step("referral", async {
        ask(
            &rig,
            "I had chest pain on my run this morning. What was my readiness yesterday?",
        )
        .await?;
        tokio::time::timeout(auren_e2e::DEFAULT_WAIT, fake.wait_for_requests(1))
            .await
            .map_err(|_| anyhow::anyhow!("the provider was never asked"))?;
        let opening: String = auren_agents::redflag::REFERRAL.chars().take(60).collect();
        let shown = rig
            .poll("the referral", auren_e2e::DEFAULT_WAIT, || async {
                let text = answer_when(&rig, "streaming").await?;
                Ok(text.contains(&opening).then_some(text))
            })
            .await?;
        anyhow::ensure!(
            shown.trim_start().starts_with(&opening),
            "the referral is not first: {shown:?}"
        );
        // Still hanging: the referral did not wait for the model.
        anyhow::ensure!(fake.disconnects() == 0, "the provider's request already ended");
        rig.find_all(".msg-assistant[data-status=streaming]")
            .await?
            .first()
            .ok_or_else(|| anyhow::anyhow!("the turn is no longer streaming"))?;
        rig.click("chat-stop").await?;
        tokio::time::timeout(DISCONNECT_WAIT, fake.wait_for_disconnects(1))
            .await
            .map_err(|_| anyhow::anyhow!("Stop did not end the hanging request"))?;
        Ok(())
    })
    .await?;
    rig.close().await
}

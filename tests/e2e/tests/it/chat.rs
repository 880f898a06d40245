//! The chat window in the real webview: with a provider configured whose port is closed, the offline
//! analyst answers from the person's own data with the value the Morning view shows; hostile model output
//! runs nothing and fetches nothing, and a made-up number is marked unverified. The helpers here (a
//! gateway.toml pointing at a provider, asking, reading answers) serve the other chat journeys too.

use auren_e2e::{AppFolders, Rig, first_number, fixtures, testid};
use auren_fake_llm::{FakeLlm, Reply, Script};
use fantoccini::Locator;
use std::ffi::OsString;

pub(crate) const KEY_VAR: &str = "AUREN_E2E_OPENAI_KEY";
/// The model every question is routed to, and whose bundled price the meter must show.
pub(crate) const MODEL: &str = "gpt-4.1";

/// A gateway.toml routing every question to [`MODEL`] of an OpenAI provider at `base_url`; `extra` adds
/// whole sections (`[timeouts]`, `[budget]`).
fn gateway_config(folders: &AppFolders, base_url: &str, extra: &str) -> anyhow::Result<OsString> {
    let path = folders.root().join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n[[provider]]\nname = \"openai\"\nkind = \"openai\"\n\
             base_url = \"{base_url}\"\napi_key_env = \"{KEY_VAR}\"\n\n[alias.smart]\nroutes = [\"openai:{MODEL}\"]\n\n{extra}"
        ),
    )?;
    Ok(path.into_os_string())
}

/// Starts the app with the provider at `base_url` set up (and `extra` gateway sections) over `folders`.
pub(crate) async fn launch_with_provider(
    folders: &AppFolders,
    base_url: &str,
    extra: &str,
    name: &str,
) -> anyhow::Result<Rig> {
    let mut env = folders.env();
    env.push(("AUREN_GATEWAY_CONFIG", gateway_config(folders, base_url, extra)?));
    env.push((KEY_VAR, OsString::from("sk-e2e-0000")));
    Rig::launch(&auren_e2e::app_under_test(), &env, name).await
}

/// Starts the app with the fake provider set up (and `extra` gateway sections) over `folders`.
pub(crate) async fn launch_with_fake(
    folders: &AppFolders,
    fake: &FakeLlm,
    extra: &str,
    name: &str,
) -> anyhow::Result<Rig> {
    launch_with_provider(folders, &fake.openai_base_url(), extra, name).await
}

pub(crate) async fn ask(rig: &Rig, question: &str) -> anyhow::Result<()> {
    rig.click("nav-chat").await?;
    let input = rig.find("chat-input").await?;
    rig.type_text(&input, &format!("{question}\n")).await
}

/// The text of the newest answer once it shows `status`.
pub(crate) async fn answer_when(rig: &Rig, status: &str) -> anyhow::Result<String> {
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

/// Waits until `count` answers are stored and shown (the live turn replaced by the stored message).
pub(crate) async fn stored_answers(rig: &Rig, count: usize) -> anyhow::Result<()> {
    let what = format!("{count} stored answer(s)");
    rig.poll(&what, auren_e2e::DEFAULT_WAIT, || async {
        let stored = rig.find_all(&testid("msg-assistant")).await?;
        let live = rig.find_all(".chat-messages > .msg-assistant").await?;
        Ok((stored.len() >= count && live.is_empty()).then_some(()))
    })
    .await
}

/// Opens the first conversation in the chat's list (after a reload, or on a seeded store).
pub(crate) async fn open_first_conversation(rig: &Rig) -> anyhow::Result<()> {
    rig.click("nav-chat").await?;
    let conversation = rig
        .poll(
            "the conversation in the list",
            auren_e2e::DEFAULT_WAIT,
            || async {
                Ok(rig
                    .find_all(&testid("chat-conversation"))
                    .await?
                    .into_iter()
                    .next())
            },
        )
        .await?;
    conversation.find(Locator::Css("a")).await?.click().await?;
    Ok(())
}

/// The `textContent` of every element matching `css`, hidden ones (closed `<details>`) included.
pub(crate) async fn text_contents(rig: &Rig, css: &str) -> anyhow::Result<Vec<String>> {
    let found = rig
        .client()
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map((e) => e.textContent);",
            vec![css.into()],
        )
        .await?;
    Ok(found
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default())
}

/// The loopback address of a port that was bound and closed again: nothing listens there, so a connection
/// is refused at once.
fn closed_port() -> anyhow::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}/v1"))
}

/// Today's lnRMSSD as the Morning view draws it ("today 3.90" on its range chart): the digits as shown.
async fn mornings_value(rig: &Rig) -> anyhow::Result<String> {
    rig.click("nav-morning").await?;
    rig.poll(
        "today's value in the Morning view",
        auren_e2e::DEFAULT_WAIT,
        || async {
            let shown = text_contents(rig, &testid("morning-today")).await?;
            Ok(shown
                .first()
                .and_then(|label| label.trim().strip_prefix("today "))
                .map(str::to_owned))
        },
    )
    .await
}

pub async fn with_the_servers_port_closed_the_offline_analyst_answers_with_the_value_the_morning_view_shows()
-> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    fixtures::seed_morning_history(&folders.data, fixtures::today()).await?;
    // A provider is configured — the chat is not offline for want of one — but its port is closed.
    let rig = launch_with_provider(&folders, &closed_port()?, "", "chat-offline").await?;

    let shown = rig.step("morning-value", mornings_value(&rig)).await?;
    rig.step("offline-answer", async {
        anyhow::ensure!(
            first_number(&shown).is_some(),
            "the Morning view shows {shown:?} as today's lnRMSSD"
        );
        ask(&rig, "How is my readiness today?").await?;
        // Saved answers render with status "done" once the turn is stored.
        stored_answers(&rig, 1).await?;
        let answer = rig.find("msg-assistant").await?;
        let text = answer.find(Locator::Css(&testid("answer"))).await?.text().await?;
        anyhow::ensure!(
            text.contains(&shown),
            "the offline answer {text:?} does not give the Morning view's lnRMSSD {shown}"
        );
        anyhow::ensure!(
            !answer
                .find_all(Locator::Css(&testid("offline-badge")))
                .await?
                .is_empty(),
            "the answer {text:?} is not labelled as the offline analyst's"
        );
        anyhow::ensure!(
            rig.find_all(&testid("offline-status")).await?.is_empty(),
            "the chat says it is offline for want of a provider: the gateway.toml was not read"
        );
        // The configured provider is the one that failed: its chip says it is down.
        let chip = format!("{}[data-provider=openai]", testid("provider-status"));
        rig.poll("the provider shown down", auren_e2e::DEFAULT_WAIT, || async {
            let chips = rig.find_all(&chip).await?;
            let Some(chip) = chips.first() else {
                return Ok(None);
            };
            Ok((chip.attr("data-state").await?.as_deref() == Some("down")).then_some(()))
        })
        .await?;
        let grounded = rig.find_all("[data-testid=claim][data-grounded=true]").await?;
        anyhow::ensure!(!grounded.is_empty(), "no grounded claim in {text:?}");
        // The lnRMSSD claim links to its day: History's trend chart opens with that day marked and its value named.
        let mut link = None;
        for claim in rig
            .find_all("a[data-testid=claim][href^='#/history/day/']")
            .await?
        {
            if claim.text().await? == shown {
                link = Some((claim.attr("href").await?.unwrap_or_default(), claim));
                break;
            }
        }
        let (href, claim) = link.ok_or_else(|| anyhow::anyhow!("no link to a day on the claim {shown}"))?;
        claim.click().await?;
        let day = rig.find("trend-day").await?;
        // WebDriver gives the resolved URL ("tauri://localhost#/history/day/…").
        let date = href.rsplit("#/history/day/").next().unwrap_or_default();
        anyhow::ensure!(
            day.attr("data-day").await?.as_deref() == Some(date),
            "the trend marks {:?}, the claim links {date}",
            day.attr("data-day").await?
        );
        // The line is filled in when the trend has loaded: it names the marked morning's lnRMSSD.
        let what = format!("the marked day {date} naming {shown}");
        rig.poll(&what, auren_e2e::DEFAULT_WAIT, || async {
            let text = rig.find("trend-day").await?.text().await?;
            Ok(text.contains(&shown).then_some(()))
        })
        .await?;
        Ok(())
    })
    .await?;
    rig.close().await
}

pub async fn hostile_output_runs_nothing_and_made_up_numbers_are_marked() -> anyhow::Result<()> {
    let fake = FakeLlm::start().await?;
    // Every address the model text names is this listener's, so "fetches nothing" is counted, not
    // assumed: an address that cannot resolve (evil.invalid) would pass whether or not it was tried.
    let tripwire = std::net::TcpListener::bind("127.0.0.1:0")?;
    tripwire.set_nonblocking(true)?;
    let bait = format!("http://127.0.0.1:{}", tripwire.local_addr()?.port());
    let hostile = format!(
        "Your RMSSD was 123 ms today.\n\n<img src=x onerror=\"window.__pwned=1\">\n\n<script>window.__pwned=2</script>\n\n\
         [open](javascript:window.__pwned=3) ![p]({bait}/p.png) <img src=\"{bait}/raw.png\"> [site]({bait}/page)"
    );
    fake.set_default(Script::Reply(Reply::text([hostile.as_str()]).with_usage(120, 30)));
    let folders = AppFolders::new()?;
    let rig = launch_with_fake(&folders, &fake, "", "chat-hostile").await?;

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
        // The page has been read element by element since the answer was drawn (each a round trip
        // through the webview); an image or a link fetched on drawing would have connected by now.
        match tripwire.accept() {
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Err(error) => Err(error.into()),
            Ok((_, from)) => anyhow::bail!("the window fetched an address from model text (from {from})"),
        }
    })
    .await?;
    rig.close().await
}

pub async fn a_clicked_grounded_number_opens_the_session_showing_that_value() -> anyhow::Result<()> {
    let folders = AppFolders::new()?;
    let session = fixtures::seed_session(&folders.data).await?;
    let mut env = folders.env();
    env.push((
        "AUREN_GATEWAY_CONFIG",
        folders.root().join("absent.toml").into_os_string(),
    ));
    let rig = Rig::launch(&auren_e2e::app_under_test(), &env, "chat-claim-link").await?;

    let (clicked, figure) = rig
        .step("grounded-claim", async {
            ask(&rig, "How was my last session?").await?;
            answer_when(&rig, "done").await?;
            let route = format!("#/history/{session}");
            let claims = rig
                .find_all(&format!(
                    "[data-testid=claim][data-grounded=true][href=\"{route}\"]"
                ))
                .await?;
            let claim = claims
                .first()
                .ok_or_else(|| anyhow::anyhow!("no grounded claim links to {route}"))?;
            let text = claim.text().await?;
            let figure = StatedFigure::read(&text)
                .ok_or_else(|| anyhow::anyhow!("the claim {text:?} holds no number with a unit"))?;
            claim.click().await?;
            Ok((text, figure))
        })
        .await?;
    rig.step("session-shows-it", async {
        rig.poll("the session's metrics", auren_e2e::DEFAULT_WAIT, || async {
            let hash = rig.client().execute("return location.hash;", Vec::new()).await?;
            if hash != format!("#/history/{session}").as_str() {
                return Ok(None);
            }
            let mut shown = Vec::new();
            for row in rig.find_all(&testid("session-metric")).await? {
                let cells = row.find_all(fantoccini::Locator::Css("td")).await?;
                if let [value, unit] = cells.as_slice() {
                    shown.push((value.text().await?, unit.text().await?));
                }
            }
            if shown.is_empty() {
                return Ok(None);
            }
            anyhow::ensure!(
                shown.iter().any(|(value, unit)| figure.states(value, unit)),
                "the session shows no value stated as {clicked:?}: {shown:?}"
            );
            Ok(Some(()))
        })
        .await
    })
    .await?;
    rig.close().await
}

/// A number as an answer states it ("101 ms"): its value, how many decimals were written, and the unit.
#[derive(Debug)]
struct StatedFigure {
    value: f64,
    decimals: usize,
    unit: String,
}

impl StatedFigure {
    fn read(text: &str) -> Option<StatedFigure> {
        let digits: String = text
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let unit = text[text.find(&digits)? + digits.len()..].trim().to_owned();
        Some(StatedFigure {
            value: digits.parse().ok()?,
            decimals: digits.split_once('.').map_or(0, |(_, d)| d.len()),
            unit,
        })
    }

    /// Whether a shown value in `unit` is this figure: the same unit, and it rounds to the stated digits
    /// (how the grounding matched the claim to its receipt).
    fn states(&self, shown: &str, unit: &str) -> bool {
        let Ok(shown) = shown.trim().parse::<f64>() else {
            return false;
        };
        let scale = 10f64.powi(self.decimals as i32);
        unit.trim() == self.unit && ((shown * scale).round() - self.value * scale).abs() < 0.5
    }
}

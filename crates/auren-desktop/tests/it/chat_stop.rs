//! Stop, and what is stored for a stopped turn, when another writer is busy at the same moment.
//!
//! Stopping a streaming turn drops its stream, and the gateway records the abandoned stream's usage on a task
//! of its own — a write to the same database racing the turn's own writes of its answer. The WebDriver Stop
//! journey once ended with the question and no answer: the answer's transaction had read first and then
//! tried to write after the usage row was committed, which SQLite refuses at once (`SQLITE_BUSY`, the busy
//! timeout does not apply to a read turning into a write), so the turn failed and the window re-read a
//! conversation without it.
//!
//! The race is made certain instead of rare: a progress handler on every connection of the desktop's pool
//! lets another connection write (a usage row, as the gateway would) at every point where SQLite checks for
//! progress — inside and between every statement the store runs — from Stop until the turn's last event.
//! That writer never waits (busy timeout 0): while the turn holds the write lock its writes are refused,
//! while it only reads they land in between.
//!
//! And what a Stop keeps: the window says how much of the answer it had drawn (Unicode code points), and
//! the stored answer — its text, claims, exports and search entry — is cut there, though more had
//! streamed (a text batch in transit, a frame not yet painted); usage stays all that streamed.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auren_desktop::chat_dto::{
    ChatCancelDto, ChatEventDto, ChatSendDto, ClaimDto, ConversationFormatDto, GuardDto, RoleDto, StepDto,
};
use auren_desktop::{ChatSink, Desktop};
use auren_fake_llm::{FakeLlm, Reply, Script};
use auren_store::Store;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::mpsc;

use crate::support::open;

/// A question the rules route to the coach, with no data intent: no tool runs before the model.
const COACH_QUESTION: &str = "Write me a short note about recovery habits";
/// Long enough for a test to end before any event is missed; a turn that hangs fails here, not forever.
const EVENT_WAIT: Duration = Duration::from_secs(60);

/// A second connection to the desktop's database that writes one usage row whenever a pool connection
/// reports progress, while armed.
#[derive(Clone)]
struct Interloper {
    armed: Arc<AtomicBool>,
    writer: Arc<Mutex<SqliteConnection>>,
    runtime: tokio::runtime::Handle,
    /// Rows it wrote, and writes refused because a connection held the write lock.
    landed: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl Interloper {
    /// Connects to `db` and sets the progress handler on every connection `store`'s pool can open.
    async fn install(db: &Path, store: &Store) -> Self {
        let writer = SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::ZERO)
            .connect()
            .await
            .unwrap();
        let interloper = Self {
            armed: Arc::default(),
            writer: Arc::new(Mutex::new(writer)),
            runtime: tokio::runtime::Handle::current(),
            landed: Arc::default(),
            refused: Arc::default(),
        };
        let on_progress = interloper.clone();
        on_progress_of(store, move || on_progress.write_now()).await;
        interloper
    }

    /// On a pool connection's own thread, in the middle of its statement: one usage row, or a refusal.
    fn write_now(&self) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let insert = sqlx::query(
            "INSERT INTO llm_usage (at_ms, day, provider, model, conversation, input_tokens, \
             cached_input_tokens, output_tokens, estimated, cost_picodollars) \
             VALUES (0, '1970-01-01', 'interloper', 'm', NULL, 1, 0, 1, 1, NULL)",
        )
        .execute(&mut *writer);
        match self.runtime.block_on(insert) {
            Ok(_) => self.landed.fetch_add(1, Ordering::SeqCst),
            Err(_) => self.refused.fetch_add(1, Ordering::SeqCst),
        };
    }

    fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }
}

/// Sets `hook` as the progress handler of every connection `store`'s pool can open: it runs on the
/// connection's own thread, in the middle of its statements, at every opcode check — the finest
/// interleaving SQLite offers.
async fn on_progress_of(store: &Store, hook: impl Fn() + Clone + Send + 'static) {
    // Holding all of them at once reaches each connection the pool will ever lend out.
    let pool = store.pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    for connection in &mut held {
        let hook = hook.clone();
        let mut handle = connection.lock_handle().await.unwrap();
        handle.set_progress_handler(1, move || {
            hook();
            true
        });
    }
}

/// A sink that hands every event to the test.
fn sink() -> (ChatSink, mpsc::UnboundedReceiver<ChatEventDto>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Box::new(move |event| tx.send(event).is_ok()), rx)
}

async fn next(events: &mut mpsc::UnboundedReceiver<ChatEventDto>) -> ChatEventDto {
    match tokio::time::timeout(EVENT_WAIT, events.recv()).await {
        Ok(Some(event)) => event,
        Ok(None) => panic!("the turn's events ended without `done` or a failure"),
        Err(_) => panic!("no event from the turn in {EVENT_WAIT:?}"),
    }
}

/// A desktop whose chat goes to `fake` (no idle timeout: only Stop ends the stalled stream).
async fn desktop_on(dir: &Path, fake: &FakeLlm) -> Desktop {
    let config = dir.join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("gateway.toml"),
        format!(
            "default_model = \"smart\"\n\n[retry]\nmax_retries = 0\n\n\
             [timeouts]\nidle_ms = 600000\nfirst_token_ms = 600000\n\n\
             [[provider]]\nname = \"fake\"\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n\n\
             [alias.smart]\nroutes = [\"fake:m1\"]\n",
            fake.openai_base_url()
        ),
    )
    .unwrap();
    open(dir).await
}

/// When Stop is pressed, and what the stored answer must then be.
#[derive(Clone, Copy, Debug)]
enum StopAt {
    /// After five streamed words: the answer is exactly the text that streamed.
    MidAnswer,
    /// While the model has sent nothing yet: the offline analyst answers (from the person's data).
    BeforeTheFirstWord,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_turn_is_stored_and_then_done_even_with_another_writer_at_every_step() {
    for stop_at in [StopAt::MidAnswer, StopAt::BeforeTheFirstWord] {
        let fake = FakeLlm::start().await.unwrap();
        let words: Vec<String> = (0..40).map(|i| format!("word{i} ")).collect();
        fake.set_default(match stop_at {
            // The role chunk and five words, then silence until the client goes away.
            StopAt::MidAnswer => Script::StallAfter {
                events: 6,
                reply: Reply::text(words),
            },
            StopAt::BeforeTheFirstWord => Script::HangUntilDisconnect,
        });
        let dir = tempfile::tempdir().unwrap();
        let desktop = desktop_on(dir.path(), &fake).await;
        let db = desktop.app_info().db_path;
        let interloper = Interloper::install(Path::new(&db), &desktop.chat_store().await).await;

        let (sink, mut events) = sink();
        let request = ChatSendDto {
            conversation: None,
            text: COACH_QUESTION.into(),
            replaces: None,
            model: None,
        };
        let started = desktop.chat_send(request, sink).await.unwrap();
        let mut streamed = String::new();
        match stop_at {
            StopAt::MidAnswer => {
                while !streamed.contains("word4") {
                    if let ChatEventDto::Text { delta } = next(&mut events).await {
                        streamed.push_str(&delta);
                    }
                }
            }
            StopAt::BeforeTheFirstWord => {
                tokio::time::timeout(EVENT_WAIT, fake.wait_for_requests(1))
                    .await
                    .unwrap();
            }
        }

        interloper.arm(true);
        let stopping = desktop.chat_cancel(started.turn, None).unwrap();
        assert_eq!(stopping, ChatCancelDto::Stopped, "{stop_at:?}");
        let mut guard = None;
        let done = loop {
            match next(&mut events).await {
                ChatEventDto::Guard { guard: g, .. } => guard = Some(g),
                ChatEventDto::Done { answer, offline, .. } => break (answer, offline),
                ChatEventDto::Error { code, message } if code == "turn_failed" => {
                    interloper.arm(false);
                    panic!("{stop_at:?}: the stopped turn was not stored: {message}")
                }
                _ => {}
            }
        };
        interloper.arm(false);
        let landed = interloper.landed.load(Ordering::SeqCst);
        let refused = interloper.refused.load(Ordering::SeqCst);
        assert!(
            landed + refused > 0,
            "{stop_at:?}: no other write was tried while the turn was stored"
        );
        assert_eq!(guard, Some(GuardDto::Cancelled), "{stop_at:?}");
        let (answer, offline) = done;
        match stop_at {
            StopAt::MidAnswer => {
                assert_eq!(answer, streamed, "{stop_at:?}: the answer is what streamed");
                assert!(!offline, "{stop_at:?}");
            }
            StopAt::BeforeTheFirstWord => assert!(offline, "{stop_at:?}: {answer}"),
        }

        // What the window reads on `done` is the stored turn: the question and this answer, stopped.
        let messages = desktop
            .conversation_messages(started.conversation, None)
            .await
            .unwrap();
        let roles: Vec<RoleDto> = messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [RoleDto::User, RoleDto::Assistant], "{stop_at:?}");
        assert_eq!(messages[1].text, answer, "{stop_at:?}");
        assert!(
            messages[1].steps.iter().any(|s| matches!(
                s,
                StepDto::Other { name, payload } if name == "guard" && payload["guard"] == "cancelled"
            )),
            "{stop_at:?}: the stored answer shows as stopped: {:?}",
            messages[1].steps
        );
    }
}

/// The answer's four pieces: the window drew the first two; the last two — a number the grounding would
/// claim among them — streamed but were never drawn.
const PIECES: [&str; 4] = ["Alpha bravo, ", "charlie 🫀 delta. ", "Zulu 62 ms ", "yankee."];
/// What the window drew of them, in Unicode code points as it counts (`Array.from(text).length`): 30,
/// though 31 UTF-16 units and 33 UTF-8 bytes (the heart is one code point, two units, four bytes).
const DRAWN: &str = "Alpha bravo, charlie 🫀 delta. ";
const DRAWN_CODE_POINTS: u32 = 30;
/// A question the rules route to the coach whose statement about oneself makes the turn extract memories
/// with one more model call after the answer.
const STATEMENT_QUESTION: &str = "I started swimming. Write me a short note about recovery habits";
/// What a first model call says before calling a tool (streamed and drawn, but not the answer's text).
const PREAMBLE: &str = "Let me look at your week. ";
/// A red flag the rules answer at once with the referral, then a question the coach answers with a model.
const RED_FLAG_QUESTION: &str = "I had chest pain this morning. Write me a short note about recovery habits";

/// The referral as the turn streams it: first, before any answer.
fn referral() -> String {
    format!("{}\n\n", auren_agents::redflag::REFERRAL)
}

/// What the window had drawn when it stopped the turn, and when it did.
#[derive(Clone, Copy, Debug)]
enum Drawn {
    /// The first two pieces; the rest was a batch in transit.
    TwoPieces,
    /// None of the model's text: the offline analyst answers, as after a Stop before the first word.
    Nothing,
    /// Only the red-flag referral, of a red-flag question the model then answered with the four pieces:
    /// the referral and the offline analyst's answer.
    ReferralOnly,
    /// None of the model's text, the Stop arriving after the model's last word (while memories are
    /// extracted): the offline analyst answers, its answer written after the Stop.
    NothingAfterTheLastWord,
    /// No count (a caller that cannot tell): everything that streamed is kept, as before counts.
    NoCount,
    /// The first two pieces, the Stop arriving after the model's last word (while memories are extracted).
    TwoPiecesAfterTheLastWord,
    /// All of it — a first call's words before its tool call, then the answer's four pieces — the Stop
    /// arriving after the model's last word: nothing was cut, so the answer stands and is not stopped.
    AllAfterATool,
}

impl Drawn {
    fn count(self) -> Option<u32> {
        match self {
            Self::TwoPieces | Self::TwoPiecesAfterTheLastWord => Some(DRAWN_CODE_POINTS),
            Self::Nothing | Self::NothingAfterTheLastWord => Some(0),
            Self::ReferralOnly => Some(u32::try_from(referral().chars().count()).unwrap()),
            Self::NoCount => None,
            Self::AllAfterATool => Some(u32::try_from(self.streamed().chars().count()).unwrap()),
        }
    }

    /// All the model's text the window received.
    fn streamed(self) -> String {
        match self {
            Self::AllAfterATool => [PREAMBLE, &PIECES.concat()].concat(),
            Self::ReferralOnly => [referral(), PIECES.concat()].concat(),
            _ => PIECES.concat(),
        }
    }

    /// Whether the stored turn shows as stopped (the cancel guard).
    fn stops(self) -> bool {
        !matches!(self, Self::AllAfterATool)
    }

    /// Whether the undrawn pieces' words are kept.
    fn keeps_all(self) -> bool {
        matches!(self, Self::NoCount | Self::AllAfterATool)
    }

    /// The stored answer's text; `None` for the offline analyst's.
    fn kept(self) -> Option<String> {
        match self {
            Self::TwoPieces | Self::TwoPiecesAfterTheLastWord => Some(DRAWN.to_owned()),
            Self::Nothing | Self::ReferralOnly | Self::NothingAfterTheLastWord => None,
            // The answer is the last call's text, as for a turn nobody stopped.
            Self::NoCount | Self::AllAfterATool => Some(PIECES.concat()),
        }
    }
}

/// The end of a turn as the window hears it.
struct Ended {
    answer: String,
    offline: bool,
    guard: Option<GuardDto>,
    claims_sent: usize,
    /// The claims the `done` carries.
    claims: Vec<ClaimDto>,
}

async fn until_done(events: &mut mpsc::UnboundedReceiver<ChatEventDto>) -> Ended {
    let (mut guard, mut claims_sent) = (None, 0);
    loop {
        match next(events).await {
            ChatEventDto::Guard { guard: g, .. } => guard = Some(g),
            ChatEventDto::Claim { .. } => claims_sent += 1,
            ChatEventDto::Done {
                answer,
                offline,
                claims,
                ..
            } => {
                return Ended {
                    answer,
                    offline,
                    guard,
                    claims_sent,
                    claims,
                };
            }
            ChatEventDto::Error { code, message } if code == "turn_failed" => panic!("{message}"),
            _ => {}
        }
    }
}

/// Starts the case's turn and returns once the model's text has all streamed to the window — all of it
/// received, only [`DRAWN`] drawn — and the turn is where the case stops it.
/// Returns the conversation, how many claims the window was sent, and the turn's end.
async fn streamed_turn(drawn: Drawn, fake: &FakeLlm, desktop: &Desktop) -> (i64, usize, Ended) {
    let reply = Reply::text(PIECES);
    let question = match drawn {
        Drawn::TwoPiecesAfterTheLastWord | Drawn::NothingAfterTheLastWord => {
            // The answer streams to its end; the extraction call after it never answers.
            fake.script("m1", [Script::Reply(reply)]);
            fake.set_default(Script::HangUntilDisconnect);
            STATEMENT_QUESTION
        }
        Drawn::AllAfterATool => {
            let tool = Reply::tool_call(
                "call_1",
                "get_trend",
                [r#"{"metric":null,"from":null,"to":null}"#],
            )
            .with_text([PREAMBLE]);
            fake.script("m1", [Script::Reply(tool), Script::Reply(reply)]);
            fake.set_default(Script::HangUntilDisconnect);
            STATEMENT_QUESTION
        }
        _ => {
            // The role chunk and the four pieces, then silence until the client goes away.
            fake.set_default(Script::StallAfter { events: 5, reply });
            match drawn {
                Drawn::ReferralOnly => RED_FLAG_QUESTION,
                _ => COACH_QUESTION,
            }
        }
    };
    let (sink, mut events) = sink();
    let request = ChatSendDto {
        conversation: None,
        text: question.into(),
        replaces: None,
        model: None,
    };
    let started = desktop.chat_send(request, sink).await.unwrap();
    let mut received = String::new();
    let mut claims = 0;
    while received != drawn.streamed() {
        match next(&mut events).await {
            ChatEventDto::Text { delta } => received.push_str(&delta),
            ChatEventDto::Claim { .. } => claims += 1,
            _ => {}
        }
    }
    // The extraction's request is in: the model's last word is behind the turn.
    let extraction = match drawn {
        Drawn::TwoPiecesAfterTheLastWord | Drawn::NothingAfterTheLastWord => Some(2),
        Drawn::AllAfterATool => Some(3),
        _ => None,
    };
    if let Some(requests) = extraction {
        tokio::time::timeout(EVENT_WAIT, fake.wait_for_requests(requests))
            .await
            .unwrap();
    }
    let stopping = desktop.chat_cancel(started.turn, drawn.count()).unwrap();
    assert_eq!(stopping, ChatCancelDto::Stopped, "{drawn:?}");
    let ended = until_done(&mut events).await;
    let claims_sent = claims + ended.claims_sent;
    check_ended(drawn, &ended);
    (started.conversation, claims_sent, ended)
}

fn check_ended(drawn: Drawn, ended: &Ended) {
    let stopped = drawn.stops().then_some(GuardDto::Cancelled);
    assert_eq!(ended.guard, stopped, "{drawn:?}");
    match drawn.kept() {
        Some(kept) => {
            assert_eq!(ended.answer, kept, "{drawn:?}: the answer is what was drawn");
            assert!(!ended.offline, "{drawn:?}");
        }
        None => assert!(ended.offline, "{drawn:?}: {}", ended.answer),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_keeps_only_the_text_the_window_had_drawn() {
    assert_eq!(DRAWN.chars().count(), DRAWN_CODE_POINTS as usize);
    assert_eq!(DRAWN, PIECES[..2].concat());
    for drawn in [
        Drawn::TwoPieces,
        Drawn::Nothing,
        Drawn::ReferralOnly,
        Drawn::NothingAfterTheLastWord,
        Drawn::NoCount,
        Drawn::TwoPiecesAfterTheLastWord,
        Drawn::AllAfterATool,
    ] {
        let fake = FakeLlm::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let desktop = desktop_on(dir.path(), &fake).await;
        let (conversation, claims_sent, ended) = streamed_turn(drawn, &fake, &desktop).await;
        let messages = desktop.conversation_messages(conversation, None).await.unwrap();
        let answer = &messages[1];
        match drawn.kept() {
            Some(kept) => assert_eq!(answer.text, kept, "{drawn:?}: the stored answer"),
            None => assert!(answer.offline, "{drawn:?}: {}", answer.text),
        }
        // The window draws the `done` of a stopped turn (ui/src/chat/turn.ts `ended`): it must carry the
        // stored answer, so what the window shows after the Stop is what a reload shows — the frozen text
        // when the Stop cut the model's, the offline analyst's answer, labelled, when none was drawn.
        assert_eq!(
            (ended.answer.as_str(), ended.offline, &ended.claims),
            (answer.text.as_str(), answer.offline, &answer.claims),
            "{drawn:?}: the done is the stored answer, with its claims"
        );
        let offline_label = auren_agents::offline::OFFLINE_LABEL;
        let lead = match drawn {
            Drawn::ReferralOnly => referral(),
            _ => String::new(),
        };
        assert_eq!(
            answer
                .text
                .strip_prefix(&lead)
                .map(|rest| rest.starts_with(offline_label)),
            Some(drawn.kept().is_none()),
            "{drawn:?}: {}",
            answer.text
        );
        // The number in the undrawn text was claimed while the answer streamed, and is not stored.
        let claimed: Vec<&str> = answer.claims.iter().map(|c| c.text.as_str()).collect();
        if drawn.keeps_all() {
            assert_eq!(claimed, ["62 ms"], "{drawn:?}");
        } else {
            assert!(claimed.is_empty(), "{drawn:?}: {claimed:?}");
        }
        let guarded = answer.steps.iter().any(|s| {
            matches!(s, StepDto::Other { name, payload } if name == "guard" && payload["guard"] == "cancelled")
        });
        assert_eq!(guarded, drawn.stops(), "{drawn:?}: stored as stopped");
        if let Drawn::TwoPiecesAfterTheLastWord = drawn {
            assert!(
                claims_sent > 0,
                "{drawn:?}: the number was claimed before the Stop"
            );
            // What was paid for stays: the answer's call (12 in, one token a piece) and the memory
            // extraction's call, which the Stop dropped before its first token — the provider had its prompt,
            // so the gateway booked that prompt's estimate. The stored turn counts what the ledger holds.
            use auren_gateway::UsageLedger as _;
            let usage = answer.usage.as_ref().unwrap();
            let ledger = auren_agents::ledger::SqliteLedger::new(desktop.chat_store().await);
            let booked = ledger
                .summary(&auren_gateway::UsageQuery::default())
                .await
                .unwrap();
            let (input, output) = booked.iter().fold((0, 0), |(i, o), row| {
                (i + row.input_tokens, o + row.output_tokens)
            });
            assert!(
                input > 12,
                "{drawn:?}: the extraction's prompt is booked: {booked:?}"
            );
            assert_eq!(
                (u64::from(usage.input_tokens), u64::from(usage.output_tokens)),
                (input, output),
                "{drawn:?}"
            );
        }
        let shown_after_reload = |text: &str| text.contains("Zulu") || text.contains("yankee");
        let unseen_kept = drawn.keeps_all();
        assert_eq!(
            shown_after_reload(&answer.text),
            unseen_kept,
            "{drawn:?}: {}",
            answer.text
        );
        for format in [ConversationFormatDto::Markdown, ConversationFormatDto::Json] {
            let path = desktop.export_conversation(conversation, format).await.unwrap();
            let export = std::fs::read_to_string(path).unwrap();
            assert_eq!(
                shown_after_reload(&export),
                unseen_kept,
                "{drawn:?}: {format:?} export"
            );
        }
        let found = desktop.search_messages("yankee".into()).await.unwrap();
        assert_eq!(found.is_empty(), !unseen_kept, "{drawn:?}: search {found:?}");
    }
}

/// Where a late Stop lands: after the turn's last check of what the window had drawn.
#[derive(Clone, Copy, Debug)]
enum Late {
    /// While the turn stores its answer (its message is written, its steps and claims not yet).
    StoringTheAnswer,
    /// While the turn's `done` is on its way to the window.
    DoneOnItsWay,
}

/// A point where a test holds the turn: the first pass there, once armed, tells the test and waits for
/// its go (on the turn's thread: a pool connection's, or the task forwarding events to the window).
#[derive(Clone)]
struct Gate {
    armed: Arc<AtomicBool>,
    reached: mpsc::UnboundedSender<()>,
    go: Arc<Mutex<std::sync::mpsc::Receiver<()>>>,
}

impl Gate {
    fn new() -> (Self, mpsc::UnboundedReceiver<()>, std::sync::mpsc::Sender<()>) {
        let (reached, on_reached) = mpsc::unbounded_channel();
        let (go, on_go) = std::sync::mpsc::channel();
        let gate = Self {
            armed: Arc::default(),
            reached,
            go: Arc::new(Mutex::new(on_go)),
        };
        (gate, on_reached, go)
    }

    fn armed(&self) -> bool {
        self.armed.load(Ordering::SeqCst)
    }

    /// Holds the caller here the first time after arming; a test that never says go fails by its wait.
    fn pass(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            let _ = self.reached.send(());
            let go = self.go.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = go.recv_timeout(EVENT_WAIT);
        }
    }
}

/// Holds the turn's storing of its answer: at the first progress of a pool connection once the answer's
/// message is in the database (read on a connection of its own), its steps and claims still to come.
async fn hold_the_store(db: &Path, store: &Store, gate: Gate) {
    let reader = SqliteConnectOptions::new().filename(db).connect().await.unwrap();
    let reader = Arc::new(Mutex::new(reader));
    let runtime = tokio::runtime::Handle::current();
    on_progress_of(store, move || {
        if !gate.armed() {
            return;
        }
        let mut reader = reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let stored =
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM messages WHERE role = 'assistant')")
                .fetch_one(&mut *reader);
        if runtime.block_on(stored).unwrap_or(false) {
            drop(reader);
            gate.pass();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_after_the_turns_last_check_is_refused_and_the_whole_answer_is_drawn() {
    for late in [Late::StoringTheAnswer, Late::DoneOnItsWay] {
        let fake = FakeLlm::start().await.unwrap();
        fake.set_default(Script::Reply(Reply::text(PIECES)));
        let dir = tempfile::tempdir().unwrap();
        let desktop = desktop_on(dir.path(), &fake).await;
        let (gate, mut reached, go) = Gate::new();
        let (tx, mut events) = mpsc::unbounded_channel();
        let sink: ChatSink = match late {
            Late::StoringTheAnswer => {
                let db = desktop.app_info().db_path;
                hold_the_store(Path::new(&db), &desktop.chat_store().await, gate.clone()).await;
                Box::new(move |event| tx.send(event).is_ok())
            }
            Late::DoneOnItsWay => {
                let gate = gate.clone();
                Box::new(move |event| {
                    let done = matches!(event, ChatEventDto::Done { .. });
                    let sent = tx.send(event).is_ok();
                    if done {
                        gate.pass();
                    }
                    sent
                })
            }
        };
        gate.armed.store(true, Ordering::SeqCst);
        let request = ChatSendDto {
            conversation: None,
            text: COACH_QUESTION.into(),
            replaces: None,
            model: None,
        };
        let started = desktop.chat_send(request, sink).await.unwrap();
        tokio::time::timeout(EVENT_WAIT, reached.recv())
            .await
            .unwrap_or_else(|_| panic!("{late:?}: the turn never got there"));

        // The window had drawn two pieces when its Stop came: too late to cut the answer.
        let stopping = desktop
            .chat_cancel(started.turn, Some(DRAWN_CODE_POINTS))
            .unwrap();
        go.send(()).unwrap();
        assert_eq!(stopping, ChatCancelDto::AlreadyFinished, "{late:?}");
        let ended = until_done(&mut events).await;
        assert_eq!(ended.guard, None, "{late:?}");
        assert_eq!(ended.answer, PIECES.concat(), "{late:?}: the whole answer");
        let messages = desktop
            .conversation_messages(started.conversation, None)
            .await
            .unwrap();
        assert_eq!(
            messages[1].text, ended.answer,
            "{late:?}: stored as the window draws it"
        );
        assert!(
            !messages[1]
                .steps
                .iter()
                .any(|s| matches!(s, StepDto::Other { name, .. } if name == "guard")),
            "{late:?}: stored as not stopped: {:?}",
            messages[1].steps
        );
    }
}

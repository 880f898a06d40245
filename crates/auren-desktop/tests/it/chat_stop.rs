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

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auren_desktop::chat_dto::{ChatEventDto, ChatSendDto, GuardDto, RoleDto, StepDto};
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
        // Holding all of them at once reaches each connection the pool will ever lend out.
        let pool = store.pool();
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            held.push(pool.acquire().await.unwrap());
        }
        for connection in &mut held {
            let on_progress = interloper.clone();
            let mut handle = connection.lock_handle().await.unwrap();
            // Every opcode check: the finest interleaving SQLite offers.
            handle.set_progress_handler(1, move || {
                on_progress.write_now();
                true
            });
        }
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
        desktop.chat_cancel(started.turn).unwrap();
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

//! `auren tags list SESSION_ID`: a session's tags and note; `auren tags rename|move|delete TAG_ID …` and
//! `auren tags note|clear-note SESSION_ID` change them.
//!
//! Tags and notes are the editable records that sync: each change is stamped with this device's hybrid
//! logical clock and queued in the outbox in the same transaction, so `auren sync` takes it to the person's
//! other devices, where concurrent edits merge field by field (the later stamp wins, the device breaking a
//! tie) and a deleted tag stays deleted (a tombstone). An athlete's session on a coach's device is read-only.

use anyhow::{Context, bail};
use auren_store::{SessionId, SessionRow, Store, TagRow};
use std::path::PathBuf;

use crate::duration::parse_duration;
use crate::places::{db_path, runtime};

/// The longest tag name, as the desktop's live tagging allows.
const MAX_NAME_CHARS: usize = 64;
/// The longest note.
const MAX_NOTE_CHARS: usize = 2_000;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: TagsCommand,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum TagsCommand {
    /// A session's tags (id, time into the session, name) and its note (ids as `auren sessions` lists them).
    List { session: i64 },
    /// Rename tag TAG_ID.
    Rename { tag: i64, name: String },
    /// Move tag TAG_ID to a time into its session, e.g. 90s or 12m30s.
    Move { tag: i64, at: String },
    /// Delete tag TAG_ID (on your other devices too, once synced).
    Delete { tag: i64 },
    /// Set the note of session SESSION_ID.
    Note { session: i64, text: String },
    /// Remove the note of session SESSION_ID.
    ClearNote { session: i64 },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let done = apply(&store, args.command).await;
        store.close().await;
        done
    })
}

async fn apply(store: &Store, command: TagsCommand) -> anyhow::Result<()> {
    let now = auren_clock::now_unix_ms();
    match command {
        TagsCommand::List { session } => {
            let row = stored_session(store, session).await?;
            print!("{}", listing(&row, &store.tags(row.id).await?));
        }
        TagsCommand::Rename { tag, name } => {
            let name = tag_name(&name)?;
            let (session, _) = the_tag(store, tag).await?;
            store
                .edit_tag(tag, Some(name), None, now)
                .await
                .context("cannot rename the tag")?;
            println!("Tag {tag} of session {} is now {name:?}.", session.0);
        }
        TagsCommand::Move { tag, at } => {
            let (session, _) = the_tag(store, tag).await?;
            let at_ms = within(store, session, &at).await?;
            store
                .edit_tag(tag, None, Some(at_ms), now)
                .await
                .context("cannot move the tag")?;
            println!("Tag {tag} of session {} is now at {}.", session.0, clock(at_ms));
        }
        TagsCommand::Delete { tag } => {
            let (session, row) = the_tag(store, tag).await?;
            store
                .delete_tag(tag, now)
                .await
                .context("cannot delete the tag")?;
            println!("Deleted tag {tag} ({:?}) of session {}.", row.name, session.0);
        }
        TagsCommand::Note { session, text } => {
            set_note(store, session, Some(note_text(&text)?), now).await?;
            println!("Session {session}'s note is set.");
        }
        TagsCommand::ClearNote { session } => {
            set_note(store, session, None, now).await?;
            println!("Session {session}'s note is removed.");
        }
    }
    Ok(())
}

async fn set_note(store: &Store, session: i64, text: Option<&str>, now: i64) -> anyhow::Result<()> {
    stored_session(store, session).await?;
    store
        .set_session_note(SessionId(session), text, now)
        .await
        .context("cannot change the note")
}

/// Session `id`'s row, without its beats (the store itself refuses changes to an athlete's session, saying
/// why).
async fn stored_session(store: &Store, id: i64) -> anyhow::Result<SessionRow> {
    store
        .session(SessionId(id))
        .await?
        .with_context(|| format!("there is no session {id} (auren sessions lists them)"))
}

async fn the_tag(store: &Store, id: i64) -> anyhow::Result<(SessionId, TagRow)> {
    store
        .tag(id)
        .await?
        .with_context(|| format!("there is no tag {id} (auren tags list SESSION_ID lists a session's)"))
}

fn tag_name(given: &str) -> anyhow::Result<&str> {
    let name = given.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        bail!("a tag name has 1–{MAX_NAME_CHARS} characters");
    }
    Ok(name)
}

fn note_text(given: &str) -> anyhow::Result<&str> {
    let text = given.trim();
    if text.is_empty() {
        bail!("the note is empty: to remove it, use auren tags clear-note");
    }
    if text.chars().count() > MAX_NOTE_CHARS {
        bail!("a note has at most {MAX_NOTE_CHARS} characters");
    }
    Ok(text)
}

/// `at` (a duration into session `session`) in ms, if the session is that long: its recorded length (its
/// end, or its last beat while it has none).
async fn within(store: &Store, session: SessionId, at: &str) -> anyhow::Result<f64> {
    let at_ms = parse_duration(at)?.as_secs_f64() * 1000.0;
    let length = stored_session(store, session.0).await?.recorded_length_ms();
    if at_ms > length {
        bail!(
            "{at} is past the end of session {} ({} long)",
            session.0,
            clock(length)
        );
    }
    Ok(at_ms)
}

/// What `tags list` prints.
fn listing(row: &SessionRow, tags: &[TagRow]) -> String {
    let mut out = format!(
        "Session {} ({}, {} UTC)\n",
        row.id.0,
        row.kind.as_str(),
        auren_clock::UnixMillis(row.started_at).civil_minute()
    );
    match &row.label {
        Some(note) => out.push_str(&format!("Note: {note}\n")),
        None => out.push_str("No note.\n"),
    }
    if tags.is_empty() {
        out.push_str("No tags.\n");
        return out;
    }
    out.push_str(&format!("{:>6}  {:>8}  name\n", "id", "at"));
    for tag in tags {
        out.push_str(&format!("{:>6}  {:>8}  {}\n", tag.id, clock(tag.at_ms), tag.name));
    }
    out
}

/// Session time as h:mm:ss or m:ss.
fn clock(ms: f64) -> String {
    let s = (ms / 1000.0).round().max(0.0) as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", (s % 3600) / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::{clock, note_text, tag_name};

    #[test]
    fn session_times_names_and_notes() {
        for (ms, text) in [
            (0.0, "0:00"),
            (1_499.0, "0:01"),
            (90_000.0, "1:30"),
            (3_723_000.0, "1:02:03"),
        ] {
            assert_eq!(clock(ms), text);
        }
        assert_eq!(tag_name("  coffee ").unwrap(), "coffee");
        for bad in ["", "   ", &"x".repeat(65)] {
            assert!(tag_name(bad).is_err(), "{bad:?}");
        }
        assert!(tag_name(&"é".repeat(64)).is_ok(), "characters, not bytes");
        assert_eq!(note_text(" felt flat ").unwrap(), "felt flat");
        assert!(note_text(" ").unwrap_err().to_string().contains("clear-note"));
        assert!(note_text(&"n".repeat(2_001)).is_err());
    }
}

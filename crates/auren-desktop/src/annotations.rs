//! A session's tags and note, edited from History: renaming or moving a tag, deleting it, setting or clearing
//! the note. Each goes through the store's synced edits (stamped by this device's hybrid logical clock, an
//! outbox row each, a tombstone for a deleted tag), so the next sync takes it to the person's other devices,
//! where edits made on two devices at once merge field by field. An athlete's session is read-only here (the
//! store refuses it, saying whose it is).

use auren_clock::now_unix_ms;
use auren_store::{SessionId, SessionRow, Store, TagRow};

use crate::desktop::Desktop;
use crate::dto::{SessionAnnotationsDto, SessionTagDto, TagEditDto};
use crate::error::DesktopError;

/// The longest tag name (as tagging during a recording allows).
pub const MAX_TAG_CHARS: usize = 64;
/// The longest note.
pub const MAX_NOTE_CHARS: usize = 2_000;

impl Desktop {
    /// Session `id`'s tags and note, read without its beats.
    pub async fn session_annotations(&self, id: i64) -> Result<SessionAnnotationsDto, DesktopError> {
        let store = self.store().await;
        let row = session_row(&store, id).await?;
        let tags = store.tags(SessionId(id)).await?;
        Ok(SessionAnnotationsDto::of(&row, &tags))
    }

    pub async fn edit_tag(&self, id: i64, edit: TagEditDto) -> Result<(), DesktopError> {
        let store = self.store().await;
        let (session, _) = store
            .tag(id)
            .await?
            .ok_or_else(|| DesktopError::InvalidInput(format!("there is no tag {id}")))?;
        let now = now_unix_ms();
        match edit {
            TagEditDto::Rename { name } => {
                store.edit_tag(id, Some(tag_name(&name)?), None, now).await?;
            }
            TagEditDto::Move { at_ms } => {
                let length = session_row(&store, session.0).await?.recorded_length_ms();
                let at_ms = at_ms as f64;
                if !(0.0..=length).contains(&at_ms) {
                    return Err(DesktopError::InvalidInput(format!(
                        "a tag's time is between 0 and the session's length, {:.0} s",
                        length / 1000.0
                    )));
                }
                store.edit_tag(id, None, Some(at_ms), now).await?;
            }
        }
        Ok(())
    }

    pub async fn delete_tag(&self, id: i64) -> Result<(), DesktopError> {
        let store = self.store().await;
        if store.tag(id).await?.is_none() {
            return Err(DesktopError::InvalidInput(format!("there is no tag {id}")));
        }
        Ok(store.delete_tag(id, now_unix_ms()).await?)
    }

    /// Sets the note of session `id`; an empty (or blank) note removes it.
    pub async fn set_session_note(&self, id: i64, note: &str) -> Result<(), DesktopError> {
        let text = note.trim();
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(DesktopError::InvalidInput(format!(
                "a note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let store = self.store().await;
        session_row(&store, id).await?;
        let text = (!text.is_empty()).then_some(text);
        Ok(store.set_session_note(SessionId(id), text, now_unix_ms()).await?)
    }
}

/// `given` trimmed, if it is a tag name (1–64 characters).
pub(crate) fn tag_name(given: &str) -> Result<&str, DesktopError> {
    let name = given.trim();
    if name.is_empty() || name.chars().count() > MAX_TAG_CHARS {
        return Err(DesktopError::InvalidInput(format!(
            "a tag has 1–{MAX_TAG_CHARS} characters"
        )));
    }
    Ok(name)
}

/// Session `id`'s row, without its beats.
async fn session_row(store: &Store, id: i64) -> Result<SessionRow, DesktopError> {
    store
        .session(SessionId(id))
        .await?
        .ok_or(DesktopError::NoSuchSession(id))
}

impl SessionAnnotationsDto {
    pub(crate) fn of(session: &SessionRow, tags: &[TagRow]) -> Self {
        Self {
            tags: tags
                .iter()
                .map(|t| SessionTagDto {
                    id: t.id,
                    // Stored times are finite (the store refuses others) and far inside i64.
                    at_ms: t.at_ms.round() as i64,
                    name: t.name.clone(),
                })
                .collect(),
            note: session.label.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tag_name;

    #[test]
    fn tag_names_are_trimmed_and_counted_in_characters() {
        assert_eq!(tag_name("  coffee ").unwrap(), "coffee");
        for bad in ["", "  ", &"x".repeat(65)] {
            assert!(tag_name(bad).is_err(), "{bad:?}");
        }
        assert!(tag_name(&"é".repeat(64)).is_ok());
    }
}

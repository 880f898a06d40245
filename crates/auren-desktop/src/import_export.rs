//! Import of a recording file as a session (through the live pipeline, with the current rules; then the
//! refresh after new data, so its CNS-fatigue alerts get their proactive message) and export of a stored
//! session into the export folder.

use auren_cep::SessionKind;
use auren_clock::now_unix_ms;
use auren_engine::query;
use auren_store::SessionId;
use std::path::Path;

use crate::desktop::Desktop;
use crate::dto::{ExportFormat, ExportedDto, ImportedDto};
use crate::error::DesktopError;

impl Desktop {
    pub async fn import_recording(&self, path: &Path) -> Result<ImportedDto, DesktopError> {
        let store = self.store().await;
        let now = now_unix_ms();
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        let config = auren_engine::import::ImportConfig {
            started_at_unix_ms: now,
            rules,
            baselines,
            kind: SessionKind::Other,
        };
        let imported = auren_engine::import::import_recording(&store, path, config)
            .await
            .map_err(|source| DesktopError::Import {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
        self.after_session(imported.session_id, now, false).await;
        Ok(ImportedDto {
            session_id: imported.session_id,
            format: imported.format.into(),
            beats: imported.beats,
            artifacts: imported.artifacts,
            warnings: imported.warnings,
        })
    }

    pub async fn export_session(&self, id: i64, format: ExportFormat) -> Result<ExportedDto, DesktopError> {
        let store = self.store().await;
        let detail = store
            .session_detail(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        let panel = query::session_detail(&store, id).await?;
        let dir = self.export_dir();
        crate::export::write(&dir, &detail, &panel, format)
    }
}

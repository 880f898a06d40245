//! The IPC's closed sets keep their wire words (the UI's generated unions switch on them), and a failed
//! import or settings save keeps the error that caused it.

use auren_desktop::dto::{BandNameDto, RecordingFormatDto, SpectrumMethodDto};
use auren_desktop::{DesktopError, ErrorCode, IpcError, SettingsBackend, SettingsBackendError};
use std::error::Error as _;

use crate::support::rig;

#[test]
fn closed_sets_serialise_to_their_wire_words() {
    let cases: [(serde_json::Value, &str); 10] = [
        (serde_json::json!(BandNameDto::Vlf), "vlf"),
        (serde_json::json!(BandNameDto::Lf), "lf"),
        (serde_json::json!(BandNameDto::Hf), "hf"),
        (serde_json::json!(SpectrumMethodDto::Welch), "welch"),
        (serde_json::json!(SpectrumMethodDto::LombScargle), "lomb_scargle"),
        (serde_json::json!(RecordingFormatDto::RrMs), "rr_ms"),
        (serde_json::json!(RecordingFormatDto::RrSeconds), "rr_seconds"),
        (serde_json::json!(RecordingFormatDto::Csv), "csv"),
        (serde_json::json!(RecordingFormatDto::TimeRr), "time_rr"),
        (serde_json::json!(RecordingFormatDto::Hrmcap), "hrmcap"),
    ];
    for (value, word) in cases {
        assert_eq!(value, serde_json::json!(word));
    }
}

#[test]
fn every_engine_recording_format_has_its_wire_word() {
    use auren_engine::recording::Format;
    for format in Format::ALL {
        let dto = RecordingFormatDto::from(format);
        assert_eq!(
            serde_json::json!(dto),
            serde_json::json!(format.as_str()),
            "{format:?}"
        );
    }
}

/// A backend whose store always fails, as a full disk would.
struct FullDisk;

impl SettingsBackend for FullDisk {
    fn load(&self) -> Option<serde_json::Value> {
        None
    }

    fn save(&self, _: serde_json::Value) -> Result<(), SettingsBackendError> {
        Err(SettingsBackendError::store(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left on device",
        )))
    }
}

#[tokio::test]
async fn a_failed_settings_save_keeps_its_cause_and_is_a_storage_error() {
    let dir = tempfile::tempdir().unwrap();
    let desktop = auren_desktop::Desktop::open(crate::support::folders(dir.path()), Box::new(FullDisk), "0")
        .await
        .unwrap();
    let error = desktop.remember_strap("A0:9E:1A:00:00:01", "H10").unwrap_err();
    let io = error
        .source()
        .and_then(|backend| backend.source())
        .and_then(|cause| cause.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    assert_eq!(io, Some(std::io::ErrorKind::StorageFull), "{error}");
    let ipc = IpcError::from(error);
    assert_eq!(ipc.code, ErrorCode::Storage);
    assert!(ipc.message.contains("no space left"), "{}", ipc.message);
}

#[tokio::test]
async fn a_failed_import_keeps_the_engine_error() {
    let r = rig().await;
    let missing = r.dir.path().join("missing.rr");
    let error = r.desktop.import_recording(&missing).await.unwrap_err();
    assert!(
        matches!(&error, DesktopError::Import { path, .. } if *path == missing),
        "{error:?}"
    );
    // The engine's error is the source as it was (boxed, which keeps its message and its own source).
    let cause = error
        .source()
        .and_then(|s| s.downcast_ref::<Box<auren_engine::import::ImportError>>());
    assert!(
        matches!(
            cause.map(|c| &**c),
            Some(auren_engine::import::ImportError::Recording(_))
        ),
        "{error:?}"
    );
}

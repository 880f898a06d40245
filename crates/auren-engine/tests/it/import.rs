//! `auren_engine::import`: recordings of every format stored as sessions through the live pipeline, the
//! reference recording's RMSSD surviving the trip, a capture's gaps kept, and bad files storing nothing.

use std::path::Path;

use auren_cep::{Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::dto::SessionKindDto;
use auren_engine::import::{ImportConfig, ImportError, import_recording};
use auren_engine::query;
use auren_engine::recording::{Format, RecordingError};
use auren_hrm::RrInterval;
use auren_store::SessionId;
use auren_strap::replay::group_per_second;
use serde_json::Value;

use crate::recording::{capture_of, rr_values};
use crate::session::{STARTED_AT, store};
use crate::support::reference;

fn config() -> ImportConfig {
    ImportConfig::new(STARTED_AT, compile(DEFAULT_RULES).unwrap(), Baselines::new())
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn expected(file: &str, key: &str) -> f64 {
    let text = std::fs::read_to_string(reference("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[file][key].as_f64().unwrap()
}

#[tokio::test]
async fn the_reference_recording_is_stored_beat_for_beat_with_its_reference_rmssd() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let path = reference("nsr_5min.rr");
    let lines = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();

    let got = import_recording(&store, &path, config()).await.unwrap();
    assert_eq!(got.format, Format::RrMs);
    assert_eq!(got.file_name, "nsr_5min.rr");
    assert_eq!(got.source_label, "import: nsr_5min.rr (rr_ms)");
    assert_eq!(got.beats_in_file as usize, lines);
    assert_eq!(got.beats as usize, lines);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);

    let beats = store.beats(SessionId(got.session_id)).await.unwrap();
    assert_eq!(beats.len(), lines);
    let stored: Vec<f64> = beats.iter().map(|b| b.rr_ms).collect();
    assert_eq!(stored, rr_values("nsr_5min.rr"));

    let detail = query::session_detail(&store, got.session_id).await.unwrap();
    assert_eq!(detail.summary.beat_count as usize, lines);
    assert_eq!(detail.summary.kind, SessionKindDto::Other);
    assert_eq!(detail.summary.source, "import: nsr_5min.rr (rr_ms)");
    assert_eq!(detail.summary.started_at_unix_ms, STARTED_AT);
    assert!(detail.gaps.is_empty(), "{:?}", detail.gaps);
    let rmssd = detail
        .panel
        .iter()
        .find(|m| m.key == "rmssd_ms")
        .and_then(|m| m.value)
        .unwrap();
    let want = expected("nsr_5min.rr", "rmssd_ms");
    assert!((rmssd - want).abs() < 1.0, "RMSSD {rmssd}, reference {want}");

    let row = store.session(SessionId(got.session_id)).await.unwrap().unwrap();
    assert_eq!(row.label.as_deref(), Some("nsr_5min.rr"));
    assert_eq!(row.ended_at, Some(STARTED_AT + got.duration_ms));
}

#[tokio::test]
async fn every_format_is_stored_with_all_its_beats_and_the_session_kind_asked_for() {
    let rr = rr_values("nsr_5min.rr");
    let seconds: String = rr.iter().map(|v| format!("{}\n", v / 1000.0)).collect();
    let polar: String = std::iter::once("Phone timestamp;RR-interval [ms]\n".to_string())
        .chain(rr.iter().map(|v| format!("2026-11-21T07:00:00.000;{v}\n")))
        .collect();
    let cases = [
        (
            "kubios.txt",
            seconds,
            Format::KubiosSeconds,
            SessionKind::Other,
            SessionKindDto::Other,
        ),
        (
            "polar.txt",
            polar,
            Format::Csv,
            SessionKind::Rest,
            SessionKindDto::Rest,
        ),
        (
            "strap.hrmcap",
            capture_of(&rr, 0..0, 0..0),
            Format::Capture,
            SessionKind::Exercise,
            SessionKindDto::Exercise,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    for (name, text, format, kind, stored_kind) in cases {
        let path = write(&dir, name, &text);
        let mut config = config();
        config.kind = kind;
        let got = import_recording(&store, &path, config).await.unwrap();
        assert_eq!(got.format, format, "{name}");
        assert_eq!(got.beats as usize, rr.len(), "{name}");
        assert_eq!(got.source_label, format!("import: {name} ({})", format.as_str()));
        let detail = query::session_detail(&store, got.session_id).await.unwrap();
        assert_eq!(detail.summary.kind, stored_kind, "{name}");
        assert_eq!(detail.summary.beat_count as usize, rr.len(), "{name}");
        let rmssd = detail
            .panel
            .iter()
            .find(|m| m.key == "rmssd_ms")
            .and_then(|m| m.value)
            .unwrap();
        let want = expected("nsr_5min.rr", "rmssd_ms");
        assert!(
            (rmssd - want).abs() < 1.0,
            "{name}: RMSSD {rmssd}, reference {want}"
        );
    }
    assert_eq!(store.sessions(100, 0).await.unwrap().len(), 3);
}

#[tokio::test]
async fn an_imported_capture_keeps_its_gaps_and_no_beat_is_invented_across_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let rr = rr_values("nsr_5min.rr");
    // Seconds 100–109 never arrived (a dropped link); 200–204 the strap was off the skin.
    let path = write(&dir, "gappy.hrmcap", &capture_of(&rr, 100..110, 200..205));
    let got = import_recording(&store, &path, config()).await.unwrap();
    assert_eq!(got.format, Format::Capture);

    let detail = query::session_detail(&store, got.session_id).await.unwrap();
    let gaps: Vec<(f64, f64)> = detail.gaps.iter().map(|g| (g.from_ms, g.to_ms)).collect();
    assert_eq!(gaps, [(99_000.0, 110_000.0), (199_000.0, 205_000.0)]);
    // Exactly the beats of the notifications that arrived with contact: none invented, none lost.
    let arrived: Vec<f64> = group_per_second(&rr)
        .into_iter()
        .filter(|s| !(100..110).contains(&(s.at_ms / 1000)) && !(200..205).contains(&(s.at_ms / 1000)))
        .flat_map(|s| s.rr_ms)
        .map(|ms| RrInterval::from_ms(ms).unwrap().as_ms())
        .collect();
    let stored = store
        .session_detail(SessionId(got.session_id))
        .await
        .unwrap()
        .unwrap();
    let stored_rr: Vec<f64> = stored.beats.iter().map(|b| b.rr_ms).collect();
    assert_eq!(stored_rr, arrived);
    assert_eq!(got.beats as usize, arrived.len());
    assert!(arrived.len() < rr.len() - 10, "the lost seconds held beats");
    // The panel is computed stretch by stretch: no interval is judged across a gap.
    assert_eq!(query::corrected_nn(&stored.beats, &stored.gaps).len(), 3);
}

#[tokio::test]
async fn a_bad_file_fails_naming_file_and_line_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // One good import first, so "nothing stored" is not "nothing there".
    import_recording(&store, &reference("nsr_5min.rr"), config())
        .await
        .unwrap();
    let before = query::sessions(&store, 100, 0).await.unwrap();

    let mut late_error = rr_values("nsr_5min.rr")
        .iter()
        .map(|v| format!("{v}\n"))
        .collect::<String>();
    late_error.push_str("80\n");
    let cases: Vec<(std::path::PathBuf, Option<usize>, &str)> = vec![
        (
            write(&dir, "late.rr", &late_error),
            Some(338),
            "line 338: RR interval 80 ms is outside 200–3000 ms",
        ),
        (
            write(&dir, "word.csv", "time,rr\n1,800\n2,eight hundred\n"),
            Some(3),
            "line 3: \"eight hundred\" in the RR column is not a number",
        ),
        (write(&dir, "empty.rr", ""), None, "the file is empty"),
        (
            write(&dir, "v9.hrmcap", "# auren-capture v9\n0 1000\n"),
            Some(1),
            "v9",
        ),
        (dir.path().join("missing.rr"), None, "cannot read"),
    ];
    for (path, line, message) in cases {
        let err = import_recording(&store, &path, config()).await.unwrap_err();
        let shown = err.to_string();
        assert!(
            shown.contains(&path.display().to_string()) && shown.contains(message),
            "{}: {shown:?} does not say {message:?}",
            path.display()
        );
        match &err {
            ImportError::Recording(inner) => {
                assert_eq!(inner.path(), path.as_path());
                assert_eq!(inner.line(), line, "{shown}");
            }
            other => panic!("{}: not a recording error: {other:?}", path.display()),
        }
        assert!(matches!(
            err,
            ImportError::Recording(RecordingError::Invalid { .. } | RecordingError::Read { .. })
        ));
    }
    assert_eq!(query::sessions(&store, 100, 0).await.unwrap(), before);
}

#[tokio::test]
async fn importing_a_directory_is_a_read_error_not_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let err = import_recording(&store, Path::new(dir.path()), config())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(store.sessions(10, 0).await.unwrap().is_empty());
}

//! History, import and export: an imported reference recording gets the reference panel, charts with a
//! spectrum, and every export format written into the export folder; bad input stores nothing.

use auren_desktop::dto::{BandNameDto, ExportFormat, RecordingFormatDto, SpectrumMethodDto};
use auren_desktop::{ErrorCode, IpcError};

use crate::settings::reference;
use crate::support::rig;

#[tokio::test]
async fn an_imported_reference_recording_has_its_panel_charts_and_every_export() {
    let r = rig().await;
    let imported = r
        .desktop
        .import_recording(&reference("nsr_5min.rr"))
        .await
        .unwrap();
    assert_eq!(imported.format, RecordingFormatDto::RrMs);
    assert_eq!(imported.beats, 337);
    let detail = r
        .desktop
        .session_detail(imported.session_id)
        .await
        .unwrap()
        .detail;
    let rmssd = detail
        .panel
        .iter()
        .find(|m| m.key == "rmssd_ms")
        .unwrap()
        .value
        .unwrap();
    assert!((rmssd - 101.3).abs() < 1.0, "{rmssd}");

    let charts = r.desktop.session_charts(imported.session_id).await.unwrap();
    assert_eq!(charts.beats.len(), 337);
    let spectrum = charts.spectrum.expect("5 minutes have a spectrum");
    assert_eq!(spectrum.freq_hz.len(), spectrum.power_ms2_hz.len());
    assert!(spectrum.freq_hz.iter().all(|f| (0.0..=0.5).contains(f)));
    let bands: Vec<BandNameDto> = spectrum.bands.iter().map(|b| b.name).collect();
    assert_eq!(bands, [BandNameDto::Vlf, BandNameDto::Lf, BandNameDto::Hf]);
    assert_eq!(spectrum.method, SpectrumMethodDto::Welch);
    let indices: Vec<u64> = charts.beats.iter().map(|b| b.index).collect();
    assert_eq!(
        indices,
        (0..337).collect::<Vec<u64>>(),
        "stored beats keep their raw index"
    );

    let exports = [
        (ExportFormat::Csv, "csv", &b"time_s,rr_ms,artifact\n"[..]),
        (ExportFormat::KubiosRr, "txt", &b"0."[..]),
        (ExportFormat::ReportPng, "png", &b"\x89PNG\r\n\x1a\n"[..]),
        (ExportFormat::ReportSvg, "svg", &b"<svg"[..]),
    ];
    for (format, ext, starts) in exports {
        let written = r
            .desktop
            .export_session(imported.session_id, format)
            .await
            .unwrap();
        assert!(written.path.ends_with(ext), "{}", written.path);
        assert!(
            written
                .path
                .starts_with(&r.dir.path().join("exports").display().to_string())
        );
        let bytes = std::fs::read(&written.path).unwrap();
        assert_eq!(bytes.len() as u64, written.bytes);
        assert!(bytes.starts_with(starts), "{format:?}");
    }
    let kubios = std::fs::read_to_string(
        r.desktop
            .export_session(imported.session_id, ExportFormat::KubiosRr)
            .await
            .unwrap()
            .path,
    )
    .unwrap();
    assert_eq!(kubios.lines().count(), 337);
}

#[tokio::test]
async fn a_bad_file_or_session_gets_a_clear_error_and_nothing_is_stored() {
    let r = rig().await;
    let bad = r.dir.path().join("bad.rr");
    std::fs::write(&bad, "812\n790\nabc\n").unwrap();
    let error = IpcError::from(r.desktop.import_recording(&bad).await.unwrap_err());
    assert_eq!(error.code, ErrorCode::ImportFailed);
    assert!(
        error.message.contains("bad.rr") && error.message.contains("line 3"),
        "{}",
        error.message
    );
    assert!(r.desktop.list_sessions(10, 0).await.unwrap().is_empty());

    for error in [
        r.desktop.session_detail(42).await.unwrap_err(),
        r.desktop.export_session(42, ExportFormat::Csv).await.unwrap_err(),
    ] {
        let error = IpcError::from(error);
        assert_eq!(error.code, ErrorCode::NoSuchSession);
        assert!(error.message.contains("42"));
    }
    let error = IpcError::from(r.desktop.daily_trend(0).await.unwrap_err());
    assert_eq!(error.code, ErrorCode::InvalidInput);
}

//! `ui/src/bindings.ts` is generated from the command signatures and DTOs; this fails when a change on
//! either side was not regenerated. `UPDATE_BINDINGS=1 cargo test -p auren-app` rewrites the file.

use std::path::PathBuf;

#[test]
fn committed_bindings_match_the_commands() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(auren_app::BINDINGS_PATH);
    let generated = auren_app::bindings_typescript().unwrap();
    if std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the Rust commands/DTOs: run `UPDATE_BINDINGS=1 cargo test -p auren-app` \
         and commit the result",
        path.display()
    );
}

#[test]
fn every_command_is_in_the_bindings() {
    let generated = auren_app::bindings_typescript().unwrap();
    for command in [
        "startLive",
        "stopLive",
        "watchLive",
        "startMorning",
        "sessionDetail",
        "exportSession",
        "checkRules",
        "saveSettings",
        "importRecording",
        "markPainted",
    ] {
        assert!(
            generated.contains(&format!("\t{command}: (")),
            "{command} missing"
        );
    }
    // IPC errors are `{code, message}` with the stable codes the UI branches on.
    let ipc_error = generated
        .split("export type IpcError = {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .unwrap_or_default();
    assert!(
        ipc_error.contains("code: ErrorCode") && ipc_error.contains("message: string"),
        "{ipc_error}"
    );
}

//! Tauri build step.
fn main() {
    tauri_build::build();
}

//! Tauri's build step, and the order the linker lays out the app's functions in.

use std::path::Path;

fn main() {
    link_in_symbol_order();
    tauri_build::build();
}

/// Hands `symbol-order.txt` (written by `cargo xtask symbol-order`) to the linker for the `auren-app`
/// binary: the functions a session runs come first and together. The kernel maps code in 64 KiB windows
/// around each page a program touches, and fat LTO scattered those functions over all 12.7 MB of text, so
/// nearly all of it was resident; ordered, the app process holds ~5.7 MB less (README). Only where the
/// linker is lld, as rustc's default on x86_64 Linux is since 1.90 (the workspace's minimum): GNU ld has no
/// such option (nor mold the second one), so a build that picks another linker, or sets
/// `AUREN_SYMBOL_ORDER=off`, links unordered.
/// Names lld does not find (another toolchain, other crate versions, a debug build) are skipped silently.
fn link_in_symbol_order() {
    println!("cargo:rerun-if-changed=symbol-order.txt");
    println!("cargo:rerun-if-env-changed=AUREN_SYMBOL_ORDER");
    let target = std::env::var("TARGET").unwrap_or_default();
    let off = std::env::var("AUREN_SYMBOL_ORDER").is_ok_and(|v| v == "off");
    let flags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = flags.split('\x1f').any(|flag| {
        (flag.contains("-fuse-ld=") && !flag.contains("-fuse-ld=lld"))
            || flag.contains("link-self-contained=-linker")
            || flag.contains("linker-features=-lld")
    });
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("symbol-order.txt");
    if target != "x86_64-unknown-linux-gnu" || off || other_linker || !file.is_file() {
        return;
    }
    for arg in [
        format!("-Wl,--symbol-ordering-file={}", file.display()),
        "-Wl,--no-warn-symbol-ordering".to_owned(),
    ] {
        println!("cargo:rustc-link-arg-bin=auren-app={arg}");
    }
}

//! The `auren-app` binary: the desktop app (see the crate's lib.rs).
//!
//! On Linux it first gives WebKit's JavaScript engine the memory options below (its small-footprint policy,
//! no JIT). WebKitGTK reads them from the environment (`JSC_<option>`) when its web process starts, and the
//! web process inherits this process's environment, so they are set here, before GTK, WebKit or any other
//! thread exists. wry builds the WebKit context itself, so its memory-pressure settings (a construct-only
//! property) cannot be passed through Tauri; these options are the engine's own and need no WebKit API.

// No console window behind the app on Windows release builds.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

/// Environment variables to set: (name, value).
#[cfg(target_os = "linux")]
type Options = &'static [(&'static str, &'static str)];

/// JavaScriptCore options for the web process, each set only when the environment does not name it
/// already (a user or a test can still choose).
#[cfg(target_os = "linux")]
const ENGINE_MEMORY_OPTIONS: Options = &[
    // The engine's small-footprint ("mini VM") policy, whatever the machine's size: the JavaScript heap
    // grows by at most 1.27× between collections, and WebKit's allocator (libpas) keeps less memory
    // aside; the JIT stays on. The growth factor alone (`JSC_heapGrowthMaxIncrease=0.27`) did not move
    // the figure, so the gain is most likely the allocator's: the Live view's ~30 updates a second free
    // and allocate steadily, and the default allocator kept those pages.
    // Measured (README; `cargo xtask bench desktop` set-up, live hour + 200-message conversation, 9 runs
    // against 7): total PSS 282–322 MB (median 292) instead of 312–322 (317), all of it in the web
    // process; some runs show no gain. The price, with the simulator at 60×: 70 instead of 79 fps
    // (median; one run of nine at 47) and worst frames of 28–105 ms instead of 30–69.
    ("JSC_forceMiniVMMode", "true"),
    // No JIT: JavaScriptCore runs the page in its interpreter (LLInt), with no compiled code and none of the
    // compilers' memory. The app's scripts are light (Solid's updates, uPlot, the markdown of an answer), so
    // the interpreter keeps up, and compiling them cost more than it saved. Measured on the dist build (README,
    // 2026-12-05; live hour + 200-message conversation, alternated): total PSS 259–270 MB instead of 280–290,
    // all of it in the web process; its CPU time over the run 22–23 s instead of 25–26 s; frame rate 82–84
    // fps (85–88 with the JIT), first token on screen unchanged.
    ("JSC_useJIT", "false"),
];

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    engine_memory_options();
    match auren_app::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auren: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Sets the options [`engine_memory_options_for`] picks. GLib's setenv: the workspace forbids the unsafe
/// std one, and no other thread runs yet.
#[cfg(target_os = "linux")]
fn engine_memory_options() {
    for (name, value) in engine_memory_options_for(auren_app::WebviewProfile::from_env()) {
        // `false`: a value already in the environment wins.
        if let Err(error) = webkit2gtk::glib::setenv(name, value, false) {
            eprintln!("auren: could not set {name}: {error}");
        }
    }
}

/// [`ENGINE_MEMORY_OPTIONS`], or none for the `Default` webview profile (`AUREN_WEBVIEW=default`: WebKit's
/// own settings, so the bench can measure WebKit's defaults with none of the app's levers).
#[cfg(target_os = "linux")]
fn engine_memory_options_for(profile: auren_app::WebviewProfile) -> Options {
    match profile {
        auren_app::WebviewProfile::Default => &[],
        auren_app::WebviewProfile::Lean => ENGINE_MEMORY_OPTIONS,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_engine_options_are_set_unless_webkit_defaults_are_asked_for() {
        let mini: Options = &[("JSC_forceMiniVMMode", "true"), ("JSC_useJIT", "false")];
        let cases: [(Option<&str>, Options); 4] = [
            (None, mini),
            (Some("lean"), mini),
            (Some(""), mini),
            (Some("default"), &[]),
        ];
        for (webview, want) in cases {
            let profile = auren_app::WebviewProfile::named(webview);
            assert_eq!(engine_memory_options_for(profile), want, "{webview:?}");
        }
    }
}

//! The `auren-app` binary: the desktop app (see the crate's lib.rs).
//!
//! On Linux it first sets the environment WebKit reads when its processes start, before GTK, WebKit or any
//! other thread exists (the web process inherits this process's environment): its JavaScript engine's memory
//! options (small-footprint policy, no JIT), glibc's allocator thresholds for WebKit's processes, and, when
//! WebKit is to draw the page without its DMA-BUF renderer, no OpenGL in the app process (see
//! [`NO_GL_OPTIONS`]). wry builds the WebKit context itself, so its memory-pressure settings (a
//! construct-only property) cannot be passed through Tauri; these options need no WebKit API.

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

/// glibc's allocator for WebKit's processes (they start after this is set; this process has read its own
/// tunables already): blocks of 128 KiB and more are mapped and returned to the system as each is freed,
/// the heap's free top is given back from 128 KiB, and two arenas serve all threads. glibc's default raises
/// the mapping threshold to the largest block freed so far (up to 32 MiB), so the web process's painting and
/// layout buffers came from a heap that kept them after the live view had churned through them. Measured
/// with the bench (`cargo xtask bench desktop`, live hour + 200-message conversation, alternated runs; the
/// variable there reached the app process too, ~2 MB of the gain): total PSS 230 and 235 MB against 236,
/// 242, 243 and 255 without, the web process 136–141 MB against 141–159; 74–80 fps against 74–82 under the
/// bench's 60× simulator. Round five's machine had shown −4 MB for −5 fps, and it was not kept then; it
/// now gives the < 250 MB goal its margin, and the frame rate stays far above 60.
#[cfg(target_os = "linux")]
const ALLOCATOR_OPTIONS: Options = &[(
    "GLIBC_TUNABLES",
    "glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=2",
)];

/// The app process's GL when WebKit draws the page non-composited ([`PagePainting::NonComposited`]):
/// none. WebKitGTK 2.50 then paints on the CPU in the web process and hands this process plain
/// shared-memory images, so nothing here draws with OpenGL. Yet WebKit opens an EGL display here to ask
/// which DRM render node the web process should use, and GTK opens its own GL: with Mesa's software driver
/// (a machine without a GPU, a VM, Xvfb) each maps Mesa's libLLVM, 8 MB of it relocations private to the
/// process. Naming the render node (none: /dev/null is no DRM device, so the web process takes the
/// surfaceless EGL display it takes on a machine without one) and turning GDK's GL off leave this process
/// without GL. Measured on WebKitGTK's own MiniBrowser (Xvfb, `WEBKIT_DISABLE_DMABUF_RENDERER=1`, two runs
/// each): the browser process 76 → 51–53 MB PSS, the web process 84 → 91 (it now carries libLLVM's shared
/// pages alone), total 189 → 172 MB; either variable alone changes nothing. The page renders the same. In
/// the app under the bench: auren-app 93 → 69 MB PSS in every run, about −12 MB in total (README, round ten).
#[cfg(target_os = "linux")]
const NO_GL_OPTIONS: Options = &[
    ("GDK_GL", "disable"),
    ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"),
];

/// How WebKitGTK will draw the page, as it decides from `WEBKIT_DISABLE_DMABUF_RENDERER`.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PagePainting {
    /// The DMA-BUF renderer, WebKit's default: this process composites the web process's GPU buffers.
    DmaBuf,
    /// The DMA-BUF renderer switched off (the variable set to anything but "0", which is how WebKit reads
    /// it): non-composited, painted on the CPU. Under Xvfb, in VMs, and wherever a user or a launcher turned
    /// the renderer off for a driver that mishandles it.
    NonComposited,
}

#[cfg(target_os = "linux")]
impl PagePainting {
    fn from_env() -> Self {
        Self::named(std::env::var("WEBKIT_DISABLE_DMABUF_RENDERER").ok().as_deref())
    }

    /// The painting a `WEBKIT_DISABLE_DMABUF_RENDERER` value (or none) selects. A value that is not UTF-8
    /// counts as none: the GL stays, which is always safe.
    fn named(disable_dmabuf_renderer: Option<&str>) -> Self {
        match disable_dmabuf_renderer {
            Some(value) if value != "0" => Self::NonComposited,
            _ => Self::DmaBuf,
        }
    }
}

fn main() -> std::process::ExitCode {
    #[cfg(target_os = "linux")]
    webkit_environment();
    match auren_app::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("auren: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Sets the variables [`webkit_environment_for`] picks. GLib's setenv: the workspace forbids the unsafe std
/// one, and no other thread runs yet.
#[cfg(target_os = "linux")]
fn webkit_environment() {
    let options = webkit_environment_for(auren_app::WebviewProfile::from_env(), PagePainting::from_env());
    for (name, value) in options {
        // `false`: a value already in the environment wins.
        if let Err(error) = webkit2gtk::glib::setenv(name, value, false) {
            eprintln!("auren: could not set {name}: {error}");
        }
    }
}

/// [`ENGINE_MEMORY_OPTIONS`] and [`ALLOCATOR_OPTIONS`], and [`NO_GL_OPTIONS`] when the page is painted
/// non-composited; none for the `Default` webview profile (`AUREN_WEBVIEW=default`: WebKit's own settings,
/// so the bench can measure WebKit's defaults with none of the app's levers).
#[cfg(target_os = "linux")]
fn webkit_environment_for(
    profile: auren_app::WebviewProfile,
    painting: PagePainting,
) -> Vec<(&'static str, &'static str)> {
    match (profile, painting) {
        (auren_app::WebviewProfile::Default, _) => Vec::new(),
        (auren_app::WebviewProfile::Lean, PagePainting::DmaBuf) => {
            [ENGINE_MEMORY_OPTIONS, ALLOCATOR_OPTIONS].concat()
        }
        (auren_app::WebviewProfile::Lean, PagePainting::NonComposited) => {
            [ENGINE_MEMORY_OPTIONS, ALLOCATOR_OPTIONS, NO_GL_OPTIONS].concat()
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_engine_and_allocator_options_are_set_unless_webkit_defaults_are_asked_for() {
        let mini = vec![
            ("JSC_forceMiniVMMode", "true"),
            ("JSC_useJIT", "false"),
            ALLOCATOR_OPTIONS[0],
        ];
        let cases = [
            (None, mini.clone()),
            (Some("lean"), mini.clone()),
            (Some(""), mini),
            (Some("default"), vec![]),
        ];
        for (webview, want) in cases {
            let profile = auren_app::WebviewProfile::named(webview);
            assert_eq!(
                webkit_environment_for(profile, PagePainting::DmaBuf),
                want,
                "{webview:?}"
            );
        }
    }

    #[test]
    fn the_app_process_drops_gl_only_when_webkit_paints_without_dma_buf() {
        // WebKit reads the variable as "off unless unset or 0"; an empty value switches the renderer off too.
        let cases = [
            (None, PagePainting::DmaBuf),
            (Some("0"), PagePainting::DmaBuf),
            (Some("1"), PagePainting::NonComposited),
            (Some(""), PagePainting::NonComposited),
            (Some("true"), PagePainting::NonComposited),
        ];
        for (value, want) in cases {
            assert_eq!(PagePainting::named(value), want, "{value:?}");
        }
        let no_gl = |options: &[(&str, &str)]| {
            options.contains(&("GDK_GL", "disable"))
                && options.contains(&("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"))
        };
        let lean = auren_app::WebviewProfile::Lean;
        let non_composited = webkit_environment_for(lean, PagePainting::NonComposited);
        assert!(no_gl(&non_composited), "{non_composited:?}");
        assert!(non_composited.contains(&("JSC_useJIT", "false")));
        let dma_buf = webkit_environment_for(lean, PagePainting::DmaBuf);
        assert!(
            dma_buf
                .iter()
                .all(|(name, _)| !["GDK_GL", "WEBKIT_WEB_RENDER_DEVICE_FILE"].contains(name)),
            "{dma_buf:?}"
        );
        let default = auren_app::WebviewProfile::Default;
        assert!(webkit_environment_for(default, PagePainting::NonComposited).is_empty());
    }
}

//! WebKitGTK tuned for what Auren's window is: one local single-page app, no web browsing. The web process
//! is most of the app's memory (round one: 479–549 MB RSS with a live session), so the caches a browser
//! keeps for back/forward navigation and re-visits are turned down, and features the app never uses (WebGL,
//! audio and video, WebSQL, the offline app cache, DNS prefetching, site quirks) are switched off, and the
//! charts' 2D canvases are drawn on the CPU (GPU canvases, WebKitGTK's default since 2.46, give each canvas
//! a GL surface; the app's small charts gain nothing from the GPU). Measured with a live session and a
//! 200-message conversation, the profile's effect is within the run-to-run spread of the web process
//! (329 vs 372 MB PSS in one run, 362 vs 359 MB in the next): these levers are not where the memory is.
//! What did pay is the JavaScript engine's small-footprint policy, set from the environment in main.rs
//! (the web process reads it when it starts). `AUREN_WEBVIEW=default` keeps WebKit's own settings, and
//! main.rs then leaves the engine's alone too, so `cargo xtask bench desktop` can measure both.

/// Which settings the webview runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebviewProfile {
    /// WebKit's defaults (a web browser's).
    Default,
    /// The single-page-app profile described above.
    Lean,
}

impl WebviewProfile {
    /// `AUREN_WEBVIEW=default` selects WebKit's defaults; anything else the lean profile.
    pub fn from_env() -> Self {
        Self::named(std::env::var("AUREN_WEBVIEW").ok().as_deref())
    }

    /// The profile an `AUREN_WEBVIEW` value names: `default`, or the lean one for anything else or none.
    pub fn named(value: Option<&str>) -> Self {
        match value {
            Some("default") => Self::Default,
            _ => Self::Lean,
        }
    }
}

/// Applies `profile` to the main window's webview (Linux only; other platforms keep their engine's defaults).
pub fn apply(app: &tauri::App, profile: WebviewProfile) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use tauri::Manager as _;
    if profile == WebviewProfile::Default {
        return Ok(());
    }
    let window = app
        .get_webview_window("main")
        .context("finding the main window")?;
    window
        .with_webview(|platform| lean(&platform))
        .context("reaching the webview")?;
    tracing::info!(?profile, "webview profile applied");
    Ok(())
}

#[cfg(target_os = "linux")]
fn lean(platform: &tauri::webview::PlatformWebview) {
    use webkit2gtk::{CacheModel, SettingsExt as _, WebContextExt as _, WebViewExt as _};
    let view = platform.inner();
    if let Some(context) = view.context() {
        // A document viewer keeps no page cache and the smallest memory cache: every page is local.
        context.set_cache_model(CacheModel::DocumentViewer);
    }
    if let Some(settings) = view.settings() {
        settings.set_enable_page_cache(false);
        settings.set_enable_webgl(false);
        settings.set_enable_webaudio(false);
        settings.set_enable_media(false);
        settings.set_enable_mediasource(false);
        settings.set_enable_media_stream(false);
        settings.set_enable_encrypted_media(false);
        settings.set_enable_media_capabilities(false);
        settings.set_enable_html5_database(false);
        settings.set_enable_offline_web_application_cache(false);
        settings.set_enable_dns_prefetching(false);
        settings.set_enable_site_specific_quirks(false);
        settings.set_enable_back_forward_navigation_gestures(false);
        set_if_known(&settings, "enable-2d-canvas-acceleration", false);
    }
}

/// Sets a boolean WebKit setting by property name, when this WebKitGTK has it: the Rust bindings stop at
/// 2.40, and setting a property the runtime lacks would abort.
#[cfg(target_os = "linux")]
fn set_if_known(settings: &webkit2gtk::Settings, name: &str, value: bool) {
    use webkit2gtk::glib::{StaticType as _, prelude::ObjectExt as _};
    match settings.find_property(name) {
        Some(spec) if spec.value_type() == bool::static_type() => settings.set_property(name, value),
        _ => tracing::info!(name, "this WebKitGTK has no such setting; left as it is"),
    }
}

#[cfg(not(target_os = "linux"))]
fn lean(_platform: &tauri::webview::PlatformWebview) {}

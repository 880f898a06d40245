//! The embedded DejaVu Sans fonts, registered once with plotters (its font table is process-global).
//!
//! Embedding them means no system font lookup: the report looks the same on every machine, and text
//! cannot fail for want of a font. Licence: fonts/LICENSE-DejaVu.txt.

use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The family name the drawing code asks for.
pub const FAMILY: &str = "sans-serif";

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the fonts on first use; later calls return the first outcome.
pub fn ensure_registered() -> Result<(), String> {
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, REGULAR)
                .map_err(|_| "the embedded DejaVuSans.ttf is not a valid font".to_owned())?;
            register_font(FAMILY, FontStyle::Bold, BOLD)
                .map_err(|_| "the embedded DejaVuSans-Bold.ttf is not a valid font".to_owned())
        })
        .clone()
}

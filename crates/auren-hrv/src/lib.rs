//! Heart-rate variability from a beat series: the science core of Auren.
//!
//! Pure: no I/O, no async, no clock. Callers pass RR intervals in milliseconds and, for live
//! windows, the beat times; everything here is a function of its inputs.
//!
//! Layout:
//! - `metric`: [`Metric`], a value or the [`Absent`] reason it could not be computed.
//! - `time_domain`, `frequency` (spline, smoothness-priors detrend, Welch, Lomb–Scargle, AR),
//!   `nonlinear` (Poincaré, SampEn, ApEn, DFA), `geometric` (triangular index, TINN, Baevsky):
//!   the metric families, exactly as `tests/data/reference/README.md` fixes the pipeline.
//! - `panel`: the full metric panel of one recording, keyed by the reference names.
//! - `settings`: every choice a panel is computed with — the reference pipeline or Kubios's
//!   definitions — and its description for output that says how a result was made.
//! - `autonomic`: Kubios's PNS and SNS indices against Nunan et al. (2010)'s normal values.
//! - `artifacts`: Lipponen & Tarvainen (2019) detection and correction; raw series kept.
//! - `rolling`: per-beat O(1) windows for live sessions (HR, RMSSD, SDNN, pNN50) and DFA α1 on demand.
//! - `readiness`: the HRV4Training morning-readiness method.

pub mod artifacts;
pub mod autonomic;
pub mod frequency;
pub mod geometric;
pub mod metric;
pub mod nonlinear;
pub mod panel;
pub mod readiness;
pub mod rolling;
pub mod settings;
pub mod sweep;
pub mod time_domain;

pub use metric::{Absent, Metric};

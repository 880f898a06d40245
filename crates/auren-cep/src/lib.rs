//! Embedded complex-event processing for Auren: user-editable TOML rules evaluated over beats,
//! heart rate, HRV metrics, contact/link changes, sessions and tags.
//!
//! Pure: no I/O, no async, no clock. Time comes with each event and with [`Detector::tick`].
//! Rules are parsed and compiled once ([`compile`]); per event the detector only pushes values
//! into shared sliding windows and runs small stack programs, allocating nothing unless a rule
//! fires. The language is documented in `RULES.md`.
//!
//! ```
//! use auren_cep::{Baselines, DEFAULT_RULES, Detector, Event, EventKind, SessionKind, compile};
//!
//! let rules = compile(DEFAULT_RULES)?;
//! let mut detector = Detector::new(&rules, Baselines::new());
//! let mut alerts = Vec::new();
//! let start = EventKind::SessionStart { kind: SessionKind::Rest };
//! detector.on_event(&Event::new(0, start), &mut alerts);
//! detector.on_event(&Event::new(0, EventKind::Beat { rr_ms: 980.0, artifact: None }), &mut alerts);
//! // Nothing arrives for 12 s; the caller ticks once a second.
//! for t in 1..=12 {
//!     detector.tick(t * 1_000, &mut alerts);
//! }
//! assert_eq!(alerts.len(), 1);
//! assert_eq!(alerts[0].rule, "signal_lost");
//! assert_eq!(alerts[0].message, "No heartbeat for 11 s");
//! # Ok::<(), auren_cep::RuleError>(())
//! ```
//!
//! Layout:
//! - `event`: [`Event`], [`EventKind`], [`Metrics`] and [`MetricField`], [`SessionKind`],
//!   [`Baselines`] and [`BaselineField`].
//! - `expr`: tokens and the hand-written parser of expressions; durations.
//! - `field`: every value rules read, resolved to a fixed slot.
//! - `program`: type checking and compilation to stack programs; three-valued evaluation.
//! - `window`: [`window::SlidingWindow`], O(1) amortised time windows (avg, sum, min, max,
//!   count, stddev, rate, delta).
//! - `template`: `{expression:.N}` message templates.
//! - `rules`: the TOML schema, [`compile`] and [`check`] (every problem), [`RuleSet`], [`Severity`].
//! - `detector`: [`Detector`], [`Alert`], [`Evidence`]: `for`, sequences, absence, cooldowns.
//! - `error`: [`RuleError`] with rule, line and column.
//! - `labeller`: [`labeller::Labeller`], the online Lipponen & Tarvainen artifact labeller with its lag.
//! - `feed`: [`feed::RuleFeed`], beats → labels → windows → these rules, shared by the desktop's live
//!   pipeline and the server's consumer.
//! - `baseline`: [`baseline::morning_baselines`], the rules' baselines from morning readings (desktop and
//!   server alike).

pub mod baseline;
mod detector;
mod error;
mod event;
mod expr;
pub mod feed;
mod field;
pub mod labeller;
mod program;
mod rules;
mod template;
pub mod window;

pub use detector::{Alert, Detector, Evidence};
pub use error::{ErrorKind, RuleError, SequenceKey, StepValue, ValueType};
pub use event::{BaselineField, Baselines, Event, EventKind, MetricField, Metrics, SessionKind};
pub use rules::{RuleInfo, RuleSet, Severity, check, compile};

/// The rules Auren ships with: in-session CNS fatigue, aerobic threshold, HR ceiling, signal
/// and contact loss, artifact bursts, sympathetic surges and slow HR recovery.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

//! Integration tests of auren-cep: the rule language, the default rules and the detector.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod default_rules;
mod evidence;
mod feed_values;
mod labeller_oracle;
mod language;
mod schema;
mod semantics;
mod support;
mod windows;

//! Integration tests of auren-cep: the rule language, the default rules and the detector.

mod default_rules;
mod evidence;
mod language;
mod schema;
mod semantics;
mod support;
mod windows;

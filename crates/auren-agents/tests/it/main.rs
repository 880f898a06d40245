//! Integration tests of auren-agents: one binary.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

mod athletes;
mod coach;
mod coach_config;
mod coach_rig;
mod fixture;
mod grounding;
mod hypotheses;
mod intent;
mod offline;
mod offline_reach;
mod panels;
mod proactive;
mod quirks;
mod redflag;
mod redflag_props;
mod refresh;
mod routing;
mod schema;
mod stats;
mod tools;
mod trend;
mod usage;

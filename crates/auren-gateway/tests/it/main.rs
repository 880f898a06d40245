//! Integration tests of auren-gateway against auren-fake-llm over real loopback HTTP (one test binary).

mod budget;
mod config;
mod resilience;
mod secrets;
mod support;
mod usage;
mod wire;

//! Integration tests of auren-agents: one binary.

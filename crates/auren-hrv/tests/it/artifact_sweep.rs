//! artifact_sweep tests (being written).

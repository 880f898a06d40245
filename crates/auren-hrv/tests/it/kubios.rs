//! kubios tests (being written).

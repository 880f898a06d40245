//! windows tests.

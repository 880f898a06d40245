//! The sync client: pushes the local outbox in order, pulls everything newer than the device's cursor,
//! retries on a timer with backoff and jitter, and keeps the account's tokens.

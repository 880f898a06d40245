//! The sync server (axum): accounts, devices and coach grants; push and pull over PostgreSQL with row-level
//! security; Redis rate limits, caches and long-poll wake-ups; a Kafka outbox relay and the server-side CEP
//! consumer.

-- Where each consumer group of the server-side CEP consumer has read `auren.beats` to (issue 13): the next
-- offset per partition that a new term must read from (the first chunk of the oldest session still open
-- there, or past the last message read). The consumer reads by assignment, not through a Kafka consumer
-- group, so the broker keeps no offsets for it; the group's leader (a PostgreSQL advisory lock per group,
-- see crates/auren-server/src/kafka/consumer.rs) writes these on its lock's connection. Not a user table: it
-- holds no one's rows, and the app role has no privilege on it (the consumer runs on the owner's pool).
CREATE TABLE consumer_offsets (
    consumer_group text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL CHECK (partition >= 0),
    next_offset bigint NOT NULL CHECK (next_offset >= 0),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer_group, topic, partition)
);

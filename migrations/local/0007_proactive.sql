-- Proactive messages: the one message the coach writes on its own after a trigger (a CNS-fatigue alert, a
-- morning below the normal range). `trigger_key` ("alert:42", "morning:2026-12-04") makes it one message per
-- trigger, for good: the row stays when the person deletes the conversation, so deleting it does not bring the
-- message back after the next session.

CREATE TABLE proactive_messages (
    trigger_key     TEXT    PRIMARY KEY,
    conversation_id INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

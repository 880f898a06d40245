-- Conversations with the coach: messages (with edit-and-resend branches), the steps of each turn, the receipts
-- the tools computed, the claims of each answer, per-message usage and cost, and full-text search over messages.
--
-- Times are Unix milliseconds (INTEGER). Every table is STRICT.

CREATE TABLE conversations (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL CHECK (updated_at >= created_at)
) STRICT;

CREATE INDEX conversations_by_update ON conversations (updated_at);

-- `parent_id` is the message this one answers or follows; two messages with one parent are branches (a question
-- edited and sent again). The root messages of a conversation have no parent. `tokens_*`, `cost_usd`,
-- `cost_estimated` and `model_calls` are all NULL (a person's message) or all set (an answer).
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    parent_id       INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    specialist      TEXT,
    model           TEXT,
    text            TEXT    NOT NULL,
    tokens_in       INTEGER CHECK (tokens_in >= 0),
    tokens_out      INTEGER CHECK (tokens_out >= 0),
    cost_usd        REAL    CHECK (cost_usd >= 0),
    cost_estimated  INTEGER CHECK (cost_estimated IN (0, 1)),
    model_calls     INTEGER CHECK (model_calls >= 0),
    offline         INTEGER NOT NULL CHECK (offline IN (0, 1)),
    created_at      INTEGER NOT NULL,
    CHECK ((tokens_in IS NULL) = (tokens_out IS NULL)
       AND (tokens_in IS NULL) = (cost_usd IS NULL)
       AND (tokens_in IS NULL) = (cost_estimated IS NULL)
       AND (tokens_in IS NULL) = (model_calls IS NULL))
) STRICT;

CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_by_parent ON messages (parent_id);

-- Steps and receipts keep their rowid (no WITHOUT ROWID) so forgetting can rewrite any JSON that quotes a
-- forgotten memory by one key.
-- What happened inside a turn, in order: routing, handoffs, tool calls and results, the exact requests sent.
CREATE TABLE steps (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    kind       TEXT    NOT NULL CHECK (length(kind) > 0),
    payload    TEXT    NOT NULL CHECK (json_valid(payload)),
    at         INTEGER NOT NULL,
    PRIMARY KEY (message_id, seq)
) STRICT;

-- A tool's record of one computation (the agents' `Receipt` as JSON), cited by messages and claims.
CREATE TABLE receipts (
    id         TEXT    PRIMARY KEY NOT NULL,
    body       TEXT    NOT NULL CHECK (json_valid(body)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE message_receipts (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    receipt_id TEXT    NOT NULL REFERENCES receipts (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, receipt_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX message_receipts_by_receipt ON message_receipts (receipt_id);

-- Each measured quantity stated in an answer; a grounded one names the receipt that vouches for it.
CREATE TABLE claims (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    text       TEXT    NOT NULL,
    value      REAL    NOT NULL,
    unit       TEXT    NOT NULL,
    grounded   INTEGER NOT NULL CHECK (grounded IN (0, 1)),
    receipt_id TEXT    REFERENCES receipts (id) ON DELETE SET NULL,
    PRIMARY KEY (message_id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX claims_by_receipt ON claims (receipt_id) WHERE receipt_id IS NOT NULL;

-- Full-text search over message text: an external-content FTS5 index kept in step by triggers, so the text is
-- stored once (snippets read it from `messages`). Porter stemming: "sleeping" finds "sleep".
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- FTS5's own secure-delete: a deleted or rewritten message's old terms leave the index at once.
INSERT INTO messages_fts (messages_fts, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

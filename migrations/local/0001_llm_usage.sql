-- One row per LLM call made through auren-gateway: tokens, cost and where it went.
-- Costs are whole picodollars (10^-12 USD) so sums are exact; NULL cost means the model has no known price.
CREATE TABLE llm_usage (
    id                  INTEGER PRIMARY KEY,
    at_ms               INTEGER NOT NULL,              -- Unix milliseconds (UTC)
    day                 TEXT    NOT NULL,              -- UTC calendar day, YYYY-MM-DD
    provider            TEXT    NOT NULL,
    model               TEXT    NOT NULL,
    conversation        TEXT,
    input_tokens        INTEGER NOT NULL CHECK (input_tokens >= 0),
    cached_input_tokens INTEGER NOT NULL CHECK (cached_input_tokens >= 0),
    output_tokens       INTEGER NOT NULL CHECK (output_tokens >= 0),
    estimated           INTEGER NOT NULL CHECK (estimated IN (0, 1)),
    cost_picodollars    INTEGER
) STRICT;

CREATE INDEX llm_usage_by_time ON llm_usage (at_ms);
CREATE INDEX llm_usage_by_conversation ON llm_usage (conversation) WHERE conversation IS NOT NULL;

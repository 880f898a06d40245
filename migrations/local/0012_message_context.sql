-- A stored answer keeps how full the model's context was: the last model call's input tokens
-- (`context_tokens`) and the model's context window in tokens (`context_window`, when the gateway knew it), so
-- the chat shows "ctx 3.1k / 128k" after a reload as it did live. Both NULL for a person's message, an offline
-- answer and every answer stored before this migration (the figure was never kept: it is not made up now).
-- Each CHECK says IS NULL first: a person's message has no tokens_in, and `NULL AND FALSE` is FALSE.
ALTER TABLE messages ADD COLUMN context_tokens INTEGER CHECK (context_tokens IS NULL OR (context_tokens > 0 AND tokens_in IS NOT NULL));
ALTER TABLE messages ADD COLUMN context_window INTEGER CHECK (context_window IS NULL OR (context_window > 0 AND context_tokens IS NOT NULL));

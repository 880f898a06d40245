-- Bounds newer_type_rows (review S4): a device can send a row of a newer type late only if it held it back,
-- and it holds rows back only until a server first answers it with the list of accepted types. So each
-- device's mark at that first answer is kept here, and only rows at or below it are recorded in, or looked
-- up in, newer_type_rows: rows after it were sent in order by a device that knew the list.
-- NULL: no server with the list has answered this device yet (set at its next push). A device that exists
-- now gets its present mark: any of its rows held back so far is at or below it.
ALTER TABLE devices ADD COLUMN listed_from bigint;
UPDATE devices SET listed_from = last_applied_outbox_id;

-- Rows of change types added within protocol version 1 (today `signals`) that a device pushed, by outbox id
-- (issue 13.11). A device holds such rows back while its server does not list their type in the push answer
-- (an older server refused them as unknown, and the device parked them for good) and sends them once it does —
-- by then usually at or below the device's last applied outbox id, where the server skips rows as repeats. So
-- the server records here every row of such a type it has taken from a device (accepted or refused), and takes
-- one at or below the mark only when it is not recorded: each is applied once, and a retry is skipped as before.
-- Rows of these types pushed before this table existed are not recorded; one sent again is applied again,
-- which changes no data (its batch is stored under its natural key and merged, adding nothing).
CREATE TABLE newer_type_rows (
    user_id   uuid   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id uuid   NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    outbox_id bigint NOT NULL,
    PRIMARY KEY (device_id, outbox_id)
);

ALTER TABLE newer_type_rows ENABLE ROW LEVEL SECURITY;
CREATE POLICY newer_type_rows_own ON newer_type_rows USING (user_id = (SELECT auren_current_user()));
GRANT SELECT, INSERT ON newer_type_rows TO auren_app;

-- A coach reads an athlete's sessions, beats, alerts, tags, notes and mornings, never the athlete's memories
-- (the cognitive twin: what the person told the coach AI about themselves) or settings. Before memories were
-- pushed at all this made no difference; now the coach's policy on `records` leaves those collections out, so
-- a coach's pull cannot return them whatever the server code asks for.
DROP POLICY records_coach ON records;
CREATE POLICY records_coach ON records FOR SELECT
    USING (user_id IN (SELECT auren_coached_athletes()) AND collection NOT IN ('memory', 'setting'));

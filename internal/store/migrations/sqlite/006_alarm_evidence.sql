-- hsmwatch store, schema 6: what an alarm is made of, kept with it: its id in the state
-- (HOST/KEY where it opened, which a move keeps), its first and latest events (source,
-- rule, time, input) and their count by source, as one JSON object ('' when none).
ALTER TABLE alarms ADD COLUMN evidence TEXT NOT NULL DEFAULT '';

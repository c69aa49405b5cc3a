-- hsmwatch store, schema 5: the alarm an event clears (event.Cleared, "HOST/KEY"; '' when
-- it clears none), so that a stored clear reads back as one.
ALTER TABLE events ADD COLUMN cleared TEXT NOT NULL DEFAULT '';

-- hsmwatch store, schema 4: when each event was stored (ingested, nanoseconds since 1970
-- UTC). Retention by age and by size goes by it, not by the event's own time: a 2012
-- export read today is kept max_age from today. Rows stored before this schema take the
-- time of the migration, so that none is deleted earlier than it would have been.
ALTER TABLE events ADD COLUMN ingested INTEGER NOT NULL DEFAULT 0;
UPDATE events SET ingested = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000;
CREATE INDEX events_site_ingested ON events (site, ingested, id);

-- hsmwatch store, schema 1 (SQLite). Keep in step with postgres/001_init.sql: the same
-- tables, columns and meanings; only the types differ.
--
-- Times are integers, nanoseconds since 1970 UTC (ts, opened, last_seen, cleared): they
-- sort and compare the same way in both dialects. events.time keeps the event's own time
-- as RFC 3339 text with its original offset ('' when the event had none) so that a stored
-- event reads back exactly.

CREATE TABLE events (
	id           INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: cursors stay stable
	site         TEXT    NOT NULL,
	key          TEXT,             -- the record's idempotency key; NULL when it had none
	ts           INTEGER NOT NULL, -- sort key: the event time, or when it was stored
	time         TEXT    NOT NULL,
	host         TEXT    NOT NULL,
	source       TEXT    NOT NULL,
	facility     TEXT    NOT NULL,
	severity     TEXT    NOT NULL,
	process      TEXT    NOT NULL,
	pid          INTEGER NOT NULL,
	message      TEXT    NOT NULL,
	component    TEXT    NOT NULL,
	class        TEXT    NOT NULL,
	rule         TEXT    NOT NULL,
	title        TEXT    NOT NULL,
	level        TEXT    NOT NULL,
	level_rank   INTEGER NOT NULL, -- critical 6 .. debug 1, unknown 0
	notification TEXT    NOT NULL,
	assert       INTEGER,          -- 1 assert, 0 clear, NULL not applicable
	test         INTEGER NOT NULL,
	fields       TEXT,             -- JSON object, keys in the event's order
	input        TEXT    NOT NULL,
	reason       TEXT    NOT NULL,
	raw          TEXT    NOT NULL,
	UNIQUE (site, key)
) STRICT;
CREATE INDEX events_ts ON events (ts, id);
CREATE INDEX events_site_ts ON events (site, ts, id);
CREATE INDEX events_host_ts ON events (host, ts, id);
CREATE INDEX events_site_host_level ON events (site, host, level, ts);

CREATE TABLE alarms (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	site         TEXT    NOT NULL,
	host         TEXT    NOT NULL,
	key          TEXT    NOT NULL,
	rule         TEXT    NOT NULL,
	title        TEXT    NOT NULL,
	component    TEXT    NOT NULL,
	level        TEXT    NOT NULL,
	notification TEXT    NOT NULL,
	message      TEXT    NOT NULL,
	input        TEXT    NOT NULL,
	opened       INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	asserts      INTEGER NOT NULL,
	flapping     INTEGER NOT NULL,
	cleared      INTEGER,          -- NULL while open
	cleared_by   TEXT    NOT NULL,
	UNIQUE (site, host, key, opened)
) STRICT;
-- At most one open alarm per site, host and key.
CREATE UNIQUE INDEX alarms_open ON alarms (site, host, key) WHERE cleared IS NULL;
CREATE INDEX alarms_site_last_seen ON alarms (site, last_seen);

CREATE TABLE samples (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	site   TEXT    NOT NULL,
	host   TEXT    NOT NULL,
	metric TEXT    NOT NULL,
	labels TEXT    NOT NULL, -- JSON object with sorted keys, '{}' when none
	value  REAL    NOT NULL,
	ts     INTEGER NOT NULL
) STRICT;
CREATE INDEX samples_site_ts ON samples (site, ts, id);
CREATE INDEX samples_series ON samples (site, host, metric, ts);

-- The latest value of each series, kept on write so that the HSM overview does not scan
-- the history. Retention leaves it alone: it holds one row per series.
CREATE TABLE samples_latest (
	site   TEXT    NOT NULL,
	host   TEXT    NOT NULL,
	metric TEXT    NOT NULL,
	labels TEXT    NOT NULL,
	value  REAL    NOT NULL,
	ts     INTEGER NOT NULL,
	PRIMARY KEY (site, host, metric, labels)
) STRICT;

-- hsmwatch store, schema 1 (PostgreSQL). Keep in step with sqlite/001_init.sql: the same
-- tables, columns and meanings; only the types differ.
--
-- Times are integers, nanoseconds since 1970 UTC (ts, opened, last_seen, cleared): they
-- sort and compare the same way in both dialects. events.time keeps the event's own time
-- as RFC 3339 text with its original offset ('' when the event had none) so that a stored
-- event reads back exactly.

CREATE TABLE events (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	site         TEXT     NOT NULL,
	key          TEXT,              -- the record's idempotency key; NULL when it had none
	ts           BIGINT   NOT NULL, -- sort key: the event time, or when it was stored
	time         TEXT     NOT NULL,
	host         TEXT     NOT NULL,
	source       TEXT     NOT NULL,
	facility     TEXT     NOT NULL,
	severity     TEXT     NOT NULL,
	process      TEXT     NOT NULL,
	pid          BIGINT   NOT NULL,
	message      TEXT     NOT NULL,
	component    TEXT     NOT NULL,
	class        TEXT     NOT NULL,
	rule         TEXT     NOT NULL,
	title        TEXT     NOT NULL,
	level        TEXT     NOT NULL,
	level_rank   SMALLINT NOT NULL, -- critical 6 .. debug 1, unknown 0
	notification TEXT     NOT NULL,
	assert       BOOLEAN,           -- NULL not applicable
	test         BOOLEAN  NOT NULL,
	fields       JSON,              -- json, not jsonb: keeps the event's key order
	input        TEXT     NOT NULL,
	reason       TEXT     NOT NULL,
	raw          TEXT     NOT NULL,
	CONSTRAINT events_site_key UNIQUE (site, key)
);
CREATE INDEX events_ts ON events (ts, id);
CREATE INDEX events_site_ts ON events (site, ts, id);
CREATE INDEX events_host_ts ON events (host, ts, id);
CREATE INDEX events_site_host_level ON events (site, host, level, ts);

CREATE TABLE alarms (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
	opened       BIGINT  NOT NULL,
	last_seen    BIGINT  NOT NULL,
	asserts      BIGINT  NOT NULL,
	flapping     BOOLEAN NOT NULL,
	cleared      BIGINT,            -- NULL while open
	cleared_by   TEXT    NOT NULL,
	CONSTRAINT alarms_occurrence UNIQUE (site, host, key, opened)
);
-- At most one open alarm per site, host and key.
CREATE UNIQUE INDEX alarms_open ON alarms (site, host, key) WHERE cleared IS NULL;
CREATE INDEX alarms_site_last_seen ON alarms (site, last_seen);

CREATE TABLE samples (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	site   TEXT             NOT NULL,
	host   TEXT             NOT NULL,
	metric TEXT             NOT NULL,
	labels TEXT             NOT NULL, -- JSON object with sorted keys, '{}' when none
	value  DOUBLE PRECISION NOT NULL,
	ts     BIGINT           NOT NULL
);
CREATE INDEX samples_site_ts ON samples (site, ts, id);
CREATE INDEX samples_series ON samples (site, host, metric, ts);

-- The latest value of each series, kept on write so that the HSM overview does not scan
-- the history. Retention leaves it alone: it holds one row per series.
CREATE TABLE samples_latest (
	site   TEXT             NOT NULL,
	host   TEXT             NOT NULL,
	metric TEXT             NOT NULL,
	labels TEXT             NOT NULL,
	value  DOUBLE PRECISION NOT NULL,
	ts     BIGINT           NOT NULL,
	PRIMARY KEY (site, host, metric, labels)
);

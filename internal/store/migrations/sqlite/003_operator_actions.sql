-- hsmwatch store, schema 3 (SQLite): operator actions. Keep in step with
-- postgres/003_operator_actions.sql.
--
-- An alarm acknowledged by an operator stays open: acked_at (nanoseconds since 1970 UTC,
-- NULL while not acknowledged), acked_by and ack_comment say by whom, when and why. An
-- alarm an operator closed by hand (it would never see its clear) has cleared set and
-- cleared_by 'operator' like any other closed alarm, and closed_at, closed_by and
-- close_comment say by whom and why.
ALTER TABLE alarms ADD COLUMN acked_at INTEGER;
ALTER TABLE alarms ADD COLUMN acked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alarms ADD COLUMN ack_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE alarms ADD COLUMN closed_at INTEGER;
ALTER TABLE alarms ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alarms ADD COLUMN close_comment TEXT NOT NULL DEFAULT '';

-- Silences, as Alertmanager's: globs on host, rule and level ('' matches anything; at
-- least one is given) for a time span [starts, ends). Expiring a silence sets ends to the
-- moment it was expired (expired_by says who); rows are kept as a record.
CREATE TABLE silences (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	site       TEXT    NOT NULL,
	host       TEXT    NOT NULL,
	rule       TEXT    NOT NULL,
	level      TEXT    NOT NULL,
	starts     INTEGER NOT NULL,
	ends       INTEGER NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	comment    TEXT    NOT NULL,
	expired_by TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX silences_site_ends ON silences (site, ends);

-- Maintenance windows of the hosts matching a glob: every week on the given weekdays
-- ('mon,tue'; '' for every day), from start ('HH:MM', in the IANA zone) for duration
-- (nanoseconds).
CREATE TABLE maintenance (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	site       TEXT    NOT NULL,
	host       TEXT    NOT NULL,
	weekdays   TEXT    NOT NULL,
	start      TEXT    NOT NULL,
	duration   INTEGER NOT NULL,
	zone       TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	comment    TEXT    NOT NULL
) STRICT;
CREATE INDEX maintenance_site ON maintenance (site);

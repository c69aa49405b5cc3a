-- hsmwatch store, schema 9: the number of events and the newest event time by site, host
-- and level, kept as events come and go, for the fleet's overview (HSMs). Counting them
-- with GROUP BY read the whole (site, host, level, ts) index: 1.7 s on a store of 10 M
-- events, at every load of the dashboard. Write adds the counts of each batch it stores
-- (one upsert per host and level of the batch); the triggers follow deletes (retention)
-- and updates (a host renamed). The index events_site_host_level served only that GROUP
-- BY: without it every insert is one B-tree update cheaper (bench/README.md). A row whose
-- count falls to 0 stays; the overview skips it.
CREATE TABLE event_counts (
	site    TEXT    NOT NULL,
	host    TEXT    NOT NULL,
	level   TEXT    NOT NULL,
	n       INTEGER NOT NULL,
	last_ts INTEGER NOT NULL,
	PRIMARY KEY (site, host, level)
) STRICT, WITHOUT ROWID;
INSERT INTO event_counts (site, host, level, n, last_ts)
	SELECT site, host, level, COUNT(*), MAX(ts) FROM events GROUP BY site, host, level;
CREATE TRIGGER event_counts_delete AFTER DELETE ON events BEGIN
	UPDATE event_counts SET n = n - 1
		WHERE site = OLD.site AND host = OLD.host AND level = OLD.level;
END;
CREATE TRIGGER event_counts_update AFTER UPDATE OF site, host, level ON events BEGIN
	UPDATE event_counts SET n = n - 1
		WHERE site = OLD.site AND host = OLD.host AND level = OLD.level;
	INSERT INTO event_counts (site, host, level, n, last_ts) VALUES (NEW.site, NEW.host, NEW.level, 1, NEW.ts)
		ON CONFLICT (site, host, level) DO UPDATE SET n = n + 1, last_ts = MAX(last_ts, excluded.last_ts);
END;
DROP INDEX events_site_host_level;

-- hsmwatch store, schema 9: the number of events and the newest event time by site, host
-- and level, kept as events come and go, for the fleet's overview (HSMs); see
-- sqlite/009_event_counts.sql. Write adds the counts of each batch; statement triggers
-- with transition tables follow deletes (retention) and updates (a host renamed), one
-- grouped update per statement rather than one per row.
CREATE TABLE event_counts (
	site    text   NOT NULL,
	host    text   NOT NULL,
	level   text   NOT NULL,
	n       bigint NOT NULL,
	last_ts bigint NOT NULL,
	PRIMARY KEY (site, host, level)
);
INSERT INTO event_counts (site, host, level, n, last_ts)
	SELECT site, host, level, COUNT(*), MAX(ts) FROM events GROUP BY site, host, level;
CREATE FUNCTION event_counts_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE event_counts c SET n = c.n - g.k
		FROM (SELECT site, host, level, COUNT(*) AS k FROM gone GROUP BY site, host, level) g
		WHERE c.site = g.site AND c.host = g.host AND c.level = g.level;
	RETURN NULL;
END $$;
CREATE FUNCTION event_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE event_counts c SET n = c.n - g.k
		FROM (SELECT site, host, level, COUNT(*) AS k FROM gone GROUP BY site, host, level) g
		WHERE c.site = g.site AND c.host = g.host AND c.level = g.level;
	INSERT INTO event_counts (site, host, level, n, last_ts)
		SELECT site, host, level, COUNT(*), MAX(ts) FROM came GROUP BY site, host, level
		ON CONFLICT (site, host, level) DO UPDATE
		SET n = event_counts.n + excluded.n, last_ts = GREATEST(event_counts.last_ts, excluded.last_ts);
	RETURN NULL;
END $$;
CREATE TRIGGER event_counts_delete AFTER DELETE ON events
	REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION event_counts_gone();
CREATE TRIGGER event_counts_update AFTER UPDATE ON events
	REFERENCING OLD TABLE AS gone NEW TABLE AS came FOR EACH STATEMENT EXECUTE FUNCTION event_counts_moved();
DROP INDEX events_site_host_level;

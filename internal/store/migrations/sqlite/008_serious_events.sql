-- hsmwatch store, schema 8: the events of level warning or more serious (level_rank >= 3),
-- newest first, in an index of their own. The timeline filtered by a minimum level read
-- every event newest first until it had a page: on a store of millions of events that
-- are mostly info and debug, seconds per page. The index holds only those events, so it
-- costs an insert nothing for the rest; the listing adds the literal condition
-- level_rank >= 3 that lets the planner choose it (query.go).
CREATE INDEX events_serious_ts ON events (ts, id) WHERE level_rank >= 3;

-- hsmwatch store, schema 10: the events that a rule gave a component (ntls, hsm, ipmi,
-- kernel, ...), by component, newest first. The timeline filtered by a component read
-- every event newest first until it had a page: on a store of 10 M events where the
-- component is rare, 22 s per page (bench/README.md). Events without a component (the
-- generic lines no rule knows, most of a collector's traffic) are not in the index, so
-- they cost an insert nothing; the listing adds the literal condition component <> ''
-- that lets the planner choose it (query.go).
CREATE INDEX events_component_ts ON events (component, ts, id) WHERE component <> '';

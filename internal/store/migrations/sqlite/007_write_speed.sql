-- hsmwatch store, schema 7 (SQLite): one index fewer to keep on every insert. A SQLite
-- store is written by one daemon, so all its events (but those of a renamed site) share
-- one site and (site, ts, id) orders them exactly as events_ts (ts, id) does: the event
-- listings of a site read events_ts, skipping the rare rows of another site, and every
-- insert is one B-tree update cheaper (bench/README.md, "Ingest into the store").
DROP INDEX events_site_ts;

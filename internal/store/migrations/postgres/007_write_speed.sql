-- hsmwatch store, schema 7 (PostgreSQL): unchanged. SQLite's schema 7 drops
-- events_site_ts, which a store of one site does not need; a PostgreSQL database is
-- shared by the daemons of several sites, whose listings of one site read it, so it
-- stays. The version exists so that both dialects count the same versions.
SELECT 1;

-- hsmwatch store, schema 2: the history of one host's samples (the dashboard's charts,
-- GET /api/samples?host=) is read by host and time, across sites; samples_series starts
-- with the site and cannot serve it.
CREATE INDEX samples_host_ts ON samples (host, ts, id);

package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestUpgradeFromSchema6: a database written by the hsmwatch before schema 7 (one insert
// per event) opens with this one: the migration applies, the stored events read back,
// a key stored before is still a replay, new events go in, and SQLite's events_site_ts
// is gone while PostgreSQL keeps it.
func TestUpgradeFromSchema6(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "old.db")
		w, err := sql.Open(sqliteDriver, file+"?_txlock=immediate&_journal_mode=WAL")
		if err != nil {
			t.Fatal(err)
		}
		w.SetMaxOpenConns(1)
		b := &sqliteBackend{w: w, r: w}
		testUpgrade(t, b, dialect{name: "sqlite", like: "LIKE", fieldsCol: "fields", listSite: "+site", cleanText: keepText}, "sqlite:"+file, false)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Start(t)
		pool, err := pgxpool.New(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		b := &pgBackend{pool: pool}
		testUpgrade(t, b, dialect{name: "postgres", like: "ILIKE", fieldsCol: "fields::text", listSite: "site", cleanText: pgText}, dsn, true)
	})
}

// oldInsertEventSQL is how schema 6's hsmwatch stored one event.
const oldInsertEventSQL = `INSERT INTO events (site, key, ts, time, host, source, facility, severity,
	process, pid, message, component, class, rule, title, level, level_rank, notification,
	assert, test, fields, input, reason, raw, ingested, cleared)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
	$19, $20, $21, $22, $23, $24, $25, $26)
ON CONFLICT DO NOTHING`

func testUpgrade(t *testing.T, old backend, d dialect, dsn string, keepsSiteTS bool) {
	ctx := context.Background()
	if err := migrateTo(ctx, old, d, "", Options{Logger: testLogger(t)}, 6); err != nil {
		t.Fatal(err)
	}
	evs := mixedEvents(t, 50)
	err := old.write(ctx, func(q querier) error {
		for i := range evs {
			key := "2049:77:ab:" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			if _, err := q.exec(ctx, oldInsertEventSQL, eventArgs(d, "lab", key, &evs[i], base)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := old.close(); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, dsn, "lab")
	var version int64
	readCount(t, st, "SELECT MAX(version) FROM schema_migrations", &version)
	ms, err := loadMigrations(d.name)
	if err != nil {
		t.Fatal(err)
	}
	if version != int64(len(ms)) || version < 8 {
		t.Fatalf("schema version %d after the upgrade, want %d", version, len(ms))
	}
	got := all(t, st, EventFilter{Site: "lab"})
	if len(got) != len(evs) {
		t.Fatalf("%d events read back after the upgrade, want %d", len(got), len(evs))
	}
	byKey := map[string]StoredEvent{}
	for _, se := range got {
		byKey[se.Key] = se
	}
	if se := byKey["2049:77:ab:ba"]; se.Event.Raw != evs[1].Raw || se.Event.Rule != evs[1].Rule {
		t.Errorf("event 1 read back as %+v, want raw %q rule %q", se.Event, evs[1].Raw, evs[1].Rule)
	}
	if replayed := writeKeyed(t, st, "2049:77:ab:ba", "new-1"); !replayed[0] || replayed[1] {
		t.Errorf("after the upgrade: replayed %v, want [true false] (a key stored before is a replay)", replayed)
	}
	if n := len(all(t, st, EventFilter{})); n != len(evs)+1 {
		t.Errorf("%d events after one more, want %d", n, len(evs)+1)
	}
	var idx int64
	if d.name == "sqlite" {
		readCount(t, st, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_site_ts'", &idx)
	} else {
		readCount(t, st, "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'events_site_ts'", &idx)
	}
	if (idx == 1) != keepsSiteTS {
		t.Errorf("%s: events_site_ts present %v after the upgrade, want %v", d.name, idx == 1, keepsSiteTS)
	}
}

// TestSQLiteListingPlans: on schema 7 (no events_site_ts), SQLite's listings of a site
// read an index in the listing's order and stop after the page: none sorts the site's
// events in a temporary B-tree, which on a store of 10 M events takes seconds. A minimum
// level reads events_serious_ts (schema 8), a component events_component_ts (schema 10).
func TestSQLiteListingPlans(t *testing.T) {
	st := openStore(t, "sqlite:"+t.TempDir(), "lab")
	writeKeyed(t, st, "a", "b")
	ctx := context.Background()
	for _, f := range []EventFilter{
		{Site: "lab"},
		{Site: "lab", MinLevel: "major"},
		{MinLevel: "warning"},
		{Site: "lab", Component: "ntls"},
		{Site: "lab", Host: "h"},
		{Site: "lab", Cursor: encodeCursor(base.UnixNano(), 5)},
		{},
	} {
		q, a, _, err := st.eventsSQL(f)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		err = st.db.read(ctx, func(qr querier) error {
			return eachRow(ctx, qr, "EXPLAIN QUERY PLAN "+q, a, func(r rows) error {
				var id, parent, unused int64
				var detail string
				if err := r.Scan(&id, &parent, &unused, &detail); err != nil {
					return err
				}
				plan = append(plan, detail)
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, "; ")
		if strings.Contains(joined, "TEMP B-TREE") || !strings.Contains(joined, "USING INDEX events_") {
			t.Errorf("%+v: plan %q: want an events index read in order, no sort", f, joined)
		}
		if f.MinLevel != "" && f.Host == "" && !strings.Contains(joined, "events_serious_ts") {
			t.Errorf("%+v: plan %q: want events_serious_ts", f, joined)
		}
		if f.Component != "" && !strings.Contains(joined, "events_component_ts") {
			t.Errorf("%+v: plan %q: want events_component_ts", f, joined)
		}
	}
}

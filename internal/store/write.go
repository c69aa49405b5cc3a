package store

import (
	"context"
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Write inserts the batch with a few prepared multi-row statements (SQLite) or a COPY
// (PostgreSQL), inside one transaction; ON CONFLICT DO NOTHING on (site, key) (on
// PostgreSQL, in the INSERT a COPY that met a stored key falls back to) makes a re-read
// record a no-op, which insertEvents reports as not stored, and Write as replayed.
func (s *sqlStore) Write(ctx context.Context, recs []component.Record) ([]bool, error) {
	return s.WriteBatch(ctx, Batch{Records: recs})
}

// WriteBatch stores a pipeline batch in one transaction: one commit (and one fsync) per
// batch, and a batch retried after a failure is retried whole (a batch whose events were
// committed and whose alarms failed would come back as replays, kept from the sinks).
func (s *sqlStore) WriteBatch(ctx context.Context, b Batch) ([]bool, error) {
	if len(b.Records) == 0 && len(b.Renames) == 0 && len(b.Alarms) == 0 {
		return nil, nil // no transaction for nothing
	}
	argLists := make([][]any, len(b.Records))
	now := s.now()
	for i, r := range b.Records {
		if r.Event == nil {
			return nil, fmt.Errorf("store: write: record %d has no event", i)
		}
		argLists[i] = eventArgs(s.d, s.site, r.Key, r.Event, now)
	}
	var inserted []bool
	err := s.db.write(ctx, func(q querier) error {
		if len(argLists) > 0 {
			var err error
			if inserted, err = q.insertEvents(ctx, argLists); err != nil {
				return err
			}
			if err := s.addCounts(ctx, q, argLists, inserted); err != nil {
				return err
			}
		}
		for _, r := range b.Renames {
			if err := s.renameHost(ctx, q, r[0], r[1]); err != nil {
				return err
			}
		}
		return s.putAlarms(ctx, q, b.Alarms)
	})
	if err != nil {
		return nil, fmt.Errorf("store: write %d events, %d renames, %d alarm changes: %w",
			len(b.Records), len(b.Renames), len(b.Alarms), err)
	}
	if len(inserted) == 0 {
		return nil, nil
	}
	replayed := make([]bool, len(inserted))
	for i, ok := range inserted {
		replayed[i] = !ok
	}
	return replayed, nil
}

// countKey is a row of event_counts.
type countKey struct{ site, host, level string }

type countSum struct{ n, last int64 }

// addCounts adds the events a batch stored to event_counts (migrations/*/009): one
// upsert per site, host and level of the batch, in its transaction. The argument lists
// are eventArgs', whose site, ts, host and level it reads.
func (s *sqlStore) addCounts(ctx context.Context, q querier, argLists [][]any, inserted []bool) error {
	sums := map[countKey]countSum{}
	for i, a := range argLists {
		if !inserted[i] {
			continue
		}
		k := countKey{site: a[argSite].(string), host: a[argHost].(string), level: a[argLevel].(string)}
		c := sums[k]
		c.n++
		c.last = max(c.last, a[argTS].(int64))
		sums[k] = c
	}
	if len(sums) == 0 {
		return nil
	}
	lists := make([][]any, 0, len(sums))
	for k, c := range sums {
		lists = append(lists, []any{k.site, k.host, k.level, c.n, c.last})
	}
	_, err := q.execMany(ctx, `INSERT INTO event_counts (site, host, level, n, last_ts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (site, host, level) DO UPDATE
		SET n = event_counts.n + excluded.n, last_ts = `+s.d.greatest+`(event_counts.last_ts, excluded.last_ts)`, lists)
	if err != nil {
		return fmt.Errorf("event counts: %w", err)
	}
	return nil
}

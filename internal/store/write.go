package store

import (
	"context"
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Write inserts the batch with a few prepared multi-row statements (SQLite) or one
// statement of column arrays (PostgreSQL), inside one transaction; ON CONFLICT DO
// NOTHING on (site, key) makes a re-read record a no-op, which the keys the insert
// returns (the rows it stored) report as replayed.
func (s *sqlStore) Write(ctx context.Context, recs []component.Record) ([]bool, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	now := s.now()
	argLists := make([][]any, len(recs))
	for i, r := range recs {
		if r.Event == nil {
			return nil, fmt.Errorf("store: write: record %d has no event", i)
		}
		argLists[i] = eventArgs(s.d, s.site, r.Key, r.Event, now)
	}
	var inserted []bool
	err := s.db.write(ctx, func(q querier) error {
		var err error
		inserted, err = q.insertEvents(ctx, argLists)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: write %d events: %w", len(recs), err)
	}
	replayed := make([]bool, len(recs))
	for i, ok := range inserted {
		replayed[i] = !ok
	}
	return replayed, nil
}

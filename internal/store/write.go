package store

import (
	"context"
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// Write inserts the batch with one prepared statement (SQLite) or one pipelined round trip
// (PostgreSQL), inside one transaction; ON CONFLICT DO NOTHING on (site, key) makes a
// re-read record a no-op, which the rows affected (0) report as replayed.
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
	var affected []int64
	err := s.db.write(ctx, func(q querier) error {
		var err error
		affected, err = q.execMany(ctx, insertEventSQL, argLists)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: write %d events: %w", len(recs), err)
	}
	replayed := make([]bool, len(recs))
	for i, n := range affected {
		replayed[i] = n == 0
	}
	return replayed, nil
}

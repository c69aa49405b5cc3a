package store

import (
	"context"
	"fmt"

	"github.com/hsmwatch/hsmwatch/internal/pipeline"
)

// Write inserts the batch with one prepared statement (SQLite) or one pipelined round trip
// (PostgreSQL), inside one transaction; ON CONFLICT DO NOTHING on (site, key) makes a
// re-read record a no-op.
func (s *sqlStore) Write(ctx context.Context, recs []pipeline.Record) error {
	if len(recs) == 0 {
		return nil
	}
	now := s.now()
	argLists := make([][]any, len(recs))
	for i, r := range recs {
		if r.Event == nil {
			return fmt.Errorf("store: write: record %d has no event", i)
		}
		argLists[i] = eventArgs(s.d, s.site, r.Key, r.Event, now)
	}
	err := s.db.write(ctx, func(q querier) error {
		_, err := q.execMany(ctx, insertEventSQL, argLists)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: write %d events: %w", len(recs), err)
	}
	return nil
}

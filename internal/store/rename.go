package store

import (
	"context"
	"fmt"
)

// renameHostSQL moves this site's event history and sample history from one host name
// to another; the latest samples of the old name go (the new name's are written by its
// next poll). Alarms move through PutAlarms (the state decides them).
var renameHostSQL = []string{
	`UPDATE events SET host = $3 WHERE site = $1 AND host = $2`,
	`UPDATE samples SET host = $3 WHERE site = $1 AND host = $2`,
	`DELETE FROM samples_latest WHERE site = $1 AND host = $2`,
}

// RenameHost makes the HSM known as from (a polled HSM's address) the HSM to (its
// sysName): its stored events and samples are to's from now on, so that one HSM is one
// row of the fleet from its first poll failure to its recovery.
func (s *sqlStore) RenameHost(ctx context.Context, from, to string) error {
	if from == "" || to == "" || from == to {
		return nil
	}
	if err := s.db.write(ctx, func(q querier) error { return s.renameHost(ctx, q, from, to) }); err != nil {
		return fmt.Errorf("store: rename host %s to %s: %w", from, to, err)
	}
	return nil
}

// renameHost runs the rename in a write transaction.
func (s *sqlStore) renameHost(ctx context.Context, q querier, from, to string) error {
	if from == "" || to == "" || from == to {
		return nil
	}
	c := s.d.cleanText
	args := []any{s.site, c(from), c(to)}
	for i, stmt := range renameHostSQL {
		a := args
		if i == len(renameHostSQL)-1 {
			a = args[:2] // the DELETE names no new host
		}
		if _, err := q.execMany(ctx, stmt, [][]any{a}); err != nil {
			return fmt.Errorf("rename host %s to %s: %w", from, to, err)
		}
	}
	return nil
}

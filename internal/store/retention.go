package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// retainChunk is how many rows one delete transaction removes: small enough that the
// writer (SQLite has one) is never held for long, so events keep flowing while a large
// backlog is pruned.
const retainChunk = 5000

// maxSizeRounds bounds the delete-and-measure rounds of retention by size.
const maxSizeRounds = 50

// errSizeUnsupported refuses retention by size on PostgreSQL.
// Retain applies the policy to the store's own site; rows of other sites sharing the
// database are never touched, nor are open alarms and their evidence. Events go by
// when they were stored (ingested), not by their own time. Deletes run in chunks of their own
// transactions, oldest rows (by time, then id) first.
func (s *sqlStore) Retain(ctx context.Context, r Retention, now time.Time) (Pruned, error) {
	var p Pruned
	if r.MaxAge < 0 || r.MaxEvents < 0 || r.MaxSamples < 0 || r.MaxBytes < 0 {
		return p, fmt.Errorf("%w: negative retention limit", ErrBadFilter)
	}
	if r.MaxBytes > 0 && s.usedBytes == nil {
		return p, errors.New("store: this backend cannot measure its size: retention by size is not available")
	}
	err := s.retain(ctx, r, now, &p)
	if p != (Pruned{}) {
		s.opts.Logger.Info("store: retention", "site", s.site, "events", p.Events,
			"samples", p.Samples, "alarms", p.Alarms)
		if s.compact != nil && err == nil {
			err = s.compact(ctx)
		}
	}
	if err != nil {
		return p, fmt.Errorf("store: retention: %w", err)
	}
	return p, nil
}

func (s *sqlStore) retain(ctx context.Context, r Retention, now time.Time, p *Pruned) error {
	if r.MaxAge > 0 {
		cut := unixNano(now.Add(-r.MaxAge))
		n, err := s.deleteBefore(ctx, "events", cut) // by ingest time, evidence kept
		p.Events += n
		if err != nil {
			return err
		}
		n, err = s.deleteBefore(ctx, "samples", cut)
		p.Samples += n
		if err != nil {
			return err
		}
		err = s.db.write(ctx, func(q querier) error {
			n, err := q.exec(ctx, `DELETE FROM alarms WHERE site = $1 AND cleared IS NOT NULL AND cleared < $2`, s.site, cut)
			p.Alarms += n
			return err
		})
		if err != nil {
			return fmt.Errorf("alarms: %w", err)
		}
	}
	for _, lim := range []struct {
		table string
		max   int64
		n     *int64
	}{{"events", r.MaxEvents, &p.Events}, {"samples", r.MaxSamples, &p.Samples}} {
		if lim.max <= 0 {
			continue
		}
		count, err := s.count(ctx, lim.table)
		if err != nil {
			return err
		}
		n, err := s.deleteOldest(ctx, lim.table, count-lim.max)
		*lim.n += n
		if err != nil {
			return err
		}
	}
	if r.MaxBytes > 0 {
		return s.retainSize(ctx, r.MaxBytes, p)
	}
	return nil
}

// retainSize deletes the oldest events and samples, in proportion to how far the
// database is over maxBytes, and measures again: freed pages are counted only once a
// page is empty, so one estimate is rarely enough.
func (s *sqlStore) retainSize(ctx context.Context, maxBytes int64, p *Pruned) error {
	for range maxSizeRounds {
		used, err := s.usedBytes(ctx)
		if err != nil {
			return err
		}
		if used <= maxBytes {
			return nil
		}
		ne, err := s.count(ctx, "events")
		if err != nil {
			return err
		}
		ns, err := s.count(ctx, "samples")
		if err != nil {
			return err
		}
		if ne+ns == 0 {
			s.opts.Logger.Warn("store: database over its size limit with no events or samples of this site left to delete",
				"site", s.site, "used_bytes", used, "max_bytes", maxBytes)
			return nil
		}
		frac := float64(used-maxBytes) / float64(used)
		share := func(n int64) int64 {
			// At least 1% of the rows per round, so that rounds make progress when the
			// excess is a few pages.
			return min(n, max(int64(math.Ceil(frac*float64(n))), (n+99)/100))
		}
		n, err := s.deleteOldest(ctx, "events", share(ne))
		p.Events += n
		if err != nil {
			return err
		}
		n, err = s.deleteOldest(ctx, "samples", share(ns))
		p.Samples += n
		if err != nil {
			return err
		}
	}
	s.opts.Logger.Warn("store: retention by size stopped after its rounds; the next run continues", "site", s.site)
	return nil
}

func (s *sqlStore) count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.db.read(ctx, func(q querier) error {
		return eachRow(ctx, q, "SELECT COUNT(*) FROM "+table+" WHERE site = $1", args{s.site}, func(r rows) error {
			return r.Scan(&n)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", table, err)
	}
	return n, nil
}

// evidenceSQL keeps, in a query over events, the events that are the evidence of an
// alarm still open at their site: the asserts and clears of its host and rule since it
// opened. An open alarm never loses its events to retention; they go once it closed.
const evidenceSQL = ` AND NOT (assert IS NOT NULL AND EXISTS (SELECT 1 FROM alarms a
	WHERE a.site = events.site AND a.host = events.host AND a.rule = events.rule
	AND a.cleared IS NULL AND events.ts >= a.opened))`

// retainOrder is what retention deletes first, by table: events by when they were
// stored (an old export read today is new), samples by their time (taken when polled).
func retainOrder(table string) (col, keep string) {
	if table == "events" {
		return "ingested", evidenceSQL
	}
	return "ts", ""
}

// deleteBefore deletes the site's rows of table (events or samples) older than cut.
func (s *sqlStore) deleteBefore(ctx context.Context, table string, cut int64) (int64, error) {
	col, keep := retainOrder(table)
	q := "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table +
		" WHERE site = $1 AND " + col + " < $2" + keep + " ORDER BY " + col + ", id LIMIT $3)"
	var total int64
	for {
		var n int64
		err := s.db.write(ctx, func(tx querier) error {
			var err error
			n, err = tx.exec(ctx, q, s.site, cut, int64(retainChunk))
			return err
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("%s: %w", table, err)
		}
		if n < retainChunk {
			return total, nil
		}
	}
}

// deleteOldest deletes the site's n oldest rows of table (events or samples).
func (s *sqlStore) deleteOldest(ctx context.Context, table string, n int64) (int64, error) {
	col, keep := retainOrder(table)
	q := "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table +
		" WHERE site = $1" + keep + " ORDER BY " + col + ", id LIMIT $2)"
	var total int64
	for total < n {
		var k int64
		err := s.db.write(ctx, func(tx querier) error {
			var err error
			k, err = tx.exec(ctx, q, s.site, min(n-total, retainChunk))
			return err
		})
		total += k
		if err != nil {
			return total, fmt.Errorf("%s: %w", table, err)
		}
		if k == 0 {
			break
		}
	}
	return total, nil
}

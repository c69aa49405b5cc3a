package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
)

const (
	insertSampleSQL = `INSERT INTO samples (site, host, metric, labels, value, ts)
VALUES ($1, $2, $3, $4, $5, $6)`

	// The latest value of a series moves forward only: a late sample does not hide a newer
	// one.
	upsertLatestSQL = `INSERT INTO samples_latest (site, host, metric, labels, value, ts)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (site, host, metric, labels) DO UPDATE SET value = excluded.value, ts = excluded.ts
WHERE excluded.ts >= samples_latest.ts`
)

// PutSamples stores samples; one without a host or metric is an error, one whose value is
// NaN or infinite is skipped with a warning (neither JSON nor SQLite can hold it, and one
// broken reading must not hold back the rest).
func (s *sqlStore) PutSamples(ctx context.Context, samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	c := s.d.cleanText
	now := s.now()
	argLists := make([][]any, 0, len(samples))
	for i, sm := range samples {
		if sm.Host == "" || sm.Metric == "" {
			return fmt.Errorf("store: sample %d: host and metric are required", i)
		}
		if math.IsNaN(sm.Value) || math.IsInf(sm.Value, 0) {
			s.opts.Logger.Warn("store: sample skipped: value is not a finite number",
				"host", sm.Host, "metric", sm.Metric, "value", sm.Value)
			continue
		}
		t := sm.Time
		if t.IsZero() {
			t = now
		}
		argLists = append(argLists, []any{s.site, c(sm.Host), c(sm.Metric),
			labelsJSON(sm.Labels, c), sm.Value, unixNano(t)})
	}
	err := s.db.write(ctx, func(q querier) error {
		if _, err := q.execMany(ctx, insertSampleSQL, argLists); err != nil {
			return err
		}
		_, err := q.execMany(ctx, upsertLatestSQL, argLists)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: put %d samples: %w", len(argLists), err)
	}
	return nil
}

// labelsJSON is the canonical text of a label set: a JSON object with sorted keys, "{}"
// when empty, so that equal sets are equal strings (samples_latest keys on it).
func labelsJSON(l map[string]string, clean func(string) string) string {
	if len(l) == 0 {
		return "{}"
	}
	m := make(map[string]string, len(l))
	for k, v := range l {
		m[clean(k)] = clean(v)
	}
	b, _ := json.Marshal(m) // a map of strings always marshals; encoding/json sorts keys
	return string(b)
}

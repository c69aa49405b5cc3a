package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
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

// Samples reads the newest samples of one host within the filter's range (on the
// samples_host_ts index), and returns them oldest first, as a chart draws them.
func (s *sqlStore) Samples(ctx context.Context, f SampleFilter) (SamplePage, error) {
	var page SamplePage
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultSampleLimit
	case limit < 0 || limit > MaxSampleLimit:
		return page, fmt.Errorf("%w: limit %d not in 1..%d", ErrBadFilter, limit, MaxSampleLimit)
	}
	if f.Host == "" {
		return page, fmt.Errorf("%w: samples: a host is required", ErrBadFilter)
	}
	c := s.d.cleanText
	var a args
	where := []string{"host = " + a.add(c(f.Host))}
	if f.Site != "" {
		where = append(where, "site = "+a.add(c(f.Site)))
	}
	if f.Metric != "" {
		where = append(where, "metric = "+a.add(c(f.Metric)))
	}
	if !f.Since.IsZero() {
		where = append(where, "ts >= "+a.add(unixNano(f.Since)))
	}
	if !f.Until.IsZero() {
		where = append(where, "ts < "+a.add(unixNano(f.Until)))
	}
	// One more than the limit: whether it exists says if older samples were left out.
	q := "SELECT site, host, metric, labels, value, ts FROM samples WHERE " + strings.Join(where, " AND ") +
		" ORDER BY ts DESC, id DESC LIMIT " + a.add(int64(limit+1))
	err := s.db.read(ctx, func(qr querier) error {
		return eachRow(ctx, qr, q, a, func(r rows) error {
			if len(page.Samples) == limit {
				page.Truncated = true
				return nil
			}
			sm, err := scanSample(r)
			if err != nil {
				return err
			}
			page.Samples = append(page.Samples, sm)
			return nil
		})
	})
	if err != nil {
		return SamplePage{}, fmt.Errorf("store: samples of %s: %w", f.Host, err)
	}
	slices.Reverse(page.Samples)
	return page, nil
}

// scanSample reads a row of site, host, metric, labels, value, ts.
func scanSample(r rows) (Sample, error) {
	var sm Sample
	var labels string
	var ts int64
	if err := r.Scan(&sm.Site, &sm.Host, &sm.Metric, &labels, &sm.Value, &ts); err != nil {
		return sm, fmt.Errorf("read sample: %w", err)
	}
	if labels != "{}" {
		if err := json.Unmarshal([]byte(labels), &sm.Labels); err != nil {
			return sm, fmt.Errorf("sample %s/%s labels: %w", sm.Host, sm.Metric, err)
		}
	}
	sm.Time = fromNano(ts)
	return sm, nil
}

package api

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/store"
)

// paramError is a client's mistake in one query parameter; its text starts with the
// parameter's name.
type paramError struct{ name, msg string }

func (e *paramError) Error() string { return e.name + ": " + e.msg }

// params reads the query parameters of one request.
type params struct {
	v    url.Values
	now  time.Time
	path string // the request's path, for links
}

// link is the request's own path and parameters with k set to v.
func (p *params) link(k, v string) string {
	q := url.Values{}
	for key, vs := range p.v {
		q[key] = vs
	}
	q.Set(k, v)
	return p.path + "?" + q.Encode()
}

// newParams refuses parameters the endpoint does not take and parameters given twice
// (the filters take one value each; silently using the first would answer another
// question than the one asked).
func newParams(v url.Values, allowed []string, now time.Time) (*params, error) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same request always names the same parameter
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, &paramError{k, "unknown parameter (this endpoint takes " + strings.Join(allowed, ", ") + ")"}
		}
		if len(v[k]) > 1 {
			return nil, &paramError{k, "given more than once"}
		}
	}
	return &params{v: v, now: now}, nil
}

func (p *params) str(k string) string { return p.v.Get(k) }

// level reads a minimum level, case-insensitively.
func (p *params) level(k string) (string, error) {
	s := strings.ToLower(p.v.Get(k))
	if s != "" && !store.ValidLevel(s) {
		return "", &paramError{k, "must be one of " + strings.Join(store.Levels(), ", ")}
	}
	return s, nil
}

// time reads an RFC 3339 time, a date (midnight UTC), or a duration before now: "90m",
// "24h", "7d".
func (p *params) time(k string) (time.Time, error) {
	s := p.v.Get(k)
	if s == "" {
		return time.Time{}, nil
	}
	if t, ok := parseTime(s); ok {
		return t, nil
	}
	if d, ok := parseAgo(s); ok {
		return p.now.Add(-d), nil
	}
	return time.Time{}, &paramError{k, "want an RFC 3339 time (2026-03-01T12:00:00Z), a date (2026-03-01) or a duration before now (90m, 24h, 7d); got " + strconv.Quote(s)}
}

func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	// An unescaped '+' of an offset arrives as a space (form encoding): take it back.
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		if t, err := time.Parse(time.RFC3339Nano, s[:i]+"+"+s[i+1:]); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// parseAgo reads a positive Go duration, or a whole number of days ("7d").
func parseAgo(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 100*366 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}

// limit reads a page size, 1..store.MaxLimit; absent is 0 (the store's default).
func (p *params) limit(k string) (int, error) {
	s := p.v.Get(k)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > store.MaxLimit {
		return 0, &paramError{k, "want a whole number from 1 to " + strconv.Itoa(store.MaxLimit) + "; got " + strconv.Quote(s)}
	}
	return n, nil
}

// boolean reads true/false (or 1/0); absent is def.
func (p *params) boolean(k string, def bool) (bool, error) {
	switch p.v.Get(k) {
	case "":
		return def, nil
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, &paramError{k, "want true or false; got " + strconv.Quote(p.v.Get(k))}
}

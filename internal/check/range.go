package check

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Range is a Monitoring Plugins threshold range, [@]start:end:
//
//	10      alert if x < 0 or x > 10    (outside {0 .. 10})
//	10:     alert if x < 10             (outside {10 .. ∞})
//	~:10    alert if x > 10             (outside {-∞ .. 10})
//	10:20   alert if x < 10 or x > 20   (outside {10 .. 20})
//	@10:20  alert if 10 ≤ x ≤ 20        (inside {10 .. 20})
//
// The bounds belong to the range. Start and end are decimal numbers (a sign, a fraction and
// an exponent are allowed); ":10" means "0:10", as the plugins' C library reads it.
type Range struct {
	Start, End float64 // Start may be -Inf (~), End may be +Inf (empty after the colon)
	Inside     bool    // @: alert when the value is inside the range
}

var number = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// ParseRange reads a range in the Monitoring Plugins syntax. Errors say what is wrong.
func ParseRange(s string) (Range, error) {
	orig := s
	s = strings.TrimSpace(s)
	r := Range{Start: 0, End: math.Inf(1)}
	if strings.HasPrefix(s, "@") {
		r.Inside = true
		s = s[1:]
	}
	if s == "" {
		return Range{}, fmt.Errorf("range %q: empty (examples: 10, 10:, ~:10, 10:20, @10:20)", orig)
	}
	start, end, colon := strings.Cut(s, ":")
	if !colon {
		if strings.HasPrefix(s, "~") {
			return Range{}, fmt.Errorf("range %q: ~ stands for minus infinity as a start and must be followed by ':' (as in ~:10)", orig)
		}
		v, err := parseBound(s)
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %w", orig, err)
		}
		r.End = v
	} else {
		if start == "" && end == "" {
			return Range{}, fmt.Errorf("range %q: neither start nor end given (examples: 10, 10:, ~:10, 10:20, @10:20)", orig)
		}
		switch start {
		case "":
			// ":10" is 0:10.
		case "~":
			r.Start = math.Inf(-1)
		default:
			v, err := parseBound(start)
			if err != nil {
				return Range{}, fmt.Errorf("range %q: start: %w", orig, err)
			}
			r.Start = v
		}
		if end != "" {
			v, err := parseBound(end)
			if err != nil {
				return Range{}, fmt.Errorf("range %q: end: %w", orig, err)
			}
			r.End = v
		}
		if math.IsInf(r.Start, -1) && math.IsInf(r.End, 1) {
			return Range{}, fmt.Errorf("range %q: from minus to plus infinity, it can never alert", orig)
		}
	}
	if r.Start > r.End {
		return Range{}, fmt.Errorf("range %q: start %s is greater than end %s", orig, formatFloat(r.Start), formatFloat(r.End))
	}
	return r, nil
}

func parseBound(s string) (float64, error) {
	if !number.MatchString(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return v, nil
}

// MustRange parses a range that is known to be valid (a default in code); it panics otherwise.
func MustRange(s string) *Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return &r
}

// Alert reports whether the value raises an alert under this range: outside it, or inside
// it for an @ range. A NaN value always alerts: it cannot be shown to be fine.
func (r Range) Alert(v float64) bool {
	if math.IsNaN(v) {
		return true
	}
	in := v >= r.Start && v <= r.End
	if r.Inside {
		return in
	}
	return !in
}

// String writes the range in its shortest Monitoring Plugins form, as perfdata carries it.
func (r Range) String() string {
	var b strings.Builder
	if r.Inside {
		b.WriteByte('@')
	}
	switch {
	case math.IsInf(r.Start, -1):
		b.WriteString("~:")
	case r.Start != 0 || math.IsInf(r.End, 1):
		b.WriteString(formatFloat(r.Start))
		b.WriteByte(':')
	}
	if !math.IsInf(r.End, 1) {
		b.WriteString(formatFloat(r.End))
	}
	return b.String()
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Threshold is a check's -w and -c pair; either may be nil (not set).
type Threshold struct {
	Warn, Crit *Range
}

// ParseThreshold reads -w and -c; an empty string leaves that range unset.
func ParseThreshold(warn, crit string) (Threshold, error) {
	var t Threshold
	for _, x := range []struct {
		s    string
		dst  **Range
		name string
	}{{warn, &t.Warn, "warning"}, {crit, &t.Crit, "critical"}} {
		if strings.TrimSpace(x.s) == "" {
			continue
		}
		r, err := ParseRange(x.s)
		if err != nil {
			return Threshold{}, fmt.Errorf("%s threshold: %w", x.name, err)
		}
		*x.dst = &r
	}
	return t, nil
}

// Evaluate returns CRITICAL when the critical range alerts, else WARNING when the warning
// range alerts, else OK.
func (t Threshold) Evaluate(v float64) Status {
	switch {
	case t.Crit != nil && t.Crit.Alert(v):
		return Critical
	case t.Warn != nil && t.Warn.Alert(v):
		return Warning
	}
	return OK
}

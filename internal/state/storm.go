package state

import (
	"sort"
	"time"
)

// Storm is a period in which one host sent more events than the storm limit allows.
type Storm struct {
	Host       string    `json:"host"`
	Start      time.Time `json:"start"` // start of the first window over the limit
	End        time.Time `json:"end"`   // end of the last window over the limit
	Passed     int64     `json:"passed"`
	Suppressed int64     `json:"suppressed"`
}

type hostRate struct {
	windowStart time.Time
	count       int64
	storm       *Storm // the storm in progress, if any
}

type stormTable struct {
	limit  int
	window time.Duration
	hosts  map[string]*hostRate
	done   []Storm
}

const maxStorms = 1000

func newStormTable(limit int, window time.Duration) *stormTable {
	return &stormTable{limit: limit, window: window, hosts: map[string]*hostRate{}}
}

// over counts one event of host and reports whether it is beyond the limit of its
// window (fixed windows: cheap, and a flood is still cut to limit per window).
func (s *stormTable) over(host string, when time.Time) bool {
	if s.limit < 0 {
		return false
	}
	h := s.hosts[host]
	if h == nil {
		h = &hostRate{windowStart: when}
		s.hosts[host] = h
	}
	if when.Sub(h.windowStart) >= s.window || when.Before(h.windowStart) {
		s.endWindow(host, h, when)
	}
	h.count++
	if h.count <= int64(s.limit) {
		return false
	}
	if h.storm == nil {
		h.storm = &Storm{Host: host, Start: h.windowStart, Passed: int64(s.limit)}
	}
	h.storm.Suppressed++
	h.storm.End = h.windowStart.Add(s.window)
	return true
}

func (s *stormTable) endWindow(host string, h *hostRate, when time.Time) {
	if h.storm != nil {
		if h.count <= int64(s.limit) { // a calm window ends the storm
			s.done = append(s.done, *h.storm)
			if len(s.done) > maxStorms {
				s.done = s.done[len(s.done)-maxStorms:]
			}
			h.storm = nil
		} else {
			h.storm.Passed += int64(s.limit)
		}
	}
	h.windowStart, h.count = when, 0
}

// Storms lists the storms seen, those still going on included, by start time.
func (t *Tracker) Storms() []Storm {
	out := append([]Storm(nil), t.storms.done...)
	for _, h := range t.storms.hosts {
		if h.storm != nil {
			out = append(out, *h.storm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

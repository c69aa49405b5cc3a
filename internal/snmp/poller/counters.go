package poller

import (
	"fmt"
	"math"
	"time"
)

// Rates come from two readings of a counter. Three things make the naive difference
// wrong, and each is handled so that a rate is never negative and never a wrap's huge
// jump:
//
//   - a Counter32 wraps at 2^32: a smaller reading after a larger one is a wrap when the
//     distance forward is under half the range (a real wrap within one poll interval);
//     otherwise it is a discontinuity (an agent restart the uptime did not show);
//   - a Counter64 never wraps in practice (2^64 events at a million a second take half a
//     million years): a smaller reading is a discontinuity;
//   - a restart (sysUpTime or hsmUpTime going back) starts every counter again: the
//     readings after it are a new baseline, and no rate is computed across it.
//
// A gauge's growth (the Dinamo log size) has no wrap: a fall (a truncated log) starts a
// new baseline.

// reading is one counter reading, kept until the next poll.
type reading struct {
	Value uint64    `json:"value"`
	Bits  int       `json:"bits"` // 32, 64, or 0 for a gauge
	Time  time.Time `json:"time"`
}

// delta returns how far a counter moved from prev to cur, and false when no honest
// difference exists (a discontinuity, a gauge that fell, different widths).
func delta(prev, cur uint64, bits int) (uint64, bool) {
	if cur >= prev {
		return cur - prev, true
	}
	if bits == 32 && prev <= math.MaxUint32 && cur <= math.MaxUint32 {
		d := (1<<32 - prev) + cur
		if d < 1<<31 {
			return d, true
		}
	}
	return 0, false
}

// rateFrom computes the rate per second between two readings. why says why there is
// none: the first reading, a restart, a discontinuity, no time between them.
func rateFrom(prev *reading, cur reading, restarted bool) (rate float64, why string) {
	switch {
	case prev == nil:
		return 0, "first reading: a rate needs a second poll"
	case restarted:
		return 0, "the HSM restarted: its counters started again; the rate resumes at the next poll"
	case prev.Bits != cur.Bits:
		return 0, fmt.Sprintf("the counter changed type (%d to %d bits): new baseline", prev.Bits, cur.Bits)
	}
	dt := cur.Time.Sub(prev.Time).Seconds()
	if dt <= 0 {
		return 0, "no time passed since the last poll"
	}
	d, ok := delta(prev.Value, cur.Value, cur.Bits)
	if !ok {
		if cur.Bits == 0 {
			return 0, fmt.Sprintf("fell from %d to %d (reset or truncated): new baseline", prev.Value, cur.Value)
		}
		return 0, fmt.Sprintf("went back from %d to %d without a restart: a discontinuity, new baseline", prev.Value, cur.Value)
	}
	return float64(d) / dt, ""
}

// uptimeWentBack compares the uptime objects of two polls: any that is smaller now
// means the HSM (or its agent) restarted.
func uptimeWentBack(prev, cur map[string]uint64) (string, bool) {
	for k, v := range cur {
		if p, ok := prev[k]; ok && v < p {
			return fmt.Sprintf("%s went back from %d to %d", k, p, v), true
		}
	}
	return "", false
}

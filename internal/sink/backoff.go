package sink

import (
	"math/rand/v2"
	"time"
)

// Backoff is the one retry policy of every sink: exponential from Min to Max, with up
// to a quarter of jitter so that sinks failing together do not retry in step.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 200 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return b
}

// Wait is how long to wait before attempt+1 after attempt (0-based) failed.
func (b Backoff) Wait(attempt int) time.Duration {
	b = b.withDefaults()
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}

package syslog

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per origin: the host written in the message, or the sender's
// address when the message names none (an unparsed line). An origin may send burst
// messages at once and rate per second on average; what it sends beyond is dropped, and
// counted per origin until the next report. This is the only place a syslog message may
// be dropped on purpose: one flooding appliance must not bury the others' events nor
// exhaust memory, and the report says how many were lost.
//
// The bucket is the origin's rather than the sender address's because the common set-up
// is a relay: an rsyslog forwarding the whole fleet sends everything from one address,
// and a per-address bucket limited the fleet as one sender (60 to 98 % of a burst lost by
// default). The host in the message is what the sender says, not proven: a sender
// writing a new host name per message gets a bucket per name until maxSenders buckets
// exist, then shares one overflow bucket with every origin beyond the table, so the table
// cannot grow without bound. Buckets of quiet origins are dropped at each report.
type limiter struct {
	now func() time.Time

	mu         sync.Mutex
	rate       rate.Limit // set changes it and burst
	burst      int
	maxSenders int
	buckets    map[string]*bucket
	overflow   *bucket // shared by the origins beyond maxSenders
	// totals counts the messages limited per origin since the start, for /metrics: at
	// most maxOriginSeries origins have a series of their own, the rest are added up
	// under otherOrigins, so that a flood of invented host names cannot grow /metrics.
	totals map[string]uint64
}

// maxOriginSeries bounds the origins with a limited-messages series on /metrics.
const maxOriginSeries = 100

// otherOrigins is the origin label of the messages limited beyond maxOriginSeries
// origins, and of those the overflow bucket limited.
const otherOrigins = "(other)"

// bucket is one origin's (or the overflow's) token bucket and its drops.
type bucket struct {
	tokens  *rate.Limiter
	limited uint64 // dropped since the last report
}

func newLimiter(r float64, burst, maxSenders int, now func() time.Time) *limiter {
	l := &limiter{rate: rate.Limit(r), burst: burst, maxSenders: maxSenders, now: now,
		buckets: map[string]*bucket{}, totals: map[string]uint64{}}
	l.overflow = l.newBucket()
	return l
}

// newBucket is a full bucket at the current rate and burst; l.mu is held (or l is not
// shared yet).
func (l *limiter) newBucket() *bucket {
	return &bucket{tokens: rate.NewLimiter(l.rate, l.burst)}
}

// set changes the rate, the burst and the size of the origin table (a Reconfigure). The
// buckets are kept, so an origin in the middle of a flood is not handed a fresh burst by a
// reload: each keeps its tokens, capped at the new burst, and refills at the new rate.
// With fewer maxSenders than buckets, the extra buckets stay until the origins go quiet
// (report forgets them), and new origins share the overflow bucket meanwhile.
func (l *limiter) set(r float64, burst, maxSenders int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate, l.burst, l.maxSenders = rate.Limit(r), burst, maxSenders
	for _, b := range l.buckets {
		b.tokens.SetLimitAt(now, l.rate)
		b.tokens.SetBurstAt(now, l.burst)
	}
	l.overflow.tokens.SetLimitAt(now, l.rate)
	l.overflow.tokens.SetBurstAt(now, l.burst)
}

// allow takes a token for one message of origin, or counts the message as limited.
func (l *limiter) allow(origin string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[origin]
	if !ok {
		if len(l.buckets) >= l.maxSenders {
			b = l.overflow
		} else {
			b = l.newBucket()
			// The origin is a slice of the message: a copy, so that the table does not
			// keep whole messages alive.
			origin = strings.Clone(origin)
			l.buckets[origin] = b
		}
	}
	if b.tokens.AllowN(now, 1) {
		return true
	}
	b.limited++
	switch _, counted := l.totals[origin]; {
	case b == l.overflow:
		l.totals[otherOrigins]++
	case counted || len(l.totals) < maxOriginSeries:
		l.totals[origin]++
	default:
		l.totals[otherOrigins]++
	}
	return false
}

// limitedTotals returns the messages limited per origin since the start (at most
// maxOriginSeries origins and otherOrigins).
func (l *limiter) limitedTotals() map[string]float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]float64, len(l.totals))
	for o, n := range l.totals {
		out[o] = float64(n)
	}
	return out
}

// limitedOrigin is one origin's drops in a report.
type limitedOrigin struct {
	Origin  string // "" for the shared overflow bucket
	Limited uint64
}

// report returns the origins limited since the last report, most limited first, resets
// their counts, and forgets the buckets of origins that have been quiet long enough to
// be full again.
func (l *limiter) report() []limitedOrigin {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []limitedOrigin
	for origin, b := range l.buckets {
		if b.limited > 0 {
			out = append(out, limitedOrigin{Origin: origin, Limited: b.limited})
			b.limited = 0
			continue
		}
		if b.tokens.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, origin)
		}
	}
	if l.overflow.limited > 0 {
		out = append(out, limitedOrigin{Limited: l.overflow.limited})
		l.overflow.limited = 0
	}
	slices.SortFunc(out, func(a, b limitedOrigin) int {
		if c := cmp.Compare(b.Limited, a.Limited); c != 0 {
			return c
		}
		return cmp.Compare(a.Origin, b.Origin)
	})
	return out
}

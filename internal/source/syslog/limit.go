package syslog

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per sender address: a sender may send burst messages at
// once and rate per second on average; what it sends beyond is dropped, and counted per
// sender until the next report. This is the only place a syslog message may be dropped
// on purpose: one flooding appliance (or a misconfigured relay) must not bury the
// others' events nor exhaust memory, and the report says how many were lost.
//
// Buckets are kept for at most maxSenders addresses, so a flood of spoofed UDP sources
// cannot grow the table without bound: senders beyond it share one bucket. Buckets of
// quiet senders are dropped at each report.
type limiter struct {
	now func() time.Time

	mu         sync.Mutex
	rate       rate.Limit // set changes it and burst
	burst      int
	maxSenders int
	buckets    map[netip.Addr]*bucket
	overflow   *bucket // shared by the senders beyond maxSenders
}

// bucket is one sender's (or the overflow's) token bucket and its drops.
type bucket struct {
	tokens  *rate.Limiter
	limited uint64 // dropped since the last report
}

func newLimiter(r float64, burst, maxSenders int, now func() time.Time) *limiter {
	l := &limiter{rate: rate.Limit(r), burst: burst, maxSenders: maxSenders, now: now,
		buckets: map[netip.Addr]*bucket{}}
	l.overflow = l.newBucket()
	return l
}

// newBucket is a full bucket at the current rate and burst; l.mu is held (or l is not
// shared yet).
func (l *limiter) newBucket() *bucket {
	return &bucket{tokens: rate.NewLimiter(l.rate, l.burst)}
}

// set changes the rate, the burst and the size of the sender table (a Reconfigure). The
// buckets are kept, so a sender in the middle of a flood is not handed a fresh burst by a
// reload: each keeps its tokens, capped at the new burst, and refills at the new rate.
// With fewer maxSenders than buckets, the extra buckets stay until the senders go quiet
// (report forgets them), and new senders share the overflow bucket meanwhile.
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

// allow takes a token for one message from addr, or counts the message as limited.
func (l *limiter) allow(addr netip.Addr) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= l.maxSenders {
			b = l.overflow
		} else {
			b = l.newBucket()
			l.buckets[addr] = b
		}
	}
	if b.tokens.AllowN(now, 1) {
		return true
	}
	b.limited++
	return false
}

// limitedSender is one sender's drops in a report.
type limitedSender struct {
	Addr    netip.Addr // zero for the shared overflow bucket
	Limited uint64
}

// report returns the senders limited since the last report, most limited first, resets
// their counts, and forgets the buckets of senders that have been quiet long enough to
// be full again.
func (l *limiter) report() []limitedSender {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []limitedSender
	for addr, b := range l.buckets {
		if b.limited > 0 {
			out = append(out, limitedSender{Addr: addr, Limited: b.limited})
			b.limited = 0
			continue
		}
		if b.tokens.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, addr)
		}
	}
	if l.overflow.limited > 0 {
		out = append(out, limitedSender{Limited: l.overflow.limited})
		l.overflow.limited = 0
	}
	slices.SortFunc(out, func(a, b limitedSender) int {
		if c := cmp.Compare(b.Limited, a.Limited); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return out
}

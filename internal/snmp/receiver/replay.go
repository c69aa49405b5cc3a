package receiver

import (
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// engineClock is the receiver's notion of a remote authoritative engine (RFC 3414 2.3):
// its boots, its time when the notion was last set, and the latest time received; and
// the messages it sent within the time window, by time and msgID, to drop a message
// received again (as snmptrapd does).
type engineClock struct {
	boots, time, latest int64
	at                  time.Time
	seen                map[seenMsg]struct{}
	pruneAt             int // prune seen when it grows to this size
}

// seenMsg is one message within the window: at one boots count, its time and msgID.
type seenMsg struct{ time, msgID int64 }

// maxSeen bounds the messages remembered per engine: beyond it (a sender of thousands
// of authenticated traps a second) the oldest times are forgotten first.
const maxSeen = 1 << 16

// replayVerdict is what admit says of a message.
type replayVerdict uint8

const (
	replayNew   replayVerdict = iota // accept
	replayStale                      // outside the window: notInTimeWindow
	replaySeen                       // the same message within the window: a replay
)

// replayWindow keeps one engineClock per sender engine ID. Only engine IDs of the
// allow-list reach it, after authentication, so it cannot be grown by strangers.
type replayWindow struct {
	mu      sync.Mutex
	engines map[string]*engineClock
}

func newReplayWindow() *replayWindow { return &replayWindow{engines: map[string]*engineClock{}} }

// admit applies RFC 3414 3.2.7b to an authenticated message whose authoritative engine
// is the sender: it refuses boots at the latch, boots lower than known (the engine did
// not reboot backwards: a replay from an earlier life), and, at the same boots, a time
// more than 150 s behind the local notion (a replay of an old message). A message
// within the window that was received before (same boots, time and msgID) is a replay
// too: replaySeen. Otherwise it accepts and moves the notion forward. The first message
// from an engine sets it.
func (w *replayWindow) admit(engineID string, boots, t, msgID int64, now time.Time) replayVerdict {
	if boots >= usm.MaxBoots || boots < 0 || t < 0 {
		return replayStale
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.engines[engineID]
	if c == nil {
		c = &engineClock{boots: boots, time: t, latest: t, at: now}
		w.engines[engineID] = c
		c.remember(t, msgID, now)
		return replayNew
	}
	notion := c.notion(now)
	switch {
	case boots < c.boots:
		return replayStale
	case boots == c.boots && t < notion-usm.TimeWindow:
		return replayStale
	case boots == c.boots:
		if _, ok := c.seen[seenMsg{t, msgID}]; ok {
			return replaySeen
		}
	}
	if boots > c.boots {
		*c = engineClock{boots: boots, time: t, latest: t, at: now}
	} else if t > c.latest {
		c.time, c.latest, c.at = t, t, now
	}
	c.remember(t, msgID, now)
	return replayNew
}

func (c *engineClock) notion(now time.Time) int64 { return c.time + int64(now.Sub(c.at)/time.Second) }

// remember adds a message at c's boots. When the set has doubled since it was last
// pruned, it first forgets the messages that fell out of the window (they are refused as
// stale anyway); at maxSeen it also forgets the older half of the window, and then, if
// still full, everything: a sender that fast gets the time window's protection only.
func (c *engineClock) remember(t, msgID int64, now time.Time) {
	if c.seen == nil {
		c.seen = map[seenMsg]struct{}{}
	}
	if len(c.seen) >= max(c.pruneAt, 1024) {
		c.prune(c.notion(now) - usm.TimeWindow)
		if len(c.seen) >= maxSeen {
			c.prune(c.latest - usm.TimeWindow/2)
		}
		if len(c.seen) >= maxSeen {
			clear(c.seen)
		}
		c.pruneAt = 2 * len(c.seen)
	}
	c.seen[seenMsg{t, msgID}] = struct{}{}
}

func (c *engineClock) prune(before int64) {
	for m := range c.seen {
		if m.time < before {
			delete(c.seen, m)
		}
	}
}

package receiver

import (
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// engineClock is the receiver's notion of a remote authoritative engine (RFC 3414 2.3):
// its boots, its time when the notion was last set, and the latest time received.
type engineClock struct {
	boots, time, latest int64
	at                  time.Time
}

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
// more than 150 s behind the local notion (a replay of an old message). Otherwise it
// accepts and moves the notion forward. The first message from an engine sets it.
func (w *replayWindow) admit(engineID string, boots, t int64, now time.Time) bool {
	if boots >= usm.MaxBoots || boots < 0 || t < 0 {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.engines[engineID]
	if c == nil {
		w.engines[engineID] = &engineClock{boots: boots, time: t, latest: t, at: now}
		return true
	}
	notion := c.time + int64(now.Sub(c.at)/time.Second)
	switch {
	case boots < c.boots:
		return false
	case boots == c.boots && t < notion-usm.TimeWindow:
		return false
	}
	if boots > c.boots || t > c.latest {
		*c = engineClock{boots: boots, time: t, latest: t, at: now}
	}
	return true
}

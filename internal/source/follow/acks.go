package follow

import (
	"context"
	"sync"
	"time"
)

// position is a point of one file that everything before has been handled: the end of
// a line (the offset of the next one), that line's number, and the fingerprint of the
// content generation it belongs to.
type position struct {
	end  int64
	line int64
	fp   *fingerprint
}

// tracker follows the acknowledgements of one file's records. The pipeline acks in
// emission order, but the watermark does not rely on it: it is the position of the last
// record of the unbroken run of acked records from the oldest one, so a checkpoint never
// passes a line whose event is not durable yet.
type tracker struct {
	mu      sync.Mutex
	path    string
	id      fileID
	done    position     // the watermark: what the checkpoint may hold
	pending []pendingRec // records emitted and not yet part of the watermark, oldest first
	head    int          // pending[:head] are consumed
	base    uint64       // sequence number of pending[head]
	closed  bool         // the file is finished: forget it once pending is empty
}

type pendingRec struct {
	pos   position
	acked bool
}

func newTracker(path string, id fileID, start position) *tracker {
	return &tracker{path: path, id: id, done: start}
}

// add registers a record that ends at pos and returns its sequence number.
func (t *tracker) add(pos position) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.base + uint64(len(t.pending)-t.head)
	t.pending = append(t.pending, pendingRec{pos: pos})
	return seq
}

// ack marks record seq durable and moves the watermark. It reports false for a record
// already acked (an Ack called twice gives back its slot only once).
func (t *tracker) ack(seq uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq < t.base {
		return false
	}
	i := t.head + int(seq-t.base)
	if i >= len(t.pending) || t.pending[i].acked {
		return false
	}
	t.pending[i].acked = true
	for t.head < len(t.pending) && t.pending[t.head].acked {
		t.done = t.pending[t.head].pos
		t.pending[t.head] = pendingRec{}
		t.head++
		t.base++
	}
	switch {
	case t.head == len(t.pending):
		t.pending, t.head = t.pending[:0], 0
	case t.head >= 1024 && t.head*2 >= len(t.pending):
		// Out-of-order acks left a long consumed prefix: move the rest down so the
		// slice does not grow forever.
		n := copy(t.pending, t.pending[t.head:])
		clear(t.pending[n:])
		t.pending, t.head = t.pending[:n], 0
	}
	return true
}

func (t *tracker) rename(path string) {
	t.mu.Lock()
	t.path = path
	t.mu.Unlock()
}

func (t *tracker) close() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// entry returns the checkpoint entry of the watermark, and whether the tracker is still
// needed (a finished file whose records are all acked is not).
func (t *tracker) entry() (entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := entry{Path: t.path, Dev: t.id.dev, Ino: t.id.ino, Offset: t.done.end, Line: t.done.line}
	if fp := t.done.fp; fp != nil {
		e.FP, e.FPLen = fpHex(fp.sum), fp.n
	}
	return e, !t.closed || t.head < len(t.pending)
}

// track registers t for the checkpoint.
func (f *Follower) track(t *tracker) {
	f.mu.Lock()
	f.tracked = append(f.tracked, t)
	f.mu.Unlock()
	f.dirty.Store(true)
}

// acquire takes a slot for one more unacknowledged record, waiting for acks when
// MaxUnacked are out.
func (f *Follower) acquire(ctx context.Context) error {
	select {
	case f.slots <- struct{}{}:
		return nil
	default:
	}
	if f.onBlock != nil {
		f.onBlock()
	}
	f.log.Warn("waiting for the pipeline to acknowledge records before reading on", "unacked", cap(f.slots))
	warn := time.NewTicker(time.Minute)
	defer warn.Stop()
	for {
		select {
		case f.slots <- struct{}{}:
			return nil
		case <-warn.C:
			f.log.Warn("still waiting for acknowledgements", "unacked", cap(f.slots))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// acked is the body of every record's Ack.
func (f *Follower) acked(t *tracker, seq uint64) {
	if !t.ack(seq) {
		return
	}
	<-f.slots
	f.count.acked.Add(1)
	f.dirty.Store(true)
	if f.sinceLast.Add(1) >= int64(f.cfg.CommitEvery) {
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
}

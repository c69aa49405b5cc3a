// Package trapd is hsmwatch trapd's work: the receiver's events printed as JSON lines, its
// counts at the end, and the files of v1/v2c communities and SNMPv3 users it reads.
package trapd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
)

// FlushEvery bounds how long a printed trap waits in the buffer when the burst it came in
// ended with a datagram that was refused (no later emit to flush it).
const FlushEvery = 50 * time.Millisecond

// Print runs r until ctx ends and prints each event on w as a JSON line. Output that
// cannot be written (a closed pipe) ends Print with its error: receiving on without
// printing would lose every trap silently.
func Print(ctx context.Context, r *receiver.Receiver, w io.Writer) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	out := &burstWriter{w: jsonl.New(w), pending: r.Pending, fail: stop}
	flusherDone := make(chan struct{})
	go func() { defer close(flusherDone); out.flushEvery(ctx, FlushEvery) }()
	err := r.Run(ctx, out.write)
	stop()
	<-flusherDone
	return errors.Join(err, out.flush())
}

// burstWriter prints events as JSON lines with one write(2) per burst rather than per
// trap: a line goes out at once when no other datagram waits, with the following ones
// while a burst is queued, and at the latest after FlushEvery.
type burstWriter struct {
	mu      sync.Mutex
	w       *jsonl.Writer
	dirty   bool
	err     error
	pending func() bool
	fail    func()
}

func (b *burstWriter) write(ev *event.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return
	}
	if b.err = b.w.Write(ev); b.err == nil {
		b.dirty = true
		if !b.pending() {
			b.flushLocked()
		}
	}
	if b.err != nil {
		b.fail()
	}
}

func (b *burstWriter) flushLocked() {
	if b.dirty && b.err == nil {
		b.err = b.w.Flush()
		b.dirty = false
	}
}

func (b *burstWriter) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

func (b *burstWriter) flushEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if b.flush() != nil {
				b.fail()
			}
		}
	}
}

// WriteStats writes the receiver's counts on one line, the refusals by reason in order.
func WriteStats(w io.Writer, s receiver.Stats) {
	fmt.Fprintf(w, "trapd: %d datagrams, %d events, %d informs acknowledged, %d discoveries, %d refused",
		s.Packets, s.Events, s.Acknowledged, s.Discoveries, s.RejectedTotal())
	keys := make([]string, 0, len(s.Rejected))
	for k := range s.Rejected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, " %s=%d", k, s.Rejected[k])
	}
	fmt.Fprintln(w)
}

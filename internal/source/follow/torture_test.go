//go:build unix

package follow

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// ledger checks exactly-once delivery by key, as the store would see it: every record
// key names one line, every line has one key, and in the end every line is there.
type ledger struct {
	t      *testing.T
	byKey  map[string]string
	byLine map[string]string
	total  int // records received, re-deliveries included
}

func newLedger(t *testing.T) *ledger {
	return &ledger{t: t, byKey: map[string]string{}, byLine: map[string]string{}}
}

func (l *ledger) add(rs ...component.Record) {
	l.t.Helper()
	for _, r := range rs {
		l.addKey(r.Key, r.Event.Raw)
	}
}

func (l *ledger) complete(n int) {
	l.t.Helper()
	for i := range n {
		if _, ok := l.byLine[tortureLine(i)]; !ok {
			l.t.Fatalf("line %d never arrived (%d distinct of %d)", i, len(l.byLine), n)
		}
	}
	if len(l.byLine) != n || len(l.byKey) != n {
		l.t.Fatalf("%d distinct lines, %d keys, want %d", len(l.byLine), len(l.byKey), n)
	}
}

func tortureLine(i int) string { return fmt.Sprintf("torture line %07d", i) }

// writer appends numbered lines to a log in bursts.
type writer struct {
	t    *testing.T
	path string
	f    *os.File
	next int
}

func (w *writer) open() {
	w.t.Helper()
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

func (w *writer) write(n int) {
	w.t.Helper()
	buf := make([]byte, 0, 64*1024)
	for range n {
		buf = append(buf, tortureLine(w.next)...)
		buf = append(buf, '\n')
		w.next++
		if len(buf) > 60*1024 {
			w.flush(buf)
			buf = buf[:0]
		}
	}
	w.flush(buf)
}

func (w *writer) flush(b []byte) {
	w.t.Helper()
	if _, err := w.f.Write(b); err != nil {
		w.t.Fatal(err)
	}
}

// store models the pipeline's store: records queue up in emission order, a commit
// makes a prefix of them durable (the ledger) and acks them in order, and a crash loses
// the queue.
type store struct {
	l     *ledger
	queue []component.Record
	rng   *rand.Rand
	lost  int // records emitted but lost by crashes
}

// receive takes what the follower has emitted so far.
func (s *store) receive(h *harness) {
	for {
		select {
		case r := <-h.Recs:
			s.queue = append(s.queue, r)
		default:
			return
		}
	}
}

// commit makes a random prefix of the queue durable (all of it when all is set).
func (s *store) commit(all bool) {
	n := len(s.queue)
	if !all && n > 0 {
		n = s.rng.IntN(n + 1)
	}
	for _, r := range s.queue[:n] {
		s.l.add(r)
		r.Ack()
	}
	s.queue = append(s.queue[:0], s.queue[n:]...)
}

// holdSome makes sure the queue holds a record that is not durable, when one of the
// written lines is not stored yet: a crash then has something to lose.
func (s *store) holdSome(h *harness, written int) {
	if len(s.queue) == 0 && len(s.l.byLine) < written {
		s.queue = append(s.queue, h.Take(1)...)
	}
}

// crash stops the follower as kill -9 would: the store forgets what it had not
// committed, and the checkpoint on disk is the one from before the stop (a clean stop
// commits once more; a killed process does not).
func (s *store) crash(h *harness) {
	s.l.t.Helper()
	saved, err := os.ReadFile(h.f.ckptPath)
	if err != nil && !os.IsNotExist(err) {
		s.l.t.Fatal(err)
	}
	h.Stop()
	if saved != nil {
		if err := os.WriteFile(h.f.ckptPath, saved, 0o600); err != nil {
			s.l.t.Fatal(err)
		}
	}
	s.lost += len(s.queue) + len(h.Recs)
	s.queue = s.queue[:0]
	for len(h.Recs) > 0 {
		<-h.Recs
	}
}

// catchUp receives and commits until the ledger holds n distinct lines.
func (s *store) catchUp(h *harness, n int) {
	for len(s.l.byLine) < n {
		s.queue = append(s.queue, h.Take(1)...)
		s.receive(h)
		s.commit(true)
	}
}

// TestTortureRename writes lines across many rename rotations while the follower
// follows a glob of the log and its rotated names, and "crashes" twice with part of its
// records not committed by the store; the store must end up with every line exactly
// once by key: the lost records come again, with the keys they had.
func TestTortureRename(t *testing.T) { tortureRename(t, true) }

// TestTortureRenamePath is TestTortureRename following the log's path alone: a rotated
// file leaves the followed names, is finished after the rename, and after a crash it is
// found again beside the log by its identity. A file created and rotated away before
// the follower ever opened it cannot be found by a path (tail -F has the same limit),
// so the writer waits until the follower has seen the first line of each new file;
// the rest of each file is written without waiting.
func TestTortureRenamePath(t *testing.T) { tortureRename(t, false) }

func tortureRename(t *testing.T, glob bool) {
	const total, perFile = 30000, 2500
	dir := t.TempDir()
	cfg := testConfig(dir)
	if glob {
		cfg.Path = filepath.Join(dir, "app.log*")
	}
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.CommitEvery = 500
	s := &store{l: newLedger(t), rng: rand.New(rand.NewPCG(1, 2))}
	w := &writer{t: t, path: filepath.Join(dir, "app.log")}
	w.open()
	h := start(t, cfg)
	rotation, crashes := 0, 0
	for w.next < total {
		first := w.next
		w.write(min(perFile/5, total-w.next))
		s.receive(h)
		if !glob && first%perFile == 0 {
			s.receiveLine(h, first)
		}
		crash := w.next == total/3 || w.next == 2*total/3
		if crash {
			s.holdSome(h, w.next) // the crash must find records not yet durable
		} else {
			s.commit(false)
		}
		if w.next%perFile == 0 {
			rotation++
			w.f.Close()
			if err := os.Rename(w.path, fmt.Sprintf("%s.%d", w.path, rotation)); err != nil {
				t.Fatal(err)
			}
			w.open()
		}
		if crash {
			s.crash(h)
			crashes++
			h = start(t, cfg)
		}
	}
	w.f.Close()
	s.catchUp(h, total) // everything written is on disk: all of it must come
	s.l.complete(total)
	t.Logf("%d lines, %d records stored (%d again after %d crashes that lost %d), %d rotations",
		total, s.l.total, s.l.total-total, crashes, s.lost, rotation)
	if s.lost == 0 {
		t.Error("the crashes lost nothing: the test did not test recovery")
	}
}

// receiveLine receives until line i has come (it may already be stored or queued).
func (s *store) receiveLine(h *harness, i int) {
	want := tortureLine(i)
	if _, ok := s.l.byLine[want]; ok {
		return
	}
	for _, r := range s.queue {
		if r.Event.Raw == want {
			return
		}
	}
	for {
		r := h.Take(1)[0]
		s.queue = append(s.queue, r)
		if r.Event.Raw == want {
			return
		}
	}
}

// TestTortureCopytruncate: rotation by copy and truncate. Lines written between the copy
// and the truncation are lost by copytruncate itself, and so are records of the old
// content not yet durable when the process dies after it (they cannot be read again):
// the writer lets the follower and the store catch up before rotating, as a quiet log at
// rotation time does. Everything else must arrive exactly once by key, across crashes
// in the middle of a generation.
func TestTortureCopytruncate(t *testing.T) {
	const total, perFile = 8000, 1000
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	s := &store{l: newLedger(t), rng: rand.New(rand.NewPCG(3, 4))}
	w := &writer{t: t, path: cfg.Path}
	w.open()
	defer w.f.Close()
	h := start(t, cfg)
	for w.next < total {
		w.write(perFile / 2)
		s.receive(h)
		if w.next%(2*perFile) == perFile/2 {
			s.holdSome(h, w.next)
			s.crash(h)
			h = start(t, cfg)
		} else {
			s.commit(false)
		}
		w.write(perFile / 2)
		s.catchUp(h, w.next)
		data, err := os.ReadFile(w.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fmt.Sprintf("%s.%d", w.path, w.next/perFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := w.f.Truncate(0); err != nil {
			t.Fatal(err)
		}
	}
	s.catchUp(h, total)
	s.l.complete(total)
	if s.lost == 0 {
		t.Error("the crashes lost nothing: the test did not test recovery")
	}
	if st := h.f.Stats(); st.Truncations == 0 {
		t.Errorf("no truncation seen since the last restart: %+v", st)
	}
}

//go:build unix

package follow

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"
)

// copyTruncate rotates path as logrotate's copytruncate does: a copy at copy, then the
// original emptied in place.
func copyTruncate(t *testing.T, path, copy string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}

// TestCopyTruncateReadsTheCopy: lines written after the follower's last read and before
// the truncation are read from the copy, with the keys the original would have given
// them, before the lines of the truncated file. The follower is held (MaxUnacked) while
// the log is written and rotated, so it has certainly not read them.
func TestCopyTruncateReadsTheCopy(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.MaxUnacked = 3
	appendFile(t, cfg.Path, syslogLines(1, 4))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 10)
	f.onBlock = func() { blocked <- struct{}{} }
	recs := make(chan component.Record, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.Run(ctx, func(_ context.Context, r component.Record) error { recs <- r; return nil })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-blocked: // lines 1-3 out, line 4 read and waiting for a slot
	case <-time.After(wait):
		t.Fatal("the follower did not wait for acks")
	}
	appendFile(t, cfg.Path, syslogLines(5, 7))
	copyTruncate(t, cfg.Path, cfg.Path+".1")
	appendFile(t, cfg.Path, syslogLines(8, 9))
	var got []component.Record
	for len(got) < 9 {
		select {
		case r := <-recs:
			got = append(got, r)
			r.Ack()
		case <-time.After(wait):
			t.Fatalf("%d records: %q", len(got), raws(got))
		}
	}
	wantLines(t, got, 1)
	if st := f.Stats(); st.CopiesRead != 1 || st.Truncations != 1 {
		t.Errorf("copies read %d, truncations %d, want 1 and 1", st.CopiesRead, st.Truncations)
	}
	// Lines 5 to 7 are keyed as lines of the original: its identity and fingerprint.
	if got[4].Key[:len(got[4].Key)-len(":0")] == "" || keyPrefix(got[4].Key) != keyPrefix(got[0].Key) {
		t.Errorf("copy's line key %s, original's %s", got[4].Key, got[0].Key)
	}
	if keyPrefix(got[7].Key) == keyPrefix(got[0].Key) {
		t.Errorf("the truncated file's new content keyed as the old one: %s", got[7].Key)
	}
}

// keyPrefix is a record key without its offset: identity and fingerprint.
func keyPrefix(k string) string {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == ':' {
			return k[:i]
		}
	}
	return k
}

// TestCopyTruncateLosesNothing writes numbered lines at several rates and rotates by
// copy and truncate every 1000 lines without waiting for the follower: every line is
// read exactly once. The followed path is the file's name, or a glob: one the copies
// do not match ("*.log" against "app.log.1"), and one they match ("*", "app.log*"),
// where a copy is a followed file too and its lines must still be read once, as the
// original's, with a checkpoint kept or not.
func TestCopyTruncateLosesNothing(t *testing.T) {
	for _, glob := range []struct {
		name, pattern string // pattern: "" the file's own path, else a glob in its folder
		checkpoint    bool
	}{
		{"path", "", false},
		{"glob not matching the copies", "*.log", false},
		{"glob matching the copies", "*", false},
		{"glob matching the copies, checkpointed", "app.log*", true},
	} {
		for _, rate := range []struct {
			name  string
			burst int           // lines per write
			pause time.Duration // between writes
		}{
			{"flat out", 1000, 0},
			{"10 lines per 100µs", 10, 100 * time.Microsecond},
			{"1 line per 20µs", 1, 20 * time.Microsecond},
		} {
			t.Run(glob.name+"/"+rate.name, func(t *testing.T) {
				const total, perFile = 5000, 1000
				dir := t.TempDir()
				cfg := testConfig(dir)
				logPath := cfg.Path
				if glob.pattern != "" {
					cfg.Path = filepath.Join(dir, glob.pattern)
				}
				if glob.checkpoint {
					cfg.StateDir = t.TempDir()
				}
				w := &writer{t: t, path: logPath}
				w.open()
				defer w.f.Close()
				h := start(t, cfg)
				// Rotations before the follower opened the file are history it does not read.
				h.until("the file to be opened", func() bool { return h.f.Stats().FilesOpened == 1 })
				for w.next < total {
					w.write(rate.burst)
					if rate.pause > 0 {
						time.Sleep(rate.pause) // pacing the writer, not waiting for the follower
					}
					if w.next%perFile == 0 && w.next < total {
						copyTruncate(t, logPath, fmt.Sprintf("%s.%d", logPath, w.next/perFile))
					}
				}
				seen := map[string]int{}
				for n := 0; n < total; n++ {
					select {
					case r := <-h.Recs:
						seen[r.Event.Raw]++
						if glob.checkpoint {
							r.Ack()
						}
					case <-time.After(wait):
						var missing []int
						for i := range total {
							if seen[tortureLine(i)] == 0 {
								missing = append(missing, i)
							}
						}
						t.Fatalf("%d of %d lines; missing %d, first %v, last %v", n, total, len(missing), missing[:min(3, len(missing))], missing[max(0, len(missing)-3):])
					}
				}
				for i := range total {
					if n := seen[tortureLine(i)]; n != 1 {
						t.Errorf("line %d read %d times", i, n)
					}
				}
				// The copies are followed from their ends on: nothing more comes of them.
				h.settle()
				h.settle()
				h.empty()
				st := h.f.Stats()
				t.Logf("truncations %d, copies read %d, files opened %d", st.Truncations, st.CopiesRead, st.FilesOpened)
			})
		}
	}
}

// TestCopyTruncateGlobCopyFollowed: with a glob that matches the copy, a copy the scan
// opens before the truncation (logrotate copies, then truncates) is not read as a file
// of its own: its lines are the original's, read there once; after the truncation it
// is followed from its end, and a line appended to it then is its own.
func TestCopyTruncateGlobCopyFollowed(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	logPath := cfg.Path
	cfg.Path = filepath.Join(dir, "app.log*")
	cfg.StateDir = t.TempDir()
	cfg.MaxUnacked = 3
	cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	appendFile(t, logPath, syslogLines(1, 4))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	blocked := make(chan struct{}, 10)
	f.onBlock = func() {
		select {
		case blocked <- struct{}{}:
		default:
		}
	}
	scans := make(chan struct{}, 1)
	f.afterScan = func() {
		select {
		case scans <- struct{}{}:
		default:
		}
	}
	recs := make(chan component.Record, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.Run(ctx, func(_ context.Context, r component.Record) error { recs <- r; return nil })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-blocked: // lines 1-3 out, line 4 read and waiting for a slot
	case <-time.After(wait):
		t.Fatal("the follower did not wait for acks")
	}
	// The copy, before the truncation, made while the follower is held: the scans that
	// follow the acks below find it holding lines the original still holds.
	appendFile(t, logPath, syslogLines(5, 7))
	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath+".1", data, 0o600); err != nil {
		t.Fatal(err)
	}
	var got []component.Record
	take := func(n int) {
		t.Helper()
		for len(got) < n {
			select {
			case r := <-recs:
				got = append(got, r)
				r.Ack()
			case <-time.After(wait):
				t.Fatalf("%d records: %q", len(got), raws(got))
			}
		}
	}
	take(7) // lines 1 to 7 from the original, the copy waiting meanwhile
	// Wait until a scan has seen the copy, then truncate and refill.
	deadline := time.Now().Add(wait)
	for f.Stats().FilesOpened < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the copy was not opened")
		}
		select {
		case <-scans:
		case <-time.After(wait):
			t.Fatal("no scan")
		}
	}
	if err := os.Truncate(logPath, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, logPath, syslogLines(8, 9))
	take(9)
	appendFile(t, logPath+".1", syslogLines(10, 10))
	take(10)
	wantLines(t, got, 1)
	if !strings.HasPrefix(got[9].Event.Input, logPath+".1:") {
		t.Errorf("the copy's own line came from %s", got[9].Event.Input)
	}
	for _, r := range got[:7] {
		if !strings.HasPrefix(r.Event.Input, logPath+":") {
			t.Errorf("line %q came from %s, want the original", r.Event.Message, r.Event.Input)
		}
	}
	select {
	case r := <-recs:
		t.Errorf("an extra record %q from %s", r.Event.Message, r.Event.Input)
	case <-time.After(200 * time.Millisecond): // a repeat would come at the next poll (5 ms)
	}
}

// TestCopyTruncateBetweenFindAndCheck: copytruncate that runs after a scan listed the
// folder and before it checked the followed file makes a copy the glob matches but that
// scan did not list. Where the follower stopped reading it (its end: everything was
// read) must outlive that scan, or the next scan follows the copy from its start and
// every line it holds is read twice.
func TestCopyTruncateBetweenFindAndCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	logPath := cfg.Path
	cfg.Path = filepath.Join(dir, "app.log*")
	cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	appendFile(t, logPath, syslogLines(1, 5))
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rotate atomic.Bool
	f.afterFind = func() {
		if !rotate.CompareAndSwap(true, false) {
			return
		}
		data, err := os.ReadFile(logPath)
		if err == nil {
			err = os.WriteFile(logPath+".1", data, 0o600)
		}
		if err == nil {
			err = os.Truncate(logPath, 0)
		}
		if err != nil {
			t.Error(err)
		}
	}
	h := &harness{t: t, f: f, scans: make(chan struct{})}
	f.afterScan = func() {
		select {
		case h.scans <- struct{}{}:
		default:
		}
	}
	h.Runner = sourcetest.Start(t, f, 64, wait, nil)
	wantLines(t, h.Take(5), 1)
	h.settle() // lines 1 to 5 read: the copy will hold nothing unread
	rotate.Store(true)
	h.until("the rotation between listing and checking", func() bool { return !rotate.Load() })
	appendFile(t, logPath, syslogLines(6, 8))
	wantLines(t, h.Take(3), 6)
	h.settle()
	h.settle()
	h.empty()
}

//go:build unix

package follow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
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
// read exactly once.
func TestCopyTruncateLosesNothing(t *testing.T) {
	for _, rate := range []struct {
		name  string
		burst int           // lines per write
		pause time.Duration // between writes
	}{
		{"flat out", 1000, 0},
		{"10 lines per 100µs", 10, 100 * time.Microsecond},
		{"1 line per 20µs", 1, 20 * time.Microsecond},
	} {
		t.Run(rate.name, func(t *testing.T) {
			const total, perFile = 5000, 1000
			dir := t.TempDir()
			cfg := testConfig(dir)
			w := &writer{t: t, path: cfg.Path}
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
					copyTruncate(t, cfg.Path, fmt.Sprintf("%s.%d", cfg.Path, w.next/perFile))
				}
			}
			seen := map[string]int{}
			for n := 0; n < total; n++ {
				select {
				case r := <-h.Recs:
					seen[r.Event.Raw]++
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
			h.settle()
			h.empty()
			st := h.f.Stats()
			t.Logf("truncations %d, copies read %d", st.Truncations, st.CopiesRead)
		})
	}
}

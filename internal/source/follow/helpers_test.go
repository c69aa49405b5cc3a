//go:build unix

package follow

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// wait is the deadline of every wait in these tests: long enough for a loaded CI machine
// running -race, short enough that a hang fails the test rather than the whole run.
const wait = 60 * time.Second

// harness runs one Follower and collects what it emits.
type harness struct {
	*sourcetest.Runner
	t     *testing.T
	f     *Follower
	scans chan struct{}
}

// testConfig is a Config with the short intervals the tests want.
func testConfig(dir string) Config {
	return Config{Path: filepath.Join(dir, "app.log"), Poll: 5 * time.Millisecond,
		RotateWait: 50 * time.Millisecond, CommitInterval: 20 * time.Millisecond, CommitEvery: 10}
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, f: f, scans: make(chan struct{})}
	f.afterScan = func() {
		select {
		case h.scans <- struct{}{}: // only when a test waits for it
		default:
		}
	}
	h.Runner = sourcetest.Start(t, f, 1<<17, wait, nil)
	h.Describe = func(recs []component.Record) string { return fmt.Sprint(raws(recs)) }
	return h
}

// empty fails when a record is waiting.
func (h *harness) empty() {
	h.t.Helper()
	select {
	case r := <-h.Recs:
		h.t.Fatalf("unexpected record %q (%s)", r.Event.Raw, r.Key)
	default:
	}
}

// settle returns once the follower has read everything written before the call: the
// scan that ends first may have begun before, but the read that follows it has not.
func (h *harness) settle() {
	h.t.Helper()
	h.scan()
	h.scan()
}

func (h *harness) scan() {
	h.t.Helper()
	select {
	case <-h.scans:
	case err := <-h.Done:
		h.t.Fatalf("Run returned %v", err)
	case <-time.After(wait):
		h.t.Fatal("the follower stopped scanning")
	}
}

// until waits, scan by scan, for cond (which reads the follower's counters).
func (h *harness) until(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		h.scan()
	}
}

func raws(rs []component.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Event.Raw
	}
	return out
}

func ackAll(rs []component.Record) {
	for _, r := range rs {
		if r.Ack != nil {
			r.Ack()
		}
	}
}

// appendFile appends text to path, creating it when needed.
func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// syslogLines returns RFC 3164 lines numbered from..to.
func syslogLines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "<13>Jan  2 03:04:05 hsm1 app[7]: line %d\n", i)
	}
	return b.String()
}

// wantLines checks that rs are lines from..to of syslogLines, in order.
func wantLines(t *testing.T, rs []component.Record, from int) {
	t.Helper()
	for i, r := range rs {
		want := fmt.Sprintf("line %d", from+i)
		if r.Event.Message != want {
			t.Fatalf("record %d: message %q, want %q (raw %q)", i, r.Event.Message, want, r.Event.Raw)
		}
	}
}

// testLog shows the follower's log with the test's output (on failure, or with -v).
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

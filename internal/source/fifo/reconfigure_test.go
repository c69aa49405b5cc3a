//go:build unix

package fifo

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"
)

// phaseConfig is the settings of phase i: even phases parse RFC 3164 in a zone i hours
// east, odd ones RFC 5424 (the RFC 3164 lines become unparsed and take Host).
func phaseConfig(path string, i int) Config {
	cfg := Config{Path: path, Host: "host-" + strconv.Itoa(i), Poll: 5 * time.Millisecond}
	if i%2 == 0 {
		cfg.Format, cfg.Location = event.SourceRFC3164, time.FixedZone("phase"+strconv.Itoa(i), i*3600)
	} else {
		cfg.Format = event.SourceRFC5424
	}
	return cfg
}

// fits tells whether ev was made with phase i's settings.
func fits(i int, ev *event.Event) bool {
	if i%2 == 1 {
		return ev.Source == event.SourceUnparsed && ev.Host == "host-"+strconv.Itoa(i)
	}
	_, off := ev.Time.Zone()
	return ev.Source == event.SourceRFC3164 && ev.Host == "myhost" && off == i*3600
}

// TestReconfigureWhileWriting: one writer keeps the pipe open and writes numbered lines
// while the format, the zone and the host change four times. No write fails (the read
// end was never closed: a closed one gives EPIPE), the pipe is never reopened, every line
// arrives exactly once, and every line written after a call returned is parsed with its
// settings.
func TestReconfigureWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	h := start(t, phaseConfig(path, 0))
	w, err := os.OpenFile(path, os.O_WRONLY, 0) // waits until Run has the read end open
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })

	line := sourcetest.NewStream("line", 64, wait, func(n int) error {
		_, err := fmt.Fprintf(w, "<13>Nov 22 05:31:30 myhost app: line %d\n", n)
		return err
	})
	collect := sourcetest.Collect(t, h.Recs, func(r component.Record) {
		f := strings.Fields(r.Event.Raw)
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			t.Errorf("a line of no number: %q", r.Event.Raw)
			return
		}
		line.Add(n, r.Event)
	})
	send := sourcetest.Send(t, line)

	const calls = 4
	line.Settle(t, 30)
	for i := 1; i <= calls; i++ {
		if err := h.r.Reconfigure(phaseConfig(path, i)); err != nil {
			t.Fatalf("Reconfigure %d: %v", i, err)
		}
		line.NextPhase()
		line.Settle(t, 30)
	}
	send()
	total := line.WaitAll(t)
	h.Stop()
	collect()

	line.Check(t, fits)
	if st := h.r.Stats(); st.Reopens != 0 || st.Lines != uint64(total) {
		t.Errorf("stats %+v, %d lines written", st, total)
	}
}

// TestReconfigurePoll: a reader waiting an hour for a writer takes a new Poll at once.
func TestReconfigurePoll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	cfg := Config{Path: path, Poll: time.Hour, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	polls := make(chan time.Duration, 1)
	r.polling = func(d time.Duration) {
		select {
		case polls <- d:
		default: // only the first wait matters
		}
	}
	run := sourcetest.Start(t, r, 16, wait, nil)
	// No writer yet: the reader finds the pipe empty and waits an hour.
	select {
	case d := <-polls:
		if d != time.Hour {
			t.Fatalf("waits %v", d)
		}
	case <-time.After(wait):
		t.Fatal("the reader did not wait for a writer")
	}
	finish(t, writer(t, path, `echo written during the wait`))
	cfg.Poll = 5 * time.Millisecond
	if err := r.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if ev := run.Take(1)[0].Event; ev.Raw != "written during the wait" {
		t.Fatalf("event %+v", ev)
	}
}

// TestReconfigureRefused: another path, another name or an unknown format is refused and
// the reader goes on with its settings.
func TestReconfigureRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	good := Config{Path: path, Format: event.SourceRFC3164, Host: "fallback"}
	h := start(t, good)
	for _, tc := range []struct {
		name     string
		cfg      Config
		inPlace  bool
		mentions string
	}{
		{"other path", Config{Path: path + "2", Format: event.SourceRFC5424}, true, "path"},
		{"no path", Config{Format: event.SourceRFC5424}, true, "path"},
		{"renamed", Config{Path: path, Name: "luna", Format: event.SourceRFC5424}, true, "name"},
		{"unknown format", Config{Path: path, Format: "nope"}, false, "nope"},
	} {
		sourcetest.Refused(t, tc.name, h.r.Reconfigure(tc.cfg), ErrNotReconfigurable, tc.inPlace, tc.mentions)
	}
	finish(t, writer(t, path, `printf '<13>Nov 22 05:31:30 myhost app: parsed\nnot syslog\n'`))
	evs := h.take(2)
	if evs[0].Source != event.SourceRFC3164 || evs[0].Host != "myhost" {
		t.Errorf("after the refusals: %s", evs[0].AppendJSON(nil))
	}
	if evs[1].Source != event.SourceUnparsed || evs[1].Host != "fallback" {
		t.Errorf("after the refusals: %s", evs[1].AppendJSON(nil))
	}
	if h.r.Name() != "fifo:"+path {
		t.Errorf("name %q", h.r.Name())
	}
}

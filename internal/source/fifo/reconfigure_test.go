//go:build unix

package fifo

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
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

	var started, written atomic.Int64
	window := make(chan struct{}, 64) // at most this many lines not yet emitted
	var mu sync.Mutex
	got := map[int][]*event.Event{}
	prefix := 0 // every line below it has arrived
	arrived := func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		return prefix >= n
	}
	quit := make(chan struct{})
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		take := func(ev *event.Event) {
			f := strings.Fields(ev.Raw)
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Errorf("a line of no number: %q", ev.Raw)
				return
			}
			mu.Lock()
			got[n] = append(got[n], ev)
			for len(got[prefix]) > 0 {
				prefix++
			}
			mu.Unlock()
			<-window
		}
		for {
			select {
			case r := <-h.Recs:
				take(r.Event)
			case <-quit:
				for {
					select {
					case r := <-h.Recs:
						take(r.Event)
					default:
						return
					}
				}
			}
		}
	}()
	stop := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case window <- struct{}{}:
			case <-time.After(wait):
				t.Errorf("line %d: the window did not open (lines lost?)", n)
				return
			}
			started.Add(1)
			if _, err := fmt.Fprintf(w, "<13>Nov 22 05:31:30 myhost app: line %d\n", n); err != nil {
				t.Errorf("line %d: %v", n, err)
				return
			}
			written.Add(1)
		}
	})
	finish := sync.OnceFunc(func() {
		close(stop)
		writer.Wait()
	})
	t.Cleanup(func() {
		finish()
		select {
		case <-quit:
		default:
			close(quit)
		}
	})

	// lo[i]: the first line written after call i returned; hi[i]: every line below it had
	// arrived before call i+1 began.
	const calls = 4
	lo, hi := make([]int, calls+1), make([]int, calls+1)
	end := func(i int) {
		t.Helper()
		testutil.WaitFor(t, "lines after the call", wait, func() bool { return written.Load() >= int64(lo[i]+30) })
		hi[i] = int(written.Load())
		testutil.WaitFor(t, "the lines of the phase", wait, func() bool { return arrived(hi[i]) })
	}
	end(0)
	for i := 1; i <= calls; i++ {
		if err := h.r.Reconfigure(phaseConfig(path, i)); err != nil {
			t.Fatalf("Reconfigure %d: %v", i, err)
		}
		lo[i] = int(started.Load())
		end(i)
	}
	finish()
	total := int(written.Load())
	testutil.WaitFor(t, "every line", wait, func() bool { return arrived(total) })
	h.Stop()
	close(quit)
	<-collected

	for n, evs := range got {
		if n >= total || len(evs) != 1 {
			t.Errorf("line %d: %d events (%d written)", n, len(evs), total)
		}
	}
	hi[calls] = total
	for i := range calls + 1 {
		next := total
		if i < calls {
			next = lo[i+1]
		}
		for n := lo[i]; n < next; n++ {
			if ev := got[n][0]; !fits(i, ev) && (n < hi[i] || !fits(i+1, ev)) {
				t.Fatalf("line %d of phase %d (strict below %d) parsed with other settings: %s", n, i, hi[i], ev.AppendJSON(nil))
			}
		}
	}
	if st := h.r.Stats(); st.Reopens != 0 || st.Lines != uint64(total) {
		t.Errorf("stats %+v, %d lines written", st, total)
	}
	t.Logf("%d lines, every one once", total)
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
		err := h.r.Reconfigure(tc.cfg)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case errors.Is(err, ErrNotReconfigurable) != tc.inPlace:
			t.Errorf("%s: errors.Is(ErrNotReconfigurable) = %v: %v", tc.name, !tc.inPlace, err)
		case !strings.Contains(err.Error(), tc.mentions):
			t.Errorf("%s: the error does not name %q: %v", tc.name, tc.mentions, err)
		default:
			t.Logf("%s: %v", tc.name, err)
		}
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

//go:build unix

package fifo

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"

	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

const wait = 20 * time.Second

type harness struct {
	*sourcetest.Runner
	t *testing.T
	r *Reader
}

func start(t *testing.T, cfg Config) *harness {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{Runner: sourcetest.Start(t, r, 1<<12, wait, nil), t: t, r: r}
}

func (h *harness) take(n int) []*event.Event {
	h.t.Helper()
	return events(h.Take(n))
}

func events(recs []component.Record) []*event.Event {
	out := make([]*event.Event, len(recs))
	for i, r := range recs {
		out[i] = r.Event
	}
	return out
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// writer runs a shell that opens the pipe, writes, and goes away, as rsyslog's ompipe
// does when it is restarted. The shell's open waits until the reader has the pipe open.
func writer(t *testing.T, path, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "{ "+script+"\n} > \"$FIFO\"")
	cmd.Env = append(os.Environ(), "FIFO="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func finish(t *testing.T, cmds ...*exec.Cmd) {
	t.Helper()
	for _, c := range cmds {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
		case <-time.After(wait):
			c.Process.Kill()
			t.Fatal("the writer did not finish")
		}
	}
}

func raws(evs []*event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Raw
	}
	return out
}

func TestWritersComeAndGo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "luna.fifo")
	h := start(t, Config{Path: path, Host: "fallback"})
	st, err := os.Stat(path)
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("New did not make the pipe: %v %v", st, err)
	}

	finish(t, writer(t, path, `printf '<13>Nov 22 05:31:30 myLuna NTLS[12]: up\nsecond\n'`))
	evs := h.take(2)
	if ev := evs[0]; ev.Host != "myLuna" || ev.Process != "NTLS" || ev.Input != path+":1" {
		t.Errorf("first event %+v", ev)
	}
	if ev := evs[1]; ev.Raw != "second" || ev.Source != event.SourceUnparsed || ev.Host != "fallback" {
		t.Errorf("second event %+v", ev)
	}

	// The next writer leaves a line without a newline: it is emitted when it goes away.
	finish(t, writer(t, path, `printf 'third\nno newline'`))
	if got := raws(h.take(2)); got[0] != "third" || got[1] != "no newline" {
		t.Fatalf("second writer: %q", got)
	}

	// A third writer, after the others are gone.
	finish(t, writer(t, path, `echo fourth`))
	if ev := h.take(1)[0]; ev.Raw != "fourth" || ev.Input != path+":5" {
		t.Fatalf("third writer: %+v", ev)
	}
	// The third writer's end may not have been seen yet; the first two were, before
	// "fourth" could be read.
	if st := h.r.Stats(); st.Lines != 5 || st.Writers < 2 || st.ParseFailures != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	h := start(t, Config{Path: path})
	const n = 300
	loop := `i=0; while [ $i -lt %d ]; do echo "%s $i"; i=$((i+1)); done`
	a := writer(t, path, fmt.Sprintf(loop, n, "a"))
	b := writer(t, path, fmt.Sprintf(loop, n, "b"))
	finish(t, a, b)
	seen := map[string]bool{}
	for _, ev := range h.take(2 * n) {
		if seen[ev.Raw] {
			t.Fatalf("%q twice", ev.Raw)
		}
		seen[ev.Raw] = true
	}
	for i := range n {
		for _, w := range []string{"a", "b"} {
			if !seen[fmt.Sprintf("%s %d", w, i)] {
				t.Fatalf("line %s %d missing", w, i)
			}
		}
	}
}

// TestReplaced: the pipe is deleted and made again (a package upgrade, an operator);
// the reader opens the new one.
func TestReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	h := start(t, Config{Path: path})
	finish(t, writer(t, path, `echo before`))
	h.take(1)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	finish(t, writer(t, path, `echo after`)) // waits until the reader has opened the new pipe
	if ev := h.take(1)[0]; ev.Raw != "after" {
		t.Fatalf("after the replacement: %+v", ev)
	}
	if st := h.r.Stats(); st.Reopens != 1 {
		t.Errorf("reopens %d", st.Reopens)
	}
}

func TestNotAPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "regular")
	if err := os.WriteFile(path, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Path: path}); err == nil || !strings.Contains(err.Error(), "not a named pipe") {
		t.Fatalf("New on a regular file: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a path accepted")
	}
	if _, err := New(Config{Path: filepath.Join(t.TempDir(), "p"), Format: "nope"}); err == nil {
		t.Error("New with an unknown format accepted")
	}
}

// TestCancelWhileWaiting: Run returns promptly with a writer connected and silent.
func TestCancelWhileWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	h := start(t, Config{Path: path})
	// The writer stays until its standard input closes, holding the pipe open.
	cmd := exec.Command("sh", "-c", `{ echo hello; read x || :; } > "$FIFO"`)
	cmd.Env = append(os.Environ(), "FIFO="+path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer finish(t, cmd)
	defer in.Close()
	h.take(1)
	// The reader now waits in a read, not in a poll sleep: closing the pipe must end it.
	h.Stop()
}

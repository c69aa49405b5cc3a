package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/source/pkcs11probe/p11test"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestMain lets the kill test run this test binary as "hsmwatch serve" in a child process,
// and gives the PKCS#11 checks an hsmwatch binary to run as their probe child.
func TestMain(m *testing.M) {
	if os.Getenv("HSMWATCH_TEST_AS_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(p11test.ProbeMain(m)) // the checks run PKCS#11 libraries in a child process
}

// child is one "hsmwatch serve" process.
type child struct {
	cmd  *exec.Cmd
	errb *testutil.SyncBuffer
	base string
}

func startServe(t *testing.T, cfgPath string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "HSMWATCH_TEST_AS_MAIN=1")
	errb := &testutil.SyncBuffer{}
	cmd.Stderr, cmd.Stdout = errb, errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, errb: errb}
	waitFor(t, 30*time.Second, "the child to listen", func() bool {
		m := httpAddrRE.FindStringSubmatch(errb.String())
		if m != nil {
			c.base = "http://" + m[1]
		}
		return m != nil
	}, errb.String)
	return c
}

// TestServeKill9 writes N lines to a followed file while the daemon is killed with
// SIGKILL three times and restarted; the store must then hold every line exactly once.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemon processes")
	}
	const n = 3000
	dir := t.TempDir()
	logFile := filepath.Join(dir, "hsm.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(dir, "state")
	cfgPath := writeConfig(t, dir, fmt.Sprintf("state_dir: %s\nhttp:\n  listen: 127.0.0.1:0\nsources:\n  files:\n    - path: %s\n", stateDir, logFile))
	line := func(i int) string {
		return fmt.Sprintf("2026 Nov 22 07:00:00 luna1 local5 info NTLS [1234]: info : 0 : kill-test line %05d", i)
	}

	// The writer appends lines in small bursts for the whole test.
	written := make(chan struct{})
	var nWritten atomic.Int64
	go func() {
		defer close(written)
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		for i := range n {
			fmt.Fprintln(w, line(i))
			if i%20 == 19 {
				w.Flush()
				nWritten.Store(int64(i + 1))
				time.Sleep(45 * time.Millisecond)
			}
		}
		w.Flush()
	}()

	var logs []string
	stored := 0
	for kill := range 3 {
		c := startServe(t, cfgPath)
		// Let it store more than the previous one did, then kill it mid-stream (the
		// writer is still writing; its checkpoint may lag what the store holds).
		waitFor(t, 30*time.Second, "progress before the kill", func() bool {
			got := len(apiMessages(t, c.base, "kill-test"))
			if got > stored {
				stored = got
				return true
			}
			return false
		}, c.errb.String)
		time.Sleep(time.Duration(50*kill) * time.Millisecond)
		t.Logf("kill %d: %d lines written, %d stored", kill+1, nWritten.Load(), stored)
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = c.cmd.Wait()
		logs = append(logs, c.errb.String())
	}
	<-written
	if stored := countStored(t, filepath.Join(stateDir, "hsmwatch.db")); len(stored) == 0 {
		t.Fatalf("the killed daemons stored nothing: the kills proved nothing\n%s", strings.Join(logs, "\n---\n"))
	} else {
		t.Logf("%d of %d lines stored before the last start", len(stored), n)
	}
	c := startServe(t, cfgPath)
	waitFor(t, 60*time.Second, "all lines in the store", func() bool {
		return len(apiMessages(t, c.base, "kill-test")) == n
	}, func() string {
		return fmt.Sprint(len(apiMessages(t, c.base, "kill-test")), " of ", n, "\n", c.errb.String())
	})
	// SIGHUP reloads the (unchanged, valid) file; the daemon keeps running.
	if err := c.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the SIGHUP reload", func() bool {
		return strings.Contains(c.errb.String(), "configuration reloaded")
	}, c.errb.String)
	if code, _ := getBody(t, c.base+"/-/healthy"); code != 200 {
		t.Fatalf("not healthy after SIGHUP: %d", code)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("last daemon: %v\n%s", err, c.errb.String())
	}

	// Open the store after the last stop and count every line.
	seen := countStored(t, filepath.Join(stateDir, "hsmwatch.db"))
	var missing, dup []int
	for i := range n {
		switch seen[line(i)] {
		case 1:
		case 0:
			missing = append(missing, i)
		default:
			dup = append(dup, i)
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(seen) != n {
		t.Fatalf("%d distinct lines stored, missing %v, duplicated %v\nlogs:\n%s", len(seen), missing, dup, strings.Join(logs, "\n---\n"))
	}
}

// countStored opens the store (no daemon running) and counts its events by raw line.
func countStored(t *testing.T, db string) map[string]int {
	t.Helper()
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]int{}
	f := store.EventFilter{Limit: store.MaxLimit}
	for {
		page, err := st.Events(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			seen[e.Event.Raw]++
		}
		if page.Next == "" {
			return seen
		}
		f.Cursor = page.Next
	}
}

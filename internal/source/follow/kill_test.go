//go:build unix

package follow

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
)

// childEnv makes the test binary run TestFollowChild as a follower process.
const childEnv = "HSMWATCH_FOLLOW_CHILD"

// TestFollowChild is not a test: it is the follower process TestKill9 starts and kills.
// Its "store" is its standard output: a record is written there ("key<TAB>raw") in one
// write, and acked after, so the checkpoint never covers a record the parent has not got.
func TestFollowChild(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("helper process for TestKill9")
	}
	f, err := New(Config{Path: os.Getenv("FOLLOW_PATH"), StateDir: os.Getenv("FOLLOW_STATE"),
		Poll: 2 * time.Millisecond, RotateWait: 20 * time.Millisecond, CommitInterval: 5 * time.Millisecond,
		CommitEvery: 50})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	err = f.Run(context.Background(), func(_ context.Context, r component.Record) error {
		if _, err := io.WriteString(os.Stdout, r.Key+"\t"+r.Event.Raw+"\n"); err != nil {
			return err
		}
		r.Ack()
		return nil
	})
	fmt.Fprintln(os.Stderr, "Run returned:", err)
	os.Exit(3)
}

// TestKill9 follows a log that is written and rotated while the follower process is
// killed with SIGKILL again and again; every line must reach the store exactly once by
// key. Unlike the in-process crash tests, nothing here runs at shutdown: what survives
// is what the atomic checkpoint writes left on disk.
func TestKill9(t *testing.T) {
	const total, perFile, kills = 20000, 3000, 4
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	l := newLedger(t)
	lines := make(chan [2]string, 1<<16)

	startChild := func() *exec.Cmd {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestFollowChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", "FOLLOW_PATH="+log+"*",
			"FOLLOW_STATE="+filepath.Join(dir, "state"))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(out)
			sc.Buffer(nil, 2<<20)
			for sc.Scan() {
				key, raw, ok := strings.Cut(sc.Text(), "\t")
				if ok && strings.HasPrefix(raw, "torture line") {
					lines <- [2]string{key, raw}
				}
			}
		}()
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		t.Helper()
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		_ = cmd.Wait() // also waits for the stdout reader to reach EOF
	}
	// take moves what the children wrote into the ledger, until the ledger holds n lines.
	take := func(n int) {
		t.Helper()
		deadline := time.After(wait)
		for len(l.byLine) < n {
			select {
			case kr := <-lines:
				l.addKey(kr[0], kr[1])
			case <-deadline:
				t.Fatalf("the store has %d of %d lines", len(l.byLine), n)
			}
		}
	}

	w := &writer{t: t, path: log}
	w.open()
	cmd := startChild()
	defer func() { kill(cmd) }()
	rotation, nextKill := 0, total/(kills+1)
	for w.next < total {
		w.write(perFile / 3)
		if w.next%perFile == 0 {
			rotation++
			w.f.Close()
			if err := os.Rename(w.path, fmt.Sprintf("%s.%d", w.path, rotation)); err != nil {
				t.Fatal(err)
			}
			w.open()
		}
		if w.next >= nextKill && w.next < total {
			nextKill += total / (kills + 1)
			take(w.next / 2) // let the follower get going, then kill it mid-stream
			kill(cmd)
			cmd = startChild()
		}
	}
	w.f.Close()
	take(total)
	for len(lines) > 0 {
		kr := <-lines
		l.addKey(kr[0], kr[1])
	}
	l.complete(total)
	t.Logf("%d lines, %d records (%d again after %d kills), %d rotations", total, l.total, l.total-total, kills, rotation)
}

// addKey is add for a record known by its key and raw text only.
func (l *ledger) addKey(key, raw string) {
	l.t.Helper()
	l.total++
	if prev, ok := l.byKey[key]; ok && prev != raw {
		l.t.Fatalf("key %s names two lines: %q and %q", key, prev, raw)
	}
	if prev, ok := l.byLine[raw]; ok && prev != key {
		l.t.Fatalf("line %q came with two keys: %s and %s", raw, prev, key)
	}
	l.byKey[key] = raw
	l.byLine[raw] = key
}

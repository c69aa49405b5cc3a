package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestAlarmCommands runs serve, then every "hsmwatch alarm" command against it.
func TestAlarmCommands(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "app.log")
	fan := "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)"
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, dir, fmt.Sprintf("state_dir: %s\nhttp:\n  listen: 127.0.0.1:0\nsources:\n  files:\n    - path: %s\n",
		filepath.Join(dir, "state"), logFile))
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &out, &errb) }()
	defer func() {
		cancel()
		if c := <-code; c != 0 {
			t.Errorf("serve exited %d: %s", c, errb.String())
		}
	}()
	var base string
	waitFor(t, 20*time.Second, "serve to listen", func() bool {
		h := httpAddrRE.FindStringSubmatch(errb.String())
		if h != nil {
			base = "http://" + h[1]
		}
		return h != nil
	}, errb.String)
	f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, fan)
	f.Close()

	alarm := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, "", append(append([]string{"alarm"}, args...), "--url", base, "--by", "alice")...)
	}
	var listOut string
	waitFor(t, 20*time.Second, "the fan alarm listed", func() bool {
		_, listOut, _ = alarm("list")
		return strings.Contains(listOut, "Fan3B")
	}, func() string { return listOut + errb.String() })
	m := regexp.MustCompile(`(?m)^(\d+)\s+major\s+myLuna\s+Fan3B`).FindStringSubmatch(listOut)
	if m == nil {
		t.Fatalf("alarm list:\n%s", listOut)
	}
	id := m[1]

	if c, o, e := alarm("ack", id, "--comment", "fan ordered"); c != 0 || !strings.Contains(o, "acknowledged by alice") {
		t.Fatalf("ack: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("list", "--state", "acknowledged"); c != 0 || !strings.Contains(o, "acknowledged by alice") {
		t.Errorf("list --state acknowledged: %d %q %q", c, o, e)
	}
	c, o, e := alarm("silence", "--host", "myLuna", "--for", "2h", "--comment", "fan swap")
	sm := regexp.MustCompile(`^silence (\d+) until `).FindStringSubmatch(o)
	if c != 0 || sm == nil {
		t.Fatalf("silence: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("silence", "--list"); c != 0 || !strings.Contains(o, "fan swap") {
		t.Errorf("silence --list: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("list", "--state", "silenced"); c != 0 || !strings.Contains(o, "silenced (silence "+sm[1]+")") {
		t.Errorf("list --state silenced: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("unsilence", sm[1]); c != 0 || !strings.Contains(o, "ended") {
		t.Errorf("unsilence: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("maintenance", "add", "--host", "myLuna", "--weekdays", "sat,sun", "--start", "22:00",
		"--duration", "4h", "--zone", "Europe/Paris", "--comment", "backups"); c != 0 || !strings.Contains(o, "added") {
		t.Errorf("maintenance add: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("maintenance", "list"); c != 0 || !strings.Contains(o, "sat,sun") || !strings.Contains(o, "Europe/Paris") {
		t.Errorf("maintenance list: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("maintenance", "delete", "1"); c != 0 || !strings.Contains(o, "deleted") {
		t.Errorf("maintenance delete: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("close", id, "--comment", "replaced, the clear never came"); c != 0 || !strings.Contains(o, "closed by alice") {
		t.Errorf("close: %d %q %q", c, o, e)
	}
	if c, o, e := alarm("list"); c != 0 || strings.Contains(o, "Fan3B") {
		t.Errorf("list after close: %d %q %q", c, o, e)
	}

	// Mistakes: the API's, the command line's, and a daemon that is not there.
	if c, _, e := alarm("ack", id); c != 1 || !strings.Contains(e, "closed") {
		t.Errorf("ack of a closed alarm: %d %q", c, e)
	}
	if c, _, e := alarm("maintenance", "add", "--host", "h", "--start", "25:00", "--duration", "1h"); c != 1 || !strings.Contains(e, "start:") {
		t.Errorf("a bad start: %d %q", c, e)
	}
	if c, _, e := alarm("silence", "--host", "h", "--comment", "x"); c != 2 || !strings.Contains(e, "--for") {
		t.Errorf("silence without a span: %d %q", c, e)
	}
	if c, _, e := alarm("ack", "--bogus", id); c != 2 || !strings.Contains(e, "unknown flag: --bogus") {
		t.Errorf("a wrong flag: %d %q", c, e)
	}
	if c, _, e := alarm("close", id); c != 2 || !strings.Contains(e, "comment") {
		t.Errorf("close without a comment: %d %q", c, e)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if c, _, e := runCLI(t, "", "alarm", "list", "--url", dead); c != 1 || !strings.Contains(e, "cannot be reached") {
		t.Errorf("an unreachable daemon: %d %q", c, e)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", d, what, diag())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	httpAddrRE   = regexp.MustCompile(`msg="hsmwatch serving" http=(\S+)`)
	syslogAddrRE = regexp.MustCompile(`msg=listening source=syslog:\S+ network=udp addr=(\S+)`)
)

func getBody(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// apiMessages pages through /api/events (text filter optional) and returns every message
// with how often it was seen.
func apiMessages(t *testing.T, base, text string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	cursor := ""
	for {
		q := url.Values{"limit": {"1000"}}
		if text != "" {
			q.Set("q", text)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		code, body := getBody(t, base+"/api/events?"+q.Encode())
		if code != 200 {
			return seen
		}
		var page struct {
			Events []struct {
				Message string `json:"message"`
				Raw     string `json:"raw"`
			} `json:"events"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("events: %v: %s", err, body)
		}
		for _, e := range page.Events {
			seen[e.Raw]++
		}
		if page.Next == "" {
			return seen
		}
		cursor = page.Next
	}
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "hsmwatch.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeFileSyslogMetricsReload runs serve from a config file with a followed log file
// and a syslog UDP listener on a real SQLite store.
func TestServeFileSyslogMetricsReload(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// An NMS: the fan line below must reach it as a v2c notification.
	nms, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer nms.Close()
	t.Setenv("HSMWATCH_TEST_TRAP_COMMUNITY", "nms-secret")
	cfgPath := writeConfig(t, dir, fmt.Sprintf(`state_dir: %s
http:
  listen: 127.0.0.1:0
sources:
  files:
    - path: %s
  syslog:
    - listen: udp://127.0.0.1:0
sinks:
  stdout: true
  snmp_traps:
    - address: %s
      version: 2c
      community_env: HSMWATCH_TEST_TRAP_COMMUNITY
`, filepath.Join(dir, "state"), logFile, nms.LocalAddr()))
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &out, &errb) }()
	diag := func() string { return errb.String() }
	var base, sysAddr string
	waitFor(t, 20*time.Second, "serve to listen", func() bool {
		h, s := httpAddrRE.FindStringSubmatch(errb.String()), syslogAddrRE.FindStringSubmatch(errb.String())
		if h == nil || s == nil {
			return false
		}
		base, sysAddr = "http://"+h[1], s[1]
		return true
	}, diag)

	f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fileLine := "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: info : 0 : serve-test file line"
	fanLine := "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 0 < Threshold 2000 RPM)"
	fmt.Fprintln(f, fileLine)
	fmt.Fprintln(f, fanLine)
	f.Close()
	conn, err := net.Dial("udp", sysAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	udpLine := "<165>1 2026-02-28T12:05:01Z myLuna ipmievd 3120 - - serve-test udp line"
	if _, err := conn.Write([]byte(udpLine)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "both lines in /api/events", func() bool {
		m := apiMessages(t, base, "")
		return m[fileLine] == 1 && m[udpLine] == 1 && m[fanLine] == 1
	}, func() string { return fmt.Sprint(apiMessages(t, base, ""), errb.String()) })

	// The fan alarm went out as an SNMP notification with the community of the env variable.
	nms.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 65536)
	nb, _, err := nms.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no SNMP notification: %v\n%s", err, errb.String())
	}
	if !strings.Contains(string(buf[:nb]), "nms-secret") || !strings.Contains(string(buf[:nb]), "[myLuna:0.0.0.0 / app.log / 2012 Feb 29 12:05:01 / ipmievd / 1]") {
		t.Errorf("notification lacks the community or the log reference: %q", buf[:nb])
	}
	if strings.Contains(errb.String(), "nms-secret") {
		t.Error("the community was logged")
	}
	// sinks.stdout writes every event as a JSON line.
	waitFor(t, 30*time.Second, "JSON lines on stdout", func() bool {
		return strings.Contains(out.String(), `"message":"serve-test udp line"`) && strings.Contains(out.String(), `"notification":"fanAttentionNotify"`)
	}, out.String)

	status, metrics := getBody(t, base+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: status %d:\n%s", status, metrics)
	}
	for _, want := range []string{"hsmwatch_events_dropped_total 0", "hsmwatch_events_total{", "hsmwatch_lines_read_total{source=\"file:" + logFile + "\"} 2",
		"hsmwatch_pipeline_queue_depth", "hsmwatch_packets_read_total{source=\"syslog:udp://127.0.0.1:0\"} 1", "hsmwatch_parse_failures_total"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	// The notification leaves from the SNMP sink's own queue: wait for it to be counted.
	sent := regexp.MustCompile(`(?m)^hsmwatch_snmp_notifications_sent_total\{sink="snmp-traps 127\.0\.0\.1:\d+"\} 1$`)
	waitFor(t, 30*time.Second, "the one notification sent", func() bool {
		_, metrics = getBody(t, base+"/metrics")
		return sent.MatchString(metrics)
	}, func() string { return metrics })
	if c, _ := getBody(t, base+"/-/healthy"); c != 200 {
		t.Errorf("/-/healthy: %d", c)
	}
	if c, page := getBody(t, base+"/"); c != 200 || !strings.Contains(page, "<html") {
		t.Errorf("dashboard at /: %d %.200s", c, page)
	}

	// A reload with a broken file is refused; the daemon keeps running its configuration.
	good, _ := os.ReadFile(cfgPath)
	if err := os.WriteFile(cfgPath, append(append([]byte{}, good...), []byte("  webhooks:\n    - url: ftp://x\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "hsmwatch.yaml:16: sinks.webhooks[0].url") {
		t.Errorf("bad reload: %d %s", resp.StatusCode, body)
	}
	if c, _ := getBody(t, base+"/-/healthy"); c != 200 {
		t.Errorf("not healthy after a refused reload: %d", c)
	}
	// The same file, valid again, reloads.
	if err := os.WriteFile(cfgPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("good reload: %d", resp.StatusCode)
	}
	// Lines still flow after the reloads, to the store and to the live stream.
	streamCtx, streamCancel := context.WithTimeout(ctx, 20*time.Second)
	defer streamCancel()
	req, _ := http.NewRequestWithContext(streamCtx, http.MethodGet, base+"/api/stream", nil)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	conn.Write([]byte(udpLine + " again"))
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found := false
	for !found && sc.Scan() {
		found = strings.Contains(sc.Text(), "serve-test udp line again")
	}
	if !found {
		t.Fatalf("the live stream did not carry the line: %v", sc.Err())
	}
	streamCancel()
	waitFor(t, 20*time.Second, "a line after reload", func() bool { return apiMessages(t, base, "")[udpLine+" again"] == 1 }, diag)

	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d:\n%s", c, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errb.String(), "dropped=0") {
		t.Errorf("stop summary lacks dropped=0:\n%s", errb.String())
	}
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "state_dir: /tmp/x\nsources:\n  files:\n    - format: auto\n")
	code, _, stderr := runCLI(t, "", "serve", "--config", p)
	if code != 2 || !strings.Contains(stderr, p+":4: sources.files[0].path: required") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	p = writeConfig(t, dir, "state_dir: /tmp/x\nsourcez: {}\n")
	code, _, stderr = runCLI(t, "", "serve", "--config", p)
	if code != 2 || !strings.Contains(stderr, p+":2: sourcez: unknown key (did you mean sources?)") {
		t.Fatalf("unknown key: exit %d, stderr %q", code, stderr)
	}
}

func TestExampleConfigParses(t *testing.T) {
	c, err := config.Load(filepath.Join("..", "..", "examples", "hsmwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example shows every kind of source and sink.
	have := map[string]int{}
	for _, e := range append(c.Sources.List, c.Sinks.List...) {
		have[string(e.Kind.Role)+"."+e.Kind.Key]++
	}
	for _, role := range []component.Role{component.SourceRole, component.SinkRole} {
		for _, k := range component.Kinds(role) {
			if have[string(role)+"."+k.Key] == 0 && k.Key != "stdout" {
				t.Errorf("the example configuration has no %s.%s", role, k.Key)
			}
		}
	}
}

// TestServeStorePostgres: --store postgres://... puts the events in a real PostgreSQL
// (started by the test from Debian's binaries), whatever the file says.
func TestServeStorePostgres(t *testing.T) {
	dsn := pgtest.Start(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "app.log")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := writeConfig(t, dir, fmt.Sprintf("state_dir: %s\nhttp:\n  listen: 127.0.0.1:0\nsources:\n  files:\n    - path: %s\n",
		filepath.Join(dir, "state"), logFile))
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "--config", cfgPath, "--store", dsn}, strings.NewReader(""), &out, &errb)
	}()
	if err := os.WriteFile(logFile, []byte("2026 Nov 22 10:02:00 lunaPG local4 notice ipmievd: Power Supply sensor PSU2_Status . - Failure detected Asserted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitFor(t, 30*time.Second, "the line in PostgreSQL", func() bool {
		page, err := st.Events(context.Background(), store.EventFilter{Host: "lunaPG", Limit: 10})
		return err == nil && len(page.Events) == 1
	}, errb.String)
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("serve exited %d: %s", c, errb.String())
	}
}

package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/sink/webhook"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
	"github.com/hsmwatch/hsmwatch/internal/source/traps"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// webhookCounter is a webhook target that counts each message it receives.
type webhookCounter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (w *webhookCounter) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var body struct {
		Events []struct {
			Message string `json:"message"`
		} `json:"events"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	for _, e := range body.Events {
		w.seen[e.Message]++
	}
	w.mu.Unlock()
}

func (w *webhookCounter) counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

// TestReloadWithoutLoss: while a file and a UDP syslog sender write numbered lines, three
// reloads add a second file, change the syslog listener's rate in place, replace the
// webhook (new minimum level, same URL), change the state settings, drop the second
// file, replace the first file's follower (new format), and one more is refused. Every
// line is stored exactly once and reaches the webhook exactly once.
func TestReloadWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	ruleFile := filepath.Join(dir, "local.yaml")
	for _, f := range []string{fileA, fileB} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(ruleFile, []byte(localRule), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := &webhookCounter{seen: map[string]int{}}
	target := httptest.NewServer(hook)
	defer target.Close()
	udp := fmt.Sprintf("udp://127.0.0.1:%d", testutil.FreeUDPPort(t))

	// Four configurations, in the order the reloads apply them.
	conf := func(step int) *config.Config {
		c := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
			Rules: []string{ruleFile},
			State: state.Config{StormLimit: -1},
		}
		files := []*follow.Spec{{Path: fileA}}
		listener := &syslog.Spec{Listen: udp, Rate: 1e6}
		hook := &webhook.Spec{URL: target.URL, MinLevel: "major"}
		switch step {
		case 1: // a second file; the listener's rate and the webhook's level change; no dedup
			files = append(files, &follow.Spec{Path: fileB})
			listener.Rate = 2e6
			hook.MinLevel = "minor"
			c.State.DedupWindow = -1
		case 2: // the second file goes; the first one's follower is replaced
			files[0].Format = "luna-syslog"
			hook.MinLevel = "minor"
			c.State.DedupWindow = -1
		case 3: // not valid: refused, everything stays
			c.State.FlapCount = 1
		}
		var items []config.Item
		for _, f := range files {
			items = append(items, config.Item{Kind: "files", Spec: f})
		}
		c.Sources = sources(t, append(items, config.Item{Kind: "syslog", Spec: listener})...)
		c.Sinks = sinks(t, config.Item{Kind: "webhooks", Spec: hook})
		return c
	}
	var mu sync.Mutex
	step := 0
	d, stop := runDaemon(t, Options{Config: conf(0), Logger: slog.New(slog.DiscardHandler),
		Load: func() (*config.Config, error) { mu.Lock(); defer mu.Unlock(); return conf(step), nil }})

	// The writers: numbered lines into a.log and over UDP all along, into b.log while
	// it is configured. Each waits a little between lines so that the reloads fall
	// between them.
	conn, err := net.Dial("udp", strings.TrimPrefix(udp, "udp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	quit := make(chan struct{})
	var sentA, sentB, sentU int
	var bOpen sync.Mutex // held while b.log is written
	bOn := false
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			case <-time.After(time.Millisecond):
			}
			appendLog(t, fileA, fmt.Sprintf("daemon-test-token file-a-%d", i))
			sentA = i + 1
			fmt.Fprintf(conn, "<173>Feb 29 12:05:01 myLuna NTLS[1234]: daemon-test-token udp-%d", i)
			sentU = i + 1
			bOpen.Lock()
			if bOn {
				appendLog(t, fileB, fmt.Sprintf("daemon-test-token file-b-%d", sentB))
				sentB++
			}
			bOpen.Unlock()
		}
	})
	st := d.Store()
	messages := func() map[string]int {
		out := map[string]int{}
		f := store.EventFilter{Limit: store.MaxLimit}
		for {
			page, err := st.Events(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				out[e.Event.Message]++
			}
			if page.Next == "" {
				return out
			}
			f.Cursor = page.Next
		}
	}
	waitStored := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if len(messages()) >= n {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		per := map[string]int{}
		for m := range messages() {
			f := strings.Fields(m)
			per[strings.TrimRight(f[len(f)-1], "0123456789")]++
		}
		t.Fatalf("timed out waiting for %d events stored; stored by kind: %v; pipeline %+v", n, per, d.Stats())
	}
	reload := func(to int) error {
		mu.Lock()
		step = to
		mu.Unlock()
		return d.Reload()
	}

	waitStored(50)
	if err := reload(1); err != nil {
		t.Fatal(err)
	}
	bOpen.Lock()
	bOn = true
	bOpen.Unlock()
	waitStored(len(messages()) + 100)
	bOpen.Lock()
	bOn = false
	n := sentB
	bOpen.Unlock()
	// A source that is dropped stops reading: lines it had not read by then are not
	// its to deliver. Drop it once it has read everything written to it.
	testutil.WaitFor(t, "b.log read to its end", 30*time.Second, func() bool {
		return messages()[fmt.Sprintf("daemon-test-token file-b-%d", n-1)] == 1
	})
	if err := reload(2); err != nil {
		t.Fatal(err)
	}
	waitStored(len(messages()) + 50)
	mu.Lock()
	step = 3
	mu.Unlock()
	resp, err := http.Post("http://"+d.Addr().String()+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "flap_count") {
		t.Fatalf("invalid reload: %d %s", resp.StatusCode, body)
	}
	waitStored(len(messages()) + 50)
	close(quit)
	wg.Wait()

	total := sentA + sentB + sentU
	waitStored(total)
	testutil.WaitFor(t, "the webhook to have every line", 30*time.Second, func() bool { return len(hook.counts()) >= total })
	metrics := scrapeMetrics(t, d)
	stored, delivered := messages(), hook.counts()
	stop()

	check := func(prefix string, n int) {
		for i := range n {
			m := fmt.Sprintf("daemon-test-token %s-%d", prefix, i)
			if stored[m] != 1 || delivered[m] != 1 {
				t.Errorf("%s: stored %d times, delivered %d times", m, stored[m], delivered[m])
			}
		}
	}
	check("file-a", sentA)
	check("file-b", sentB)
	check("udp", sentU)
	if len(stored) != total || len(delivered) != total {
		t.Errorf("stored %d distinct, delivered %d, sent %d", len(stored), len(delivered), total)
	}
	if sentB == 0 {
		t.Fatal("the second file was never written: the test proves nothing about it")
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^hsmwatch_reloads_total 2$`),
		regexp.MustCompile(`(?m)^hsmwatch_reload_failures_total 1$`),
		regexp.MustCompile(`(?m)^hsmwatch_events_dropped_total 0$`),
		regexp.MustCompile(`(?m)^hsmwatch_lines_read_total\{source="file:` + regexp.QuoteMeta(fileA) + `"\} \d+$`),
	} {
		if !want.MatchString(metrics) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, fileB) {
		t.Error("/metrics still exports the dropped file source")
	}
	if n := strings.Count(metrics, "hsmwatch_packets_read_total{"); n != 1 {
		t.Errorf("%d packets_read_total series for one listener", n)
	}
}

func appendLog(t *testing.T, path, msg string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: %s\n", msg)
}

func scrapeMetrics(t *testing.T, d *Daemon) string {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: status %d:\n%s", resp.StatusCode, b)
	}
	return string(b)
}

// TestRestartDeliversOnce: a daemon stopped while it still reads and drains a file, then
// started again, delivers every line to the webhook once: the offsets the drain
// acknowledged are committed after it, and a line read again all the same (kept once by
// the store) is not handed to the sinks a second time.
func TestRestartDeliversOnce(t *testing.T) {
	dir := t.TempDir()
	logFile, ruleFile := filepath.Join(dir, "in.log"), filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ruleFile, []byte(localRule), 0o600); err != nil {
		t.Fatal(err)
	}
	hook := &webhookCounter{seen: map[string]int{}}
	target := httptest.NewServer(hook)
	defer target.Close()
	cfg := &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Rules: []string{ruleFile}, State: state.Config{StormLimit: -1, DedupWindow: -1},
		Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}}),
		Sinks:   sinks(t, config.Item{Kind: "webhooks", Spec: &webhook.Spec{URL: target.URL, MinLevel: "major"}})}
	written := 0
	write := func(n int) {
		for range n {
			appendLog(t, logFile, fmt.Sprintf("daemon-test-token line-%d", written))
			written++
		}
	}
	for range 3 {
		d, stop := runDaemon(t, Options{Config: cfg})
		before := d.Stats().Received
		write(2000)
		// Stop as soon as the follower reads: most lines are still to be read, queued or
		// in a batch, and the drain acknowledges them after the follower's last commit.
		testutil.WaitFor(t, "the follower to read", 20*time.Second, func() bool { return d.Stats().Received > before })
		stop()
	}
	_, stop := runDaemon(t, Options{Config: cfg})
	testutil.WaitFor(t, "every line at the webhook", 30*time.Second, func() bool { return len(hook.counts()) >= written })
	stop()
	twice := 0
	for m, n := range hook.counts() {
		if n != 1 {
			twice++
			if twice < 5 {
				t.Errorf("%s delivered %d times", m, n)
			}
		}
	}
	if got := len(hook.counts()); got != written || twice > 0 {
		t.Fatalf("%d distinct lines delivered of %d written, %d more than once", got, written, twice)
	}
}

// TestReloadTrapCommunities: a reload that adds a community applies on the receiver's
// open socket: a trap refused before it is received after it, at the same address.
func TestReloadTrapCommunities(t *testing.T) {
	dir := t.TempDir()
	conf := func(communities ...string) *config.Config {
		return &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
			Sources: sources(t, config.Item{Kind: "traps", Spec: &traps.Spec{Listen: "127.0.0.1:0", Communities: communities}})}
	}
	next := conf("first", "second")
	d, stop := runDaemon(t, Options{Config: conf("first"), Logger: slog.New(slog.DiscardHandler),
		Load: func() (*config.Config, error) { return next, nil }})
	addr := d.Addrs("traps")[0].String()
	send := func(community, marker string) {
		tg := notify.Target{Addr: addr, Version: gosnmp.Version2c, Community: community}
		vars := []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
			{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.23629.1.5.2.2.6"},
			{Name: ".1.3.6.1.4.1.23629.1.5.2.2.1", Type: gosnmp.OctetString,
				Value: "[myLuna:10.0.0.1 / messages / 2012 Feb 29 12:05:01 / " + marker + "[9] / 1]"},
		}
		if err := notify.Send(context.Background(), tg, notify.Engine{}, nil, vars); err != nil {
			t.Fatal(err)
		}
	}
	stored := func(marker string) bool {
		page, err := d.Store().Events(context.Background(), store.EventFilter{Text: marker})
		return err == nil && len(page.Events) > 0
	}
	refused := func() bool {
		return regexp.MustCompile(`(?m)^hsmwatch_parse_failures_total\{source="traps:[^"]+"\} 1$`).MatchString(scrapeMetrics(t, d))
	}
	send("second", "before")
	testutil.WaitFor(t, "the refusal to be counted", 30*time.Second, refused)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := d.Addrs("traps")[0].String(); got != addr {
		t.Fatalf("the receiver moved from %s to %s", addr, got)
	}
	send("second", "after")
	testutil.WaitFor(t, "the trap sent with the new community", 30*time.Second, func() bool { return stored("after") })
	if stored("before") {
		t.Error("the trap refused before the reload was stored")
	}
	stop()
}

package live

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/state"
)

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// startHub runs a hub behind a test server until the test ends.
func startHub(t *testing.T, opts Options) (*Hub, *httptest.Server, context.CancelFunc, chan error) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- h.Run(ctx) }()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		cancel()
		<-ran
		srv.Close()
	})
	return h, srv, cancel, ran
}

// frame is one SSE message.
type frame struct {
	id, event, data string
	comment         string
}

// stream reads SSE messages from a response body.
type stream struct {
	t    *testing.T
	body io.ReadCloser
	r    *bufio.Reader
}

// connect opens a stream and waits for its greeting, after which the hub has the client
// registered.
func connect(t *testing.T, srv *httptest.Server) *stream {
	t.Helper()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, body: resp.Body, r: bufio.NewReader(resp.Body)}
	t.Cleanup(func() { s.body.Close() })
	if f, err := s.next(); err != nil || f.comment != "hsmwatch live" {
		t.Fatalf("greeting: %+v %v", f, err)
	}
	return s
}

// next reads one message or comment block.
func (s *stream) next() (frame, error) {
	var f frame
	seen := false
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return f, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if seen {
				return f, nil
			}
			continue
		}
		seen = true
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimPrefix(v, " ")
		switch k {
		case "":
			f.comment = v
		case "id":
			f.id = v
		case "event":
			f.event = v
		case "data":
			f.data = v
		}
	}
}

type batchBody struct {
	Events []map[string]any `json:"events"`
	Alarms []map[string]any `json:"alarms"`
}

// nextBatch skips heartbeats and decodes the next batch.
func (s *stream) nextBatch() (uint64, batchBody) {
	s.t.Helper()
	for {
		f, err := s.next()
		if err != nil {
			s.t.Fatalf("stream: %v", err)
		}
		if f.event == "" {
			continue
		}
		if f.event != "batch" {
			s.t.Fatalf("event %q", f.event)
		}
		id, err := strconv.ParseUint(f.id, 10, 64)
		if err != nil {
			s.t.Fatalf("id %q", f.id)
		}
		var b batchBody
		if err := json.Unmarshal([]byte(f.data), &b); err != nil {
			s.t.Fatalf("data %q: %v", f.data, err)
		}
		return id, b
	}
}

func item(i int, raw string) component.Item {
	return component.Item{Record: component.Record{Event: &event.Event{Time: base.Add(time.Duration(i) * time.Second),
		Host: "luna1", Source: event.SourceLunaSyslog, Level: "info", Message: fmt.Sprintf("m%d", i), Raw: raw}}}
}

// TestOrderAndContent: every client gets every batch, numbered and in order, with the
// events in schema v1 plus the site, and the alarms the decisions changed.
func TestOrderAndContent(t *testing.T) {
	h, srv, _, _ := startHub(t, Options{Site: "paris", ClientBuffer: 1000})
	a, b := connect(t, srv), connect(t, srv)

	opened := state.Alarm{Host: "luna1", Key: "fan", Rule: "ipmi.fan", Level: "critical", Opened: base, LastSeen: base, Asserts: 1}
	matured := state.Alarm{Host: "luna2", Key: "psu", Level: "major", Opened: base, Cleared: base.Add(time.Minute)}
	also := state.Alarm{Host: "luna1", Key: "disk", Level: "minor", Opened: base, Cleared: base.Add(time.Minute)}
	const n = 200
	for i := range n {
		it := item(i, "line\nwith a break and <b>markup</b>")
		if i == 7 {
			it.Decision = state.Decision{Change: state.Opened, Alarm: &opened, Matured: []state.Alarm{matured},
				AlsoCleared: []state.Alarm{also}}
		}
		if i == 8 {
			it.Decision = state.Decision{Change: state.Unmatched} // no alarm
		}
		if err := h.Write(context.Background(), []component.Item{it, item(1000+i, "second")}); err != nil {
			t.Fatal(err)
		}
	}
	// A held clear that matured on the pipeline's tick comes as hsmwatch's own event.
	tick := item(n, "hold-down ended")
	tick.Decision = state.Decision{Change: state.Cleared, Matured: []state.Alarm{matured}}
	if err := h.Write(context.Background(), []component.Item{tick}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*stream{"a": a, "b": b} {
		for i := range n {
			id, body := s.nextBatch()
			if id != uint64(i+1) {
				t.Fatalf("client %s: batch %d has id %d", name, i, id)
			}
			if len(body.Events) != 2 || body.Events[0]["message"] != fmt.Sprintf("m%d", i) ||
				body.Events[1]["message"] != fmt.Sprintf("m%d", 1000+i) {
				t.Fatalf("client %s: batch %d: %+v", name, i, body.Events)
			}
			e := body.Events[0]
			if e["site"] != "paris" || e["host"] != "luna1" || e["raw"] != "line\nwith a break and <b>markup</b>" ||
				e["time"] != base.Add(time.Duration(i)*time.Second).Format(time.RFC3339) {
				t.Fatalf("client %s: event %+v", name, e)
			}
			var keys []string
			for _, a := range body.Alarms {
				keys = append(keys, fmt.Sprint(a["site"], "/", a["host"], "/", a["key"]))
			}
			want := ""
			if i == 7 {
				want = "paris/luna2/psu paris/luna1/fan paris/luna1/disk"
			}
			if got := strings.Join(keys, " "); got != want {
				t.Errorf("client %s: batch %d alarms %q, want %q", name, i, got, want)
			}
		}
		id, body := s.nextBatch()
		if id != n+1 || len(body.Events) != 1 || len(body.Alarms) != 1 || body.Alarms[0]["cleared"] == nil {
			t.Errorf("client %s: matured alarms: %d %+v", name, id, body)
		}
	}
	if st := h.Stats(); st.Published != n+1 || st.Dropped != 0 || st.Clients != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestSlowClientDropped: a browser that stops reading is dropped once its queue is full;
// publishing never waits for it, and a reading client goes on getting everything.
func TestSlowClientDropped(t *testing.T) {
	h, srv, _, _ := startHub(t, Options{ClientBuffer: 4, WriteTimeout: 300 * time.Millisecond, Heartbeat: time.Hour})
	fast := connect(t, srv)

	// The slow client sends its request and never reads: once the sockets' buffers are
	// full, the server's writes to it stall.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for h.Stats().Clients < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the slow client never joined")
		}
		time.Sleep(5 * time.Millisecond)
	}

	big := strings.Repeat("x", 64<<10)
	var slowest time.Duration
	published := 0
	for h.Stats().Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the slow client was never dropped: %+v", h.Stats())
		}
		start := time.Now()
		if err := h.Write(context.Background(), []component.Item{item(published, big)}); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		published++
		// The fast client keeps up: it reads each batch before the next is published.
		if id, _ := fast.nextBatch(); id != uint64(published) {
			t.Fatalf("fast client: id %d, want %d", id, published)
		}
	}
	if slowest > 250*time.Millisecond {
		t.Errorf("a publish took %v: the slow client held up the pipeline", slowest)
	}
	t.Logf("slow client dropped after %d batches of 64 KiB; slowest publish %v", published, slowest)
	// Its stream ends: the server closes the connection once its stalled write times out.
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Errorf("the slow client's connection was not closed: %v", err)
	}
	// The fast client is still served.
	if err := h.Write(context.Background(), []component.Item{item(published, "after")}); err != nil {
		t.Fatal(err)
	}
	if id, body := fast.nextBatch(); id != uint64(published+1) || body.Events[0]["raw"] != "after" {
		t.Errorf("fast client after the drop: %d %+v", id, body)
	}
	if st := h.Stats(); st.Dropped != 1 || st.Clients != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHeartbeat(t *testing.T) {
	_, srv, _, _ := startHub(t, Options{Heartbeat: 20 * time.Millisecond})
	s := connect(t, srv)
	for range 3 {
		f, err := s.next()
		if err != nil || f.comment != "ping" {
			t.Fatalf("heartbeat: %+v %v", f, err)
		}
	}
}

// TestShutdown: cancelling Run's context ends every stream, Run returns, new streams are
// refused and publishing does nothing.
func TestShutdown(t *testing.T) {
	h, srv, cancel, ran := startHub(t, Options{Heartbeat: time.Hour})
	s := connect(t, srv)
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		ran <- nil // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if f, err := s.next(); err == nil {
		t.Errorf("the stream goes on after shutdown: %+v", f)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream after shutdown: %d", resp.StatusCode)
	}
	if err := h.Write(context.Background(), []component.Item{item(1, "late")}); err != nil {
		t.Error(err)
	}
	if st := h.Stats(); st.Clients != 0 || st.Published != 0 || st.Refused != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestLimitsAndMethods(t *testing.T) {
	h, srv, _, _ := startHub(t, Options{MaxClients: 1})
	connect(t, srv)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a stream over the limit: %d", resp.StatusCode)
	}
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	if st := h.Stats(); st.Refused != 1 || st.Clients != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestNobodyListening: without streams, a batch is not even encoded.
func TestNobodyListening(t *testing.T) {
	h := New(Options{})
	if err := h.Write(context.Background(), []component.Item{item(1, "x")}); err != nil {
		t.Fatal(err)
	}
	if st := h.Stats(); st.Published != 0 {
		t.Errorf("stats %+v", st)
	}
}

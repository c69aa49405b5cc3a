package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// A listing of 1,000 events of 65 KB each stays under the byte cap: messages and raw
// lines are clipped, and the whole event is at /api/events/{id}.
func TestListingStaysUnderTheByteCap(t *testing.T) {
	st, big := bigEvents(t)
	const maxBytes = 2 << 20
	srv := httptest.NewServer(New(st, Options{MaxResponseBytes: maxBytes}))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/api/events?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if len(body) > maxBytes {
		t.Fatalf("body %d bytes, over the cap %d", len(body), maxBytes)
	}
	var page struct {
		Events []struct {
			ID      int64  `json:"id"`
			Message string `json:"message"`
			Raw     string `json:"raw"`
			Clipped bool   `json:"clipped"`
		} `json:"events"`
		Truncated bool   `json:"truncated"`
		Next      string `json:"next"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !page.Truncated || len(page.Events) == 0 || len(page.Events) >= 1000 || page.Next == "" {
		t.Fatalf("truncated %v with %d events, next %q", page.Truncated, len(page.Events), page.Next)
	}
	first := page.Events[0]
	if !first.Clipped || len(first.Message) > 4<<10 || len(first.Raw) > 4<<10 || !strings.HasPrefix(first.Message, "999 é") {
		t.Fatalf("first event not clipped as expected: clipped %v, message %d bytes, raw %d bytes", first.Clipped, len(first.Message), len(first.Raw))
	}

	resp, err = http.Get(fmt.Sprint(srv.URL, "/api/events/", first.ID))
	if err != nil {
		t.Fatal(err)
	}
	var one struct {
		Event struct {
			Message string `json:"message"`
			Raw     string `json:"raw"`
			Clipped bool   `json:"clipped"`
		} `json:"event"`
	}
	err = json.NewDecoder(resp.Body).Decode(&one)
	resp.Body.Close()
	if err != nil || one.Event.Clipped || one.Event.Raw != big || one.Event.Message != "999 "+big {
		t.Fatalf("the whole event: err %v, clipped %v, message %d bytes", err, one.Event.Clipped, len(one.Event.Message))
	}
	for _, path := range []string{"/api/events/999999", "/api/events/x"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 404, false: 400}[strings.HasSuffix(path, "9")]; resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// bigEvents is a store of 1,000 events of luna1 whose message and raw line are 65 KB each.
func bigEvents(t *testing.T) (store.Store, string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{Site: "paris", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	big := strings.Repeat("é", 65<<10/2) // 65 KB, two bytes a character
	for from := 0; from < 1000; from += 100 {
		var recs []component.Record
		for i := from; i < from+100; i++ {
			e := &event.Event{Time: base.Add(time.Duration(i) * time.Second), Host: "luna1", Source: event.SourceLunaSyslog,
				Message: fmt.Sprint(i, " ", big), Raw: big}
			recs = append(recs, component.Record{Event: e, Key: fmt.Sprint("k", i)})
		}
		if _, err := st.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	return st, big
}

// eventsPage is an answer of /api/events.
type eventsPage struct {
	Events []struct {
		ID int64 `json:"id"`
	} `json:"events"`
	Truncated bool   `json:"truncated"`
	Next      string `json:"next"`
	NextLink  string `json:"next_link"`
}

// TestListingMemoryUnderAttack is the audit's attack on the API's memory: 1,000 events of
// 65 KB; 8 clients that ask for /api/events?limit=1000 and never read their answer, and
// 8 that ask for it in parallel and read it. The Go heap in use stays within 64 MiB of
// what it was before (the earlier API built each of these answers as a 130 MB page), and
// a well-behaved client meanwhile pages through every event, once each, by the "next"
// links of answers the byte cap cut.
func TestListingMemoryUnderAttack(t *testing.T) {
	st, _ := bigEvents(t)
	const bound = 64 << 20
	var inFlight atomic.Int64
	api := New(st, Options{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		defer inFlight.Add(-1)
		api.ServeHTTP(w, r)
	}))
	// Small socket buffers, so that an answer nobody reads blocks its handler at once,
	// as a slow client does on any kernel; the write timeout ends those at last.
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if tc, ok := c.(*net.TCPConn); ok && s == http.StateNew {
			tc.SetWriteBuffer(16 << 10)
		}
	}
	srv.Config.WriteTimeout = 3 * time.Minute
	srv.Start()
	t.Cleanup(srv.Close)

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapInuse
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-tick.C:
			}
		}
	}()

	addr := srv.Listener.Addr().String()
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		if _, err := fmt.Fprintf(c, "GET /api/events?limit=1000 HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for inFlight.Load() < 8 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of the 8 unread requests in progress", inFlight.Load())
		}
		time.Sleep(10 * time.Millisecond) // polling for the condition
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/api/events?limit=1000")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			// Read as a client does, keeping only the end: the answer must close with
			// the flag and the cursor.
			var tail []byte
			n := 0
			buf := make([]byte, 32<<10)
			for {
				k, err := resp.Body.Read(buf)
				n += k
				tail = append(tail, buf[:k]...)
				if len(tail) > 64<<10 {
					tail = append(tail[:0], tail[len(tail)-4<<10:]...)
				}
				if err != nil {
					break
				}
			}
			if resp.StatusCode != 200 || n > 4<<20 || !bytes.Contains(tail, []byte(`"truncated":true,"next":"`)) {
				errs <- fmt.Errorf("status %d, %d bytes, ending %.200q", resp.StatusCode, n, tail[max(0, len(tail)-200):])
			}
		}()
	}

	// The well-behaved client, meanwhile: every event once, page by page.
	seen := map[int64]bool{}
	link := "/api/events?limit=1000"
	pages := 0
	for link != "" {
		resp, err := http.Get(srv.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		var page eventsPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d, %v", link, resp.StatusCode, err)
		}
		pages++
		for _, e := range page.Events {
			if seen[e.ID] {
				t.Fatalf("event %d listed twice", e.ID)
			}
			seen[e.ID] = true
		}
		if page.Truncated != (page.Next != "" && len(seen) < 1000) {
			t.Errorf("page %d: truncated %v, next %q after %d events", pages, page.Truncated, page.Next, len(seen))
		}
		link = page.NextLink
	}
	if len(seen) != 1000 || pages < 2 {
		t.Errorf("the well-behaved client saw %d events in %d pages, want 1000 in several", len(seen), pages)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a parallel reader: %v", err)
	}
	if n := inFlight.Load(); n < 8 {
		t.Errorf("only %d requests still in progress: the unread answers were not held", n)
	}
	close(stopSampling)
	<-sampled
	grew := int64(peak.Load()) - int64(baseline)
	t.Logf("heap in use: %d MiB before, peak %d MiB (+%d MiB; bound +%d MiB)", baseline>>20, peak.Load()>>20, grew>>20, bound>>20)
	if grew > bound {
		t.Errorf("the heap in use grew by %d MiB under attack, over the bound of %d MiB", grew>>20, bound>>20)
	}
}

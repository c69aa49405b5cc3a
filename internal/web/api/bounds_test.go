package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

// A listing of 1,000 events of 65 KB each stays under the byte cap: messages and raw
// lines are clipped, and the whole event is at /api/events/{id}.
func TestListingStaysUnderTheByteCap(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{Site: "paris", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	big := strings.Repeat("é", 65<<10/2) // 65 KB, two bytes a character
	var recs []component.Record
	for i := range 1000 {
		e := &event.Event{Time: base.Add(time.Duration(i) * time.Second), Host: "luna1", Source: event.SourceLunaSyslog,
			Message: fmt.Sprint(i, " ", big), Raw: big}
		recs = append(recs, component.Record{Event: e, Key: fmt.Sprint("k", i)})
	}
	if _, err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
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
		Truncated bool `json:"truncated"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !page.Truncated || len(page.Events) == 0 || len(page.Events) >= 1000 {
		t.Fatalf("truncated %v with %d events", page.Truncated, len(page.Events))
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

package live

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// clientFrom is an HTTP client whose connections come from the local address ip.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// TestStreamsCappedPerAddress: past MaxPerAddress, one address is refused (503, the
// refusals logged once an interval) while another address still connects; a stream
// that ends gives its place back.
func TestStreamsCappedPerAddress(t *testing.T) {
	logs := &testutil.SyncBuffer{}
	h, srv, _, _ := startHub(t, Options{MaxPerAddress: 3, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	one, two := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	open := func(c *http.Client) *http.Response {
		t.Helper()
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode == http.StatusOK {
			if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		return resp
	}
	var first *http.Response
	for i := range 3 {
		if resp := open(one); resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		} else if i == 0 {
			first = resp
		}
	}
	for range 20 {
		if resp := open(one); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a stream past the cap: %d", resp.StatusCode)
		}
	}
	if resp := open(two); resp.StatusCode != http.StatusOK {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
	if n := strings.Count(logs.String(), "too many open from this address"); n != 1 {
		t.Errorf("refusals logged %d times, want once:\n%s", n, logs.String())
	}
	if st := h.Stats(); st.Refused != 20 || st.Clients != 4 {
		t.Errorf("stats %+v", st)
	}
	// Closing one stream gives its place back, once the hub has seen it go.
	first.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for h.Stats().Clients != 3 {
		if ctx.Err() != nil {
			t.Fatalf("the closed stream is still counted: %+v", h.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if resp := open(one); resp.StatusCode != http.StatusOK {
		t.Fatalf("after one closed: %d", resp.StatusCode)
	}
}

// TestSetMaxPerAddress: a reload's new http.max_streams_per_address applies to the
// streams opened after it; those already open stay.
func TestSetMaxPerAddress(t *testing.T) {
	h, srv, _, _ := startHub(t, Options{MaxPerAddress: 1})
	c := clientFrom("127.0.0.1")
	status := func() int {
		t.Helper()
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode == http.StatusOK {
			if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("the first stream: %d", got)
	}
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("a second stream at a cap of 1: %d", got)
	}
	h.SetMaxPerAddress(2)
	if got := status(); got != http.StatusOK {
		t.Errorf("a second stream at a cap of 2: %d", got)
	}
	if got := status(); got != http.StatusServiceUnavailable {
		t.Errorf("a third stream at a cap of 2: %d", got)
	}
	h.SetMaxPerAddress(1)
	if st := h.Stats(); st.Clients != 2 {
		t.Errorf("lowering the cap closed streams: %+v", st)
	}
	if got := status(); got != http.StatusServiceUnavailable {
		t.Errorf("a stream past the lowered cap: %d", got)
	}
}

package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/web/api"
)

// echo answers who acted (api.Actor) and can hold requests until released.
type echo struct {
	hold    chan struct{}
	entered chan struct{}
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.hold != nil && r.URL.Path == "/api/slow" {
		e.entered <- struct{}{}
		<-e.hold
	}
	w.Write([]byte("actor=" + api.Actor(r)))
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader("{}"))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func TestWithoutAuthentication(t *testing.T) {
	g, err := New(&echo{}, Options{Hosts: []string{"hsm-monitor.example"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, target string
		hdr                  map[string]string
		want                 int
	}{
		{"a script reloads", "POST", "http://127.0.0.1:9841/-/reload", nil, 200},
		{"the page acknowledges", "POST", "http://127.0.0.1:9841/api/alarms/1/ack", map[string]string{"Origin": "http://127.0.0.1:9841"}, 200},
		{"cross-origin POST", "POST", "http://127.0.0.1:9841/-/reload", map[string]string{"Origin": "http://evil.example"}, 403},
		{"opaque origin", "POST", "http://127.0.0.1:9841/-/reload", map[string]string{"Origin": "null"}, 403},
		{"other scheme", "POST", "http://127.0.0.1:9841/-/reload", map[string]string{"Origin": "https://127.0.0.1:9841"}, 403},
		{"cross-site without Origin", "DELETE", "http://127.0.0.1:9841/api/silences/1", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"rebound name", "GET", "http://rebind.evil.example:9841/api/alarms", nil, 403},
		{"rebound name, POST", "POST", "http://rebind.evil.example:9841/-/reload", map[string]string{"Origin": "http://rebind.evil.example:9841"}, 403},
		{"configured name", "GET", "http://HSM-Monitor.example:9841/api/alarms", nil, 200},
		{"localhost", "GET", "http://localhost:9841/metrics", nil, 200},
		{"IPv6 literal", "GET", "http://[::1]:9841/metrics", nil, 200},
	} {
		if code, body := do(t, g, c.method, c.target, c.hdr); code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, body, c.want)
		}
	}
	// The stated actor is kept when nobody authenticates.
	if _, body := do(t, g, "POST", "http://127.0.0.1/api/alarms/1/ack", map[string]string{api.ActorHeader: "alice"}); body != "actor=alice" {
		t.Errorf("actor: %s", body)
	}
}

func TestRolesAndCSRF(t *testing.T) {
	g, err := New(&echo{}, Options{Auth: true, Roles: map[string]string{"olga": Operator, "vera": Viewer}})
	if err != nil {
		t.Fatal(err)
	}
	token := func(user string) string {
		r := httptest.NewRequest("GET", "http://127.0.0.1/api/csrf", nil)
		r.SetBasicAuth(user, "verified by exporter-toolkit")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		var v struct{ Token, User, Role string }
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != 200 || v.User != user || v.Token == "" {
			t.Fatalf("csrf for %s: %d %s", user, w.Code, w.Body)
		}
		return v.Token
	}
	post := func(user, tok string, hdr map[string]string) (int, string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1/api/alarms/7/ack", nil)
		r.SetBasicAuth(user, "x")
		if tok != "" {
			r.Header.Set(CSRFHeader, tok)
		}
		r.Header.Set(api.ActorHeader, "mallory")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	olga, vera := token("olga"), token("vera")
	if olga == vera {
		t.Fatal("two users share a token")
	}
	if code, body := post("olga", olga, nil); code != 200 || body != "actor=olga" {
		t.Errorf("operator with token: %d %s", code, body)
	}
	if code, body := post("olga", olga, map[string]string{"Origin": "http://127.0.0.1"}); code != 200 {
		t.Errorf("operator from the page: %d %s", code, body)
	}
	if code, body := post("olga", "", nil); code != 403 || !strings.Contains(body, CSRFHeader) {
		t.Errorf("operator without token: %d %s", code, body)
	}
	if code, body := post("olga", vera, nil); code != 403 {
		t.Errorf("operator with another's token: %d %s", code, body)
	}
	if code, body := post("olga", olga, map[string]string{"Origin": "http://evil.example"}); code != 403 {
		t.Errorf("cross-origin with token: %d %s", code, body)
	}
	if code, body := post("vera", vera, nil); code != 403 || !strings.Contains(body, "operator role") {
		t.Errorf("viewer acknowledges: %d %s", code, body)
	}
	if code, body := post("nobody-named", token("nobody-named"), nil); code != 403 {
		t.Errorf("a user without a role (viewer): %d %s", code, body)
	}
	// A viewer reads.
	r := httptest.NewRequest("GET", "http://127.0.0.1/api/alarms", nil)
	r.SetBasicAuth("vera", "x")
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != "actor=vera" {
		t.Errorf("viewer reads: %d %s", w.Code, w.Body)
	}
	// No credentials at all (a client-certificate-only setup without a certificate).
	if code, _ := do(t, g, "GET", "http://127.0.0.1/api/alarms", nil); code != 401 {
		t.Errorf("anonymous: %d", code)
	}
	if _, err := New(&echo{}, Options{Roles: map[string]string{"x": "admin"}}); err == nil {
		t.Error("an unknown role accepted")
	}
}

func TestAPIRequestsBounded(t *testing.T) {
	e := &echo{hold: make(chan struct{}), entered: make(chan struct{})}
	g, err := New(e, Options{MaxAPIRequests: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { do(t, g, "GET", "http://127.0.0.1/api/slow", nil) })
		<-e.entered
	}
	if code, _ := do(t, g, "GET", "http://127.0.0.1/api/alarms", nil); code != http.StatusServiceUnavailable {
		t.Errorf("past the limit: %d", code)
	}
	if code, _ := do(t, g, "GET", "http://127.0.0.1/metrics", nil); code != 200 {
		t.Errorf("outside the API: %d", code)
	}
	close(e.hold)
	wg.Wait()
	if code, _ := do(t, g, "GET", "http://127.0.0.1/api/alarms", nil); code != 200 {
		t.Errorf("after: %d", code)
	}
}

package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/hsmwatch/hsmwatch/internal/config"
	hsmdaemon "github.com/hsmwatch/hsmwatch/internal/daemon"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// TestCrossOriginReloadRefusedInChromium drives the audit's attack in a real browser
// against the real daemon (internal/daemon, the /-/reload handler and its
// hsmwatch_reloads_total): a page served from another origin posts to /-/reload with a
// no-cors fetch and with a form, carrying the operator's credentials as a signed-in
// browser does; the daemon refuses both and the counter does not move. A reload from the
// dashboard's own origin by the operator, with the CSRF token of GET /api/csrf, counts.
// Once without authentication (the default: every client is an operator, the Origin
// check alone stands) and once with basic auth users.
func TestCrossOriginReloadRefusedInChromium(t *testing.T) {
	dir := t.TempDir()
	h, err := bcrypt.GenerateFromPassword([]byte("olga-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webFile := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webFile, []byte("basic_auth_users:\n  olga: "+string(h)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		webFile string
	}{{"without authentication", ""}, {"signed in", webFile}} {
		t.Run(tc.name, func(t *testing.T) {
			crossOriginReload(t, tc.webFile)
		})
	}
}

func crossOriginReload(t *testing.T, webFile string) {
	logs := &testutil.SyncBuffer{}
	cfg := &config.Config{File: "test", StateDir: filepath.Join(t.TempDir(), "state"),
		HTTP: config.HTTP{Listen: "127.0.0.1:0", WebConfigFile: webFile, Roles: map[string]string{"olga": "operator"}}}
	d, err := hsmdaemon.New(context.Background(), hsmdaemon.Options{Config: cfg,
		Load:   func() (*config.Config, error) { return cfg, nil },
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	target := "http://" + d.Addr().String()
	signedIn := webFile != ""
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", target+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if signedIn {
			req.SetBasicAuth("olga", "olga-pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	reloads := func() string {
		t.Helper()
		code, body := get("/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d %.200s", code, body)
		}
		for line := range strings.Lines(body) {
			if strings.HasPrefix(line, "hsmwatch_reloads_total ") {
				return strings.TrimSpace(strings.TrimPrefix(line, "hsmwatch_reloads_total "))
			}
		}
		t.Fatalf("no hsmwatch_reloads_total in /metrics")
		return ""
	}
	testutil.WaitFor(t, "the daemon to serve", 30*time.Second, func() bool {
		code, _ := get("/-/healthy")
		return code == 200
	})
	before := reloads()

	// The other origin: another port of the same machine is another origin already.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="%[1]s/-/reload" target="sink"><input name="x" value="1"></form>
<script>
window.fetched = null;
fetch(%[1]q + "/-/reload", {method: "POST", mode: "no-cors", credentials: "include"})
  .then(r => { window.fetched = r.type; }, e => { window.fetched = "error " + e; });
document.getElementById("f").submit();
</script>`, target)
	}))
	defer evil.Close()

	b := newBrowser(t)
	if signedIn {
		b.signIn(t, "olga", "olga-pw") // the browser sends olga's credentials everywhere
	}
	b.do(t, "open the other origin's page", chromedp.Navigate(evil.URL+"/"))
	b.waitFor(t, "the no-cors fetch to finish", `window.fetched !== null`)
	if got := eval[string](t, b, `String(window.fetched)`); got != "opaque" {
		t.Errorf("the no-cors fetch ended with %q, want an opaque answer (the request was sent)", got)
	}
	// Both requests reached the daemon (each is either refused by the guard or reloads)
	// and were refused, for their origin.
	count := func(parts ...string) int {
		n := 0
		for line := range strings.Lines(logs.String()) {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				n++
			}
		}
		return n
	}
	refused := func() int {
		return count(`msg="http: refused"`, "path=/-/reload", `why="cross-origin request refused"`)
	}
	testutil.WaitFor(t, "the fetch and the form to reach the daemon", 30*time.Second, func() bool {
		return count(`msg="http: refused"`, "path=/-/reload")+count(`msg="configuration reloaded"`) >= 2
	})
	if got := reloads(); got != before {
		t.Errorf("hsmwatch_reloads_total moved from %s to %s by another origin's page", before, got)
	}
	if n := refused(); n != 2 {
		t.Errorf("%d cross-origin reloads refused, want 2 (the fetch and the form)", n)
	}

	// The operator on the dashboard's own origin: without the token refused when users
	// sign in; with it, the reload is done and counted.
	b.do(t, "open the dashboard", chromedp.Navigate(target+"/"))
	post := func(withToken bool) int {
		t.Helper()
		b.do(t, "post a reload from the page", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			window.reloadStatus = null;
			fetch("/api/csrf").then(r => r.json())
				.then(j => fetch("/-/reload", {method: "POST", headers: %s ? {"X-CSRF-Token": j.token} : {}}))
				.then(r => { window.reloadStatus = r.status; }, e => { window.reloadStatus = String(e); });
		})()`, map[bool]string{true: "true", false: "false"}[withToken])))
		b.waitFor(t, "the reload's answer", `window.reloadStatus !== null`)
		return eval[int](t, b, `Number(window.reloadStatus)`)
	}
	if signedIn {
		if code := post(false); code != http.StatusForbidden {
			t.Errorf("the page's reload without the CSRF token: %d, want 403", code)
		}
		if got := reloads(); got != before {
			t.Errorf("hsmwatch_reloads_total moved from %s to %s without the CSRF token", before, got)
		}
	}
	if code := post(true); code != http.StatusOK {
		t.Fatalf("the operator's reload from the dashboard: %d, want 200", code)
	}
	if got := reloads(); got == before {
		t.Errorf("hsmwatch_reloads_total stayed %s after the operator's reload", got)
	}
}

package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func fetch(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, req)
}

func TestServesThePageAndItsFiles(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="static/js/app.js">`},
		{"/index.html", "text/html; charset=utf-8", "<title>hsmwatch</title>"},
		{"/static/style.css", "text/css; charset=utf-8", "--critical-bg"},
		{"/static/js/app.js", "text/javascript; charset=utf-8", "connectLive"},
		{"/static/js/charts.js", "text/javascript; charset=utf-8", "export function lineChart"},
	} {
		resp, body := get(t, srv.URL+tc.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %q, body has %q: %v", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.contains, strings.Contains(body, tc.contains))
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("ETag") == "" {
			t.Errorf("%s: headers %v", tc.path, resp.Header)
		}
	}
}

func TestNotFoundMethodsAndRevalidation(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/nothing", "/static/", "/static/nothing.js", "/static/../dashboard.go", "/static/index.html", "/api/events"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("x"))
	if resp, _ := fetch(t, req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	resp, _ := get(t, srv.URL+"/static/js/app.js")
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/static/js/app.js", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if resp, body := fetch(t, req); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation: %d, %d bytes", resp.StatusCode, len(body))
	}
	req, _ = http.NewRequest(http.MethodHead, srv.URL+"/", nil)
	if resp, body := fetch(t, req); resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// TestStaticRules checks what the embedded files must never do: parse data as HTML, run
// strings as code, or reach another origin; and that every module they import is there.
func TestStaticRules(t *testing.T) {
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\('on|javascript:`)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	importRe := regexp.MustCompile(`from '\./([a-z]+\.js)'`)
	var js int
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		text := string(b)
		for _, m := range external.FindAllString(text, -1) {
			if m != "http://www.w3.org" { // the SVG namespace is a name, never fetched
				t.Errorf("%s refers to another origin: %q", p, m)
			}
		}
		if strings.HasSuffix(p, ".js") {
			js++
			if m := forbidden.FindString(text); m != "" {
				t.Errorf("%s uses %q", p, m)
			}
			for _, m := range importRe.FindAllStringSubmatch(text, -1) {
				if _, err := fs.Stat(staticFiles, "static/js/"+m[1]); err != nil {
					t.Errorf("%s imports %s, which is not embedded", p, m[1])
				}
			}
		}
		if strings.HasSuffix(p, ".html") && (strings.Contains(text, "<script>") || strings.Contains(text, " style=")) {
			t.Errorf("%s has inline script or style, which the CSP refuses", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if js < 5 {
		t.Errorf("only %d JavaScript files found", js)
	}
}

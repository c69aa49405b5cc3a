// Package dashboard serves hsmwatch's web dashboard: one page of HTML, CSS and plain
// JavaScript modules embedded in the binary (static/), with no build step and nothing
// fetched from elsewhere: HSM sites are often offline, and the Content-Security-Policy
// forbids any other origin.
//
// The page reads the JSON API (internal/web/api) and the live stream (internal/web/live)
// by paths relative to itself, so the daemon mounts the three side by side:
//
//	mux := http.NewServeMux()
//	mux.Handle("/api/stream", hub)                                // live.Hub
//	mux.Handle("/api/", api.New(st, api.Options{Rules: catalog})) // JSON API
//	mux.Handle("/", dash)                                         // dashboard.New
//
// (or all three under one prefix, with http.StripPrefix, behind a reverse proxy).
//
// Views: the fleet (#/fleet: a card per HSM by site, worst first, naming its worst open
// alarm and its kind's curated figures from /api/figures), the alarms (#/alarms: filters,
// evidence, operator actions), the event timeline with filters and an event's detail
// (#/events?host=...&q=...), an HSM's page (#/hsm/NAME?range=24h: its open alarms with
// their meaning and actions, its health panels, every figure under "All figures" (all=1
// unfolds them), its events).
// Event text is only ever put into the page as text (textContent), never parsed as HTML.
package dashboard

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var staticFiles embed.FS

// csp allows the page's own files and API and nothing else: no inline script or style,
// no other origin, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes are the types of the files the dashboard ships, independent of the
// system's MIME tables (browsers run JavaScript modules only with a JavaScript type).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Options configure New.
type Options struct {
	// Logger receives the handler's own messages. Default slog.Default().
	Logger *slog.Logger
}

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the dashboard's page at / and its files under /static/.
type Handler struct {
	assets map[string]asset // by path under static/: "index.html", "js/app.js"
	log    *slog.Logger
}

// New reads the embedded files once and returns the handler.
func New(opts Options) (*Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Handler{assets: map[string]asset{}, log: opts.Logger}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = mime.TypeByExtension(path.Ext(p))
		}
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		h.assets[strings.TrimPrefix(p, "static/")] = asset{body: body, ctype: ctype,
			etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: read the embedded files: %w", err)
	}
	if _, ok := h.assets["index.html"]; !ok {
		return nil, fmt.Errorf("dashboard: the embedded files have no index.html")
	}
	return h, nil
}

// ServeHTTP serves / (the page) and /static/... (its files); anything else is a 404.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method "+r.Method+" not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	var name string
	switch p := r.URL.Path; {
	case p == "/" || p == "" || p == "/index.html":
		name = "index.html"
	case strings.HasPrefix(p, "/static/"):
		name = strings.TrimPrefix(p, "/static/")
		if name == "index.html" {
			name = "" // one address per page
		}
	}
	a, ok := h.assets[name]
	if !ok {
		http.Error(w, "not found: "+r.URL.Path+" (the dashboard is at /)", http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	// Revalidate every time: after an upgrade the browser must not mix old and new files.
	hd.Set("Cache-Control", "no-cache")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", fmt.Sprint(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		if _, err := w.Write(a.body); err != nil {
			h.log.Debug("dashboard: write failed", "path", r.URL.Path, "err", err)
		}
	}
}

// etagMatches reads an If-None-Match list ("*" or comma-separated tags, weak or not).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

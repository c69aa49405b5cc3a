// Package guard stands in front of hsmwatch's HTTP handlers (the dashboard, the JSON
// API, the live stream, /metrics, /-/reload) and decides who may do what.
//
// Transport security and authentication are exporter-toolkit's (a Prometheus web
// configuration file: TLS, client certificates, basic auth users with bcrypt hashes);
// by the time a request reaches the guard, its credentials were verified. The guard:
//
//   - refuses a Host header that names neither the listen address, a loopback name, an
//     IP address nor one of the configured names (DNS rebinding): 403;
//   - names the user (the basic auth user, else the verified client certificate's common
//     name) and its role (Options.Roles, default viewer); without authentication every
//     client is an operator, as before authentication existed;
//   - answers GET /api/csrf with the user's CSRF token (and its name and role);
//   - lets a state-changing request (any method but GET, HEAD, OPTIONS) through only
//     from the same origin (an Origin header equal to the request's own scheme and host,
//     or none: a non-browser client), from an operator, and, when users authenticate,
//     with the user's token in X-CSRF-Token: else 403;
//   - puts the authenticated user in the request's context (api.WithActor), so actions
//     are recorded under that name and not under a stated one;
//   - bounds the API requests in progress (not the live stream): 503 past the limit.
//
// Hosts, roles, whether users authenticate and the API limit change on a running guard
// (Update, called by a reload); a request is judged by the settings it started under.
package guard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/hsmwatch/hsmwatch/internal/web/api"
)

// The roles.
const (
	Viewer   = "viewer"   // reads
	Operator = "operator" // reads, acknowledges, closes, silences, reloads
)

// CSRFHeader carries the token of GET /api/csrf on a state-changing request.
const CSRFHeader = "X-CSRF-Token"

// CSRFPath answers the caller's CSRF token.
const CSRFPath = "/api/csrf"

// Options configure New.
type Options struct {
	// Listen is the address the server listens on: its host is an allowed Host.
	Listen net.Addr
	// Hosts are the other names clients reach the server by (http.hosts).
	Hosts []string
	// Auth says that clients authenticate (the web configuration file names basic auth
	// users or verifies client certificates).
	Auth bool
	// Roles maps user names to roles (Viewer, Operator); an unnamed user is a Viewer.
	Roles map[string]string
	// MaxAPIRequests bounds the /api/ requests in progress, the live stream apart.
	// Default 32.
	MaxAPIRequests int
	// Key signs the CSRF tokens; default random (tokens last as long as the process).
	Key    []byte
	Logger *slog.Logger
}

// Guard is the handler in front; see the package documentation.
type Guard struct {
	next   http.Handler
	key    []byte
	listen net.Addr
	log    *slog.Logger
	pol    atomic.Pointer[policy]
}

// policy is what Update changes: the settings one request is judged by.
type policy struct {
	hosts map[string]bool
	auth  bool
	roles map[string]string
	api   chan struct{} // one token per API request in progress
	max   int
}

// New returns the guard in front of next.
func New(next http.Handler, opts Options) (*Guard, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if len(opts.Key) == 0 {
		opts.Key = make([]byte, 32)
		if _, err := rand.Read(opts.Key); err != nil {
			return nil, fmt.Errorf("guard: CSRF key: %w", err)
		}
	}
	g := &Guard{next: next, key: opts.Key, listen: opts.Listen, log: opts.Logger}
	if err := g.Update(opts); err != nil {
		return nil, err
	}
	return g, nil
}

// Update applies the Hosts, Auth, Roles and MaxAPIRequests of opts to the running guard
// (Listen, Key and Logger stay as New set them); requests that began before keep the
// settings they began under. Invalid roles change nothing.
func (g *Guard) Update(opts Options) error {
	if err := CheckRoles(opts.Roles); err != nil {
		return err
	}
	if opts.MaxAPIRequests <= 0 {
		opts.MaxAPIRequests = 32
	}
	p := &policy{hosts: map[string]bool{"localhost": true}, auth: opts.Auth, max: opts.MaxAPIRequests}
	for _, h := range opts.Hosts {
		p.hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	if g.listen != nil {
		if h, _, err := net.SplitHostPort(g.listen.String()); err == nil {
			p.hosts[strings.ToLower(h)] = true
		}
	}
	p.roles = make(map[string]string, len(opts.Roles))
	for u, r := range opts.Roles {
		p.roles[u] = r
	}
	// The API's bound: the same semaphore while the limit stays, so requests in progress
	// still count; a new one at a new limit (those in progress give back to their own).
	if old := g.pol.Load(); old != nil && old.max == p.max {
		p.api = old.api
	} else {
		p.api = make(chan struct{}, p.max)
	}
	g.pol.Store(p)
	return nil
}

// CheckRoles refuses a role other than Viewer and Operator.
func CheckRoles(roles map[string]string) error {
	for u, r := range roles {
		if r != Viewer && r != Operator {
			return fmt.Errorf("guard: user %q: role %q: want %s or %s", u, r, Viewer, Operator)
		}
	}
	return nil
}

// hostAllowed: an IP address cannot be rebound, a name must be one of ours.
func (p *policy) hostAllowed(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
	if h == "" {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	return p.hosts[h]
}

// identify returns the authenticated user ("" without authentication) and its role.
func (p *policy) identify(r *http.Request) (user, role string, ok bool) {
	if !p.auth {
		return "", Operator, true
	}
	if u, _, found := r.BasicAuth(); found {
		user = u
	} else if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		user = r.TLS.VerifiedChains[0][0].Subject.CommonName
	}
	if user == "" {
		return "", "", false
	}
	role = p.roles[user]
	if role == "" {
		role = Viewer
	}
	return user, role, true
}

// token is the user's CSRF token: the same for every session of the user while the
// process runs, unguessable without the key.
func (g *Guard) token(user string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte("hsmwatch csrf\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin: a browser states where a request comes from (Origin, Sec-Fetch-Site);
// a client that states nothing is not a browser page.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return strings.EqualFold(o, scheme+"://"+r.Host)
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}

// ServeHTTP implements http.Handler.
func (g *Guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := g.pol.Load()
	if !p.hostAllowed(r.Host) {
		g.refuse(w, r, http.StatusForbidden, "host not allowed: "+r.Host+" (see http.hosts)")
		return
	}
	user, role, ok := p.identify(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="hsmwatch"`)
		g.refuse(w, r, http.StatusUnauthorized, "authentication required")
		return
	}
	if !safeMethod(r.Method) {
		if !sameOrigin(r) {
			g.refuse(w, r, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if role != Operator {
			g.refuse(w, r, http.StatusForbidden, "the operator role is needed: "+user+" is a "+role)
			return
		}
		if p.auth && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(g.token(user))) != 1 {
			g.refuse(w, r, http.StatusForbidden, "missing or wrong "+CSRFHeader+" (GET "+CSRFPath+")")
			return
		}
	}
	if p.auth {
		r = r.WithContext(api.WithActor(r.Context(), user))
	}
	if r.URL.Path == CSRFPath {
		g.csrf(w, r, user, role, p.auth)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api/stream" {
		select {
		case p.api <- struct{}{}:
			defer func() { <-p.api }()
		default:
			w.Header().Set("Retry-After", "1")
			g.refuse(w, r, http.StatusServiceUnavailable, "too many API requests in progress; try again")
			return
		}
	}
	g.next.ServeHTTP(w, r)
}

// csrf answers {"token","user","role"}; the dashboard sends the token back and shows
// the user.
func (g *Guard) csrf(w http.ResponseWriter, r *http.Request, user, role string, auth bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		g.refuse(w, r, http.StatusMethodNotAllowed, "use GET")
		return
	}
	b, _ := json.Marshal(struct {
		Token string `json:"token"`
		User  string `json:"user,omitempty"`
		Role  string `json:"role"`
		Auth  bool   `json:"authenticated"`
	}{g.token(user), user, role, auth})
	setJSON(w)
	w.Write(append(b, '\n'))
}

func setJSON(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// refuse answers a JSON error, as the API does, and logs it at debug level (never the
// credentials).
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	g.log.Debug("http: refused", "status", status, "method", r.Method, "path", r.URL.Path,
		"remote", r.RemoteAddr, "why", msg)
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	setJSON(w)
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Loopback says whether addr only accepts connections from this machine.
func Loopback(addr net.Addr) bool {
	h, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

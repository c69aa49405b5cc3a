package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/web/api"
	"github.com/hsmwatch/hsmwatch/internal/web/dashboard"
	"github.com/hsmwatch/hsmwatch/internal/web/guard"
)

// listen binds the HTTP address and builds the handler:
//
//	/          the dashboard (internal/web/dashboard)
//	/api/      the JSON API over the store (internal/web/api)
//	/api/stream the live stream of stored batches (internal/web/live)
//	/metrics   Prometheus metrics
//	/-/reload  POST: read the configuration again (as SIGHUP)
//	/-/healthy 200 while the daemon runs
//
// all behind internal/web/guard (Host, Origin, roles, CSRF, the API's concurrency) and
// exporter-toolkit (TLS, client certificates, basic auth: http.web_config_file).
func (d *Daemon) listen(cfg *config.Config) error {
	ln := d.opts.Listener
	if ln == nil {
		addr := cfg.HTTP.Listen
		if addr == "" {
			addr = "127.0.0.1:9841"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("http.listen: %w", err)
		}
	}
	d.ln = ln
	mux := http.NewServeMux()
	// Rules: the live catalog, so /api/rules/{id} answers from the one a reload installed.
	// Actions: operator actions reach the tracker through the pipeline (actions.go).
	mux.Handle("/api/", api.New(d.store, api.Options{Logger: d.log, Rules: d.rules, Actions: d.ops,
		StaleAfter: cfg.State.StaleAfter}))
	mux.Handle("/metrics", d.reg.Handler())
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "OK")
	})
	mux.HandleFunc("/-/reload", d.handleReload)
	mux.Handle("/api/stream", d.hub)
	dash, err := dashboard.New(dashboard.Options{Logger: d.log})
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	mux.Handle("/", dash)

	wc, err := readWebConfig(cfg.HTTP.WebConfigFile)
	if err != nil {
		return err
	}
	g, err := guard.New(mux, guard.Options{Listen: ln.Addr(), Hosts: cfg.HTTP.Hosts, Auth: wc.auth(),
		Roles: cfg.HTTP.Roles, MaxAPIRequests: cfg.HTTP.MaxAPIRequests, Logger: d.log})
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	d.guard = g
	d.webConfig, d.webStart = cfg.HTTP.WebConfigFile, wc
	if !wc.auth() && !guard.Loopback(ln.Addr()) {
		d.log.Warn("http: listening beyond this machine without authentication: anyone who reaches "+
			ln.Addr().String()+" may acknowledge, silence and reload; set http.web_config_file with basic_auth_users",
			"addr", ln.Addr().String())
	}
	// WriteTimeout bounds every answer but the live stream's, which moves its own write
	// deadline forward before each message (live.Hub, http.ResponseController).
	d.srv = &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelDebug)}
	return nil
}

// serveHTTP serves through exporter-toolkit: TLS, client certificates and basic auth as
// the web configuration file says (none without one).
func (d *Daemon) serveHTTP() error {
	file := d.webConfig
	return web.Serve(d.ln, d.srv, &web.FlagConfig{WebConfigFile: &file}, d.log)
}

// webConfig is what hsmwatch reads itself of the web configuration file: whether clients
// authenticate, and the settings exporter-toolkit reads only when it starts serving
// (whether TLS is on, the rate limit, HTTP/2), which a reload cannot change.
// exporter-toolkit reads the rest again at every request or handshake (users and their
// hashes, certificates, headers) and checks the credentials.
type webConfig struct {
	Users map[string]string `yaml:"basic_auth_users"`
	TLS   struct {
		Cert       string `yaml:"cert"`
		Key        string `yaml:"key"`
		ClientCA   string `yaml:"client_ca"`
		CertFile   string `yaml:"cert_file"`
		KeyFile    string `yaml:"key_file"`
		ClientAuth string `yaml:"client_auth_type"`
		ClientCAs  string `yaml:"client_ca_file"`
	} `yaml:"tls_server_config"`
	HTTP struct {
		HTTP2 *bool `yaml:"http2"`
	} `yaml:"http_server_config"`
	RateLimit struct {
		Interval string `yaml:"interval"`
		Burst    int    `yaml:"burst"`
	} `yaml:"rate_limit"`
}

// auth: basic auth users, or client certificates required and verified.
func (w webConfig) auth() bool {
	return len(w.Users) > 0 || w.TLS.ClientAuth == "RequireAndVerifyClientCert"
}

// tls says whether exporter-toolkit serves TLS with this file (its TLSConfig.IsEnabled).
func (w webConfig) tls() bool {
	t := w.TLS
	return t.Cert != "" || t.Key != "" || t.ClientCA != "" || t.CertFile != "" || t.KeyFile != "" ||
		t.ClientAuth != "" || t.ClientCAs != ""
}

// reloadHTTP checks that the http section of next can be applied to the running server
// and returns the function that applies it: hosts, roles, the web configuration file's
// users and client certificate rule (who authenticates), the API and live stream limits.
// What the listener or exporter-toolkit fixed at start (http.listen, the web
// configuration file's name, TLS on or off, its rate limit and HTTP/2) cannot change
// without a restart: the reload is refused with an error naming the key, so that a
// security setting is never left silently unapplied.
func (d *Daemon) reloadHTTP(prev, next *config.Config) (func(), error) {
	if d.guard == nil {
		return func() {}, nil // not serving HTTP (yet)
	}
	var errs []error
	if prev.HTTP.Listen != next.HTTP.Listen {
		errs = append(errs, fmt.Errorf("http.listen changed from %q to %q: restart hsmwatch to listen there", prev.HTTP.Listen, next.HTTP.Listen))
	}
	if next.HTTP.WebConfigFile != d.webConfig {
		errs = append(errs, fmt.Errorf("http.web_config_file changed from %q to %q: restart hsmwatch to serve through another file (edit the file itself: users and certificates apply at once)", d.webConfig, next.HTTP.WebConfigFile))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	wc, err := readWebConfig(next.HTTP.WebConfigFile)
	if err != nil {
		return nil, err
	}
	if wc.tls() != d.webStart.tls() {
		errs = append(errs, fmt.Errorf("http.web_config_file %s: tls_server_config turns TLS %s: restart hsmwatch for it", d.webConfig, onOff(wc.tls())))
	}
	if wc.RateLimit != d.webStart.RateLimit {
		errs = append(errs, fmt.Errorf("http.web_config_file %s: rate_limit changed: restart hsmwatch for it", d.webConfig))
	}
	if !reflect.DeepEqual(wc.HTTP, d.webStart.HTTP) {
		errs = append(errs, fmt.Errorf("http.web_config_file %s: http_server_config changed: restart hsmwatch for it", d.webConfig))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	opts := guard.Options{Hosts: next.HTTP.Hosts, Auth: wc.auth(), Roles: next.HTTP.Roles,
		MaxAPIRequests: next.HTTP.MaxAPIRequests}
	// The roles were checked by config.Parse; checked again before anything changes, as
	// the guard would keep the old ones.
	if err := guard.CheckRoles(opts.Roles); err != nil {
		return nil, fmt.Errorf("http.roles: %w", err)
	}
	return func() {
		_ = d.guard.Update(opts) // checked above
		d.hub.SetMaxPerAddress(next.HTTP.MaxStreamsPerAddress)
		if wc.auth() != d.webStart.auth() || !reflect.DeepEqual(prev.HTTP.Roles, next.HTTP.Roles) || !reflect.DeepEqual(prev.HTTP.Hosts, next.HTTP.Hosts) {
			d.log.Info("http: reloaded", "authenticated", wc.auth(), "hosts", next.HTTP.Hosts, "users_with_roles", len(next.HTTP.Roles))
		}
	}, nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func readWebConfig(file string) (webConfig, error) {
	var w webConfig
	if file == "" {
		return w, nil
	}
	if err := web.Validate(file); err != nil {
		return w, fmt.Errorf("http.web_config_file: %w", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return w, fmt.Errorf("http.web_config_file: %w", err)
	}
	if err := yaml.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("http.web_config_file %s: %w", file, err)
	}
	return w, nil
}

func (d *Daemon) handleReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := d.Reload(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "reloaded"})
}

package daemon

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
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
	d.webConfig = cfg.HTTP.WebConfigFile
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
// authenticate. exporter-toolkit reads the rest (and checks the credentials).
type webConfig struct {
	Users map[string]string `yaml:"basic_auth_users"`
	TLS   struct {
		ClientAuth string `yaml:"client_auth_type"`
	} `yaml:"tls_server_config"`
}

// auth: basic auth users, or client certificates required and verified.
func (w webConfig) auth() bool {
	return len(w.Users) > 0 || w.TLS.ClientAuth == "RequireAndVerifyClientCert"
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

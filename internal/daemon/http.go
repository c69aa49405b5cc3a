package daemon

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/web/api"
	"github.com/hsmwatch/hsmwatch/internal/web/dashboard"
)

// listen binds the HTTP address and builds the handler:
//
//	/          the dashboard (internal/web/dashboard)
//	/api/      the JSON API over the store (internal/web/api)
//	/api/stream the live stream of stored batches (internal/web/live)
//	/metrics   Prometheus metrics
//	/-/reload  POST: read the configuration again (as SIGHUP)
//	/-/healthy 200 while the daemon runs
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
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
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

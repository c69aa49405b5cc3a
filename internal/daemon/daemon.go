// Package daemon wires "hsmwatch serve" (and "hsmwatch demo", which runs the same code
// from a generated configuration): the store, the rule catalog and the state tracker, the
// pipeline with the store as its durable sink, the other sinks, every configured source,
// and the HTTP server (/api/, /metrics, /-/reload, /-/healthy).
//
// Order of a stop: the sources stop first (no new records), the pipeline drains what is
// queued into the store and the sinks, then the HTTP server and the store close. A record
// is acknowledged to its source (a followed file's checkpoint) only once the store has
// committed it, so a kill -9 at any moment loses nothing and stores nothing twice.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/mib"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink/alertmanager"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	syslogsink "github.com/hsmwatch/hsmwatch/internal/sink/syslog"
	"github.com/hsmwatch/hsmwatch/internal/sink/webhook"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/web/live"
)

// DrainTimeout bounds how long a stop waits for the pipeline to write what is queued;
// what is left then stays unacknowledged and is read again at the next start (files).
const DrainTimeout = 30 * time.Second

// Options configure a daemon.
type Options struct {
	// Config is the validated configuration to start with.
	Config *config.Config
	// Load reads the configuration again for a reload (SIGHUP, POST /-/reload); nil
	// makes a reload refuse.
	Load func() (*config.Config, error)
	// Listener, when set, is used for HTTP instead of listening on Config.HTTP.Listen.
	Listener net.Listener
	// Stdout receives the JSON lines of sinks.stdout (default os.Stdout).
	Stdout io.Writer
	// Getenv reads the environment variables named by *_env settings (default os.Getenv).
	// Secrets are read here and from files, never logged.
	Getenv func(string) string
	// Extra are sources added to the configured ones (tests, the demo).
	Extra  []pipeline.Source
	Logger *slog.Logger
}

// Daemon is one running hsmwatch serve.
type Daemon struct {
	opts  Options
	log   *slog.Logger
	cfg   atomic.Pointer[config.Config]
	rules *liveRules

	store    store.Store
	tracker  *state.Tracker
	pipe     *pipeline.Pipeline
	reg      *metrics.Registry
	sources  []pipeline.Source
	runners  []runner // sources that are not pipeline.Source (traps, polls)
	webhooks []*webhook.Sink
	alertmgr []*alertmanager.Sink
	syslogs  []*syslogsink.Sink
	hub      *live.Hub
	traps    *trapSink
	trapAddr net.Addr
	ln       net.Listener
	srv      *http.Server

	reloadMu       sync.Mutex
	reloads        atomic.Int64
	reloadFailures atomic.Int64
}

// runner is a source with a Run of its own shape, adapted to the pipeline.
type runner struct {
	name string
	run  func(ctx context.Context) error
	stop func() // releases what New opened when Run is never called
}

// New builds everything and binds every socket (so that a port in use is reported at
// start), but reads nothing until Run.
func New(ctx context.Context, opts Options) (_ *Daemon, err error) {
	if opts.Config == nil {
		return nil, errors.New("daemon: no configuration")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	cfg := opts.Config
	d := &Daemon{opts: opts, log: opts.Logger, rules: &liveRules{}, reg: metrics.New()}
	d.cfg.Store(cfg)
	defer func() {
		if err != nil {
			d.release()
		}
	}()

	stateDir, dsn, err := storage(cfg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	catalog, err := classify.Load(cfg.Rules...)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	d.rules.c.Store(catalog)
	if d.tracker, err = state.New(cfg.State, d.rules); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if d.store, err = store.Open(ctx, dsn, store.Options{Site: cfg.Site, Logger: d.log}); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}

	sinks := []pipeline.Sink{metrics.Sink{Registry: d.reg, State: d.tracker}}
	for i, w := range cfg.Sinks.Webhooks {
		s, err := webhook.New(webhook.Config{URL: w.URL, MinLevel: w.MinLevel,
			SpoolDir: filepath.Join(stateDir, "spool", fmt.Sprintf("webhook-%d", i)), Logger: d.log})
		if err != nil {
			return nil, fmt.Errorf("sinks.webhooks[%d]: %w", i, err)
		}
		d.webhooks = append(d.webhooks, s)
		sinks = append(sinks, s)
	}
	for i, a := range cfg.Sinks.Alertmanager {
		s, err := alertmanager.New(alertmanager.Config{URL: a.URL, Logger: d.log})
		if err != nil {
			return nil, fmt.Errorf("sinks.alertmanager[%d]: %w", i, err)
		}
		d.alertmgr = append(d.alertmgr, s)
		sinks = append(sinks, s)
	}
	for i, t := range cfg.Sinks.Syslog {
		s, err := syslogsink.New(syslogsink.Config{Address: t.Address})
		if err != nil {
			return nil, fmt.Errorf("sinks.syslog[%d]: %w", i, err)
		}
		d.syslogs = append(d.syslogs, s)
		sinks = append(sinks, s)
		d.reg.Func("syslog_forwarded_total", "Events forwarded as RFC 5424 syslog.", true,
			map[string]string{"target": t.Address}, func() float64 { return float64(s.Sent()) })
	}
	if len(cfg.Sinks.SNMPTraps) > 0 {
		table := mib.Builtin()
		if len(cfg.MIBs) > 0 {
			if err := table.Load(cfg.MIBs...); err != nil {
				d.log.Warn("some MIB definitions did not load", "err", err)
			}
		}
		if d.traps, err = d.buildTrapSink(cfg.Sinks.SNMPTraps, table); err != nil {
			return nil, err
		}
		sinks = append(sinks, d.traps)
		d.reg.Func("snmp_notifications_skipped_total", "SNMP notifications skipped because the send queue was full.", true, nil,
			func() float64 { return float64(d.traps.skipped.Load()) })
		d.reg.Func("snmp_notifications_sent_total", "SNMP notifications delivered, per target.", true, nil,
			func() float64 { return float64(d.traps.s.Stats().Sent) })
		d.reg.Func("snmp_notifications_failed_total", "SNMP notifications that failed, per target.", true, nil,
			func() float64 { return float64(d.traps.s.Stats().Failed) })
	}
	if cfg.Sinks.Stdout {
		sinks = append(sinks, newStdoutSink(opts.Stdout))
	}
	// The live hub streams every stored batch to the dashboard (GET /api/stream).
	d.hub = live.New(live.Options{Site: d.store.Site(), Logger: d.log})
	sinks = append(sinks, d.hub)
	d.pipe, err = pipeline.New(pipeline.Config{Catalog: catalog, State: d.tracker,
		Durable: []pipeline.Sink{storeSink{d.store}}, Sinks: sinks, Logger: d.log})
	if err != nil {
		return nil, err
	}
	if err := d.buildSources(cfg, stateDir); err != nil {
		return nil, err
	}
	d.sources = append(d.sources, opts.Extra...)
	d.registerMetrics()
	if err := d.listen(cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// storage returns the state folder and the store's DSN: the default store is SQLite in
// state_dir.
func storage(cfg *config.Config) (stateDir, dsn string, err error) {
	stateDir, dsn = cfg.StateDir, cfg.Store.DSN
	if dsn == "" && stateDir == "" {
		return "", "", errors.New("config: give state_dir (the default SQLite store lives there) or store.dsn")
	}
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(stateDir, "hsmwatch.db")
	}
	if stateDir == "" {
		// Beside a SQLite file; for PostgreSQL a folder of its own must be given.
		p, isSQLite := sqlitePath(dsn)
		if !isSQLite {
			return "", "", errors.New("config: state_dir is required with a PostgreSQL store (checkpoints, spools)")
		}
		stateDir = filepath.Dir(p)
	}
	return stateDir, dsn, nil
}

func sqlitePath(dsn string) (string, bool) {
	if p, ok := cutPrefix(dsn, "sqlite:"); ok {
		return p, true
	}
	if filepath.IsAbs(dsn) {
		return dsn, true
	}
	return "", false
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// Addr is where the HTTP server listens.
func (d *Daemon) Addr() net.Addr { return d.ln.Addr() }

// Store is the daemon's event store (for the demo and tests; closed by Run).
func (d *Daemon) Store() store.Store { return d.store }

// Stats are the pipeline's counters.
func (d *Daemon) Stats() pipeline.Stats { return d.pipe.Stats() }

// Run runs until ctx ends, then stops in order (sources, pipeline drain, sinks, HTTP,
// store) and returns nil after a clean stop.
func (d *Daemon) Run(ctx context.Context) error {
	pipeCtx, pipeCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer pipeCancel()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- d.pipe.Run(pipeCtx) }()

	sinkCtx, sinkCancel := context.WithCancel(context.WithoutCancel(ctx))
	var sinkWG sync.WaitGroup
	for _, w := range d.webhooks {
		sinkWG.Go(func() {
			if err := w.Run(sinkCtx); err != nil && !errors.Is(err, context.Canceled) {
				d.log.Error("webhook stopped", "sink", w.Name(), "err", err)
			}
		})
	}
	for _, a := range d.alertmgr {
		sinkWG.Go(func() { a.Run(sinkCtx) })
	}
	defer func() {
		for _, s := range d.syslogs {
			s.Close()
		}
	}()

	hubCtx, hubCancel := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := d.hub.Run(hubCtx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Warn("live hub", "err", err)
		}
	}()

	if d.traps != nil {
		sinkWG.Go(func() { d.traps.Run(sinkCtx) })
	}

	httpDone := make(chan error, 1)
	go func() { httpDone <- d.srv.Serve(d.ln) }()
	d.log.Info("hsmwatch serving", "http", d.ln.Addr().String(), "sources", len(d.sources)+len(d.runners))
	for _, a := range d.SyslogAddrs() {
		d.log.Info("syslog listening", "network", a.Network(), "addr", a.String())
	}
	if d.trapAddr != nil {
		d.log.Info("trap receiver listening", "addr", d.trapAddr.String())
	}

	srcCtx, srcCancel := context.WithCancel(ctx)
	var srcWG sync.WaitGroup
	for _, s := range d.sources {
		srcWG.Go(func() {
			if err := s.Run(srcCtx, d.pipe.Emit); err != nil && srcCtx.Err() == nil {
				d.log.Error("source stopped", "source", s.Name(), "err", err)
			}
		})
	}
	for _, r := range d.runners {
		srcWG.Go(func() {
			if err := r.run(srcCtx); err != nil && srcCtx.Err() == nil {
				d.log.Error("source stopped", "source", r.name, "err", err)
			}
		})
	}
	retainDone := make(chan struct{})
	go func() { defer close(retainDone); d.retain(srcCtx) }()

	var httpErr error
	select {
	case <-ctx.Done():
	case httpErr = <-httpDone:
		d.log.Error("http server stopped", "err", httpErr)
	}
	d.log.Info("stopping: sources first, then the pipeline drains")
	srcCancel()
	srcWG.Wait()
	<-retainDone
	d.pipe.Close()
	drain := time.AfterFunc(DrainTimeout, pipeCancel)
	pipeErr := <-pipeDone
	drain.Stop()
	if pipeErr != nil {
		d.log.Error("pipeline did not drain; unacknowledged records are read again at the next start", "err", pipeErr)
	}
	sinkCancel()
	sinkWG.Wait()
	// Streams never go idle: end them before the HTTP server waits for its handlers.
	hubCancel()
	<-hubDone
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if httpErr == nil {
		if err := d.srv.Shutdown(shutCtx); err != nil {
			d.log.Warn("http shutdown", "err", err)
		}
		<-httpDone
	}
	st := d.pipe.Stats()
	d.log.Info("stopped", "received", st.Received, "processed", st.Processed, "dropped", st.Dropped)
	if err := d.store.Close(); err != nil {
		return fmt.Errorf("store close: %w", err)
	}
	if pipeErr != nil {
		return pipeErr
	}
	if httpErr != nil && !errors.Is(httpErr, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", httpErr)
	}
	return nil
}

// Close releases a daemon whose Run was never called.
func (d *Daemon) Close() { d.release() }

func (d *Daemon) release() {
	for _, r := range d.runners {
		if r.stop != nil {
			r.stop()
		}
	}
	for _, s := range d.sources {
		if c, ok := s.(interface{ Close() }); ok {
			c.Close()
		}
	}
	if d.ln != nil {
		_ = d.ln.Close()
	}
	if d.store != nil {
		_ = d.store.Close()
	}
}

// retain applies store.max_age and store.max_size_mb every 10 minutes.
func (d *Daemon) retain(ctx context.Context) {
	cfg := d.cfg.Load()
	r := store.Retention{MaxAge: time.Duration(cfg.Store.MaxAge), MaxBytes: cfg.Store.MaxSizeMB << 20}
	if r.MaxAge == 0 && r.MaxBytes == 0 {
		return
	}
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if p, err := d.store.Retain(ctx, r, time.Now()); err != nil {
			if ctx.Err() == nil {
				d.log.Warn("retention", "err", err)
			}
		} else if p.Events+p.Samples+p.Alarms > 0 {
			d.log.Info("retention", "events", p.Events, "samples", p.Samples, "alarms", p.Alarms)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

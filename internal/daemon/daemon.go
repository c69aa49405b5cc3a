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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	_ "github.com/hsmwatch/hsmwatch/internal/component/all" // every kind of source and sink
	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/hosts"
	"github.com/hsmwatch/hsmwatch/internal/pipeline"
	"github.com/hsmwatch/hsmwatch/internal/sink"
	"github.com/hsmwatch/hsmwatch/internal/sink/metrics"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/web/guard"
	"github.com/hsmwatch/hsmwatch/internal/web/live"
)

// DrainTimeout bounds how long a stop waits for the pipeline to write what is queued;
// what is left then stays unacknowledged and is read again at the next start (files).
const DrainTimeout = 30 * time.Second

// SinkDrainTimeout bounds how long a stop then waits for the sinks' queues to deliver;
// a dead target's queue is given up (counted as dropped), its events are in the store.
const SinkDrainTimeout = 5 * time.Second

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
	Extra []component.Source
	// Queue tunes every sink's queue (tests); the zero value is the default.
	Queue  sink.QueueOptions
	Logger *slog.Logger
}

// Daemon is one running hsmwatch serve.
type Daemon struct {
	opts     Options
	log      *slog.Logger
	cfg      atomic.Pointer[config.Config]
	stateDir string
	rules    *liveRules

	store       store.Store
	tracker     *state.Tracker
	pipe        *pipeline.Pipeline
	reg         *metrics.Registry
	metricsSink metrics.Sink
	hub         *live.Hub
	names       *hosts.Book
	ops         *operator
	gen         generations
	ln          net.Listener
	srv         *http.Server
	webConfig   string    // http.web_config_file at start
	webStart    webConfig // what of it exporter-toolkit read once, at start
	guard       *guard.Guard

	// The configured sources and sinks. A reload replaces the lists (under unitsMu, read
	// by the address getters) and the units in them.
	unitsMu     sync.Mutex
	sourceUnits []*unit
	sinkUnits   []*unit
	// srcCtx and sinkCtx are what Run starts sources and sinks under; a reload starts
	// its new units under them (nil before Run: Run starts them).
	srcCtx, sinkCtx context.Context

	reloadMu       sync.Mutex
	reloads        atomic.Int64
	reloadFailures atomic.Int64

	// prelude, when set (the demo's history), runs once the pipeline runs and before the
	// sources and the HTTP server start: what it emits is processed before anything a
	// source reads, and the first page served shows it.
	prelude func(ctx context.Context) error
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
	d := &Daemon{opts: opts, log: opts.Logger, rules: &liveRules{}, reg: metrics.NewWith(metrics.Options{Logger: opts.Logger}), names: hosts.New()}
	d.cfg.Store(cfg)
	defer func() {
		if err != nil {
			d.release()
		}
	}()

	// Every file a unit will read its secrets or certificates from, and the store's
	// scheme, are checked before the store is opened or migrated.
	dsnErr := config.CheckDSN(cfg.Store.DSN)
	if dsnErr != nil {
		dsnErr = fmt.Errorf("store.dsn: %w", dsnErr)
	}
	if err := errors.Join(cfg.CheckFiles(), dsnErr); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	stateDir, dsn, err := storage(cfg)
	if err != nil {
		return nil, err
	}
	d.stateDir = stateDir
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
	if d.store, err = store.Open(ctx, dsn, store.Options{Site: cfg.Site, Logger: d.log, ConnectRetry: true}); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// The alarms open before this start are open still: the tracker takes them up, so
	// that their clears close them, /metrics counts them and the sinks are told of them.
	open, err := d.store.Alarms(ctx, store.AlarmFilter{Site: d.store.Site(), Open: true})
	if err != nil {
		return nil, fmt.Errorf("store: open alarms: %w", err)
	}
	restored := make([]state.Alarm, len(open))
	for i, a := range open {
		restored[i] = a.Alarm
	}
	d.tracker.Restore(restored)

	d.metricsSink = metrics.Sink{Registry: d.reg, State: d.tracker}
	// The live hub streams every stored batch to the dashboard (GET /api/stream).
	d.hub = live.New(live.Options{Site: d.store.Site(), Logger: d.log, MaxPerAddress: cfg.HTTP.MaxStreamsPerAddress})
	env := d.env(cfg)
	for _, p := range plans(cfg.Sinks.List, cfg.MIBs, env, d.queueOptions()) {
		u, err := d.gen.build(p)
		if err != nil {
			return nil, fmt.Errorf("sinks: %w", err)
		}
		d.sinkUnits = append(d.sinkUnits, u)
	}
	d.ops = &operator{st: d.store, tr: d.tracker, log: d.log}
	if err := d.ops.load(ctx); err != nil {
		return nil, err
	}
	d.pipe, err = pipeline.New(pipeline.Config{Catalog: catalog, State: d.tracker,
		Durable: []component.Sink{storeSink{d.store}}, Sinks: d.pipelineSinks(d.sinkUnits), Mark: d.ops.mark, Logger: d.log})
	if err != nil {
		return nil, err
	}
	d.ops.pipe = d.pipe
	for _, p := range d.sourcePlans(cfg, env) {
		u, err := d.gen.build(p)
		if err != nil {
			return nil, fmt.Errorf("sources: %w", err)
		}
		d.sourceUnits = append(d.sourceUnits, u)
	}
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

	hubCtx, hubCancel := context.WithCancel(context.WithoutCancel(ctx))
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		if err := d.hub.Run(hubCtx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Warn("live hub", "err", err)
		}
	}()

	sinkCtx, sinkCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer sinkCancel()
	srcCtx, srcCancel := context.WithCancel(ctx)
	defer srcCancel()
	if d.prelude != nil {
		if err := d.prelude(srcCtx); err != nil && ctx.Err() == nil {
			d.log.Warn("prelude", "err", err)
		}
	}
	// Held while starting, so that a reload arriving now (SIGHUP at start-up) waits.
	d.reloadMu.Lock()
	d.srcCtx, d.sinkCtx = srcCtx, sinkCtx
	// Every sink that reports alarms learns first of those open now (restored from the
	// store), between two batches.
	if err := d.pipe.Do(ctx, func() { tellOpenAlarms(d.tracker.Active(), d.sinks()) }); err != nil {
		d.log.Warn("the sinks were not told of the open alarms", "err", err)
	}
	for _, u := range d.sinks() {
		u.start(sinkCtx, nil, d.reg, d.log)
	}
	for _, u := range d.units() {
		u.start(srcCtx, d.pipe.Emit, d.reg, d.log)
	}
	d.reloadMu.Unlock()

	httpDone := make(chan error, 1)
	go func() { httpDone <- d.serveHTTP() }()
	d.log.Info("hsmwatch serving", "http", d.ln.Addr().String(), "sources", len(d.units()))
	for _, u := range d.units() {
		if l, ok := u.src.(component.Listener); ok {
			for _, a := range l.Addrs() {
				d.log.Info("listening", "source", u.name, "network", a.Network(), "addr", a.String())
			}
		}
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
	// No reload from here on: it would start units under contexts that are ending.
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	srcCancel()
	for _, u := range d.units() {
		u.stop(d.reg)
	}
	<-retainDone
	d.pipe.Close()
	drain := time.AfterFunc(DrainTimeout, pipeCancel)
	pipeErr := <-pipeDone
	drain.Stop()
	if pipeErr != nil {
		d.log.Error("pipeline did not drain; unacknowledged records are read again at the next start", "err", pipeErr)
	}
	// The drain acknowledged the last records: their offsets are committed now, so the
	// next start does not read them again.
	for _, u := range d.units() {
		u.commit()
	}
	// The sinks' queues deliver what the drain handed them, within the same bound.
	drainCtx, drainCancel := context.WithTimeout(context.WithoutCancel(ctx), SinkDrainTimeout)
	for _, u := range d.sinks() {
		if err := u.queue.Drain(drainCtx); err != nil {
			d.log.Warn("stopping: a sink did not deliver everything", "sink", u.name, "err", err)
		}
	}
	drainCancel()
	sinkCancel()
	for _, u := range d.sinks() {
		u.stop(d.reg)
	}
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

// tellOpenAlarms tells the sinks that start of the alarms open; call it on the
// pipeline's goroutine, which owns the tracker.
func tellOpenAlarms(open []state.Alarm, us []*unit) {
	for _, u := range us {
		u.queue.OpenAlarms(open)
	}
}

// units are the sources, sinks the configured outputs, as the last reload left them.
func (d *Daemon) units() []*unit {
	d.unitsMu.Lock()
	defer d.unitsMu.Unlock()
	return d.sourceUnits
}

func (d *Daemon) sinks() []*unit {
	d.unitsMu.Lock()
	defer d.unitsMu.Unlock()
	return d.sinkUnits
}

func (d *Daemon) setSourceUnits(us []*unit) {
	d.unitsMu.Lock()
	d.sourceUnits = us
	d.unitsMu.Unlock()
}

func (d *Daemon) setSinkUnits(us []*unit) {
	d.unitsMu.Lock()
	d.sinkUnits = us
	d.unitsMu.Unlock()
}

// mibTable is the built-in table of Luna OIDs plus the configured MIB files.
func (d *Daemon) mibTable(cfg *config.Config) *mib.Table {
	table := mib.Builtin()
	if len(cfg.MIBs) > 0 {
		if err := table.Load(cfg.MIBs...); err != nil {
			d.log.Warn("some MIB definitions did not load", "err", err)
		}
	}
	return table
}

// Close releases a daemon whose Run was never called.
func (d *Daemon) Close() { d.release() }

func (d *Daemon) release() {
	for _, u := range append(d.units(), d.sinks()...) {
		u.release()
	}
	if d.ln != nil {
		_ = d.ln.Close()
	}
	if d.store != nil {
		_ = d.store.Close()
	}
}

// retain applies store.max_age and store.max_size_mb every 10 minutes, as the last
// reload left them.
func (d *Daemon) retain(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		d.retainOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Daemon) retainOnce(ctx context.Context) {
	cfg := d.cfg.Load()
	r := store.Retention{MaxAge: time.Duration(cfg.Store.MaxAge), MaxBytes: cfg.Store.MaxSizeMB << 20}
	if r.MaxAge == 0 && r.MaxBytes == 0 {
		return
	}
	p, err := d.store.Retain(ctx, r, time.Now())
	switch {
	case err != nil && ctx.Err() == nil:
		d.log.Warn("retention", "err", err)
	case err == nil && p.Events+p.Samples+p.Alarms > 0:
		d.log.Info("retention", "events", p.Events, "samples", p.Samples, "alarms", p.Alarms)
	}
}

// Addrs are the bound addresses of the running sources of one kind ("syslog",
// "traps"), in the configuration's order, for the demo and tests that listen on port 0.
func (d *Daemon) Addrs(kind string) []net.Addr {
	var out []net.Addr
	for _, u := range d.units() {
		if l, ok := u.src.(component.Listener); ok && strings.HasPrefix(u.id, kind+":") {
			out = append(out, l.Addrs()...)
		}
	}
	return out
}

package daemon

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/config"
)

// Reload reads the configuration again (SIGHUP, POST /-/reload) and applies it without
// losing an event:
//
//   - the rule catalog is swapped between two records;
//   - the state settings change on the pipeline's goroutine between two records, and
//     open alarms, repeats and sessions are kept;
//   - outputs are compared entry by entry; changed ones are replaced between two
//     batches (a webhook's spool and the SNMP sender's queue pass to the successor);
//   - sources are compared entry by entry: unchanged ones run on untouched, listeners
//     (syslog, named pipes, the trap receiver) take new settings on their open socket,
//     a changed file, poll or PKCS#11 entry is replaced (a follower only after the
//     pipeline stored its last lines and its offsets were committed), new ones start
//     and dropped ones stop the same way.
//
// The http section applies to the running server (hosts, roles, who authenticates, the
// limits; reloadHTTP); a change a running listener cannot take (http.listen, the web
// configuration file's name or TLS) refuses the whole reload before anything changed.
// The store's DSN, site and state_dir are what a reload cannot move: a
// change there is logged as needing a restart (retention limits apply at the next round). A file that does not load, rules or state
// settings that are not valid leave everything as it runs; an entry whose new settings
// cannot be applied keeps its running unit, and the reload reports it (and counts a
// failure) after applying the rest.
func (d *Daemon) Reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	err := d.reload()
	if err != nil {
		d.reloadFailures.Add(1)
		d.log.Error("reload: not everything applied", "err", err)
		return err
	}
	d.reloads.Add(1)
	return nil
}

func (d *Daemon) reload() error {
	if d.opts.Load == nil {
		return errors.New("reload: this daemon has no configuration file to read again")
	}
	ctx := d.srcCtx
	if ctx == nil || ctx.Err() != nil {
		return errors.New("reload: the daemon is not running")
	}
	next, err := d.opts.Load()
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	prev := d.cfg.Load()
	applyHTTP, err := d.reloadHTTP(prev, next)
	if err != nil {
		return fmt.Errorf("reload refused, nothing changed: %w", err)
	}
	catalog, err := classify.Load(next.Rules...)
	if err != nil {
		return fmt.Errorf("reload: rules: %w", err)
	}
	if err := next.State.Validate(); err != nil {
		return fmt.Errorf("reload: state: %w", err)
	}
	if restart := needsRestart(prev, next); len(restart) > 0 {
		d.log.Warn("reload: these settings take effect at the next restart", "keys", restart)
	}
	// The tracker's rules first: it then finds every rule the new catalog can set.
	d.rules.c.Store(catalog)
	d.pipe.SetCatalog(catalog)
	var stateErr error
	if err := d.pipe.Do(ctx, func() { stateErr = d.tracker.Reconfigure(next.State) }); err != nil {
		return fmt.Errorf("reload: state: %w", err)
	}
	d.cfg.Store(next)
	applyHTTP()
	env := d.env(next)
	sinks, sinkErr := d.applySinks(ctx, plans(next.Sinks.List, next.MIBs, env, d.queueOptions()))
	sources, srcErr := d.applySources(ctx, d.sourcePlans(next, env))
	d.log.Info("configuration reloaded",
		"sources_kept", len(sources.next)-len(sources.started)-sources.inPlace, "sources_changed_in_place", sources.inPlace,
		"sources_started", names(sources.started), "sources_stopped", names(sources.stopped),
		"sinks_started", names(sinks.started), "sinks_stopped", names(sinks.stopped))
	return errors.Join(stateErr, sinkErr, srcErr)
}

// needsRestart names the changed settings a reload cannot apply.
func needsRestart(prev, next *config.Config) []string {
	var keys []string
	for _, c := range []struct {
		key       string
		old, next any
	}{
		{"site", prev.Site, next.Site}, {"state_dir", prev.StateDir, next.StateDir},
		{"store.dsn", prev.Store.DSN, next.Store.DSN},
	} {
		if !reflect.DeepEqual(c.old, c.next) {
			keys = append(keys, c.key)
		}
	}
	return keys
}

// applySources starts the new and replacing sources after the ones they replace have
// stopped and the pipeline has flushed their records (a follower's successor then reads
// on from the offsets its predecessor committed).
func (d *Daemon) applySources(ctx context.Context, plans []plan) (change, error) {
	c := d.gen.diff(d.units(), plans)
	for _, u := range c.stopped {
		u.stop(d.reg)
	}
	if len(c.stopped) > 0 {
		if err := d.pipe.Do(ctx, func() {}); err != nil {
			c.failures = append(c.failures, fmt.Errorf("waiting for the stopped sources' records: %w", err))
		}
		for _, u := range c.stopped {
			u.commit()
		}
	}
	for _, u := range c.started {
		u.start(d.srcCtx, d.pipe.Emit, d.reg, d.log)
	}
	d.setSourceUnits(c.next)
	return c, errors.Join(c.failures...)
}

// applySinks changes the outputs on the pipeline's goroutine, between two batches: the
// last batch before goes to the old sinks' queues, the first after to the new ones, and
// what a replaced sink still had queued passes to its successor with nothing in between
// (a webhook's spool passes by its folder, named after the URL).
func (d *Daemon) applySinks(ctx context.Context, plans []plan) (change, error) {
	var c change
	err := d.pipe.SetSinks(ctx, func([]component.Sink) []component.Sink {
		c = d.gen.diff(d.sinks(), plans)
		replaced := map[string]*unit{}
		for _, u := range c.stopped {
			u.stop(d.reg)
			replaced[u.id] = u
		}
		for _, u := range c.started {
			if prev := replaced[u.id]; prev != nil {
				u.queue.Adopt(prev.queue)
			}
		}
		if len(c.started) > 0 {
			tellOpenAlarms(d.tracker.Active(), c.started) // after what they adopted
		}
		for _, u := range c.started {
			u.start(d.sinkCtx, nil, d.reg, d.log)
		}
		d.setSinkUnits(c.next)
		return d.pipelineSinks(c.next)
	})
	if err != nil {
		return c, fmt.Errorf("sinks: %w", err)
	}
	return c, errors.Join(c.failures...)
}

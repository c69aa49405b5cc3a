package daemon

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/hsmwatch/hsmwatch/internal/classify"
)

// Reload reads the configuration again (SIGHUP, POST /-/reload). What it changes: the rule
// catalog (the shipped rules plus the files of "rules", read again), swapped between two
// records so that no record is lost or classified twice. Everything else (sources, sinks,
// store, state settings, HTTP address) keeps running as started: a changed setting there
// is logged as needing a restart. A file that does not load, or rules that do not load,
// leave the running configuration as it was; the error is returned and logged.
func (d *Daemon) Reload() error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	err := d.reload()
	if err != nil {
		d.reloadFailures.Add(1)
		d.log.Error("reload refused; the running configuration stays", "err", err)
		return err
	}
	d.reloads.Add(1)
	return nil
}

func (d *Daemon) reload() error {
	if d.opts.Load == nil {
		return errors.New("reload: this daemon has no configuration file to read again")
	}
	next, err := d.opts.Load()
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	catalog, err := classify.Load(next.Rules...)
	if err != nil {
		return fmt.Errorf("reload: rules: %w", err)
	}
	prev := d.cfg.Load()
	// The tracker's rules first: it then finds every rule the new catalog can set.
	d.rules.c.Store(catalog)
	d.pipe.SetCatalog(catalog)
	d.cfg.Store(next)
	var restart []string
	for _, c := range []struct {
		key       string
		old, next any
	}{
		{"site", prev.Site, next.Site}, {"state_dir", prev.StateDir, next.StateDir}, {"store", prev.Store, next.Store},
		{"http", prev.HTTP, next.HTTP}, {"mibs", prev.MIBs, next.MIBs}, {"state", prev.State, next.State},
		{"sources", prev.Sources, next.Sources}, {"sinks", prev.Sinks, next.Sinks},
	} {
		if !reflect.DeepEqual(c.old, c.next) {
			restart = append(restart, c.key)
		}
	}
	d.log.Info("configuration reloaded: rule catalog replaced", "rules_files", len(next.Rules))
	if len(restart) > 0 {
		d.log.Warn("reload applies the rules only; these changed settings take effect at the next restart", "keys", restart)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/daemon"
)

func (a *app) serveCommand() *cobra.Command {
	var file, storeDSN string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the daemon: sources, rules, alarms, store, sinks, HTTP API and /metrics",
		Long: `serve runs hsmwatch as a daemon with the configuration FILE (YAML; see docs/configuration.md
and docs/daemon.md). A configuration error names the file, the line and the key and exits 2.

SIGHUP or POST /-/reload reads the file again and applies it without losing an event:
rules and state settings between two records, sources and sinks entry by entry (listeners
keep their sockets, a replaced file follower hands on its committed offsets, a replaced
webhook its spool). An invalid file is refused (logged) and the running configuration
stays; http.hosts, http.roles, the HTTP limits and the web configuration file's users
apply at once, while a change of http.listen, of the web configuration file's name or of
its TLS, rate_limit or http_server_config refuses the reload (naming the key) until a
restart; store.dsn, site and state_dir take effect at the next restart. SIGTERM or
SIGINT stops the sources, drains the pipeline into the store and the sinks, and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd.Context(), file, storeDSN) },
	}
	cmd.Flags().StringVar(&file, "config", "", "configuration file (YAML)")
	cmd.Flags().StringVar(&storeDSN, "store", "", "the store, overriding store.dsn: sqlite:PATH or postgres://HOST/DB (the password in PGPASSWORD or ~/.pgpass)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}

func (a *app) serve(ctx context.Context, file, storeDSN string) error {
	load := func() (*config.Config, error) {
		cfg, err := config.Load(file)
		if cfg == nil {
			return nil, err
		}
		// Every problem at once, the files that secrets and certificates are read from
		// included, before anything is opened or migrated.
		err = errors.Join(err, cfg.CheckFiles())
		if storeDSN != "" {
			if derr := config.CheckDSN(storeDSN); derr != nil {
				err = errors.Join(err, fmt.Errorf("--store: %w", derr))
			}
			cfg.Store.DSN = storeDSN
		}
		return cfg, err
	}
	if dsnHasPassword(storeDSN) {
		a.log.Warn("--store holds a password: any user of this machine can read it in the process list; put it in PGPASSWORD or ~/.pgpass instead")
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch serve: %v\n", err)
		return exitError{code: 2}
	}
	d, err := daemon.New(ctx, daemon.Options{Config: cfg, Load: load,
		Stdout: a.stdout, Logger: a.log})
	if err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch serve: %v\n", err)
		return exitError{code: 1}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = d.Reload() // logged by Reload
			}
		}
	}()
	if err := d.Run(ctx); err != nil {
		fmt.Fprintf(a.stderr, "hsmwatch serve: %v\n", err)
		return exitError{code: 1}
	}
	return nil
}

// dsnHasPassword reports whether a --store URL carries a password
// (postgres://user:password@host/db, or a password= parameter).
func dsnHasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return false
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return true
		}
	}
	return u.Query().Has("password")
}

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/store"
)

const localRule = `rules:
  - id: local.daemon-test
    component: test
    class: significant
    title: "Daemon test"
    level: major
    meaning: >-
      A line written by the daemon test.
    priority: 100
    match:
      contains: ["daemon-test-token"]
    examples:
      - line: "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: daemon-test-token"
`

// TestReloadSwapsRules: a reload with a new rule file classifies the next lines with it;
// a reload whose rules do not load keeps the running catalog.
func TestReloadSwapsRules(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "in.log")
	ruleFile := filepath.Join(dir, "local.yaml")
	if err := os.WriteFile(logFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() *config.Config {
		return &config.Config{File: "test", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
			Sources: sources(t, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile}})}
	}
	var next *config.Config
	d, stop := runDaemon(t, Options{Config: base(), Logger: slog.New(slog.DiscardHandler),
		Load: func() (*config.Config, error) { return next, nil }})
	st := d.Store()
	rulesOf := func() map[string]string {
		page, err := st.Events(context.Background(), store.EventFilter{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range page.Events {
			out[e.Event.Message] = e.Event.Rule
		}
		return out
	}
	appendLine := func(msg string) {
		f, err := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "2012 Feb 29 12:05:01 myLuna local5 info NTLS [1234]: %s\n", msg)
		f.Close()
	}
	waitRule := func(msg string) string {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if r, ok := rulesOf()[msg]; ok {
				return r
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%q never stored", msg)
		return ""
	}

	appendLine("daemon-test-token before")
	if r := waitRule("daemon-test-token before"); r == "local.daemon-test" {
		t.Fatalf("classified by a rule not loaded yet")
	}
	// Rules that do not load: refused, the running catalog stays.
	if err := os.WriteFile(ruleFile, []byte("rules: [{id: broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	next = base()
	next.Rules = []string{ruleFile}
	if err := d.Reload(); err == nil {
		t.Fatal("a broken rule file reloaded")
	}
	if err := os.WriteFile(ruleFile, []byte(localRule), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	appendLine("daemon-test-token after")
	if r := waitRule("daemon-test-token after"); r != "local.daemon-test" {
		t.Fatalf("after reload: rule %q", r)
	}
	stop()
	if s := d.Stats(); s.Dropped != 0 || s.Received != s.Processed {
		t.Errorf("stats after stop: %+v", s)
	}
}

func TestStorageDefaults(t *testing.T) {
	for _, c := range []struct {
		stateDir, dsn, wantDir, wantDSN, err string
	}{
		{stateDir: "/var/lib/h", wantDir: "/var/lib/h", wantDSN: "sqlite:/var/lib/h/hsmwatch.db"},
		{dsn: "sqlite:/data/x.db", wantDir: "/data", wantDSN: "sqlite:/data/x.db"},
		{dsn: "postgres://h@db/h", err: "state_dir is required"},
		{err: "give state_dir"},
	} {
		dir, dsn, err := storage(&config.Config{StateDir: c.stateDir, Store: config.Store{DSN: c.dsn}})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: err %v", c, err)
			}
			continue
		}
		if err != nil || dir != c.wantDir || dsn != c.wantDSN {
			t.Errorf("%+v: got %q %q %v", c, dir, dsn, err)
		}
	}
}

// runDaemon builds and runs a daemon (logging nowhere unless opts says otherwise); stop
// ends it and fails the test when the stop is not clean. A test that fails before
// calling stop has it stopped at cleanup.
func runDaemon(t *testing.T, opts Options) (*Daemon, func()) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	return d, stop
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeReportsEveryProblemBeforeOpening: a missing secret file and a TLS certificate
// that is not there are reported together, each as FILE:LINE: KEY: problem, with a
// problem of the file itself, and nothing is created in state_dir (no store migrated).
func TestServeReportsEveryProblemBeforeOpening(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	p := writeConfig(t, dir, `state_dir: `+state+`
sources:
  poll:
    - host: 127.0.0.1:161
      user:
        name: ops
        auth_pass_file: `+filepath.Join(dir, "missing.auth")+`
  syslog:
    - listen: tls://127.0.0.1:0
      cert: `+filepath.Join(dir, "missing.crt")+`
      key: `+filepath.Join(dir, "missing.key")+`
    - listen: udp://127.0.0.1:0
      rat: 5
`)
	code, _, stderr := runCLI(t, "", "serve", "--config", p)
	for _, want := range []string{
		p + ":7: sources.poll[0].user.auth_pass_file: " + filepath.Join(dir, "missing.auth") + " does not exist",
		p + ":10: sources.syslog[0].cert: " + filepath.Join(dir, "missing.crt") + " does not exist",
		p + ":11: sources.syslog[0].key: ",
		p + ":13: sources.syslog[1].rat: unknown key",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 2 {
		t.Errorf("exit %d", code)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state_dir was created before the configuration was checked: %v", err)
	}
	code, _, stderr = runCLI(t, "", "config", "check", p)
	if code != 2 || !strings.Contains(stderr, "auth_pass_file") {
		t.Errorf("config check: exit %d, %s", code, stderr)
	}
}

// TestServeRefusesUnknownStoreScheme: serve --store mysql://x is an error, and no SQLite
// file is made of the name.
func TestServeRefusesUnknownStoreScheme(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "state_dir: "+filepath.Join(dir, "state")+"\n")
	t.Chdir(dir)
	code, _, stderr := runCLI(t, "", "serve", "--config", p, "--store", "mysql://x")
	if code != 2 || !strings.Contains(stderr, "--store: want sqlite:PATH") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "mysql:")); !os.IsNotExist(err) {
		t.Fatalf("a file was made of the DSN: %v", err)
	}
	p = writeConfig(t, dir, "state_dir: "+filepath.Join(dir, "state")+"\nstore:\n  dsn: mysql://x\n")
	code, _, stderr = runCLI(t, "", "serve", "--config", p)
	if code != 2 || !strings.Contains(stderr, p+":3: store.dsn: want sqlite:PATH") {
		t.Fatalf("store.dsn: exit %d, stderr %q", code, stderr)
	}
}

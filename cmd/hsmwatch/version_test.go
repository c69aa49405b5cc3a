package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/hsmwatch/hsmwatch/internal/version"
)

func TestVersion(t *testing.T) {
	want := version.Get().Long()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 || out != want {
			t.Errorf("%v: exit %d, %q (stderr %q), want %q", args, code, out, errOut, want)
		}
	}
	if !strings.Contains(want, "go: go1.") {
		t.Errorf("no Go version in %q", want)
	}
}

// Every check answers -V and --version with one line naming it, as Nagios plugins do,
// before looking at its other options.
func TestCheckVersion(t *testing.T) {
	root, _ := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	var checks []string
	for _, c := range root.Commands() {
		if c.Name() == "check" {
			for _, s := range c.Commands() {
				checks = append(checks, s.Name())
			}
		}
	}
	if len(checks) < 4 {
		t.Fatalf("checks: %v", checks)
	}
	for _, name := range checks {
		for _, flag := range []string{"-V", "--version"} {
			code, out, _ := runCLI(t, "", "check", name, flag)
			want := "hsmwatch check " + name + " " + version.Get().Short() + "\n"
			if code != 0 || out != want {
				t.Errorf("check %s %s: exit %d, %q, want %q", name, flag, code, out, want)
			}
		}
	}
}

func TestLogFlags(t *testing.T) {
	var s logSettings
	var buf bytes.Buffer
	log := s.newLogger(&buf).With("unit", "u1")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	s.register(fs)
	if err := fs.Parse([]string{"--log-level", "warn", "--log-format", "json"}); err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "n", 3)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want only the warning, got %q", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", lines[0], err)
	}
	if rec["msg"] != "shown" || rec["level"] != "WARN" || rec["unit"] != "u1" || rec["n"] != float64(3) {
		t.Errorf("record: %v", rec)
	}
	buf.Reset()
	if err := fs.Parse([]string{"--log-level", "debug", "--log-format", "text"}); err != nil {
		t.Fatal(err)
	}
	log.Debug("detail")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=detail unit=u1") {
		t.Errorf("text at debug: %q", got)
	}
}

func TestLogFlagsBadValue(t *testing.T) {
	code, _, errOut := runCLI(t, "", "--log-level", "loud", "rules", "list")
	if code != 2 || !strings.Contains(errOut, `"--log-level"`) || !strings.Contains(errOut, "debug, info, warn or error") {
		t.Errorf("bad level: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "scan", "--log-format", "xml", "-")
	if code != 2 || !strings.Contains(errOut, `"--log-format"`) || !strings.Contains(errOut, "text or json") {
		t.Errorf("bad format: exit %d, %q", code, errOut)
	}
	// A check says it the plugin way: UNKNOWN on standard output.
	code, out, _ := runCLI(t, "", "check", "log", "--log-format", "xml", "x.log")
	if code != 3 || !strings.HasPrefix(out, "UNKNOWN: ") || !strings.Contains(out, "--log-format") {
		t.Errorf("bad format for a check: exit %d, %q", code, out)
	}
}

func TestManPages(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "man", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"hsmwatch.1", "hsmwatch-serve.1", "hsmwatch-check-memory.1", "hsmwatch-version.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v (%s)", name, err, out)
			continue
		}
		if !bytes.HasPrefix(b, []byte(".nh\n.TH \"HSMWATCH\" \"1\"")) {
			t.Errorf("%s does not start as a man page: %q", name, b[:min(len(b), 80)])
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hsmwatch-check-memory.1"))
	if !bytes.Contains(b, []byte(`\fB--warning\fP`)) || !bytes.Contains(b, []byte(`\fB--log-level\fP`)) {
		t.Errorf("check memory's page lacks its flags")
	}
}

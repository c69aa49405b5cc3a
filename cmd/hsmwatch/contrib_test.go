package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// checkCommands are the `hsmwatch check` subcommands, by name.
func checkCommands(t *testing.T) map[string]*cobra.Command {
	t.Helper()
	root, _ := newRoot(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	out := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		if c.Name() == "check" {
			for _, s := range c.Commands() {
				out[s.Name()] = s
			}
		}
	}
	if len(out) < 4 {
		t.Fatalf("checks: %v", out)
	}
	return out
}

// hasFlag says whether a check takes -x or --xx (its own flags or the global ones).
func hasFlag(c *cobra.Command, arg string) bool {
	if name, ok := strings.CutPrefix(arg, "--"); ok {
		return c.Flags().Lookup(name) != nil || c.InheritedFlags().Lookup(name) != nil
	}
	if short, ok := strings.CutPrefix(arg, "-"); ok && len(short) == 1 {
		return c.Flags().ShorthandLookup(short) != nil || c.InheritedFlags().ShorthandLookup(short) != nil
	}
	return false
}

// contrib/icinga2/hsmwatch.conf has a CheckCommand for every check, and each argument it
// passes is a flag of that check.
func TestIcingaCheckCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "icinga2", "hsmwatch.conf"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	objRE := regexp.MustCompile(`(?m)^object CheckCommand "hsmwatch-([a-z0-9]+)" \{\n  command = \[ "/usr/bin/hsmwatch", "check", "([a-z0-9]+)" \]\n((?:.*\n)*?)\}\n`)
	argRE := regexp.MustCompile(`(?m)^    "(-[^"]+)" =`)
	found := map[string]bool{}
	for _, m := range objRE.FindAllStringSubmatch(text, -1) {
		name, sub, body := m[1], m[2], m[3]
		c, ok := checkCommands(t)[sub]
		if !ok || name != sub {
			t.Errorf("CheckCommand hsmwatch-%s runs hsmwatch check %s, which does not exist", name, sub)
			continue
		}
		found[sub] = true
		args := argRE.FindAllStringSubmatch(body, -1)
		if len(args) < 3 {
			t.Errorf("hsmwatch-%s: %d arguments", name, len(args))
		}
		for _, a := range args {
			if !hasFlag(c, a[1]) {
				t.Errorf("CheckCommand hsmwatch-%s passes %s, not a flag of hsmwatch check %s", name, a[1], sub)
			}
		}
	}
	for name := range checkCommands(t) {
		if !found[name] {
			t.Errorf("contrib/icinga2/hsmwatch.conf has no CheckCommand for hsmwatch check %s", name)
		}
	}
}

// contrib/nagios/hsmwatch.cfg has a command for every check, each of whose options is a
// flag of that check.
func TestNagiosCommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "contrib", "nagios", "hsmwatch.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	lineRE := regexp.MustCompile(`(?m)^\s+command_line\s+/usr/bin/hsmwatch check ([a-z0-9]+) (.*)$`)
	found := map[string]bool{}
	checks := checkCommands(t)
	for _, m := range lineRE.FindAllStringSubmatch(string(b), -1) {
		c, ok := checks[m[1]]
		if !ok {
			t.Errorf("command runs hsmwatch check %s, which does not exist", m[1])
			continue
		}
		found[m[1]] = true
		for _, w := range strings.Fields(m[2]) {
			if strings.HasPrefix(w, "-") && !hasFlag(c, w) {
				t.Errorf("command for hsmwatch check %s passes %s, not one of its flags", m[1], w)
			}
		}
	}
	for name := range checks {
		if !found[name] {
			t.Errorf("contrib/nagios/hsmwatch.cfg has no command for hsmwatch check %s", name)
		}
	}
}

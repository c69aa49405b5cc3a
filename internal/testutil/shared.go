// Package testutil holds helpers for tests: finding the project's shared/ folder (the
// specification and the labelled corpus) and reading its JSON lines.
package testutil

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// SharedPath returns the path of a file under shared/, which lives beside the checkout
// (../shared from the repository root). Tests fail, naming the path, when it is missing.
func SharedPath(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", rel)
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("the shared corpus is missing: %v (clone the project with shared/ beside it)", err)
			}
			return p
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", dir)
		}
	}
}

// ReadJSONL decodes every line of a shared/ JSON-lines file.
func ReadJSONL[T any](t testing.TB, rel string) []T {
	t.Helper()
	f, err := os.Open(SharedPath(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", rel, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// NoiseLines are generic Linux syslog lines (sshd, systemd, CRON, kernel, postfix, ...) in
// rsyslog's traditional and high-precision file formats: what a syslog server receives
// alongside HSM lines. Benchmarks mix them in.
func NoiseLines() []string {
	return []string{
		"Nov 22 05:31:30 web01 sshd[20412]: Accepted publickey for deploy from 10.1.2.3 port 51234 ssh2: ED25519 SHA256:abcdef",
		"Nov 22 05:31:31 web01 systemd[1]: Started Session 4242 of User deploy.",
		"Nov 22 05:31:32 web01 CRON[20500]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
		"Nov 22 05:31:33 web01 kernel: [1234567.123456] IPv4: martian source 10.0.0.1 from 10.0.0.2, on dev eth0",
		"Nov 22 05:31:34 web01 systemd-logind[611]: New session 4242 of user deploy.",
		"2026-11-22T05:31:35.123456+00:00 web02 postfix/smtpd[3210]: connect from unknown[10.9.8.7]",
		"Nov 22 05:31:36 web01 dhclient[700]: DHCPACK of 10.0.0.5 from 10.0.0.1",
		"Nov 22 05:31:37 web01 rsyslogd: [origin software=\"rsyslogd\"] rsyslogd was HUPed",
		"Nov 22 05:31:38 web01 nginx[900]: 10.1.1.1 - - \"GET /health HTTP/1.1\" 200 2",
	}
}

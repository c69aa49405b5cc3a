package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTTPSection(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "web.yml")
	// bcrypt of "secret", cost 10
	if err := os.WriteFile(good, []byte("basic_auth_users:\n  olga: $2y$10$3xPuUmJeOzmOi7xIDk5Z0.qk.Ktr0rWb4/E2kP3Zm95j0sW5BmpwO\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("basic_auth_users:\n  olga: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("ok.yaml", []byte("http:\n  listen: 0.0.0.0:9841\n  web_config_file: "+good+
		"\n  hosts: [hsm-monitor.example]\n  roles: {olga: operator, vera: viewer}\n  max_api_requests: 8\n  max_streams_per_address: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Roles["olga"] != "operator" || c.HTTP.Hosts[0] != "hsm-monitor.example" || c.HTTP.MaxAPIRequests != 8 || c.HTTP.MaxStreamsPerAddress != 2 {
		t.Errorf("read %+v", c.HTTP)
	}
	if err := c.CheckFiles(); err != nil {
		t.Errorf("a good web configuration: %v", err)
	}

	_, err = Parse("bad.yaml", []byte("http:\n  roles:\n    olga: admin\n  hosts: [\"evil:80\"]\n"))
	for _, want := range []string{"bad.yaml:3: http.roles.olga: role \"admin\"", "http.hosts[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	for _, f := range []string{bad, filepath.Join(dir, "missing.yml")} {
		c, err := Parse("w.yaml", []byte("http:\n  web_config_file: "+f+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CheckFiles(); err == nil || !strings.Contains(err.Error(), "w.yaml:2: http.web_config_file") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCheckFilesSecrets: the trap receiver's communities_file (and every passphrase or
// community file) must exist and be closed to the group and others at "config check"
// time, not only when the daemon opens it.
func TestCheckFilesSecrets(t *testing.T) {
	dir := t.TempDir()
	comm := filepath.Join(dir, "trap.communities")
	if err := os.WriteFile(comm, []byte("s3cret-community\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := "sources:\n  traps:\n    listen: 127.0.0.1:0\n    communities_file: " + comm + "\n    communities_env: HSMWATCH_TEST_UNUSED\n"
	c, err := Parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFiles(); err != nil {
		t.Errorf("mode 600: %v", err)
	}
	if err := os.Chmod(comm, 0o644); err != nil {
		t.Fatal(err)
	}
	err = c.CheckFiles()
	want := "t.yaml:4: sources.traps.communities_file: " + comm + " is readable by others (mode -rw-r--r--): chmod 600 it"
	if err == nil || err.Error() != want {
		t.Errorf("mode 644: %v\nwant %s", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the community: %v", err)
	}
	if err := os.Remove(comm); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFiles(); err == nil || !strings.Contains(err.Error(), "t.yaml:4: sources.traps.communities_file: "+comm+" does not exist") {
		t.Errorf("missing: %v", err)
	}
	// A file that holds no secret (a web configuration, a certificate) may be readable.
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Parse("w.yaml", []byte("http:\n  web_config_file: "+web+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckFiles(); err != nil {
		t.Errorf("a readable web configuration: %v", err)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
)

func secretFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSNMPUserResolve(t *testing.T) {
	env := map[string]string{"PRIV": "priv-s3cret-pass"}
	getenv := func(k string) string { return env[k] }
	u := SNMPUser{Name: "pete", AuthPassFile: secretFile(t, "  auth-s3cret-pass \nsecond line\n"), PrivPassEnv: "PRIV"}
	got, err := u.Resolve(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "pete" || got.AuthProto != gosnmp.SHA || got.AuthPass != "auth-s3cret-pass" || got.PrivProto != gosnmp.AES || got.PrivPass != "priv-s3cret-pass" {
		t.Errorf("defaults SHA/AES, first line trimmed: %+v", got)
	}
	u.AuthProto, u.PrivProto = "SHA256", "AES256"
	if got, err = u.Resolve(getenv); err != nil || got.AuthProto != gosnmp.SHA256 || got.PrivProto != gosnmp.AES256 {
		t.Errorf("protocols: %+v %v", got, err)
	}
	// No passphrase: noAuthNoPriv; a protocol without its passphrase is not used.
	if got, err = (SNMPUser{Name: "anon", AuthProto: "MD5"}).Resolve(getenv); err != nil || got.AuthProto != gosnmp.NoAuth || got.PrivProto != gosnmp.NoPriv {
		t.Errorf("noAuthNoPriv: %+v %v", got, err)
	}
	for _, c := range []struct {
		u    SNMPUser
		want string
	}{
		{SNMPUser{Name: "a", AuthPassEnv: "UNSET"}, "user a: auth_pass_env: environment variable UNSET is empty or not set"},
		{SNMPUser{Name: "a", AuthPassFile: secretFile(t, "\nauth-s3cret-pass\n")}, ":1: the first line is empty"},
		{SNMPUser{Name: "a", AuthPassFile: "/nonexistent/a"}, "user a: auth_pass_file: open /nonexistent/a: "},
		{SNMPUser{Name: "a", PrivPassEnv: "PRIV"}, "user a: a privacy passphrase needs an authentication passphrase"},
		{SNMPUser{Name: "a", AuthPassEnv: "PRIV", AuthProto: "SHA3"}, "user a: auth_proto: "},
		{SNMPUser{Name: "a", AuthPassEnv: "PRIV", PrivPassEnv: "PRIV", PrivProto: "ROT13"}, "user a: priv_proto: "},
	} {
		_, err := c.u.Resolve(getenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.u, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("an error shows a secret: %v", err)
		}
	}
}

func TestSNMPUserTrapUser(t *testing.T) {
	u := SNMPUser{Name: "pete", AuthPassEnv: "AUTH", EngineIDs: []string{"80001f8804646c756e6131", "0x80:00:1f:88:04:aa"},
		MinSecurity: "authPriv", NoTimeliness: true}
	got, err := u.TrapUser(func(string) string { return "auth-s3cret-pass" })
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "pete" || got.AuthPass != "auth-s3cret-pass" || got.MinLevel != receiver.AuthPriv || !got.NoTimeliness ||
		len(got.EngineIDs) != 2 || string(got.EngineIDs[0]) != "\x80\x00\x1f\x88\x04dluna1" {
		t.Errorf("%+v", got)
	}
	u.EngineIDs = []string{"12"}
	if _, err := u.TrapUser(func(string) string { return "x" }); err == nil || !strings.Contains(err.Error(), "user pete: engine_ids: ") {
		t.Errorf("bad engine ID: %v", err)
	}
}

func TestParseSNMPUsers(t *testing.T) {
	users, err := ParseSNMPUsers("u.yaml", []byte(`users:
  - name: pete
    auth_proto: SHA
    auth_pass_file: /etc/hsmwatch/pete.auth
    priv_pass_env: PETE_PRIV
    engine_ids: ["80001f8804646c756e6131"]
    min_security: authPriv
    no_timeliness: true
  - name: olga
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].PrivPassEnv != "PETE_PRIV" || users[0].MinSecurity != "authPriv" || !users[0].NoTimeliness || users[1].Name != "olga" {
		t.Errorf("%+v", users)
	}
	_, err = ParseSNMPUsers("u.yaml", []byte("users:\n  - name: pete\n    priv_pass: hunter2-s3cret\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3: field priv_pass not found") || !strings.Contains(err.Error(), "priv_pass_file") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a passphrase in the file: %v", err)
	}
	_, err = ParseSNMPUsers("u.yaml", []byte("users: hunter2-s3cret\n"))
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a misplaced value: %v", err)
	}
	_, err = ParseSNMPUsers("u.yaml", []byte(""))
	if err == nil || err.Error() != "u.yaml: users: no user" {
		t.Errorf("empty file: %v", err)
	}
}

// The daemon configuration checks its users at load, with the receiver-only keys refused
// elsewhere.
func TestConfigChecksSNMPUsers(t *testing.T) {
	_, err := Parse("c.yaml", []byte(`sources:
  traps:
    listen: 127.0.0.1:162
    min_security: high
    users:
      - name: pete
        auth_pass_env: A
        min_security: authPriv
        no_timeliness: true
      - name: pete
        priv_proto: ROT13
  poll:
    - host: luna1
      user:
        name: ops
        auth_pass_env: A
        min_security: authPriv
sinks:
  snmp_traps:
    - address: nms:162
      user:
        name: ops
        auth_pass_env: A
        auth_pass_file: /x
        no_timeliness: true
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`c.yaml:4: sources.traps.min_security: security level "high"`,
		"c.yaml:10: sources.traps.users[1].name: user pete is listed twice",
		"c.yaml:11: sources.traps.users[1].priv_proto: ",
		"c.yaml:17: sources.poll[0].user.min_security: applies to the trap receiver's users (sources.traps.users) only",
		"c.yaml:22: sinks.snmp_traps[0].user: give auth_pass_file or auth_pass_env, not both",
		"c.yaml:25: sinks.snmp_traps[0].user.no_timeliness: applies to the trap receiver's users",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "sources.traps.users[0]") {
		t.Errorf("the first trap user is fine: %v", err)
	}
}

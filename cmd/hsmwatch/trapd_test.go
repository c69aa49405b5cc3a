package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

const (
	trapCommunity = "cli-c0mmunity"
	trapAuth      = "cli-auth-s3cret"
	trapPriv      = "cli-priv-s3cret"
	oidNTLSNotify = ".1.3.6.1.4.1.23629.1.5.2.2.6"
	oidLogRefVar  = ".1.3.6.1.4.1.23629.1.5.2.2.1"
	// standInMIBs has OIDs for the three non-public notifications (a test stand-in).
	standInMIBs = "../../internal/snmp/receiver/testdata/mibs"
)

// trapdRun is a running "hsmwatch trapd".
type trapdRun struct {
	addr           string
	stdout, stderr *testutil.SyncBuffer
	cancel         func()
	code           chan int
}

func startTrapdCLI(t *testing.T, args ...string) *trapdRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &trapdRun{stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, cancel: cancel, code: make(chan int, 1)}
	go func() {
		r.code <- run(ctx, append([]string{"trapd", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), r.stdout, r.stderr)
	}()
	listening := regexp.MustCompile(`listening on udp (\S+);`)
	testutil.WaitFor(t, "trapd to listen", 30*time.Second, func() bool {
		m := listening.FindStringSubmatch(r.stderr.String())
		if m != nil {
			r.addr = m[1]
		}
		select {
		case c := <-r.code:
			t.Fatalf("trapd exited with %d: %s", c, r.stderr.String())
		default:
		}
		return m != nil
	})
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop interrupts trapd and returns its exit status (once).
func (r *trapdRun) stop(t *testing.T) int {
	t.Helper()
	r.cancel()
	select {
	case c, ok := <-r.code:
		if ok {
			close(r.code)
			return c
		}
		return -1
	case <-time.After(10 * time.Second):
		t.Fatal("trapd did not stop")
		return -1
	}
}

// events reads the JSON lines trapd printed.
func (r *trapdRun) events(t *testing.T) []*event.Event {
	t.Helper()
	var out []*event.Event
	sc := bufio.NewScanner(strings.NewReader(r.stdout.String()))
	for sc.Scan() {
		ev := &event.Event{}
		if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
			t.Fatalf("not an event: %s: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

func writeSecret(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ntlsVars(marker string) []gosnmp.SnmpPDU {
	return []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: oidNTLSNotify},
		{Name: oidLogRefVar, Type: gosnmp.OctetString, Value: "[myLuna:10.0.0.1 / messages / 2012 Feb 29 12:05:01 / " + marker + "[9] / 1]"},
	}
}

func noSecrets(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, s := range []string{trapCommunity, trapAuth, trapPriv} {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("%s shows a secret:\n%s", where, text)
			}
		}
	}
}

func TestTrapdV2cCommunityFile(t *testing.T) {
	file := writeSecret(t, "# rules\n"+trapCommunity+" 127.0.0.0/8\nother 10.0.0.0/8")
	r := startTrapdCLI(t, "--community-file", file)
	tg := notify.Target{Addr: r.addr, Version: gosnmp.Version2c, Community: trapCommunity}
	if err := notify.Send(context.Background(), tg, notify.Engine{}, nil, ntlsVars("NTLS")); err != nil {
		t.Fatal(err)
	}
	bad := tg
	bad.Community = "other" // allowed from 10/8 only
	notify.Send(context.Background(), bad, notify.Engine{}, nil, ntlsVars("refused"))
	testutil.WaitFor(t, "the event and the refusal", 30*time.Second, func() bool {
		return strings.Contains(r.stdout.String(), "\n") && strings.Contains(r.stderr.String(), "notification refused")
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	evs := r.events(t)
	if len(evs) != 1 {
		t.Fatalf("%d events: %s", len(evs), r.stdout.String())
	}
	ev := evs[0]
	if ev.Rule != "luna.trap.ntls" || ev.Level != "critical" || ev.Component != "ntls" || ev.Notification != "ntlsAttentionNotify" ||
		ev.Host != "myLuna" || ev.Assert != event.True || ev.Fields.Text("process") != "NTLS" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if !strings.Contains(r.stderr.String(), "1 events") || !strings.Contains(r.stderr.String(), "bad_community=1") {
		t.Errorf("stats missing: %s", r.stderr.String())
	}
	noSecrets(t, "trapd", r.stdout.String(), r.stderr.String())
}

func TestTrapdV3SecretsFromEnvironmentAndFiles(t *testing.T) {
	engine := []byte("\x80\x00\x1f\x88\x04cli-sender")
	t.Setenv("HSMWATCH_AUTH_PASS", trapAuth)
	r := startTrapdCLI(t, "--user", "pete", "--priv-pass-file", writeSecret(t, trapPriv),
		"--engine-id", hex.EncodeToString(engine), "--min-level", "authPriv", "--mibs", standInMIBs)
	u := usm.User{Name: "pete", AuthProto: gosnmp.SHA, AuthPass: trapAuth, PrivProto: gosnmp.AES, PrivPass: trapPriv}
	tg := notify.Target{Addr: r.addr, Version: gosnmp.Version3, User: &u}
	vars := ntlsVars("NTLS")
	vars[1].Value = ".1.3.6.1.4.1.23629.1.5.2.2.7" // the stand-in crypto notification
	if err := notify.Send(context.Background(), tg, notify.Engine{ID: engine, Boots: 1, Time: 10}, nil, vars); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the v3 event", 30*time.Second, func() bool { return strings.Contains(r.stdout.String(), "\n") })
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	ev := r.events(t)[0]
	if ev.Notification != "cryptoAttentionNotify" || ev.Component != "hsm" || ev.Fields.Text("user") != "pete" ||
		ev.Fields.Text("engine_id") != hex.EncodeToString(engine) {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if strings.Contains(r.stderr.String(), "warning: --") {
		t.Errorf("a warning for the safe forms: %s", r.stderr.String())
	}
	noSecrets(t, "trapd", r.stdout.String(), r.stderr.String())
}

func TestTrapdCommandLineErrors(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(users, []byte("users:\n  - name: pete\n    auth_pass: "+trapAuth+"\n    engine_ids: "+trapPriv+"\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trapd", "--listen", "127.0.0.1:0"}, "nothing would be accepted"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--community-file", writeSecret(t, trapCommunity), "--min-level", "high"}, "--min-level"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--user", "pete", "--auth-pass", trapAuth, "--auth-pass-file", writeSecret(t, trapAuth)}, "give"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--user", "pete", "--auth-pass-file", writeSecret(t, "short")}, "at least 8"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--users", users}, "value not shown"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--engine-id", "1234567890"}, "--user, which is missing"},
		{[]string{"trapd", "--listen", "127.0.0.1:0", "--user", "u", "--engine-id", "12"}, "engine ID"},
		{[]string{"trapd", "--listen", "256.0.0.1:0", "--community-file", writeSecret(t, trapCommunity)}, "listen"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
		noSecrets(t, strings.Join(tc.args[:2], " "), out, errOut)
	}
}

// writeUsers writes a --users file with mode 600.
func writeUsers(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// netsnmpTrap sends one Luna NTLS trap with net-snmp's snmptrap, with no MIBs and no
// configuration of the machine.
func netsnmpTrap(t *testing.T, args ...string) {
	t.Helper()
	bin := testutil.Tool(t, "snmptrap")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-M", dir, "-m", ""}, args...)...)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+dir, "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("snmptrap: %v\n%s", err, out)
	}
}

// The --users file holds the daemon configuration's user entries: passphrases from files
// and the environment, engine IDs, a per-user min_security and no_timeliness, with
// net-snmp's snmptrap as the sender.
func TestTrapdUsersFileNetSNMP(t *testing.T) {
	peteEngine, olgaEngine := "0x80001f8804706574652d6c756e61", "0x80001f88046f6c67612d6c756e61"
	t.Setenv("TEST_PETE_PRIV", trapPriv)
	t.Setenv("TEST_OLGA_AUTH", trapAuth)
	users := writeUsers(t, `users:
  - name: pete
    auth_proto: SHA
    auth_pass_file: `+writeSecret(t, trapAuth)+`
    priv_proto: AES
    priv_pass_env: TEST_PETE_PRIV
    engine_ids: ["`+peteEngine+`"]
    min_security: authPriv
  - name: olga
    auth_proto: SHA256
    auth_pass_env: TEST_OLGA_AUTH
    engine_ids: ["`+strings.TrimPrefix(olgaEngine, "0x")+`"]
    no_timeliness: true
`)
	r := startTrapdCLI(t, "--users", users)
	if !strings.Contains(r.stderr.String(), "2 v3 users, minimum authNoPriv") {
		t.Errorf("start line: %s", r.stderr.String())
	}
	target := "udp:" + r.addr
	send := func(marker, user, level, auth, engine string, extra ...string) {
		t.Helper()
		args := []string{"-v", "3", "-u", user, "-l", level, "-e", engine}
		switch user {
		case "pete":
			args = append(args, "-a", "SHA", "-A", trapAuth, "-x", "AES", "-X", trapPriv)
		default:
			args = append(args, "-a", auth, "-A", trapAuth)
		}
		args = append(append(args, extra...), target, "", oidNTLSNotify, oidLogRefVar, "s",
			"[myLuna:10.0.0.1 / messages / 2012 Feb 29 12:05:01 / "+marker+"[9] / 1]")
		netsnmpTrap(t, args...)
	}
	send("PETE", "pete", "authPriv", "", peteEngine, "-Z", "1000,50")
	send("PETELOW", "pete", "authNoPriv", "", peteEngine)              // below pete's min_security
	send("PETEOLD", "pete", "authPriv", "", peteEngine, "-Z", "999,5") // boots went back: a replay
	send("OLGAENGINE", "olga", "authNoPriv", "SHA-256", peteEngine)    // not olga's engine
	send("OLGA", "olga", "authNoPriv", "SHA-256", olgaEngine, "-Z", "1000,50")
	send("OLGAOLD", "olga", "authNoPriv", "SHA-256", olgaEngine, "-Z", "999,5") // no_timeliness: taken
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		}
	})
	// The refused traps were sent before the last accepted one.
	testutil.WaitFor(t, "3 events", 30*time.Second, func() bool { return strings.Count(r.stdout.String(), "\n") >= 3 })
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, r.stderr.String())
	}
	var got []string
	for _, ev := range r.events(t) {
		got = append(got, ev.Fields.Text("user")+"/"+ev.Fields.Text("process"))
	}
	if strings.Join(got, " ") != "pete/PETE olga/OLGA olga/OLGAOLD" {
		t.Errorf("events %v, want pete/PETE olga/OLGA olga/OLGAOLD", got)
	}
	for _, want := range []string{"3 events", "unsupported_sec_level=1", "not_in_time_window=1", "unknown_engine_id=1"} {
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr.String())
		}
	}
	if strings.Contains(r.stderr.String(), "warning:") {
		t.Errorf("a warning for a file of mode 600: %s", r.stderr.String())
	}
	noSecrets(t, "trapd", r.stdout.String(), r.stderr.String())
}

func TestTrapdUsersFileErrors(t *testing.T) {
	authFile := writeSecret(t, trapAuth)
	empty := writeSecret(t, "")
	for _, tc := range []struct {
		name, text, want string
	}{
		{"the old schema", "users:\n  - name: pete\n    auth_pass: " + trapAuth + "\n", "users.yaml: yaml: unmarshal errors:\n  line 3: field auth_pass not found in type config.SNMPUser (passphrases go in a file of their own"},
		{"a misplaced value", "users:\n  - name: pete\n    engine_ids: " + trapPriv + "\n", "value not shown"},
		{"no name", "users:\n  - auth_pass_file: " + authFile + "\n", "users.yaml:2: users[0].name: required"},
		{"no users", "users: []\n", "users.yaml:1: users: no user"},
		{"twice", "users:\n  - name: a\n  - name: b\n  - name: a\n", "users.yaml:4: users[2].name: user a is listed twice"},
		{"bad protocol", "users:\n  - name: pete\n    auth_proto: SHA3\n    auth_pass_file: " + authFile + "\n", "users.yaml:3: users[0].auth_proto: "},
		{"bad engine ID", "users:\n  - name: pete\n    engine_ids: [\"12\"]\n", "users.yaml:3: users[0].engine_ids[0]: "},
		{"bad level", "users:\n  - name: pete\n    min_security: high\n", "users.yaml:3: users[0].min_security: security level \"high\""},
		{"both file and env", "users:\n  - name: pete\n    auth_pass_file: " + authFile + "\n    auth_pass_env: X\n", "users.yaml:2: users[0]: give auth_pass_file or auth_pass_env, not both"},
		{"priv without auth", "users:\n  - name: pete\n    priv_pass_file: " + authFile + "\n", "a privacy passphrase needs an authentication passphrase"},
		{"missing file", "users:\n  - name: pete\n    auth_pass_file: /nonexistent/pete.auth\n", "user pete: auth_pass_file: open /nonexistent/pete.auth: no such file or directory"},
		{"empty file", "users:\n  - name: pete\n    auth_pass_file: " + empty + "\n", "user pete: auth_pass_file " + empty + ":1: the first line is empty"},
		{"unset variable", "users:\n  - name: pete\n    auth_pass_env: TEST_TRAPD_UNSET\n", "user pete: auth_pass_env: environment variable TEST_TRAPD_UNSET is empty or not set"},
		{"short passphrase", "users:\n  - name: pete\n    auth_pass_file: " + writeSecret(t, "short") + "\n", "at least 8"},
	} {
		users := writeUsers(t, tc.text)
		code, out, errOut := runCLI(t, "", "trapd", "--listen", "127.0.0.1:0", "--users", users)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 mentioning %q", tc.name, code, errOut, tc.want)
		}
		noSecrets(t, "trapd "+tc.name, out, errOut)
	}
	// Others may read the users file or a passphrase file: refused, naming the file and its
	// mode, as the other secret files are.
	shared := writeSecret(t, trapAuth)
	if err := os.Chmod(shared, 0o644); err != nil {
		t.Fatal(err)
	}
	users := writeUsers(t, "users:\n  - name: pete\n    auth_pass_file: "+shared+"\n")
	code, out, errOut := runCLI(t, "", "trapd", "--listen", "127.0.0.1:0", "--users", users)
	if want := "--users " + users + ": user pete: auth_pass_file " + shared + " is readable by others (mode -rw-r--r--): chmod 600 it"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("open passphrase file: exit %d, stderr %q; want 2 mentioning %q", code, errOut, want)
	}
	noSecrets(t, "trapd open passphrase file", out, errOut)
	if err := os.Chmod(shared, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(users, 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "trapd", "--listen", "127.0.0.1:0", "--users", users)
	if want := "--users " + users + " is readable by others (mode -rw-r-----): chmod 600 it"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("open users file: exit %d, stderr %q; want 2 mentioning %q", code, errOut, want)
	}
	noSecrets(t, "trapd open users file", out, errOut)
}

// lsta writes the guide's trap test lines for the six categories to a log file.
func lstaLog(t *testing.T) string {
	t.Helper()
	lines := []string{
		"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: ***TEST : Fan sensor Fan3B . Lower Critical going low (Reading 0 .lt Threshold 2000 RPM)",
		"2012 Feb 29 12:05:02 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 21000 < Threshold 2000 RPM)",
		"2012 Feb 29 12:05:03 myLuna local4 notice ipmievd[2810]: Power Supply sensor PSU2_Status . - Failure detected Asserted",
		"2012 Feb 29 12:05:04 myLuna daemon crit smartd[77]: Device: /dev/sda, Temperature 45 Celsius reached limit of 44 Celsius (Min/Max 31/49)",
		"2012 Feb 29 12:05:05 myLuna local5 crit NTLS[1234]: error : 0xc0000002 : Unable to create a new connection.",
		"2012 Feb 29 12:05:06 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized",
		"2012 Feb 29 12:05:07 myLuna local5 info NTLS: info : 0 : NTLS is online and operational.",
	}
	p := filepath.Join(t.TempDir(), "messages")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startNMS runs hsmwatch's receiver as the NMS a scan replays into.
func startNMS(t *testing.T, cfg receiver.Config) (string, chan *event.Event) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	r, err := receiver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *event.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.Run(ctx, func(ev *event.Event) { ch <- ev })
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return r.Addr().String(), ch
}

func drain(ch chan *event.Event, n int) []*event.Event {
	var out []*event.Event
	for len(out) < n {
		select {
		case ev := <-ch:
			out = append(out, ev)
		case <-time.After(5 * time.Second):
			return out
		}
	}
	return out
}

func TestScanTrapTargetV2c(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load(standInMIBs); err != nil {
		t.Fatal(err)
	}
	addr, ch := startNMS(t, receiver.Config{MIB: table, Communities: []receiver.CommunityRule{{Communities: []string{trapCommunity}}}})
	t.Setenv("HSMWATCH_TRAP_COMMUNITY", trapCommunity)
	code, out, errOut := runCLI(t, "", "scan", "--tz", "UTC", "--trap-target", addr, "--trap-appliance-ip", "192.168.0.101",
		"--trap-oid", "powerSupplyAttentionNotify=1.3.6.1.4.1.23629.1.5.2.2.3", lstaLog(t))
	if code != 1 {
		t.Fatalf("exit %d (want 1: no OID for the crypto notification): %s", code, errOut)
	}
	if !strings.Contains(errOut, "no OID for motherboardAttentionNotify, cryptoAttentionNotify") ||
		!strings.Contains(errOut, "no OID for cryptoAttentionNotify: SAFENET-APPLIANCE-MIB's") || !strings.Contains(errOut, "traps: 5 sent") {
		t.Errorf("stderr: %s", errOut)
	}
	evs := drain(ch, 5)
	got := map[string]int{}
	for _, ev := range evs {
		got[ev.Notification+"/"+ev.Fields.Text("log_assert")]++
		if ev.Host != "myLuna" || ev.Fields.Text("log_ip") != "192.168.0.101" || ev.Fields.Text("log_file") != "messages" {
			t.Errorf("received %s", ev.AppendJSON(nil))
		}
		if ev.Fields.Text("log_time") == "2012 Feb 29 12:05:01" && !ev.Test {
			t.Errorf("the trap test line was not sent as a test: %s", ev.AppendJSON(nil))
		}
	}
	want := map[string]int{"fanAttentionNotify/1": 1, "fanAttentionNotify/0": 1, "powerSupplyAttentionNotify/1": 1,
		"diskDriveAttentionNotify/1": 1, "ntlsAttentionNotify/1": 1}
	if len(evs) != 5 || len(got) != len(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("received %v, want %v", got, want)
		}
	}
	if n := strings.Count(out, "\n"); n != 7 {
		t.Errorf("%d events written, want 7", n)
	}
	noSecrets(t, "scan", out, errOut)
}

func TestScanTrapTargetV3Inform(t *testing.T) {
	u := usm.User{Name: "pete", AuthProto: gosnmp.SHA, AuthPass: trapAuth, PrivProto: gosnmp.AES, PrivPass: trapPriv}
	addr, ch := startNMS(t, receiver.Config{MinLevel: receiver.AuthPriv, Users: []receiver.User{{User: u}}})
	code, _, errOut := runCLI(t, "", "scan", "--tz", "UTC", "--only", "significant", "--trap-target", addr, "--mibs", standInMIBs,
		"--trap-user", "pete", "--trap-auth-pass-file", writeSecret(t, trapAuth), "--trap-priv-pass-file", writeSecret(t, trapPriv),
		"--trap-inform", "--trap-deasserts", "none", lstaLog(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "traps: 5 sent, 0 failed, 1 de-asserts skipped") {
		t.Errorf("stderr: %s", errOut)
	}
	if evs := drain(ch, 5); len(evs) != 5 {
		t.Errorf("%d informs received", len(evs))
	}
	noSecrets(t, "scan", errOut)
}

func TestScanTrapTargetErrors(t *testing.T) {
	log := lstaLog(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--trap-target", "127.0.0.1:162", log}, "needs --trap-community"},
		{[]string{"scan", "--trap-target", "127.0.0.1:162", "--trap-community-file", writeSecret(t, trapCommunity), "--trap-deasserts", "some", log}, "--trap-deasserts"},
		{[]string{"scan", "--trap-target", "127.0.0.1:162", "--trap-community-file", writeSecret(t, trapCommunity), "--trap-oid", "fanAttentionNotify", log}, "NAME=OID"},
		{[]string{"scan", "--trap-target", "127.0.0.1:162", "--trap-community-file", writeSecret(t, trapCommunity), "--trap-oid", "bogusNotify=1.2.3", log}, "bogusNotify"},
		{[]string{"scan", "--trap-target", "nowhere", "--trap-community-file", writeSecret(t, trapCommunity), log}, "nowhere"},
		{[]string{"scan", "--trap-target", "127.0.0.1:162", "--trap-user", "pete", "--trap-auth-pass", "short", log}, "at least 8"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 mentioning %q", tc.args, code, errOut, tc.want)
		}
		noSecrets(t, "scan", out, errOut)
	}
}

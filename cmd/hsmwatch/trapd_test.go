package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
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
	testutil.WaitFor(t, "trapd to listen", 10*time.Second, func() bool {
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
	testutil.WaitFor(t, "the event and the refusal", 10*time.Second, func() bool {
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
	testutil.WaitFor(t, "the v3 event", 10*time.Second, func() bool { return strings.Contains(r.stdout.String(), "\n") })
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

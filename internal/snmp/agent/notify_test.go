package agent

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// trapUser is the v3 user the agent sends as; snmptrapd knows it both under the agent's
// engine ID (for traps) and under its own (for informs).
var trapUser = User{Name: "trapuser", AuthProto: gosnmp.SHA, AuthPass: "trapauth123", PrivProto: gosnmp.AES, PrivPass: "trappriv123"}

// startTrapd runs snmptrapd in the foreground with a configuration of its own, logging
// every notification to its standard output, and returns its address and output.
func startTrapd(t *testing.T, agentEngineID []byte) (string, *testutil.SyncBuffer) {
	t.Helper()
	bin := testutil.Tool(t, "snmptrapd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmptrapd.conf")
	u := trapUser
	text := strings.Join([]string{
		"disableAuthorization yes",
		"authCommunity log public",
		fmt.Sprintf("createUser -e 0x%s %s SHA %s AES %s", hex.EncodeToString(agentEngineID), u.Name, u.AuthPass, u.PrivPass),
		fmt.Sprintf("createUser %s SHA %s AES %s", u.Name, u.AuthPass, u.PrivPass),
		"",
	}, "\n")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreeUDPPort(t))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", "-Lo", "-n", "-On", "-C", "-c", conf,
		"-M", dir, "-m", "", "udp:"+addr)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"), "HOME="+dir)
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("snmptrapd output:\n%s", out.String())
		}
	})
	testutil.WaitFor(t, "snmptrapd to start", 30*time.Second, func() bool {
		return strings.Contains(out.String(), "NET-SNMP version")
	})
	return addr, out
}

func TestNotifySnmptrapd(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	addr, out := startTrapd(t, a.EngineID())
	const trapOID = ".1.3.6.1.4.1.23629.1.5.2.2.2"
	for _, c := range []struct {
		name   string
		target Target
	}{
		{"v2c trap", Target{Addr: addr, Version: gosnmp.Version2c, Community: "public"}},
		{"v2c inform", Target{Addr: addr, Version: gosnmp.Version2c, Community: "public", Inform: true, Timeout: 2 * time.Second, Retries: 2}},
		{"v3 authPriv trap", Target{Addr: addr, Version: gosnmp.Version3, User: &trapUser}},
		{"v3 authPriv inform", Target{Addr: addr, Version: gosnmp.Version3, User: &trapUser, Inform: true, Timeout: 2 * time.Second, Retries: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			marker := "marker " + c.name
			vars := []Var{
				{Name: ".1.3.6.1.4.1.23629.1.5.2.2.1", Type: gosnmp.OctetString, Value: marker},
				{Name: ".1.3.6.1.4.1.23629.1.5.2.2.9", Type: gosnmp.Integer, Value: int64(7)},
			}
			if err := a.Notify(context.Background(), c.target, trapOID, vars); err != nil {
				t.Fatal(err)
			}
			// snmptrapd prints sysUpTime from the tree (424242 ticks), the trap OID, then
			// the variables, in one record.
			want := fmt.Sprintf(`.1.3.6.1.2.1.1.3.0 = Timeticks: (424242) 1:10:42.42	.1.3.6.1.6.3.1.1.4.1.0 = OID: %s	.1.3.6.1.4.1.23629.1.5.2.2.1 = STRING: "%s"	.1.3.6.1.4.1.23629.1.5.2.2.9 = INTEGER: 7`, trapOID, marker)
			testutil.WaitFor(t, "snmptrapd to log the "+c.name, 10*time.Second, func() bool {
				return strings.Contains(out.String(), want)
			})
		})
	}
	if s := a.Stats(); s.Notifications != 4 || s.NotificationErrors != 0 {
		t.Fatalf("stats %+v", s)
	}

	// A v3 trap under a wrong passphrase must not be logged: send it, then a good one,
	// and once the good one is logged the bad one (sent first) has been dropped.
	bad := trapUser
	bad.AuthPass = "not-the-pass"
	send := func(u *User, marker string) {
		t.Helper()
		v := []Var{{Name: ".1.3.6.1.4.1.23629.1.5.2.2.1", Type: gosnmp.OctetString, Value: marker}}
		if err := a.Notify(context.Background(), Target{Addr: addr, Version: gosnmp.Version3, User: u}, trapOID, v); err != nil {
			t.Fatal(err)
		}
	}
	send(&bad, "forged trap")
	send(&trapUser, "genuine trap")
	testutil.WaitFor(t, "the genuine trap", 30*time.Second, func() bool { return strings.Contains(out.String(), "genuine trap") })
	if strings.Contains(out.String(), "forged trap") {
		t.Fatal("snmptrapd accepted a trap with a wrong key: the v3 trap check proves nothing")
	}
}

// TestNotifyInformUnanswered checks that an inform nobody acknowledges fails after its
// retries, and is counted.
func TestNotifyInformUnanswered(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	// A socket that reads and never answers: a closed port would fail at once with
	// ICMP port unreachable instead of timing out.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	addr := silent.LocalAddr().String()
	start := time.Now()
	err = a.Notify(context.Background(), Target{Addr: addr, Version: gosnmp.Version2c, Community: "public",
		Inform: true, Timeout: 100 * time.Millisecond, Retries: 2}, ".1.3.6.1.4.1.1", nil)
	if err == nil {
		t.Fatal("unanswered inform succeeded")
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %v; want about 3 x 100ms", d)
	}
	if s := a.Stats(); s.NotificationErrors != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNotifyRejectsBadInput(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	ok := Target{Addr: "127.0.0.1:9", Version: gosnmp.Version2c, Community: "public"}
	secret := User{Name: "u", AuthProto: gosnmp.SHA, AuthPass: "s3cret-auth", PrivProto: 99, PrivPass: "s3cret-priv"}
	for name, c := range map[string]struct {
		target Target
		oid    string
		vars   []Var
	}{
		"trap OID":    {ok, "not.an.oid", nil},
		"value type":  {ok, ".1.3", []Var{{Name: ".1.3.6.1.4.1.1.0", Type: gosnmp.Counter32, Value: -1}}},
		"var name":    {ok, ".1.3", []Var{{Name: "ifDescr.1", Type: gosnmp.Integer, Value: 1}}},
		"v1":          {Target{Addr: "127.0.0.1:9", Version: gosnmp.Version1, Community: "public"}, ".1.3", nil},
		"no user":     {Target{Addr: "127.0.0.1:9", Version: gosnmp.Version3}, ".1.3", nil},
		"bad address": {Target{Addr: "nowhere", Version: gosnmp.Version2c, Community: "public"}, ".1.3", nil},
		"bad priv":    {Target{Addr: "127.0.0.1:9", Version: gosnmp.Version3, User: &secret}, ".1.3", nil},
	} {
		err := a.Notify(context.Background(), c.target, c.oid, c.vars)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error shows a passphrase: %v", name, err)
		}
	}
}

// TestNotifySendsFromAgentAddress checks that a trap leaves from the agent's own IP,
// which is how a receiver tells simulated devices on 127.0.0.x apart.
func TestNotifySendsFromAgentAddress(t *testing.T) {
	recv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	cfg := defaultConfig(testTree())
	cfg.Addr = "127.0.0.2:0"
	a := startAgent(t, cfg)
	if err := a.Notify(context.Background(), Target{Addr: recv.LocalAddr().String(), Version: gosnmp.Version2c, Community: "public"},
		".1.3.6.1.4.1.1", nil); err != nil {
		t.Fatal(err)
	}
	recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, from, err := recv.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if ip := from.(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Fatalf("trap came from %v, want 127.0.0.2", ip)
	}
	p, err := decodePDU(buf[:n])
	if err != nil || p.PDUType != gosnmp.SNMPv2Trap || p.Community != "public" || len(p.Variables) != 2 ||
		p.Variables[1].Value != ".1.3.6.1.4.1.1" {
		t.Fatalf("trap %+v: %v", p, err)
	}
}

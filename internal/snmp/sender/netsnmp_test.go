package sender

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// repoMIBs is the repository's MIB folder (the simulator's stand-ins and the standard
// modules net-snmp needs); when it has SAFENET-APPLIANCE-MIB, snmptrapd prints names.
const repoMIBs = "../../../mibs"

// startTrapd runs net-snmp's snmptrapd in the foreground in a temporary folder, with a
// v2c community and the v3 user known under the sink's engine ID (for traps) and under
// its own (for informs), logging every notification to its standard output.
func startTrapd(t *testing.T, senderEngine []byte) (addr string, out *testutil.SyncBuffer, symbolic bool) {
	t.Helper()
	bin := testutil.Tool(t, "snmptrapd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmptrapd.conf")
	u := trapUser
	text := strings.Join([]string{
		"disableAuthorization yes",
		"authCommunity log " + community,
		fmt.Sprintf("createUser -e 0x%s %s SHA %s AES %s", hex.EncodeToString(senderEngine), u.Name, u.AuthPass, u.PrivPass),
		fmt.Sprintf("createUser %s SHA %s AES %s", u.Name, u.AuthPass, u.PrivPass),
		"",
	}, "\n")
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", testutil.FreeUDPPort(t))
	args := []string{"-f", "-Lo", "-n", "-C", "-c", conf}
	mibs, _ := filepath.Abs(repoMIBs)
	if fileExists(filepath.Join(mibs, "SAFENET-APPLIANCE-MIB.txt")) && fileExists(filepath.Join(mibs, "SNMPv2-SMI.txt")) {
		args, symbolic = append(args, "-M", "+"+mibs, "-m", "ALL"), true
	} else {
		args = append(args, "-On", "-M", dir, "-m", "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append(args, "udp:"+addr)...)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"), "HOME="+dir)
	out = &testutil.SyncBuffer{}
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
	return addr, out, symbolic
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// TestSnmptrapdDecodes: net-snmp's snmptrapd receives and decodes the sink's
// notifications, v2c and v3 authPriv, traps and informs: the notification OID (or its
// name, with the MIBs) and the ssLogReference text.
func TestSnmptrapdDecodes(t *testing.T) {
	engine := DefaultEngineID()
	addr, out, symbolic := startTrapd(t, engine)
	u := trapUser
	for _, tc := range []struct {
		name   string
		target notify.Target
	}{
		{"v2c trap", notify.Target{Addr: addr, Version: gosnmp.Version2c, Community: community}},
		{"v2c inform", notify.Target{Addr: addr, Version: gosnmp.Version2c, Community: community, Inform: true, Timeout: 2 * time.Second, Retries: 2}},
		{"v3 authPriv trap", notify.Target{Addr: addr, Version: gosnmp.Version3, User: &u}},
		{"v3 authPriv inform", notify.Target{Addr: addr, Version: gosnmp.Version3, User: &u, Inform: true, Timeout: 2 * time.Second, Retries: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Targets: []notify.Target{tc.target}, EngineID: engine, ApplianceIP: "192.168.0.101"})
			if err != nil {
				t.Fatal(err)
			}
			proc := strings.ReplaceAll(tc.name, " ", "-") // a marker per case
			ev := &event.Event{Host: "myLuna", Notification: lunatrap.NTLS, Process: proc, PID: 1234,
				Time: time.Date(2012, 2, 29, 12, 5, 1, 0, time.UTC), Input: "messages:1"}
			if err := s.Send(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			ref := "[myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / " + proc + "[1234] / 1]"
			want := []string{`.1.3.6.1.6.3.1.1.4.1.0 = OID: .1.3.6.1.4.1.23629.1.5.2.2.6`, `.1.3.6.1.4.1.23629.1.5.2.2.1 = STRING: "` + ref + `"`}
			if symbolic {
				// A DisplayString is printed without quotes.
				want = []string{"OID: SAFENET-APPLIANCE-MIB::ntlsAttentionNotify", "SAFENET-APPLIANCE-MIB::ssLogReference = STRING: " + ref}
			}
			testutil.WaitFor(t, "snmptrapd to log the "+tc.name, 10*time.Second, func() bool {
				o := out.String()
				for _, line := range strings.Split(o, "\n") {
					if strings.Contains(line, want[0]) && strings.Contains(line, want[1]) {
						return true
					}
				}
				return false
			})
		})
	}

	// A v3 trap under a wrong passphrase must not be logged: it is sent first, and once
	// the good one after it is logged, the bad one has been dropped.
	bad := trapUser
	bad.AuthPass = "not-the-passphrase"
	send := func(user *notify.Target, marker string) {
		t.Helper()
		s, err := New(Config{Targets: []notify.Target{*user}, EngineID: engine})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), &event.Event{Host: marker, Notification: lunatrap.Fan, Assert: event.True}); err != nil {
			t.Fatal(err)
		}
	}
	send(&notify.Target{Addr: addr, Version: gosnmp.Version3, User: &bad}, "forged-host")
	send(&notify.Target{Addr: addr, Version: gosnmp.Version3, User: &u}, "genuine-host")
	testutil.WaitFor(t, "the genuine trap", 30*time.Second, func() bool { return strings.Contains(out.String(), "genuine-host") })
	if strings.Contains(out.String(), "forged-host") {
		t.Fatal("snmptrapd accepted a trap with a wrong key: the v3 check proves nothing")
	}
}

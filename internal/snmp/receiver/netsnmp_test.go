package receiver

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// netsnmp runs one net-snmp client tool (snmptrap, snmpinform) with no MIBs and no
// configuration of the machine, and returns its combined output.
func netsnmp(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	bin := testutil.Tool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-M", dir, "-m", ""}, args...)...)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+dir, "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// lunaTrapArgs are snmptrap's arguments after the target: the current uptime, the NTLS
// notification and its ssLogReference.
func lunaTrapArgs(ref string) []string {
	return []string{"", oidNTLS, oidLogRef, "s", ref}
}

func v3Args(user, auth, priv, level string) []string {
	return []string{"-v", "3", "-u", user, "-l", level, "-a", "SHA", "-A", auth, "-x", "AES", "-X", priv}
}

// TestNetSNMPSenders: hsmwatch receives net-snmp's snmptrap and snmpinform, v2c and v3
// authPriv (SHA/AES; traps under the sender's engine ID given with -e, informs after
// discovering this receiver's), and rejects wrong credentials, unknown engine IDs, lower
// security levels and replays, counting each and emitting nothing for them.
func TestNetSNMPSenders(t *testing.T) {
	h := start(t, Config{Communities: anySource(community), MinLevel: AuthNoPriv,
		Users: []User{{User: privUser, EngineIDs: [][]byte{senderEngine}, MinLevel: AuthPriv}}})
	target := "udp:" + h.addr()
	engine := "0x" + hex.EncodeToString(senderEngine)
	ref := func(marker string) string {
		return "[myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / " + marker + "[1] / 1]"
	}
	expect := func(marker string, fields map[string]string) {
		t.Helper()
		ev := h.next(t)
		if ev.Fields.Text("process") != marker || ev.Notification != "ntlsAttentionNotify" || ev.Host != "myLuna" {
			t.Fatalf("want the %s trap, got %s", marker, ev.AppendJSON(nil))
		}
		for k, v := range fields {
			if got := ev.Fields.Text(k); got != v {
				t.Errorf("%s: fields.%s = %q, want %q", marker, k, got, v)
			}
		}
	}
	run := func(tool string, args ...string) string {
		t.Helper()
		out, err := netsnmp(t, tool, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
		}
		return out
	}

	run("snmptrap", append([]string{"-v", "2c", "-c", community, target}, lunaTrapArgs(ref("v2ctrap"))...)...)
	expect("v2ctrap", map[string]string{"version": "2c"})
	run("snmpinform", append([]string{"-v", "2c", "-c", community, "-t", "2", "-r", "1", target}, lunaTrapArgs(ref("v2cinform"))...)...)
	expect("v2cinform", map[string]string{"version": "2c", "inform": "true"})
	run("snmptrap", append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", engine, target), lunaTrapArgs(ref("v3trap"))...)...)
	expect("v3trap", map[string]string{"version": "3", "user": "pete", "engine_id": hex.EncodeToString(senderEngine)})
	run("snmpinform", append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-t", "2", "-r", "1", target), lunaTrapArgs(ref("v3inform"))...)...)
	expect("v3inform", map[string]string{"version": "3", "user": "pete", "inform": "true"})
	if s := h.r.Stats(); s.Acknowledged != 2 || s.Discoveries < 1 {
		t.Errorf("stats %+v", s)
	}

	// Refusals. Traps get no answer, so snmptrap succeeds; each is counted and emits
	// nothing.
	run("snmptrap", append([]string{"-v", "2c", "-c", "guessed-community", target}, lunaTrapArgs(ref("badcommunity"))...)...)
	h.rejected(t, ReasonBadCommunity, 1)
	run("snmptrap", append(append(v3Args("pete", "wrong-auth-pass", privSecret, "authPriv"), "-e", engine, target), lunaTrapArgs(ref("badauth"))...)...)
	h.rejected(t, ReasonWrongDigest, 1)
	run("snmptrap", append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", "0x80001f8804deadbeef", target), lunaTrapArgs(ref("badengine"))...)...)
	h.rejected(t, ReasonUnknownEngineID, 1)
	run("snmptrap", append(append(v3Args("pete", authSecret, privSecret, "authNoPriv"), "-e", engine, target), lunaTrapArgs(ref("lowlevel"))...)...)
	h.rejected(t, ReasonSecLevel, 1)
	run("snmptrap", append(append(v3Args("nobody", authSecret, privSecret, "authPriv"), "-e", engine, target), lunaTrapArgs(ref("nobody"))...)...)
	h.rejected(t, ReasonUnknownUser, 1)
	// An inform with a wrong passphrase gets a wrongDigest Report: snmpinform fails.
	if out, err := netsnmp(t, "snmpinform", append(append(v3Args("pete", "wrong-auth-pass", privSecret, "authPriv"), "-t", "1", "-r", "0", target), lunaTrapArgs(ref("badinform"))...)...); err == nil {
		t.Errorf("snmpinform with a wrong passphrase succeeded:\n%s", out)
	}
	h.rejected(t, ReasonWrongDigest, 2)

	// The replay window, with boots and time set by -Z: an engine that rebooted cannot
	// go back to an earlier boot count.
	run("snmptrap", append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", engine, "-Z", "1000,50", target), lunaTrapArgs(ref("boots1000"))...)...)
	expect("boots1000", nil)
	run("snmptrap", append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", engine, "-Z", "999,5000", target), lunaTrapArgs(ref("boots999"))...)...)
	h.rejected(t, ReasonNotInTimeWindow, 1)

	if logs := h.logs.String(); strings.Contains(logs, authSecret) || strings.Contains(logs, privSecret) ||
		strings.Contains(logs, community) || strings.Contains(logs, "guessed-community") || strings.Contains(logs, "wrong-auth-pass") {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

// TestNetSNMPStrictness: as net-snmp's snmptrapd, a user's keys set its minimum level
// when min_security is left out, so snmptrap's noAuthNoPriv and authNoPriv traps naming
// a user with authentication and privacy keys are refused; a user whose minimum is
// lowered explicitly is accepted at noAuthNoPriv. A trap of snmptrap's captured and
// received twice (same engine ID, boots, time and msgID) is dropped and counted.
func TestNetSNMPStrictness(t *testing.T) {
	lowered := usm.User{Name: "lowered", AuthProto: gosnmp.SHA, AuthPass: authSecret, PrivProto: gosnmp.AES, PrivPass: privSecret}
	h := start(t, Config{Users: []User{
		{User: privUser, EngineIDs: [][]byte{senderEngine}},
		{User: lowered, EngineIDs: [][]byte{senderEngine}, MinLevel: NoAuthNoPriv, MinLevelSet: true},
	}})
	target := "udp:" + h.addr()
	engine := "0x" + hex.EncodeToString(senderEngine)
	ref := func(marker string) string {
		return "[myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / " + marker + "[1] / 1]"
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := netsnmp(t, "snmptrap", args...); err != nil {
			t.Fatalf("snmptrap %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(append([]string{"-v", "3", "-u", "pete", "-l", "noAuthNoPriv", "-e", engine, target}, lunaTrapArgs(ref("noauth"))...)...)
	run(append(append(v3Args("pete", authSecret, privSecret, "authNoPriv"), "-e", engine, target), lunaTrapArgs(ref("authnopriv"))...)...)
	h.rejected(t, ReasonSecLevel, 2)
	run(append([]string{"-v", "3", "-u", "lowered", "-l", "noAuthNoPriv", "-e", engine, target}, lunaTrapArgs(ref("lowered"))...)...)
	if ev := h.next(t); ev.Fields.Text("process") != "lowered" || ev.Fields.Text("user") != "lowered" {
		t.Fatalf("want the lowered user's trap, got %s", ev.AppendJSON(nil))
	}

	// Capture one authPriv trap of snmptrap's, then deliver it twice.
	capture, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	run(append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", engine, "udp:"+capture.LocalAddr().String()), lunaTrapArgs(ref("captured"))...)...)
	buf := make([]byte, 65536)
	_ = capture.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := capture.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	h.send(t, buf[:n])
	if ev := h.next(t); ev.Fields.Text("process") != "captured" {
		t.Fatalf("want the captured trap, got %s", ev.AppendJSON(nil))
	}
	h.send(t, buf[:n])
	h.rejected(t, ReasonReplayed, 1)
	// snmptrap's next trap (a new msgID) is taken.
	run(append(append(v3Args("pete", authSecret, privSecret, "authPriv"), "-e", engine, target), lunaTrapArgs(ref("after"))...)...)
	if ev := h.next(t); ev.Fields.Text("process") != "after" {
		t.Fatalf("want the next trap, got %s", ev.AppendJSON(nil))
	}
}

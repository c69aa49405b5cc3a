package agent

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// These tests drive the agent with net-snmp's own command-line tools.

// endOfView is how net-snmp's walks print the endOfMibView after the last OID.
const endOfView = ".1.3.6.1.4.1.41054.1.4294967295.0 = No more variables left in this MIB View (It is past the end of the MIB tree)"

func TestNetSNMPWalkV2c(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	out, errOut, err := netsnmp(t, "snmpwalk", "-v2c", "-c", "public", "-On", "-Ot", target(a), ".1")
	if err != nil || errOut != "" {
		t.Fatalf("snmpwalk: %v\n%s", err, errOut)
	}
	// Walking from .1 runs off the end of the agent's MIB view, which net-snmp
	// prints (as it does against snmpd).
	want := append(expectedWalk(t, tr), endOfView)
	if got := lines(out); !slices.Equal(got, want) {
		t.Fatalf("snmpwalk output differs from the tree (%d lines, want %d)\n%s", len(got), len(want), diff(got, want))
	}
	if len(want) < 250 {
		t.Fatalf("test tree too small: %d", len(want))
	}
}

func TestNetSNMPWalkV1SkipsCounter64(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	out, errOut, err := netsnmp(t, "snmpwalk", "-v1", "-c", "public", "-On", "-Ot", target(a), ".1")
	if err != nil || errOut != "" {
		t.Fatalf("snmpwalk -v1: %v\n%s", err, errOut)
	}
	var want []string
	for _, l := range expectedWalk(t, tr) {
		if !strings.Contains(l, "Counter64") {
			want = append(want, l)
		}
	}
	want = append(want, "End of MIB")
	if got := lines(out); !slices.Equal(got, want) {
		t.Fatalf("v1 walk differs\n%s", diff(got, want))
	}
}

func TestNetSNMPWrongCommunityTimesOut(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	start := time.Now()
	_, errOut, err := netsnmp(t, "snmpwalk", "-v2c", "-c", "private", "-t", "1", "-r", "0", target(a), ".1")
	if err == nil || !strings.Contains(errOut, "Timeout: No Response") {
		t.Fatalf("wrong community answered: err %v, stderr %q", err, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v", d)
	}
	if s := a.Stats(); s.BadCommunity == 0 || s.Responses != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// v3 arguments for net-snmp's tools.
func v3args(u User, level string) []string {
	args := []string{"-v3", "-l", level, "-u", u.Name}
	if level != "noAuthNoPriv" {
		args = append(args, "-a", netsnmpAuth[u.AuthProto], "-A", u.AuthPass)
	}
	if level == "authPriv" {
		args = append(args, "-x", netsnmpPriv[u.PrivProto], "-X", u.PrivPass)
	}
	return args
}

var netsnmpAuth = map[gosnmp.SnmpV3AuthProtocol]string{
	gosnmp.MD5: "MD5", gosnmp.SHA: "SHA", gosnmp.SHA224: "SHA-224", gosnmp.SHA256: "SHA-256",
	gosnmp.SHA384: "SHA-384", gosnmp.SHA512: "SHA-512",
}

var netsnmpPriv = map[gosnmp.SnmpV3PrivProtocol]string{
	gosnmp.DES: "DES", gosnmp.AES: "AES", gosnmp.AES192: "AES-192", gosnmp.AES256: "AES-256",
	gosnmp.AES192C: "AES-192-C", gosnmp.AES256C: "AES-256-C",
}

func TestNetSNMPBulkWalkV3(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	want := append(expectedWalk(t, tr), endOfView)
	for _, c := range []struct {
		user  User
		level string
	}{
		{userAuthPriv, "authPriv"},
		{userAuthOnly, "authNoPriv"},
		{userNoAuth, "noAuthNoPriv"},
	} {
		t.Run(c.level, func(t *testing.T) {
			args := append(v3args(c.user, c.level), "-On", "-Ot", "-Cr20", target(a), ".1")
			out, errOut, err := netsnmp(t, "snmpbulkwalk", args...)
			if err != nil || errOut != "" {
				t.Fatalf("snmpbulkwalk: %v\n%s", err, errOut)
			}
			if got := lines(out); !slices.Equal(got, want) {
				t.Fatalf("bulk walk differs\n%s", diff(got, want))
			}
		})
	}
}

// TestNetSNMPV3Protocols gets one object with each other auth and privacy protocol.
func TestNetSNMPV3Protocols(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	for _, u := range []User{userMD5DES, userSHA256, userSHA512, userSHA224, userSHA384} {
		t.Run(u.Name, func(t *testing.T) {
			args := append(v3args(u, "authPriv"), "-On", target(a), ".1.3.6.1.2.1.1.5.0")
			out, errOut, err := netsnmp(t, "snmpget", args...)
			if err != nil || strings.TrimSpace(out) != `.1.3.6.1.2.1.1.5.0 = STRING: "hsm01"` {
				t.Fatalf("snmpget: %v\n%s%s", err, out, errOut)
			}
		})
	}
}

// TestNetSNMPV3Rejections checks each USM failure against the message net-snmp prints
// for the Report it gets.
func TestNetSNMPV3Rejections(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	wrongAuth, wrongPriv, unknown := userAuthPriv, userAuthPriv, userAuthPriv
	wrongAuth.AuthPass = "not-the-auth-pass"
	wrongPriv.PrivPass = "not-the-priv-pass"
	unknown.Name = "nobody"
	for _, c := range []struct {
		name    string
		args    []string
		message string
		counter func(Stats) uint64
	}{
		{"wrong auth key", v3args(wrongAuth, "authPriv"), "Authentication failure (incorrect password, community or key)",
			func(s Stats) uint64 { return s.WrongDigest }},
		{"wrong priv key", v3args(wrongPriv, "authPriv"), "Decryption error",
			func(s Stats) uint64 { return s.DecryptionErrors }},
		{"unknown user", v3args(unknown, "authPriv"), "Unknown user name",
			func(s Stats) uint64 { return s.UnknownUser }},
		{"level above the user's", append(v3args(userAuthOnly, "authNoPriv"), "-l", "authPriv", "-x", "AES", "-X", "privpass123"),
			"Unsupported security level", func(s Stats) uint64 { return s.UnsupportedSecLevel }},
		{"level below the user's", v3args(userAuthPriv, "authNoPriv"), "authorizationError",
			func(s Stats) uint64 { return s.UnsupportedSecLevel }},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := c.counter(a.Stats())
			args := append(c.args, "-t", "2", "-r", "0", "-On", target(a), ".1.3.6.1.2.1.1.5.0")
			out, errOut, err := netsnmp(t, "snmpget", args...)
			if err == nil && !strings.Contains(out+errOut, c.message) {
				t.Fatalf("request was answered: %s", out)
			}
			if !strings.Contains(out+errOut, c.message) {
				t.Fatalf("net-snmp said %q, want %q", out+errOut, c.message)
			}
			if strings.Contains(out, "hsm01") {
				t.Fatalf("value leaked: %s", out)
			}
			if after := c.counter(a.Stats()); after <= before {
				t.Fatalf("counter did not move: %d -> %d", before, after)
			}
		})
	}
}

func TestNetSNMPGet(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	out, errOut, err := netsnmp(t, "snmpget", "-v2c", "-c", "public", "-On", target(a),
		".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.2.2.1.2.3", ".1.3.6.1.2.1.1.1.1", ".1.3.6.1.2.1.1.99.0", ".1.3.6.1.4.1.23629.1.5.1.2.1.4.2")
	if err != nil {
		t.Fatalf("snmpget: %v\n%s", err, errOut)
	}
	want := []string{
		`.1.3.6.1.2.1.1.1.0 = STRING: "hsmwatch test agent"`,
		`.1.3.6.1.2.1.2.2.1.2.3 = STRING: "eth2"`,
		`.1.3.6.1.2.1.1.1.1 = No Such Instance currently exists at this OID`,
		`.1.3.6.1.2.1.1.99.0 = No Such Object available on this agent at this OID`,
		`.1.3.6.1.4.1.23629.1.5.1.2.1.4.2 = IpAddress: 10.0.0.2`,
	}
	if got := lines(out); !slices.Equal(got, want) {
		t.Fatalf("snmpget\n%s", diff(got, want))
	}
	_, errOut, err = netsnmp(t, "snmpget", "-v1", "-c", "public", "-On", target(a), ".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.99.0")
	if err == nil || !strings.Contains(errOut, "noSuchName") || !strings.Contains(errOut, "Failed object: .1.3.6.1.2.1.1.99.0") {
		t.Fatalf("v1 get of a missing object: %v %q", err, errOut)
	}
}

func TestNetSNMPSetRefused(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	for _, c := range []struct {
		args   []string
		reason string
	}{
		{[]string{"-v2c", "-c", "public"}, "Reason: noAccess"},
		{[]string{"-v1", "-c", "public"}, "Reason: (noSuchName)"},
		{v3args(userAuthPriv, "authPriv"), "Reason: noAccess"},
	} {
		args := append(c.args, "-On", "-t", "2", "-r", "0", target(a), ".1.3.6.1.2.1.1.5.0", "s", "pwned")
		_, errOut, err := netsnmp(t, "snmpset", args...)
		if err == nil || !strings.Contains(errOut, c.reason) || !strings.Contains(errOut, "Failed object: .1.3.6.1.2.1.1.5.0") {
			t.Fatalf("snmpset %v: err %v, stderr %q", c.args[:2], err, errOut)
		}
	}
	if v, _ := tr.Get(".1.3.6.1.2.1.1.5.0"); v.Value != "hsm01" {
		t.Fatalf("value changed: %v", v.Value)
	}
	if s := a.Stats(); s.SetRefused != 3 {
		t.Fatalf("SetRefused %d", s.SetRefused)
	}
}

// diff shows the first differing lines.
func diff(got, want []string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(got), len(want)) && n < 5; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "line %d\n got: %s\nwant: %s\n", i+1, g, w)
			n++
		}
	}
	return b.String()
}

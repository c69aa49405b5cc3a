package agent

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Test users: one per security level, plus protocol variants for interoperability.
var (
	userAuthPriv = User{Name: "privuser", AuthProto: gosnmp.SHA, AuthPass: "authpass123", PrivProto: gosnmp.AES, PrivPass: "privpass123"}
	userAuthOnly = User{Name: "authuser", AuthProto: gosnmp.SHA, AuthPass: "authpass123"}
	userNoAuth   = User{Name: "noauthuser"}
	userMD5DES   = User{Name: "md5des", AuthProto: gosnmp.MD5, AuthPass: "authpass123", PrivProto: gosnmp.DES, PrivPass: "privpass123"}
	userSHA512   = User{Name: "sha512aes256", AuthProto: gosnmp.SHA512, AuthPass: "authpass123", PrivProto: gosnmp.AES256C, PrivPass: "privpass123"}
	userSHA256   = User{Name: "sha256aes192", AuthProto: gosnmp.SHA256, AuthPass: "authpass123", PrivProto: gosnmp.AES192C, PrivPass: "privpass123"}
	userSHA224   = User{Name: "sha224aes192b", AuthProto: gosnmp.SHA224, AuthPass: "authpass123", PrivProto: gosnmp.AES192, PrivPass: "privpass123"}
	userSHA384   = User{Name: "sha384aes256b", AuthProto: gosnmp.SHA384, AuthPass: "authpass123", PrivProto: gosnmp.AES256, PrivPass: "privpass123"}
)

// testTree is a few hundred OIDs shaped like a small device: the system group, the
// interfaces table, ifXTable's 64-bit counters, and an HSM-like enterprise table, with
// every value type the agent encodes.
func testTree() *MapTree {
	tr := NewMapTree()
	str := func(oid, s string) { tr.Set(Var{Name: oid, Type: gosnmp.OctetString, Value: s}) }
	num := func(oid string, t gosnmp.Asn1BER, v any) { tr.Set(Var{Name: oid, Type: t, Value: v}) }
	str(".1.3.6.1.2.1.1.1.0", "hsmwatch test agent")
	num(".1.3.6.1.2.1.1.2.0", gosnmp.ObjectIdentifier, ".1.3.6.1.4.1.23629.1.5")
	tr.SetFunc(".1.3.6.1.2.1.1.3.0", func() Var { return Var{Type: gosnmp.TimeTicks, Value: uint32(424242)} })
	str(".1.3.6.1.2.1.1.4.0", "ops@example.com")
	str(".1.3.6.1.2.1.1.5.0", "hsm01")
	str(".1.3.6.1.2.1.1.6.0", "rack 7")
	num(".1.3.6.1.2.1.1.7.0", gosnmp.Integer, 72)
	num(".1.3.6.1.2.1.2.1.0", gosnmp.Integer, 8)
	for i := 1; i <= 8; i++ {
		row := func(col int) string { return fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d.%d", col, i) }
		num(row(1), gosnmp.Integer, i)
		str(row(2), fmt.Sprintf("eth%d", i-1))
		num(row(3), gosnmp.Integer, 6)
		num(row(4), gosnmp.Integer, int32(1500))
		num(row(5), gosnmp.Gauge32, uint32(1000000000))
		num(row(6), gosnmp.OctetString, []byte{0x00, 0x1b, 0x21, 0x3c, 0x4d, byte(i)})
		num(row(7), gosnmp.Integer, 1)
		num(row(8), gosnmp.Integer, 1+i%2)
		num(row(9), gosnmp.TimeTicks, uint32(100*i))
		for col := 10; col <= 21; col++ {
			num(row(col), gosnmp.Counter32, uint32(col*1000+i))
		}
		num(row(22), gosnmp.ObjectIdentifier, ".0.0")
		num(fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.6.%d", i), gosnmp.Counter64, uint64(1)<<40+uint64(i))
		num(fmt.Sprintf(".1.3.6.1.2.1.31.1.1.1.10.%d", i), gosnmp.Counter64, int64(i)*12345678901)
	}
	for i := 1; i <= 3; i++ {
		for col := 1; col <= 21; col++ {
			oid := fmt.Sprintf(".1.3.6.1.4.1.23629.1.5.1.2.1.%d.%d", col, i)
			switch col % 4 {
			case 0:
				num(oid, gosnmp.IPAddress, fmt.Sprintf("10.0.0.%d", i))
			case 1:
				num(oid, gosnmp.Gauge32, uint(col*i))
			case 2:
				str(oid, fmt.Sprintf("partition %d col %d", i, col))
			case 3:
				num(oid, gosnmp.Integer, -col*i)
			}
		}
	}
	// Arcs of every key length, in an order only numeric comparison gets right.
	for _, arc := range []string{"2", "10", "127", "128", "16383", "16384", "2097152", "4294967295"} {
		num(".1.3.6.1.4.1.41054.1."+arc+".0", gosnmp.Integer, 1)
	}
	return tr
}

// netsnmpLine is how net-snmp's tools print v with -On -Ot.
func netsnmpLine(v Var) string {
	var val string
	switch v.Type {
	case gosnmp.Integer:
		val = fmt.Sprintf("INTEGER: %d", v.Value)
	case gosnmp.OctetString:
		switch s := v.Value.(type) {
		case string:
			val = fmt.Sprintf("STRING: %q", s)
		case []byte:
			val = "Hex-STRING: " + strings.ToUpper(fmt.Sprintf("% x", s)) + " "
		}
	case gosnmp.ObjectIdentifier:
		val = "OID: " + v.Value.(string)
	case gosnmp.TimeTicks:
		val = fmt.Sprint(v.Value)
	case gosnmp.Counter32:
		val = fmt.Sprintf("Counter32: %d", v.Value)
	case gosnmp.Gauge32:
		val = fmt.Sprintf("Gauge32: %d", v.Value)
	case gosnmp.Counter64:
		val = fmt.Sprintf("Counter64: %d", v.Value)
	case gosnmp.IPAddress:
		val = fmt.Sprintf("IpAddress: %s", net.IP(v.Value.([]byte)))
	default:
		val = fmt.Sprintf("?%v %v", v.Type, v.Value)
	}
	return v.Name + " = " + val
}

// expectedWalk is what snmpwalk -On -Ot prints for the whole tree.
func expectedWalk(t *testing.T, tr *MapTree) []string {
	var out []string
	for _, name := range walk(t, tr) {
		v, _ := tr.Get(name)
		ev, ok := encodable(v)
		if !ok {
			t.Fatalf("test tree value %s not encodable", name)
		}
		out = append(out, netsnmpLine(ev))
	}
	return out
}

// startAgent serves cfg on a free loopback port until the test ends, and checks that
// Serve returns promptly when its context is cancelled.
func startAgent(t testing.TB, cfg Config) *Agent {
	t.Helper()
	if cfg.Addr == "" && cfg.Conn == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return a
}

// defaultConfig serves the test tree to community public and the test users.
func defaultConfig(tr Tree) Config {
	return Config{
		Communities: []string{"public"},
		Users:       []User{userAuthPriv, userAuthOnly, userNoAuth, userMD5DES, userSHA512, userSHA256, userSHA224, userSHA384},
		Tree:        tr,
	}
}

// netsnmp runs one net-snmp client tool with no MIBs loaded (so that missing MIB files
// print nothing) and returns its output.
func netsnmp(t testing.TB, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	path := testutil.Tool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := append([]string{"-M", t.TempDir(), "-m", ""}, args...)
	cmd := exec.CommandContext(ctx, path, full...)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMPCONFPATH="+t.TempDir(), "HOME="+t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func target(a *Agent) string {
	return "udp:" + a.Addr().String()
}

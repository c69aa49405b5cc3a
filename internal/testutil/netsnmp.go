package testutil

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Tool finds a net-snmp program (snmptrap, snmpinform, snmptrapd, snmpd); missing, the
// test fails when CI=true and is skipped otherwise (NeedTool).
func Tool(t testing.TB, name string) string {
	t.Helper()
	return NeedTool(t, name, "snmp, snmpd, snmptrapd")
}

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FreeUDPPort returns a loopback port that was free a moment ago, for a peer process
// that must be given its port.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// UDPBound reports whether something listens on the UDP port (/proc/net/udp lists it), so
// that a peer is sent datagrams only once it can take them.
func UDPBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	return err == nil && strings.Contains(string(b), fmt.Sprintf(":%04X ", port))
}

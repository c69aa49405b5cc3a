package main

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// TestSimListsAndServes runs hsmwatch sim with a Dinamo and a Luna, waits for the listing,
// asks both HSMs for their sysName over SNMP at the addresses printed, then stops it.
func TestSimListsAndServes(t *testing.T) {
	var out, errb testutil.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"sim", "--dinamo", "127.0.0.1:0", "--luna", "127.0.0.1:0",
			"--luna-user", "ops:authpass-ops:privpass-ops", "--trap-target", "127.0.0.1:9",
			"--scenario", "luna-fan-failure", "--scenario", "dinamo-key-lifecycle", "--seed", "5", "--trap-community", "trapsecret"},
			strings.NewReader(""), &out, &errb)
	}()
	listing := regexp.MustCompile(`(?m)^(dinamo|luna) +(\S+) +udp (127\.0\.0\.1:(\d+)) `)
	var found [][]string
	deadline := time.Now().Add(20 * time.Second)
	for len(found) < 2 {
		select {
		case c := <-code:
			t.Fatalf("sim exited %d early:\n%s\n%s", c, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listing:\n%s\n%s", out.String(), errb.String())
		}
		found = listing.FindAllStringSubmatch(out.String(), -1)
		time.Sleep(10 * time.Millisecond)
	}
	for _, m := range found {
		port, _ := strconv.Atoi(m[4])
		if port == 0 {
			t.Fatalf("listing shows port 0: %s", m[0])
		}
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Timeout: 2 * time.Second, Retries: 1,
			Version: gosnmp.Version2c, Community: "public"}
		if m[1] == "luna" {
			g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.AuthPriv
			g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: "ops", AuthenticationProtocol: gosnmp.SHA,
				AuthenticationPassphrase: "authpass-ops", PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "privpass-ops"}
		}
		if err := g.Connect(); err != nil {
			t.Fatal(err)
		}
		res, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
		g.Conn.Close()
		if err != nil || len(res.Variables) != 1 {
			t.Fatalf("%s at %s: %v", m[1], m[3], err)
		}
		if name := string(res.Variables[0].Value.([]byte)); name == "" {
			t.Errorf("%s: empty sysName", m[1])
		}
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("exit %d: %s", c, errb.String())
	}
	all := out.String() + errb.String()
	for _, secret := range []string{"authpass-ops", "privpass-ops", "trapsecret"} {
		if strings.Contains(all, secret) {
			t.Errorf("sim printed a passphrase:\n%s", all)
		}
	}
	for _, want := range []string{"hsmwatch sim: 2 simulated HSM(s)", "users ops (authPriv SHA/AES)", "scenarios luna-fan-failure",
		"scenarios dinamo-key-lifecycle", "traps v2c to 127.0.0.1:9", "traps v3 user ops to 127.0.0.1:9"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("listing lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimCommandLineErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sim"}, "nothing to simulate"},
		{[]string{"sim", "--luna", "127.0.0.1:0"}, "--luna needs --luna-user"},
		{[]string{"sim", "--luna", "127.0.0.1:0", "--luna-user", "ops:secret"}, "shorter than 8"},
		{[]string{"sim", "--dinamo", "127.0.0.1:0", "--scenario", "luna-fan-failure"}, "a Luna scenario needs --luna"},
		{[]string{"sim", "--dinamo", "127.0.0.1:0", "--scenario", "no-such"}, "no shipped scenario"},
		{[]string{"sim", "--dinamo", "127.0.0.1:0", "--trap-target", "a:1", "--trap-target", "b:1", "--trap-target", "c:1",
			"--trap-target", "d:1", "--trap-target", "e:1"}, "at most 4"},
		{[]string{"sim", "--config", "/no/such/file.yaml"}, "--config"},
	} {
		code, _, errOut := runCLI(t, "", c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
		if strings.Contains(errOut, "secret") {
			t.Errorf("%v: the error shows the passphrase: %s", c.args, errOut)
		}
	}
}

func TestSimAddressInUse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	code, _, errOut := runCLI(t, "", "sim", "--dinamo", pc.LocalAddr().String())
	if code != 1 || !strings.Contains(errOut, "address already in use") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

func TestSimListScenarios(t *testing.T) {
	code, out, _ := runCLI(t, "", "sim", "--list-scenarios")
	if code != 0 || !strings.Contains(out, "luna-tamper-zeroize") || !strings.Contains(out, "dinamo-key-lifecycle") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

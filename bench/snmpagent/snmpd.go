package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// The v3 user both agents know, for the authPriv load.
const (
	benchUser     = "benchuser"
	benchAuthPass = "benchauth123"
	benchPrivPass = "benchpriv123"
)

// viewSubtrees is snmpd's view: system, interfaces, ifMIB, ip and snmp, about 750 OIDs
// on a small machine, whose number does not change while the benchmark runs (the
// tcp and udp tables, which list the benchmark's own sockets, and host resources,
// which list processes, are left out).
var viewSubtrees = []string{".1.3.6.1.2.1.1", ".1.3.6.1.2.1.2", ".1.3.6.1.2.1.31", ".1.3.6.1.2.1.4", ".1.3.6.1.2.1.11"}

// server is an agent under test: where it answers and which process does the work.
type server struct {
	addr string
	pid  int
}

type process struct {
	server
	cmd *exec.Cmd
}

func (p *process) stop() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// startSnmpd runs net-snmp's snmpd in the foreground on a free loopback port with its
// own configuration and persistent directory, and waits until it answers.
func startSnmpd(ctx context.Context, dir string) (*process, error) {
	bin, err := exec.LookPath("snmpd")
	if err != nil {
		bin = "/usr/sbin/snmpd"
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, errors.New("snmpd not found: install Debian's snmpd package")
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "snmpd.conf")
	var text strings.Builder
	fmt.Fprintf(&text, "agentaddress udp:%s\n", addr)
	for _, sub := range viewSubtrees {
		fmt.Fprintf(&text, "view bench included %s\n", sub)
	}
	fmt.Fprintf(&text, "rocommunity public 127.0.0.1 -V bench\n")
	fmt.Fprintf(&text, "createUser %s SHA %s AES %s\nrouser %s priv -V bench\n", benchUser, benchAuthPass, benchPrivPass, benchUser)
	if err := os.WriteFile(conf, []byte(text.String()), 0o600); err != nil {
		return nil, err
	}
	empty := filepath.Join(dir, "mibs")
	os.Mkdir(empty, 0o700)
	cmd := exec.CommandContext(ctx, bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"))
	// No MIB files: snmpd would only print warnings about the missing ones.
	cmd.Env = append(os.Environ(), "MIBS=", "MIBDIRS="+empty, "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"))
	logf, err := os.Create(filepath.Join(dir, "snmpd.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start snmpd: %w", err)
	}
	p := &process{server: server{addr: addr, pid: cmd.Process.Pid}, cmd: cmd}
	if err := waitAnswer(addr, 10*time.Second); err != nil {
		p.stop()
		log, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("snmpd: %w\n%s", err, log)
	}
	return p, nil
}

func freePort() (string, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

// waitAnswer polls addr with a v2c Get until it answers.
func waitAnswer(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		g, err := newClient(addr, false)
		if err == nil {
			_, err = g.Get([]string{".1.3.6.1.2.1.1.1.0"})
			g.Conn.Close()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s after %v: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newClient is a gosnmp client for addr, v2c public or v3 authPriv benchuser.
func newClient(addr string, v3 bool) (*gosnmp.GoSNMP, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var p uint16
	fmt.Sscan(port, &p)
	g := &gosnmp.GoSNMP{Target: host, Port: p, Version: gosnmp.Version2c, Community: "public",
		Timeout: 2 * time.Second, Retries: 0, MaxOids: 100, MaxRepetitions: 50}
	if v3 {
		g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.AuthPriv
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: benchUser,
			AuthenticationProtocol: gosnmp.SHA, AuthenticationPassphrase: benchAuthPass,
			PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: benchPrivPass}
	}
	return g, g.Connect()
}

// countOIDs walks mib-2 at addr; 0 on error.
func countOIDs(addr string) int {
	g, err := newClient(addr, false)
	if err != nil {
		return 0
	}
	defer g.Conn.Close()
	vars, err := g.BulkWalkAll(".1.3.6.1.2.1")
	if err != nil {
		return 0
	}
	return len(vars)
}

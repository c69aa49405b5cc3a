package poller

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// needTool finds a net-snmp program; without it the test is skipped, or fails when
// CI=true (the CI image installs Debian's snmp and snmpd).
func needTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (Debian packages snmp, snmpd); CI=true needs it", name)
	}
	t.Skipf("%s is not installed (Debian packages snmp, snmpd)", name)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freeUDPPort returns a loopback address whose port was free a moment ago.
func freeUDPPort(t testing.TB) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close()
	return addr
}

const (
	snmpdUser = "hsmwatch"
	snmpdAuth = "snmpd-auth-pass"
	snmpdPriv = "snmpd-priv-pass"
)

// startSnmpd runs net-snmp's agent in the foreground with a configuration of its own
// (community public and one SHA/AES user, read-only) on a free loopback port, until the
// test ends. It returns once snmpd says it runs.
func startSnmpd(t *testing.T) string {
	t.Helper()
	bin := needTool(t, "snmpd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	text := "rocommunity public 127.0.0.1\n" +
		fmt.Sprintf("createUser %s SHA %q AES %q\n", snmpdUser, snmpdAuth, snmpdPriv) +
		fmt.Sprintf("rouser %s priv\n", snmpdUser)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var addr string
	for attempt := 0; ; attempt++ {
		addr = freeUDPPort(t)
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "snmpd.pid"),
			"-M", filepath.Join(dir, "no-mibs"), "-m", "", "udp:"+addr)
		cmd.Env = append(os.Environ(), "SNMP_PERSISTENT_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() {
			var log []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				log = append(log, sc.Text())
				if strings.HasPrefix(sc.Text(), "NET-SNMP version") {
					ready <- ""
					for sc.Scan() { // keep reading, or snmpd blocks on a full pipe
					}
					return
				}
			}
			ready <- strings.Join(log, "\n")
		}()
		var failed string
		select {
		case failed = <-ready:
		case <-time.After(20 * time.Second):
			failed = "snmpd did not start within 20 s"
		}
		if failed == "" {
			t.Cleanup(func() {
				cancel()
				_ = cmd.Wait()
			})
			return addr
		}
		cancel()
		_ = cmd.Wait()
		// another process may have taken the port between our check and snmpd's bind
		if attempt == 2 || !strings.Contains(failed, "Error opening specified endpoint") {
			t.Fatalf("snmpd on %s: %s", addr, failed)
		}
	}
}

// TestNetSNMPGeneric: against net-snmp's snmpd, the poller detects the generic profile
// and reads the system group and UCD-SNMP-MIB memory, over v2c and over SNMPv3.
func TestNetSNMPGeneric(t *testing.T) {
	addr := startSnmpd(t)
	hostname, _ := os.Hostname()
	memTotal := procMemTotal(t)
	for _, tg := range []Target{
		{Addr: addr, Community: "public"},
		{Addr: addr, User: snmpdUser, AuthProto: "SHA", AuthPass: snmpdAuth, PrivProto: "AES", PrivPass: snmpdPriv},
	} {
		p := newPoller(t, Options{Target: tg})
		r := poll(t, p)
		if r.Profile != ProfileGeneric || !strings.Contains(r.Detection.Reason, "no NTLS") {
			t.Errorf("%s: profile %s %+v", tg, r.Profile, r.Detection)
		}
		if r.Host != hostname || !strings.HasPrefix(r.Detection.SysObjectID, ".1.3.6.1.4.1.8072.3.2.") {
			t.Errorf("%s: host %q (want %q), sysObjectID %s", tg, r.Host, hostname, r.Detection.SysObjectID)
		}
		mem := item(t, r, "memory_used")
		if mem.State == StateUnknown || mem.Value <= 0 || mem.Value >= 100 {
			t.Errorf("%s: memory_used %+v", tg, mem)
		}
		var total float64
		for _, s := range r.Samples {
			if s.Name == "memTotalReal" {
				total = s.Value
			}
		}
		if memTotal > 0 && total != memTotal {
			t.Errorf("%s: memTotalReal %v, /proc/meminfo says %v kB", tg, total, memTotal)
		}
		if len(r.Notes) > 0 {
			t.Errorf("%s: notes %v", tg, r.Notes)
		}
	}
	// net-snmp's answer to a wrong key, through the same error path as the simulator's
	zero := 0
	p := newPoller(t, Options{Target: Target{Addr: addr, User: snmpdUser, AuthPass: "not-the-pass", PrivPass: snmpdPriv,
		Timeout: time.Second, Retries: &zero}})
	_, err := p.Poll(t.Context())
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != ErrAuth || strings.Contains(err.Error(), "not-the-pass") {
		t.Errorf("wrong key against snmpd: %v", err)
	}
}

// procMemTotal is MemTotal of /proc/meminfo in kB, or 0 where there is none.
func procMemTotal(t *testing.T) float64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
)

// receiver is one program under test, started afresh for each ladder. What it makes of
// the traps is read from output, a file it appends one record per trap to.
type receiver struct {
	name   string
	addr   *net.UDPAddr
	output string
	procs  []*exec.Cmd
	// check says whether a line reports trap n classified as expected; nil when the
	// receiver does not classify (snmptrapd alone).
	check func(line []byte, n uint64) bool
	quiet time.Duration // how long the output may stay still before what is missing is lost
}

// cpu is the CPU time (user + system) its processes have used so far.
func (r *receiver) cpu() time.Duration {
	var d time.Duration
	for _, c := range r.procs {
		cpu, _ := proc.CPU(c.Process.Pid)
		d += cpu
	}
	return d
}

// stop ends the processes (SIGTERM, then SIGKILL after 5 s).
func (r *receiver) stop() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		c := r.procs[i]
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			_ = c.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
}

func freeUDP() (*net.UDPAddr, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr), nil
}

// waitFile waits until file holds want (a process's start-up line).
func waitFile(ctx context.Context, file, want string, cmd *exec.Cmd) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(file); err == nil && bytes.Contains(b, []byte(want)) {
			return nil
		}
		if cmd.ProcessState != nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	b, _ := os.ReadFile(file)
	return fmt.Errorf("%s did not start: %s", filepath.Base(cmd.Path), lastLines(b, 5))
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// setup is what every receiver of one run shares.
type setup struct {
	dir      string // temporary folder
	hsmwatch string // the built binary
	mibs     string // the project's MIB folder
	sttConf  string // snmptt.conf made by snmpttconvertmib from the same MIBs
}

func start(cmd *exec.Cmd, stdout, stderr *os.File, procs *[]*exec.Cmd) error {
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	*procs = append(*procs, cmd)
	return nil
}

// appendFile opens a file for appending, so that the harness can truncate it between
// steps while a process writes to it.
func appendFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o600)
}

// startHsmwatch runs "hsmwatch trapd" as an operator would: the shipped catalog, the
// project's MIBs, one JSON line per trap on standard output (a file here), flushed per
// trap; the community from the environment, the v3 user from a --users file.
func startHsmwatch(ctx context.Context, s *setup, tag string, v3 bool) (*receiver, error) {
	addr, err := freeUDP()
	if err != nil {
		return nil, err
	}
	r := &receiver{name: "hsmwatch trapd", addr: addr, output: filepath.Join(s.dir, tag+".jsonl"), quiet: 2 * time.Second}
	args := []string{"trapd", "--listen", addr.String(), "--mibs", s.mibs}
	env := os.Environ()
	if v3 {
		users := filepath.Join(s.dir, tag+"-users.yaml")
		y := fmt.Sprintf("users:\n  - name: %s\n    auth: SHA\n    auth_pass: %q\n    priv: AES\n    priv_pass: %q\n    engine_ids: [\"%x\"]\n    min_level: authPriv\n",
			benchUser, benchAuth, benchPriv, senderEngine)
		if err := os.WriteFile(users, []byte(y), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--users", users, "--min-level", "authPriv")
	} else {
		env = append(env, "HSMWATCH_COMMUNITY="+benchCommunity)
	}
	out, err := appendFile(r.output)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	errFile := filepath.Join(s.dir, tag+".stderr")
	errOut, err := appendFile(errFile)
	if err != nil {
		return nil, err
	}
	defer errOut.Close()
	cmd := exec.CommandContext(ctx, s.hsmwatch, args...)
	cmd.Env = env
	if err := start(cmd, out, errOut, &r.procs); err != nil {
		return nil, err
	}
	if err := waitFile(ctx, errFile, "trapd: listening", cmd); err != nil {
		r.stop()
		return nil, err
	}
	r.check = func(line []byte, n uint64) bool {
		return bytes.Contains(line, []byte(`"rule":"`+expectedRule(n)+`"`))
	}
	return r, nil
}

// snmptrapdConf is the configuration both anchors share: the community, the v3 user
// with the sender's engine ID (net-snmp's "createUser -e"), the same 8 MiB socket
// buffer hsmwatch asks for (the kernel caps it at net.core.rmem_max), and what to do
// with an accepted trap: log it, or execute the handlers (snmptt's).
func snmptrapdConf(action string, extra string) string {
	return fmt.Sprintf("[snmp] serverRecvBuf 8388608\nauthCommunity %s %s\ncreateUser -e 0x%s %s SHA %q AES %q\nauthUser %s %s priv\n%s",
		action, benchCommunity, hex.EncodeToString(senderEngine), benchUser, benchAuth, benchPriv, action, benchUser, extra)
}

func snmptrapdCmd(ctx context.Context, s *setup, tag, conf, logFile string, addr *net.UDPAddr) (*exec.Cmd, error) {
	bin, err := exec.LookPath("snmptrapd")
	if err != nil {
		return nil, errors.New("snmptrapd is not installed (Debian package snmptrapd)")
	}
	state := filepath.Join(s.dir, tag+"-state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, err
	}
	confFile := filepath.Join(s.dir, tag+"-snmptrapd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	// -f foreground, -n numeric addresses, -On numeric OIDs, -C only this
	// configuration, -m "" no MIB loaded: its cheapest setup.
	cmd := exec.CommandContext(ctx, bin, "-f", "-Lf", logFile, "-n", "-On", "-C", "-c", confFile, "-M", state, "-m", "",
		"-p", filepath.Join(state, "pid"), "udp:"+addr.String())
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+state, "HOME="+state)
	return cmd, nil
}

// startSnmptrapd runs net-snmp's snmptrapd logging every trap to a file, nothing else.
func startSnmptrapd(ctx context.Context, s *setup, tag string) (*receiver, error) {
	addr, err := freeUDP()
	if err != nil {
		return nil, err
	}
	r := &receiver{name: "snmptrapd (log only)", addr: addr, output: filepath.Join(s.dir, tag+".log"), quiet: 2 * time.Second}
	cmd, err := snmptrapdCmd(ctx, s, tag, snmptrapdConf("log", ""), r.output, addr)
	if err != nil {
		return nil, err
	}
	if f, err := appendFile(r.output); err == nil {
		f.Close()
	}
	if err := start(cmd, nil, nil, &r.procs); err != nil {
		return nil, err
	}
	if err := waitFile(ctx, r.output, "NET-SNMP version", cmd); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// startSnmptt runs snmptrapd with snmptt's embedded Perl handler (snmptthandler-embedded,
// which writes each trap to a spool file) and snmptt in daemon mode reading the spool
// (every 0.1 s) and logging each trap it translates, with the EVENT name ($N), to its
// log: snmptt's recommended setup for volume. Its catalog is snmptt.conf made by
// snmpttconvertmib from the same MIBs hsmwatch loads.
func startSnmptt(ctx context.Context, s *setup, tag string) (*receiver, error) {
	bin, err := exec.LookPath("snmptt")
	if err != nil {
		return nil, errors.New("snmptt is not installed (Debian package snmptt)")
	}
	addr, err := freeUDP()
	if err != nil {
		return nil, err
	}
	r := &receiver{name: "snmptrapd + snmptt", addr: addr, output: filepath.Join(s.dir, tag+"-snmptt.log"), quiet: 5 * time.Second}
	spool := filepath.Join(s.dir, tag+"-spool") + "/"
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, err
	}
	ini := filepath.Join(s.dir, tag+"-snmptt.ini")
	if err := writeSnmpttIni(ini, map[string]string{
		"mode": "daemon", "daemon_fork": "0", "daemon_uid": "", "pid_file": filepath.Join(s.dir, tag+"-snmptt.pid"),
		"spool_directory": spool, "sleep": "0.1", "dns_enable": "0", "net_snmp_perl_enable": "0",
		"log_enable": "1", "log_file": r.output, "log_format": `$O $N $s "$c" $A - $Fz`,
		"stdout_enable": "0", "syslog_enable": "0", "syslog_system_enable": "0", "log_system_enable": "0",
		"unknown_trap_log_enable": "0", "keep_unlogged_traps": "1", "ipv6_enable": "0",
	}, s.sttConf); err != nil {
		return nil, err
	}
	// The embedded handler reads snmptt.ini from /etc unless its $ini is set: a copy
	// with $ini set to ours.
	src, err := os.ReadFile("/usr/lib/snmptt/snmptthandler-embedded")
	if err != nil {
		return nil, fmt.Errorf("snmptt's embedded handler: %w", err)
	}
	handler := filepath.Join(s.dir, tag+"-snmptthandler-embedded")
	patched := bytes.Replace(src, []byte("my $ini = '';"), []byte("my $ini = '"+ini+"';"), 1)
	if bytes.Equal(patched, src) {
		return nil, errors.New("snmptthandler-embedded: no \"my $ini = '';\" line to set")
	}
	if err := os.WriteFile(handler, patched, 0o700); err != nil {
		return nil, err
	}
	trapdLog := filepath.Join(s.dir, tag+"-snmptrapd.log")
	cmd, err := snmptrapdCmd(ctx, s, tag, snmptrapdConf("execute", fmt.Sprintf("perl do %q;\n", handler)), trapdLog, addr)
	if err != nil {
		return nil, err
	}
	if f, err := appendFile(r.output); err == nil {
		f.Close()
	}
	sttOut, err := appendFile(filepath.Join(s.dir, tag+"-snmptt.stderr"))
	if err != nil {
		return nil, err
	}
	defer sttOut.Close()
	stt := exec.CommandContext(ctx, bin, "--daemon", "--ini="+ini)
	if err := start(stt, sttOut, sttOut, &r.procs); err != nil {
		return nil, err
	}
	// The handler says it is loaded on snmptrapd's standard error.
	trapdErr := filepath.Join(s.dir, tag+"-snmptrapd.stderr")
	errOut, err := appendFile(trapdErr)
	if err != nil {
		r.stop()
		return nil, err
	}
	defer errOut.Close()
	if err := start(cmd, errOut, errOut, &r.procs); err != nil {
		r.stop()
		return nil, err
	}
	if err := waitFile(ctx, trapdLog, "NET-SNMP version", cmd); err != nil {
		r.stop()
		return nil, err
	}
	if err := waitFile(ctx, trapdErr, "Loaded the SNMPTT embedded", cmd); err != nil {
		r.stop()
		return nil, fmt.Errorf("snmptrapd did not load snmptt's embedded handler (it needs embedded Perl and libsnmp-perl): %w", err)
	}
	// snmptt in daemon mode reads its ini and snmptt.conf before it watches the spool.
	time.Sleep(time.Second)
	if stt.ProcessState != nil || !proc.Alive(stt.Process.Pid) {
		b, _ := os.ReadFile(filepath.Join(s.dir, tag+"-snmptt.stderr"))
		r.stop()
		return nil, fmt.Errorf("snmptt ended: %s", lastLines(b, 5))
	}
	r.check = func(line []byte, n uint64) bool {
		return bytes.Contains(line, []byte(" "+categories[category(n)].name+" "))
	}
	return r, nil
}

// writeSnmpttIni writes Debian's snmptt.ini with the keys of set replaced and conf as
// the one snmptt.conf file.
func writeSnmpttIni(path string, set map[string]string, conf string) error {
	src, err := os.ReadFile("/etc/snmp/snmptt.ini")
	if err != nil {
		return fmt.Errorf("snmptt.ini to start from: %w", err)
	}
	var out []string
	skip := false
	done := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		if skip {
			if strings.TrimSpace(line) == "END" {
				skip = false
			}
			continue
		}
		key, _, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		switch {
		case ok && key == "snmptt_conf_files":
			out = append(out, "snmptt_conf_files = <<END", conf, "END")
			skip = strings.Contains(line, "<<END")
			done[key] = true
			continue
		case ok && !strings.HasPrefix(key, "#"):
			if v, found := set[key]; found {
				out = append(out, key+" = "+v)
				done[key] = true
				continue
			}
		}
		out = append(out, line)
	}
	for k := range set {
		if !done[k] {
			return fmt.Errorf("snmptt.ini has no %s to set", k)
		}
	}
	if !done["snmptt_conf_files"] {
		return errors.New("snmptt.ini has no snmptt_conf_files")
	}
	return os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600)
}

// convertMIBs makes snmptt.conf from the project's MIBs with snmpttconvertmib, as an
// operator would: one EVENT per notification (Luna's six, Dinamo's), FORMAT from its
// description and variables.
func convertMIBs(ctx context.Context, mibDir, out string) (int, error) {
	bin, err := exec.LookPath("snmpttconvertmib")
	if err != nil {
		return 0, errors.New("snmpttconvertmib is not installed (Debian package snmptt)")
	}
	files, err := filepath.Glob(filepath.Join(mibDir, "*.txt"))
	if err != nil {
		return 0, err
	}
	abs, err := filepath.Abs(mibDir)
	if err != nil {
		return 0, err
	}
	for _, f := range files {
		cmd := exec.CommandContext(ctx, bin, "--in="+f, "--out="+out, "--net_snmp_perl")
		cmd.Env = append(os.Environ(), "MIBDIRS="+abs+":/usr/share/snmp/mibs", "MIBS=ALL")
		if b, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("snmpttconvertmib %s: %v: %s", f, err, lastLines(b, 3))
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	return bytes.Count(b, []byte("\nEVENT ")), nil
}

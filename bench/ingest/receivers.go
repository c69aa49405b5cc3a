package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// daemon is one program under test, a private instance with its own configuration,
// pid file and work directory. count says how many lines it has taken in so far: events
// stored for hsmwatch (the pipeline's processed counter, after the store's commit),
// lines written to its output file for the peers.
type daemon struct {
	name  string
	cmd   *exec.Cmd
	count func() (int, error)
	port  int
}

// cpu is the daemon's user + system CPU time so far, all threads (0 once it is gone).
func (d *daemon) cpu() time.Duration {
	c, _ := proc.CPU(d.cmd.Process.Pid)
	return c
}

// peakRSS is the daemon's peak resident set (VmHWM), in bytes (0 once it is gone).
func (d *daemon) peakRSS() int64 {
	r, _ := proc.PeakRSS(d.cmd.Process.Pid)
	return r
}

// stop ends the daemon (SIGTERM, then SIGKILL after 30 s).
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = d.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// start runs cmd with its output in log, and waits until ready says it is up.
func start(ctx context.Context, d *daemon, log string, ready func() bool) error {
	f, err := os.Create(log)
	if err != nil {
		return err
	}
	defer f.Close()
	d.cmd.Stdout, d.cmd.Stderr = f, f
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !ready() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			d.stop()
			b, _ := os.ReadFile(log)
			return fmt.Errorf("%s did not start: %s", d.name, lastLines(b, 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort(network string) (int, error) {
	switch network {
	case "udp":
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
}

// startHsmwatch runs "hsmwatch serve" with the SQLite store in its own state folder,
// following file (when set) or listening on a UDP port with the flood limit off.
func startHsmwatch(ctx context.Context, s *setup, tag, file string) (*daemon, error) {
	dir := filepath.Join(s.dir, tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	d := &daemon{name: "hsmwatch serve"}
	conf := fmt.Sprintf("state_dir: %s\nhttp:\n  listen: 127.0.0.1:%d\nsources:\n", filepath.Join(dir, "state"), httpPort)
	if file != "" {
		conf += fmt.Sprintf("  files:\n    - path: %s\n      start: beginning\n", file)
	} else {
		if d.port, err = freePort("udp"); err != nil {
			return nil, err
		}
		conf += fmt.Sprintf("  syslog:\n    - listen: udp://127.0.0.1:%d\n      rate: -1\n", d.port)
	}
	cfg := filepath.Join(dir, "hsmwatch.yaml")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	d.cmd = exec.CommandContext(ctx, s.hsmwatch, "serve", "--config", cfg)
	d.cmd.Dir = dir
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", httpPort)
	d.count = func() (int, error) { return metric(metrics, "hsmwatch_pipeline_events_processed_total") }
	err = start(ctx, d, filepath.Join(dir, "hsmwatch.log"), func() bool {
		_, err := d.count()
		return err == nil && (d.port == 0 || testutil.UDPBound(d.port))
	})
	return d, err
}

// metric reads one unlabelled figure from a /metrics page.
func metric(url, name string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("%s: no %s", url, name)
}

// lineCounter counts the lines of a file as it grows.
type lineCounter struct {
	path  string
	off   int64
	lines int
	buf   []byte
}

func (c *lineCounter) count() (int, error) {
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if c.buf == nil {
		c.buf = make([]byte, 1<<20)
	}
	for {
		n, err := f.ReadAt(c.buf, c.off)
		c.off += int64(n)
		c.lines += bytes.Count(c.buf[:n], []byte{'\n'})
		if err == io.EOF || n == 0 {
			return c.lines, nil
		}
		if err != nil {
			return c.lines, err
		}
	}
}

// startRsyslog runs rsyslogd in the foreground: imudp on a loopback port with the same
// 32 MiB socket buffer hsmwatch asks for, every message to a file.
func startRsyslog(ctx context.Context, s *setup, tag string) (*daemon, error) {
	dir := filepath.Join(s.dir, tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="%d" rcvbufSize="32m")
*.* action(type="omfile" file=%q template="RSYSLOG_FileFormat")
`, dir, port, out)
	cfg := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	d := &daemon{name: "rsyslog", port: port, count: (&lineCounter{path: out}).count}
	d.cmd = exec.CommandContext(ctx, s.rsyslogd, "-n", "-f", cfg, "-i", filepath.Join(dir, "rsyslog.pid"))
	err = start(ctx, d, filepath.Join(dir, "rsyslog.log"), func() bool { return testutil.UDPBound(port) })
	return d, err
}

// syslogNG returns the command of a private syslog-ng with configuration conf.
func syslogNG(ctx context.Context, s *setup, dir, conf string) (*exec.Cmd, error) {
	cfg := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-F", "-f", cfg, "-p", filepath.Join(dir, "syslog-ng.pid"),
		"-R", filepath.Join(dir, "syslog-ng.persist"), "-c", filepath.Join(dir, "syslog-ng.ctl")}
	if s.sngModules != "" {
		args = append(args, "--module-path", s.sngModules)
	}
	cmd := exec.CommandContext(ctx, s.syslogng, args...)
	if s.sngLibs != "" {
		cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+s.sngLibs)
	}
	return cmd, nil
}

// startSyslogNG runs syslog-ng in the foreground: a UDP source on a loopback port with
// a 32 MiB socket buffer, every message to a file.
func startSyslogNG(ctx context.Context, s *setup, tag string) (*daemon, error) {
	dir := filepath.Join(s.dir, tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`@version: 3.38
options { stats-freq(0); keep-hostname(yes); log-fifo-size(100000); };
source s { udp(ip("127.0.0.1") port(%d) so-rcvbuf(33554432) log-iw-size(100000)); };
destination d { file(%q); };
log { source(s); destination(d); };
`, port, out)
	d := &daemon{name: "syslog-ng", port: port, count: (&lineCounter{path: out}).count}
	if d.cmd, err = syslogNG(ctx, s, dir, conf); err != nil {
		return nil, err
	}
	err = start(ctx, d, filepath.Join(dir, "syslog-ng.log"), func() bool { return testutil.UDPBound(port) })
	return d, err
}

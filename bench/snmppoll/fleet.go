package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// The simulated HSMs run in a child process (this program again, with fleetEnv set),
// so that the CPU time the parent spends is the poller's alone, and every poller under
// test asks the same agents.
const fleetEnv = "HSMWATCH_BENCH_FLEET"

// The v3 user of every simulated Luna.
const (
	benchUser = "bench"
	benchAuth = "bench-auth-pass"
	benchPriv = "bench-priv-pass"
)

// device is one simulated HSM as the parent sees it.
type device struct {
	vendor, addr string
}

type fleetProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser // held open: the child ends when it closes
	devices []device
}

// startFleet starts the child with luna and dinamo HSMs and reads where they answer.
func startFleet(ctx context.Context, luna, dinamo int) (*fleetProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%d", fleetEnv, luna, dinamo))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe() // the child ends when the parent does (its stdin closes)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	fp := &fleetProcess{cmd: cmd, stdin: stdin}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "ready":
			return fp, nil
		case len(f) == 3 && f[0] == "hsm":
			fp.devices = append(fp.devices, device{vendor: f[1], addr: f[2]})
		}
	}
	fp.stop()
	return nil, fmt.Errorf("the fleet process ended before it was ready: %v", sc.Err())
}

func (fp *fleetProcess) stop() {
	_ = fp.stdin.Close()
	if fp.cmd.Process != nil {
		_ = fp.cmd.Process.Signal(syscall.SIGTERM)
		_ = fp.cmd.Wait()
	}
}

// serveFleet is the child: it runs the fleet until its standard input closes.
func serveFleet(spec string) error {
	l, d, _ := strings.Cut(spec, ",")
	luna, err1 := strconv.Atoi(l)
	dinamo, err2 := strconv.Atoi(d)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%s=%q: want LUNA,DINAMO", fleetEnv, spec)
	}
	no := false
	cfg := &sim.FleetConfig{Seed: 11, Activity: &no}
	if luna > 0 {
		cfg.HSMs = append(cfg.HSMs, sim.HSMConfig{Vendor: sim.VendorLuna, Addr: "127.0.0.1:0", Count: luna, Name: "luna",
			Users: []sim.UserConfig{{Name: benchUser, Auth: "SHA", AuthPass: benchAuth, Priv: "AES", PrivPass: benchPriv}}})
	}
	if dinamo > 0 {
		cfg.HSMs = append(cfg.HSMs, sim.HSMConfig{Vendor: sim.VendorDinamo, Addr: "127.0.0.1:0", Count: dinamo, Name: "dinamo"})
	}
	f, err := sim.NewFleet(cfg, sim.FleetOptions{})
	if err != nil {
		return err
	}
	if err := f.Listen(); err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	for _, m := range f.Members() {
		fmt.Fprintf(w, "hsm %s %s\n", m.Device.Info().Vendor, m.Addr())
	}
	fmt.Fprintln(w, "ready")
	if err := w.Flush(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0) // EOF when the parent goes
		cancel()
	}()
	return f.Run(ctx)
}

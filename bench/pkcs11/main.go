// Command pkcs11 measures the wall time of hsmwatch's PKCS#11 checks against SoftHSM2 and,
// in the same run, of OpenSC's pkcs11-tool --list-token-slots on the same token, the
// anchor: both load the library, initialise it, list the slots and read token information.
//
//	go run ./bench/pkcs11 [-n 200]
//
// It builds hsmwatch, initialises a SoftHSM2 token in a temporary folder, then runs the
// commands round-robin (so that drift in the machine's load touches all alike) and prints
// the mean, median and 95th percentile of each, and the ratios to the anchor.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	n := flag.Int("n", 200, "runs of each command")
	lib := flag.String("lib", "/usr/lib/softhsm/libsofthsm2.so", "the SoftHSM2 library")
	flag.Parse()
	if err := bench(context.Background(), *n, *lib); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pkcs11:", err)
		os.Exit(1)
	}
}

type command struct {
	name     string
	argv     []string
	wantCode int
	times    []time.Duration
}

func bench(ctx context.Context, n int, lib string) error {
	for _, tool := range []string{"go", "softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed (Debian: softhsm2, opensc): %w", tool, err)
		}
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("SoftHSM2 library: %w (give it with -lib)", err)
	}
	dir, err := os.MkdirTemp("", "hsmwatch-bench-pkcs11-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "hsmwatch")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hsmwatch")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build (run from the repository root): %v\n%s", err, out)
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		return err
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		return err
	}
	env := append(os.Environ(), "SOFTHSM2_CONF="+conf)
	initTok := exec.CommandContext(ctx, "softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", "12345678", "--pin", "1234")
	initTok.Env = env
	if out, err := initTok.CombinedOutput(); err != nil {
		return fmt.Errorf("softhsm2-util: %v\n%s", err, out)
	}

	cmds := []*command{
		{name: "pkcs11-tool --list-token-slots", argv: []string{"pkcs11-tool", "--module", lib, "--list-token-slots"}, wantCode: 0},
		// SoftHSM reports no memory figures: check memory answers UNKNOWN (3) after the
		// same library calls it makes on an HSM that does.
		{name: "hsmwatch check memory -l bench", argv: []string{bin, "check", "memory", "-p", lib, "-l", "bench"}, wantCode: 3},
		{name: "hsmwatch check token -l bench", argv: []string{bin, "check", "token", "-p", lib, "-l", "bench"}, wantCode: 0},
	}
	for _, c := range cmds { // one warm-up run each, checking the outcome
		if _, err := runOnce(ctx, c, env); err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		for _, c := range cmds {
			d, err := runOnce(ctx, c, env)
			if err != nil {
				return err
			}
			c.times = append(c.times, d)
		}
	}

	fmt.Printf("PKCS#11 check latency against SoftHSM2 (%s), %d runs each, round-robin, %s/%s, %d CPUs\n\n",
		lib, n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	anchor := mean(cmds[0].times)
	fmt.Printf("%-34s %10s %10s %10s %12s\n", "command", "mean", "median", "p95", "vs anchor")
	for _, c := range cmds {
		m := mean(c.times)
		fmt.Printf("%-34s %10s %10s %10s %11.2fx\n", c.name, ms(m), ms(pct(c.times, 50)), ms(pct(c.times, 95)),
			float64(m)/float64(anchor))
	}
	fmt.Println("\nvs anchor: mean wall time divided by pkcs11-tool's (below 1: hsmwatch is faster).")
	return nil
}

// runOnce runs the command and returns its wall time; an unexpected exit status is an error.
func runOnce(ctx context.Context, c *command, env []string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return 0, fmt.Errorf("%s: %w", c.name, err)
	}
	if code != c.wantCode {
		return 0, fmt.Errorf("%s: exit status %d, want %d:\n%s", c.name, code, c.wantCode, out.String())
	}
	return d, nil
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

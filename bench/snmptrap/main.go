// Command snmptrap measures how many SNMP traps per second hsmwatch's trap receiver
// takes in and classifies without losing one, against net-snmp's snmptrapd logging
// alone and snmptrapd feeding snmptt, in one run, for v2c traps and for SNMPv3 authPriv
// (SHA, AES-128) traps:
//
//	go run ./bench/snmptrap [-kinds v2c,v3] [-receivers hsmwatch,snmptrapd,snmptt] [-step 1s]
//
// Run it from the repository root: it builds hsmwatch (go build ./cmd/hsmwatch) and runs
// "hsmwatch trapd" with the project's MIBs (mibs/) and the shipped catalog, as an
// operator does. Every trap is numbered (the pid of its ssLogReference), so that what
// each receiver writes out says exactly which traps it got: lost = sent - reported.
// Each receiver climbs a ladder of paced rates (doubling) until it loses a trap or stops
// keeping up; its lossless rate is the highest throughput (traps reported per second,
// from the first datagram sent to the last trap reported) of a step without loss.
// CPU time is each receiver's own, from /proc/PID/stat, so traps per CPU-second
// compare the programs whatever else the machine runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

func main() {
	kinds := flag.String("kinds", "v2c,v3", "trap kinds: v2c, v3 (authPriv SHA/AES)")
	receivers := flag.String("receivers", "hsmwatch,snmptrapd,snmptt", "receivers: hsmwatch, snmptrapd (log only), snmptt (snmptrapd + snmptt)")
	stepDur := flag.Duration("step", time.Second, "how long a step lasts at its offered rate")
	factor := flag.Float64("factor", 2, "rate factor from one step to the next")
	startOurs := flag.Float64("start-hsmwatch", 10000, "first offered rate for hsmwatch (traps/s)")
	startTrapd := flag.Float64("start-snmptrapd", 2000, "first offered rate for snmptrapd")
	startSnmptt := flag.Float64("start-snmptt", 250, "first offered rate for snmptrapd + snmptt")
	minTraps := flag.Int("min-traps", 1000, "fewest traps in a step")
	maxTraps := flag.Int("max-traps", 200000, "most traps in a step")
	maxSteps := flag.Int("max-steps", 8, "most steps in a ladder")
	mibs := flag.String("mibs", "mibs", "the project's MIB folder")
	keep := flag.Bool("keep", false, "keep the temporary folder (outputs, configurations)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := options{kinds: split(*kinds), receivers: split(*receivers), mibs: *mibs, keep: *keep,
		starts: map[string]float64{"hsmwatch": *startOurs, "snmptrapd": *startTrapd, "snmptt": *startSnmptt},
		ladder: ladderConfig{factor: *factor, duration: *stepDur, minTraps: *minTraps, maxTraps: *maxTraps, maxSteps: *maxSteps}}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/snmptrap:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

type options struct {
	kinds, receivers []string
	mibs             string
	keep             bool
	starts           map[string]float64
	ladder           ladderConfig
}

func run(ctx context.Context, o options) error {
	for _, k := range o.kinds {
		if k != "v2c" && k != "v3" {
			return fmt.Errorf("-kinds: %q is not v2c or v3", k)
		}
	}
	for _, r := range o.receivers {
		if _, ok := o.starts[r]; !ok {
			return fmt.Errorf("-receivers: %q is not hsmwatch, snmptrapd or snmptt", r)
		}
	}
	tb := mib.Builtin()
	if err := tb.Load(o.mibs); err != nil {
		return fmt.Errorf("mibs (run from the repository root, or give -mibs): %w", err)
	}
	dir, err := os.MkdirTemp("", "hsmwatch-bench-snmptrap-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Printf("Outputs and configurations in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s := &setup{dir: dir, mibs: o.mibs}
	if slices.Contains(o.receivers, "hsmwatch") {
		s.hsmwatch = filepath.Join(dir, "hsmwatch")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", s.hsmwatch, "./cmd/hsmwatch").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/hsmwatch: %v: %s", err, out)
		}
	}
	if slices.Contains(o.receivers, "snmptt") {
		s.sttConf = filepath.Join(dir, "snmptt.conf")
		n, err := convertMIBs(ctx, o.mibs, s.sttConf)
		if err != nil {
			return err
		}
		fmt.Printf("snmptt.conf: %d EVENTs converted from %s by snmpttconvertmib.\n", n, o.mibs)
	}
	fmt.Printf("%d CPUs; load average at start %s.\n", runtime.NumCPU(), loadAverage())
	fmt.Printf("Each step sends about %v of traps at its rate (%d to %d traps), numbered, over loopback from one socket.\n\n",
		o.ladder.duration, o.ladder.minTraps, o.ladder.maxTraps)

	var ladders []*ladder
	for _, kind := range o.kinds {
		ls, err := climbAll(ctx, s, o, kind, tb)
		if err != nil {
			return err
		}
		ladders = append(ladders, ls...)
	}
	fmt.Printf("Load average at the end %s.\n\n", loadAverage())
	report(ladders)
	return nil
}

// climbAll starts every receiver for one kind of trap and runs their ladders in turns,
// one step each, so that a change in the machine's other load touches them alike.
func climbAll(ctx context.Context, s *setup, o options, kind string, tb *mib.Table) ([]*ladder, error) {
	m, err := newMaker(kind == "v3", tb)
	if err != nil {
		return nil, err
	}
	var climbers []*climber
	defer func() {
		for _, c := range climbers {
			c.close()
			c.r.stop()
		}
	}()
	for i, name := range o.receivers {
		tag := fmt.Sprintf("%s-%s-%d", kind, name, i)
		var r *receiver
		switch name {
		case "hsmwatch":
			r, err = startHsmwatch(ctx, s, tag, kind == "v3")
		case "snmptrapd":
			r, err = startSnmptrapd(ctx, s, tag)
		case "snmptt":
			r, err = startSnmptt(ctx, s, tag)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		cfg := o.ladder
		cfg.start = o.starts[name]
		c, err := newClimber(r, m, kindName(kind), cfg)
		if err != nil {
			r.stop()
			return nil, err
		}
		climbers = append(climbers, c)
	}
	for {
		active := 0
		for _, c := range climbers {
			if c.done {
				continue
			}
			active++
			if err := c.step(ctx, func(line string) { fmt.Println(line) }); err != nil {
				return nil, fmt.Errorf("%s %s: %w", c.r.name, kind, err)
			}
		}
		if active == 0 {
			break
		}
	}
	var out []*ladder
	for _, c := range climbers {
		fmt.Printf("  %s %s: %s\n", c.r.name, c.l.kind, c.l.stopped)
		out = append(out, c.l)
	}
	fmt.Println()
	return out, nil
}

func kindName(kind string) string {
	if kind == "v3" {
		return "v3 authPriv"
	}
	return "v2c"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// headline is a ladder's lossless rate: the confirmed (sustained) one when a
// confirmation step was lossless, else the ladder's best step, marked.
func headline(l *ladder) (float64, string, bool) {
	if s, ok := l.sustained(); ok {
		return s.throughput(), fmt.Sprintf("%.0f", s.throughput()), true
	}
	if b, ok := l.best(); ok {
		return b.throughput(), fmt.Sprintf("%.0f (not confirmed)", b.throughput()), true
	}
	return 0, "none lossless", false
}

// report prints one table of the ladders and the ratios of hsmwatch to each anchor.
func report(ls []*ladder) {
	fmt.Println("| receiver | traps | lossless traps/s (sustained) | ladder's best lossless step: traps/s at offered/s | traps per CPU-second | ladder stopped |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, l := range ls {
		_, text, _ := headline(l)
		best := "-"
		if b, ok := l.best(); ok {
			best = fmt.Sprintf("%.0f at %.0f", b.throughput(), b.offered)
		}
		fmt.Printf("| %s | %s | %s | %s | %.0f | %s |\n", l.receiver, l.kind, text, best, l.perCPUSecond(), l.stopped)
	}
	fmt.Println()
	for _, kind := range []string{"v2c", "v3 authPriv"} {
		var ours *ladder
		for _, l := range ls {
			if l.kind == kind && l.receiver == "hsmwatch trapd" {
				ours = l
			}
		}
		if ours == nil {
			continue
		}
		o, _, ok := headline(ours)
		if !ok {
			fmt.Printf("%s: hsmwatch trapd had no lossless step.\n", kind)
			continue
		}
		for _, l := range ls {
			if l.kind != kind || l == ours {
				continue
			}
			a, _, ok := headline(l)
			if !ok {
				fmt.Printf("%s: %s had no lossless step.\n", kind, l.receiver)
				continue
			}
			fmt.Printf("%s: hsmwatch trapd takes %.1fx the lossless traps/s of %s, at %.1fx its traps per CPU-second.\n",
				kind, o/a, l.receiver, ratio(ours.perCPUSecond(), l.perCPUSecond()))
		}
	}
	printTargets(ls)
}

// targets are the lossless rates the benchmark issue asks of hsmwatch, per kind.
var targets = map[string]float64{"v2c": 50000, "v3 authPriv": 20000}

func printTargets(ls []*ladder) {
	for _, l := range ls {
		want, ok := targets[l.kind]
		if !ok || l.receiver != "hsmwatch trapd" {
			continue
		}
		got, _, _ := headline(l)
		verdict := "met"
		if got < want {
			verdict = "NOT met"
		}
		fmt.Printf("Target %s: at least %.0f traps/s lossless: %s (%.0f).\n", l.kind, want, verdict, got)
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

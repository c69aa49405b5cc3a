// Command snmppoll measures hsmwatch's SNMP poller against the tools operators poll HSMs
// with today, in one run, against the same simulated HSMs:
//
//   - prometheus-snmp-exporter, scraped once per device over HTTP with a module that asks
//     for the same objects (when it is installed; -exporter=false leaves it out);
//
//   - snmpbulkwalk (net-snmp), executed once per device and subtree, as monitoring
//     scripts do, on a sample of the fleet (-bulkwalk-devices; a process per subtree
//     costs too much to run over 1,000 devices in a benchmark).
//
//     go run ./bench/snmppoll [-luna 500] [-dinamo 500] [-concurrency 16] [-rounds 1]
//
// The fleet (internal/sim: Luna appliances answering SNMPv3 authPriv SHA/AES, Dinamos
// answering v2c) runs in a child process, so that each poller's CPU time is its own:
// hsmwatch's from getrusage of this process, snmpbulkwalk's from getrusage of its
// children, the exporter's from /proc/PID/stat. One polling cycle asks every device once,
// the same number at a time for every poller; it prints each cycle's wall time and CPU
// seconds, the CPU per device, and the ratios to hsmwatch.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

func main() {
	if spec := os.Getenv(fleetEnv); spec != "" {
		if err := serveFleet(spec); err != nil {
			fmt.Fprintln(os.Stderr, "fleet:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.IntVar(&o.luna, "luna", 500, "simulated Luna Network HSMs (SNMPv3 authPriv SHA/AES)")
	flag.IntVar(&o.dinamo, "dinamo", 500, "simulated Dinamo HSMs (SNMP v2c)")
	flag.IntVar(&o.conc, "concurrency", 16, "devices polled at the same time, by every poller")
	flag.IntVar(&o.rounds, "rounds", 1, "measured cycles over the whole fleet for hsmwatch's warm poller and the exporter (after one unmeasured cycle)")
	flag.IntVar(&o.walkRounds, "walk-rounds", 1, "measured cycles for hsmwatch's cold poller and snmpbulkwalk")
	flag.StringVar(&o.mibs, "mibs", "mibs", "the project's MIB folder (names the Dinamo objects)")
	flag.BoolVar(&o.exporter, "exporter", true, "include prometheus-snmp-exporter when installed")
	flag.BoolVar(&o.bulkwalk, "bulkwalk", true, "include snmpbulkwalk")
	flag.IntVar(&o.walkDevices, "bulkwalk-devices", 100, "devices of the fleet snmpbulkwalk walks (spread over it; 0: all)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	luna, dinamo, conc, rounds, walkRounds, walkDevices int
	mibs                                                string
	exporter, bulkwalk                                  bool
}

// result is one poller's measurement.
type result struct {
	name     string
	cycles   int           // cycles measured
	polls    int           // device polls done
	wall     time.Duration // for all of them
	cpu      time.Duration // the poller's CPU time (user + system)
	fleetCPU time.Duration // the simulated agents' CPU time meanwhile
	requests int           // SNMP requests (PDUs) sent, when known
	values   int           // values read
	note     string
}

func (r result) perSecond() float64 { return float64(r.polls) / r.wall.Seconds() }
func (r result) cpuPerPoll() float64 {
	return float64(r.cpu.Microseconds()) / 1000 / float64(r.polls)
}
func (r result) devices() int                 { return r.polls / max(r.cycles, 1) }
func (r result) cycleWall() time.Duration     { return r.wall / time.Duration(max(r.cycles, 1)) }
func (r result) cycleCPU() time.Duration      { return r.cpu / time.Duration(max(r.cycles, 1)) }
func (r result) cycleFleetCPU() time.Duration { return r.fleetCPU / time.Duration(max(r.cycles, 1)) }

func run(ctx context.Context, o options) error {
	tb := mib.Builtin()
	if err := tb.Load(o.mibs); err != nil {
		return fmt.Errorf("mibs (run from the repository root, or give -mibs): %w", err)
	}
	start := time.Now()
	fp, err := startFleet(ctx, o.luna, o.dinamo)
	if err != nil {
		return err
	}
	defer fp.stop()
	fmt.Printf("%d simulated HSMs (%d Luna SNMPv3 authPriv SHA/AES, %d Dinamo v2c) in a child process, ready in %v.\n",
		len(fp.devices), o.luna, o.dinamo, time.Since(start).Round(time.Millisecond))
	fmt.Printf("%d devices polled at a time by every poller; %d CPUs; GOMAXPROCS %d; load average %s.\n\n",
		o.conc, runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAverage())
	fleetCPU := func() time.Duration { d, _ := proc.CPU(fp.cmd.Process.Pid); return d }

	var results []result
	warm, cold, err := measureOurs(ctx, fp.devices, tb, o.conc, o.rounds, o.walkRounds, fleetCPU)
	if err != nil {
		return err
	}
	results = append(results, warm, cold)
	if o.exporter {
		ex, err := measureExporter(ctx, fp.devices, o.conc, o.rounds, fleetCPU)
		switch {
		case err != nil:
			fmt.Printf("prometheus-snmp-exporter left out: %v\n\n", err)
		default:
			results = append(results, ex)
		}
	}
	if o.bulkwalk {
		bw, err := measureBulkwalk(ctx, sample(fp.devices, o.walkDevices), o.conc, o.walkRounds, fleetCPU)
		if err != nil {
			return err
		}
		results = append(results, bw)
	}
	fmt.Printf("Load average at the end %s.\n\n", loadAverage())
	fmt.Printf("| poller | devices per cycle | cycles | cycle wall s | cycle CPU s | CPU ms per device | CPU per device vs hsmwatch | devices/s | requests per poll | values per poll | agents' CPU s per cycle |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|\n")
	base := results[0]
	for _, r := range results {
		req := "-"
		if r.requests > 0 {
			req = fmt.Sprintf("%.1f", float64(r.requests)/float64(r.polls))
		}
		fmt.Printf("| %s | %d | %d | %.2f | %.2f | %.3f | %.2fx | %.0f | %s | %.1f | %.2f |\n", r.name, r.devices(), r.cycles,
			r.cycleWall().Seconds(), r.cycleCPU().Seconds(), r.cpuPerPoll(), r.cpuPerPoll()/base.cpuPerPoll(), r.perSecond(), req,
			float64(r.values)/float64(r.polls), r.cycleFleetCPU().Seconds())
	}
	fmt.Println()
	for _, r := range results[1:] {
		fmt.Printf("hsmwatch (warm) uses %.2fx less CPU per device than %s, and polls %.2fx as many devices per second.\n",
			r.cpuPerPoll()/base.cpuPerPoll(), r.name, base.perSecond()/r.perSecond())
	}
	fmt.Println()
	for _, r := range results {
		if r.note != "" {
			fmt.Printf("- %s: %s\n", r.name, r.note)
		}
	}
	return nil
}

// sample is n devices spread evenly over devs (all of them when n is 0 or more than
// there are), so that every vendor is in it in its share.
func sample(devs []device, n int) []device {
	if n <= 0 || n >= len(devs) {
		return devs
	}
	out := make([]device, 0, n)
	for i := range n {
		out = append(out, devs[i*len(devs)/n])
	}
	return out
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

// pool runs fn for every index with n workers; the first error stops the rest.
func pool(ctx context.Context, count, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// cpuTime is the CPU time (user + system) of this process (who RUSAGE_SELF) or of its
// waited-for children (RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

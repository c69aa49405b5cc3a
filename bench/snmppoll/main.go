// Command snmppoll measures hsmwatch's SNMP poller against the tools operators poll HSMs
// with today, in one run, against the same simulated HSMs:
//
//   - snmpbulkwalk (net-snmp), executed once per device and subtree, as monitoring
//     scripts do;
//
//   - prometheus-snmp-exporter, scraped once per device over HTTP with a module that asks
//     for the same objects (when it is installed; -exporter=false leaves it out).
//
//     go run ./bench/snmppoll [-luna 200] [-dinamo 200] [-concurrency 16] [-rounds 3]
//
// The fleet (internal/sim: Luna appliances answering SNMPv3 authPriv SHA/AES, Dinamos
// answering v2c) runs in a child process, so that each poller's CPU time is its own:
// hsmwatch's from getrusage of this process, snmpbulkwalk's from getrusage of its
// children, the exporter's from /proc/PID/stat. It prints devices polled per second,
// CPU time per device poll, and the ratios to hsmwatch.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/mib"
)

func main() {
	if spec := os.Getenv(fleetEnv); spec != "" {
		if err := serveFleet(spec); err != nil {
			fmt.Fprintln(os.Stderr, "fleet:", err)
			os.Exit(1)
		}
		return
	}
	luna := flag.Int("luna", 200, "simulated Luna Network HSMs (SNMPv3 authPriv SHA/AES)")
	dinamo := flag.Int("dinamo", 200, "simulated Dinamo HSMs (SNMP v2c)")
	conc := flag.Int("concurrency", 16, "devices polled at the same time, by every poller")
	rounds := flag.Int("rounds", 3, "rounds over the whole fleet for hsmwatch's warm poller")
	walkRounds := flag.Int("walk-rounds", 1, "rounds for snmpbulkwalk and the exporter")
	mibs := flag.String("mibs", "mibs", "the project's MIB folder (names the Dinamo objects)")
	exporter := flag.Bool("exporter", true, "include prometheus-snmp-exporter when installed")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *luna, *dinamo, *conc, *rounds, *walkRounds, *mibs, *exporter); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one poller's measurement.
type result struct {
	name     string
	polls    int           // device polls done
	wall     time.Duration // for all of them
	cpu      time.Duration // the poller's CPU time (user + system)
	requests int           // SNMP requests (PDUs) sent, when known
	values   int           // values read
	note     string
}

func (r result) perSecond() float64 { return float64(r.polls) / r.wall.Seconds() }
func (r result) cpuPerPoll() float64 {
	return float64(r.cpu.Microseconds()) / 1000 / float64(r.polls)
}

func run(ctx context.Context, luna, dinamo, conc, rounds, walkRounds int, mibDir string, withExporter bool) error {
	tb := mib.Builtin()
	if err := tb.Load(mibDir); err != nil {
		return fmt.Errorf("mibs (run from the repository root, or give -mibs): %w", err)
	}
	start := time.Now()
	fp, err := startFleet(ctx, luna, dinamo)
	if err != nil {
		return err
	}
	defer fp.stop()
	fmt.Printf("%d simulated HSMs (%d Luna SNMPv3 authPriv SHA/AES, %d Dinamo v2c) in a child process, ready in %v.\n",
		len(fp.devices), luna, dinamo, time.Since(start).Round(time.Millisecond))
	fmt.Printf("%d devices polled at a time; %d CPUs; GOMAXPROCS %d.\n\n", conc, runtime.NumCPU(), runtime.GOMAXPROCS(0))

	var results []result
	warm, cold, err := measureOurs(ctx, fp.devices, tb, conc, rounds)
	if err != nil {
		return err
	}
	results = append(results, warm, cold)
	bw, err := measureBulkwalk(ctx, fp.devices, conc, walkRounds)
	if err != nil {
		return err
	}
	results = append(results, bw)
	if withExporter {
		ex, err := measureExporter(ctx, fp.devices, conc, walkRounds)
		switch {
		case err != nil:
			fmt.Printf("prometheus-snmp-exporter left out: %v\n\n", err)
		default:
			results = append(results, ex)
		}
	}
	fmt.Printf("| poller | device polls | devices/s | CPU ms per poll | requests per poll | values per poll | devices/s vs hsmwatch | CPU vs hsmwatch |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|\n")
	base := results[0]
	for _, r := range results {
		req := "-"
		if r.requests > 0 {
			req = fmt.Sprintf("%.1f", float64(r.requests)/float64(r.polls))
		}
		fmt.Printf("| %s | %d | %.0f | %.2f | %s | %.1f | %.3fx | %.1fx |\n", r.name, r.polls, r.perSecond(), r.cpuPerPoll(), req,
			float64(r.values)/float64(r.polls), r.perSecond()/base.perSecond(), r.cpuPerPoll()/base.cpuPerPoll())
	}
	fmt.Println()
	for _, r := range results[1:] {
		fmt.Printf("hsmwatch (warm) polls %.1fx as many devices per second as %s, with %.1fx less CPU per poll.\n",
			base.perSecond()/r.perSecond(), r.name, r.cpuPerPoll()/base.cpuPerPoll())
	}
	fmt.Println()
	for _, r := range results {
		if r.note != "" {
			fmt.Printf("- %s: %s\n", r.name, r.note)
		}
	}
	return nil
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

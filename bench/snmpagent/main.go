// Command snmpagent measures hsmwatch's SNMP agent (internal/snmp/agent) against
// net-snmp's snmpd on this machine, in one run, under the same load.
//
//	go run ./bench/snmpagent [-clients 4] [-duration 3s] [-repetitions 20]
//
// It starts snmpd in the foreground with a configuration of its own (a read-only
// community and v3 user limited to a view of system, interfaces, ifMIB, ip and snmp),
// copies that whole view into a tree served by our agent, so that both answer for
// exactly the same OIDs and values, runs each agent in a process of its
// own (so that their CPU time can be read from /proc), then drives each with the same
// gosnmp clients: Get of 10 OIDs, GetBulk with max-repetitions 20, and an SNMPv3
// authPriv (SHA, AES) Get of the same 10 OIDs. It prints answers per second, CPU
// seconds per 10,000 answers, and the ratio hsmwatch / net-snmp.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	if os.Getenv(childEnv) != "" {
		if err := serveChild(); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
		return
	}
	clients := flag.Int("clients", 4, "concurrent clients, each with its own socket")
	duration := flag.Duration("duration", 3*time.Second, "how long each load runs against each agent")
	reps := flag.Int("repetitions", 20, "GetBulk max-repetitions")
	flag.Parse()
	if err := run(*clients, *duration, *reps); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(clients int, duration time.Duration, reps int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "snmpagent-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	snmpd, err := startSnmpd(ctx, dir)
	if err != nil {
		return err
	}
	defer snmpd.stop()
	ours, err := startChild(ctx, snmpd.addr)
	if err != nil {
		return err
	}
	defer ours.stop()

	nd, no := countOIDs(snmpd.addr), countOIDs(ours.addr)
	if nd != no || nd == 0 {
		return fmt.Errorf("trees differ: snmpd serves %d OIDs under mib-2, hsmwatch %d", nd, no)
	}
	fmt.Printf("Both agents serve the same %d OIDs (hsmwatch's tree is a copy of snmpd's view).\n", nd)
	fmt.Printf("%d clients, %v per load and agent, GOMAXPROCS of the hsmwatch agent process = %s.\n\n",
		clients, duration, childProcs())

	loads := []load{
		{name: "Get 10 OIDs (v2c)", kind: loadGet},
		{name: fmt.Sprintf("GetBulk max-rep %d (v2c)", reps), kind: loadBulk, reps: reps},
		{name: "Get 10 OIDs (v3 authPriv SHA/AES)", kind: loadGet, v3: true},
	}
	fmt.Printf("| load | net-snmp answers/s | hsmwatch answers/s | ratio | net-snmp CPU s/10k | hsmwatch CPU s/10k |\n")
	fmt.Printf("|---|---|---|---|---|---|\n")
	for _, l := range loads {
		d, err := measure(l, snmpd.server, clients, duration)
		if err != nil {
			return fmt.Errorf("net-snmp, %s: %w", l.name, err)
		}
		o, err := measure(l, ours.server, clients, duration)
		if err != nil {
			return fmt.Errorf("hsmwatch, %s: %w", l.name, err)
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", l.name, d.rate(), o.rate(), o.rate()/d.rate(), d.cpuPer10k(), o.cpuPer10k())
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// subtrees are what a script walks for the objects hsmwatch's profiles read: the system
// group and the Dinamo objects; on a Luna the system group, the CHRYSALIS counters and
// NTLS, the HSM and partition tables, the appliance's software version and UCD memory.
// A walk returns whole subtrees, so a few more values than the profiles read (sysORTable
// is not under system's scalars here: the simulators do not serve it).
var subtrees = map[string][]string{
	"dinamo": {".1.3.6.1.2.1.1", ".1.3.6.1.4.1.41054.2"},
	"luna": {".1.3.6.1.2.1.1", ".1.3.6.1.4.1.12383.3.1", ".1.3.6.1.4.1.23629.1.5.1.2", ".1.3.6.1.4.1.23629.1.5.1.3",
		".1.3.6.1.4.1.23629.1.5.2.1", ".1.3.6.1.4.1.2021.4"},
}

// measureBulkwalk runs snmpbulkwalk once per device and subtree, numeric output, the
// same max-repetitions as hsmwatch (25), Debian's default of loading no MIB.
func measureBulkwalk(ctx context.Context, devs []device, conc, rounds int, fleetCPU func() time.Duration) (result, error) {
	bin, err := exec.LookPath("snmpbulkwalk")
	if err != nil {
		return result{}, fmt.Errorf("snmpbulkwalk not found: install Debian's snmp package")
	}
	var values, execs atomic.Int64
	fleet0, cpu0, t0 := fleetCPU(), cpuTime(syscall.RUSAGE_CHILDREN), time.Now()
	for round := 0; round < rounds; round++ {
		err := pool(ctx, len(devs), conc, func(ctx context.Context, i int) error {
			d := devs[i]
			auth := []string{"-v2c", "-c", "public"}
			if d.vendor == "luna" {
				auth = []string{"-v3", "-l", "authPriv", "-u", benchUser, "-a", "SHA", "-A", benchAuth, "-x", "AES", "-X", benchPriv}
			}
			for _, oid := range subtrees[d.vendor] {
				args := append(append([]string{}, auth...), "-On", "-Cr25", "-t", "5", "-r", "1", d.addr, oid)
				cmd := exec.CommandContext(ctx, bin, args...)
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("snmpbulkwalk %s %s: %v: %s", d.addr, oid, err, strings.TrimSpace(errb.String()))
				}
				n := 0
				for _, l := range strings.Split(out.String(), "\n") {
					if strings.HasPrefix(l, ".") {
						n++
					}
				}
				if n == 0 {
					return fmt.Errorf("snmpbulkwalk %s %s: no values", d.addr, oid)
				}
				values.Add(int64(n))
				execs.Add(1)
			}
			return nil
		})
		if err != nil {
			return result{}, err
		}
	}
	return result{name: fmt.Sprintf("snmpbulkwalk (exec per device and subtree; %d devices)", len(devs)), cycles: rounds,
		polls: rounds * len(devs), wall: time.Since(t0), cpu: cpuTime(syscall.RUSAGE_CHILDREN) - cpu0, fleetCPU: fleetCPU() - fleet0,
		values: int(values.Load()),
		note: fmt.Sprintf("%.1f executions per device poll (Luna %d subtrees, Dinamo %d), each a new process, a new socket and, for SNMPv3, engine discovery and key localization; CPU of the snmpbulkwalk processes only, not of parsing their output",
			float64(execs.Load())/float64(rounds*len(devs)), len(subtrees["luna"]), len(subtrees["dinamo"]))}, nil
}

package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
)

type loadKind int

const (
	loadGet loadKind = iota
	loadBulk
)

// load is one kind of request sent over and over.
type load struct {
	name string
	kind loadKind
	reps int
	v3   bool
}

// getOIDs are ten objects snmpd answers from memory or from a cache: the system
// scalars, ifNumber and one interface's counters.
var getOIDs = []string{
	".1.3.6.1.2.1.1.1.0", ".1.3.6.1.2.1.1.2.0", ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.4.0",
	".1.3.6.1.2.1.1.5.0", ".1.3.6.1.2.1.1.6.0", ".1.3.6.1.2.1.1.8.0", ".1.3.6.1.2.1.2.1.0",
	".1.3.6.1.2.1.2.2.1.2.1", ".1.3.6.1.2.1.2.2.1.10.1",
}

// bulkFrom starts GetBulk in the system group, whose sysORTable rows follow the scalars.
const bulkFrom = ".1.3.6.1.2.1.1"

func (l load) do(g *gosnmp.GoSNMP) error {
	var res *gosnmp.SnmpPacket
	var err error
	want := len(getOIDs)
	if l.kind == loadBulk {
		res, err = g.GetBulk([]string{bulkFrom}, 0, uint32(l.reps))
		want = l.reps
	} else {
		res, err = g.Get(getOIDs)
	}
	if err != nil {
		return err
	}
	if res.Error != gosnmp.NoError || len(res.Variables) != want {
		return fmt.Errorf("answer: error %v, %d variables, want %d", res.Error, len(res.Variables), want)
	}
	return nil
}

// result is what one load against one agent achieved.
type result struct {
	answers int64
	elapsed time.Duration
	cpu     time.Duration
}

func (r result) rate() float64 { return float64(r.answers) / r.elapsed.Seconds() }

func (r result) cpuPer10k() float64 { return r.cpu.Seconds() / float64(r.answers) * 10000 }

// measure runs clients goroutines, each with its own socket, sending l back to back
// for d, and reads the agent process's CPU time around it. Every client makes one
// request (v3 discovery included) before the clock starts.
func measure(l load, s server, clients int, d time.Duration) (result, error) {
	gs := make([]*gosnmp.GoSNMP, clients)
	for i := range gs {
		g, err := newClient(s.addr, l.v3)
		if err != nil {
			return result{}, err
		}
		defer g.Conn.Close()
		if err := l.do(g); err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
		gs[i] = g
	}
	cpu0, err := proc.CPU(s.pid)
	if err != nil {
		return result{}, err
	}
	var answers atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for _, g := range gs {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := l.do(g); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				answers.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := proc.CPU(s.pid)
	if err != nil {
		return result{}, err
	}
	if firstErr != nil {
		return result{}, firstErr
	}
	return result{answers: answers.Load(), elapsed: elapsed, cpu: cpu1 - cpu0}, nil
}

package poller

import (
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// BenchmarkPoll polls one simulated HSM per sub-benchmark with a warm Poller (socket,
// SNMPv3 keys and profile kept, as the daemon keeps them). The simulator answers in this
// process, so ns/op and allocations include its side: bench/snmppoll measures the
// poller alone against snmpbulkwalk and prometheus-snmp-exporter. Runs with
// -benchtime 1x too (one poll after the warm-up).
func BenchmarkPoll(b *testing.B) {
	clock := sim.NewManual(t0)
	tb := projectMIBs(b)
	for _, c := range []struct {
		name string
		hsm  sim.HSMConfig
		tg   func(string) Target
	}{
		{"dinamo-v2c", dinamoConfig(), dinamoTarget},
		{"luna-v3-authPriv", lunaConfig(), lunaTarget},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := benchFleet(b, clock, c.hsm)
			p, err := New(Options{Target: c.tg(f.Members()[0].Addr()), MIB: tb, Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			if _, err := p.Poll(b.Context()); err != nil { // detection, v3 discovery, baselines
				b.Fatal(err)
			}
			requests, vars := 0, 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := p.Poll(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				requests += r.Requests
				vars += r.Variables
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			b.ReportMetric(float64(vars)/float64(b.N), "values/op")
		})
	}
}

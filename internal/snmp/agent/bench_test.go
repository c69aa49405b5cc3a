package agent

import (
	"fmt"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// The benchmarks time one request and its answer over loopback with gosnmp's client:
// the agent's decode, tree lookups and encode plus two UDP hops. bench/snmpagent runs
// the same load against net-snmp's snmpd for comparison.

var benchGetOIDs = func() []string {
	var oids []string
	for i := 1; i <= 8; i++ {
		oids = append(oids, fmt.Sprintf(".1.3.6.1.2.1.2.2.1.10.%d", i))
	}
	return append(oids, ".1.3.6.1.2.1.1.3.0", ".1.3.6.1.2.1.1.5.0")
}()

func BenchmarkGet(b *testing.B) {
	for _, c := range []struct {
		name    string
		version gosnmp.SnmpVersion
		user    *User
	}{{"v2c", gosnmp.Version2c, nil}, {"v3authPriv", gosnmp.Version3, &userAuthPriv}} {
		b.Run(c.name, func(b *testing.B) {
			a := startAgent(b, defaultConfig(testTree()))
			g := client(b, a, c.version, c.user)
			for b.Loop() {
				res, err := g.Get(benchGetOIDs)
				if err != nil || len(res.Variables) != len(benchGetOIDs) {
					b.Fatalf("get: %v", err)
				}
			}
		})
	}
}

func BenchmarkGetBulk(b *testing.B) {
	a := startAgent(b, defaultConfig(testTree()))
	g := client(b, a, gosnmp.Version2c, nil)
	for b.Loop() {
		res, err := g.GetBulk([]string{".1.3.6.1.2.1.2.2.1"}, 0, 20)
		if err != nil || len(res.Variables) != 20 {
			b.Fatalf("getbulk: %v", err)
		}
	}
}

// BenchmarkHandleGet is the agent's own work for a v2c Get of 10 OIDs, without the
// network: what a profile of the agent should look at.
func BenchmarkHandleGet(b *testing.B) {
	a := fuzzAgent(b)
	var vars []Var
	for _, o := range benchGetOIDs {
		vars = append(vars, Var{Name: o, Type: gosnmp.Null})
	}
	req, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetRequest, RequestID: 1, Variables: vars}).MarshalMsg()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if a.handle(req, nil) == nil {
			b.Fatal("no answer")
		}
	}
}

package classify

import (
	"strconv"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// hsmLines are the guide's examples plus Dinamo and ALM lines; noise is generic Linux
// syslog of the kind an appliance's syslog server receives alongside.
func hsmLines(tb testing.TB) []string {
	var lines []string
	for _, ex := range testutil.ReadJSONL[guideExample](tb, "corpus/luna-guide-examples.jsonl") {
		lines = append(lines, ex.Line)
	}
	return append(lines,
		"2022/01/11 22:32:17 00000052 000001A2 EE4E6C03 new key prodkey, t: 6, a: 0, c: 21|172.17.0.1 172.17.0.2:4433 master",
		"2022/01/11 22:28:56 0000004C 0000017D A575C340 master truncated log|172.17.0.1 172.17.0.2:4433 master",
		"2012 Feb 29 12:05:01 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized",
		"[  812.345678] k7pf0: ALM0015: PCIe Link Failure")
}

// mixed is nine tenths noise, one tenth HSM lines.
func mixed(tb testing.TB) []string {
	hsm := hsmLines(tb)
	noise := testutil.NoiseLines()
	var out []string
	for i := 0; len(out) < 20000; i++ {
		for k := 0; k < 9; k++ {
			out = append(out, noise[(i*9+k)%len(noise)])
		}
		out = append(out, hsm[i%len(hsm)])
	}
	return out
}

// grown returns the catalog with every rule copied nine more times under other ids, with
// literals (distinct from their first byte), field values and process names that never
// occur: ten times the rules and automaton states, the same classification.
func grown(tb testing.TB, c *Catalog) *Catalog {
	rules := append([]*Rule(nil), c.Rules()...)
	for k := 1; k < 10; k++ {
		for _, r := range c.Rules() {
			cp := *r
			cp.ID = r.ID + ".copy" + strconv.Itoa(k)
			suffix := " \x01copy" + strconv.Itoa(k)
			cp.Match.Contains = nil
			for _, lit := range r.Match.Contains {
				// A distinct start: new literals grow the automaton as new messages would.
				cp.Match.Contains = append(cp.Match.Contains, "\x01"+strconv.Itoa(k)+lit)
			}
			cp.Match.ContainsAny = nil
			for _, lit := range r.Match.ContainsAny {
				cp.Match.ContainsAny = append(cp.Match.ContainsAny, "\x01"+strconv.Itoa(k)+lit)
			}
			if len(r.Match.Fields) > 0 {
				cp.Match.Fields = map[string]string{}
				for f, v := range r.Match.Fields {
					cp.Match.Fields[f] = v + suffix
				}
			}
			cp.Match.Process = nil
			for _, p := range r.Match.Process {
				cp.Match.Process = append(cp.Match.Process, p+suffix)
			}
			if err := cp.compile(); err != nil {
				tb.Fatal(err)
			}
			rules = append(rules, &cp)
		}
	}
	g, err := newCatalog(rules, c.Floor())
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func benchClassify(b *testing.B, c *Catalog, lines []string) {
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	var ev event.Event
	var cpu testutil.ThreadCPU
	b.ReportAllocs()
	b.ResetTimer()
	cpu.Start(b)
	for i := 0; i < b.N; i++ {
		parse.Into(p, lines[i%len(lines)], &ev)
		c.Classify(&ev)
	}
	used := cpu.Stop(b)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	// Lines per second of CPU on one core: the figure the targets are stated in, and
	// stable on a machine shared with other work.
	b.ReportMetric(float64(b.N)/used.Seconds(), "lines/cpu-s")
}

func BenchmarkClassifyMixed(b *testing.B)    { benchClassify(b, shippedCatalog(b), mixed(b)) }
func BenchmarkClassifyHSM(b *testing.B)      { benchClassify(b, shippedCatalog(b), hsmLines(b)) }
func BenchmarkClassifyMixed10x(b *testing.B) { benchClassify(b, grown(b, shippedCatalog(b)), mixed(b)) }
func BenchmarkClassifyHSM10x(b *testing.B) {
	benchClassify(b, grown(b, shippedCatalog(b)), hsmLines(b))
}

// TestGrownCatalogClassifiesTheSame guards the benchmark's premise.
func TestGrownCatalogClassifiesTheSame(t *testing.T) {
	c := shippedCatalog(t)
	g := grown(t, c)
	if len(g.Rules()) != 10*len(c.Rules()) {
		t.Fatalf("grown catalog has %d rules, want %d", len(g.Rules()), 10*len(c.Rules()))
	}
	for _, line := range hsmLines(t) {
		e1, e2 := parsed(t, line), parsed(t, line)
		r1, r2 := c.Classify(e1), g.Classify(e2)
		if (r1 == nil) != (r2 == nil) || (r1 != nil && r1.ID != r2.ID) {
			t.Errorf("%s: %v vs %v", line, r1, r2)
		}
	}
}

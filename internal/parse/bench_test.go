package parse

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// mixedCorpus builds the benchmark input: Luna appliance lines from the guide's corpus,
// Dinamo event log lines and Luna PCIe alarm lines from the specs, and generic Linux
// syslog noise (sshd, systemd, CRON, kernel) in rsyslog's traditional file format,
// interleaved so that the dispatch sees the formats change from line to line.
func mixedCorpus(b *testing.B) []string {
	b.Helper()
	var luna []string
	for _, ex := range readJSONL[guideExample](b, "corpus/luna-guide-examples.jsonl") {
		luna = append(luna, ex.Line)
	}
	dinamo := specLines(b, "spec/dinamo-event-log.txt", "2022/01/11 ")
	alarms := []string{
		"2012 Feb 29 12:05:01 myLuna kern info kernel: k7pf0: [HSM] ALM2007: HSM zeroized",
		"[  812.345678] k7pf0: ALM0015: PCIe Link Failure",
		"1330517101 k7pf0: ALM2001: High temperature warning activated",
		"k7pf0: [hsm] ALM0013: High Temperature - 82C",
		"Nov 22 05:31:30 pcie-host kernel: [  812.345678] k7pf0: ALM1014: Chassis opened",
	}
	generic := testutil.NoiseLines()
	var out []string
	for i := 0; len(out) < 20000; i++ {
		out = append(out, generic[i%len(generic)], luna[i%len(luna)], generic[(i+3)%len(generic)],
			luna[(i*7)%len(luna)])
		if i%2 == 0 {
			out = append(out, dinamo[i%len(dinamo)])
		}
		if i%4 == 0 {
			out = append(out, alarms[i%len(alarms)])
		}
	}
	return out
}

func runParseBench(b *testing.B, lines []string, parse func(string, *event.Event)) {
	var ev event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		parse(lines[i%len(lines)], &ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseMixed is the parse stage of hsmwatch on the mixed corpus (one core).
func BenchmarkParseMixed(b *testing.B) {
	lines := mixedCorpus(b)
	p, _ := New(Auto, goldenOptions())
	unparsed := 0
	var ev event.Event
	for _, l := range lines {
		Into(p, l, &ev)
		if ev.Source == event.SourceUnparsed {
			unparsed++
		}
	}
	if unparsed > 0 {
		b.Fatalf("%d of %d benchmark lines do not parse", unparsed, len(lines))
	}
	runParseBench(b, lines, func(l string, ev *event.Event) { Into(p, l, ev) })
}

// BenchmarkAnchorRegexp is the anchor: the same corpus through the straightforward
// regular-expression parser that most log tools use (one expression per format).
func BenchmarkAnchorRegexp(b *testing.B) {
	lines := mixedCorpus(b)
	exprs := []*regexp.Regexp{
		regexp.MustCompile(`^(\d{4}) +(\w{3}) +(\d+) (\d\d:\d\d:\d\d) +(\S+) +(?:(\w+) +)?(?:(\w+) +)?([^\s:\[]+)(?: ?\[(\d+)\])?: ?(.*)$`),
		regexp.MustCompile(`^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) (\S+) ([^\s:\[]+)(?:\[(\d+)\])?: ?(.*)$`),
		regexp.MustCompile(`^(\d{4}/\d\d/\d\d) (\d\d:\d\d:\d\d) ([0-9A-F]{8}) ([0-9A-F]{8}) ([0-9A-F]{8}) ([^|]*)(?:\|(\S+) (\S+) (\S+))?$`),
		regexp.MustCompile(`(\w+): (?:\[(?:HSM|hsm)\] )?ALM(\d{4}): ?(.*)$`),
		regexp.MustCompile(`^(\S+) (\S+) ([^\s:\[]+)(?:\[(\d+)\])?: ?(.*)$`),
	}
	runParseBench(b, lines, func(l string, ev *event.Event) {
		ev.Reset()
		for _, re := range exprs {
			if m := re.FindStringSubmatch(l); m != nil {
				ev.Host, ev.Message = m[1], m[len(m)-1]
				if pid, err := strconv.Atoi(m[2]); err == nil {
					ev.PID = pid
				}
				return
			}
		}
	})
}

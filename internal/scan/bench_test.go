package scan

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/benchcorpus"
	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/sink/jsonl"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// BenchmarkScanMixed is `hsmwatch scan` end to end as the command runs it: the mixed
// corpus (benchcorpus.Mixed) read from memory, parsed, classified with the shipped
// catalog, fed to the state tracker and written as JSON lines (to io.Discard). One
// iteration is one line; lines/cpu-s counts the CPU of the whole process (getrusage
// RUSAGE_SELF), garbage collection included.
func BenchmarkScanMixed(b *testing.B) {
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	shared, err := benchcorpus.SharedDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	hsm, err := benchcorpus.HSMLines(shared)
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Join(benchcorpus.Mixed(100000, hsm), "\n") + "\n"
	cat, err := classify.Load()
	if err != nil {
		b.Fatal(err)
	}
	o := utcOptions()
	o.Catalog = cat
	var cpu testutil.ProcessCPU
	b.ReportAllocs()
	b.ResetTimer()
	cpu.Start(b)
	lines := 0
	for lines < b.N {
		if o.State, err = state.New(state.Config{StaleAfter: 24 * time.Hour}, cat); err != nil {
			b.Fatal(err)
		}
		sum, err := Run(context.Background(), o, []string{"-"}, strings.NewReader(text), jsonl.New(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		lines += int(sum.Lines)
	}
	used := cpu.Stop(b)
	b.StopTimer()
	b.ReportMetric(float64(lines)/used.Seconds(), "lines/cpu-s")
}

// BenchmarkScanStages measures the stages of a scan cumulatively on the same corpus, one
// goroutine on its thread (lines/cpu-s from the thread's CPU time): parse; parse and
// classify; and the state tracker; and JSON encoding. The difference between two
// consecutive figures is the cost of a stage.
func BenchmarkScanStages(b *testing.B) {
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	shared, err := benchcorpus.SharedDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	hsm, err := benchcorpus.HSMLines(shared)
	if err != nil {
		b.Fatal(err)
	}
	lines := benchcorpus.Mixed(100000, hsm)
	cat, err := classify.Load()
	if err != nil {
		b.Fatal(err)
	}
	for stage, name := range []string{"parse", "classify", "state", "json"} {
		b.Run(name, func(b *testing.B) {
			p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := state.New(state.Config{StaleAfter: 24 * time.Hour}, cat)
			if err != nil {
				b.Fatal(err)
			}
			var ev event.Event
			buf := make([]byte, 0, 4096)
			var cpu testutil.ThreadCPU
			b.ReportAllocs()
			b.ResetTimer()
			cpu.Start(b)
			for i := 0; i < b.N; i++ {
				parse.Into(p, lines[i%len(lines)], &ev)
				if stage >= 1 {
					cat.Classify(&ev)
				}
				if stage >= 2 {
					tr.Observe(&ev)
				}
				if stage >= 3 {
					buf = ev.AppendJSON(buf[:0])
				}
			}
			used := cpu.Stop(b)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/used.Seconds(), "lines/cpu-s")
		})
	}
}

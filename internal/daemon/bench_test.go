package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// BenchmarkServeFollowSQLite runs the daemon's whole ingest path in one process: a
// followed file of b.N lines of the mixed corpus (testutil.MixedLines), parsed,
// classified, through the state, into the SQLite store, acknowledged and checkpointed,
// with the metrics and the live stream as sinks. It reports events/s and the process'
// CPU-µs per event; with -cpuprofile, where that CPU goes:
//
//	go test -run '^$' -bench ServeFollow -benchtime 200000x -cpuprofile /tmp/serve.prof ./internal/daemon/
func BenchmarkServeFollowSQLite(b *testing.B) {
	dir := b.TempDir()
	hsm, err := testutil.HSMLines(filepath.Dir(testutil.SharedPath(b, "corpus")))
	if err != nil {
		b.Fatal(err)
	}
	logFile := filepath.Join(dir, "messages")
	f, err := os.Create(logFile)
	if err != nil {
		b.Fatal(err)
	}
	if err := testutil.WriteLines(f, testutil.MixedLines(hsm, b.N, time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC))); err != nil {
		b.Fatal(err)
	}
	f.Close()
	cfg := &config.Config{File: "bench", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(b, config.Item{Kind: "files", Spec: &follow.Spec{Path: logFile, Start: "beginning"}})}
	d, err := New(context.Background(), Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cpu0 := processCPU(b)
	b.ResetTimer()
	go func() { done <- d.Run(ctx) }()
	for d.Stats().Processed < int64(b.N) {
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	cpu := processCPU(b) - cpu0
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
}

func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

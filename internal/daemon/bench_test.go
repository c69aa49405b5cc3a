package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/config"
	"github.com/hsmwatch/hsmwatch/internal/source/follow"
	"github.com/hsmwatch/hsmwatch/internal/source/syslog"
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
	finish(b, d, cpu0, time.Time{}, cancel, done)
}

// BenchmarkServeUDPSQLite runs the daemon's ingest path from a UDP syslog listener (flood
// limit off) into the SQLite store: b.N lines of the mixed corpus, one datagram each, sent
// from this process at -udp.rate lines/s (paced every millisecond). It reports events/s
// and the process' CPU-µs per event, the sender's included (about 1 µs a datagram); with
// -cpuprofile, where the daemon's CPU goes:
//
//	go test -run '^$' -bench ServeUDP -benchtime 200000x -cpuprofile /tmp/udp.prof ./internal/daemon/
//
// It fails when a line is lost (the kernel dropped it: the rate was above what the daemon
// takes in on this machine).
func BenchmarkServeUDPSQLite(b *testing.B) {
	const rate = 30_000 // lines/s: lossless here with room to spare, so the CPU is the daemon's own
	dir := b.TempDir()
	hsm, err := testutil.HSMLines(filepath.Dir(testutil.SharedPath(b, "corpus")))
	if err != nil {
		b.Fatal(err)
	}
	lines := testutil.MixedLines(hsm, b.N, time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC))
	port := testutil.FreeUDPPort(b)
	cfg := &config.Config{File: "bench", StateDir: filepath.Join(dir, "state"), HTTP: config.HTTP{Listen: "127.0.0.1:0"},
		Sources: sources(b, config.Item{Kind: "syslog", Spec: &syslog.Spec{Listen: fmt.Sprintf("udp://127.0.0.1:%d", port), Rate: -1}})}
	d, err := New(context.Background(), Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	conn := dialWhenBound(b, port)
	defer conn.Close()
	cpu0 := processCPU(b)
	b.ResetTimer()
	start := time.Now()
	for i, l := range lines {
		if _, err := conn.Write([]byte(l)); err != nil {
			b.Fatal(err)
		}
		if i%(rate/1000) == 0 { // pace: lines sent so far against the time they were due
			if due := start.Add(time.Duration(i) * time.Second / rate); time.Until(due) > 0 {
				time.Sleep(time.Until(due))
			}
		}
	}
	finish(b, d, cpu0, time.Now().Add(30*time.Second), cancel, done)
}

// finish waits until the daemon processed b.N events (failing at deadline, when set: the
// kernel dropped the rest), stops it and reports events/s and the CPU-µs per event spent
// since cpu0.
func finish(b *testing.B, d *Daemon, cpu0 time.Duration, deadline time.Time, cancel context.CancelFunc, done <-chan error) {
	for d.Stats().Processed < int64(b.N) {
		if !deadline.IsZero() && time.Now().After(deadline) {
			b.Fatalf("%d of %d lines processed 30 s after the last was sent: the kernel dropped the rest", d.Stats().Processed, b.N)
		}
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

// dialWhenBound connects a UDP socket to the loopback port once the daemon listens there
// (/proc/net/udp lists it; a datagram sent before would be lost).
func dialWhenBound(tb testing.TB, port int) *net.UDPConn {
	tb.Helper()
	testutil.WaitFor(tb, "the daemon's UDP listener", 10*time.Second, func() bool { return testutil.UDPBound(port) })
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

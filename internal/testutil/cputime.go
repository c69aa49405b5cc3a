package testutil

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// ThreadCPU measures the CPU time the calling goroutine spends on its OS thread, so that a
// benchmark's per-core rate does not depend on what else the machine runs: wall-clock
// rates on a shared 2-core machine vary threefold, CPU time hardly at all. Call Start
// after the benchmark's setup and Stop before reporting; the goroutine stays locked to its
// thread in between.
type ThreadCPU struct {
	start time.Duration
}

// Start locks the goroutine to its thread and notes the thread's CPU time.
func (c *ThreadCPU) Start(tb testing.TB) {
	runtime.LockOSThread()
	c.start = threadCPU(tb)
}

// Stop returns the CPU time used since Start and unlocks the thread.
func (c *ThreadCPU) Stop(tb testing.TB) time.Duration {
	d := threadCPU(tb) - c.start
	runtime.UnlockOSThread()
	return d
}

func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProcessCPU measures the CPU time of the whole process (every thread: garbage collection
// and helpers included), for end-to-end figures such as lines per CPU-second of a scan.
type ProcessCPU struct {
	start time.Duration
}

// Start notes the process's CPU time.
func (c *ProcessCPU) Start(tb testing.TB) { c.start = processCPU(tb) }

// Stop returns the CPU time used since Start.
func (c *ProcessCPU) Stop(tb testing.TB) time.Duration { return processCPU(tb) - c.start }

func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package proc

import (
	"os"
	"testing"
	"time"
)

// TestSelf reads this test process: CPU time grows with work, the peak resident set is at
// least what a 64 MiB buffer touched, a running process is alive and a gone one is not.
func TestSelf(t *testing.T) {
	pid := os.Getpid()
	before, err := CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Work until the clock ticks (10 ms) show it, on a loaded machine too.
	buf := make([]byte, 64<<20)
	var after time.Duration
	for deadline := time.Now().Add(60 * time.Second); after-before < 50*time.Millisecond && time.Now().Before(deadline); {
		for i := range buf {
			buf[i]++
		}
		if after, err = CPU(pid); err != nil {
			t.Fatal(err)
		}
	}
	if after-before < 50*time.Millisecond {
		t.Errorf("CPU grew by %v in a minute of work", after-before)
	}
	rss, err := PeakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss < 64<<20 {
		t.Errorf("peak RSS %d bytes, below the 64 MiB touched", rss)
	}
	if !Alive(pid) {
		t.Error("this process is not alive")
	}
	if _, err := CPU(1 << 30); err == nil || Alive(1<<30) {
		t.Error("a process that does not exist has a CPU time or is alive")
	}
}

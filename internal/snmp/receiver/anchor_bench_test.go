package receiver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// BenchmarkAnchorSnmptrapdBurst sends the burst of BenchmarkReceiveBurst to net-snmp's
// snmptrapd (logging to its standard output, no MIBs, no handlers: its cheapest setup)
// and counts what it logged. The paced, numbered comparison, with snmptt too, is
// go run ./bench/snmptrap (bench/snmptrap/README.md). It asks for the
// same 8 MiB socket buffer as hsmwatch (serverRecvBuf; the kernel caps it at
// net.core.rmem_max, which hsmwatch passes as root with SO_RCVBUFFORCE). Losses are
// reported, not failed: they are the anchor's.
func BenchmarkAnchorSnmptrapdBurst(b *testing.B) {
	bin := testutil.Tool(b, "snmptrapd")
	dir := b.TempDir()
	conf := filepath.Join(dir, "snmptrapd.conf")
	if err := os.WriteFile(conf, []byte("disableAuthorization yes\nauthCommunity log "+community+"\n[snmp] serverRecvBuf 8388608\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testutil.FreeUDPPort(b))
	ctx, cancel := context.WithCancel(context.Background())
	set := newBenchSet(b, false)
	counter := &markerCounter{marker: []byte(benchHost + ":")}
	cmd := exec.CommandContext(ctx, bin, "-f", "-Lo", "-n", "-On", "-C", "-c", conf, "-M", dir, "-m", "", "udp:"+addr)
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+dir, "HOME="+dir)
	cmd.Stdout, cmd.Stderr = counter, counter
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	testutil.WaitFor(b, "snmptrapd to start", 10*time.Second, func() bool { return counter.started.Load() })
	ua, _ := net.ResolveUDPAddr("udp", addr)
	conn, err := net.DialUDP("udp", nil, ua)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		for j := range burst {
			conn.Write(set.packets[j%len(set.packets)])
		}
		elapsed += waitCount(b, &counter.n, uint64(i+1)*burst).Sub(start)
	}
	b.StopTimer()
	got := counter.n.Load()
	b.ReportMetric(float64(got)/elapsed.Seconds(), "traps/s")
	b.ReportMetric(float64(uint64(b.N)*burst-got), "lost")
}

// markerCounter counts the occurrences of marker in a process's output.
type markerCounter struct {
	marker  []byte
	mu      sync.Mutex
	tail    []byte
	n       atomic.Uint64
	started atomic.Bool
}

func (c *markerCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf := append(c.tail, p...)
	if !c.started.Load() && strings.Contains(string(buf), "NET-SNMP version") {
		c.started.Store(true)
	}
	c.n.Add(uint64(bytes.Count(buf, c.marker)))
	// Keep a tail shorter than the marker, so that a marker split across writes is
	// counted once.
	keep := min(len(buf), len(c.marker)-1)
	c.tail = append(c.tail[:0], buf[len(buf)-keep:]...)
	return len(p), nil
}

package snmptrap

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// burst is how many traps one benchmark iteration sends back to back: the DESIGN.md
// figure at which gosnmp's TrapListener with a 1 ms handler lost 98 %.
const burst = 20000

// BenchmarkReceiveBurst sends bursts of v2c Luna traps over loopback as fast as one
// socket can and waits until every one is an event. It reports traps/s (from the first
// send to the last event) and fails on any loss: a datagram the kernel dropped is never
// counted, so a loss shows as events missing when the receiver goes quiet.
//
//	go test -run '^$' -bench ReceiveBurst -benchtime 1x ./internal/source/snmptrap
func BenchmarkReceiveBurst(b *testing.B) {
	benchBurst(b, func(ev *event.Event) {})
}

// BenchmarkReceiveBurstSlowEmit is the same burst with a sink that takes 50 µs per
// event: the queue absorbs the burst while the sink catches up.
func BenchmarkReceiveBurstSlowEmit(b *testing.B) {
	benchBurst(b, func(ev *event.Event) {
		for t := time.Now(); time.Since(t) < 50*time.Microsecond; {
		}
	})
}

func benchBurst(b *testing.B, sink func(*event.Event)) {
	r, err := New(Config{Addr: "127.0.0.1:0", Communities: anySource(community)})
	if err != nil {
		b.Fatal(err)
	}
	var events atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(ev *event.Event) {
			sink(ev)
			events.Add(1)
		})
	}()
	defer func() {
		cancel()
		<-done
	}()
	pkt := v2cPacket(b, community, gosnmp.SNMPv2Trap,
		lunaVars(oidNTLS, "[myLuna:192.168.0.101 / 2012 Feb 29 12:05:01 / messages / NTLS[1234] / 1]"))
	conn, err := net.DialUDP("udp", nil, r.Addr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var elapsed time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := uint64(i+1) * burst
		start := time.Now()
		for range burst {
			if _, err := conn.Write(pkt); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += waitCount(b, &events, want).Sub(start)
	}
	b.StopTimer()
	s := r.Stats()
	b.ReportMetric(float64(uint64(b.N)*burst)/elapsed.Seconds(), "traps/s")
	b.ReportMetric(float64(uint64(b.N)*burst-events.Load()), "lost")
	if s.Events != uint64(b.N)*burst || s.RejectedTotal() != 0 {
		b.Errorf("sent %d, events %d, stats %+v", uint64(b.N)*burst, events.Load(), s)
	}
}

// waitCount waits until n reaches want, or until it has not moved for 2 s (what is
// missing then is lost), and returns when it last moved.
func waitCount(b *testing.B, n *atomic.Uint64, want uint64) time.Time {
	last, since := n.Load(), time.Now()
	for {
		cur := n.Load()
		if cur != last {
			last, since = cur, time.Now()
		}
		if cur >= want || time.Since(since) > 2*time.Second {
			return since
		}
		time.Sleep(200 * time.Microsecond)
	}
}

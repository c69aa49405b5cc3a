package receiver

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// burst is how many traps one benchmark iteration sends back to back: the figure of
// the project's design notes at which gosnmp's TrapListener with a 1 ms handler lost 98 %.
const burst = 20000

// benchHost is the appliance the benchmark traps come from (their ssLogReference's host).
const benchHost = "luna-0042"

// benchSet is what the benchmarks send: the six Luna notifications, asserting and
// clearing (12 traps, each classified by its own rule of luna-traps.yaml), named by the
// test MIB the way the daemon names them with --mibs, and the full shipped catalog.
type benchSet struct {
	table   *mib.Table
	cat     *classify.Catalog
	packets [][]byte
	rules   []string // the rule each packet must be classified by
	cfg     Config
}

// newBenchSet builds the 12 packets as v2c traps (v3 false) or as SNMPv3 authPriv
// (SHA, AES-128) traps from senderEngine.
func newBenchSet(tb testing.TB, v3 bool) *benchSet {
	tb.Helper()
	s := &benchSet{table: mib.Builtin()}
	if err := s.table.Load("testdata/mibs"); err != nil {
		tb.Fatal(err)
	}
	var err error
	if s.cat, err = classify.Load(); err != nil {
		tb.Fatal(err)
	}
	s.cfg = Config{Communities: anySource(community), MIB: s.table}
	if v3 {
		// The same packets are sent again and again: without NoTimeliness all but the
		// first of each would be dropped as replays.
		s.cfg = Config{MinLevel: AuthPriv, MIB: s.table, Users: []User{{User: privUser, EngineIDs: [][]byte{senderEngine}, NoTimeliness: true}}}
	}
	rules := map[string]string{"fanAttentionNotify": "fan", "powerSupplyAttentionNotify": "power-supply",
		"motherboardAttentionNotify": "motherboard", "diskDriveAttentionNotify": "disk-drive",
		"ntlsAttentionNotify": "ntls", "cryptoAttentionNotify": "crypto"}
	procs := map[string]string{"fanAttentionNotify": "ipmievd", "powerSupplyAttentionNotify": "ipmievd",
		"motherboardAttentionNotify": "ipmievd", "diskDriveAttentionNotify": "smartd",
		"ntlsAttentionNotify": "NTLS", "cryptoAttentionNotify": "lunalogd"}
	for _, name := range []string{"fanAttentionNotify", "powerSupplyAttentionNotify", "motherboardAttentionNotify",
		"diskDriveAttentionNotify", "ntlsAttentionNotify", "cryptoAttentionNotify"} {
		oid, ok := s.table.Resolve("SAFENET-APPLIANCE-MIB::" + name)
		if !ok {
			tb.Fatalf("no OID for %s", name)
		}
		for _, flag := range []string{"1", "0"} {
			ref := "[" + benchHost + ":192.168.0.101 / messages / 2026 Nov 22 12:05:01 / " + procs[name] + "[" +
				strconv.Itoa(1000+len(s.packets)) + "] / " + flag + "]"
			vars := lunaVars(oid, ref)
			if v3 {
				s.packets = append(s.packets, v3Packet(tb, privUser, senderEngine, 3, 1000, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
			} else {
				s.packets = append(s.packets, v2cPacket(tb, community, gosnmp.SNMPv2Trap, vars))
			}
			rule := "luna.trap." + rules[name]
			if flag == "0" {
				rule += "-clear"
			}
			if _, ok := s.cat.Rule(rule); !ok {
				tb.Fatalf("the catalog has no rule %s", rule)
			}
			s.rules = append(s.rules, rule)
		}
	}
	return s
}

// BenchmarkReceiveBurst sends bursts of v2c Luna traps (the six notifications, asserting
// and clearing) over loopback as fast as one socket can and waits until every one is an
// event classified by the full catalog, as hsmwatch trapd does. It reports traps/s (from
// the first send to the last event) and fails on any loss or any trap the catalog did not
// classify: a datagram the kernel dropped is never counted, so a loss shows as events
// missing when the receiver goes quiet. Rates over time, with every trap numbered and the
// anchors in the same run: go run ./bench/receiver.
//
//	go test -run '^$' -bench ReceiveBurst -benchtime 1x ./internal/snmp/receiver
func BenchmarkReceiveBurst(b *testing.B) {
	benchBurst(b, newBenchSet(b, false), func(ev *event.Event) {})
}

// BenchmarkReceiveBurstV3 is BenchmarkReceiveBurst with SNMPv3 authPriv traps (SHA,
// AES-128) from an allowed sender engine ID: each is authenticated (HMAC) and decrypted
// before it is decoded (the same packets are sent again and again, so the user has
// NoTimeliness: no replay window).
func BenchmarkReceiveBurstV3(b *testing.B) {
	benchBurst(b, newBenchSet(b, true), func(ev *event.Event) {})
}

// BenchmarkReceiveBurstSlowEmit is the v2c burst with a sink that takes 50 µs per event:
// the queue absorbs the burst while the sink catches up.
func BenchmarkReceiveBurstSlowEmit(b *testing.B) {
	benchBurst(b, newBenchSet(b, false), func(ev *event.Event) {
		for t := time.Now(); time.Since(t) < 50*time.Microsecond; {
		}
	})
}

func benchBurst(b *testing.B, set *benchSet, sink func(*event.Event)) {
	cfg := set.cfg
	cfg.Addr = "127.0.0.1:0"
	r, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var events, unclassified atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(ev *event.Event) {
			if rule := set.cat.Classify(ev); rule == nil || !ruleOf(ev, rule.ID) {
				unclassified.Add(1)
			}
			sink(ev)
			events.Add(1)
		})
	}()
	defer func() {
		cancel()
		<-done
	}()
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
		for j := range burst {
			if _, err := conn.Write(set.packets[j%len(set.packets)]); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += waitCount(b, &events, want).Sub(start)
	}
	b.StopTimer()
	s := r.Stats()
	b.ReportMetric(float64(uint64(b.N)*burst)/elapsed.Seconds(), "traps/s")
	b.ReportMetric(float64(uint64(b.N)*burst-events.Load()), "lost")
	// What the kernel dropped before the receiver read it is the figure "lost" reports
	// (it grows when the machine is loaded and the socket buffer fills); a packet that
	// was read and came to nothing, was refused, or was left unclassified is a fault.
	if s.Events != s.Packets || s.Events != events.Load() || s.RejectedTotal() != 0 || unclassified.Load() != 0 {
		b.Errorf("sent %d, events %d, unclassified %d, stats %+v", uint64(b.N)*burst, events.Load(), unclassified.Load(), s)
	}
}

// ruleOf checks that the rule the catalog chose is the one the trap's notification and
// flag call for (luna.trap.CATEGORY, -clear for a de-assert).
func ruleOf(ev *event.Event, id string) bool {
	return ev.Rule == id && ev.Notification == ev.Fields.Text("trap") &&
		(ev.Fields.Text("log_assert") == "0") == (len(id) > 6 && id[len(id)-6:] == "-clear")
}

// BenchmarkHandle is the CPU cost of one trap on the receiver's path without the
// socket and the queue: copy the datagram (as the receive loop does), decode it
// (authenticate and decrypt for v3), build the event, classify it with the full catalog.
// One goroutine: ns/op is per core. Profile it with
//
//	go test -run '^$' -bench Handle/v3 -benchtime 2s -cpuprofile cpu.out ./internal/snmp/receiver
func BenchmarkHandle(b *testing.B) {
	for _, v := range []struct {
		name string
		v3   bool
	}{{"v2c", false}, {"v3authPriv", true}} {
		b.Run(v.name, func(b *testing.B) {
			set := newBenchSet(b, v.v3)
			cfg := set.cfg
			cfg.Addr = "127.0.0.1:0"
			r, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			peer := netip.MustParseAddrPort("127.0.0.1:40000")
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			for i := 0; i < b.N; i++ {
				k := i % len(set.packets)
				pkt := append([]byte(nil), set.packets[k]...)
				res := r.handle(r.set.Load(), pkt, peer, time.Now())
				if res.ev == nil {
					b.Fatalf("packet %d refused: %+v", k, r.Stats())
				}
				if rule := set.cat.Classify(res.ev); rule == nil || rule.ID != set.rules[k] {
					b.Fatalf("packet %d classified as %v, want %s", k, rule, set.rules[k])
				}
			}
			b.StopTimer()
			// The process's CPU time (the garbage collector's included) per trap: on a
			// shared machine ns/op is wall time and moves with the load; this does not.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/trap")
		})
	}
}

// processCPU is the CPU time (user + system) of the whole test process.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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

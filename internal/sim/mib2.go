package sim

import (
	"strconv"
	"time"
)

// netIf is one network interface of the interfaces group.
type netIf struct {
	name   string
	ifType int     // IANAifType: 6 ethernetCsmacd, 24 softwareLoopback
	mtu    int     // bytes
	speed  uint32  // bits per second
	mac    string  // 6 bytes, "" for the loopback
	rate   float64 // bytes per second received, on average
}

// macOf is a locally administered MAC address derived from the seed.
func macOf(seed uint64, n int) string {
	h := mix(seed ^ uint64(n+1)*0x5bd1e995)
	b := []byte{0x02, byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24), byte(h >> 32)}
	return string(b)
}

// buildInterfaces fills ifNumber and ifTable: counters grow from the last boot.
func buildInterfaces(b *base, t *table, ifs []netIf) {
	b.set(t.get("ifNumber"), "", len(ifs))
	since := func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.boot }
	for i, n := range ifs {
		idx := strconv.Itoa(i + 1)
		s := seedOf(b.seed, n.name)
		counter := func(col string, rate float64) {
			c := Counter{Seed: seedOf(s, col), Rate: rate}
			b.setFn(t.get(col), idx, func(now time.Time) any { return uint32(c.Since(since(), now)) })
		}
		b.set(t.get("ifIndex"), idx, i+1)
		b.set(t.get("ifDescr"), idx, n.name)
		b.set(t.get("ifType"), idx, n.ifType)
		b.set(t.get("ifMtu"), idx, n.mtu)
		speed := n.speed
		if n.ifType == 24 {
			speed = 10000000
		}
		b.set(t.get("ifSpeed"), idx, speed)
		b.set(t.get("ifPhysAddress"), idx, n.mac)
		b.set(t.get("ifAdminStatus"), idx, 1)
		b.set(t.get("ifOperStatus"), idx, 1)
		b.set(t.get("ifLastChange"), idx, 0)
		counter("ifInOctets", n.rate)
		counter("ifInUcastPkts", n.rate/400)
		counter("ifInNUcastPkts", n.rate/40000)
		counter("ifInDiscards", 0)
		counter("ifInErrors", 0)
		counter("ifInUnknownProtos", 0)
		counter("ifOutOctets", n.rate*1.3)
		counter("ifOutUcastPkts", n.rate*1.3/400)
		counter("ifOutNUcastPkts", n.rate/50000)
		counter("ifOutDiscards", 0)
		counter("ifOutErrors", 0)
		b.set(t.get("ifOutQLen"), idx, 0)
		b.set(t.get("ifSpecific"), idx, ".0.0")
	}
}

package state

import (
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// BenchmarkObserve feeds classified events (nine tenths noise, alarms opening and
// clearing, Dinamo session lines) to a tracker: the state stage's cost per event.
func BenchmarkObserve(b *testing.B) {
	f := newFeeder(&testing.T{}, Config{})
	var evs []*event.Event
	hsm := []string{psuFail, fanLow, lunash, psuOK, fanBack, almHot, almCool,
		"2022/01/11 22:31:54 00000052 00000199 EE4E6C03 172.17.0.1 auth try, c: 21, tls: y, 2|172.17.0.1 172.17.0.2:4433 -"}
	noise := testutil.NoiseLines()
	for i := 0; len(evs) < 10000; i++ {
		for k := 0; k < 9; k++ {
			evs = append(evs, f.event(noise[(i*9+k)%len(noise)], time.Time{}))
		}
		evs = append(evs, f.event(hsm[i%len(hsm)], time.Time{}))
	}
	tr, err := New(Config{}, f.cat)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := evs[i%len(evs)]
		ev.Time = t0.Add(time.Duration(i) * time.Millisecond)
		tr.Observe(ev)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

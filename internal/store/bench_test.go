package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// BenchmarkWriteSQLite measures Write throughput on the embedded store: one op is one
// batch of 500 typical classified events with idempotency keys, committed (fsync'd) in
// one transaction. It reports events/s.
//
//	go test -run '^$' -bench WriteSQLite -benchtime 20x ./internal/store/
func BenchmarkWriteSQLite(b *testing.B) {
	const batch = 500
	st, err := Open(context.Background(), b.TempDir(), Options{Site: "bench",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	recs := make([]component.Record, batch)
	evs := make([]event.Event, batch)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		b.StopTimer()
		for i := range recs {
			seq := n*batch + i
			evs[i] = event.Event{Time: t0.Add(time.Duration(seq) * time.Millisecond), Host: fmt.Sprint("luna", seq%20),
				Source: event.SourceLunaSyslog, Facility: "local5", Severity: "warning", Process: "NTLS", PID: 4242,
				Message: "Info : 0 : Incoming connection request... : 10.0.0.7/50432", Component: "ntls",
				Class: "expected", Rule: "ntls.connect", Title: "NTLS connection", Level: "info",
				Raw: fmt.Sprintf("2026 Mar  1 00:00:%02d local5 warning NTLS[4242]: Info : 0 : Incoming connection request... : 10.0.0.7/50432 seq=%d", seq%60, seq)}
			evs[i].Fields.SetString("client_ip", "10.0.0.7")
			evs[i].Fields.SetInt("port", 50432)
			recs[i] = component.Record{Event: &evs[i], Key: fmt.Sprintf("file:/var/log/hsm.log:%d", seq)}
		}
		b.StartTimer()
		if _, err := st.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

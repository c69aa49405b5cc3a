package store

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
)

// The write benchmarks store batches of the mixed corpus (nine tenths generic syslog
// noise, one tenth HSM lines: testutil.MixedLines), parsed and classified with the
// shipped catalog, each with a followed file's idempotency key, as the daemon's pipeline
// hands them to the store: one op is one batch committed in one transaction. They report
// events/s (wall, disturbed by whatever else the machine runs) and cpu-µs/event (the
// process's CPU time per event stored, the figure to compare).
//
//	go test -run '^$' -bench 'Write(SQLite|Postgres)' -benchtime 200x ./internal/store/
//
// A CPU profile of the write path: add -cpuprofile /tmp/write.prof and read it with
// go tool pprof -top /tmp/write.prof.
func BenchmarkWriteSQLite(b *testing.B) {
	st, err := Open(context.Background(), b.TempDir(), Options{Site: "bench",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchWrite(b, st, 500)
}

func BenchmarkWritePostgres(b *testing.B) {
	dsn := pgtest.Start(b)
	st, err := Open(context.Background(), dsn, Options{Site: "bench",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchWrite(b, st, 500)
}

// mixedEvents parses and classifies n lines of the mixed corpus.
func mixedEvents(tb testing.TB, n int) []event.Event {
	tb.Helper()
	hsm, err := testutil.HSMLines(filepath.Dir(testutil.SharedPath(tb, "corpus")))
	if err != nil {
		tb.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		tb.Fatal(err)
	}
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		tb.Fatal(err)
	}
	lines := testutil.MixedLines(hsm, n, time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC))
	evs := make([]event.Event, n)
	for i, l := range lines {
		parse.Into(p, l, &evs[i])
		evs[i].Fields = append(event.Fields(nil), evs[i].Fields...) // the parser reuses its slice
		evs[i].Input = "/var/log/hsm/messages:" + strconv.Itoa(i+1)
		cat.Classify(&evs[i])
	}
	return evs
}

// benchWrite writes the mixed corpus in batches of batch records, keyed as a followed
// file keys its lines ("dev:inode:fingerprint:offset").
func benchWrite(b *testing.B, st Store, batch int) {
	const distinct = 20000 // events parsed once, stored again and again under new keys
	evs := mixedEvents(b, distinct)
	recs := make([]component.Record, batch)
	ctx := context.Background()
	var offset int64
	cpu0 := processCPU(b)
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for i := range recs {
			seq := n*batch + i
			recs[i] = component.Record{Event: &evs[seq%distinct],
				Key: "2049:1835017:9f2c4e1d7a3b5c6e:" + strconv.FormatInt(offset, 10)}
			offset += int64(len(evs[seq%distinct].Raw)) + 1
		}
		if _, err := st.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	cpu := processCPU(b) - cpu0
	events := float64(b.N * batch)
	b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
}

// processCPU is the CPU time (user and system) of this process so far: the driver's work
// runs on the calling goroutine (SQLite) or in the server (PostgreSQL: not counted).
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Command store measures the event store for issue 16: how fast `hsmwatch serve` stores
// a followed file (ingest), and how fast the queries of the API and the dashboard answer
// on a large store (queries). Both run SQLite and PostgreSQL (a private server started
// like the tests' one: internal/testutil/pgtest).
//
//	go build -o /tmp/hsmwatch-store ./cmd/hsmwatch
//	go run ./bench/store ingest -bin /tmp/hsmwatch-store -lines 1000000 -backend sqlite
//	go run ./bench/store queries -events 10000000 -backend sqlite
//
// Results go to bench/README.md ("Ingest into the store (issue 16)").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/bench/internal/proc"
	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/state"
	"github.com/hsmwatch/hsmwatch/internal/store"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"github.com/hsmwatch/hsmwatch/internal/testutil/pgtest"
	"github.com/jackc/pgx/v5"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: store ingest|queries [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "ingest":
		err = ingest(os.Args[2:])
	case "queries":
		err = queries(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want ingest or queries)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		os.Exit(1)
	}
}

// sharedDir finds shared/ beside the checkout (the corpus of the HSM lines).
func sharedDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// corpusStart is the time of the corpus' first noise line.
var corpusStart = time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)

// postgres starts a private server and returns the URL of a new database on it. Its
// shared buffers are PostgreSQL's default (128 MB) rather than the tests' 16 MB, which a
// store of a million events outgrows (a fifth of the rate lost to evicting index pages).
func postgres(ctx context.Context) (string, func(), error) {
	srv, err := pgtest.Launch(ctx, "shared_buffers=128MB")
	if err != nil {
		return "", nil, err
	}
	c, err := pgx.Connect(ctx, srv.DSN("postgres"))
	if err != nil {
		srv.Stop()
		return "", nil, err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE bench"); err != nil {
		srv.Stop()
		return "", nil, err
	}
	return srv.DSN("bench"), func() { srv.Stop() }, nil
}

// ingest runs hsmwatch serve following a file of the mixed corpus into the store and
// reports the rate, the CPU time per event and the peak RSS of the daemon.
func ingest(argv []string) error {
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	bin := fs.String("bin", "/tmp/hsmwatch-store", "the hsmwatch binary")
	lines := fs.Int("lines", 1_000_000, "lines of the mixed corpus")
	backend := fs.String("backend", "sqlite", "sqlite or postgres")
	fs.Parse(argv)
	ctx := context.Background()
	work, err := os.MkdirTemp("", "bench-store-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	shared, err := sharedDir()
	if err != nil {
		return err
	}
	hsm, err := testutil.HSMLines(shared)
	if err != nil {
		return err
	}
	logFile := filepath.Join(work, "messages")
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	if err := testutil.WriteLines(f, testutil.MixedLines(hsm, *lines, corpusStart)); err != nil {
		return err
	}
	f.Close()
	dsn := "sqlite:" + filepath.Join(work, "state", "hsmwatch.db")
	if *backend == "postgres" {
		var stop func()
		if dsn, stop, err = postgres(ctx); err != nil {
			return err
		}
		defer stop()
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`state_dir: %s
store:
  dsn: %q
http:
  listen: 127.0.0.1:%d
sources:
  files:
    - path: %s
      format: auto
      start: beginning
`, filepath.Join(work, "state"), dsn, port, logFile)
	cfgFile := filepath.Join(work, "hsmwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return err
	}
	daemonLog, err := os.Create(filepath.Join(work, "daemon.log"))
	if err != nil {
		return err
	}
	defer daemonLog.Close()
	cmd := exec.Command(*bin, "serve", "--config", cfgFile)
	cmd.Stdout, cmd.Stderr = daemonLog, daemonLog
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	metrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	var first time.Time
	var cpuFirst time.Duration
	for {
		if cmd.ProcessState != nil {
			return errors.New("hsmwatch exited")
		}
		n, err := metric(metrics, "hsmwatch_pipeline_events_processed_total")
		if err == nil && n > 0 && first.IsZero() {
			first = time.Now()
			cpuFirst, _ = proc.CPU(cmd.Process.Pid)
		}
		if err == nil && n >= float64(*lines) {
			break
		}
		if time.Since(t0) > 30*time.Minute {
			return fmt.Errorf("only %v of %d events stored after 30 minutes", n, *lines)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wall := time.Since(first)
	cpu, err := proc.CPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	rss, err := proc.PeakRSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	dropped, _ := metric(metrics, "hsmwatch_events_dropped_total")
	n := float64(*lines)
	fmt.Printf("%s: %d events stored; from the first stored event: %.1f s wall, %.0f events/s, %.1f CPU-s, %.1f CPU-µs/event (%.1f CPU-µs/event counting the start), peak RSS %d MiB, dropped %v\n",
		*backend, *lines, wall.Seconds(), n/wall.Seconds(), (cpu - cpuFirst).Seconds(),
		float64((cpu-cpuFirst).Microseconds())/n, float64(cpu.Microseconds())/n, rss>>20, dropped)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// metric reads one unlabelled series from a /metrics page.
func metric(url, name string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s", name)
}

// queries fills a store with the mixed corpus (parsed, classified, keyed as a followed
// file's lines), alarms and samples, then times the queries the API issues.
func queries(argv []string) error {
	fs := flag.NewFlagSet("queries", flag.ExitOnError)
	events := fs.Int("events", 10_000_000, "events in the store")
	backend := fs.String("backend", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "an existing store to fill up to -events and query (default: a new one)")
	reps := fs.Int("reps", 50, "runs of each query")
	budget := fs.Duration("budget", 30*time.Second, "a query stops after this much time, once it ran 5 times")
	writers := fs.Int("writers", 1, "goroutines filling the store (PostgreSQL takes several)")
	fs.Parse(argv)
	ctx := context.Background()
	if *dsn == "" {
		if *backend == "postgres" {
			d, stop, err := postgres(ctx)
			if err != nil {
				return err
			}
			defer stop()
			*dsn = d
		} else {
			dir, err := os.MkdirTemp("", "bench-store-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			*dsn = "sqlite:" + filepath.Join(dir, "hsmwatch.db")
		}
	}
	st, err := store.Open(ctx, *dsn, store.Options{Site: "bench", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer st.Close()
	t0 := time.Now()
	if err := fill(ctx, st, *events, *writers); err != nil {
		return err
	}
	fmt.Printf("%s: filled to %d events in %s\n", *backend, *events, time.Since(t0).Round(time.Second))
	return timeQueries(ctx, st, *reps, *budget)
}

// fill writes the mixed corpus until the store holds n events: 1,000 per batch, times
// advancing one second per 100 lines (about 28 hours per 10 M), hosts from the corpus.
func fill(ctx context.Context, st store.Store, n, writers int) error {
	have, err := countEvents(ctx, st)
	if err != nil {
		return err
	}
	shared, err := sharedDir()
	if err != nil {
		return err
	}
	hsm, err := testutil.HSMLines(shared)
	if err != nil {
		return err
	}
	cat, err := classify.Load()
	if err != nil {
		return err
	}
	const batch = 1000
	type job struct{ from int }
	jobs := make(chan job)
	errs := make(chan error, writers)
	for range writers {
		go func() {
			p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: corpusStart})
			if err != nil {
				errs <- err
				return
			}
			recs := make([]component.Record, batch)
			for j := range jobs {
				start := corpusStart.Add(time.Duration(j.from/100) * time.Second)
				for i, l := range testutil.MixedLines(hsm, batch, start) {
					ev := &event.Event{}
					parse.Into(p, l, ev)
					ev.Fields = append(event.Fields(nil), ev.Fields...)
					ev.Input = "/var/log/hsm/messages:" + strconv.Itoa(j.from+i+1)
					cat.Classify(ev)
					recs[i] = component.Record{Event: ev, Key: "2049:1835017:9f2c4e1d7a3b5c6e:" + strconv.Itoa(j.from+i)}
				}
				if _, err := st.Write(ctx, recs); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for from := int(have); from < n; from += batch {
		if from%1_000_000 == 0 {
			fmt.Fprintf(os.Stderr, "fill: %d events\n", from)
		}
		jobs <- job{from}
	}
	close(jobs)
	for range writers {
		if err := <-errs; err != nil {
			return err
		}
	}
	// Alarms (1,000, a tenth open) and samples (10 hosts, 5 metrics, a minute apart).
	var alarms []state.Alarm
	for i := range 1000 {
		a := state.Alarm{ID: fmt.Sprintf("luna%d/k%d", i%10, i), Host: fmt.Sprintf("luna%d", i%10), Key: fmt.Sprintf("k%d", i),
			Rule: "luna.bench", Title: "bench", Component: "hsm", Level: "major", Message: "bench alarm",
			Opened: corpusStart.Add(time.Duration(i) * time.Minute), LastSeen: corpusStart.Add(time.Duration(i) * time.Minute), Asserts: 1}
		if i%10 != 0 {
			a.Cleared, a.ClearedBy = a.Opened.Add(time.Minute), "luna.bench.clear"
		}
		alarms = append(alarms, a)
	}
	if err := st.PutAlarms(ctx, alarms); err != nil {
		return err
	}
	var samples []store.Sample
	for i := range 100_000 {
		samples = append(samples, store.Sample{Host: fmt.Sprintf("luna%d", i%10), Metric: fmt.Sprintf("m%d", i/10%5),
			Value: float64(i), Time: corpusStart.Add(time.Duration(i/50) * time.Minute)})
	}
	return st.PutSamples(ctx, samples)
}

// countEvents sums the per-host counts (the HSM overview's query).
func countEvents(ctx context.Context, st store.Store) (int64, error) {
	hs, err := st.HSMs(ctx, store.HSMFilter{})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, h := range hs {
		for _, c := range h.Events {
			n += c
		}
	}
	return n, nil
}

// timeQueries runs each query reps times (fewer when they take more than budget, at
// least 5) and prints p50 and p99 (of 50 runs: the highest).
func timeQueries(ctx context.Context, st store.Store, reps int, budget time.Duration) error {
	page, err := st.Events(ctx, store.EventFilter{Limit: 1})
	if err != nil || len(page.Events) == 0 {
		return fmt.Errorf("no events: %v", err)
	}
	newest := page.Events[0]
	mid := corpusStart.Add(time.Duration(newest.Event.Time.Sub(corpusStart)) / 2)
	deep := ""
	type query struct {
		name string
		run  func() error
	}
	events := func(f store.EventFilter) func() error {
		return func() error { _, err := st.Events(ctx, f); return err }
	}
	qs := []query{
		{"events, newest 100", events(store.EventFilter{Limit: 100})},
		{"events of the site, newest 100", events(store.EventFilter{Site: "bench", Limit: 100})},
		{"events of host myLuna (HSM lines), 100", events(store.EventFilter{Host: "myLuna", Limit: 100})},
		{"events of host web01 (noise), 100", events(store.EventFilter{Host: "web01", Limit: 100})},
		{"events level >= major, 100", events(store.EventFilter{MinLevel: "major", Limit: 100})},
		{"events component ntls, 100", events(store.EventFilter{Component: "ntls", Limit: 100})},
		{"events of one hour in the middle, 100", events(store.EventFilter{Since: mid, Until: mid.Add(time.Hour), Limit: 100})},
		{"events text \"zeroized\", 100", events(store.EventFilter{Text: "zeroized", Limit: 100})},
		{"events page 20 (cursor), 100", func() error {
			f := store.EventFilter{Limit: 100, Cursor: deep}
			p, err := st.Events(ctx, f)
			if err != nil {
				return err
			}
			deep = p.Next
			return nil
		}},
		{"one event by id", events(store.EventFilter{ID: newest.ID / 2, Limit: 1})},
		{"open alarms", func() error { _, err := st.Alarms(ctx, store.AlarmFilter{Open: true}); return err }},
		{"recent alarms, 100", func() error { _, err := st.Alarms(ctx, store.AlarmFilter{Limit: 100}); return err }},
		{"HSMs (counts per host and level)", func() error { _, err := st.HSMs(ctx, store.HSMFilter{}); return err }},
		{"samples of one host", func() error { _, err := st.Samples(ctx, store.SampleFilter{Host: "luna3"}); return err }},
	}
	// The cursor query starts 19 pages down.
	for range 19 {
		p, err := st.Events(ctx, store.EventFilter{Limit: 100, Cursor: deep})
		if err != nil {
			return err
		}
		deep = p.Next
	}
	fmt.Printf("| query | runs | p50 | p99 |\n|---|---|---|---|\n")
	for _, q := range qs {
		var d []time.Duration
		began := time.Now()
		for r := 0; r < reps && (r < 5 || time.Since(began) < budget); r++ {
			t := time.Now()
			if err := q.run(); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			d = append(d, time.Since(t))
			if q.name == "events page 20 (cursor), 100" {
				deep = "" // the same page each time: start again 19 pages down
				for range 19 {
					p, _ := st.Events(ctx, store.EventFilter{Limit: 100, Cursor: deep})
					deep = p.Next
				}
			}
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("| %s | %d | %s | %s |\n", q.name, len(d), round(d[len(d)/2]), round(d[(len(d)*99+99)/100-1]))
	}
	return nil
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

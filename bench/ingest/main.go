// Command ingest measures hsmwatch against rsyslog, syslog-ng and syslog-ng's patterndb
// on the same corpus and the same UDP ladder, in one run:
//
//   - scan: "hsmwatch scan" (JSON out) against syslog-ng reading the same file through a
//     patterndb made from the shipped catalog, lines per CPU-second;
//   - file ingest: "hsmwatch serve" following the corpus into its SQLite store, events per
//     second (wall clock) and CPU per event, peak memory;
//   - UDP: each receiver (hsmwatch serve into SQLite, rsyslog imudp to a file, syslog-ng
//     udp to a file) takes the corpus at rising rates for a few seconds each; a step is
//     lossless when every line arrived (hsmwatch: stored).
//
// Each program is a private instance on loopback with its own configuration, pid file and
// work folder under a temporary directory; the system's services are never touched.
// The corpus is internal/benchcorpus's, the one the Go benchmarks use.
//
//	go run ./bench/ingest [-lines 400000] [-rates 10000,25000,50000,100000] [-seconds 3] [-readme]
//
// Needs rsyslog and syslog-ng (Debian rsyslog and syslog-ng-core). The two packages
// conflict: when syslog-ng is not installed, the harness unpacks syslog-ng-core
// ("apt-get download", "dpkg -x") into the user's cache folder and runs it from there
// (its libraries libivykis0, libnet1 and libpcre3 installed), or -syslog-ng-root names
// such a folder.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/benchcorpus"
	"github.com/hsmwatch/hsmwatch/internal/classify"
)

type options struct {
	lines   int
	rates   []int
	seconds float64
	rounds  int
	sngRoot string
	keep    bool
	readme  bool
}

type setup struct {
	dir, hsmwatch, rsyslogd, syslogng string
	sngModules, sngLibs               string // an unpacked syslog-ng-core
	corpus                            string
	lines                             []string
}

func main() {
	var o options
	var rates string
	flag.IntVar(&o.lines, "lines", 400_000, "lines in the corpus")
	flag.StringVar(&rates, "rates", "10000,25000,50000,100000", "UDP ladder, lines per second")
	flag.Float64Var(&o.seconds, "seconds", 3, "seconds each UDP step sends")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of the scan and patterndb measures (the median is kept)")
	flag.StringVar(&o.sngRoot, "syslog-ng-root", "", "folder where syslog-ng-core's package was unpacked (when syslog-ng is not installed)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder")
	flag.BoolVar(&o.readme, "readme", false, "write the results into bench/README.md")
	flag.Parse()
	for _, r := range strings.Split(rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "ingest: -rates: %q is not a rate\n", r)
			os.Exit(2)
		}
		o.rates = append(o.rates, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	s, err := prepare(ctx, o)
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(s.dir)
	} else {
		fmt.Println("work folder:", s.dir)
	}
	var r results
	r.lines = o.lines
	progress := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }

	for round := 0; round < o.rounds; round++ {
		v, err := scanHsmwatch(ctx, s)
		if err != nil {
			return err
		}
		r.scan = append(r.scan, v)
		progress("scan round %d: hsmwatch %.0f lines per CPU-second", round+1, v)
		v, err = scanPatternDB(ctx, s, round)
		if err != nil {
			return err
		}
		r.pdb = append(r.pdb, v)
		progress("scan round %d: syslog-ng patterndb %.0f lines per CPU-second", round+1, v)
	}
	if r.file, err = fileIngest(ctx, s); err != nil {
		return err
	}
	progress("file ingest: %.0f events/s, %.1f µs CPU per event, peak RSS %d MiB", r.file.perSecond(), r.file.cpuPerEvent(), r.file.rss>>20)

	for _, kind := range []string{"hsmwatch", "rsyslog", "syslog-ng"} {
		l, err := climb(ctx, s, o, kind, progress)
		if err != nil {
			return err
		}
		r.ladders = append(r.ladders, l)
	}
	out := r.table(machine())
	fmt.Print(out)
	if o.readme {
		return writeReadme(out)
	}
	return nil
}

// prepare makes the work folder, builds hsmwatch from the tree, finds the peers and
// writes the corpus.
func prepare(ctx context.Context, o options) (*setup, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hsmwatch-ingest-")
	if err != nil {
		return nil, err
	}
	s := &setup{dir: dir, hsmwatch: filepath.Join(dir, "hsmwatch")}
	build := exec.CommandContext(ctx, "go", "build", "-o", s.hsmwatch, "./cmd/hsmwatch")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building hsmwatch: %w", err)
	}
	if s.rsyslogd, err = lookPath("rsyslogd"); err != nil {
		return nil, fmt.Errorf("%w (Debian package rsyslog)", err)
	}
	if o.sngRoot == "" {
		if _, err := lookPath("syslog-ng"); err != nil {
			if o.sngRoot, err = unpackSyslogNG(ctx); err != nil {
				return nil, err
			}
		}
	}
	if o.sngRoot != "" {
		s.syslogng = filepath.Join(o.sngRoot, "usr/sbin/syslog-ng")
		s.sngLibs = filepath.Join(o.sngRoot, "usr/lib/syslog-ng")
		mods, _ := filepath.Glob(filepath.Join(s.sngLibs, "3.*"))
		if len(mods) == 0 {
			return nil, fmt.Errorf("-syslog-ng-root %s: no usr/lib/syslog-ng/3.* modules", o.sngRoot)
		}
		s.sngModules = mods[0]
	} else if s.syslogng, err = lookPath("syslog-ng"); err != nil {
		return nil, fmt.Errorf("%w (Debian package syslog-ng-core, or -syslog-ng-root)", err)
	}
	shared, err := benchcorpus.SharedDir(root)
	if err != nil {
		return nil, err
	}
	hsm, err := benchcorpus.HSMLines(shared)
	if err != nil {
		return nil, err
	}
	s.lines = benchcorpus.Mixed(o.lines, hsm)
	s.corpus = filepath.Join(dir, "corpus.log")
	return s, os.WriteFile(s.corpus, []byte(strings.Join(s.lines, "\n")+"\n"), 0o644)
}

// unpackSyslogNG unpacks Debian's syslog-ng-core into the user's cache folder (once) and
// returns where: the package conflicts with rsyslog, so the two cannot both be
// installed, and the harness runs syslog-ng from the unpacked files (its libraries
// libivykis0, libnet1 and libpcre3 installed; scripts/test.sh installs them).
func unpackSyslogNG(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	root := filepath.Join(cache, "hsmwatch-bench", "syslog-ng-core")
	if isFile(filepath.Join(root, "usr/sbin/syslog-ng")) {
		return root, nil
	}
	tmp, err := os.MkdirTemp("", "syslog-ng-core-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	dl := exec.CommandContext(ctx, "apt-get", "download", "syslog-ng-core")
	dl.Dir, dl.Stderr = tmp, os.Stderr
	if err := dl.Run(); err != nil {
		return "", fmt.Errorf("syslog-ng is not installed and apt-get download syslog-ng-core failed: %w", err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "syslog-ng-core_*.deb"))
	if len(debs) == 0 {
		return "", errors.New("apt-get download syslog-ng-core left no package")
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	if out, err := exec.CommandContext(ctx, "dpkg", "-x", debs[0], root).CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg -x %s: %w: %s", debs[0], err, out)
	}
	return root, nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(d, name); isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// scanHsmwatch runs "hsmwatch scan" over the corpus, JSON to /dev/null, and returns
// lines per CPU-second of the whole process (start-up included).
func scanHsmwatch(ctx context.Context, s *setup) (float64, error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	cmd := exec.CommandContext(ctx, s.hsmwatch, "scan", "--tz", "UTC", s.corpus)
	cmd.Stdout, cmd.Stderr = null, null
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("hsmwatch scan: %w", err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return float64(len(s.lines)) / cpu.Seconds(), nil
}

// scanPatternDB runs syslog-ng reading the corpus file through a patterndb made from
// the catalog (writePatternDB), one line out per line in with the rule found, and
// returns lines per CPU-second of the process (start-up included), measured when the
// last line is written.
func scanPatternDB(ctx context.Context, s *setup, round int) (float64, error) {
	dir := filepath.Join(s.dir, fmt.Sprintf("patterndb-%d", round))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	cat, err := classify.Load()
	if err != nil {
		return 0, err
	}
	pdb := filepath.Join(dir, "patterndb.xml")
	if _, err := writePatternDB(pdb, cat); err != nil {
		return 0, err
	}
	out := filepath.Join(dir, "out.log")
	conf := fmt.Sprintf(`@version: 3.38
options { stats-freq(0); keep-hostname(yes); log-fifo-size(100000); };
source s { file(%q follow-freq(0.1) log-iw-size(100000) log-fetch-limit(1000)); };
parser p { db-parser(file(%q)); };
destination d { file(%q template("${.classifier.rule_id}\n")); };
log { source(s); parser(p); destination(d); flags(flow-control); };
`, s.corpus, pdb, out)
	d := &daemon{name: "syslog-ng patterndb", count: (&lineCounter{path: out}).count}
	if d.cmd, err = syslogNG(ctx, s, dir, conf); err != nil {
		return 0, err
	}
	if err := start(ctx, d, filepath.Join(dir, "syslog-ng.log"), func() bool { return isFile(filepath.Join(dir, "syslog-ng.pid")) }); err != nil {
		return 0, err
	}
	defer d.stop()
	if _, err := waitCount(ctx, d, 0, len(s.lines), 10*time.Second); err != nil {
		return 0, err
	}
	return float64(len(s.lines)) / d.cpu().Seconds(), nil
}

// waitCount waits until the daemon's count reaches base+want, or has not moved for
// quiet; it returns the count above base.
func waitCount(ctx context.Context, d *daemon, base, want int, quiet time.Duration) (int, error) {
	last, moved := -1, time.Now()
	for {
		n, err := d.count()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", d.name, err)
		}
		n -= base
		if n >= want {
			return n, nil
		}
		if n != last {
			last, moved = n, time.Now()
		} else if time.Since(moved) > quiet {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ingest is one daemon's intake of n lines.
type ingest struct {
	n, got int
	wall   time.Duration
	cpu    time.Duration
	rss    int64
}

func (i ingest) perSecond() float64   { return float64(i.got) / max(i.wall.Seconds(), 1e-9) }
func (i ingest) cpuPerEvent() float64 { return float64(i.cpu.Microseconds()) / max(float64(i.got), 1) }

// fileIngest runs "hsmwatch serve" following a copy of the corpus into its SQLite store
// and waits until every line is stored; wall time from the start of the process.
func fileIngest(ctx context.Context, s *setup) (ingest, error) {
	file := filepath.Join(s.dir, "follow.log")
	if err := os.Link(s.corpus, file); err != nil {
		return ingest{}, err
	}
	t0 := time.Now()
	d, err := startHsmwatch(ctx, s, "file", file)
	if err != nil {
		return ingest{}, err
	}
	defer d.stop()
	got, err := waitCount(ctx, d, 0, len(s.lines), 60*time.Second)
	if err != nil {
		return ingest{}, err
	}
	r := ingest{n: len(s.lines), got: got, wall: time.Since(t0), cpu: d.cpu(), rss: d.peakRSS()}
	// The daemon's own events (its start, for one) are counted too: at least n.
	if got < len(s.lines) {
		return r, fmt.Errorf("file ingest: %d of %d lines stored", got, len(s.lines))
	}
	return r, nil
}

// step is one rate of a UDP ladder.
type step struct {
	rate, sent, got int
	sendRate        float64
	cpu             time.Duration
}

func (s step) lossless() bool { return s.sent > 0 && s.got == s.sent }

// reached says whether the sender kept up with the step's rate (within 10 %): on a
// loaded machine it may not, and a lossless step below its rate does not show the
// receiver takes that rate.
func (s step) reached() bool { return s.sendRate >= 0.9*float64(s.rate) }

type ladder struct {
	name  string
	steps []step
	rss   int64
}

// best is the highest lossless step.
func (l *ladder) best() (step, bool) {
	var b step
	ok := false
	for _, s := range l.steps {
		if s.lossless() && s.reached() && s.rate > b.rate {
			b, ok = s, true
		}
	}
	return b, ok
}

// climb starts the receiver once and sends it the corpus at each rate in turn.
func climb(ctx context.Context, s *setup, o options, kind string, progress func(string, ...any)) (*ladder, error) {
	var d *daemon
	var err error
	switch kind {
	case "hsmwatch":
		d, err = startHsmwatch(ctx, s, "udp-hsmwatch", "")
	case "rsyslog":
		d, err = startRsyslog(ctx, s, "udp-rsyslog")
	default:
		d, err = startSyslogNG(ctx, s, "udp-syslog-ng")
	}
	if err != nil {
		return nil, err
	}
	defer d.stop()
	conn, err := dialUDP(d.port)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	l := &ladder{name: d.name}
	next := 0
	for _, rate := range o.rates {
		n := int(float64(rate) * o.seconds)
		base, err := d.count()
		if err != nil {
			return nil, err
		}
		cpu0 := d.cpu()
		dgrams := make([][]byte, n)
		for i := range dgrams {
			dgrams[i] = []byte("<13>" + s.lines[(next+i)%len(s.lines)])
		}
		next += n
		elapsed, err := send(ctx, conn, dgrams, rate)
		if err != nil {
			return nil, err
		}
		got, err := waitCount(ctx, d, base, n, 3*time.Second)
		if err != nil {
			return nil, err
		}
		st := step{rate: rate, sent: n, got: got, sendRate: float64(n) / elapsed.Seconds(), cpu: d.cpu() - cpu0}
		l.steps = append(l.steps, st)
		progress("udp %s: %d/s (sent at %.0f/s): %d of %d arrived", d.name, rate, st.sendRate, got, n)
	}
	l.rss = d.peakRSS()
	return l, nil
}

func machine() string {
	host := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				host = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s), load average %s, %s", numCPU(), host, load, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + 1
}

// results are one run's figures.
type results struct {
	lines   int
	scan    []float64
	pdb     []float64
	file    ingest
	ladders []*ladder
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func (r *results) table(machine string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `go run ./bench/ingest` on %s; corpus: %d lines of internal/benchcorpus (nine tenths generic syslog noise).\n\n", machine, r.lines)
	scan, pdb := median(r.scan), median(r.pdb)
	b.WriteString("| path | hsmwatch | peer | hsmwatch / peer |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| scan, classify with the catalog (JSON out), lines per CPU-second (median of %d) | %s | syslog-ng patterndb: %s | %.1fx |\n",
		len(r.scan), human(scan), human(pdb), scan/max(pdb, 1e-9))
	fmt.Fprintf(&b, "| serve following a file into SQLite, events/s (wall, start-up included) | %s | — | |\n", human(r.file.perSecond()))
	fmt.Fprintf(&b, "| serve following a file: CPU per event, peak RSS | %.1f µs, %d MiB | — | |\n", r.file.cpuPerEvent(), r.file.rss>>20)
	var ours float64
	for i, l := range r.ladders {
		best, ok := l.best()
		rate := 0.0
		if ok {
			rate = float64(best.rate)
		}
		if i == 0 {
			ours = rate
			fmt.Fprintf(&b, "| serve syslog over UDP into SQLite (flood limit off), highest lossless rate | %s | | |\n", human(rate))
			continue
		}
		fmt.Fprintf(&b, "| UDP to a file, highest lossless rate | | %s: %s | %.2fx |\n", l.name, human(rate), ours/max(rate, 1e-9))
	}
	b.WriteString("\nUDP ladder (lines arrived of lines sent; a step counts for the highest lossless rate only when the sender reached 90 % of its rate; CPU per line of the receiver during the step; peak RSS over the ladder):\n\n")
	b.WriteString("| receiver | rate/s | sent at | arrived | lossless | CPU µs per line | peak RSS |\n|---|---|---|---|---|---|---|\n")
	for _, l := range r.ladders {
		for _, s := range l.steps {
			lossless := fmt.Sprint(s.lossless())
			if !s.reached() {
				lossless += " (sender short of the rate)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d of %d | %s | %.1f | %d MiB |\n", l.name, human(float64(s.rate)), human(s.sendRate),
				s.got, s.sent, lossless, float64(s.cpu.Microseconds())/max(float64(s.got), 1), l.rss>>20)
		}
	}
	return b.String()
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

const (
	readmeStart = "<!-- bench/ingest results: start -->"
	readmeEnd   = "<!-- bench/ingest results: end -->"
)

// writeReadme puts the table between the markers of bench/README.md.
func writeReadme(table string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	p := filepath.Join(root, "bench", "README.md")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, readmeStart), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		return errors.New("bench/README.md has no " + readmeStart + " ... " + readmeEnd + " block")
	}
	s = s[:i] + readmeStart + "\n\n" + table + "\n" + s[j:]
	return os.WriteFile(p, []byte(s), 0o644)
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"time"
)

// tally reads a receiver's output file and counts, exactly, which numbered traps it
// reports: each number once (later copies are duplicates), and whether the line shows
// the trap classified as expected.
type tally struct {
	path    string
	f       *os.File
	off     int64
	partial []byte
	buf     []byte
	seen    []uint64 // bit n: trap n was reported
	check   func([]byte, uint64) bool

	// The step being counted: traps lo .. hi-1.
	lo, hi               uint64
	got, dups, wrong, ex int // ex: numbers outside the step (late from the one before)
}

func newTally(path string, check func([]byte, uint64) bool) (*tally, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &tally{path: path, f: f, buf: make([]byte, 1<<20), check: check}, nil
}

func (t *tally) close() { t.f.Close() }

// begin starts counting the step of traps lo .. hi-1: the output is emptied (every
// receiver opens it for appending, so its writes go on at the start).
func (t *tally) begin(lo, hi uint64) error {
	if err := t.read(); err != nil {
		return err
	}
	if err := os.Truncate(t.path, 0); err != nil {
		return err
	}
	t.off, t.partial = 0, t.partial[:0]
	t.lo, t.hi = lo, hi
	t.got, t.dups, t.wrong, t.ex = 0, 0, 0, 0
	if need := int(hi/64) + 1; need > len(t.seen) {
		t.seen = append(t.seen, make([]uint64, need-len(t.seen))...)
	}
	return nil
}

// read counts the complete lines written since the last read.
func (t *tally) read() error {
	for {
		n, err := t.f.ReadAt(t.buf, t.off)
		if n > 0 {
			t.off += int64(n)
			data := t.buf[:n]
			if len(t.partial) > 0 {
				data = append(t.partial, data...)
			}
			last := bytes.LastIndexByte(data, '\n')
			if last < 0 {
				t.partial = append(t.partial[:0], data...)
				continue
			}
			for _, line := range bytes.Split(data[:last], []byte{'\n'}) {
				t.line(line)
			}
			t.partial = append(t.partial[:0], data[last+1:]...)
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (t *tally) line(line []byte) {
	n, _, ok := parseNumber(line)
	if !ok {
		return
	}
	if n < t.lo || n >= t.hi {
		t.ex++
		return
	}
	w, bit := n/64, uint64(1)<<(n%64)
	if t.seen[w]&bit != 0 {
		t.dups++
		return
	}
	t.seen[w] |= bit
	t.got++
	if t.check != nil && !t.check(line, n) {
		t.wrong++
	}
}

// step is one rung of the ladder.
type step struct {
	offered  float64 // datagrams per second asked of the sender; 0: as fast as it can
	sent     int
	sendWall time.Duration // first to last datagram written
	got      int           // distinct traps reported
	dups     int
	wrong    int           // reported but not classified as expected
	late     int           // numbers of an earlier step
	wall     time.Duration // first datagram written to the last trap reported
	cpu      time.Duration // the receiver's processes
	sustain  bool          // a confirmation step: longer, at the rate the ladder found
}

func (s step) lost() int             { return s.sent - s.got }
func (s step) sendRate() float64     { return float64(s.sent) / max(s.sendWall.Seconds(), 1e-9) }
func (s step) throughput() float64   { return float64(s.got) / max(s.wall.Seconds(), 1e-9) }
func (s step) perCPUSecond() float64 { return float64(s.got) / max(s.cpu.Seconds(), 1e-9) }
func (s step) lossless() bool        { return s.sent > 0 && s.lost() == 0 && s.wrong == 0 && s.dups == 0 }

// ladderConfig says how a ladder climbs.
type ladderConfig struct {
	start    float64       // first offered rate
	factor   float64       // next rate = rate * factor
	duration time.Duration // a step lasts about this long at its offered rate
	minTraps int
	maxTraps int
	maxSteps int
}

// ladder is what one receiver did with one kind of trap.
type ladder struct {
	receiver, kind string
	steps          []step
	stopped        string // why the ladder stopped
}

// best is the lossless step of the ladder (not a confirmation) with the highest
// throughput.
func (l *ladder) best() (step, bool) { return l.highest(false) }

// sustained is the lossless confirmation step with the highest throughput.
func (l *ladder) sustained() (step, bool) { return l.highest(true) }

func (l *ladder) highest(sustain bool) (step, bool) {
	var b step
	found := false
	for _, s := range l.steps {
		if s.sustain == sustain && s.lossless() && (!found || s.throughput() > b.throughput()) {
			b, found = s, true
		}
	}
	return b, found
}

// perCPUSecond is the traps per CPU-second of the receiver over its lossless steps.
func (l *ladder) perCPUSecond() float64 {
	var got int
	var cpu time.Duration
	for _, s := range l.steps {
		if s.lossless() {
			got += s.got
			cpu += s.cpu
		}
	}
	if cpu == 0 {
		return 0
	}
	return float64(got) / cpu.Seconds()
}

// climber runs one receiver's ladder a step at a time, so that the ladders of several
// receivers can take turns and the machine's other load touches them alike. It offers
// ever higher rates until a step loses traps, the receiver stops keeping up twice (its
// throughput under 80 % of the rate sent), or the sender cannot send faster. A short
// step can end without loss above what the receiver sustains (its queue and socket
// buffer take the excess), so the ladder's best throughput is then confirmed: three
// times as many traps at 95 % of it, and if that loses, at 80 %.
type climber struct {
	r      *receiver
	m      *maker
	cfg    ladderConfig
	t      *tally
	conn   *net.UDPConn
	next   uint64 // the next trap number
	l      *ladder
	rate   float64
	behind int
	tries  []float64 // confirmation rates still to try, as fractions of the best
	done   bool
}

func newClimber(r *receiver, m *maker, kind string, cfg ladderConfig) (*climber, error) {
	t, err := newTally(r.output, r.check)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialUDP("udp", nil, r.addr)
	if err != nil {
		t.close()
		return nil, err
	}
	_ = conn.SetWriteBuffer(4 << 20)
	return &climber{r: r, m: m, cfg: cfg, t: t, conn: conn, next: 1, rate: cfg.start,
		l: &ladder{receiver: r.name, kind: kind}}, nil
}

func (c *climber) close() {
	c.t.close()
	c.conn.Close()
}

// step runs the ladder's next step; done is set when there is none left.
func (c *climber) step(ctx context.Context, progress func(string)) error {
	if c.tries == nil { // climbing
		rate := c.rate
		c.rate *= c.cfg.factor
		s, err := c.run(ctx, rate, min(max(int(math.Round(rate*c.cfg.duration.Seconds())), c.cfg.minTraps), c.cfg.maxTraps), false, progress)
		if err != nil {
			return err
		}
		switch {
		case !s.lossless():
			c.l.stopped = fmt.Sprintf("lost %d of %d at %.0f/s offered", s.lost(), s.sent, rate)
		case s.sendRate() < 0.9*rate:
			c.l.stopped = fmt.Sprintf("the sender reached its limit (%.0f/s sent of %.0f/s offered)", s.sendRate(), rate)
		case s.throughput() < 0.8*s.sendRate() && c.behind == 1:
			c.l.stopped = fmt.Sprintf("saturated without loss: %.0f/s processed of %.0f/s sent", s.throughput(), s.sendRate())
		case len(c.l.steps) == c.cfg.maxSteps:
			c.l.stopped = fmt.Sprintf("%d steps, no loss", len(c.l.steps))
		default:
			if s.throughput() < 0.8*s.sendRate() {
				c.behind++
			}
			return nil
		}
		c.tries = []float64{0.95, 0.8}
		if _, ok := c.l.best(); !ok {
			c.done = true
		}
		return nil
	}
	b, _ := c.l.best()
	rate := math.Floor(b.throughput() * c.tries[0])
	c.tries = c.tries[1:]
	s, err := c.run(ctx, rate, min(max(int(math.Round(3*rate*c.cfg.duration.Seconds())), c.cfg.minTraps), 3*c.cfg.maxTraps), true, progress)
	if err != nil {
		return err
	}
	c.done = s.lossless() || len(c.tries) == 0
	return nil
}

func (c *climber) run(ctx context.Context, rate float64, n int, sustain bool, progress func(string)) (step, error) {
	s, err := runStep(ctx, c.r, c.t, c.m, c.conn, c.next, n, rate)
	if err != nil {
		return s, err
	}
	s.sustain = sustain
	c.next += uint64(n)
	c.l.steps = append(c.l.steps, s)
	what := "offered"
	if sustain {
		what = "sustain"
	}
	progress(fmt.Sprintf("  %-22s %-11s %s %7.0f/s sent %7.0f/s: %6d of %6d, lost %d, misclassified %d, dup %d, %7.0f traps/s, %6.0f per CPU-s",
		c.r.name, c.l.kind, what, rate, s.sendRate(), s.got, s.sent, s.lost(), s.wrong, s.dups, s.throughput(), s.perCPUSecond()))
	return s, nil
}

// runStep sends traps first .. first+n-1 at rate and waits until the receiver has
// reported them all, or its output has not grown for its quiet time (what is missing
// then is lost). The step's wall time runs from the first datagram to the last growth
// of the output, seen by polling its size every 2 ms.
func runStep(ctx context.Context, r *receiver, t *tally, m *maker, conn *net.UDPConn, first uint64, n int, rate float64) (step, error) {
	s := step{offered: rate, sent: n}
	b, err := m.build(first, n)
	if err != nil {
		return s, err
	}
	// Let the previous step's tail settle before counting this one.
	time.Sleep(200 * time.Millisecond)
	if err := t.begin(first, first+uint64(n)); err != nil {
		return s, err
	}
	cpu0 := r.cpu()
	type sent struct {
		at  time.Time
		err error
	}
	done := make(chan sent, 1)
	t0 := time.Now()
	go func() {
		at, err := send(conn, b, rate)
		done <- sent{at, err}
	}()
	var size int64
	lastGrowth := t0
	sendDone := false
	lastCount := time.Time{}
	for {
		if fi, err := os.Stat(r.output); err == nil && fi.Size() != size {
			size, lastGrowth = fi.Size(), time.Now()
		}
		if !sendDone {
			select {
			case d := <-done:
				if d.err != nil {
					return s, d.err
				}
				sendDone, s.sendWall = true, d.at.Sub(t0)
			default:
			}
		}
		now := time.Now()
		if sendDone && now.Sub(lastGrowth) > 50*time.Millisecond && now.Sub(lastCount) > 100*time.Millisecond {
			// The output is still for a moment: count what it holds.
			if err := t.read(); err != nil {
				return s, err
			}
			lastCount = now
			if t.got+t.dups >= n || now.Sub(lastGrowth) > r.quiet {
				break
			}
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	s.cpu = r.cpu() - cpu0
	s.got, s.dups, s.wrong, s.late = t.got, t.dups, t.wrong, t.ex
	s.wall = lastGrowth.Sub(t0)
	return s, nil
}

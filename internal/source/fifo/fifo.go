// Package fifo reads a named pipe, the way the Luna trap agent reads what rsyslog's
// ompipe writes into one: writers come and go, and every line any of them writes becomes
// an event (parsed by internal/parse, "auto" by default).
//
// The read end stays open between writers. When the last writer closes, a read returns
// end-of-file: the line it left without a newline is emitted then (nobody will finish
// it), and the reader looks for the next writer every Poll. Closing and reopening the
// pipe at that moment, as "while true; do cat fifo; done" does, would lose whatever a new
// writer managed to write between the end-of-file and the close (a pipe's buffer is freed
// with its last reader); keeping it open avoids that, and also lets a writer that opens
// without blocking (O_NONBLOCK) always find a reader. The pipe is reopened when the path
// is replaced (deleted and made again).
//
// Reconfigure applies a reloaded configuration without closing the pipe: closing the
// read end would make the writers' next write fail (EPIPE), and what sat in the pipe's
// buffer would be lost.
package fifo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/source"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// DefaultPoll is how often the reader looks for a new writer when none is connected.
const DefaultPoll = 100 * time.Millisecond

// Config describes one named pipe.
type Config struct {
	// Name identifies the source; default "fifo:" + Path.
	Name string
	// Path is the named pipe; New makes it (mkfifo) when it does not exist.
	Path string
	// Mode is the permission of a pipe New makes; default 0600.
	Mode os.FileMode
	// Format is the parse format (see parse.Formats); "" means auto.
	Format string
	// Location is the zone of timestamps without an offset; nil: local.
	Location *time.Location
	// Host is set on events whose line names no host.
	Host string
	// Poll is how often to look for a writer while none is connected.
	Poll   time.Duration
	Logger *slog.Logger
}

// Reader reads one named pipe. It is a component.Source.
type Reader struct {
	name, path string // Config.Name and Path, fixed for the reader's life
	// cur is the Config in force, defaults filled in. Reconfigure replaces it whole and
	// never changes a Config once stored: a line is handled with one consistent set.
	cur      atomic.Pointer[Config]
	reconfMu sync.Mutex    // one Reconfigure at a time
	wake     chan struct{} // ends a poll wait after a Reconfigure (capacity 1)
	log      *slog.Logger
	count    counters
	ran      atomic.Bool

	// polling, when set (by tests), is called before each wait for a writer with its
	// length, so that a test can act while the reader waits rather than sleep.
	polling func(time.Duration)
}

var _ component.Source = (*Reader)(nil)

// New checks cfg and makes the pipe if it does not exist, so that writers can open it
// as soon as New returns (they wait for Run to open the read end).
func New(cfg Config) (*Reader, error) {
	if err := fill(&cfg); err != nil {
		return nil, err
	}
	r := &Reader{name: cfg.Name, path: cfg.Path, log: cfg.Logger, wake: make(chan struct{}, 1)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.log = r.log.With("source", cfg.Name)
	r.cur.Store(&cfg)
	if err := r.ensure(); err != nil {
		return nil, err
	}
	return r, nil
}

// fill checks cfg and sets its defaults.
func fill(cfg *Config) error {
	if cfg.Path == "" {
		return errors.New("fifo: no path")
	}
	if _, err := liveparse.New(cfg.Format, cfg.Location); err != nil {
		return fmt.Errorf("fifo %s: %w", cfg.Path, err)
	}
	if cfg.Name == "" {
		cfg.Name = "fifo:" + cfg.Path
	}
	if cfg.Mode == 0 {
		cfg.Mode = 0o600
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	return nil
}

// config returns the settings in force; callers must not change what it points to.
func (r *Reader) config() *Config { return r.cur.Load() }

// Name identifies the source.
func (r *Reader) Name() string { return r.name }

// Run reads until ctx ends (then it returns nil, with the pipe closed) or a fatal error.
func (r *Reader) Run(ctx context.Context, emit component.Emit) error {
	if !r.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: Run called twice", r.name)
	}
	p := &parser{}
	if err := p.follow(r.config()); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	var line int64 // lines since Run began: a pipe has no offsets to name them by
	for ctx.Err() == nil {
		err := r.follow(ctx, p, emit, &line)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		r.count.reopens.Add(1) // the path was replaced: open the new pipe
	}
	return nil
}

// parser is Run's parser and the settings it was made with.
type parser struct {
	cfg *Config
	p   *liveparse.Parser
}

// follow makes the parser of cfg when cfg is not the one it has.
func (p *parser) follow(cfg *Config) error {
	if cfg == p.cfg {
		return nil
	}
	lp, err := liveparse.New(cfg.Format, cfg.Location)
	if err != nil {
		return err
	}
	p.cfg, p.p = cfg, lp
	return nil
}

// follow reads the pipe now at the path until ctx ends or the path names another pipe.
func (r *Reader) follow(ctx context.Context, p *parser, emit component.Emit, line *int64) error {
	if err := r.ensure(); err != nil {
		return err
	}
	f, err := openPipe(r.path)
	if err != nil {
		return fmt.Errorf("fifo: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("fifo %s: %w", r.path, err)
	}
	if st.Mode()&fs.ModeNamedPipe == 0 {
		return fmt.Errorf("fifo %s: replaced by something that is not a named pipe", r.path)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() }) // unblocks a read waiting for data
	defer stop()
	r.log.Info("reading the named pipe", "path", r.path)
	br := bufio.NewReaderSize(f, 64<<10)
	name := r.path + ":"
	for {
		var got bool
		err := source.ReadLines(ctx, br, func(l source.Line) error {
			got = true
			*line++
			return r.emitLine(ctx, p, emit, l, name+strconv.FormatInt(*line, 10))
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fifo %s: %w", r.path, err)
		}
		// End of file: no writer has the pipe open now.
		if got {
			r.count.writers.Add(1)
		}
		poll := r.config().Poll
		if r.polling != nil {
			r.polling(poll)
		}
		if !sleep(ctx, poll, r.wake) {
			return nil
		}
		if now, err := os.Stat(r.path); err != nil || !os.SameFile(now, st) {
			r.log.Info("the named pipe was replaced: opening the new one", "path", r.path)
			return nil
		}
	}
}

// emitLine parses one line with the settings in force (a Reconfigure applies from the
// next line) and emits it.
func (r *Reader) emitLine(ctx context.Context, p *parser, emit component.Emit, l source.Line, input string) error {
	r.count.lines.Add(1)
	r.count.bytes.Add(uint64(len(l.Text)) + 1)
	_ = p.follow(r.config()) // the format was checked by New or Reconfigure: it cannot fail
	ev := &event.Event{}
	if !p.p.Into(string(l.Text), ev) {
		r.count.parseFailures.Add(1)
	}
	ev.Input = input
	if ev.Host == "" {
		ev.Host = p.cfg.Host
	}
	if l.Truncated > 0 {
		ev.Fields.SetInt("truncated_bytes", l.Truncated)
		r.count.truncated.Add(1)
	}
	return emit(ctx, component.Record{Event: ev})
}

// sleep waits d, or less when wake says so; false when ctx ended.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-wake:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats counts what a reader did since it started, for /metrics.
type Stats struct {
	Lines         uint64 // lines emitted as events
	Bytes         uint64 // line bytes read, newlines included
	ParseFailures uint64 // lines that became unparsed events
	Truncated     uint64 // lines cut at source.MaxLine
	Writers       uint64 // times the last writer went away after writing
	Reopens       uint64 // times the path was replaced and opened again
}

type counters struct {
	lines, bytes, parseFailures, truncated, writers, reopens atomic.Uint64
}

// Stats returns the counters so far; safe to call while Run runs.
func (r *Reader) Stats() Stats {
	c := &r.count
	return Stats{Lines: c.lines.Load(), Bytes: c.bytes.Load(), ParseFailures: c.parseFailures.Load(),
		Truncated: c.truncated.Load(), Writers: c.writers.Load(), Reopens: c.reopens.Load()}
}

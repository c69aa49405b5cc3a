// Package follow follows log files the way "tail -F" does, for "hsmwatch serve": a path or
// a glob, new lines parsed into events as they are written, rotation by rename or by
// copytruncate, deletion and re-creation, and a checkpoint of what the pipeline has made
// durable, so that a restart (or a kill -9) neither loses a line nor counts one twice.
//
// How the pieces fit:
//
//   - A harvester (harvester.go) reads one file, known by its identity (device and inode),
//     not by its name: a file renamed by logrotate is still the same harvester and is read
//     to its end before it is let go; a new file at the followed path is a new harvester.
//   - Every record carries the key "<dev>:<inode>:<fingerprint>:<offset>" of its line
//     (fingerprint.go), so a line read again after a crash gets the same key and the store
//     keeps it once.
//   - Acknowledgements (acks.go) move a per-file watermark: the end of the last line of an
//     unbroken run of acknowledged lines. Only that watermark is checkpointed
//     (checkpoint.go), in batches, with an atomic file replace.
//   - The scan (scan.go) finds the files a path or glob names, notices rotation,
//     truncation and deletion, and finds a rotated file again after a restart.
//   - A copytruncate loses nothing the copy holds (harvester.go, readCopy and
//     readMissed): the unread rest of the old content is read from the copy beside the
//     file that starts with its fingerprint, and contents copied and truncated away
//     before a line of them was read are read whole from their copies, oldest first,
//     all before the truncated file; with the keys the original would have given them.
//     A glob may match the copies themselves ("*", "app.log*"): a copy found before the
//     truncation is held as a copy of the followed content (not read on its own), one
//     read as a copy before the scan opened it starts where that read stopped, and
//     either is followed from its end on, so that its lines are read once, as the
//     original's (scan.go copyParent and checkCopy, harvester.go release).
package follow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// Where a file with no checkpoint is read from on the source's first run.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// Defaults of Config.
const (
	DefaultPoll           = 250 * time.Millisecond
	DefaultRotateWait     = 2 * time.Second
	DefaultCommitEvery    = 1000
	DefaultCommitInterval = time.Second
	DefaultMaxUnacked     = 100_000
)

// Config describes one followed path.
type Config struct {
	// Name identifies the source in logs, metrics and the checkpoint file's name.
	// Default: "file:" + Path.
	Name string
	// Path is a file or a glob (filepath.Match syntax: *, ?, [...]). Every matching
	// regular file is followed; the glob is evaluated again at every poll.
	Path string
	// Format is the parse format (see parse.Formats); "" means auto.
	Format string
	// Location is the zone of timestamps without an offset; nil means the local zone.
	Location *time.Location
	// Host is set on events whose line names no host.
	Host string
	// Hosts, when set, names the HSM of a line that names it by address only (a Dinamo
	// event log's trailer) after the poller that found it there.
	Hosts component.Hosts
	// StateDir holds the checkpoint file. Empty: no checkpoint, records carry no Ack, and
	// every start is a first run.
	StateDir string
	// Start is where a file is read from on the source's first run (no checkpoint file
	// yet): StartBeginning (default) or StartEnd. Files that appear later, and every file
	// once a checkpoint exists, are read from their beginning (or their checkpoint), since
	// they hold lines written while nobody read them.
	Start string
	// Poll is how often an idle follower looks for new data, new files and rotation.
	Poll time.Duration
	// RotateWait is how long a file that was renamed away or deleted is still read after
	// it last grew: the writer may not have reopened its log yet.
	RotateWait time.Duration
	// PartialTimeout, when positive, emits a last line that has no newline once the file
	// has not grown for that long (with fields.partial). Zero (default) waits for the
	// newline; a partial line is then emitted only when its file is rotated away,
	// deleted or truncated, since it can never be completed there.
	PartialTimeout time.Duration
	// CommitEvery and CommitInterval batch checkpoint writes: after that many acks, or
	// that long after an ack, whichever comes first.
	CommitEvery    int
	CommitInterval time.Duration
	// MaxUnacked bounds the records emitted but not yet acknowledged; beyond it the
	// follower waits for acks (memory stays bounded if the pipeline stalls).
	MaxUnacked int
	Logger     *slog.Logger
}

// Follower follows the files of one Config. It is a component.Source.
type Follower struct {
	cfg      Config
	name     string
	glob     bool
	log      *slog.Logger
	ckptPath string // "" without StateDir
	count    counters
	ran      atomic.Bool

	// slots bounds unacknowledged records: a send takes one, an ack gives it back.
	slots chan struct{}
	// kick asks the committer for an early commit (CommitEvery acks reached).
	kick      chan struct{}
	sinceLast atomic.Int64 // acks since the last commit
	dirty     atomic.Bool  // something to commit

	mu      sync.Mutex
	tracked []*tracker // every file whose position the checkpoint must hold

	commitMu      sync.Mutex
	lastCommitted []byte // the files part of the last checkpoint written

	// afterScan, when set (by tests), is called at the end of every scan: a test waits
	// on it for "the follower has looked again" instead of sleeping.
	afterScan func()
	// afterFind, when set (by tests), is called in every scan once the folder is
	// listed and before the open files are checked.
	afterFind func()
	// onBlock, when set (by tests), is called when the follower starts waiting for acks.
	onBlock func()
}

var _ component.Source = (*Follower)(nil)

// New checks cfg and returns a follower; nothing is opened until Run.
func New(cfg Config) (*Follower, error) {
	if cfg.Path == "" {
		return nil, errors.New("follow: no path")
	}
	if !haveIdentity {
		return nil, errors.New("follow: following files needs device and inode numbers (a unix system)")
	}
	if _, err := filepath.Match(cfg.Path, ""); err != nil {
		return nil, fmt.Errorf("follow %s: %w", cfg.Path, err)
	}
	if _, err := liveparse.New(cfg.Format, cfg.Location); err != nil {
		return nil, fmt.Errorf("follow %s: %w", cfg.Path, err)
	}
	switch cfg.Start {
	case "":
		cfg.Start = StartBeginning
	case StartBeginning, StartEnd:
	default:
		return nil, fmt.Errorf("follow %s: start %q: want %q or %q", cfg.Path, cfg.Start, StartBeginning, StartEnd)
	}
	if cfg.Name == "" {
		cfg.Name = "file:" + cfg.Path
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.RotateWait <= 0 {
		cfg.RotateWait = DefaultRotateWait
	}
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = DefaultCommitEvery
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	if cfg.MaxUnacked <= 0 {
		cfg.MaxUnacked = DefaultMaxUnacked
	}
	f := &Follower{cfg: cfg, name: cfg.Name, glob: hasMeta(cfg.Path), log: cfg.Logger,
		slots: make(chan struct{}, cfg.MaxUnacked), kick: make(chan struct{}, 1)}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.log = f.log.With("source", cfg.Name)
	if cfg.StateDir != "" {
		f.ckptPath = checkpointPath(cfg.StateDir, cfg.Name)
	}
	return f, nil
}

// Name identifies the source ("file:/var/log/messages").
func (f *Follower) Name() string { return f.name }

// Run follows until ctx ends (then it returns nil, after a last checkpoint commit) or a
// fatal error (a checkpoint that cannot be read, a read error). A Follower runs once.
func (f *Follower) Run(ctx context.Context, emit component.Emit) error {
	if !f.ran.CompareAndSwap(false, true) {
		return fmt.Errorf("%s: Run called twice", f.name)
	}
	lp, err := liveparse.New(f.cfg.Format, f.cfg.Location)
	if err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	saved, firstRun, err := f.loadCheckpoint()
	if err != nil {
		return err
	}
	r := &run{f: f, ctx: ctx, emit: emit, parser: lp, saved: saved, firstRun: firstRun}
	var wg sync.WaitGroup
	stopCommit := make(chan struct{})
	if f.ckptPath != "" {
		f.dirty.Store(true) // the starting positions, so that "start: end" holds after a crash
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.commitLoop(stopCommit)
		}()
	}
	err = r.loop()
	r.closeAll()
	close(stopCommit)
	wg.Wait()
	if err != nil && ctx.Err() != nil {
		return nil // an emit or a wait cut short by the end of ctx
	}
	return err
}

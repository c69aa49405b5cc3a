package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The write-ahead log's checkpoints (copying committed pages from the WAL into the
// database file, then fsyncing it) run on a connection and a goroutine of their own, so
// that they overlap the writer's next transactions instead of stalling a commit: with
// SQLite's default, the commit that takes the WAL past 1000 pages runs the checkpoint
// itself, a quarter of the writer's CPU at ingest (bench/README.md, "Checkpoints off the
// writer"). A PASSIVE checkpoint waits for no reader and no writer. The writer's own
// automatic checkpoint stays as the bound should this one fall behind (walBound pages).
const (
	// checkpointEvery spaces the background checkpoints: each fsyncs the database file.
	checkpointEvery = 500 * time.Millisecond
	// walBound is the writer's wal_autocheckpoint: it checkpoints itself only when the
	// log has grown this far (64 MiB of 4 KiB pages).
	walBound = 16384
)

// checkpointer runs PASSIVE checkpoints after commits, at most one per checkpointEvery.
type checkpointer struct {
	db      *sql.DB
	log     *slog.Logger
	commits chan struct{} // a token per commit not yet checkpointed (capacity 1)
	stop    chan struct{}
	cancel  context.CancelFunc // interrupts a checkpoint under way at close
	stopped sync.Once
	wg      sync.WaitGroup
	// copied is the size in frames of the log the last checkpoint copied whole: the
	// writer's next transaction starts the log over from its beginning.
	copied atomic.Int64
}

func startCheckpointer(db *sql.DB, log *slog.Logger) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, log: log, commits: make(chan struct{}, 1), stop: make(chan struct{}), cancel: cancel}
	c.wg.Add(1)
	go c.run(ctx)
	return c
}

// committed tells the checkpointer that the WAL grew; it never blocks the writer. A nil
// checkpointer (a backend opened without one) leaves the checkpoints to the writer.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	select {
	case c.commits <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer c.wg.Done()
	pending := false // the last checkpoint left frames behind (a reader held them)
	for {
		if !pending {
			select {
			case <-c.stop:
				return
			case <-c.commits:
			}
		}
		var busy, logPages, done int64
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &done)
		switch {
		case err != nil && ctx.Err() == nil:
			c.log.Warn("store: background checkpoint failed; the writer checkpoints when the log is large", "err", err)
		case err == nil && busy == 0 && done == logPages:
			c.copied.Store(logPages)
		}
		// Until a checkpoint copies the whole log, the writer cannot start it over:
		// try again after the pause even without a new commit.
		pending = err == nil && (busy != 0 || done != logPages)
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointEvery):
		}
	}
}

// close stops the checkpointer (a checkpoint under way is interrupted) and closes its
// connection; closing a store twice closes it once.
func (c *checkpointer) close() error {
	if c == nil {
		return nil
	}
	var err error
	c.stopped.Do(func() {
		c.cancel()
		close(c.stop)
		c.wg.Wait()
		err = c.db.Close()
	})
	return err
}

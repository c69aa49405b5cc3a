package follow

import "sync/atomic"

// Stats counts what a follower did since it started, for /metrics.
type Stats struct {
	Lines          uint64 // lines emitted as events, partial ones included
	Bytes          uint64 // bytes read
	ParseFailures  uint64 // lines that became unparsed events
	TruncatedLines uint64 // lines cut at source.MaxLine (fields.truncated_bytes)
	PartialLines   uint64 // last lines emitted without their newline (fields.partial)
	FilesOpened    uint64
	OpenFiles      int64  // files open now
	Rotations      uint64 // files finished after they were renamed away or deleted
	Truncations    uint64 // files read again from 0 (copytruncate, content replaced)
	CopiesRead     uint64 // truncated files whose unread rest was read from their copy
	Acked          uint64 // records acknowledged by the pipeline
	Commits        uint64 // checkpoint files written
	CommitErrors   uint64
}

type counters struct {
	lines, bytes, parseFailures, truncatedLines, partialLines atomic.Uint64
	filesOpened, rotations, truncations, acked, copiesRead    atomic.Uint64
	commits, commitErrors                                     atomic.Uint64
	open                                                      atomic.Int64
}

// Stats returns the counters so far; safe to call while Run runs.
func (f *Follower) Stats() Stats {
	c := &f.count
	return Stats{Lines: c.lines.Load(), Bytes: c.bytes.Load(), ParseFailures: c.parseFailures.Load(),
		TruncatedLines: c.truncatedLines.Load(), PartialLines: c.partialLines.Load(),
		FilesOpened: c.filesOpened.Load(), OpenFiles: c.open.Load(), Rotations: c.rotations.Load(),
		Truncations: c.truncations.Load(), CopiesRead: c.copiesRead.Load(), Acked: c.acked.Load(), Commits: c.commits.Load(),
		CommitErrors: c.commitErrors.Load()}
}

package follow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// checkpointVersion is the version of the checkpoint file's layout.
const checkpointVersion = 1

// checkpointFile is the content of one source's checkpoint: where each of its files has
// been read to, as far as the pipeline has made it durable.
type checkpointFile struct {
	Version int     `json:"version"`
	Source  string  `json:"source"`
	Saved   string  `json:"saved"` // RFC 3339, for people reading the file
	Files   []entry `json:"files"`
}

// entry is one file's watermark.
type entry struct {
	Path   string `json:"path"` // the name it was last read under
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"` // everything before is durable
	Line   int64  `json:"line"`   // lines before Offset
	FP     string `json:"fp,omitempty"`
	FPLen  int    `json:"fp_len,omitempty"`
}

func (e entry) id() fileID { return fileID{dev: e.Dev, ino: e.Ino} }

// position returns the position the entry records, and false when its fingerprint is
// malformed (a hand-edited file).
func (e entry) position() (position, bool) {
	p := position{end: e.Offset, line: e.Line}
	if e.FPLen == 0 {
		return p, e.Offset == 0 // content past 0 always has a fingerprint
	}
	sum, err := strconv.ParseUint(e.FP, 16, 64)
	if err != nil || e.FPLen < 0 || e.FPLen > fpMax || e.Offset < 0 || e.Line < 0 {
		return p, false
	}
	p.fp = &fingerprint{sum: sum, n: e.FPLen}
	return p, true
}

func fpHex(sum uint64) string { return fmt.Sprintf("%016x", sum) }

// checkpointPath is the file of one source in dir: a readable part of the name, and a
// hash of the whole name so that two names that read alike never share a file.
func checkpointPath(dir, name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 80 {
			break
		}
		if r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return filepath.Join(dir, fmt.Sprintf("follow-%s-%08x.json", strings.Trim(b.String(), "_"), h.Sum32()))
}

// loadCheckpoint reads the source's checkpoint. firstRun is true when there is none yet.
// A damaged checkpoint is not fatal: its files are read again from their start (their
// records keep their keys, so the store does not count them twice); it is not a first
// run either, so "start: end" does not skip what was written meanwhile.
func (f *Follower) loadCheckpoint() (saved []entry, firstRun bool, err error) {
	if f.ckptPath == "" {
		return nil, true, nil
	}
	if err := os.MkdirAll(f.cfg.StateDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("%s: state folder: %w", f.name, err)
	}
	data, err := os.ReadFile(f.ckptPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s: checkpoint: %w", f.name, err)
	}
	var c checkpointFile
	if err := json.Unmarshal(data, &c); err != nil || c.Version != checkpointVersion {
		f.log.Warn("checkpoint unreadable: reading its files from the start", "file", f.ckptPath,
			"error", err, "version", c.Version)
		return nil, false, nil
	}
	return c.Files, false, nil
}

// commit writes the watermarks of every tracked file. Only the committer goroutine and
// Run (after the first scan) call it; commitMu keeps them from writing at once.
func (f *Follower) commit() {
	f.commitMu.Lock()
	defer f.commitMu.Unlock()
	f.dirty.Store(false)
	f.sinceLast.Store(0)
	c := checkpointFile{Version: checkpointVersion, Source: f.name, Files: []entry{}}
	f.mu.Lock()
	keep := f.tracked[:0]
	for _, t := range f.tracked {
		e, needed := t.entry()
		if !needed {
			continue
		}
		c.Files = append(c.Files, e)
		keep = append(keep, t)
	}
	clear(f.tracked[len(keep):])
	f.tracked = keep
	f.mu.Unlock()
	body, err := json.Marshal(c.Files)
	if err == nil && bytes.Equal(body, f.lastCommitted) {
		return // nothing moved: spare the disk an fsync
	}
	c.Saved = time.Now().Format(time.RFC3339)
	data, err := json.MarshalIndent(c, "", "  ")
	if err == nil {
		err = writeAtomic(f.ckptPath, append(data, '\n'))
	}
	if err != nil {
		f.count.commitErrors.Add(1)
		f.dirty.Store(true) // try again at the next tick
		f.log.Error("checkpoint not written", "file", f.ckptPath, "error", err)
		return
	}
	f.lastCommitted = body
	f.count.commits.Add(1)
}

// Commit writes the checkpoint now. Run commits a last time when it returns, but the
// records it emitted last are acknowledged later, when the pipeline has stored them: a
// daemon calls Commit after its pipeline drained (a stop, or a reload that replaces this
// follower), so that the next start does not read those lines again.
func (f *Follower) Commit() {
	if f.ckptPath != "" {
		f.commit()
	}
}

// commitLoop commits every CommitInterval when something moved, or early when
// CommitEvery acks have come, and a last time when stop closes.
func (f *Follower) commitLoop(stop <-chan struct{}) {
	tick := time.NewTicker(f.cfg.CommitInterval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			f.commit()
			return
		case <-f.kick:
			f.commit()
		case <-tick.C:
			if f.dirty.Load() {
				f.commit()
			}
		}
	}
}

// writeAtomic replaces path with data so that a crash leaves either the old or the new
// content, never a mix: a temporary file in the same folder, fsync, rename, fsync of the
// folder (the rename itself is only durable then).
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

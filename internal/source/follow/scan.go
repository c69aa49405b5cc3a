package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/source/liveparse"
)

// run is the state of one Run: the open files and what the checkpoint said.
type run struct {
	f        *Follower
	ctx      context.Context
	emit     component.Emit
	parser   *liveparse.Parser
	saved    []entry // checkpoint entries not claimed by a file yet (first scan only)
	firstRun bool
	scanned  bool
	hs       []*harvester // oldest first: a rotated file is read before its successor
	lastScan time.Time
	warned   map[string]bool // paths whose open failed, logged once
	// consumed holds where to start copies a glob matches that were read as another
	// file's copytruncate copy before the scan opened them (release).
	consumed map[fileID]position
}

// loop reads every file to its end, scans for rotation and new files, and sleeps for
// Poll when nothing was left to read.
func (r *run) loop() error {
	for {
		if r.ctx.Err() != nil {
			return nil
		}
		busy := false
		for _, h := range r.hs {
			if r.waiting(h) {
				continue
			}
			more, err := r.read(h)
			if err != nil {
				return err
			}
			busy = busy || more
		}
		if !busy || time.Since(r.lastScan) >= r.f.cfg.Poll {
			if err := r.scan(); err != nil {
				return err
			}
			r.lastScan = time.Now()
			if r.f.afterScan != nil {
				r.f.afterScan()
			}
		}
		if !busy && !sleep(r.ctx, r.f.cfg.Poll) {
			return nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// hasMeta reports whether path is a glob.
func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

// find returns the regular files the configured path names now, by identity, in path
// order. A file reachable by two names (a hard link, a symlink matched by a glob) is
// followed once.
func (f *Follower) find() (map[fileID]string, []fileID) {
	paths := []string{f.cfg.Path}
	if f.glob {
		paths, _ = filepath.Glob(f.cfg.Path) // the pattern was checked by New
	}
	found := make(map[fileID]string, len(paths))
	var order []fileID
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue // gone since the glob, or a folder, a pipe, a device: not a log file
		}
		id, ok := identityOf(st)
		if !ok {
			continue
		}
		if _, dup := found[id]; !dup {
			found[id] = p
			order = append(order, id)
		}
	}
	return found, order
}

// scan checks the open files for rotation, truncation and deletion, and opens the new
// ones.
func (r *run) scan() error {
	found, order := r.f.find()
	if r.f.afterFind != nil {
		r.f.afterFind()
	}
	if !r.scanned {
		r.reopenRotated(found)
	}
	// Before the checks below, which may consume copies made since find ran: such a
	// copy is not in found yet, and forgetting where to start it would read its
	// content twice once the next scan finds it.
	for id := range r.consumed {
		if _, ok := found[id]; !ok {
			delete(r.consumed, id) // gone before it was opened
		}
	}
	now := time.Now()
	keep := r.hs[:0]
	for _, h := range r.hs {
		done, err := r.check(h, found, now)
		if err != nil {
			return err
		}
		if !done {
			keep = append(keep, h)
		}
	}
	clear(r.hs[len(keep):])
	r.hs = keep
	for _, id := range order {
		if r.following(id) {
			continue
		}
		if err := r.open(found[id], id); err != nil {
			return err
		}
	}
	if !r.scanned {
		r.scanned = true
		for _, e := range r.saved {
			r.f.log.Info("checkpointed file not found: lines it got after the checkpoint are not read",
				"file", e.Path, "dev", e.Dev, "inode", e.Ino, "offset", e.Offset)
		}
		r.saved = nil
		if r.f.ckptPath != "" {
			r.f.commit() // the starting positions are durable before anything is read
		}
	}
	return nil
}

func (r *run) following(id fileID) bool {
	for _, h := range r.hs {
		if h.id == id {
			return true
		}
	}
	return false
}

// check looks at one open file. It reports true when the file is finished (renamed out
// of the followed names or deleted, read to its end and quiet for RotateWait) and closed.
func (r *run) check(h *harvester, found map[fileID]string, now time.Time) (bool, error) {
	if p, ok := found[h.id]; ok {
		h.matched = true
		if p != h.path {
			h.path, h.was = p, p
			if h.track != nil {
				h.track.rename(p)
				r.f.dirty.Store(true)
			}
		}
	} else {
		h.matched = false
	}
	if h.copyOf != nil {
		return r.checkCopy(h)
	}
	size, err := r.refresh(h)
	if err != nil {
		return false, err
	}
	if size > h.readPos {
		return false, nil // unread data: the next read takes it
	}
	idle := now.Sub(h.lastGrowth)
	if !h.matched && idle >= r.f.cfg.RotateWait {
		if err := r.flushPartial(h); err != nil {
			return false, err
		}
		r.finish(h)
		return true, nil
	}
	if r.f.cfg.PartialTimeout > 0 && h.hasPartial() && idle >= r.f.cfg.PartialTimeout {
		return false, r.flushPartial(h)
	}
	return false, nil
}

// checkCopy looks at h, a copy waiting for the harvester of the content it copied: a copy
// that left the glob is closed (its lines are the other file's); once the other file
// has moved on without reading it (its content changed with less read than the copy
// holds: all of it was read there already; or it was finished), h is released at its
// end, as a file of its own from there.
func (r *run) checkCopy(h *harvester) (bool, error) {
	if !h.matched {
		h.f.Close()
		r.f.count.open.Add(-1)
		r.f.log.Info("a copy of a followed file's content left the followed names", "file", h.path)
		return true, nil
	}
	p := h.copyOf
	if slices.Contains(r.hs, p) {
		switch {
		case p.fp != nil && *p.fp == h.waitFP:
			return false, nil // the other file still holds that content: wait
		case p.fp == nil && p.readPos > 0:
			return false, nil // it is reading the first line of a content: wait
		case p.fp == nil:
			// It has read nothing of its current content, if any: the copy may hold a
			// content it never read a line of, which it takes now (a copy of what its
			// file still holds waits).
			if _, err := r.readMissed(p); err != nil {
				return false, err
			}
			if h.copyOf != nil {
				return false, nil
			}
			return false, nil // released by readMissed
		}
	}
	st, err := h.f.Stat()
	if err != nil {
		return false, fmt.Errorf("%s: %w", h.path, err)
	}
	pos, err := endPosition(r.ctx, h.f, h.path, st.Size())
	if err != nil {
		return false, err
	}
	r.f.log.Info("a copy of a followed file's content was read there: following it from its end", "file", h.path, "offset", pos.end)
	r.release(h.id, h.path, pos)
	return false, nil
}

// refresh looks at h's file before it is read and returns its size. A file shorter
// than what was read, or one whose first line changed, was truncated (copytruncate) or
// rewritten in place: it is read again from its start. The first line is compared when
// the size or the modification time moved, and whenever everything was read: a copy and
// truncate that refilled the file to the same size within the file system's timestamp
// granularity shows in nothing else. It costs one small read.
func (r *run) refresh(h *harvester) (int64, error) {
	st, err := h.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", h.path, err)
	}
	size, mod := st.Size(), st.ModTime()
	unchanged := size == h.lastSize && mod.Equal(h.lastMod)
	if unchanged && size != h.readPos {
		return size, nil
	}
	switch {
	case size < h.readPos:
		err = r.restart(h, "shorter than the read offset")
	case h.fp != nil:
		// Changed since the last look: make sure it still holds the content we were
		// reading, not a copytruncate that was filled again past our offset meanwhile.
		var same bool
		if same, err = h.fp.matches(h.f); err == nil && !same {
			err = r.restart(h, "its first line changed")
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", h.path, err)
	}
	if !unchanged {
		h.lastSize, h.lastMod, h.lastGrowth = size, mod, time.Now()
	}
	return size, nil
}

// waiting reports whether h must not be read yet: a file that was at the same followed
// path before (renamed away by a rotation) is still being finished, and lines are read
// in the order they were written.
func (r *run) waiting(h *harvester) bool {
	if h.copyOf != nil {
		return true // its lines are another file's (checkCopy)
	}
	for _, old := range r.hs {
		if old == h {
			return false // only older harvesters come first
		}
		if !old.matched && (old.was == h.path || old.was == h.was) {
			return true
		}
	}
	return false
}

// finish closes a file that was rotated away or deleted and has been read to its end.
func (r *run) finish(h *harvester) {
	h.f.Close()
	r.f.count.open.Add(-1)
	r.f.count.rotations.Add(1)
	if h.track != nil {
		h.track.close()
		r.f.dirty.Store(true)
	}
	r.f.log.Info("finished a rotated or deleted file", "file", h.path, "lines", h.line, "offset", h.readPos)
}

// open starts following the file at path.
func (r *run) open(path string, want fileID) error {
	fh, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !r.warned[path] {
			if r.warned == nil {
				r.warned = map[string]bool{}
			}
			r.warned[path] = true
			r.f.log.Warn("cannot open a followed file; trying again at every poll", "error", err)
		}
		return nil
	}
	delete(r.warned, path)
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	id, _ := identityOf(st)
	if id != want && r.following(id) {
		fh.Close() // renamed between the scan and the open: already followed
		return nil
	}
	start, err := r.startPosition(fh, path, id, st.Size())
	if err != nil {
		fh.Close()
		return err
	}
	var parent *harvester
	var fp *fingerprint
	if r.f.glob && start.end == 0 {
		var later bool
		if parent, fp, later, err = r.copyParent(fh, path, id); err != nil || later {
			fh.Close()
			return err
		}
	}
	r.add(fh, path, path, id, start, st, true, parent, fp)
	return nil
}

// copyParent finds the harvester whose current content the new file fh (at path, a
// glob matched it) is a copy of: beside that file's followed name, named after it
// ("app.log.1"), and starting with the same first line. A copytruncate that copied and
// has not truncated yet, or whose truncation the follower has not seen yet, leaves such
// a copy; its lines are that harvester's.
func (r *run) copyParent(fh *os.File, path string, id fileID) (parent *harvester, fp *fingerprint, later bool, err error) {
	fp, err = fileFingerprint(fh)
	if err != nil {
		return nil, nil, false, err
	}
	for _, p := range r.hs {
		if p.copyOf != nil || p.id == id || filepath.Dir(p.was) != filepath.Dir(path) {
			continue
		}
		base := filepath.Base(p.was)
		if name := filepath.Base(path); name == base || !strings.HasPrefix(name, base) {
			continue
		}
		if fp == nil {
			// Named as a copy and without a first line yet: a copy being written, maybe.
			// It is opened once it has one (reading it from its start loses nothing).
			return nil, nil, true, nil
		}
		cur := p.fp
		if cur == nil {
			if cur, err = fileFingerprint(p.f); err != nil {
				return nil, nil, false, fmt.Errorf("%s: %w", p.path, err)
			}
		}
		if cur != nil && *cur == *fp {
			return p, fp, false, nil
		}
	}
	return nil, nil, false, nil
}

// add makes fh a harvester reading from start; was is the followed path it belongs to.
// A copy of another harvester's content (copyOf, with its first line's fingerprint fp)
// waits for it and is not checkpointed until released.
func (r *run) add(fh *os.File, path, was string, id fileID, start position, st os.FileInfo, matched bool,
	copyOf *harvester, fp *fingerprint) {
	h := newHarvester(fh, path, id, start, st)
	h.was, h.matched = was, matched
	for _, c := range r.copies(h, true) {
		h.copies[c.id] = true // copies made before: history, not contents h missed
	}
	r.hs = append(r.hs, h)
	r.f.count.filesOpened.Add(1)
	r.f.count.open.Add(1)
	if copyOf != nil {
		h.copyOf, h.waitFP = copyOf, *fp
		r.f.log.Info("a new file is a copy of a followed file's content: its lines are read there", "file", path, "copy_of", copyOf.path)
		return
	}
	r.startTracking(h, start)
	r.f.log.Info("following file", "file", path, "offset", start.end, "line", start.line)
}

// startTracking gives h its checkpoint tracker from start.
func (r *run) startTracking(h *harvester, start position) {
	if r.f.ckptPath == "" {
		return
	}
	h.track = newTracker(h.path, h.id, start)
	r.f.track(h.track)
	if r.scanned {
		// Known to the checkpoint before its first line goes out: if the process
		// dies and the file is rotated away meanwhile, the next run finds it by its
		// identity. Files are opened rarely (at rotation), so the fsync is cheap.
		r.f.commit()
	}
}

// startPosition says where to read a newly opened file from: its checkpoint when the
// file still starts with the checkpointed content, its end on the first run of a
// "start: end" source, its beginning otherwise. The file's offset is set there.
func (r *run) startPosition(fh *os.File, path string, id fileID, size int64) (position, error) {
	if pos, ok := r.consumed[id]; ok {
		delete(r.consumed, id)
		if pos.end <= size && (pos.fp == nil || pos.end == 0) {
			_, err := fh.Seek(pos.end, io.SeekStart)
			return pos, err
		}
		if same, err := pos.fp.matches(fh); err != nil {
			return position{}, fmt.Errorf("%s: %w", path, err)
		} else if same && pos.end <= size {
			_, err := fh.Seek(pos.end, io.SeekStart)
			return pos, err
		}
	}
	for i, e := range r.saved {
		if e.id() != id {
			continue
		}
		r.saved = append(r.saved[:i], r.saved[i+1:]...)
		pos, ok, err := verify(fh, e, size)
		if err != nil {
			return position{}, fmt.Errorf("%s: %w", path, err)
		}
		if ok {
			_, err := fh.Seek(pos.end, io.SeekStart)
			return pos, err
		}
		r.f.log.Info("checkpoint is for older content of this file: reading it from the start",
			"file", path, "checkpoint_offset", e.Offset)
		return position{}, nil
	}
	if !r.scanned && r.firstRun && r.f.cfg.Start == StartEnd {
		return endPosition(r.ctx, fh, path, size)
	}
	return position{}, nil
}

// verify returns the position of checkpoint entry e if the file fh (of the same
// identity) still holds the content e was taken from.
func verify(fh *os.File, e entry, size int64) (position, bool, error) {
	pos, ok := e.position()
	if !ok || pos.end > size {
		return position{}, false, nil
	}
	if pos.fp == nil {
		return pos, true, nil // offset 0: nothing to compare
	}
	same, err := pos.fp.matches(fh)
	return pos, same, err
}

// endPosition is the start of the last line of fh that has no newline yet (its end when
// the last line is complete), with the number of lines before it, so that events keep
// exact line numbers although the earlier lines are skipped.
func endPosition(ctx context.Context, fh *os.File, path string, size int64) (position, error) {
	buf := make([]byte, readBuf)
	var lines, lastNL int64 = 0, -1
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return position{}, err
		}
		n, err := fh.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		chunk := buf[:n]
		lines += int64(bytes.Count(chunk, []byte{'\n'}))
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			lastNL = off + int64(i)
		}
		off += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return position{}, fmt.Errorf("%s: %w", path, err)
		}
		if n == 0 {
			break // shrank meanwhile
		}
	}
	pos := position{end: lastNL + 1, line: lines}
	if pos.end > 0 {
		fp, err := fileFingerprint(fh)
		if err != nil {
			return position{}, fmt.Errorf("%s: %w", path, err)
		}
		pos.fp = fp
	}
	_, err := fh.Seek(pos.end, io.SeekStart)
	return pos, err
}

// reopenRotated looks, on the first scan, for checkpointed files that are no longer at
// a followed path: logrotate renamed them while hsmwatch was down. A file of the same
// identity and content beside the old name ("messages.1", "messages-20260101") is read
// from its checkpoint to its end before its successor. A rotated file that was
// compressed is a new file: what it got after the checkpoint is not read again.
func (r *run) reopenRotated(found map[fileID]string) {
	dirs := map[string][]os.DirEntry{}
	rest := r.saved[:0]
	for _, e := range r.saved {
		if _, ok := found[e.id()]; ok {
			rest = append(rest, e) // still at a followed path: the normal open claims it
			continue
		}
		if !r.reopenSibling(e, dirs) {
			rest = append(rest, e)
		}
	}
	r.saved = rest
}

func (r *run) reopenSibling(e entry, dirs map[string][]os.DirEntry) bool {
	dir, base := filepath.Dir(e.Path), filepath.Base(e.Path)
	list, ok := dirs[dir]
	if !ok {
		list, _ = os.ReadDir(dir)
		dirs[dir] = list
	}
	for _, de := range list {
		if !strings.HasPrefix(de.Name(), base) || de.Name() == base || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if id, _ := identityOf(st); id != e.id() {
			continue
		}
		fh, err := os.Open(p)
		if err != nil {
			r.f.log.Warn("cannot open a rotated file to finish it", "error", err)
			return false
		}
		pos, same, err := verify(fh, e, st.Size())
		if err == nil && same {
			_, err = fh.Seek(pos.end, io.SeekStart)
		}
		if err != nil || !same {
			fh.Close()
			return false
		}
		r.f.log.Info("finishing a file rotated while hsmwatch was down", "file", p, "was", e.Path)
		r.add(fh, p, e.Path, e.id(), pos, st, false, nil, nil)
		return true
	}
	return false
}

// closeAll closes every open file at the end of Run. Their trackers stay, so the last
// commit keeps their positions.
func (r *run) closeAll() {
	for _, h := range r.hs {
		h.f.Close()
		r.f.count.open.Add(-1)
	}
	r.hs = nil
}

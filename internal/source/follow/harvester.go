package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/source"
)

const (
	// readBuf is the read size; lines that fit are parsed straight from it.
	readBuf = 64 << 10
	// readBudget is how much one file may be read before the others get a turn, so
	// that a busy file does not starve the rest or delay the scan for rotation.
	readBudget = 1 << 20
)

// harvester reads one file (one identity) from a position on. Only the run goroutine
// touches it; what acks need lives in its tracker.
type harvester struct {
	f       *os.File
	path    string // the name it was last seen under: Input says path:line
	was     string // the followed path it was found at: a new file there waits for this one
	id      fileID
	matched bool // found at a followed path by the last scan

	fp      *fingerprint // of the current content generation; nil until offset 0 was read
	offset  int64        // start of the line being read: everything before is emitted
	readPos int64        // next byte read from f
	line    int64        // number of the last line emitted
	partial []byte       // the current line so far, at most source.MaxLine bytes
	cut     int64        // bytes of the current line dropped beyond source.MaxLine

	lastGrowth time.Time // last time the file changed
	lastSize   int64
	lastMod    time.Time
	track      *tracker // nil without a checkpoint
	buf        []byte
	// copies holds the identities of the copies readMissed must not read: those there
	// when h opened its file (history) and those read already.
	copies map[fileID]bool
	// copyOf is set while h's file is a copytruncate copy of copyOf's content, which a
	// glob matched too ("app.log*" matches "app.log.1"): h is not read, its lines are
	// copyOf's; copyOf reads what it had not read from it (readCopy, readMissed) and
	// lets h go on from there (release). waitFP is the content h is a copy of.
	copyOf *harvester
	waitFP fingerprint
}

func newHarvester(f *os.File, path string, id fileID, start position, st os.FileInfo) *harvester {
	return &harvester{f: f, path: path, was: path, id: id, matched: true, fp: start.fp, offset: start.end,
		readPos: start.end, line: start.line, lastGrowth: time.Now(), lastSize: st.Size(),
		lastMod: st.ModTime(), buf: make([]byte, readBuf), copies: map[fileID]bool{}}
}

func (h *harvester) hasPartial() bool { return len(h.partial) > 0 || h.cut > 0 }

// keep appends b to the current line, cutting it at source.MaxLine.
func (h *harvester) keep(b []byte) {
	room := source.MaxLine - len(h.partial)
	if room >= len(b) {
		h.partial = append(h.partial, b...)
		return
	}
	if room > 0 {
		h.partial = append(h.partial, b[:room]...)
	}
	h.cut += int64(len(b) - max(room, 0))
}

// read reads h up to readBudget bytes, emitting its complete lines. It reports whether
// it stopped before the end of the file.
func (r *run) read(h *harvester) (more bool, err error) {
	size, err := r.refresh(h)
	if err != nil {
		return false, err
	}
	// About to read a content from its start that h has not seen a line of: other
	// contents may have come and gone meanwhile (copytruncate faster than the poll).
	// expect is the first line of the content readMissed took for the current one.
	var expect *fingerprint
	fresh := h.readPos == 0 && h.fp == nil && size > 0
	if fresh {
		if expect, err = r.readMissed(h); err != nil {
			return false, err
		}
	}
	for total := 0; total < readBudget; {
		n, rerr := h.f.Read(h.buf)
		if n > 0 && fresh && h.readPos == 0 && h.fp == nil {
			// The file may have been copied, truncated and refilled since readMissed
			// looked: then the content read is not the one it left out, and the copy of
			// that one is there now. Look again before taking a line of it.
			if got := dataFingerprint(h.buf[:n]); got != nil && (expect == nil || *got != *expect) {
				if _, err := h.f.Seek(0, io.SeekStart); err != nil {
					return false, fmt.Errorf("%s: %w", h.path, err)
				}
				if expect, err = r.readMissed(h); err != nil {
					return false, err
				}
				continue
			}
		}
		if n > 0 && h.fp != nil {
			// The file may have been truncated and filled again between the look that
			// refresh took and this read: then these bytes are the middle of other
			// content. Its first line tells, as it does in refresh.
			same, err := h.fp.matches(h.f)
			if err != nil {
				return false, fmt.Errorf("%s: %w", h.path, err)
			}
			if !same {
				return false, r.restart(h, "its first line changed")
			}
		}
		if n > 0 {
			total += n
			h.readPos += int64(n)
			h.lastGrowth = time.Now()
			err := r.split(h, h.buf[:n])
			r.f.count.bytes.Add(uint64(n)) // after the split: its lines are out when Bytes shows them
			if err != nil {
				return false, err
			}
		}
		if errors.Is(rerr, io.EOF) || (n == 0 && rerr == nil) {
			return false, nil
		}
		if rerr != nil {
			return false, fmt.Errorf("%s: %w", h.path, rerr)
		}
	}
	return true, nil
}

// split emits the complete lines of data, the bytes just read, and keeps the rest.
func (r *run) split(h *harvester, data []byte) error {
	at := h.readPos - int64(len(data)) // file offset of data[0]
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			h.keep(data)
			return nil
		}
		end := at + int64(i) + 1
		text := data[:i]
		if h.hasPartial() {
			h.keep(text)
			text = h.partial
		} else if len(text) > source.MaxLine {
			h.cut = int64(len(text) - source.MaxLine)
			text = text[:source.MaxLine]
		}
		if err := r.emitLine(h, text, end, false); err != nil {
			return err
		}
		data = data[i+1:]
		at = end
	}
	return nil
}

// flushPartial emits the current line although it has no newline: its file was rotated
// away, truncated, or stopped growing for PartialTimeout.
func (r *run) flushPartial(h *harvester) error {
	if !h.hasPartial() {
		return nil
	}
	r.f.count.partialLines.Add(1)
	return r.emitLine(h, h.partial, h.readPos, true) // every byte read so far is in the line
}

// emitLine turns one line that ends at end (the offset after its newline) into a
// record and hands it to the pipeline.
func (r *run) emitLine(h *harvester, text []byte, end int64, partial bool) error {
	if h.fp == nil {
		h.fp = firstLineFingerprint(text, !partial) // text is the file's first line
	}
	start := h.offset
	h.line++
	ev := &event.Event{}
	if !r.parser.Into(string(text), ev) {
		r.f.count.parseFailures.Add(1)
	}
	ev.Input = h.path + ":" + strconv.FormatInt(h.line, 10)
	if ev.Host == "" {
		ev.Host = r.f.cfg.Host
	}
	if r.f.cfg.Hosts != nil {
		r.f.cfg.Hosts.Name(ev)
	}
	if h.cut > 0 {
		ev.Fields.SetInt("truncated_bytes", h.cut)
		r.f.count.truncatedLines.Add(1)
	}
	if partial {
		ev.Fields.SetBool("partial", true)
	}
	rec := component.Record{Event: ev, Key: recordKey(h.id, h.fp, start)}
	if t := h.track; t != nil {
		if err := r.f.acquire(r.ctx); err != nil {
			return err
		}
		seq := t.add(position{end: end, line: h.line, fp: h.fp})
		f := r.f
		rec.Ack = func() { f.acked(t, seq) }
	}
	h.offset = end
	if cap(h.partial) > 4*readBuf {
		h.partial = nil // give a long line's memory back
	} else {
		h.partial = h.partial[:0]
	}
	h.cut = 0
	r.f.count.lines.Add(1)
	if err := r.emit(r.ctx, rec); err != nil {
		return fmt.Errorf("%s: emit: %w", h.path, err)
	}
	return nil
}

// recordKey is "<dev>:<inode>:<fingerprint>:<offset>": the same line of the same file
// content always gets the same key, however often it is read.
func recordKey(id fileID, fp *fingerprint, offset int64) string {
	b := make([]byte, 0, 64)
	b = strconv.AppendUint(b, id.dev, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, id.ino, 10)
	b = append(b, ':')
	b = append(b, fpHex(fp.sum)...)
	b = append(b, ':')
	b = strconv.AppendInt(b, offset, 10)
	return string(b)
}

// restart starts h over at offset 0: its file was truncated (copytruncate) or replaced
// in place. What the old content had beyond the read offset is read first from its copy
// (readCopy) when one is found; then a partial line read before belongs to the old
// content and is emitted; then contents copied and truncated away since, never seen
// here, are read from their copies (readMissed).
func (r *run) restart(h *harvester, why string) error {
	r.f.log.Info("file truncated: reading it again from the start", "file", h.path, "why", why,
		"offset", h.readPos)
	if err := r.readCopy(h); err != nil {
		return err
	}
	if err := r.flushPartial(h); err != nil {
		return err
	}
	h.fp, h.offset, h.readPos, h.line = nil, 0, 0, 0
	if _, err := r.readMissed(h); err != nil {
		return err
	}
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", h.path, err)
	}
	r.f.count.truncations.Add(1)
	h.fp, h.offset, h.readPos, h.line = nil, 0, 0, 0
	h.lastGrowth = time.Now()
	return nil
}

// readCopy reads the rest of h's old content from the copy that copytruncate made of
// it, before the file is read again from its start: the lines written after the
// follower's last read and before the truncation are only there. The copy is a regular
// file beside the followed one whose name starts with the followed name ("app.log.1",
// "app.log-20260101"), another file than h's, at least as long as what was read, and
// starting with h's fingerprint (the old content's first line: another generation's
// copy, or a compressed one, does not). Its lines get the keys they would have had in
// the original (h's identity, fingerprint and offsets), so a line is never stored twice.
// Without a fingerprint (nothing read from offset 0) or a copy, nothing is read.
func (r *run) readCopy(h *harvester) error {
	if h.fp == nil {
		return nil
	}
	for _, c := range r.copies(h, false) {
		if c.fp == nil || *c.fp != *h.fp || c.size < h.readPos {
			continue
		}
		h.copies[c.id] = true
		return r.readFrom(h, c, h.readPos)
	}
	return nil
}

// readMissed reads, whole and oldest first, the copies of contents h never read a line
// of: copies that were not there when h opened its file, not read already, with a first
// line unlike the file's current one (that is a copy of what is still to be read
// here), and, with a glob, not matched by it (unless held as h's copy): those are
// followed with their own keys. Copy and truncate may run several times between two polls; each content's lines
// are keyed as they would have been in the original. h is at offset 0 with no
// fingerprint, and is left so.
func (r *run) readMissed(h *harvester) (cur *fingerprint, err error) {
	cur, err = fileFingerprint(h.f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.path, err)
	}
	for _, c := range r.copies(h, false) {
		if c.fp == nil || h.copies[c.id] || (cur != nil && *c.fp == *cur) {
			continue
		}
		if r.f.glob && !r.isCopyOf(c.id, h) && r.f.matches(c.path) {
			// The glob follows it as a file of its own, with its own keys: also when it
			// is not a copy but a file renamed by a rotation the follower has not seen.
			continue
		}
		h.copies[c.id] = true
		if err := r.readFrom(h, c, 0); err != nil {
			return nil, err
		}
		if err := r.flushPartial(h); err != nil {
			return nil, err
		}
		h.fp, h.offset, h.readPos, h.line = nil, 0, 0, 0
	}
	return cur, nil
}

// copyFile is a candidate copy of one of h's contents.
type copyFile struct {
	path string
	id   fileID
	size int64
	mod  time.Time
	fp   *fingerprint
}

// copies lists the regular files beside h's followed name whose names start with it,
// other than the files being followed (h's, and those a glob matched or a rename
// rotated; all keeps those too), oldest first.
//
// With a glob, a copy may be matched too ("app.log*"): one the scan has not opened yet
// is listed (its harvester then starts where h stopped reading it, r.consumed), one
// followed as a copy of h (copyOf) too; one followed as a file of its own is not.
func (r *run) copies(h *harvester, all bool) []copyFile {
	dir, base := filepath.Dir(h.was), filepath.Base(h.was)
	list, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []copyFile
	for _, de := range list {
		if !strings.HasPrefix(de.Name(), base) || de.Name() == base || !de.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, de.Name())
		fh, err := os.Open(p)
		if err != nil {
			continue
		}
		st, err := fh.Stat()
		var fp *fingerprint
		if err == nil {
			fp, err = fileFingerprint(fh)
		}
		fh.Close()
		if err != nil {
			continue
		}
		id, _ := identityOf(st)
		if id == h.id || (!all && r.following(id) && !r.isCopyOf(id, h)) {
			continue // a file renamed by a rotation is followed by its own harvester
		}
		out = append(out, copyFile{path: p, id: id, size: st.Size(), mod: st.ModTime(), fp: fp})
	}
	slices.SortFunc(out, func(a, b copyFile) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	return out
}

// readFrom reads copy c from offset from to its end into h, as if it were h's file.
func (r *run) readFrom(h *harvester, c copyFile, from int64) error {
	cp, err := os.Open(c.path)
	if err != nil {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	defer cp.Close()
	if _, err := cp.Seek(from, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	lines, start := h.line, h.readPos
	for {
		n, rerr := cp.Read(h.buf)
		if n > 0 {
			h.readPos += int64(n)
			err := r.split(h, h.buf[:n])
			r.f.count.bytes.Add(uint64(n))
			if err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || (n == 0 && rerr == nil) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("%s: %w", c.path, rerr)
		}
	}
	r.f.count.copiesRead.Add(1)
	r.f.log.Info("file truncated: read lines of its content from the copy", "file", h.path, "copy", c.path,
		"from_offset", from, "to_offset", h.readPos, "lines", h.line-lines)
	// Every byte of the copy is h's now (a last line without a newline is flushed as
	// h's by the caller): a glob that matches the copy follows it from its end on.
	fp := c.fp
	r.release(c.id, c.path, position{end: from + (h.readPos - start), line: h.line, fp: fp})
	return nil
}

// matches reports whether the followed glob matches path.
func (f *Follower) matches(path string) bool {
	ok, _ := filepath.Match(f.cfg.Path, path)
	return ok
}

// isCopyOf reports whether the file id is followed as a copy of h's content.
func (r *run) isCopyOf(id fileID, h *harvester) bool {
	for _, c := range r.hs {
		if c.id == id {
			return c.copyOf == h
		}
	}
	return false
}

// release lets the copy id (at path) go on as a file of its own from pos, its content
// before pos read as another file's: a harvester waiting as a copy starts reading there;
// a copy the glob matches and the scan has not opened yet will start there (consumed).
func (r *run) release(id fileID, path string, pos position) {
	for _, c := range r.hs {
		if c.id != id {
			continue
		}
		if c.copyOf == nil {
			return
		}
		if _, err := c.f.Seek(pos.end, io.SeekStart); err != nil {
			r.f.log.Warn("cannot seek a copy past what was read from it", "file", c.path, "error", err)
		}
		c.copyOf = nil
		c.fp, c.offset, c.readPos, c.line = pos.fp, pos.end, pos.end, pos.line
		c.lastGrowth = time.Now()
		r.startTracking(c, pos)
		r.f.log.Info("following a copy from where its content was read as the other file's", "file", c.path, "offset", pos.end, "line", pos.line)
		return
	}
	if r.f.glob {
		if r.f.matches(path) {
			if r.consumed == nil {
				r.consumed = map[fileID]position{}
			}
			r.consumed[id] = pos
		}
	}
}

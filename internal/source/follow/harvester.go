package follow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
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
}

func newHarvester(f *os.File, path string, id fileID, start position, st os.FileInfo) *harvester {
	return &harvester{f: f, path: path, was: path, id: id, matched: true, fp: start.fp, offset: start.end,
		readPos: start.end, line: start.line, lastGrowth: time.Now(), lastSize: st.Size(),
		lastMod: st.ModTime(), buf: make([]byte, readBuf)}
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
	if _, err := r.refresh(h); err != nil {
		return false, err
	}
	for total := 0; total < readBudget; {
		n, rerr := h.f.Read(h.buf)
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
// in place. A partial line read before belongs to the old content and is emitted.
func (r *run) restart(h *harvester, why string) error {
	if err := r.flushPartial(h); err != nil {
		return err
	}
	if _, err := h.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", h.path, err)
	}
	r.f.log.Info("file truncated: reading it again from the start", "file", h.path, "why", why,
		"offset", h.readPos)
	r.f.count.truncations.Add(1)
	h.fp, h.offset, h.readPos, h.line = nil, 0, 0, 0
	h.lastGrowth = time.Now()
	return nil
}

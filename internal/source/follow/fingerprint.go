package follow

import (
	"bytes"
	"errors"
	"hash/fnv"
	"io"
	"os"
)

// fpMax caps the bytes a fingerprint covers.
const fpMax = 1024

// fingerprint identifies one content generation of a file: the FNV-1a hash of its first
// line (with the newline), or of its first fpMax bytes when that line is longer.
//
// Device and inode alone do not identify what a file holds: copytruncate empties the same
// inode and writes it again from offset 0, and a deleted file's inode is soon given to a
// new file. The first line of a log carries a timestamp, so after either the fingerprint
// differs. It is part of every record key (offsets restart at 0 after a copytruncate
// and must not repeat the keys of the lines before it) and of every checkpoint (a
// checkpoint is only resumed if the file still starts with the same bytes).
//
// The covered bytes are fixed once the file has a newline or fpMax bytes, and a file
// only yields a line then, so the fingerprint a line is keyed with is the same whenever
// the file is read again. A fingerprint is nil while nothing has been read from offset 0.
type fingerprint struct {
	sum uint64
	n   int // bytes covered
}

// firstLineFingerprint is the fingerprint of a file whose first line is text; newline
// says whether the line ended with one (false for a partial line emitted as it is).
func firstLineFingerprint(text []byte, newline bool) *fingerprint {
	h := fnv.New64a()
	n := min(len(text), fpMax)
	h.Write(text[:n])
	if newline && n < fpMax {
		h.Write([]byte{'\n'})
		n++
	}
	return &fingerprint{sum: h.Sum64(), n: n}
}

// dataFingerprint is the fingerprint of a content that starts with data, or nil when
// data holds neither a newline nor fpMax bytes.
func dataFingerprint(data []byte) *fingerprint {
	if i := bytes.IndexByte(data[:min(len(data), fpMax)], '\n'); i >= 0 {
		return firstLineFingerprint(data[:i], true)
	}
	if len(data) >= fpMax {
		return firstLineFingerprint(data[:fpMax], false)
	}
	return nil
}

// fileFingerprint reads the fingerprint of the file as it is now, or nil when it has
// neither a newline nor fpMax bytes yet.
func fileFingerprint(f *os.File) (*fingerprint, error) {
	buf := make([]byte, fpMax)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return dataFingerprint(buf[:n]), nil
}

// matches reports whether the file still starts with the bytes fp was taken from.
func (fp *fingerprint) matches(f *os.File) (bool, error) {
	buf := make([]byte, fp.n)
	if _, err := f.ReadAt(buf, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil // shorter than the fingerprint: not the same content
		}
		return false, err
	}
	h := fnv.New64a()
	h.Write(buf)
	return h.Sum64() == fp.sum, nil
}

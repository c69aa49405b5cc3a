package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line kept whole. Longer lines are cut there (and reported as
// truncated) so that one damaged file cannot make the reader hold gigabytes.
const MaxLine = 1 << 20

// Line is one line of a stream, without its terminator ("\n"; a "\r" before it is kept
// for the parser to remove). Text is only valid until the next line is read.
type Line struct {
	Text      []byte
	N         int64 // 1-based line number
	Truncated int64 // bytes cut off beyond MaxLine
}

// ReadLines calls fn for every line of r, in constant memory whatever the file's size.
// A last line without a newline is still a line. Cancellation is checked between lines.
func ReadLines(ctx context.Context, r io.Reader, fn func(Line) error) error {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64*1024 {
		br = bufio.NewReaderSize(r, 64*1024)
	}
	var long []byte // only used for lines longer than the buffer
	var n int64
	for {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		text, truncated, err := readLine(br, &long)
		if len(text) == 0 && errors.Is(err, io.EOF) && truncated == 0 {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", n+1, err)
		}
		n++
		if ferr := fn(Line{Text: text, N: n, Truncated: truncated}); ferr != nil {
			return ferr
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// readLine returns the next line. Lines that fit the buffer are returned in place (no
// copy); longer ones are gathered in *long up to MaxLine and the rest is skipped.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, int64, error) {
	frag, err := br.ReadSlice('\n')
	if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
		return trimNewline(frag), 0, err
	}
	buf := append((*long)[:0], frag...)
	var truncated int64
	for errors.Is(err, bufio.ErrBufferFull) {
		frag, err = br.ReadSlice('\n')
		room := MaxLine - len(buf)
		switch {
		case room >= len(frag):
			buf = append(buf, frag...)
		case room > 0:
			buf = append(buf, frag[:room]...)
			truncated += int64(len(frag) - room)
		default:
			truncated += int64(len(frag))
		}
	}
	if truncated > 0 && len(frag) > 0 && frag[len(frag)-1] == '\n' {
		truncated-- // the newline itself was not content
	}
	*long = buf
	return trimNewline(buf), truncated, err
}

func trimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}

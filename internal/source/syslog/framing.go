package syslog

import (
	"bufio"
	"errors"
	"io"
)

// maxCountDigits bounds the octet count of RFC 6587: nine digits is already far beyond
// any MaxMessage, and a longer run of digits is not a count.
const maxCountDigits = 9

// frameReader splits a TCP or TLS stream into syslog messages. Each frame is recognised
// on its own, as rsyslog's imtcp does, so a sender may mix the two framings of RFC 6587:
//
//   - octet counting: "<len> <msg>", where <len> is the decimal byte count of <msg>;
//   - non-transparent framing: the message ends at a newline ("octet stuffing").
//
// A frame counts as octet-counted only when its digits are followed by one space and a
// "<": a syslog message starts with its <PRI>, and that check keeps a newline-framed line
// that merely starts with digits (a Luna file line, "2026 Nov 22 ...") from being read as
// a count. Messages longer than max are cut there; the rest of the frame is skipped and
// counted, never taken for the next message. Line breaks and NULs between frames are
// skipped (some senders end octet-counted frames with a newline anyway).
type frameReader struct {
	br  *bufio.Reader
	max int
	buf []byte // the current message; reused, so memory per connection stays at max
	// begin, when set, is called when a frame's first byte has arrived, before max is
	// used: the connection takes the settings of a Reconfigure there, so that a message
	// that starts after the call is read with them, whole.
	begin func()
}

func newFrameReader(br *bufio.Reader, max int) *frameReader {
	return &frameReader{br: br, max: max}
}

// next returns the next message (valid until the next call), the bytes cut from it
// beyond max (or missing when the stream ended inside an octet-counted frame), and
// whether it was octet-counted. A message can come with an error (the stream ended in the
// middle of it): the caller handles the message, then the error. A clean end is io.EOF
// with no message.
func (fr *frameReader) next() (msg []byte, cut int64, octet bool, err error) {
	for {
		c, err := fr.br.ReadByte()
		if err != nil {
			return nil, 0, false, err
		}
		if c == '\n' || c == '\r' || c == 0 {
			continue
		}
		_ = fr.br.UnreadByte() // cannot fail right after ReadByte
		break
	}
	if fr.begin != nil {
		fr.begin()
	}
	n, ok := fr.octetCount()
	if !ok {
		msg, cut, err := fr.line()
		return msg, cut, false, err
	}
	if n == 0 {
		return fr.buf[:0], 0, true, nil // an empty frame: nothing to report, but not an error
	}
	keep := min(n, fr.max)
	if cap(fr.buf) < keep {
		fr.buf = make([]byte, keep)
	}
	got, err := io.ReadFull(fr.br, fr.buf[:keep])
	msg = fr.buf[:got]
	if err != nil {
		return msg, int64(n - got), true, unexpected(err)
	}
	if n > keep {
		skipped, err := fr.br.Discard(n - keep)
		if err != nil {
			return msg, int64(n - keep), true, unexpected(err)
		}
		cut = int64(skipped)
	}
	return msg, cut, true, nil
}

// octetCount reads the "<len> " header of an octet-counted frame. It consumes nothing
// when the frame is not one.
func (fr *frameReader) octetCount() (int, bool) {
	n := 0
	for i := 0; ; i++ {
		// Peek asks for one byte more each time: a sender of a well-formed frame sends
		// these bytes, so this never waits for data that is not coming.
		p, err := fr.br.Peek(i + 1)
		if err != nil {
			return 0, false
		}
		c := p[i]
		switch {
		case c >= '0' && c <= '9':
			if i == maxCountDigits || (i == 1 && p[0] == '0') {
				return 0, false // too long, or a leading zero: not a count
			}
			n = n*10 + int(c-'0')
			continue
		case c == ' ' && i > 0:
			p, err := fr.br.Peek(i + 2)
			if err != nil || p[i+1] != '<' {
				return 0, false
			}
			_, _ = fr.br.Discard(i + 1) // peeked: cannot fail
			return n, true
		}
		return 0, false
	}
}

// line reads a newline-framed message, cut at max.
func (fr *frameReader) line() ([]byte, int64, error) {
	buf := fr.buf[:0]
	var cut int64
	for {
		frag, err := fr.br.ReadSlice('\n')
		text := frag
		if err == nil {
			text = frag[:len(frag)-1]
		}
		room := fr.max - len(buf)
		if room >= len(text) {
			buf = append(buf, text...)
		} else {
			buf = append(buf, text[:max(room, 0)]...)
			cut += int64(len(text) - max(room, 0))
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		fr.buf = buf
		if err != nil && len(buf) == 0 && cut == 0 {
			return nil, 0, err
		}
		if errors.Is(err, io.EOF) {
			err = nil // the stream's last line needs no newline; the next call says EOF
		}
		return buf, cut, err
	}
}

// unexpected turns the end of the stream inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

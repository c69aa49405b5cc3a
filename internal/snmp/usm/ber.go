package usm

import (
	"errors"
	"fmt"
)

// This file reads the few BER elements that must be seen before gosnmp decodes a PDU:
// the message version, the v1/v2c community, and the SNMPv3 header and USM security
// parameters, whose byte offsets authentication needs. gosnmp's decoder does not expose
// those offsets, and a bad community or an unknown user must be refused before any PDU
// work is done.

// BER tags used in message headers.
const (
	TagInteger     = 0x02
	TagOctetString = 0x04
	TagSequence    = 0x30
)

// ErrTruncated is returned for an element longer than what is left of its container.
var ErrTruncated = errors.New("truncated BER element")

// Element is one decoded TLV: its tag, its content, and where the element (Start) and
// its content (Offset) begin in the buffer the reader was created on.
type Element struct {
	Tag     byte
	Content []byte
	Start   int
	Offset  int
}

// Raw returns the whole TLV from buf, the buffer the reader was created on.
func (e Element) Raw(buf []byte) []byte { return buf[e.Start : e.Offset+len(e.Content)] }

// Reader walks the elements of one constructed value.
type Reader struct {
	buf []byte // the whole message, so that offsets are absolute
	pos int
	end int
}

// NewReader reads the elements at the top of buf.
func NewReader(buf []byte) *Reader { return &Reader{buf: buf, end: len(buf)} }

// Enter returns a reader over the content of e.
func (r *Reader) Enter(e Element) *Reader {
	return &Reader{buf: r.buf, pos: e.Offset, end: e.Offset + len(e.Content)}
}

// More reports whether elements are left.
func (r *Reader) More() bool { return r.pos < r.end }

// Next reads one element; only definite lengths of up to 4 bytes are accepted, which is
// every length a UDP datagram can hold.
func (r *Reader) Next() (Element, error) {
	if r.end-r.pos < 2 {
		return Element{}, ErrTruncated
	}
	tag := r.buf[r.pos]
	if tag&0x1F == 0x1F {
		return Element{}, fmt.Errorf("multi-byte BER tag %#x", tag)
	}
	n := int(r.buf[r.pos+1])
	p := r.pos + 2
	if n&0x80 != 0 {
		k := n & 0x7F
		if k == 0 || k > 4 || r.end-p < k {
			return Element{}, fmt.Errorf("bad BER length form %#x", n)
		}
		n = 0
		for _, b := range r.buf[p : p+k] {
			n = n<<8 | int(b)
		}
		p += k
	}
	if n < 0 || n > r.end-p {
		return Element{}, ErrTruncated
	}
	start := r.pos
	r.pos = p + n
	return Element{Tag: tag, Content: r.buf[p : p+n], Start: start, Offset: p}, nil
}

// Expect reads one element and checks its tag.
func (r *Reader) Expect(tag byte, what string) (Element, error) {
	e, err := r.Next()
	if err != nil {
		return e, fmt.Errorf("%s: %w", what, err)
	}
	if e.Tag != tag {
		return e, fmt.Errorf("%s: tag %#x, want %#x", what, e.Tag, tag)
	}
	return e, nil
}

// Integer reads an INTEGER that must fit in 32 bits signed or unsigned; the callers
// (version, msgID, msgMaxSize, boots, time, request-id) are all in that range.
func (r *Reader) Integer(what string) (int64, error) {
	e, err := r.Expect(TagInteger, what)
	if err != nil {
		return 0, err
	}
	c := e.Content
	if len(c) == 0 || len(c) > 5 {
		return 0, fmt.Errorf("%s: integer of %d bytes", what, len(c))
	}
	v := int64(int8(c[0])) // sign-extend the first byte
	for _, b := range c[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// Octets reads an OCTET STRING.
func (r *Reader) Octets(what string) (Element, error) {
	return r.Expect(TagOctetString, what)
}

// AppendLength appends a BER definite length.
func AppendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

package snmpagent

import (
	"errors"
	"fmt"
)

// This file reads the few BER elements the agent must see before gosnmp decodes a PDU:
// the message version, the v1/v2c community, and the SNMPv3 header and USM security
// parameters, whose byte offsets authentication needs. gosnmp's decoder does not
// expose those offsets, and a bad community or an unknown user must be refused
// before any PDU work is done.

// BER tags used in message headers.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagSequence    = 0x30
)

var errTruncated = errors.New("truncated BER element")

// element is one decoded TLV: its tag, its content, and where the element and its
// content start in the buffer the reader was created on.
type element struct {
	tag     byte
	content []byte
	start   int
	offset  int
}

// raw returns the whole TLV from buf, the buffer the reader was created on.
func (e element) raw(buf []byte) []byte { return buf[e.start : e.offset+len(e.content)] }

// berReader walks the elements of one constructed value.
type berReader struct {
	buf []byte // the whole message, so that offsets are absolute
	pos int
	end int
}

func newBERReader(buf []byte) *berReader { return &berReader{buf: buf, end: len(buf)} }

// enter returns a reader over the content of e.
func (r *berReader) enter(e element) *berReader {
	return &berReader{buf: r.buf, pos: e.offset, end: e.offset + len(e.content)}
}

func (r *berReader) more() bool { return r.pos < r.end }

// next reads one element; only definite lengths of up to 4 bytes are accepted, which
// is every length a UDP datagram can hold.
func (r *berReader) next() (element, error) {
	if r.end-r.pos < 2 {
		return element{}, errTruncated
	}
	tag := r.buf[r.pos]
	if tag&0x1F == 0x1F {
		return element{}, fmt.Errorf("multi-byte BER tag %#x", tag)
	}
	n := int(r.buf[r.pos+1])
	p := r.pos + 2
	if n&0x80 != 0 {
		k := n & 0x7F
		if k == 0 || k > 4 || r.end-p < k {
			return element{}, fmt.Errorf("bad BER length form %#x", n)
		}
		n = 0
		for _, b := range r.buf[p : p+k] {
			n = n<<8 | int(b)
		}
		p += k
	}
	if n < 0 || n > r.end-p {
		return element{}, errTruncated
	}
	start := r.pos
	r.pos = p + n
	return element{tag: tag, content: r.buf[p : p+n], start: start, offset: p}, nil
}

// expect reads one element and checks its tag.
func (r *berReader) expect(tag byte, what string) (element, error) {
	e, err := r.next()
	if err != nil {
		return e, fmt.Errorf("%s: %w", what, err)
	}
	if e.tag != tag {
		return e, fmt.Errorf("%s: tag %#x, want %#x", what, e.tag, tag)
	}
	return e, nil
}

// integer reads an INTEGER that must fit in 32 bits signed or unsigned; the callers
// (version, msgID, msgMaxSize, boots, time) are all in 0..2^31-1.
func (r *berReader) integer(what string) (int64, error) {
	e, err := r.expect(tagInteger, what)
	if err != nil {
		return 0, err
	}
	c := e.content
	if len(c) == 0 || len(c) > 5 {
		return 0, fmt.Errorf("%s: integer of %d bytes", what, len(c))
	}
	v := int64(int8(c[0])) // sign-extend the first byte
	for _, b := range c[1:] {
		v = v<<8 | int64(b)
	}
	return v, nil
}

// octets reads an OCTET STRING.
func (r *berReader) octets(what string) (element, error) {
	return r.expect(tagOctetString, what)
}

// appendLength appends a BER definite length.
func appendLength(b []byte, n int) []byte {
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

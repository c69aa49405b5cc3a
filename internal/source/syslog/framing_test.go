package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

type frame struct {
	msg   string
	cut   int64
	octet bool
}

func readFrames(t testing.TB, in string, max int) ([]frame, error) {
	fr := newFrameReader(bufio.NewReaderSize(strings.NewReader(in), 16), max) // a tiny buffer: long lines take the slow path
	var out []frame
	for i := 0; ; i++ {
		if i > len(in)+2 {
			t.Fatalf("no progress after %d frames of %d bytes", i, len(in))
		}
		msg, cut, octet, err := fr.next()
		if len(msg) > 0 || cut > 0 {
			out = append(out, frame{string(msg), cut, octet})
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
	}
}

func TestFraming(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		want     []frame
		err      error
	}{
		{"newline", "<13>a\n<13>b\n", 100, []frame{{"<13>a", 0, false}, {"<13>b", 0, false}}, nil},
		{"last line without newline", "<13>a\n<13>b", 100, []frame{{"<13>a", 0, false}, {"<13>b", 0, false}}, nil},
		{"crlf and blank lines", "<13>a\r\n\r\n\n<13>b\n", 100, []frame{{"<13>a\r", 0, false}, {"<13>b", 0, false}}, nil},
		{"octet", "5 <13>a6 <13>bc", 100, []frame{{"<13>a", 0, true}, {"<13>bc", 0, true}}, nil},
		{"octet with newline inside", "11 <13>a\nline2", 100, []frame{{"<13>a\nline2", 0, true}}, nil},
		{"octet then newline after", "5 <13>a\n5 <13>b\n", 100, []frame{{"<13>a", 0, true}, {"<13>b", 0, true}}, nil},
		{"mixed per frame", "5 <13>a<13>b\n6 <13>cd", 100,
			[]frame{{"<13>a", 0, true}, {"<13>b", 0, false}, {"<13>cd", 0, true}}, nil},
		{"digits that are not a count", "2026 Nov 22 05:31:30 myLuna local5 info x\n", 100,
			[]frame{{"2026 Nov 22 05:31:30 myLuna local5 info x", 0, false}}, nil},
		{"count without a PRI after it", "12 apples\n", 100, []frame{{"12 apples", 0, false}}, nil},
		{"leading zero is not a count", "05 <13>a\n", 100, []frame{{"05 <13>a", 0, false}}, nil},
		{"ten digits are not a count", "1234567890 <13>a\n", 100, []frame{{"1234567890 <13>a", 0, false}}, nil},
		{"empty octet frame", "0 <5 <13>a", 100, []frame{{"<5 <13>a", 0, false}}, nil},
		{"octet cut at max", "10 <13>abcdef5 <13>x", 4, []frame{{"<13>", 6, true}, {"<13>", 1, true}}, nil},
		{"line cut at max", strings.Repeat("x", 50) + "\n<13>y\n", 10,
			[]frame{{strings.Repeat("x", 10), 40, false}, {"<13>y", 0, false}}, nil},
		{"octet frame cut by the end", "10 <13>ab", 100, []frame{{"<13>ab", 4, true}}, io.ErrUnexpectedEOF},
		{"nothing", "", 100, nil, nil},
		{"only line breaks", "\n\r\n\x00", 100, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readFrames(t, tc.in, tc.max)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// FuzzOctetFraming feeds the frame reader arbitrary streams: it must not panic, must
// make progress, must keep every message within max and never invent bytes; and any
// list of syslog messages, octet-counted, must come back unchanged.
func FuzzOctetFraming(f *testing.F) {
	for _, s := range []string{"5 <13>a", "<13>a\n", "12 apples\n", "0 <", "999999999 <", "10 <13>ab",
		"5 <13>a<13>b\n6 <13>cd", "\x00\r\n", "1 <\n"} {
		f.Add([]byte(s), uint8(8))
	}
	f.Fuzz(func(t *testing.T, data []byte, maxB uint8) {
		max := int(maxB) + 1
		frames, _ := readFrames(t, string(data), max)
		var kept int
		for _, fr := range frames {
			if len(fr.msg) > max {
				t.Fatalf("message of %d bytes with max %d", len(fr.msg), max)
			}
			kept += len(fr.msg)
		}
		if kept > len(data) {
			t.Fatalf("%d message bytes from %d input bytes", kept, len(data))
		}

		// Round trip: the input split into messages that start with a PRI.
		var msgs []string
		var stream bytes.Buffer
		for _, part := range bytes.Split(data, []byte{0xff}) {
			m := "<" + string(part)
			msgs = append(msgs, m)
			fmt.Fprintf(&stream, "%d %s", len(m), m)
		}
		back, err := readFrames(t, stream.String(), len(stream.String())+1)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if len(back) != len(msgs) {
			t.Fatalf("round trip: %d messages back of %d", len(back), len(msgs))
		}
		for i := range msgs {
			if back[i].msg != msgs[i] || !back[i].octet || back[i].cut != 0 {
				t.Fatalf("round trip %d: %+v, want %q", i, back[i], msgs[i])
			}
		}
	})
}

package event

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// referenceQuoted is the byte-at-a-time encoder AppendJSON used before the word-at-a-time
// one: the new encoder must write the very same bytes.
func referenceQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// reference is the schema v1 object as encoding/json writes it: the same keys in the
// same order, empty ones left out.
type reference struct {
	Time         *time.Time      `json:"time,omitempty"`
	Host         string          `json:"host,omitempty"`
	Source       string          `json:"source,omitempty"`
	Facility     string          `json:"facility,omitempty"`
	Severity     string          `json:"severity,omitempty"`
	Process      string          `json:"process,omitempty"`
	PID          int             `json:"pid,omitempty"`
	Message      string          `json:"message,omitempty"`
	Component    string          `json:"component,omitempty"`
	Class        string          `json:"class,omitempty"`
	Rule         string          `json:"rule,omitempty"`
	Title        string          `json:"title,omitempty"`
	Level        string          `json:"level,omitempty"`
	Notification string          `json:"notification,omitempty"`
	Assert       *bool           `json:"assert,omitempty"`
	Cleared      string          `json:"cleared,omitempty"`
	Test         bool            `json:"test,omitempty"`
	Fields       json.RawMessage `json:"fields,omitempty"`
	Input        string          `json:"input,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	Raw          string          `json:"raw"`
}

func referenceJSON(t *testing.T, e *Event) []byte {
	r := reference{Host: e.Host, Source: e.Source, Facility: e.Facility, Severity: e.Severity,
		Process: e.Process, PID: e.PID, Message: e.Message, Component: e.Component, Class: e.Class,
		Rule: e.Rule, Title: e.Title, Level: e.Level, Notification: e.Notification,
		Cleared: e.Cleared, Test: e.Test, Input: e.Input, Reason: e.Reason, Raw: e.Raw}
	if !e.Time.IsZero() {
		r.Time = &e.Time
	}
	if e.Assert != Unset {
		b := e.Assert == True
		r.Assert = &b
	}
	if len(e.Fields) > 0 {
		var buf bytes.Buffer
		buf.WriteByte('{')
		for i, f := range e.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(f.Key)
			buf.Write(k)
			buf.WriteByte(':')
			var v any
			switch f.Kind {
			case KindInt:
				v = f.Int
			case KindFloat:
				v = f.Float
			case KindBool:
				v = f.Int != 0
			default:
				v = f.Str
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
		}
		buf.WriteByte('}')
		r.Fields = buf.Bytes()
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzEventJSON builds events from fuzzed text, the message a slice of the raw line as
// the parsers cut it (so that the encoder's reuse of the message's encoding is
// exercised), and checks AppendJSON two ways: byte for byte against the same object
// written with the reference encoder, and value for value against encoding/json (which
// escapes <, > and & and writes some control characters differently, so the bytes may
// differ but the decoded values may not).
func FuzzEventJSON(f *testing.F) {
	for _, s := range []string{
		"Nov 22 05:31:30 web01 sshd[20412]: Accepted publickey for deploy from 10.1.2.3 port 51234",
		"2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor \"Fan3B\" \\ going low\t\x01",
		"h\xffost: message with invalid \xe2\x82 bytes and é€😀 and \u2028\u2029 <>& plain tail text",
		"\xe2message plain ascii text of some length\x82",
	} {
		f.Add(s, 22, 0, int64(7), 1.5)
	}
	f.Fuzz(func(t *testing.T, raw string, cut, trim int, n int64, x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			x = 0 // JSON has no NaN or infinity; no parser writes them
		}
		if cut < 0 {
			cut = -cut
		}
		if trim < 0 {
			trim = -trim
		}
		msg := ""
		if len(raw) > 0 {
			cut %= len(raw) + 1
			end := len(raw) - trim%(len(raw)-cut+1)
			msg = raw[cut:end]
		}
		e := Event{Time: time.Unix(n%(1<<40), n%1e9).UTC(), Host: msg[:len(msg)/3], Source: "luna-syslog",
			Process: raw[:len(raw)/4], PID: int(n % 100000), Message: msg, Rule: "r", Level: "info",
			Assert: Tri(uint64(n) % 3), Test: n%2 == 0, Input: "in:" + strconv.FormatInt(n, 10), Raw: raw}
		e.Fields.SetString(raw[len(raw)/2:], msg)
		e.Fields.SetInt("n", n)
		e.Fields.SetFloat("x", x)
		e.Fields.SetBool("b", n%3 == 0)
		got := e.AppendJSON(nil)

		want := referenceEncode(&e)
		if !bytes.Equal(got, want) {
			t.Fatalf("bytes differ from the reference encoder\n got  %s\n want %s", got, want)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("invalid JSON %s: %v", got, err)
		}
		if err := json.Unmarshal(referenceJSON(t, &e), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("values differ from encoding/json\n got  %v\n want %v", g, w)
		}
	})
}

// referenceEncode is AppendJSON with every string written by referenceQuoted.
func referenceEncode(e *Event) []byte {
	str := func(dst []byte, key, v string) []byte {
		if v == "" {
			return dst
		}
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		return append(referenceQuoted(dst, v), ',')
	}
	dst := []byte{'{'}
	if !e.Time.IsZero() {
		dst = append(dst, `"time":"`...)
		dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `",`...)
	}
	dst = str(dst, "host", e.Host)
	dst = str(dst, "source", e.Source)
	dst = str(dst, "facility", e.Facility)
	dst = str(dst, "severity", e.Severity)
	dst = str(dst, "process", e.Process)
	if e.PID != 0 {
		dst = append(dst, `"pid":`...)
		dst = strconv.AppendInt(dst, int64(e.PID), 10)
		dst = append(dst, ',')
	}
	dst = str(dst, "message", e.Message)
	dst = str(dst, "component", e.Component)
	dst = str(dst, "class", e.Class)
	dst = str(dst, "rule", e.Rule)
	dst = str(dst, "title", e.Title)
	dst = str(dst, "level", e.Level)
	dst = str(dst, "notification", e.Notification)
	if e.Assert != Unset {
		dst = append(dst, `"assert":`...)
		dst = strconv.AppendBool(dst, e.Assert == True)
		dst = append(dst, ',')
	}
	dst = str(dst, "cleared", e.Cleared)
	if e.Test {
		dst = append(dst, `"test":true,`...)
	}
	if len(e.Fields) > 0 {
		dst = append(dst, `"fields":{`...)
		for i, f := range e.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = referenceQuoted(dst, f.Key)
			dst = append(dst, ':')
			switch f.Kind {
			case KindInt:
				dst = strconv.AppendInt(dst, f.Int, 10)
			case KindFloat:
				dst = strconv.AppendFloat(dst, f.Float, 'g', -1, 64)
			case KindBool:
				dst = strconv.AppendBool(dst, f.Int != 0)
			default:
				dst = referenceQuoted(dst, f.Str)
			}
		}
		dst = append(dst, `},`...)
	}
	dst = str(dst, "input", e.Input)
	dst = str(dst, "reason", e.Reason)
	dst = append(dst, `"raw":`...)
	dst = referenceQuoted(dst, e.Raw)
	return append(dst, '}')
}

package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// AppendJSON appends the schema v1 JSON object of e to dst, without a newline.
// Empty fields are left out; raw is always written.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if !e.Time.IsZero() {
		dst = append(dst, `"time":"`...)
		dst = appendTime(dst, e.Time)
		dst = append(dst, `",`...)
	}
	dst = appendStr(dst, `"host":"`, e.Host)
	dst = appendStr(dst, `"source":"`, e.Source)
	dst = appendStr(dst, `"facility":"`, e.Facility)
	dst = appendStr(dst, `"severity":"`, e.Severity)
	dst = appendStr(dst, `"process":"`, e.Process)
	if e.PID != 0 {
		dst = append(dst, `"pid":`...)
		dst = strconv.AppendInt(dst, int64(e.PID), 10)
		dst = append(dst, ',')
	}
	msgAt, msgPlain := 0, false
	if e.Message != "" {
		dst = append(dst, `"message":"`...)
		msgAt = len(dst)
		dst, msgPlain = appendQuotedBody(dst, e.Message)
		dst = append(dst, `",`...)
	}
	dst = appendStr(dst, `"component":"`, e.Component)
	dst = appendStr(dst, `"class":"`, e.Class)
	dst = appendStr(dst, `"rule":"`, e.Rule)
	dst = appendStr(dst, `"title":"`, e.Title)
	dst = appendStr(dst, `"level":"`, e.Level)
	dst = appendStr(dst, `"notification":"`, e.Notification)
	if e.Assert != Unset {
		dst = append(dst, `"assert":`...)
		dst = strconv.AppendBool(dst, e.Assert == True)
		dst = append(dst, ',')
	}
	dst = appendStr(dst, `"cleared":"`, e.Cleared)
	if e.Test {
		dst = append(dst, `"test":true,`...)
	}
	if len(e.Fields) > 0 {
		dst = append(dst, `"fields":{`...)
		for i, f := range e.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendQuoted(dst, f.Key)
			dst = append(dst, ':')
			dst = appendValue(dst, f)
		}
		dst = append(dst, `},`...)
	}
	dst = appendStr(dst, `"input":"`, e.Input)
	dst = appendStr(dst, `"reason":"`, e.Reason)
	dst = append(dst, `"raw":`...)
	dst = appendRaw(dst, e.Raw, e.Message, msgAt, msgPlain)
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e *Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

func appendValue(dst []byte, f Field) []byte {
	switch f.Kind {
	case KindInt:
		return strconv.AppendInt(dst, f.Int, 10)
	case KindFloat:
		return strconv.AppendFloat(dst, f.Float, 'g', -1, 64)
	case KindBool:
		return strconv.AppendBool(dst, f.Int != 0)
	default:
		return appendQuoted(dst, f.Str)
	}
}

// appendStr writes the member of a non-empty string v; open is its key with the
// quotes, the colon and the value's opening quote (`"host":"`), so that the member's
// punctuation costs two appends rather than six.
func appendStr(dst []byte, open, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, open...)
	dst, _ = appendQuotedBody(dst, v)
	return append(dst, '"', ',')
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json
// does, so that every line of a damaged log still yields valid JSON.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst, _ = appendQuotedBody(dst, s)
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special8 returns, in the high bit of each byte, which of the eight bytes of x
// (little-endian) are not plain: the bytes a JSON string cannot hold as they are
// (below 0x20, a quote, a backslash) or that may need decoding (0x80 and above). A word
// of plain bytes gives 0; in one that is not, bytes above the first that is not plain
// may be marked too, which does not matter: such a word goes to the byte-wise path.
// Branch-free bit arithmetic on one word, so that the quoting loop costs a fraction of
// a nanosecond a byte on log text, which is nearly all plain.
func special8(x uint64) uint64 {
	ctl := (x - lsb*0x20) &^ x // high bit set where a byte is below 0x20 (or the word's high bit)
	q := x ^ (lsb * '"')       // zero bytes where x has a quote
	bs := x ^ (lsb * '\\')     // zero bytes where x has a backslash
	quote := (q - lsb) &^ q    // high bit where q has a zero byte
	back := (bs - lsb) &^ bs   // high bit where bs has a zero byte
	return (ctl | quote | back | x) & msb
}

// plain8 reports whether the eight bytes of x are all plain.
func plain8(x uint64) bool { return special8(x) == 0 }

// load8 reads s[i:i+8] as a little-endian word (the compiler merges the loads).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plainLen returns the length of the longest prefix of s made of plain bytes (plain8's),
// which a JSON string holds as they are: eight bytes a step, then the last eight bytes
// at once (overlapping bytes already checked) rather than one at a time.
func plainLen(s string) int {
	i := 0
	// Sixteen bytes a step: one test for two words halves the loop's overhead.
	for ; i+16 <= len(s); i += 16 {
		if special8(load8(s, i))|special8(load8(s, i+8)) != 0 {
			break
		}
	}
	for ; i+8 <= len(s); i += 8 {
		if !plain8(load8(s, i)) {
			return i + plainBytes(s[i:i+8])
		}
	}
	if i < len(s) && len(s) >= 8 && plain8(load8(s, len(s)-8)) {
		return len(s)
	}
	return i + plainBytes(s[i:])
}

// plainBytes returns the length of the longest prefix of s made of plain bytes, one
// byte at a time.
func plainBytes(s string) int {
	i := 0
	for ; i < len(s); i++ {
		if plainTable[s[i]] == 0 {
			break
		}
	}
	return i
}

// plainTable has 1 for the plain bytes (printable ASCII but '"' and '\\', and DEL),
// so that the byte-wise check of short strings (hosts, levels, sources) is one load.
const plainTable = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 0x00
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 0x10
	"\x01\x01\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 0x20: '"'
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 0x30
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 0x40
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x01\x01\x01" + // 0x50: '\\'
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 0x60
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 0x70
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 0x80 and above
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// appendQuotedBody writes s as the inside of a JSON string and reports whether s was all
// plain ASCII (plain8's bytes), written as it is. Log text nearly always is: it is
// checked first and copied in one append; the rest is escaped from its first byte that
// is not plain.
func appendQuotedBody(dst []byte, s string) ([]byte, bool) {
	n := plainLen(s)
	if n == len(s) {
		return append(dst, s...), true
	}
	return appendEscaped(dst, s, n), false
}

// appendEscaped writes s as the inside of a JSON string, its first n bytes known plain.
func appendEscaped(dst []byte, s string, n int) []byte {
	start, i := 0, n
	for i < len(s) {
		if i+8 <= len(s) && plain8(load8(s, i)) {
			i += 8
			continue
		}
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
				// Other control characters as \u00XX. <, > and & stay as they are: consumers
				// that render HTML escape on their own (the dashboard does).
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
	return append(dst, s[start:]...)
}

// appendRaw writes the raw line as a JSON string, reusing the message's encoding: the
// message is most often a slice of the line, already quoted a moment before at
// dst[msgAt:msgAt+len(msg)]. Only a message that was all plain ASCII is reused, so that
// cutting the line around it cannot change how an invalid UTF-8 sequence at the cut is
// read: the bytes either side of plain ASCII decode the same alone or together.
func appendRaw(dst []byte, raw, msg string, msgAt int, msgPlain bool) []byte {
	k := -1
	if msgPlain && len(msg) >= 16 {
		k = offsetIn(raw, msg)
	}
	if k < 0 {
		return appendQuoted(dst, raw)
	}
	dst = append(dst, '"')
	dst, _ = appendQuotedBody(dst, raw[:k])
	dst = append(dst, dst[msgAt:msgAt+len(msg)]...)
	dst, _ = appendQuotedBody(dst, raw[k+len(msg):])
	return append(dst, '"')
}

// offsetIn returns where sub lies in s when sub is a slice of s's bytes (the parsers cut
// messages out of the line without copying), else -1.
func offsetIn(s, sub string) int {
	if len(sub) > len(s) || len(s) == 0 {
		return -1
	}
	p, q := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(sub)))
	if q < p || q-p > uintptr(len(s)-len(sub)) {
		return -1
	}
	return int(q - p)
}

// wire is the decoding form of the schema v1 object.
type wire struct {
	Time         *time.Time                 `json:"time"`
	Host         string                     `json:"host"`
	Source       string                     `json:"source"`
	Facility     string                     `json:"facility"`
	Severity     string                     `json:"severity"`
	Process      string                     `json:"process"`
	PID          int                        `json:"pid"`
	Message      string                     `json:"message"`
	Component    string                     `json:"component"`
	Class        string                     `json:"class"`
	Rule         string                     `json:"rule"`
	Title        string                     `json:"title"`
	Level        string                     `json:"level"`
	Notification string                     `json:"notification"`
	Assert       *bool                      `json:"assert"`
	Cleared      string                     `json:"cleared"`
	Test         bool                       `json:"test"`
	Fields       map[string]json.RawMessage `json:"fields"`
	Input        string                     `json:"input"`
	Reason       string                     `json:"reason"`
	Raw          string                     `json:"raw"`
}

// UnmarshalJSON reads the schema v1 object. Field order is not kept (JSON objects have
// none); fields come back sorted by the order encoding/json yields, which tests must not
// depend on.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	*e = Event{Host: w.Host, Source: w.Source, Facility: w.Facility, Severity: w.Severity,
		Process: w.Process, PID: w.PID, Message: w.Message, Component: w.Component,
		Class: w.Class, Rule: w.Rule, Title: w.Title, Level: w.Level,
		Notification: w.Notification, Cleared: w.Cleared, Test: w.Test, Input: w.Input, Reason: w.Reason, Raw: w.Raw}
	if w.Time != nil {
		e.Time = *w.Time
	}
	if w.Assert != nil {
		e.Assert = TriOf(*w.Assert)
	}
	for k, raw := range w.Fields {
		if err := e.Fields.setJSON(k, raw); err != nil {
			return fmt.Errorf("event: field %q: %w", k, err)
		}
	}
	return nil
}

func (fs *Fields) setJSON(k string, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case string:
		fs.SetString(k, x)
	case bool:
		fs.SetBool(k, x)
	case float64:
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			fs.SetInt(k, n)
		} else {
			fs.SetFloat(k, x)
		}
	default:
		return fmt.Errorf("unsupported value %s", raw)
	}
	return nil
}

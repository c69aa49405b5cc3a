package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the schema v1 JSON object of e to dst, without a newline.
// Empty fields are left out; raw is always written.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if !e.Time.IsZero() {
		dst = append(dst, `"time":"`...)
		dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `",`...)
	}
	dst = appendStr(dst, "host", e.Host)
	dst = appendStr(dst, "source", e.Source)
	dst = appendStr(dst, "facility", e.Facility)
	dst = appendStr(dst, "severity", e.Severity)
	dst = appendStr(dst, "process", e.Process)
	if e.PID != 0 {
		dst = append(dst, `"pid":`...)
		dst = strconv.AppendInt(dst, int64(e.PID), 10)
		dst = append(dst, ',')
	}
	dst = appendStr(dst, "message", e.Message)
	dst = appendStr(dst, "component", e.Component)
	dst = appendStr(dst, "class", e.Class)
	dst = appendStr(dst, "rule", e.Rule)
	dst = appendStr(dst, "title", e.Title)
	dst = appendStr(dst, "level", e.Level)
	dst = appendStr(dst, "notification", e.Notification)
	if e.Assert != Unset {
		dst = append(dst, `"assert":`...)
		dst = strconv.AppendBool(dst, e.Assert == True)
		dst = append(dst, ',')
	}
	dst = appendStr(dst, "cleared", e.Cleared)
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
	dst = appendStr(dst, "input", e.Input)
	dst = appendStr(dst, "reason", e.Reason)
	dst = append(dst, `"raw":`...)
	dst = appendQuoted(dst, e.Raw)
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

func appendStr(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst = appendQuoted(dst, v)
	return append(dst, ',')
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json
// does, so that every line of a damaged log still yields valid JSON.
func appendQuoted(dst []byte, s string) []byte {
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
	dst = append(dst, s[start:]...)
	return append(dst, '"')
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

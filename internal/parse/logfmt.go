package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// logfmt reads key=value lines as Go services (logrus, go-kit, slog's text handler) and
// many agents write them:
//
//	time=2024-03-01T12:00:00Z level=error msg="HSM unreachable" host=hsm1 slot=0
//
// time (or ts) becomes the event's time (RFC 3339, or epoch seconds); level (lvl,
// severity, FortiOS' pri) its normalised severity; msg (message) its message; host (hostname) and pid
// their fields of the event. Every other key goes to fields as a string, a key without a
// value as true. Quoted values are kept as written between the quotes (escapes such as
// \" are not undone: undoing them would cost a copy of the line). A time or level that
// cannot be read is kept in fields as written.
type logfmt struct{ o Options }

func newLogfmt(o Options) *logfmt { return &logfmt{o: o} }

func (p *logfmt) Format() string { return event.SourceLogfmt }

// looksLogfmt reports whether line starts with a key=value pair.
func looksLogfmt(line string) bool {
	for i := 0; i < len(line) && i < 64; i++ {
		c := line[i]
		switch {
		case c == '=':
			return i > 0
		case isWordByte(c) || c == '.' || c == '-' || c == '/':
		default:
			return false
		}
	}
	return false
}

func (p *logfmt) Parse(line string, ev *event.Event) error {
	if t, rest, ok := auditHead(line, p.o.Location); ok {
		p.audit(line, rest, t, ev)
		return nil
	}
	known, pairs := false, 0
	for i := skipSpaces(line, 0); i < len(line); i = skipSpaces(line, i) {
		k := i
		for i < len(line) && line[i] != '=' && line[i] != '"' && !isSpace(line[i]) {
			i++
		}
		key := line[k:i]
		if key == "" {
			return fail(event.SourceLogfmt, "a value without a key")
		}
		if i >= len(line) || line[i] != '=' {
			if i < len(line) && line[i] == '"' {
				return fail(event.SourceLogfmt, "a quote inside the key "+key)
			}
			ev.Fields.SetBool(key, true)
			continue
		}
		i++
		var val string
		if i < len(line) && line[i] == '"' {
			e := i + 1
			for e < len(line) && line[e] != '"' {
				if line[e] == '\\' {
					e++
				}
				e++
			}
			if e >= len(line) {
				return fail(event.SourceLogfmt, "unterminated quoted value of "+key)
			}
			val, i = line[i+1:e], e+1
			if i < len(line) && !isSpace(line[i]) {
				return fail(event.SourceLogfmt, "no space after the quoted value of "+key)
			}
		} else {
			val, i = token(line, i)
		}
		pairs++
		if p.set(key, val, ev) {
			known = true
		}
	}
	if !known && pairs < 2 {
		return errNoPairs
	}
	ev.Source = event.SourceLogfmt
	return nil
}

// set stores one pair and reports whether key is one of time, level and msg.
func (p *logfmt) set(key, val string, ev *event.Event) bool {
	switch key {
	case "time", "ts", "timestamp":
		if t, ok := logfmtTime(val, p.o.Location); ok {
			ev.Time = t
		} else {
			ev.Fields.SetString(key, val)
		}
		return true
	case "level", "lvl", "severity", "loglevel", "pri":
		if s := levelWord(val); s != "" {
			ev.Severity = s
		} else {
			ev.Fields.SetString(key, val)
		}
		return true
	case "msg", "message":
		ev.Message = val
		return true
	case "host", "hostname":
		ev.Host = val
	case "pid":
		if n, j, ok := digits(val, 0, 1, 9); ok && j == len(val) {
			ev.PID = n
		} else {
			ev.Fields.SetString(key, val)
		}
	default:
		ev.Fields.SetString(key, val)
	}
	return false
}

// logfmtTime reads an RFC 3339 time or epoch seconds (with a fraction) that fill val.
func logfmtTime(val string, loc *time.Location) (time.Time, bool) {
	if len(val) > 4 && val[4] == '-' {
		t, j, ok := rfc3339At(val, 0, loc)
		return t, ok && j == len(val)
	}
	sec, j, ok := digits(val, 0, minEpochDigits, 11)
	if !ok {
		return time.Time{}, false
	}
	nsec := 0
	if j < len(val) && val[j] == '.' {
		nsec, j = fraction(val, j+1)
	}
	if j != len(val) {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), int64(nsec)).In(loc), true
}

// auditHead reads the head of a Linux audit record as auditd writes it to audit.log and
// its dispatcher to syslog: key=value pairs (node=, type=) up to msg=audit(SECONDS.MILLIS:
// SERIAL): ("type=DAEMON_ABORT msg=audit(1339336882.189:9206): auditd error halt, ...").
// It returns the record's time and what follows the stamp.
func auditHead(line string, loc *time.Location) (time.Time, string, bool) {
	const stamp = "msg=audit("
	i := strings.Index(line[:min(len(line), 128+len(stamp))], stamp) // the head is short
	if i < 0 || (i > 0 && line[i-1] != ' ') {
		return time.Time{}, "", false
	}
	i += len(stamp)
	colon := strings.IndexByte(line[i:], ':')
	if colon < 0 {
		return time.Time{}, "", false
	}
	t, ok := logfmtTime(line[i:i+colon], loc) // epoch seconds and a fraction
	_, j, serial := digits(line, i+colon+1, 1, 20)
	if !ok || !serial || !strings.HasPrefix(line[j:], "):") {
		return time.Time{}, "", false
	}
	return t, line[j+2:], true
}

// audit fills ev from an audit record: its time from the stamp, the whole record as the
// message (rules read the record type: "type=DAEMON_ABORT", "type=ANOM_ABEND"), and its
// key=value pairs as fields, those of the user-space part between msg=' and ' too. The
// words between the pairs ("auditd error halt,") are the message's, not fields.
func (p *logfmt) audit(line, rest string, t time.Time, ev *event.Event) {
	ev.Source, ev.Time, ev.Message = event.SourceLogfmt, t, line
	head := line[:len(line)-len(rest)]
	for _, s := range [...]string{head, rest} {
		for i := skipSpaces(s, 0); i < len(s); i = skipSpaces(s, i) {
			var tok string
			tok, i = auditToken(s, i)
			key, val, ok := strings.Cut(tok, "=")
			if !ok || key == "" || key == "msg" && strings.HasPrefix(val, "audit(") {
				continue
			}
			if key == "msg" && strings.HasPrefix(val, "'") {
				i -= len(tok) - len("msg='") // read the pairs inside the quotes
				continue
			}
			val = strings.TrimSuffix(strings.Trim(val, `"`), "'")
			if key == "pid" {
				if n, j, ok := digits(val, 0, 1, 9); ok && j == len(val) {
					ev.PID = n
					continue
				}
			}
			ev.Fields.SetString(key, val)
		}
	}
}

// auditToken returns the token at i: up to the next space, or past a double-quoted value
// (comm="my prog").
func auditToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && !isSpace(s[j]) {
		if s[j] == '"' {
			if k := strings.IndexByte(s[j+1:], '"'); k >= 0 {
				j += k + 1
			}
		}
		j++
	}
	return s[i:j], j
}

package parse

import (
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// goLog reads the prefix of Go's standard logger (package log with LstdFlags, and with
// Lmicroseconds, Lshortfile or Llongfile):
//
//	2019/04/18 11:05:44 connecting to the HSM
//	2019/04/18 11:05:44.123456 main.go:42: slot 0 not present
//
// The time is local time (the configured zone), there is no host. A file:line: after the
// time goes to fields.file; a level word that starts the message ("ERROR", "[WARN]",
// "error:") is the severity, and the message is kept whole.
//
// The Dinamo event log also starts with "yyyy/mm/dd hh:mm:ss"; auto sends a line to this
// parser only when no eight hexadecimal digits follow the time (looksGoLog).
type goLog struct{ o Options }

func newGoLog(o Options) *goLog { return &goLog{o: o} }

func (p *goLog) Format() string { return event.SourceGoLog }

var errGoLogTime = fail(event.SourceGoLog, "no yyyy/mm/dd hh:mm:ss at the start of the line")

func (p *goLog) Parse(line string, ev *event.Event) error {
	t, i, ok := goLogTime(line, p.o.Location)
	if !ok {
		return errGoLogTime
	}
	ev.Source = event.SourceGoLog
	ev.Time = t
	i = skipSpaces(line, i)
	if w, j := token(line, i); len(w) > 4 && w[len(w)-1] == ':' && goFileLine(w[:len(w)-1]) {
		ev.Fields.SetString("file", w[:len(w)-1])
		i = skipSpaces(line, j)
	}
	ev.Message = line[i:]
	if w, _ := token(line, i); w != "" {
		if len(w) > 2 && w[0] == '[' && w[len(w)-1] == ']' {
			w = w[1 : len(w)-1]
		}
		if s := levelWord(trimColon(w)); s != "" {
			ev.Severity = s
		}
	}
	return nil
}

// goLogTime reads "yyyy/mm/dd hh:mm:ss[.ffffff]" followed by a space or the end.
func goLogTime(line string, loc *time.Location) (time.Time, int, bool) {
	y, i, ok := digits(line, 0, 4, 4)
	if !ok || i >= len(line) || line[i] != '/' {
		return time.Time{}, 0, false
	}
	mo, i, ok := digits(line, i+1, 2, 2)
	if !ok || i >= len(line) || line[i] != '/' {
		return time.Time{}, 0, false
	}
	d, i, ok := digits(line, i+1, 2, 2)
	if !ok || i >= len(line) || line[i] != ' ' || mo < 1 || mo > 12 || !validDate(y, time.Month(mo), d) {
		return time.Time{}, 0, false
	}
	h, mi, s, ns, i, ok := clockAt(line, i+1)
	if !ok || (i < len(line) && !isSpace(line[i])) {
		return time.Time{}, 0, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc), i, true
}

// goFileLine reports whether w is "file.go:123" (a short or long file name and a line).
func goFileLine(w string) bool {
	k := len(w)
	for k > 0 && isDigit(w[k-1]) {
		k--
	}
	return k < len(w) && k > 4 && w[k-1] == ':' && w[k-4:k-1] == ".go"
}

// looksGoLog reports whether a line that starts like the Dinamo event log
// ("2022/01/11 22:32:17 00000052 ...") is Go's logger instead: a fraction after the
// seconds, or no eight hexadecimal digits and a space after the time.
func looksGoLog(line string) bool {
	if len(line) < 19 || line[4] != '/' || line[7] != '/' || line[10] != ' ' || line[13] != ':' || line[16] != ':' {
		return false
	}
	if len(line) == 19 || line[19] == '.' {
		return true
	}
	if line[19] != ' ' {
		return false
	}
	if len(line) < 29 {
		return true
	}
	for k := 20; k < 28; k++ {
		if !isHex(line[k]) {
			return true
		}
	}
	return line[28] != ' '
}

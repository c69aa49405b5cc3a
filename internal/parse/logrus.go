package parse

import (
	"github.com/hsmwatch/hsmwatch/internal/event"
)

// logrus reads the text formatter of github.com/sirupsen/logrus when it writes to a
// terminal (or with ForceColors off and DisableTimestamp unset but without a full time):
//
//	WARN[0033] slot 0 not present                           slot=0 hsm=hsm1
//	ERRO[2024-03-01T12:00:00Z] HSM unreachable               error="connection refused"
//
// The four-letter level (PANI, FATA, ERRO, WARN, INFO, DEBU, TRAC) is the severity; the
// bracket holds the seconds since the program started (fields.elapsed_s) or, with
// FullTimestamp, the time (RFC 3339). The message is padded to a width and followed by
// key=value pairs, which go to fields as logfmt values do. Without a tty logrus writes
// logfmt ("time=... level=warning msg=..."), which the logfmt parser reads.
type logrus struct{ o Options }

func newLogrus(o Options) *logrus { return &logrus{o: o} }

func (p *logrus) Format() string { return event.SourceLogrus }

var errLogrusLevel = fail(event.SourceLogrus, "no PANI, FATA, ERRO, WARN, INFO, DEBU or TRAC followed by [ at the start")

// logrusLevel returns the severity of the four-letter logrus level at the start of line.
func logrusLevel(line string) string {
	if len(line) < 6 || line[4] != '[' {
		return ""
	}
	switch line[:4] {
	case "PANI":
		return "emerg"
	case "FATA":
		return "crit"
	case "ERRO":
		return "err"
	case "WARN":
		return "warning"
	case "INFO":
		return "info"
	case "DEBU", "TRAC":
		return "debug"
	}
	return ""
}

func (p *logrus) Parse(line string, ev *event.Event) error {
	sev := logrusLevel(line)
	if sev == "" {
		return errLogrusLevel
	}
	end := 5
	for end < len(line) && line[end] != ']' {
		end++
	}
	if end >= len(line) || (end+1 < len(line) && !isSpace(line[end+1])) {
		return fail(event.SourceLogrus, "the time bracket is not closed by '] '")
	}
	in := line[5:end]
	if n, j, ok := digits(in, 0, 1, 10); ok && j == len(in) {
		ev.Fields.SetInt("elapsed_s", int64(n))
	} else if t, j, ok := rfc3339At(in, 0, p.o.Location); ok && j == len(in) {
		ev.Time = t
	} else {
		return fail(event.SourceLogrus, "the bracket holds neither seconds nor an RFC 3339 time")
	}
	ev.Source = event.SourceLogrus
	ev.Severity = sev
	i := skipSpaces(line, end+1)
	msgEnd, pairs := logrusPairsStart(line, i)
	ev.Message = line[i:msgEnd]
	for k := pairs; k < len(line); k = skipSpaces(line, k) {
		key, val, next := logfmtPair(line, k)
		ev.Fields.SetString(key, val)
		k = next
	}
	return nil
}

// logrusPairsStart finds where the trailing key=value pairs begin: the first word after a
// space from which the rest of the line is nothing but pairs. It returns the end of the
// message (spaces trimmed) and the start of the pairs (len(line) when there are none).
func logrusPairsStart(line string, i int) (msgEnd, pairs int) {
	for k := i; k < len(line); k++ {
		if k > i && !isSpace(line[k-1]) || isSpace(line[k]) {
			continue
		}
		if allPairs(line, k) {
			e := k
			for e > i && isSpace(line[e-1]) {
				e--
			}
			return e, k
		}
	}
	e := len(line)
	for e > i && isSpace(line[e-1]) {
		e--
	}
	return e, len(line)
}

// allPairs reports whether line from k on is one or more logfmt key=value pairs.
func allPairs(line string, k int) bool {
	n := 0
	for k = skipSpaces(line, k); k < len(line); k = skipSpaces(line, k) {
		key, _, next := logfmtPair(line, k)
		if key == "" {
			return false
		}
		k = next
		n++
	}
	return n > 0
}

// logfmtPair reads key=value or key="quoted value" at k; key is empty when none stands
// there. The value of a quoted pair is what stands between the quotes, escapes kept.
func logfmtPair(line string, k int) (key, val string, next int) {
	j := k
	for j < len(line) && (isWordByte(line[j]) || line[j] == '.' || line[j] == '-' || line[j] == '/') {
		j++
	}
	if j == k || j >= len(line) || line[j] != '=' {
		return "", "", k
	}
	key = line[k:j]
	j++
	if j < len(line) && line[j] == '"' {
		e := j + 1
		for e < len(line) && line[e] != '"' {
			if line[e] == '\\' {
				e++
			}
			e++
		}
		if e >= len(line) || (e+1 < len(line) && !isSpace(line[e+1])) {
			return "", "", k
		}
		return key, line[j+1 : e], e + 1
	}
	val, next = token(line, j)
	if containsAny(val, `"=`) {
		return "", "", k
	}
	return key, val, next
}

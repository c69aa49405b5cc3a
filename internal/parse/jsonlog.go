package parse

import (
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// jsonLog reads structured logs written one JSON object a line, as zap, zerolog, slog's
// JSON handler, logrus' JSON formatter, Bunyan and Elastic's ECS loggers write them:
//
//	{"level":"error","ts":1709294400.123,"msg":"HSM unreachable","slot":0}
//	{"@level":"error","@message":"failed to unseal","@timestamp":"..."} (hclog: Vault, Consul)
//	{"@timestamp":"2024-03-01T12:00:00.123Z","log.level":"WARN","message":"retrying"}
//
// time, @timestamp, ts or timestamp is the event's time (RFC 3339 or epoch seconds); level,
// severity, lvl, loglevel or log.level its severity, normalised like the app-log parser's
// (ERROR err, WARN warning, ...; GELF's level as a number, 0 emerg to 7 debug); msg or
// message its message; host or hostname its host; pid its pid. NXLog's Windows events
// (EventTime, Hostname, Severity or EventType, SourceName as the process, ProcessID,
// Message) and GELF's short_message are read too. Every other key with a scalar value
// goes to fields: strings as written between the quotes (escapes such as \" are not undone, as in logfmt: undoing them would cost a copy
// of the line), numbers as numbers, true and false as booleans; null, objects and arrays are
// skipped. A time or level that cannot be read is kept in fields as written.
type jsonLog struct{ o Options }

func newJSONLog(o Options) *jsonLog { return &jsonLog{o: o} }

func (p *jsonLog) Format() string { return event.SourceJSON }

var (
	errJSONObject = fail(event.SourceJSON, "not one JSON object: '{' at the start and '}' at the end")
	errJSONSyntax = fail(event.SourceJSON, "invalid JSON inside the object")
)

func (p *jsonLog) Parse(line string, ev *event.Event) error {
	i := skipJSONSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return errJSONObject
	}
	i = skipJSONSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		i++
	} else {
		for {
			if i >= len(line) || line[i] != '"' {
				return errJSONSyntax
			}
			key, j, ok := jsonString(line, i)
			if !ok {
				return errJSONSyntax
			}
			j = skipJSONSpace(line, j)
			if j >= len(line) || line[j] != ':' {
				return errJSONSyntax
			}
			j = skipJSONSpace(line, j+1)
			if j >= len(line) {
				return errJSONSyntax
			}
			if j, ok = p.value(line, j, key, ev); !ok {
				return errJSONSyntax
			}
			j = skipJSONSpace(line, j)
			if j >= len(line) {
				return errJSONSyntax
			}
			if line[j] == '}' {
				i = j + 1
				break
			}
			if line[j] != ',' {
				return errJSONSyntax
			}
			i = skipJSONSpace(line, j+1)
		}
	}
	if skipJSONSpace(line, i) != len(line) {
		return errJSONObject
	}
	ev.Source = event.SourceJSON
	return nil
}

// value reads the value at i of key and stores it; it returns the position after it.
func (p *jsonLog) value(line string, i int, key string, ev *event.Event) (int, bool) {
	switch c := line[i]; {
	case c == '"':
		s, j, ok := jsonString(line, i)
		if !ok {
			return j, false
		}
		p.setString(key, s, ev)
		return j, true
	case c == '{' || c == '[':
		return skipJSONNested(line, i)
	case c == '-' || isDigit(c):
		j := i + 1
		for j < len(line) && (isDigit(line[j]) || line[j] == '.' || line[j] == 'e' || line[j] == 'E' ||
			line[j] == '+' || line[j] == '-') {
			j++
		}
		num := line[i:j]
		switch key {
		case "time", "@timestamp", "ts", "timestamp":
			if t, ok := logfmtTime(num, p.o.Location); ok {
				ev.Time = t
				return j, true
			}
		case "level":
			// GELF (Graylog) writes the syslog severity's number, 0 emerg to 7 debug
			if n, k, ok := digits(num, 0, 1, 1); ok && k == len(num) && n <= 7 {
				ev.Severity = severityName(n)
				return j, true
			}
		case "pid", "ProcessID":
			if n, k, ok := digits(num, 0, 1, 9); ok && k == len(num) {
				ev.PID = n
				return j, true
			}
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return j, false
		}
		if f == float64(int64(f)) && !containsAny(num, ".eE") {
			ev.Fields.SetInt(key, int64(f))
		} else {
			ev.Fields.SetFloat(key, f)
		}
		return j, true
	case hasPrefixAt(line, i, "true"):
		ev.Fields.SetBool(key, true)
		return i + 4, true
	case hasPrefixAt(line, i, "false"):
		ev.Fields.SetBool(key, false)
		return i + 5, true
	case hasPrefixAt(line, i, "null"):
		return i + 4, true
	}
	return i, false
}

// setString stores a string value: the known keys into the event, the others into fields.
func (p *jsonLog) setString(key, val string, ev *event.Event) {
	switch key {
	case "time", "@timestamp", "ts", "timestamp", "EventTime":
		if t, ok := logfmtTime(val, p.o.Location); ok {
			ev.Time = t
			return
		}
	case "level", "severity", "lvl", "loglevel", "log.level", "@level", "Severity", "Level", "EventType":
		if s := levelWord(val); s != "" && ev.Severity == "" {
			ev.Severity = s
			return
		}
	case "msg", "message", "@message", "Message", "short_message":
		ev.Message = val
		return
	case "host", "hostname", "Hostname":
		ev.Host = val
		return
	case "SourceName":
		ev.Process = val
		return
	}
	ev.Fields.SetString(key, val)
}

// jsonString reads the string whose opening quote is at i and returns its content as
// written (escapes kept) and the position after the closing quote.
func jsonString(s string, i int) (string, int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return s[i+1 : j], j + 1, true
		}
	}
	return "", len(s), false
}

// skipJSONNested skips the object or array that starts at i (strings inside respected).
func skipJSONNested(s string, i int) (int, bool) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '"':
			_, k, ok := jsonString(s, j)
			if !ok {
				return k, false
			}
			j = k - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return len(s), false
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

func hasPrefixAt(s string, i int, p string) bool { return len(s)-i >= len(p) && s[i:i+len(p)] == p }

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}

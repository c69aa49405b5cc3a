package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// appLog reads application log lines that start with an ISO-8601 time and carry a level
// word, as log4j, logback, Spring Boot and Python logging write them:
//
//	2024-03-01T12:00:00.123Z ERROR [main] com.example.Hsm - slot 0 not present
//	2024-03-01 12:00:00,123 [main] WARN  c.e.Hsm - retrying
//	2024-03-01 12:00:00,123 - hsm.client - WARNING - retrying
//	2024-03-01T12:00:00.123+01:00  INFO 4242 --- [main] c.e.App : Started App
//
// The level is normalised into severity (levelWord: FATAL crit, ERROR err, WARN warning,
// ...); a bracketed thread goes to fields.thread, the logger name before " - " or " : "
// to fields.logger, a process id after the level (Spring Boot) to pid. The time has the
// offset written, else the configured zone. There is no host.
type appLog struct{ o Options }

func newAppLog(o Options) *appLog { return &appLog{o: o} }

func (p *appLog) Format() string { return event.SourceAppLog }

func (p *appLog) Parse(line string, ev *event.Event) error {
	t, i, ok := rfc3339At(line, 0, p.o.Location)
	if !ok {
		return fail(event.SourceAppLog, "no ISO-8601 time at the start of the line")
	}
	if i < len(line) && !isSpace(line[i]) {
		return fail(event.SourceAppLog, "no space after the time")
	}
	return appRest(line, i, t, ev)
}

// appRest reads what follows the time at i. It leaves ev alone when the line has no level
// word among its first words, so that the caller can read the line as syslog instead.
func appRest(line string, i int, t time.Time, ev *event.Event) error {
	var thread, logger, level string
	pid := 0
words:
	for n := 0; n < 8; n++ {
		i = skipSpaces(line, i)
		if i >= len(line) {
			break
		}
		if line[i] == '[' {
			k := i + 1
			for k < len(line) && line[k] != ']' {
				k++
			}
			if k >= len(line) {
				break
			}
			in := strings.TrimSpace(line[i+1 : k]) // Elasticsearch pads it: "[WARN ]"
			switch {
			case level == "" && levelWord(in) != "":
				level = levelWord(in)
			case thread == "":
				thread = in
			default:
				break words
			}
			i = k + 1
			continue
		}
		w, j := token(line, i)
		if lv, comp, ok := strings.Cut(trimColon(w), "/"); ok && level == "" && levelWord(lv) != "" && comp != "" {
			// Icinga 2's "warning/PluginNotificationTask:": the level and the component
			level, logger, i = levelWord(lv), comp, skipSpaces(line, j)
			break
		}
		switch {
		case w == "-" || w == "--" || w == "---" || w == "|":
		case level == "" && levelWord(trimColon(w)) != "":
			level = levelWord(trimColon(w))
		case level != "" && pid == 0 && logger == "" && thread == "" && allDigits(w):
			pid, _, _ = digits(w, 0, 1, 9) // Spring Boot: "INFO 4242 --- [main]"
		case level == "" && logger == "" && separatorAfter(line, j) > j:
			logger = w // Python: "- hsm.client - WARNING -"
		default:
			break words
		}
		i = j
	}
	if level == "" {
		return errNoLevel
	}
	i = skipSpaces(line, i)
	if logger == "" {
		if w, j := token(line, i); len(w) > 1 && w[len(w)-1] == ':' {
			logger, i = w[:len(w)-1], skipSpaces(line, j) // "hsm.client: message"
		} else if k := separatorAfter(line, j); k > j && w != "" {
			logger, i = w, k // "com.example.Hsm - message", "c.e.App : message"
		}
	}
	ev.Source = event.SourceAppLog
	ev.Time = t
	ev.Severity = level
	ev.PID = pid
	if thread != "" {
		ev.Fields.SetString("thread", thread)
	}
	if logger != "" {
		ev.Fields.SetString("logger", logger)
	}
	ev.Message = line[i:]
	return nil
}

// separatorAfter returns the position after a " - " or " : " that follows j (spaces
// around it), or j when none stands there.
func separatorAfter(line string, j int) int {
	k := skipSpaces(line, j)
	if k == j && j < len(line) || k >= len(line) || (line[k] != '-' && line[k] != ':') {
		return j
	}
	if k+1 < len(line) && !isSpace(line[k+1]) {
		return j
	}
	return skipSpaces(line, k+1)
}

func trimColon(w string) string {
	if len(w) > 1 && w[len(w)-1] == ':' {
		return w[:len(w)-1]
	}
	return w
}

func allDigits(w string) bool {
	if w == "" || len(w) > 9 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// bracketedApp reads an application log line whose ISO-8601 time stands in brackets:
//
//	[2024-03-01 12:00:00,123] ERROR [main] hsm.client: slot 0 not present
//	[2021-07-13 12:38:26.125047 +0000] W [MSGID: 108001] [afr-common.c:6441:afr_notify] 0-gv-replicate-0: Client-quorum is not met
//
// the second GlusterFS's, whose level is one letter (logging.h: M emerg, A alert, C
// critical, E error, W warning, N notice, I info, D debug, T trace) and whose zone may
// follow a space. Otherwise what follows the bracket is read as appRest reads it.
func bracketedApp(line string, loc *time.Location, ev *event.Event) bool {
	t, i, ok := rfc3339At(line, 1, loc)
	if !ok {
		return false
	}
	if i+1 < len(line) && line[i] == ' ' && (line[i+1] == '+' || line[i+1] == '-') {
		off, k, ok := zoneOffsetAt(line, i+1)
		if !ok {
			return false
		}
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), fixedZone(off))
		i = k
	}
	if i >= len(line) || line[i] != ']' {
		return false
	}
	i++
	if i+2 < len(line) && line[i] == ' ' && line[i+2] == ' ' {
		if sev := glusterLevel(line[i+1]); sev != "" {
			ev.Source, ev.Time, ev.Severity, ev.Message = event.SourceAppLog, t, sev, line[i+3:]
			return true
		}
	}
	return appRest(line, i, t, ev) == nil
}

// glusterLevel maps GlusterFS's one-letter level to a syslog severity.
func glusterLevel(c byte) string {
	switch c {
	case 'M':
		return "emerg"
	case 'A':
		return "alert"
	case 'C':
		return "crit"
	case 'E':
		return "err"
	case 'W':
		return "warning"
	case 'N':
		return "notice"
	case 'I':
		return "info"
	case 'D', 'T':
		return "debug"
	}
	return ""
}

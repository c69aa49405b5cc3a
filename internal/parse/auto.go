package parse

import (
	"strings"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// auto picks the format of each line from its first bytes, so that a mixed file (an
// appliance log with kernel ALM lines, a syslog server's file with Luna and Dinamo lines)
// needs no --format. Dispatch is a switch on the first bytes: no parser is tried in turn,
// except the ALM fallback, since Luna PCIe alarms may stand inside any line.
type auto struct {
	o                                 Options
	luna, bsd, rfc5424, alarm, dinamo Parser
	audit, logfmt, body, java         Parser
	json, golog, logrus, sel, openssl Parser
}

func newAuto(o Options) *auto {
	return &auto{o: o, luna: newLunaSyslog(o), bsd: newRFC3164(o), rfc5424: newRFC5424(o),
		alarm: newLunaAlarm(o), dinamo: newDinamo(o), audit: newLunaAudit(o),
		logfmt: newLogfmt(o), body: newSyslogBody(o), java: newJavaException(o),
		json: newJSONLog(o), golog: newGoLog(o), logrus: newLogrus(o), sel: newIPMISEL(o),
		openssl: newOpenSSL(o)}
}

func (p *auto) Format() string { return Auto }

func (p *auto) Parse(line string, ev *event.Event) error {
	err := p.parse(line, ev)
	if err != nil && strings.Contains(line, "ALM") {
		// A Luna PCIe alarm in a line of a shape we do not know (a Windows event export, a
		// collector's own prefix): the alarm matters more than the envelope.
		ev.Reset()
		ev.Raw = line
		if p.alarm.Parse(line, ev) == nil {
			return nil
		}
	}
	return err
}

func (p *auto) parse(line string, ev *event.Event) error {
	if strings.TrimSpace(line) == "" {
		return fail(Auto, "empty line")
	}
	if name, inner, ok := servicePrefix(line); ok {
		// a process runner's "signer-1    | ...": the line it ran is the event (two
		// runners nest at most: foreman inside docker compose)
		if err := p.parse(inner, ev); err == nil {
			ev.Raw = line
			if _, known := ev.Fields.Get("service"); !known {
				ev.Fields.SetString("service", name)
			}
			return nil
		}
		p.again(line, ev)
	}
	c := line[0]
	switch {
	case c == '<':
		if len(line) > 3 && line[3] == '[' {
			if ok, err := p.dmesgWithLevel(line, ev); ok {
				return err // dmesg --raw: "<4>[ 12.345678] ..."
			}
		}
		if isRFC5424(line) {
			return p.rfc5424.Parse(line, ev)
		}
		return p.bsd.Parse(line, ev)
	case isDigit(c) && len(line) > 4:
		if redisLine(line, p.o, ev) {
			return nil // "18:X 30 Sep 2025 15:06:45.815 # +odown master ..."
		}
		if isLunaAudit(line) {
			return p.audit.Parse(line, ev) // "79,12/02/29 16:33:31,S/N ..."
		}
		if looksSEL(line) {
			return p.sel.Parse(line, ev) // "1 | 03/01/2024 | 12:00:00 | ..."
		}
		if selExport(line, p.o.Location, ev) {
			return nil // "0063 12/20/11 05:56:50 MAJ EFI ...", "2051,2016/12/07 21:16:36,FAN2 ,Fan,..."
		}
		if mysqlLine(line, p.o.Location, ev) {
			return nil // "150319  1:46:59 [ERROR] InnoDB: ...", "150319 01:46:59 mysqld_safe ..."
		}
		switch line[4] {
		case ' ', '\t':
			return p.luna.Parse(line, ev)
		case '/':
			if looksGoLog(line) {
				return p.golog.Parse(line, ev) // "2019/04/18 11:05:44 message"
			}
			return p.dinamo.Parse(line, ev)
		case '-':
			return p.isoFirst(line, ev)
		}
		if looksOpenSSL(line) {
			return p.openssl.Parse(line, ev) // "139781956970312:error:26096080:..."
		}
		return p.alarm.Parse(line, ev) // "<epoch> <msg>" driver log records
	case c == '[':
		if redisLine(line, p.o, ev) {
			return nil // Redis 2: "[48668] 18 May 13:12:47.788 # Background saving error"
		}
		if len(line) > 21 && isDigit(line[1]) && bracketedApp(line, p.o.Location, ev) {
			return nil // "[2024-03-01 12:00:00,123] ERROR ...", GlusterFS's "[...] W [MSGID: ...]"
		}
		return p.alarm.Parse(line, ev) // dmesg
	case c == '{':
		if p.json.Parse(line, ev) == nil {
			return nil
		}
		p.again(line, ev)
	case isSpace(c) && looksSEL(line):
		return p.sel.Parse(line, ev)
	case logrusLevel(line) != "":
		if p.logrus.Parse(line, ev) == nil {
			return nil
		}
		p.again(line, ev)
	case looksOpenSSL(line):
		return p.openssl.Parse(line, ev)
	}
	if _, _, ok := monthAt(line, 0); ok && len(line) > 3 && isSpace(line[3]) {
		return p.monthFirst(line, ev)
	}
	if c >= 'a' && c <= 'z' {
		if ok, err := p.dmesgWithLevel(line, ev); ok {
			return err // dmesg --decode: "kern  :warn  : [ 12.345678] ..."
		}
	}
	if weekdayAt(line, 0) && ctimeLine(line, p.o, ev) {
		return nil
	}
	err := errNoFormat
	if strings.Contains(line, "ALM") {
		if err = p.alarm.Parse(line, ev); err == nil {
			return nil
		}
		p.again(line, ev)
	}
	// Lines without a header: tried in turn, the most particular shape first; each
	// rejects a line of another shape on its first bytes.
	for _, q := range [...]Parser{p.java, p.logfmt, p.body} {
		if q == p.logfmt && !looksLogfmt(line) {
			continue
		}
		if q.Parse(line, ev) == nil {
			return nil
		}
		p.again(line, ev)
	}
	return err
}

// The rejections met on the way through the formats a line is tried in are made once:
// trying must allocate nothing.
var (
	errNoFormat = fail(Auto, "no known log format starts like this line")
	errNoLevel  = fail(event.SourceAppLog, "no level word after the time")
	errNoClass  = fail(event.SourceJava, "no exception class (package.Name ending in Exception, Error or Throwable)")
	errNoPairs  = fail(event.SourceLogfmt, "no time=, level= or msg= and fewer than two key=value pairs")
	errNoTag    = fail(event.SourceSyslogBody, "no process[pid]: or process: at the start of the line")
)

// again clears what a parser that failed left in ev.
func (p *auto) again(line string, ev *event.Event) {
	ev.Reset()
	ev.Raw = line
}

// isoFirst reads a line that starts with an ISO-8601 date: an application log when a
// level word follows the time ("2024-03-01 12:00:00,123 ERROR ..."), else RFC 3164 with
// an RFC 3339 timestamp (rsyslog's high-precision files, journalctl -o short-iso).
func (p *auto) isoFirst(line string, ev *event.Event) error {
	if t, i, ok := rfc3339At(line, 0, p.o.Location); ok && (i == len(line) || isSpace(line[i])) {
		if appRest(line, i, t, ev) == nil {
			return nil
		}
	}
	return p.bsd.Parse(line, ev)
}

// monthFirst reads "Feb 29 12:05:01 host ...": a Luna file without the year when facility
// and severity keywords follow the host, RFC 3164 otherwise.
func (p *auto) monthFirst(line string, ev *event.Event) error {
	info, err := parseHeader(line, ev, p.o, event.SourceRFC3164, allowMonth)
	if err != nil {
		return err
	}
	ev.Source = event.SourceRFC3164
	if info.keywords {
		ev.Source = event.SourceLunaSyslog
	}
	return nil
}

// isRFC5424 reports whether a line starting with <PRI> carries a version ("<165>1 ").
func isRFC5424(line string) bool {
	i := strings.IndexByte(line, '>')
	if i < 0 || i > 4 {
		return false
	}
	_, j, ok := digits(line, i+1, 1, 2)
	return ok && j < len(line) && line[j] == ' '
}

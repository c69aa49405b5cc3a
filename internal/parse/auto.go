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
}

func newAuto(o Options) *auto {
	return &auto{o: o, luna: newLunaSyslog(o), bsd: newRFC3164(o), rfc5424: newRFC5424(o),
		alarm: newLunaAlarm(o), dinamo: newDinamo(o)}
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
	c := line[0]
	switch {
	case c == '<':
		if isRFC5424(line) {
			return p.rfc5424.Parse(line, ev)
		}
		return p.bsd.Parse(line, ev)
	case isDigit(c) && len(line) > 4:
		switch line[4] {
		case ' ', '\t':
			return p.luna.Parse(line, ev)
		case '/':
			return p.dinamo.Parse(line, ev)
		case '-':
			return p.bsd.Parse(line, ev)
		}
		return p.alarm.Parse(line, ev) // "<epoch> <msg>" driver log records
	case c == '[':
		return p.alarm.Parse(line, ev) // dmesg
	}
	if _, _, ok := monthAt(line, 0); ok && len(line) > 3 && isSpace(line[3]) {
		return p.monthFirst(line, ev)
	}
	if strings.Contains(line, "ALM") {
		return p.alarm.Parse(line, ev)
	}
	return fail(Auto, "no known log format starts like this line")
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

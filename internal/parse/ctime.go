package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// ctimeLine reads a line that starts with C's ctime() time, year last, as OpenVPN's log,
// OpenWrt's logread and many daemons' own files write it:
//
//	Tue Jan 14 23:49:34 2020 PKCS#11: Cannot add provider '/usr/lib/x.so'
//	Tue Dec  1 17:07:50 2020 kern.err kernel: [ 1023.724378] e1000e 0000:00:19.0 eth0: ...
//	Tue Dec  1 17:07:50 2020 daemon.info dnsmasq[812]: started
//
// Then, each optional: logread's "facility.severity", a process tag, the message. No host
// is named. The source is rfc3164: the line is a BSD header with the year in its place.
func ctimeLine(line string, o Options, ev *event.Event) bool {
	if !weekdayAt(line, 0) || len(line) < 25 || line[3] != ' ' {
		return false
	}
	m, j, ok := monthAt(line, 4)
	if !ok || j >= len(line) || line[j] != ' ' {
		return false
	}
	day, j, ok := digits(line, skipSpaces(line, j), 1, 2)
	if !ok || j >= len(line) || line[j] != ' ' {
		return false
	}
	h, mi, s, ns, j, ok := clockAt(line, j+1)
	if !ok || j >= len(line) || line[j] != ' ' {
		return false
	}
	year, j, ok := digits(line, j+1, 4, 4)
	if !ok || !validDate(year, m, day) || (j < len(line) && line[j] != ' ') {
		return false
	}
	ev.Time = time.Date(year, m, day, h, mi, s, ns, o.Location)
	ev.Source = event.SourceRFC3164
	i := skipSpaces(line, j)
	if k := strings.IndexByte(line[i:], ' '); k > 0 {
		if f, sev := facilitySeverity(line[i : i+k]); f != "" {
			ev.Facility, ev.Severity = f, sev
			i = skipSpaces(line, i+k)
		}
	}
	if k := processAt(line, i, ev); k > i && ev.Process != "" && programName(ev.Process) && (k == len(line) || line[k-1] == ' ') {
		i = k
	} else {
		ev.Process, ev.PID = "", 0
	}
	ev.Message = line[i:]
	decodeMessage(ev)
	return true
}

// dmesgLevel reads the head that dmesg writes before a record with --raw ("<4>[ 12.3] ...",
// the record's level as a number) or --decode ("kern  :warn  : [ 12.3] ...", facility and
// level by name, padded) and returns the facility, the severity and where the rest starts.
func dmesgLevel(line string) (facility, severity string, rest int, ok bool) {
	if len(line) > 3 && line[0] == '<' && isDigit(line[1]) && line[2] == '>' {
		if sev := severityName(int(line[1] - '0')); sev != "" {
			return "kern", sev, 3, true
		}
		return "", "", 0, false
	}
	// dmesg pads both names to six columns ("%-6s:")
	c := strings.IndexByte(line, ':')
	if c < 3 || c > 9 {
		return "", "", 0, false
	}
	facility = facilityKeyword(strings.TrimRight(line[:c], " "))
	d := strings.IndexByte(line[c+1:], ':')
	if facility == "" || c != max(6, len(facility)) || d != 6 {
		return "", "", 0, false
	}
	word := strings.TrimRight(line[c+1:c+1+d], " ")
	switch word {
	case "emerg", "alert", "crit", "err", "notice", "info", "debug":
		severity = word
	case "warn":
		severity = "warning"
	default:
		return "", "", 0, false
	}
	rest = c + 1 + d + 1
	if rest < len(line) && line[rest] == ' ' {
		rest++
	}
	return facility, severity, rest, true
}

// dmesgWithLevel parses a line of dmesg --raw or --decode: the rest is a dmesg line (an
// uptime or a time in brackets), or, with --time-format iso, starts with an ISO time.
func (p *auto) dmesgWithLevel(line string, ev *event.Event) (bool, error) {
	facility, severity, rest, ok := dmesgLevel(line)
	if !ok {
		return false, nil
	}
	body := line[rest:]
	switch {
	case strings.HasPrefix(body, "["):
		if err := p.alarm.Parse(body, ev); err != nil {
			return true, err
		}
	default:
		ev.Source = event.SourceKernel
		ev.Message = body
		if t, i, ok := rfc3339At(body, 0, p.o.Location); ok && i < len(body) && body[i] == ' ' {
			ev.Time, ev.Message = t, body[i+1:]
		}
	}
	ev.Raw, ev.Facility, ev.Severity = line, facility, severity
	return true, nil
}

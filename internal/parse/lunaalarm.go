package parse

import (
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Luna PCIe HSM alarms ("HSM Alarm Codes" in the PCIe guide): the boot loader, the
// firmware and the host driver report error conditions as
//
//	k7pf0: ALM0015: PCIe Link Failure
//	k7pf0: [HSM] ALM2007: HSM zeroized
//
// which reach us inside syslog kernel lines (decodeAlarm, called by decodeMessage), in the
// kernel ring buffer (dmesg) and in the driver log (DLOG). lunaAlarm reads the last two
// and bare alarm lines:
//
//	[   12.345678] k7pf0: ALM0015: PCIe Link Failure          dmesg: seconds since boot
//	[Sun Nov 22 05:31:30 2026] k7pf0: ALM0015: ...             dmesg -T: local time
//	[Nov22 05:31] k7pf0: ALM0015: ...                          dmesg --reltime (dmesg.go)
//	1330517101 k7pf0: ALM2001: High temperature warning ...    driver log: epoch seconds
//	k7pf0: [HSM] ALM2007: HSM zeroized                         bare (any envelope)
type lunaAlarm struct{ o Options }

func newLunaAlarm(o Options) *lunaAlarm { return &lunaAlarm{o: o} }

func (p *lunaAlarm) Format() string { return event.SourceLunaAlarm }

// minEpochDigits is the shortest epoch a driver log record may start with: nine digits
// is March 1973. Shorter numbers are too likely to be something else (the year of a Luna
// syslog line given to this parser, a counter).
const minEpochDigits = 9

func (p *lunaAlarm) Parse(line string, ev *event.Event) error {
	if strings.TrimSpace(line) == "" {
		return fail(event.SourceLunaAlarm, "empty line")
	}
	var prefixErr error
	switch c := line[0]; {
	case c == '[':
		ok, err := p.dmesg(line, ev)
		if ok && err == nil {
			return nil
		}
		prefixErr = err
	case isDigit(c):
		ok, err := p.driverRecord(line, ev)
		if ok && err == nil {
			return nil
		}
		prefixErr = err
	}
	// A bare alarm, or an alarm inside an envelope we do not know or whose timestamp is
	// damaged: the alarm matters more than the envelope, so it is kept and the damage noted.
	ev.Reset()
	ev.Raw = line
	ev.Message = line
	if !decodeAlarm(ev) {
		ev.Message = ""
		if prefixErr != nil {
			return prefixErr
		}
		return fail(event.SourceLunaAlarm, "no ALMnnnn: alarm code, dmesg timestamp or driver log timestamp")
	}
	if prefixErr != nil {
		ev.Fields.SetString("parse_warning", prefixErr.Error())
	}
	ev.Source = event.SourceLunaAlarm
	return nil
}

// dmesg reads "[   12.345678] msg", "[Sun Nov 22 05:31:30 2026] msg" and the brackets of
// dmesg --reltime (dmesgRelative: "[Nov22 05:31] msg", "[  +0.000012] msg"). ok is false,
// with no error, when the bracket does not hold a timestamp ("[HSM] ALM2007: ...").
func (p *lunaAlarm) dmesg(line string, ev *event.Event) (ok bool, err error) {
	i := skipSpaces(line, 1)
	var end int
	switch {
	case i < len(line) && isDigit(line[i]):
		j := i
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		if j < len(line) && line[j] == '.' {
			j++
			for j < len(line) && isDigit(line[j]) {
				j++
			}
		}
		up, perr := strconv.ParseFloat(line[i:j], 64)
		if perr != nil || j-i > 20 {
			return true, fail(event.SourceLunaAlarm, "invalid dmesg uptime")
		}
		j = skipSpaces(line, j)
		if j >= len(line) || line[j] != ']' {
			return true, fail(event.SourceLunaAlarm, "dmesg uptime not closed by ']'")
		}
		ev.Fields.SetFloat("uptime_s", up)
		end = j + 1
	case weekdayAt(line, i) && i+3 < len(line) && isSpace(line[i+3]):
		t, j, ferr := dmesgClock(line, i+3, p.o.Location)
		if ferr != nil {
			return true, ferr
		}
		ev.Time = t
		end = j
	default:
		j, ok, rerr := dmesgRelative(line, i, p.o, ev)
		if !ok || rerr != nil {
			return ok, rerr
		}
		end = j
	}
	if end < len(line) && isSpace(line[end]) {
		end++
	}
	ev.Message = line[end:]
	ev.Source = event.SourceKernel
	if decodeAlarm(ev) {
		ev.Source = event.SourceLunaAlarm
	}
	return true, nil
}

// dmesgClock reads " Nov 22 05:31:30 2026]" (dmesg -T, after the weekday) and returns
// the position after the bracket.
func dmesgClock(line string, i int, loc *time.Location) (time.Time, int, error) {
	if i >= len(line) || !isSpace(line[i]) {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no space after the dmesg weekday")
	}
	m, j, ok := monthAt(line, skipSpaces(line, i))
	if !ok || j >= len(line) || !isSpace(line[j]) {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no month name in the dmesg time")
	}
	day, j, ok := digits(line, skipSpaces(line, j), 1, 2)
	if !ok || j >= len(line) || !isSpace(line[j]) {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no day of the month in the dmesg time")
	}
	h, mi, s, ns, j, ok := clockAt(line, skipSpaces(line, j))
	if !ok || (j < len(line) && !isSpace(line[j]) && line[j] != ']') {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no HH:MM:SS in the dmesg time")
	}
	year, j, ok := digits(line, skipSpaces(line, j), 4, 4)
	if !ok || (j < len(line) && !isSpace(line[j]) && line[j] != ']') {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no four-digit year in the dmesg time")
	}
	j = skipSpaces(line, j)
	if j >= len(line) || line[j] != ']' {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "dmesg time not closed by ']'")
	}
	if !validDate(year, m, day) {
		return time.Time{}, i, fail(event.SourceLunaAlarm, "no such date: "+m.String()[:3]+" "+strconv.Itoa(day))
	}
	return time.Date(year, m, day, h, mi, s, ns, loc), j + 1, nil
}

// weekdayAt reports whether a three-letter English weekday name stands at i.
func weekdayAt(s string, i int) bool {
	if i+3 > len(s) {
		return false
	}
	switch s[i : i+3] {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}

// driverRecord reads "<epoch>[.fraction] msg". ok is false, with no error, when the line
// does not start with an epoch of at least minEpochDigits digits.
func (p *lunaAlarm) driverRecord(line string, ev *event.Event) (ok bool, err error) {
	sec, j, okd := digits(line, 0, minEpochDigits, 11)
	if !okd {
		return false, nil
	}
	nsec := 0
	if j < len(line) && line[j] == '.' {
		nsec, j = fraction(line, j+1)
	}
	if j >= len(line) || !isSpace(line[j]) {
		return true, fail(event.SourceLunaAlarm, "no space after the driver log epoch")
	}
	ev.Time = time.Unix(int64(sec), int64(nsec)).In(p.o.Location)
	ev.Message = line[skipSpaces(line, j):]
	ev.Source = event.SourceLunaAlarm
	decodeAlarm(ev)
	return true, nil
}

// decodeAlarm finds a Luna PCIe alarm ("ALM0015: PCIe Link Failure", "ALM0015 : ...") in
// the message and sets fields.alarm_code (the four digits as a string: "0015"),
// fields.alarm_device (the "k7pf0: " before it, possibly followed by a "[HSM] " tag),
// fields.alarm_text (what follows the colon) and, when the text holds a temperature
// ("High Temperature - 82C", "Soft tamper - temperature (85C)"), fields.temperature_c.
// The message and the source are left alone.
func decodeAlarm(ev *event.Event) bool {
	m := ev.Message
	for off := 0; ; {
		k := strings.Index(m[off:], "ALM")
		if k < 0 {
			return false
		}
		k += off
		off = k + 3
		if k > 0 && isWordByte(m[k-1]) {
			continue // "PALM0001:" is not an alarm
		}
		_, j, ok := digits(m, k+3, 4, 4)
		if !ok {
			continue
		}
		if j < len(m) && m[j] == ' ' {
			j++
		}
		if j >= len(m) || m[j] != ':' {
			continue
		}
		ev.Fields.SetString("alarm_code", m[k+3:k+7])
		if dev := alarmDevice(m, k); dev != "" {
			ev.Fields.SetString("alarm_device", dev)
		}
		text := strings.TrimRight(m[skipSpaces(m, j+1):], " \t")
		if text != "" {
			ev.Fields.SetString("alarm_text", text)
		}
		if c, ok := temperatureIn(text); ok {
			ev.Fields.SetInt("temperature_c", int64(c))
		}
		return true
	}
}

// alarmDevice returns the device name ("k7pf0") that ends with ':' before the alarm at k,
// skipping an "[HSM] " tag, or "". A device name starts with a lower-case letter and ends
// with its instance number, so that "kernel: ALM..." or "NOTE: ALM..." name no device.
func alarmDevice(m string, k int) string {
	e := k
	for e > 0 && isSpace(m[e-1]) {
		e--
	}
	if e >= 5 && m[e-5] == '[' && m[e-1] == ']' && strings.EqualFold(m[e-4:e-1], "hsm") {
		e -= 5
		for e > 0 && isSpace(m[e-1]) {
			e--
		}
	}
	if e == 0 || m[e-1] != ':' {
		return ""
	}
	e--
	s := e
	for s > 0 && isWordByte(m[s-1]) {
		s--
	}
	if e-s < 2 || e-s > 32 || m[s] < 'a' || m[s] > 'z' || !isDigit(m[e-1]) {
		return ""
	}
	return m[s:e]
}

// temperatureIn finds the first "82C" (or "-5C") in text: one to three digits followed
// by 'C' that ends a word.
func temperatureIn(text string) (int, bool) {
	for i := 0; i < len(text); i++ {
		if !isDigit(text[i]) || (i > 0 && (isWordByte(text[i-1]) || text[i-1] == '.')) {
			continue
		}
		n, j, _ := digits(text, i, 1, 3)
		if j >= len(text) || text[j] != 'C' || (j+1 < len(text) && isWordByte(text[j+1])) {
			i = j - 1
			continue
		}
		if i > 0 && text[i-1] == '-' && (i == 1 || text[i-2] == '(' || isSpace(text[i-2])) {
			n = -n
		}
		return n, true
	}
	return 0, false
}

func isWordByte(c byte) bool {
	return isDigit(c) || c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

package parse

import (
	"strconv"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// dmesg reads the kernel ring buffer as dmesg prints it, source kernel, no host and no
// process:
//
//	[   12.345678] ata1: SATA link up 6.0 Gbps      seconds since boot (fields.uptime_s)
//	[Tue Mar  1 12:00:00 2024] nvme nvme0: ...      dmesg -T: local time
//	[Feb22 04:01] EXT4-fs (sda1): ...                dmesg -e / --reltime: month, day and
//	[  +0.000012] ata1.00: configured for UDMA/133   minute, then the delta to the previous
//	                                                 line (fields.delta_s); best effort
//
// A line that carries a Luna PCIe alarm (ALMnnnn:) is source luna-alarm instead: the
// luna-alarm parser shares the reading of the brackets (lunaAlarm.dmesg).
type dmesg struct{ alarm *lunaAlarm }

func newDmesg(o Options) *dmesg { return &dmesg{alarm: newLunaAlarm(o)} }

func (p *dmesg) Format() string { return event.SourceKernel }

var errDmesgBracket = fail(event.SourceKernel, "no [uptime], [weekday time], [MonDD hh:mm] or [+delta] at the start")

func (p *dmesg) Parse(line string, ev *event.Event) error {
	if line == "" || line[0] != '[' {
		return errDmesgBracket
	}
	ok, err := p.alarm.dmesg(line, ev)
	if err != nil {
		return err
	}
	if !ok {
		return errDmesgBracket
	}
	return nil
}

// dmesgRelative reads the bracket of dmesg --reltime at i (after "[ "): "Feb22 04:01]"
// (the time of the first line of a minute; the year is inferred like a syslog date's) or
// "+0.000012]" (the delta to the previous line). ok is false, with no error, when neither
// stands there.
func dmesgRelative(line string, i int, o Options, ev *event.Event) (end int, ok bool, err error) {
	if i < len(line) && line[i] == '+' {
		j := i + 1
		for j < len(line) && (isDigit(line[j]) || line[j] == '.') {
			j++
		}
		k := skipSpaces(line, j)
		if j == i+1 || k >= len(line) || line[k] != ']' {
			return i, false, nil
		}
		d, perr := strconv.ParseFloat(line[i+1:j], 64)
		if perr != nil {
			return i, true, fail(event.SourceKernel, "invalid dmesg delta")
		}
		ev.Fields.SetFloat("delta_s", d)
		return k + 1, true, nil
	}
	m, j, okm := monthAt(line, i)
	if !okm {
		return i, false, nil
	}
	day, j, okd := digits(line, j, 1, 2)
	if !okd || j >= len(line) || line[j] != ' ' {
		return i, false, nil
	}
	h, j, okh := digits(line, j+1, 2, 2)
	if !okh || h > 23 || j >= len(line) || line[j] != ':' {
		return i, false, nil
	}
	mi, j, okmi := digits(line, j+1, 2, 2)
	if !okmi || mi > 59 || j >= len(line) || line[j] != ']' {
		return i, false, nil
	}
	if !validDate(2024, m, day) { // a leap year: the year is not known yet
		return i, true, fail(event.SourceKernel, "no such day in the dmesg time")
	}
	ev.Time = dateWithoutYear(m, day, h, mi, 0, 0, o.Reference, o.Location)
	return j + 1, true, nil
}

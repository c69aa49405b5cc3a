package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// selExport reads the rows of a BMC's system event log as tools other than ipmitool write
// them (ipmisel.go reads ipmitool's), source ipmi-sel too:
//
//	0063 12/20/11 05:56:50 MAJ EFI  System Firmware #06 DIMM_A1 Disabled 6f [a0 40 85]
//	2051,2016/12/07 21:16:36,FAN2 ,Fan,Lower Critical - Going Low - Assertion
//
// The first is ipmiutil's "sel" (ipmiutil's documentation, "ipmiutil sel": record id,
// date, time, severity, the generator, then the event's text and data): its severity
// column is the tool's own judgement of the event, CRT, MAJ, MIN or INF, read as crit,
// err, warning and info. The second is the CSV a Supermicro BMC's web interface exports
// (record id, date and time, sensor, sensor type, event with " - Assertion" or
// " - Deassertion", or " - De-assertion"). Fields: sel_id, and sel_source (ipmiutil) or sensor, sensor_type,
// event and state (the CSV, whose state also sets the event's assert). The message is the
// row after the time. There is no host.
func selExport(line string, loc *time.Location, ev *event.Event) bool {
	return ipmiutilRow(line, loc, ev) || selCSVRow(line, loc, ev)
}

// ipmiutilRow reads "hhhh mm/dd/yy hh:mm:ss SEV SRC text".
func ipmiutilRow(line string, loc *time.Location, ev *event.Event) bool {
	if len(line) < 28 || line[4] != ' ' || line[7] != '/' || line[10] != '/' || line[13] != ' ' {
		return false
	}
	for i := 0; i < 4; i++ {
		if !isHex(line[i]) {
			return false
		}
	}
	t, ok := shortDateTime(line[5:13], line[14:22], loc)
	if !ok || line[22] != ' ' {
		return false
	}
	sev := ""
	switch line[23:26] {
	case "CRT":
		sev = "crit"
	case "MAJ":
		sev = "err"
	case "MIN":
		sev = "warning"
	case "INF":
		sev = "info"
	default:
		return false
	}
	if line[26] != ' ' {
		return false
	}
	src, i := token(line, skipSpaces(line, 27))
	ev.Source, ev.Time, ev.Severity = event.SourceIPMISEL, t, sev
	ev.Fields.SetString("sel_id", line[:4])
	ev.Fields.SetString("sel_source", src)
	ev.Message = line[skipSpaces(line, i):]
	return true
}

// shortDateTime reads ipmiutil's "mm/dd/yy" and "hh:mm:ss" (years 70 to 99 are 19xx).
func shortDateTime(date, clock string, loc *time.Location) (time.Time, bool) {
	m, _, ok1 := digits(date, 0, 2, 2)
	d, _, ok2 := digits(date, 3, 2, 2)
	y, j, ok3 := digits(date, 6, 2, 2)
	if !ok1 || !ok2 || !ok3 || j != len(date) {
		return time.Time{}, false
	}
	if y += 2000; y >= 2070 {
		y -= 100
	}
	if !validDate(y, time.Month(m), d) {
		return time.Time{}, false
	}
	h, mi, s, ns, k, ok := clockAt(clock, 0)
	if !ok || k != len(clock) {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(m), d, h, mi, s, ns, loc), true
}

// selCSVRow reads "id,yyyy/mm/dd hh:mm:ss,sensor,type,event - Assertion".
func selCSVRow(line string, loc *time.Location, ev *event.Event) bool {
	_, i, ok := digits(line, 0, 1, 10)
	if !ok || i+21 > len(line) || line[i] != ',' || line[i+5] != '/' || line[i+8] != '/' ||
		line[i+11] != ' ' || line[i+20] != ',' {
		return false
	}
	y, _, ok1 := digits(line, i+1, 4, 4)
	m, _, ok2 := digits(line, i+6, 2, 2)
	d, _, ok3 := digits(line, i+9, 2, 2)
	h, mi, s, ns, k, ok4 := clockAt(line, i+12)
	if !ok1 || !ok2 || !ok3 || !ok4 || k != i+20 || !validDate(y, time.Month(m), d) {
		return false
	}
	rest := line[i+21:]
	sensor, rest, ok5 := strings.Cut(rest, ",")
	kind, what, ok6 := strings.Cut(rest, ",")
	if !ok5 || !ok6 {
		return false
	}
	ev.Source, ev.Time = event.SourceIPMISEL, time.Date(y, time.Month(m), d, h, mi, s, ns, loc)
	ev.Fields.SetString("sel_id", line[:i])
	ev.Fields.SetString("sensor", strings.TrimSpace(sensor))
	ev.Fields.SetString("sensor_type", strings.TrimSpace(kind))
	if e, ok := strings.CutSuffix(what, " - Assertion"); ok {
		what, ev.Assert = e, event.True
		ev.Fields.SetString("state", "Asserted")
	} else if e, ok := cutDeassertion(what); ok {
		what, ev.Assert = e, event.False
		ev.Fields.SetString("state", "Deasserted")
	}
	ev.Fields.SetString("event", strings.TrimSpace(what))
	ev.Message = line[i+21:]
	return true
}

// cutDeassertion cuts the CSV's " - Deassertion" (or " - De-assertion") off the event.
func cutDeassertion(what string) (string, bool) {
	if e, ok := strings.CutSuffix(what, " - Deassertion"); ok {
		return e, true
	}
	return strings.CutSuffix(what, " - De-assertion")
}

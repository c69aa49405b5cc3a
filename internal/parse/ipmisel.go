package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// ipmiSEL reads the rows of ipmitool's "sel list" and "sel elist" (the BMC's system event
// log), columns separated by " | ":
//
//	 1 | 03/01/2024 | 12:00:00 | Power Supply PS2 Status | Failure detected | Asserted
//	1a | Nov-25-2024 | 08:14:02 | Power Supply #0x51 | Power Supply AC lost | Deasserted
//	 2 | 03/01/2024 | 12:00:01 | Temperature CPU1 Temp | Upper Critical going high | Asserted | Reading 95 > Threshold 90 degrees C
//
// the record id (hexadecimal, fields.sel_id), the date (mm/dd/yyyy, or Mon-dd-yyyy of newer
// ipmitool releases; "Pre-Init" records have none), the time (BMC clock, the configured
// zone unless a "UTC" follows), the sensor (fields.sensor), the event (fields.event), the
// direction (fields.state: Asserted or Deasserted, which also sets the event's assert) and,
// in elist rows, a reading or description (fields.detail). The message is the row after
// the time: "Power Supply PS2 Status | Failure detected | Asserted". There is no host.
type ipmiSEL struct{ o Options }

func newIPMISEL(o Options) *ipmiSEL { return &ipmiSEL{o: o} }

func (p *ipmiSEL) Format() string { return event.SourceIPMISEL }

var errSELShape = fail(event.SourceIPMISEL, "no 'id | date | time | sensor | event' row")

// looksSEL reports whether line starts like a SEL row: blanks, a hexadecimal record id and
// " | ".
func looksSEL(line string) bool {
	i := skipSpaces(line, 0)
	j := i
	for j < len(line) && isHex(line[j]) {
		j++
	}
	return j > i && j-i <= 8 && strings.HasPrefix(line[j:], " | ")
}

func (p *ipmiSEL) Parse(line string, ev *event.Event) error {
	if !looksSEL(line) {
		if selExport(line, p.o.Location, ev) {
			return nil // another tool's row (selexport.go)
		}
		return errSELShape
	}
	var col [8]string
	var start [8]int
	n, off := 0, 0
	for n < len(col) {
		start[n] = off
		// "|" with or without blanks: a Pre-Init row writes "Pre-Init  |0000000000|"
		k := strings.IndexByte(line[off:], '|')
		if k < 0 || n == len(col)-1 {
			col[n] = line[off:]
			n++
			break
		}
		col[n], off = line[off:off+k], off+k+1
		n++
	}
	if n < 5 {
		return errSELShape
	}
	id := strings.TrimSpace(col[0])
	date, clock := strings.TrimSpace(col[1]), strings.TrimSpace(col[2])
	t, ok := selTime(date, clock, p.o.Location)
	switch {
	case ok:
		ev.Time = t
	case date == "Pre-Init" || strings.HasPrefix(date, "Pre-Init"):
		ev.Fields.SetString("sel_time", clock) // seconds since the BMC started
	default:
		return fail(event.SourceIPMISEL, "no mm/dd/yyyy or Mon-dd-yyyy date and hh:mm:ss time")
	}
	ev.Source = event.SourceIPMISEL
	ev.Fields.SetString("sel_id", id)
	ev.Fields.SetString("sensor", strings.TrimSpace(col[3]))
	evText, state := strings.TrimSpace(col[4]), ""
	if n > 5 {
		state = strings.TrimSpace(col[5])
	} else if t, ok := strings.CutSuffix(evText, " Deasserted"); ok {
		// older ipmitool wrote the direction after the event, in its column, and only when
		// the event ended: "Predictive Failure Deasserted"
		evText, state = t, "Deasserted"
	}
	ev.Fields.SetString("event", evText)
	if state != "" {
		ev.Fields.SetString("state", state)
		switch state {
		case "Asserted":
			ev.Assert = event.True
		case "Deasserted":
			ev.Assert = event.False
		}
	}
	if n > 6 {
		ev.Fields.SetString("detail", strings.TrimSpace(col[6]))
	}
	// The message: the row from the sensor on, its columns trimmed and joined by " | "
	// (ipmitool pads some columns, and a Pre-Init row writes "|" without blanks), so that
	// rules read one spelling.
	ev.Message = strings.TrimSpace(line[start[3]:])
	if m := ev.Message; strings.Count(m, "|") != strings.Count(m, " | ") || strings.Contains(m, "  |") || strings.Contains(m, "|  ") {
		parts := make([]string, 0, n-3)
		for _, c := range col[3:n] {
			parts = append(parts, strings.TrimSpace(c))
		}
		ev.Message = strings.Join(parts, " | ")
	}
	return nil
}

// selTime reads "03/01/2024" or "Nov-25-2024" and "12:00:00" (a " UTC" or other zone word
// may follow the time; UTC is honoured, other names are left to the configured zone).
func selTime(date, clock string, loc *time.Location) (time.Time, bool) {
	var y, d int
	var m time.Month
	if mo, i, ok := digits(date, 0, 2, 2); ok && i < len(date) && date[i] == '/' {
		var ok2 bool
		if d, i, ok2 = digits(date, i+1, 2, 2); !ok2 || i >= len(date) || date[i] != '/' {
			return time.Time{}, false
		}
		if y, i, ok2 = digits(date, i+1, 4, 4); !ok2 || i != len(date) {
			return time.Time{}, false
		}
		m = time.Month(mo)
	} else if mm, i, ok := monthAt(date, 0); ok && i < len(date) && date[i] == '-' {
		var ok2 bool
		if d, i, ok2 = digits(date, i+1, 2, 2); !ok2 || i >= len(date) || date[i] != '-' {
			return time.Time{}, false
		}
		if y, i, ok2 = digits(date, i+1, 4, 4); !ok2 || i != len(date) {
			return time.Time{}, false
		}
		m = mm
	} else {
		return time.Time{}, false
	}
	if !validDate(y, m, d) {
		return time.Time{}, false
	}
	h, mi, s, ns, i, ok := clockAt(clock, 0)
	if !ok {
		return time.Time{}, false
	}
	if i < len(clock) {
		if !isSpace(clock[i]) {
			return time.Time{}, false
		}
		if strings.TrimSpace(clock[i:]) == "UTC" {
			loc = time.UTC
		}
	}
	return time.Date(y, m, d, h, mi, s, ns, loc), true
}

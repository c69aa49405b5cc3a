package lunatrap

import (
	"strconv"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Ref is one ssLogReference: where on the appliance the log record behind a trap is.
type Ref struct {
	Host    string // the appliance's host name
	IP      string // the address of its first Ethernet interface; "" when absent
	File    string // the log file holding the record ("messages")
	Time    string // the record's time as logged, single-spaced: "2012 Feb 29 12:05:01"
	Process string
	PID     int       // 0 when the reference names none
	Assert  event.Tri // True for 1, False for 0
	Test    bool      // the reference carries the ***TEST designator
}

// TestMarker is the designator "lunash:> sysconf snmp trap test" puts in the log record.
// The appliance's own traps do not carry it (the operator finds it in the log); hsmwatch
// puts it before the bracket of a test event's reference so that a receiver can tell
// test traps from real ones without logging in to the appliance.
const TestMarker = "***TEST"

// Format writes r in the appliance's shape:
// "[host:ip / logfile / YYYY Mon D HH:MM:SS / process[pid] / 1|0]", preceded by
// "***TEST : " for a test. The date is single-spaced as the guide's trap log shows it.
func Format(r Ref) string {
	var b strings.Builder
	if r.Test {
		b.WriteString(TestMarker + " : ")
	}
	b.WriteByte('[')
	b.WriteString(r.Host)
	b.WriteByte(':')
	b.WriteString(r.IP)
	b.WriteString(" / ")
	b.WriteString(r.File)
	b.WriteString(" / ")
	b.WriteString(r.Time)
	b.WriteString(" / ")
	b.WriteString(r.Process)
	if r.PID != 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(r.PID))
		b.WriteByte(']')
	}
	b.WriteString(" / ")
	if r.Assert == event.False {
		b.WriteByte('0')
	} else {
		b.WriteByte('1')
	}
	b.WriteByte(']')
	return b.String()
}

// TimeLayout is how Format expects Ref.Time: the log's own layout, single-spaced.
const TimeLayout = "2006 Jan 2 15:04:05"

// Parse reads an ssLogReference by shape, not by position: the guide prints the
// file before the date in one place and after it in another, and the appliance's
// snmptrap or snmptrapd squeezes runs of spaces. The five elements are separated by
// " / "; the first is host:ip, the last 1 or 0; of the middle three, the one shaped like
// a log date is the time, the one shaped like name[pid] (else the last) the process, the
// other the file. ok is false when s has not that shape.
func Parse(s string) (r Ref, ok bool) {
	r.Test = strings.Contains(s, TestMarker)
	open := strings.IndexByte(s, '[')
	end := strings.LastIndexByte(s, ']')
	if open < 0 || end <= open {
		return r, false
	}
	inner := strings.Join(strings.Fields(s[open+1:end]), " ")
	parts := strings.Split(inner, " / ")
	if len(parts) != 5 {
		return r, false
	}
	switch parts[4] {
	case "1":
		r.Assert = event.True
	case "0":
		r.Assert = event.False
	default:
		return r, false
	}
	r.Host, r.IP, _ = strings.Cut(parts[0], ":")
	if r.Host == "" {
		return r, false
	}
	mid := parts[1:4]
	date := -1
	for i, p := range mid {
		if isLogDate(p) {
			date = i
			break
		}
	}
	if date < 0 {
		return r, false
	}
	r.Time = mid[date]
	var rest []string
	for i, p := range mid {
		if i != date {
			rest = append(rest, p)
		}
	}
	proc, file := rest[1], rest[0]
	if _, _, ok := splitPID(rest[0]); ok {
		if _, _, ok2 := splitPID(rest[1]); !ok2 {
			proc, file = rest[0], rest[1]
		}
	}
	if proc == "" || file == "" {
		return r, false
	}
	r.File = file
	if name, pid, ok := splitPID(proc); ok {
		r.Process, r.PID = name, pid
	} else {
		r.Process = proc
	}
	return r, true
}

// splitPID splits "name[123]".
func splitPID(s string) (name string, pid int, ok bool) {
	i := strings.IndexByte(s, '[')
	if i <= 0 || !strings.HasSuffix(s, "]") {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1 : len(s)-1])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return s[:i], n, true
}

// isLogDate reports whether s is a single-spaced "YYYY Mon D HH:MM:SS".
func isLogDate(s string) bool {
	_, err := time.Parse(TimeLayout, s)
	return err == nil
}

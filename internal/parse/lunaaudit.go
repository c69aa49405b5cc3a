package parse

import (
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// lunaAudit reads the records of the Luna HSM audit log (what "audit log tail" shows and
// the audit log files hold), one record a line:
//
//	79,12/02/29 16:33:31,S/N 150822 session 1 Access 2147483651:2346 SO -- operation LUNA_LOGIN returned RC_OK(0x00000000)
//
// that is: sequence number, time (yy/mm/dd hh:mm:ss, UTC: the HSM stamps its audit
// records in UTC), then who and what: the HSM's serial number, the session, the access
// id, the role, the operation and what it returned. The event gets fields.seq, serial,
// session, access_id, role, operation, result (the return code's name, RC_OK) and
// result_code (its hex value as written); the message is the record after the time.
// The record carries no severity: one is derived from the return code, info for RC_OK
// and err for any other, so that a failed operation stands out. Records of other shapes
// (HSM-generated events, time changes) keep whatever of these parts they hold.
type lunaAudit struct{ o Options }

func newLunaAudit(o Options) *lunaAudit { return &lunaAudit{o: o} }

func (p *lunaAudit) Format() string { return event.SourceLunaAudit }

// isLunaAudit reports whether line starts like an audit record: digits, a comma and
// yy/mm/dd.
func isLunaAudit(line string) bool {
	_, j, ok := digits(line, 0, 1, 10)
	return ok && j+9 < len(line) && line[j] == ',' && isDigit(line[j+1]) && isDigit(line[j+2]) &&
		line[j+3] == '/' && line[j+6] == '/'
}

func (p *lunaAudit) Parse(line string, ev *event.Event) error {
	seq, i, ok := digits(line, 0, 1, 10)
	if !ok || i >= len(line) || line[i] != ',' {
		return fail(event.SourceLunaAudit, "no sequence number and comma at the start of the line")
	}
	t, i, ok := auditTimeAt(line, i+1)
	if !ok {
		return fail(event.SourceLunaAudit, "no yy/mm/dd hh:mm:ss time after the sequence number")
	}
	if i >= len(line) || line[i] != ',' {
		return fail(event.SourceLunaAudit, "no comma after the time")
	}
	ev.Source = event.SourceLunaAudit
	ev.Time = t
	ev.Fields.SetInt("seq", int64(seq))
	ev.Message = strings.TrimRight(line[i+1:], " \t")
	auditBody(ev.Message, ev)
	return nil
}

// auditTimeAt reads "12/02/29 16:33:31" (two-digit year of this century).
func auditTimeAt(s string, i int) (time.Time, int, bool) {
	y, j, ok := digits(s, i, 2, 2)
	if !ok || j >= len(s) || s[j] != '/' {
		return time.Time{}, i, false
	}
	mo, j, ok := digits(s, j+1, 2, 2)
	if !ok || j >= len(s) || s[j] != '/' {
		return time.Time{}, i, false
	}
	d, j, ok := digits(s, j+1, 2, 2)
	if !ok || j >= len(s) || s[j] != ' ' || !validDate(2000+y, time.Month(mo), d) {
		return time.Time{}, i, false
	}
	h, mi, sec, ns, j, ok := clockAt(s, j+1)
	if !ok {
		return time.Time{}, i, false
	}
	return time.Date(2000+y, time.Month(mo), d, h, mi, sec, ns, time.UTC), j, true
}

// auditBody reads the words of a record: "S/N <serial>", "session <n>", "Access <id>",
// the role words up to "--" or "operation", "operation <name>" and "returned
// <RC_NAME>(<hex>)". Words it does not know are left in the message only.
func auditBody(b string, ev *event.Event) {
	i := 0
	if strings.HasPrefix(b, "S/N ") {
		serial, j := token(b, skipSpaces(b, 4))
		if serial != "" {
			ev.Fields.SetString("serial", serial)
		}
		i = skipSpaces(b, j)
	}
	if w, j := token(b, i); w == "session" {
		if n, k, ok := digits(b, skipSpaces(b, j), 1, 10); ok && (k == len(b) || isSpace(b[k])) {
			ev.Fields.SetInt("session", int64(n))
			i = skipSpaces(b, k)
		}
	}
	if w, j := token(b, i); w == "Access" {
		id, k := token(b, skipSpaces(b, j))
		if id != "" {
			ev.Fields.SetString("access_id", id)
		}
		i = skipSpaces(b, k)
		// The role ("SO", "Crypto Officer", ...) up to "--" or "operation".
		start, end := i, i
		for n := 0; n < 4 && i < len(b); n++ {
			w, k := token(b, i)
			if w == "--" || w == "operation" {
				break
			}
			end, i = k, skipSpaces(b, k)
		}
		if end > start {
			ev.Fields.SetString("role", b[start:end])
		}
	}
	if k := strings.Index(b, "operation "); k >= 0 {
		if op, _ := token(b, skipSpaces(b, k+len("operation "))); op != "" {
			ev.Fields.SetString("operation", op)
		}
	}
	k := strings.Index(b, "returned ")
	if k < 0 {
		return
	}
	rc, _ := token(b, skipSpaces(b, k+len("returned ")))
	name, code := rc, ""
	if o := strings.IndexByte(rc, '('); o > 0 && rc[len(rc)-1] == ')' {
		name, code = rc[:o], rc[o+1:len(rc)-1]
	}
	if name == "" {
		return
	}
	ev.Fields.SetString("result", name)
	if code != "" {
		ev.Fields.SetString("result_code", code)
	}
	if name == "RC_OK" {
		ev.Severity = "info"
	} else {
		ev.Severity = "err"
	}
}

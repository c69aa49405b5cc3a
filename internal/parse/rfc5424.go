package parse

import (
	"slices"
	"strconv"
	"strings"

	syslog "github.com/leodido/go-syslog/v4"
	syslog5424 "github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// rfc5424 reads RFC 5424 syslog as rsyslog forwards it (RSYSLOG_SyslogProtocol23Format)
// and as newer appliances send it:
//
//	<165>1 2026-11-22T05:31:30.123+01:00 myLuna NTLS 1234 - - info : 0 : NTLS is online and operational.
//
// The grammar is go-syslog's rfc5424 machine. The event gets facility and severity from
// the PRI, the timestamp with its own offset ("-" leaves Time zero), host, process (APP-NAME),
// pid (a numeric PROCID; any other PROCID goes to fields.procid), fields.msgid, and every
// structured-data parameter as fields."sd.<SD-ID>.<name>" (SD-IDs and names sorted, so the
// output does not depend on map order). The MSG loses a leading UTF-8 BOM or the extra
// space rsyslog puts there, and trailing line breaks (trimMsg5424), then goes through the
// same message decoders as the other syslog formats.
//
// A malformed STRUCTURED-DATA does not reject the line when everything before it (PRI,
// VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID) is valid: those fields are sound,
// and some senders leave the SD out altogether ("... 1234 - info : 0 : ...").
// The text from the SD on becomes the message, unsplit, and fields.sd_error says what was
// wrong. Any error earlier in the header rejects the line.
//
// go-syslog's rfc5424.NewParser guards its machine with a mutex, and rfc5424 keeps no other
// state, so one instance may be shared by goroutines (they take turns in the machine).
type rfc5424 struct {
	o Options
	m syslog.Machine
}

func newRFC5424(o Options) *rfc5424 {
	return &rfc5424{o: o, m: syslog5424.NewParser(syslog5424.WithBestEffort())}
}

func (p *rfc5424) Format() string { return event.SourceRFC5424 }

func (p *rfc5424) Parse(line string, ev *event.Event) error {
	if line == "" {
		return fail(event.SourceRFC5424, "empty line")
	}
	msg, err := p.m.Parse([]byte(line))
	sm, _ := msg.(*syslog5424.SyslogMessage)
	sdErr, sd := "", 0
	if err != nil {
		reason, col := rfc5424Error(err, line)
		sd = rfc5424SDStart(line)
		if sm == nil || sd < 0 || col < sd {
			return fail(event.SourceRFC5424, reason)
		}
		sdErr = reason // the header is whole; only the structured data is not
	}
	if sm == nil || sm.Priority == nil { // not without an error; kept for safety
		return fail(event.SourceRFC5424, "no <PRI> at the start of the line")
	}
	ev.Source = event.SourceRFC5424
	ev.Facility = facilityName(int(*sm.Priority / 8))
	ev.Severity = severityName(int(*sm.Priority % 8))
	if sm.Timestamp != nil {
		t := *sm.Timestamp
		_, off := t.Zone()
		ev.Time = t.In(fixedZone(off)) // the sender's offset, not whatever zone matched it locally
	}
	ev.Host = rfc5424Str(sm.Hostname)
	ev.Process = rfc5424Str(sm.Appname)
	if procID := rfc5424Str(sm.ProcID); procID != "" {
		if pid, j, ok := digits(procID, 0, 1, 9); ok && j == len(procID) && pid > 0 {
			ev.PID = pid
		} else {
			ev.Fields.SetString("procid", procID)
		}
	}
	if msgID := rfc5424Str(sm.MsgID); msgID != "" {
		ev.Fields.SetString("msgid", msgID)
	}
	if sdErr != "" {
		ev.Fields.SetString("sd_error", sdErr)
		ev.Message = line[sd:]
	} else {
		if sm.StructuredData != nil {
			rfc5424SD(ev, *sm.StructuredData)
		}
		ev.Message = rfc5424Str(sm.Message)
	}
	ev.Message = trimMsg5424(ev.Message)
	decodeMessage(ev)
	return nil
}

// rfc5424SD adds fields "sd.<SD-ID>.<name>", SD-IDs and names in byte order.
func rfc5424SD(ev *event.Event, sd map[string]map[string]string) {
	var idBuf, nameBuf [8]string
	ids := idBuf[:0]
	for id := range sd {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		params := sd[id]
		names := nameBuf[:0]
		for name := range params {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			ev.Fields.SetString("sd."+id+"."+name, params[name])
		}
	}
}

// rfc5424Error turns go-syslog's "<reason> [col N]" into "<reason> at byte N+1" (bytes
// counted from 1) or, when the line ended first, "truncated header: <reason>"; col is the
// library's 0-based position (len(line) when it is unknown).
func rfc5424Error(err error, line string) (reason string, col int) {
	text := err.Error()
	col = len(line)
	k := strings.LastIndex(text, " [col ")
	if k < 0 || !strings.HasSuffix(text, "]") {
		return text, col
	}
	n, convErr := strconv.Atoi(text[k+len(" [col ") : len(text)-1])
	if convErr != nil {
		return text, col
	}
	text, col = text[:k], n
	if col >= len(line) {
		return "truncated header: " + text + " at the end of the line", col
	}
	if text == syslog5424.ErrParse { // the library's catch-all: say what it tripped on
		text += ": unexpected " + strconv.Quote(line[col:col+1])
	}
	return text + " at byte " + strconv.Itoa(col+1), col
}

// rfc5424SDStart returns the position of STRUCTURED-DATA: after the space that ends
// MSGID, the sixth space of the line (no header field may contain one). -1 when there is none.
func rfc5424SDStart(line string) int {
	spaces := 0
	for i := 0; i < len(line); i++ {
		if line[i] == ' ' {
			spaces++
			if spaces == 6 {
				return i + 1
			}
		}
	}
	return -1
}

// trimMsg5424 removes a leading UTF-8 BOM (RFC 5424 MSG-UTF8), else one leading space,
// and trailing line breaks. The space is rsyslog's: RSYSLOG_SyslogProtocol23Format writes
// "%STRUCTURED-DATA% %msg%" and the msg of a message received from a BSD-style sender keeps
// the space that followed "tag:" ("- - -  info : 0 : ..."; rsyslog issue #160). The line
// break is rsyslog's too: that template ends with "\n", which UDP delivers (issue #4384).
func trimMsg5424(m string) string {
	if strings.HasPrefix(m, "\ufeff") {
		m = m[len("\ufeff"):]
	} else if strings.HasPrefix(m, " ") {
		m = m[1:]
	}
	return strings.TrimRight(m, "\r\n")
}

func rfc5424Str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

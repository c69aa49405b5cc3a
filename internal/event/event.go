// Package event defines the one thing every stage of hsmwatch exchanges: the event.
//
// Its JSON form (schema v1) is a public contract documented in the README; field names
// never change meaning. The encoder is hand-written (see json.go) because it sits on the
// hot path of every sink and must not allocate per event.
package event

import (
	"time"
)

// SchemaVersion is the version of the JSON form written by AppendJSON.
const SchemaVersion = 1

// Source names the input format an event was read from.
const (
	SourceLunaSyslog = "luna-syslog"
	SourceRFC3164    = "rfc3164"
	SourceRFC5424    = "rfc5424"
	SourceLunaAlarm  = "luna-alarm"
	SourceKernel     = "kernel"
	SourceDinamoLog  = "dinamo-log"
	SourceLunaAudit  = "luna-audit"     // the Luna HSM audit log ("79,12/02/29 16:33:31,S/N ...")
	SourceAppLog     = "app-log"        // application logs: ISO-8601 time and a level word
	SourceLogfmt     = "logfmt"         // key=value lines (time=, level=, msg=)
	SourceSyslogBody = "syslog-body"    // "process[pid]: message" without a syslog header
	SourceJava       = "java-exception" // the head of a Java stack trace
	SourceJSON       = "json"           // one JSON object a line (zap, zerolog, slog, ECS)
	SourceGoLog      = "go-log"         // Go's standard logger: "2019/04/18 11:05:44 message"
	SourceLogrus     = "logrus"         // logrus' text formatter: "WARN[0033] message k=v"
	SourceIPMISEL    = "ipmi-sel"       // ipmitool sel list / sel elist rows
	SourceOpenSSL    = "openssl"        // OpenSSL error-queue lines ("...:error:26096080:...")
	SourceSNMPTrap   = "snmp-trap"
	SourceSNMPPoll   = "snmp-poll"
	SourcePKCS11     = "pkcs11"
	SourceUnparsed   = "unparsed"
	// SourceSelf marks what hsmwatch says about its own inputs: a syslog sender limited
	// for flooding, and the like.
	SourceSelf = "hsmwatch"
)

// ClassUnclassified is the class of an event that no specific rule of the catalog knows:
// its level comes from the severity floor (the sender's severity, a level word of the
// message). The other classes are the Luna guide's: expected, unexpected, significant,
// insignificant, unlikely, debug, and unknown for the catch-all of a known process.
const ClassUnclassified = "unclassified"

// Tri is a boolean that may be absent: the assert flag of an event that neither
// asserts nor clears anything stays Unset and is left out of the JSON.
type Tri uint8

// Tri values.
const (
	Unset Tri = iota
	False
	True
)

// TriOf returns True or False for b.
func TriOf(b bool) Tri {
	if b {
		return True
	}
	return False
}

// Event is one fact about an HSM: a log line, a trap, a poll result or a probe.
//
// String fields are usually sub-strings of Raw, so that parsing a line costs one
// allocation (the line itself). Code that keeps an event beyond the next read must
// therefore not reuse the Raw buffer; parsers never do.
type Event struct {
	Time     time.Time
	Host     string
	Source   string
	Facility string
	Severity string
	Process  string
	PID      int // 0 when the input has none
	Message  string

	// Set by classification (internal/classify).
	Component    string
	Class        string
	Rule         string
	Title        string
	Level        string
	Notification string
	Assert       Tri
	// Cleared is the id of the alarm this event closed (set by the alarm state,
	// internal/state): the alarm's host, "/", and its key when it opened. A clearing
	// event also carries assert false and the level of the alarm it closed.
	Cleared string

	Test   bool   // produced by a trap test (***TEST)
	Fields Fields // typed extras
	Raw    string // the input line or a packet summary, always kept

	// Input says where the event came from: "file:line", "peer address".
	Input string
	// Reason says why an unparsed event could not be parsed.
	Reason string
}

// Reset clears e for reuse, keeping the capacity of its Fields.
func (e *Event) Reset() {
	f := e.Fields[:0]
	*e = Event{}
	e.Fields = f
}

// Significant reports whether an operator should see e: an unparsed line (something may
// be hidden in it), a level of warning or above, a trap notification, or an alarm change.
func (e *Event) Significant() bool {
	switch {
	case e.Source == SourceUnparsed, e.Notification != "", e.Assert != Unset, e.Cleared != "":
		return true
	}
	switch e.Level {
	case "critical", "major", "minor", "warning":
		return true
	}
	return false
}

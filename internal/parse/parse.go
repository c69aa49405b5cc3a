// Package parse turns one input line into an event with typed fields.
//
// One file per format: lunasyslog.go (Luna appliance log files), rfc3164.go and
// rfc5424.go (syslog as rsyslog writes or forwards it), lunaalarm.go (Luna PCIe ALM lines),
// dinamo.go (the Dinamo event log), lunaaudit.go (the Luna HSM audit log), applog.go
// (ISO time and level word), logfmt.go (key=value), body.go (a syslog tag and message
// without header), java.go (Java exception heads), dmesg.go (the kernel ring buffer),
// jsonlog.go (one JSON object a line), golog.go (Go's standard logger), logrus.go (logrus'
// text formatter), ipmisel.go (ipmitool sel list rows), openssl.go (OpenSSL error queue). Message decoders shared by the syslog formats live in
// lunalog.go (lunalog descriptions), traptest.go (***TEST markers) and, for ALM codes
// inside syslog messages, lunaalarm.go. auto.go picks the format of each line.
//
// Parsers do not classify: they only say what the line is made of.
package parse

import (
	"fmt"
	"strings"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
)

// Parser turns one line (without its line terminator) into ev. On error ev holds
// whatever was parsed so far; callers use Into, which turns the failure into an
// unparsed event.
type Parser interface {
	// Format is the name the parser is selected by (--format).
	Format() string
	Parse(line string, ev *event.Event) error
}

// Options set what a line alone cannot tell.
type Options struct {
	// Location is the zone of timestamps written without an offset. Default: time.Local.
	Location *time.Location
	// Reference is "now" for inferring a missing year (the modification time of the file
	// being read, or the current time). Default: time.Now() when the parser is made.
	Reference time.Time
}

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Reference.IsZero() {
		o.Reference = time.Now()
	}
	o.Reference = o.Reference.In(o.Location)
	return o
}

// Error says why a line could not be parsed in a given format.
type Error struct {
	Format string
	Reason string
}

func (e *Error) Error() string { return e.Format + ": " + e.Reason }

func fail(format, reason string) error { return &Error{Format: format, Reason: reason} }

// Auto is the format name that chooses a parser per line.
const Auto = "auto"

// Formats returns the names New accepts.
func Formats() []string {
	return []string{Auto, event.SourceLunaSyslog, event.SourceRFC3164, event.SourceRFC5424,
		event.SourceLunaAlarm, event.SourceDinamoLog, event.SourceLunaAudit, event.SourceAppLog,
		event.SourceLogfmt, event.SourceSyslogBody, event.SourceJava, event.SourceKernel,
		event.SourceJSON, event.SourceGoLog, event.SourceLogrus, event.SourceIPMISEL, event.SourceOpenSSL}
}

// New returns the parser for format ("auto" picks one per line).
func New(format string, opts Options) (Parser, error) {
	o := opts.withDefaults()
	switch format {
	case Auto:
		return newAuto(o), nil
	case event.SourceLunaSyslog:
		return newLunaSyslog(o), nil
	case event.SourceRFC3164:
		return newRFC3164(o), nil
	case event.SourceRFC5424:
		return newRFC5424(o), nil
	case event.SourceLunaAlarm:
		return newLunaAlarm(o), nil
	case event.SourceDinamoLog:
		return newDinamo(o), nil
	case event.SourceLunaAudit:
		return newLunaAudit(o), nil
	case event.SourceAppLog:
		return newAppLog(o), nil
	case event.SourceLogfmt:
		return newLogfmt(o), nil
	case event.SourceSyslogBody:
		return newSyslogBody(o), nil
	case event.SourceJava:
		return newJavaException(o), nil
	case event.SourceKernel:
		return newDmesg(o), nil
	case event.SourceJSON:
		return newJSONLog(o), nil
	case event.SourceGoLog:
		return newGoLog(o), nil
	case event.SourceLogrus:
		return newLogrus(o), nil
	case event.SourceIPMISEL:
		return newIPMISEL(o), nil
	case event.SourceOpenSSL:
		return newOpenSSL(o), nil
	}
	return nil, fmt.Errorf("unknown format %q (known: %s)", format, strings.Join(Formats(), ", "))
}

// Into parses line into ev, which it resets first. A line the parser cannot read becomes
// an event of source "unparsed" that keeps the raw text and the reason: nothing is dropped.
// A trailing carriage return (CRLF files) is removed.
func Into(p Parser, line string, ev *event.Event) {
	ev.Reset()
	line = strings.TrimSuffix(line, "\r")
	ev.Raw = line
	if err := p.Parse(line, ev); err != nil {
		fields := ev.Fields[:0]
		*ev = event.Event{Source: event.SourceUnparsed, Raw: line, Reason: err.Error(), Fields: fields}
	}
}

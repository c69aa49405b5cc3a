package sim

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogRecord is one line an HSM writes to its log.
type LogRecord struct {
	Vendor string
	Time   time.Time // in the device's zone
	Host   string    // Luna: the appliance's host name

	// Luna (syslog)
	Facility  string // kern, user, daemon, authpriv, syslog, local4, local5, local6, ...
	Severity  string // emerg alert crit err warning notice info debug (or the guide's warn)
	Process   string
	PID       int  // 0: none written
	SpacedPID bool // "NTLS [1234]:" (lunalog applications) rather than "ipmievd[1234]:"
	File      string

	// Dinamo (native event log)
	Thread, Counter, CID uint32
	Trailer              string // "<client ip> <hsm address:port> <user>"; "" for firmware events

	Message string // the event text
}

// Log line formats.
const (
	FormatLuna    = "luna"    // 2026 Nov 22 10:00:00 myLuna local4 notice ipmievd[2810]: ...
	FormatRFC5424 = "rfc5424" // <165>1 2026-11-22T10:00:00.000000Z myLuna ipmievd 2810 - - ...
	FormatDinamo  = "dinamo"  // 2026/11/22 10:00:00 00000052 000001A2 EE4E6C03 new key ...|...
)

// Line formats rec in the device's native format: the Luna appliance file format or
// the Dinamo native event log.
func (rec *LogRecord) Line() string {
	if rec.Vendor == VendorDinamo {
		return FormatLine(rec, FormatDinamo)
	}
	return FormatLine(rec, FormatLuna)
}

// FormatLine formats rec as format (FormatLuna, FormatRFC5424 or FormatDinamo). A Dinamo
// record in a syslog format becomes a message of process "dinamo" on facility local0.
func FormatLine(rec *LogRecord, format string) string {
	var b strings.Builder
	switch format {
	case FormatDinamo:
		b.WriteString(rec.Time.Format("2006/01/02 15:04:05"))
		fmt.Fprintf(&b, " %08X %08X %08X %s", rec.Thread, rec.Counter, rec.CID, rec.Message)
		if rec.Trailer != "" {
			b.WriteByte('|')
			b.WriteString(rec.Trailer)
		}
	case FormatRFC5424:
		fac, sev, proc, msg := rec.syslogParts()
		fmt.Fprintf(&b, "<%d>1 %s %s %s ", facilityCode(fac)*8+severityCode(sev),
			rec.Time.Format("2006-01-02T15:04:05.000000Z07:00"), nilDash(rec.Host), nilDash(proc))
		if rec.PID > 0 {
			b.WriteString(strconv.Itoa(rec.PID))
		} else {
			b.WriteByte('-')
		}
		b.WriteString(" - - ")
		b.WriteString(msg)
	default:
		fac, sev, proc, msg := rec.syslogParts()
		b.WriteString(rec.Time.Format("2006 Jan _2 15:04:05"))
		fmt.Fprintf(&b, " %s %s %s ", rec.Host, fac, sev)
		b.WriteString(proc)
		if rec.PID > 0 {
			if rec.SpacedPID {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "[%d]", rec.PID)
		}
		b.WriteString(": ")
		b.WriteString(msg)
	}
	return b.String()
}

// syslogParts returns the syslog header fields; a Dinamo record carries its native line.
func (rec *LogRecord) syslogParts() (fac, sev, proc, msg string) {
	if rec.Vendor == VendorDinamo {
		return "local0", "info", "dinamo", FormatLine(rec, FormatDinamo)
	}
	return rec.Facility, rec.Severity, rec.Process, rec.Message
}

// procRef is the process as ssLogReference names it: "ipmievd[2810]" or "kernel".
func (rec *LogRecord) procRef() string {
	if rec.PID > 0 {
		return rec.Process + "[" + strconv.Itoa(rec.PID) + "]"
	}
	return rec.Process
}

func nilDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func facilityCode(f string) int {
	switch f {
	case "kern":
		return 0
	case "user":
		return 1
	case "mail":
		return 2
	case "daemon":
		return 3
	case "auth":
		return 4
	case "syslog":
		return 5
	case "lpr":
		return 6
	case "news":
		return 7
	case "uucp":
		return 8
	case "cron":
		return 9
	case "authpriv":
		return 10
	case "ftp":
		return 11
	}
	if strings.HasPrefix(f, "local") && len(f) == 6 && f[5] >= '0' && f[5] <= '7' {
		return 16 + int(f[5]-'0')
	}
	return 1
}

func severityCode(s string) int {
	switch s {
	case "emerg", "panic":
		return 0
	case "alert":
		return 1
	case "crit", "critical":
		return 2
	case "err", "error":
		return 3
	case "warning", "warn":
		return 4
	case "notice":
		return 5
	case "info":
		return 6
	case "debug":
		return 7
	}
	return 6
}

// lunaLogFile is the appliance log file a facility writes to (the guide's tables of
// facility, process and log file): local5 lunalog, auth and authpriv secure, the rest
// messages.
func lunaLogFile(facility string) string {
	switch facility {
	case "local5":
		return "lunalog"
	case "auth", "authpriv":
		return "secure"
	}
	return "messages"
}

// SyslogSink sends log lines to a syslog receiver over UDP (one datagram per line) or
// TCP (octet counting for RFC 5424, RFC 6587; a newline after each line otherwise). A TCP
// connection is opened on first use and opened again after a failure.
type SyslogSink struct {
	network, addr, format string
	timeout               time.Duration

	mu   sync.Mutex
	conn net.Conn
}

// NewSyslogSink parses target ("udp://host:port", "tcp://host:port"; a bare host:port is
// UDP) and checks format (luna or rfc5424).
func NewSyslogSink(target, format string) (*SyslogSink, error) {
	network, addr := "udp", target
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("syslog target %q: %w", target, err)
		}
		network, addr = u.Scheme, u.Host
	}
	if network != "udp" && network != "tcp" {
		return nil, fmt.Errorf("syslog target %q: use udp:// or tcp://", target)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("syslog target %q: %w", target, err)
	}
	switch format {
	case "":
		format = FormatLuna
	case FormatLuna, FormatRFC5424:
	default:
		return nil, fmt.Errorf("syslog format %q: use luna or rfc5424", format)
	}
	return &SyslogSink{network: network, addr: addr, format: format, timeout: 5 * time.Second}, nil
}

// String names the sink for listings.
func (s *SyslogSink) String() string { return s.network + "://" + s.addr + " (" + s.format + ")" }

// WriteLog implements LogSink.
func (s *SyslogSink) WriteLog(ctx context.Context, rec *LogRecord) error {
	line := FormatLine(rec, s.format)
	var frame []byte
	switch {
	case s.network == "udp":
		frame = []byte(line)
	case s.format == FormatRFC5424:
		frame = []byte(strconv.Itoa(len(line)) + " " + line)
	default:
		frame = []byte(line + "\n")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			d := net.Dialer{Timeout: s.timeout}
			c, err := d.DialContext(ctx, s.network, s.addr)
			if err != nil {
				return fmt.Errorf("syslog %s://%s: %w", s.network, s.addr, err)
			}
			s.conn = c
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		_, err := s.conn.Write(frame)
		if err == nil {
			return nil
		}
		s.conn.Close()
		s.conn = nil
		if s.network == "udp" || attempt == 1 {
			return fmt.Errorf("syslog %s://%s: %w", s.network, s.addr, err)
		}
	}
	return nil
}

// Close closes the connection.
func (s *SyslogSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// WriterSink writes each record as one line in its device's native format (Luna file
// format, Dinamo native event log) to w: a log file as the HSM keeps it.
type WriterSink struct {
	mu     sync.Mutex
	w      io.Writer
	format string // "" native
	closer io.Closer
}

// NewWriterSink writes native lines (format "") or format to w.
func NewWriterSink(w io.Writer, format string) *WriterSink { return &WriterSink{w: w, format: format} }

// OpenFileSink appends native lines to the file at path, creating it.
func OpenFileSink(path string) (*WriterSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return &WriterSink{w: f, closer: f}, nil
}

// WriteLog implements LogSink.
func (s *WriterSink) WriteLog(_ context.Context, rec *LogRecord) error {
	line := rec.Line()
	if s.format != "" {
		line = FormatLine(rec, s.format)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := io.WriteString(s.w, line+"\n")
	return err
}

// Close closes the file of OpenFileSink.
func (s *WriterSink) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

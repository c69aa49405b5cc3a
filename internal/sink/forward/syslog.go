// Package syslog forwards classified events as RFC 5424 syslog messages to a SIEM or a
// central syslog server, over UDP, TCP (octet counting, RFC 6587) or TLS (RFC 5425). The
// classification travels as structured data, so the receiver can filter on it:
//
//	<10>1 2026-11-22T10:02:00Z lunaA ipmievd - luna.ipmi.psu-discrete-state [hsmwatch@32473 level="critical" component="ipmi" class="unexpected" notification="powerSupplyAttentionNotify" assert="true"] Power Supply sensor ...
//
// 32473 is the example enterprise number of RFC 5612, used until hsmwatch has its own.
package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/component"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/redact"
)

// Config is one syslog target.
type Config struct {
	Address string // udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT
	TLS     *tls.Config
	// All forwards every event; by default only those an operator must see
	// (event.Significant) that are not repeats (state.Decision.Emit).
	All     bool
	Timeout time.Duration // dial and write (default 5s)
}

// Sink writes to one target, reconnecting as needed.
type Sink struct {
	cfg     Config
	network string
	addr    string
	mu      sync.Mutex
	conn    net.Conn
	sent    atomic.Int64 // read by /metrics while a write may hold mu
}

// New checks the address; the connection is made on first use.
func New(cfg Config) (*Sink, error) {
	scheme, addr, ok := strings.Cut(cfg.Address, "://")
	if !ok || (scheme != "udp" && scheme != "tcp" && scheme != "tls") {
		return nil, fmt.Errorf("syslog target %q: want udp://, tcp:// or tls://HOST:PORT", cfg.Address)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("syslog target %q: %w", cfg.Address, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return &Sink{cfg: cfg, network: scheme, addr: addr}, nil
}

// Name implements component.Sink.
func (s *Sink) Name() string { return "syslog " + redact.URL(s.cfg.Address) }

// Write implements component.Sink. A failed write is retried once on a new connection; the
// error is returned (counted by the pipeline) when that fails too.
func (s *Sink) Write(ctx context.Context, batch []component.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, it := range batch {
		ev := it.Record.Event
		if !s.cfg.All && (!it.Decision.Emit() || !ev.Significant()) {
			continue
		}
		msg := Format(ev)
		if err := s.send(ctx, msg); err != nil {
			errs = append(errs, err)
			if len(errs) > 3 {
				break // the target is down; the rest of the batch would fail the same way
			}
			continue
		}
		s.sent.Add(1)
	}
	return errors.Join(errs...)
}

func (s *Sink) send(ctx context.Context, msg []byte) error {
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			c, err := s.dial(ctx)
			if err != nil {
				return fmt.Errorf("syslog %s: %w", s.cfg.Address, err)
			}
			s.conn = c
		}
		frame := msg
		if s.network != "udp" { // octet counting: "LEN SP MSG"
			frame = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
		}
		s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		if _, err := s.conn.Write(frame); err != nil {
			s.conn.Close()
			s.conn = nil
			if attempt == 1 {
				return fmt.Errorf("syslog %s: %w", s.cfg.Address, err)
			}
			continue
		}
		return nil
	}
	return nil
}

func (s *Sink) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: s.cfg.Timeout}
	switch s.network {
	case "tls":
		td := tls.Dialer{NetDialer: &d, Config: s.cfg.TLS}
		return td.DialContext(ctx, "tcp", s.addr)
	case "tcp":
		return d.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "udp", s.addr)
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// Sent is how many messages were written.
func (s *Sink) Sent() int64 { return s.sent.Load() }

var severities = map[string]int{"critical": 2, "major": 3, "minor": 4, "warning": 4, "info": 6, "debug": 7}

// Format writes ev as one RFC 5424 message: facility local4 (20), the severity from the
// level, the event's time, host and process, the rule as MSGID, the classification as
// structured data, the message as MSG.
func Format(ev *event.Event) []byte {
	sev, ok := severities[ev.Level]
	if !ok {
		sev = 5 // notice: unclassified
	}
	b := make([]byte, 0, 256+len(ev.Message))
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(20*8+sev), 10)
	b = append(b, ">1 "...)
	if ev.Time.IsZero() {
		b = append(b, '-')
	} else {
		b = ev.Time.AppendFormat(b, time.RFC3339Nano)
	}
	b = append(b, ' ')
	b = appendHeader(b, ev.Host, 255)
	b = append(b, ' ')
	b = appendHeader(b, ev.Process, 48)
	b = append(b, ' ')
	if ev.PID > 0 {
		b = strconv.AppendInt(b, int64(ev.PID), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	b = appendHeader(b, ev.Rule, 32)
	b = append(b, " [hsmwatch@32473"...)
	for _, kv := range [][2]string{{"level", ev.Level}, {"component", ev.Component}, {"class", ev.Class},
		{"notification", ev.Notification}, {"source", ev.Source}} {
		if kv[1] != "" {
			b = appendParam(b, kv[0], kv[1])
		}
	}
	switch ev.Assert {
	case event.True:
		b = appendParam(b, "assert", "true")
	case event.False:
		b = appendParam(b, "assert", "false")
	}
	if ev.Test {
		b = appendParam(b, "test", "true")
	}
	b = append(b, "] "...)
	msg := ev.Message
	if msg == "" {
		msg = ev.Raw
	}
	return append(b, strings.ToValidUTF8(strings.NewReplacer("\n", " ", "\r", " ").Replace(msg), "\uFFFD")...)
}

// appendHeader writes a header field: printable US-ASCII without spaces, at most n
// bytes, "-" when empty (RFC 5424 section 6).
func appendHeader(b []byte, s string, n int) []byte {
	start := len(b)
	for i := 0; i < len(s) && len(b)-start < n; i++ {
		if c := s[i]; c > 32 && c < 127 {
			b = append(b, c)
		}
	}
	if len(b) == start {
		b = append(b, '-')
	}
	return b
}

// appendParam writes ` name="value"`, escaping '"', '\' and ']' as RFC 5424 requires.
func appendParam(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	for _, r := range strings.ToValidUTF8(value, "\uFFFD") {
		if r == '"' || r == '\\' || r == ']' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return append(b, '"')
}

// Package snmptrap is the Luna trap agent rebuilt: classified events that carry one of
// the six SAFENET-APPLIANCE-MIB notification categories (fanAttentionNotify ...
// cryptoAttentionNotify) become SNMP notifications with the one ssLogReference variable
// the appliance sends, "[host:ip / logfile / date / process[pid] / 1|0]", to one or
// more NMS targets (v2c or v3, traps or informs with retries), rate-limited per
// category.
package sender

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosnmp/gosnmp"
	"golang.org/x/time/rate"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/peerlog"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

const (
	oidSysUpTime   = ".1.3.6.1.2.1.1.3.0"
	oidSnmpTrapOID = ".1.3.6.1.6.3.1.1.4.1.0"
)

// Sink sends Luna notifications. It is safe for concurrent use.
type Sink struct {
	targets   []notify.Target
	engine    []byte
	boots     uint32
	start     time.Time
	oids      oidTable
	deAsserts DeAsserts
	ip        string
	now       func() time.Time
	// buckets is the rate limit per category: rate tokens per second up to burst, one
	// per notification. It keeps a storm of one category (a flapping fan) from flooding
	// the NMS while the other categories still get through. nil: no rate limit.
	buckets map[string]*rate.Limiter
	log     *peerlog.Limiter
	count   counters
}

type counters struct {
	sent, failed, skipped atomic.Uint64
	mu                    sync.Mutex
	limited, noOID        map[string]uint64
}

// Stats counts what the sink did.
type Stats struct {
	Sent    uint64 // notifications delivered (a trap sent, an inform acknowledged), per target
	Failed  uint64 // per target
	Skipped uint64 // de-asserts the policy does not send
	// RateLimited and NoOID count the events dropped, by category: over the rate limit,
	// or of a category that has no OID.
	RateLimited map[string]uint64
	NoOID       map[string]uint64
}

// New checks cfg and resolves the OIDs.
func New(cfg Config) (*Sink, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("snmptrap sink: no target")
	}
	for _, t := range cfg.Targets {
		if err := checkTarget(t); err != nil {
			return nil, fmt.Errorf("snmptrap sink: target %s: %w", t.Addr, err)
		}
	}
	table := cfg.MIB
	if table == nil {
		table = mib.Builtin()
	}
	oids, err := resolveOIDs(table, cfg.OIDs)
	if err != nil {
		return nil, fmt.Errorf("snmptrap sink: %w", err)
	}
	s := &Sink{targets: cfg.Targets, oids: oids, deAsserts: cfg.DeAsserts, ip: cfg.ApplianceIP, now: cfg.Now,
		engine: cfg.EngineID, boots: cfg.EngineBoots}
	if s.now == nil {
		s.now = time.Now
	}
	s.start = s.now()
	if s.ip == "" {
		s.ip = "0.0.0.0"
	}
	if s.engine == nil {
		s.engine = DefaultEngineID()
	} else if len(s.engine) < 5 || len(s.engine) > 32 {
		return nil, fmt.Errorf("snmptrap sink: engine ID of %d bytes (want 5 to 32)", len(s.engine))
	}
	if s.boots == 0 {
		epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		s.boots = uint32(min(max(int64(s.start.Sub(epoch)/time.Second), 1), usm.MaxBoots-1))
	}
	if cfg.Rate > 0 {
		burst := cfg.Burst
		if burst <= 0 {
			burst = max(1, int(cfg.Rate+0.999))
		}
		s.buckets = map[string]*rate.Limiter{}
		for _, c := range lunatrap.Categories() {
			s.buckets[c] = rate.NewLimiter(rate.Limit(cfg.Rate), burst)
		}
	}
	s.log = peerlog.New(cfg.Logger, "snmptrap sink: ", peerlog.DefaultEvery)
	s.count.limited, s.count.noOID = map[string]uint64{}, map[string]uint64{}
	return s, nil
}

// checkTarget catches configuration mistakes before the first event; secrets are never
// part of the error.
func checkTarget(t notify.Target) error {
	_, err := notify.Client(context.Background(), t, notify.Engine{ID: []byte("\x80\x00\x00\x00\x04check")}, nil)
	return err
}

// DefaultEngineID is an RFC 3411 engine ID (enterprise 0, text format) holding
// "hsmwatch" and the host name, stable across restarts so that an NMS can configure it.
func DefaultEngineID() []byte {
	text := "hsmwatch"
	if h, err := os.Hostname(); err == nil && h != "" {
		text += ":" + h
	}
	if len(text) > 27 {
		text = text[:27]
	}
	return append([]byte{0x80, 0x00, 0x00, 0x00, 0x04}, text...)
}

// EngineID is the engine ID v3 traps are sent under.
func (s *Sink) EngineID() []byte { return append([]byte(nil), s.engine...) }

// Missing lists the categories that have no OID: events of these fail to send.
func (s *Sink) Missing() []string {
	var out []string
	for _, c := range lunatrap.Categories() {
		if s.oids.notify[c] == "" {
			out = append(out, c)
		}
	}
	return out
}

// NoOIDError is the error for an event of a category without an OID.
type NoOIDError struct{ Category string }

func (e NoOIDError) Error() string {
	return fmt.Sprintf("no OID for %s: SAFENET-APPLIANCE-MIB's power supply, motherboard and crypto "+
		"notifications are not public; load the vendor's MIB (--mibs DIR) or set the OID (--trap-oid %s=OID)",
		e.Category, e.Category)
}

// Category is the notification category of ev, or "" when ev is not for the sink. The
// guide's typo ntlAttentionNotify is read as ntlsAttentionNotify.
func Category(ev *event.Event) string {
	n := ev.Notification
	if n == "ntlAttentionNotify" {
		n = lunatrap.NTLS
	}
	if lunatrap.IsCategory(n) {
		return n
	}
	return ""
}

// Send sends ev to every target when it carries a Luna notification category; other
// events are ignored. De-asserts the policy leaves out and events over the rate limit
// are counted, not errors. The error names the category without an OID, or the
// targets that failed.
func (s *Sink) Send(ctx context.Context, ev *event.Event) error {
	cat := Category(ev)
	if cat == "" {
		return nil
	}
	if ev.Assert == event.False && !s.sendsDeAssert(cat) {
		s.count.skipped.Add(1)
		return nil
	}
	oid := s.oids.notify[cat]
	if oid == "" {
		s.count.add(&s.count.noOID, cat)
		return NoOIDError{Category: cat}
	}
	now := s.now()
	if s.buckets != nil && !s.buckets[cat].AllowN(now, 1) {
		s.count.add(&s.count.limited, cat)
		return nil
	}
	vars := s.Varbinds(ev, oid, now)
	eng := notify.Engine{ID: s.engine, Boots: s.boots, Time: uint32(min(now.Sub(s.start)/time.Second, usm.MaxBoots))}
	errs := make([]error, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Go(func() {
			if err := notify.Send(ctx, t, eng, nil, vars); err != nil {
				s.count.failed.Add(1)
				errs[i] = fmt.Errorf("%s to %s: %w", cat, t.Addr, err)
				s.log.Log(t.Addr, "send failed", "category", cat, "err", err)
				return
			}
			s.count.sent.Add(1)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("snmptrap sink: %w", err)
	}
	return nil
}

func (s *Sink) sendsDeAssert(cat string) bool {
	switch s.deAsserts {
	case DeAssertsNone:
		return false
	case DeAssertsLsta:
		return lunatrap.IPMI(cat)
	}
	return true
}

// Varbinds are the variables of ev's notification, as the appliance sends them:
// sysUpTime.0, snmpTrapOID.0 = trapOID, and ssLogReference (without an instance
// suffix, as the guide's trap log shows it).
func (s *Sink) Varbinds(ev *event.Event, trapOID string, now time.Time) []gosnmp.SnmpPDU {
	ticks := uint32(now.Sub(s.start) / (10 * time.Millisecond))
	return []gosnmp.SnmpPDU{
		{Name: oidSysUpTime, Type: gosnmp.TimeTicks, Value: ticks},
		{Name: oidSnmpTrapOID, Type: gosnmp.ObjectIdentifier, Value: trapOID},
		{Name: s.oids.logRef, Type: gosnmp.OctetString, Value: lunatrap.Format(s.reference(ev, now))},
	}
}

// reference is ev's ssLogReference: the appliance (host, ip), where its log record is
// (file, time), who logged it (process[pid]), assert 1 or de-assert 0, and the ***TEST
// designator for a trap test. An event received as a trap keeps its own reference.
func (s *Sink) reference(ev *event.Event, now time.Time) lunatrap.Ref {
	r := lunatrap.Ref{Host: ev.Host, IP: ev.Fields.Text("log_ip"), File: ev.Fields.Text("log_file"),
		Time: ev.Fields.Text("log_time"), Process: ev.Fields.Text("process"), Assert: ev.Assert, Test: ev.Test}
	if r.Host == "" {
		r.Host = "unknown"
	}
	if r.IP == "" {
		r.IP = s.ip
	}
	if r.File == "" {
		r.File = logFile(ev.Input)
	}
	if r.Time == "" {
		t := ev.Time
		if t.IsZero() {
			t = now
		}
		r.Time = t.Format(lunatrap.TimeLayout)
	}
	if r.Process == "" {
		r.Process, r.PID = ev.Process, ev.PID
	} else if f, ok := ev.Fields.Get("pid"); ok && f.Kind == event.KindInt {
		r.PID = int(f.Int)
	}
	if r.Process == "" {
		r.Process = ev.Component
	}
	if r.Process == "" {
		r.Process = "unknown"
	}
	if r.Assert == event.Unset {
		// A notification without an explicit clear is a condition that needs attention:
		// the appliance sends 1 for its NTLS, disk and crypto traps.
		r.Assert = event.True
	}
	return r
}

// logFile is the log file an event was read from, by the base name of its input
// ("/var/log/messages:12" is "messages"); "messages", where the appliance logs most
// of what it traps, when the input names no file.
func logFile(input string) string {
	if i := strings.LastIndexByte(input, ':'); i > 0 {
		input = input[:i]
	}
	b := path.Base(input)
	if input == "" || b == "." || b == "/" || b == "-" || strings.ContainsAny(b, " []") {
		return "messages"
	}
	return b
}

func (c *counters) add(m *map[string]uint64, k string) {
	c.mu.Lock()
	(*m)[k]++
	c.mu.Unlock()
}

// Stats returns the counters so far.
func (s *Sink) Stats() Stats {
	c := &s.count
	st := Stats{Sent: c.sent.Load(), Failed: c.failed.Load(), Skipped: c.skipped.Load(),
		RateLimited: map[string]uint64{}, NoOID: map[string]uint64{}}
	c.mu.Lock()
	for k, v := range c.limited {
		st.RateLimited[k] = v
	}
	for k, v := range c.noOID {
		st.NoOID[k] = v
	}
	c.mu.Unlock()
	return st
}

// Summary is one line of counts for the end of a run.
func (st Stats) Summary() string {
	part := func(title string, m map[string]uint64) string {
		if len(m) == 0 {
			return ""
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, m[k])
		}
		return ", " + title + ":" + b.String()
	}
	return fmt.Sprintf("traps: %d sent, %d failed, %d de-asserts skipped%s%s", st.Sent, st.Failed, st.Skipped,
		part("rate-limited", st.RateLimited), part("no OID", st.NoOID))
}

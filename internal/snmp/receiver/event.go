package receiver

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

const (
	// dinamoEnterprise is Dinamo's enterprise arc: its traps are named only by a loaded
	// MIB (the project's design notes, "Vendor facts") and then carry their name as the notification.
	dinamoEnterprise = ".1.3.6.1.4.1.41054."
	// maxVarFields bounds the vb.* fields of one event, and maxValueLen each string
	// value, so that one datagram cannot make an event of megabytes.
	maxVarFields = 64
	maxValueLen  = 1024
	maxRawLen    = 4096
	maxMessage   = 512
)

// namer turns notifications into events with the names of a MIB table.
type namer struct {
	table     *mib.Table
	logRefOID string // SAFENET-APPLIANCE-MIB::ssLogReference
	numeric   *namer // an empty table: the raw summary keeps numeric OIDs
}

func newNamer(t *mib.Table) *namer {
	nm := &namer{table: t, numeric: &namer{table: mib.New()}}
	nm.logRefOID, _ = t.Resolve(lunatrap.Module + "::" + lunatrap.LogReference)
	return nm
}

// trapName is the notification's name when the table defines exactly that OID as one.
func (nm *namer) trapName(oid string) string {
	e, suffix, ok := nm.table.Lookup(oid)
	if !ok || suffix != "" || e.Kind != mib.KindNotification {
		return ""
	}
	return e.Name
}

// varName is a varbind's name for its field: the object's name and instance
// ("ssLogReference", "hsmSerialNumber.1"), or the numeric OID without its leading dot.
func (nm *namer) varName(oid string) (string, *mib.Entry) {
	e, suffix, ok := nm.table.Lookup(oid)
	if !ok || e.Kind == mib.KindNode {
		return strings.TrimPrefix(oid, "."), nil
	}
	return e.Name + suffix, e
}

func (nm *namer) isLogRef(oid string) bool {
	return nm.logRefOID != "" && (oid == nm.logRefOID || oid == nm.logRefOID+".0")
}

// toEvent builds the event of n, received at now: source snmp-trap, the time of
// receipt, the peer, version, user and engine ID, the trap's name and OID, and each
// variable as a vb.* field. A Luna notification's ssLogReference gives the host, the
// log record's place (log_* fields, process, pid) and the assert flag. The community
// is never part of it.
func (nm *namer) toEvent(n *notification, now time.Time) *event.Event {
	peer := netip.AddrPortFrom(n.peer.Addr().Unmap(), n.peer.Port())
	ev := &event.Event{Time: now, Source: event.SourceSNMPTrap, Host: peer.Addr().String(), Input: peer.String(),
		Fields: make(event.Fields, 0, 16+min(len(n.vars), maxVarFields))}
	fs := &ev.Fields
	name := nm.trapName(n.trapOID)
	if name != "" {
		fs.SetString("trap", name)
	}
	fs.SetString("trap_oid", n.trapOID)
	fs.SetString("peer", peer.String())
	fs.SetString("version", n.version)
	if n.user != "" {
		fs.SetString("user", n.user)
	}
	if len(n.engineID) > 0 {
		fs.SetString("engine_id", hex.EncodeToString(n.engineID))
	}
	if n.inform {
		fs.SetBool("inform", true)
	}
	if n.version == "1" {
		fs.SetString("enterprise", n.enterprise)
		fs.SetString("agent_addr", n.agentAddr)
	}
	if n.hasUp {
		fs.SetInt("uptime_ticks", int64(n.uptime))
	}
	if lunatrap.IsCategory(name) || (name != "" && strings.HasPrefix(n.trapOID, dinamoEnterprise)) {
		ev.Notification = name
	}
	what := name
	if what == "" {
		what = n.trapOID
	}
	ref := nm.lunaRef(n, ev)
	nm.setVars(n, ev)
	if ref != "" {
		ev.Message = what + " for " + ref
	} else if text, ok := selfNaming(what, ev.Fields); ok {
		ev.Message = text
	} else {
		ev.Message = what + summary(ev.Fields)
	}
	ev.Raw = nm.raw(n)
	return ev
}

// lunaRef reads the ssLogReference variable, when n has one, into ev.
func (nm *namer) lunaRef(n *notification, ev *event.Event) string {
	for _, v := range n.vars {
		if !nm.isLogRef(normOID(v.Name)) {
			continue
		}
		b, ok := v.Value.([]byte)
		if !ok {
			return ""
		}
		s := string(b)
		r, ok := lunatrap.Parse(s)
		if !ok {
			ev.Reason = "ssLogReference is not in the appliance's shape [host:ip / logfile / date / process[pid] / 1|0]"
			return s
		}
		fs := &ev.Fields
		ev.Host = r.Host
		fs.SetString("log_host", r.Host)
		if r.IP != "" {
			fs.SetString("log_ip", r.IP)
		}
		fs.SetString("log_file", r.File)
		fs.SetString("log_time", r.Time)
		fs.SetString("process", r.Process)
		if r.PID != 0 {
			fs.SetInt("pid", int64(r.PID))
		}
		if r.Assert == event.True {
			fs.SetInt("log_assert", 1)
		} else {
			fs.SetInt("log_assert", 0)
		}
		ev.Assert, ev.Test = r.Assert, r.Test
		return s
	}
	return ""
}

// setVars writes each variable as a vb.* field, at most maxVarFields of them.
func (nm *namer) setVars(n *notification, ev *event.Event) {
	for i, v := range n.vars {
		if i == maxVarFields {
			ev.Fields.SetInt("vb_left_out", int64(len(n.vars)-i))
			return
		}
		key, e := nm.varName(normOID(v.Name))
		setValue(&ev.Fields, "vb."+key, v, e, nm)
	}
}

// setValue writes one variable's value with its type: integers as numbers (an
// enumeration as net-snmp writes it, "up(1)"), text as text, other octets as hex, OIDs
// by name.
func setValue(fs *event.Fields, key string, v gosnmp.SnmpPDU, e *mib.Entry, nm *namer) {
	switch v.Type {
	case gosnmp.Integer:
		if n, ok := toInt64(v.Value); ok {
			if e != nil && len(e.Enums) > 0 {
				fs.SetString(key, e.Value(n))
			} else {
				fs.SetInt(key, n)
			}
			return
		}
	case gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		if u, ok := toUint64(v.Value); ok {
			if u <= 1<<63-1 {
				fs.SetInt(key, int64(u))
			} else {
				fs.SetString(key, strconv.FormatUint(u, 10))
			}
			return
		}
	case gosnmp.OctetString, gosnmp.Opaque, gosnmp.BitString:
		if b, ok := v.Value.([]byte); ok {
			fs.SetString(key, octets(b))
			return
		}
	case gosnmp.ObjectIdentifier:
		if s, ok := v.Value.(string); ok {
			fs.SetString(key, nm.table.Name(normOID(s)))
			return
		}
	case gosnmp.OpaqueFloat, gosnmp.OpaqueDouble:
		switch f := v.Value.(type) {
		case float32:
			fs.SetFloat(key, float64(f))
			return
		case float64:
			fs.SetFloat(key, f)
			return
		}
	case gosnmp.Null, gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView:
		fs.SetString(key, v.Type.String())
		return
	}
	fs.SetString(key, clip(anyText(v.Value)))
}

// octets is text when b is printable UTF-8, else lower-case hex with a 0x prefix.
func octets(b []byte) string {
	if printable(b) {
		return clip(string(b))
	}
	if len(b) > maxValueLen/2 {
		b = b[:maxValueLen/2]
	}
	return "0x" + hex.EncodeToString(b)
}

func printable(b []byte) bool {
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		if c == utf8.RuneError && size <= 1 || c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7F {
			return false
		}
		b = b[size:]
	}
	return true
}

func clip(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	s = s[:maxValueLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func anyText(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return octets(v)
	}
	if n, ok := toInt64(x); ok {
		return strconv.FormatInt(n, 10)
	}
	return strings.TrimSpace(strings.ReplaceAll(fmtAny(x), "\n", " "))
}

// summary is ": name=value, ..." of the vb.* fields, for an event's message.
// selfNaming is the text of a trap's only variable when that text already starts with the
// trap's name (a Dinamo trap's dinamoTrapEventText reads "privateKeyExported: ..."): the
// summary would repeat the name, so the text alone is the message.
func selfNaming(what string, fs event.Fields) (string, bool) {
	var text string
	n := 0
	for _, f := range fs {
		if strings.HasPrefix(f.Key, "vb.") {
			n++
			text = f.String()
		}
	}
	if n != 1 || what == "" || !strings.HasPrefix(text, what) {
		return "", false
	}
	rest := text[len(what):]
	if rest != "" && !strings.HasPrefix(rest, ":") && !strings.HasPrefix(rest, " ") {
		return "", false
	}
	return clipTo(text, maxMessage), true
}

func summary(fs event.Fields) string {
	var b strings.Builder
	for _, f := range fs {
		k, ok := strings.CutPrefix(f.Key, "vb.")
		if !ok {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(f.String())
		if b.Len() > maxMessage {
			return clipTo(b.String(), maxMessage) + "..."
		}
	}
	return b.String()
}

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// raw is the packet summary kept in the event: version, kind, peer, the trap OID and
// each variable with its numeric OID. Never the community. It is written into one
// buffer: text values (the common case, a Luna ssLogReference) are quoted straight in,
// other values go through setValue as in the event's fields.
func (nm *namer) raw(n *notification) string {
	b := make([]byte, 0, 64+len(n.trapOID)+96*len(n.vars))
	b = append(b, 'v')
	b = append(b, n.version...)
	b = append(b, ' ')
	b = append(b, n.kind()...)
	b = append(b, " from "...)
	b = netip.AddrPortFrom(n.peer.Addr().Unmap(), n.peer.Port()).AppendTo(b)
	b = append(b, ": "...)
	b = append(b, n.trapOID...)
	var fs event.Fields
	for _, v := range n.vars {
		b = append(b, ' ')
		b = append(b, normOID(v.Name)...)
		b = append(b, '=')
		b = nm.appendRawValue(b, v, &fs)
		if len(b) > maxRawLen {
			return clipTo(string(b), maxRawLen) + "..."
		}
	}
	return string(b)
}

// appendRawValue appends one variable's value as raw shows it: strings quoted, the
// rest as their field text. fs is scratch space.
func (nm *namer) appendRawValue(b []byte, v gosnmp.SnmpPDU, fs *event.Fields) []byte {
	if v.Type == gosnmp.OctetString {
		if s, ok := v.Value.([]byte); ok && printable(s) {
			return strconv.AppendQuote(b, clip(string(s)))
		}
	}
	*fs = (*fs)[:0]
	setValue(fs, "v", v, nil, nm.numeric)
	if f := (*fs)[0]; f.Kind == event.KindString {
		return strconv.AppendQuote(b, f.Str)
	}
	return append(b, (*fs)[0].String()...)
}

package poller

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
)

// value is one variable as the agent sent it.
type value struct {
	typ   gosnmp.Asn1BER
	num   float64 // numbers; integers above 2^53 lose precision here, u64 keeps them
	u64   uint64
	str   string // text and OIDs; numbers written out
	isNum bool
}

// bits is the counter width: 32 for Counter32, 64 for Counter64, 0 for anything else.
func (v value) bits() int {
	switch v.typ {
	case gosnmp.Counter32:
		return 32
	case gosnmp.Counter64:
		return 64
	}
	return 0
}

// snapshot is what one poll read, by OID with instance.
type snapshot struct {
	vars map[string]value
}

func (s *snapshot) get(oid string) (value, bool) {
	v, ok := s.vars[oid]
	return v, ok
}

// rows returns the instance suffixes (without the leading dot) of a column, in OID
// order.
func (s *snapshot) rows(column string) []string {
	prefix := column + "."
	var out []string
	for k := range s.vars {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k[len(prefix):])
		}
	}
	sort.Slice(out, func(i, j int) bool { return mib.Less(out[i], out[j]) })
	return out
}

// fetch reads what the plan asks for: the scalars with Get (as many per request as the
// client allows), each table with a GetBulk walk. The first failure stops the poll: an
// agent that did not answer one request will not answer the next within the time left.
func fetch(ctx context.Context, c *gosnmp.GoSNMP, pl *plan) (*snapshot, error) {
	s := &snapshot{vars: make(map[string]value, len(pl.get)+64)}
	c.Context = ctx
	per := c.MaxOids
	if per <= 0 {
		per = gosnmp.MaxOids
	}
	for i := 0; i < len(pl.get); i += per {
		chunk := pl.get[i:min(i+per, len(pl.get))]
		pkt, err := c.Get(chunk)
		if err != nil {
			return s, fmt.Errorf("get: %w", err)
		}
		if pkt.Error != gosnmp.NoError {
			return s, agentError{op: "get", status: pkt.Error, index: pkt.ErrorIndex}
		}
		for _, pdu := range pkt.Variables {
			s.add(pdu)
		}
	}
	for _, t := range pl.walk {
		pdus, err := c.BulkWalkAll(t)
		if err != nil {
			return s, fmt.Errorf("walk %s: %w", t, err)
		}
		for _, pdu := range pdus {
			s.add(pdu)
		}
	}
	return s, nil
}

// agentError is an answer with an error status (a v2c agent answers a Get of unknown
// objects with exceptions per variable, not with an error; this is something else).
type agentError struct {
	op     string
	status gosnmp.SNMPError
	index  uint8
}

func (e agentError) Error() string {
	return fmt.Sprintf("%s: the agent answered %s (variable %d)", e.op, e.status, e.index)
}

// add records one variable; the exceptions (no such object or instance, end of view)
// and NULL are absences, not values.
func (s *snapshot) add(pdu gosnmp.SnmpPDU) {
	v, ok := toValue(pdu)
	if ok {
		s.vars[mib.Normalize(pdu.Name)] = v
	}
}

func toValue(pdu gosnmp.SnmpPDU) (value, bool) {
	v := value{typ: pdu.Type}
	switch pdu.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return v, false
	case gosnmp.OctetString:
		b, _ := pdu.Value.([]byte)
		v.str = text(b)
	case gosnmp.ObjectIdentifier, gosnmp.IPAddress:
		v.str = fmt.Sprint(pdu.Value)
	case gosnmp.Integer, gosnmp.Counter32, gosnmp.Gauge32, gosnmp.TimeTicks, gosnmp.Counter64, gosnmp.Uinteger32:
		n := gosnmp.ToBigInt(pdu.Value)
		v.isNum = true
		if n.Sign() >= 0 && n.IsUint64() {
			v.u64 = n.Uint64()
		}
		f, _ := n.Float64()
		v.num = f
		v.str = n.String()
	case gosnmp.OpaqueFloat, gosnmp.OpaqueDouble:
		f, ok := pdu.Value.(float64)
		if f32, ok32 := pdu.Value.(float32); ok32 {
			f, ok = float64(f32), true
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return v, false
		}
		v.isNum, v.num, v.str = true, f, fmt.Sprint(f)
	default:
		v.str = fmt.Sprint(pdu.Value)
	}
	return v, true
}

// text shows an OCTET STRING as text when it is printable UTF-8, else as hex (a MAC
// address, a binary engine ID).
func text(b []byte) string {
	if utf8.Valid(b) {
		ok := true
		for _, r := range string(b) {
			if !unicode.IsPrint(r) && r != '\t' {
				ok = false
				break
			}
		}
		if ok {
			return string(b)
		}
	}
	return hex.EncodeToString(b)
}

// indexText writes a table row's index for people: a string index (its length, then one
// arc per byte: RFC 2578 7.7) as the string; several in a row joined by "/"; anything
// else as the dotted arcs.
func indexText(index string) string {
	arcs := strings.Split(index, ".")
	var parts []string
	for i := 0; i < len(arcs); {
		n, err := atoiArc(arcs[i])
		if err != nil || n == 0 || i+1+n > len(arcs) {
			return index
		}
		b := make([]byte, 0, n)
		for _, a := range arcs[i+1 : i+1+n] {
			c, err := atoiArc(a)
			if err != nil || c < 0x20 || c > 0x7e {
				return index
			}
			b = append(b, byte(c))
		}
		parts = append(parts, string(b))
		i += 1 + n
	}
	return strings.Join(parts, "/")
}

func atoiArc(s string) (int, error) {
	n := 0
	if s == "" || len(s) > 9 {
		return 0, fmt.Errorf("arc %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("arc %q", s)
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, nil
}

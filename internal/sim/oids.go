package sim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// Object is one MIB object a model serves or sends: the OID tables of oids_dinamo.go and
// oids_luna.go are lists of these, and the shipped MIB files (mibs/) must declare the
// same names at the same numbers (a test checks that with gosmi).
type Object struct {
	Name   string
	OID    string // dotted with a leading dot, without instance
	Syntax Syntax
	Module string // the MIB module that declares it
	Kind   Kind
	// StandIn says the number is ours: the vendor's MIB is not public, so the object sits
	// where our stand-in MIB puts it. Operators with the vendor's MIB see other numbers.
	StandIn bool
}

// Kind says how an object is instantiated.
type Kind uint8

// Object kinds.
const (
	Scalar       Kind = iota // one instance, .0
	Column                   // a table column, instances are row indexes
	Notification             // a NOTIFICATION-TYPE, sent, never served
	NotifyOnly               // an object that only travels in notifications (no instance)
)

// Syntax is an object's SMI syntax, as far as encoding is concerned.
type Syntax uint8

// Syntaxes used by the models.
const (
	SyntaxNone Syntax = iota
	DisplayString
	OctetStr
	ObjectID
	Integer // Integer32 and enumerated INTEGER
	TruthValue
	Counter32
	Gauge32 // also Unsigned32, which encodes the same way
	TimeTicks
	Counter64
)

// ber is the syntax's ASN.1 type for gosnmp.
func (s Syntax) ber() gosnmp.Asn1BER {
	switch s {
	case DisplayString, OctetStr:
		return gosnmp.OctetString
	case ObjectID:
		return gosnmp.ObjectIdentifier
	case Integer, TruthValue:
		return gosnmp.Integer
	case Counter32:
		return gosnmp.Counter32
	case Gauge32:
		return gosnmp.Gauge32
	case TimeTicks:
		return gosnmp.TimeTicks
	case Counter64:
		return gosnmp.Counter64
	}
	return gosnmp.Null
}

// table is one vendor's objects, looked up by name. It is built once from a literal list
// and never changed.
type table struct {
	list   []Object
	byName map[string]*Object
}

func newTable(list ...[]Object) *table {
	t := &table{byName: map[string]*Object{}}
	for _, l := range list {
		t.list = append(t.list, l...)
	}
	for i := range t.list {
		o := &t.list[i]
		if _, dup := t.byName[o.Name]; dup {
			panic("sim: duplicate object " + o.Name)
		}
		t.byName[o.Name] = o
	}
	return t
}

// get returns the object called name; a name missing from the table is a programming
// error (the tests build every model, so it cannot ship).
func (t *table) get(name string) *Object {
	o, ok := t.byName[name]
	if !ok {
		panic("sim: no object " + name)
	}
	return o
}

// Objects returns the table's objects in table order (a copy).
func (t *table) Objects() []Object { return append([]Object(nil), t.list...) }

// instance is o's OID for the instance index (".0" for scalars).
func (o *Object) instance(index string) string {
	if o.Kind == Scalar {
		return o.OID + ".0"
	}
	if index == "" {
		return o.OID
	}
	return o.OID + "." + strings.TrimPrefix(index, ".")
}

// value builds a variable of o's syntax. v is converted to the Go type gosnmp encodes
// for that syntax: string for strings and OIDs, int for integers, uint32 for 32-bit
// counters, gauges and time ticks, uint64 for Counter64.
func (o *Object) value(index string, v any) Var {
	return Var{Name: o.instance(index), Type: o.Syntax.ber(), Value: convert(o.Syntax, v)}
}

func convert(s Syntax, v any) any {
	switch s {
	case DisplayString, OctetStr, ObjectID:
		switch x := v.(type) {
		case string:
			return x
		case []byte:
			return string(x)
		}
		return fmt.Sprint(v)
	case Integer, TruthValue:
		return int(toInt64(v))
	case Counter32, Gauge32, TimeTicks:
		return uint32(toInt64(v))
	case Counter64:
		if u, ok := v.(uint64); ok {
			return u
		}
		return uint64(toInt64(v))
	}
	return nil
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return 0
}

// truth encodes a TruthValue: true(1), false(2).
func truth(b bool) int {
	if b {
		return 1
	}
	return 2
}

// stringIndex is the OID index of a string in a table INDEX clause without IMPLIED:
// its length, then one arc per byte (RFC 2578 section 7.7).
func stringIndex(s string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(s)))
	for i := 0; i < len(s); i++ {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(int(s[i])))
	}
	return b.String()
}

// MIB-2 objects both models serve (SNMPv2-MIB system group, IF-MIB interfaces group).
var mib2Objects = []Object{
	{Name: "sysDescr", OID: ".1.3.6.1.2.1.1.1", Syntax: DisplayString, Module: "SNMPv2-MIB"},
	{Name: "sysObjectID", OID: ".1.3.6.1.2.1.1.2", Syntax: ObjectID, Module: "SNMPv2-MIB"},
	{Name: "sysUpTime", OID: ".1.3.6.1.2.1.1.3", Syntax: TimeTicks, Module: "SNMPv2-MIB"},
	{Name: "sysContact", OID: ".1.3.6.1.2.1.1.4", Syntax: DisplayString, Module: "SNMPv2-MIB"},
	{Name: "sysName", OID: ".1.3.6.1.2.1.1.5", Syntax: DisplayString, Module: "SNMPv2-MIB"},
	{Name: "sysLocation", OID: ".1.3.6.1.2.1.1.6", Syntax: DisplayString, Module: "SNMPv2-MIB"},
	{Name: "ifNumber", OID: ".1.3.6.1.2.1.2.1", Syntax: Integer, Module: "IF-MIB"},
	{Name: "ifIndex", OID: ".1.3.6.1.2.1.2.2.1.1", Syntax: Integer, Module: "IF-MIB", Kind: Column},
	{Name: "ifDescr", OID: ".1.3.6.1.2.1.2.2.1.2", Syntax: DisplayString, Module: "IF-MIB", Kind: Column},
	{Name: "ifType", OID: ".1.3.6.1.2.1.2.2.1.3", Syntax: Integer, Module: "IF-MIB", Kind: Column},
	{Name: "ifMtu", OID: ".1.3.6.1.2.1.2.2.1.4", Syntax: Integer, Module: "IF-MIB", Kind: Column},
	{Name: "ifSpeed", OID: ".1.3.6.1.2.1.2.2.1.5", Syntax: Gauge32, Module: "IF-MIB", Kind: Column},
	{Name: "ifPhysAddress", OID: ".1.3.6.1.2.1.2.2.1.6", Syntax: OctetStr, Module: "IF-MIB", Kind: Column},
	{Name: "ifAdminStatus", OID: ".1.3.6.1.2.1.2.2.1.7", Syntax: Integer, Module: "IF-MIB", Kind: Column},
	{Name: "ifOperStatus", OID: ".1.3.6.1.2.1.2.2.1.8", Syntax: Integer, Module: "IF-MIB", Kind: Column},
	{Name: "ifLastChange", OID: ".1.3.6.1.2.1.2.2.1.9", Syntax: TimeTicks, Module: "IF-MIB", Kind: Column},
	{Name: "ifInOctets", OID: ".1.3.6.1.2.1.2.2.1.10", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifInUcastPkts", OID: ".1.3.6.1.2.1.2.2.1.11", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifInNUcastPkts", OID: ".1.3.6.1.2.1.2.2.1.12", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifInDiscards", OID: ".1.3.6.1.2.1.2.2.1.13", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifInErrors", OID: ".1.3.6.1.2.1.2.2.1.14", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifInUnknownProtos", OID: ".1.3.6.1.2.1.2.2.1.15", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutOctets", OID: ".1.3.6.1.2.1.2.2.1.16", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutUcastPkts", OID: ".1.3.6.1.2.1.2.2.1.17", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutNUcastPkts", OID: ".1.3.6.1.2.1.2.2.1.18", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutDiscards", OID: ".1.3.6.1.2.1.2.2.1.19", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutErrors", OID: ".1.3.6.1.2.1.2.2.1.20", Syntax: Counter32, Module: "IF-MIB", Kind: Column},
	{Name: "ifOutQLen", OID: ".1.3.6.1.2.1.2.2.1.21", Syntax: Gauge32, Module: "IF-MIB", Kind: Column},
	{Name: "ifSpecific", OID: ".1.3.6.1.2.1.2.2.1.22", Syntax: ObjectID, Module: "IF-MIB", Kind: Column},
}

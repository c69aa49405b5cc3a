// Package mib translates between OIDs and names. A Table starts with the objects
// hsmwatch knows without any file (the standard SNMPv2 objects every trap carries and the
// Luna OIDs that are publicly confirmed: see builtin.go), and grows with the vendor MIB
// files an operator loads (--mibs DIR), parsed with a real SMI parser
// (github.com/sleepinggenius2/gosmi/parser), never with regular expressions.
//
// Dinamo's objects get names only from a loaded MIB: its vendor numbering is not public,
// so without one they stay raw OIDs under 1.3.6.1.4.1.41054.
package mib

import (
	"sort"
	"strconv"
	"strings"
)

// Kind is what an OID names.
type Kind uint8

// The kinds of MIB entries.
const (
	KindNode         Kind = iota // an OBJECT IDENTIFIER, MODULE-IDENTITY, OBJECT-IDENTITY, group
	KindScalar                   // an OBJECT-TYPE with one instance (.0)
	KindTable                    // SEQUENCE OF
	KindRow                      // a table's entry (INDEX or AUGMENTS)
	KindColumn                   // an OBJECT-TYPE inside a row
	KindNotification             // NOTIFICATION-TYPE or TRAP-TYPE
)

var kindNames = [...]string{"node", "scalar", "table", "row", "column", "notification"}

func (k Kind) String() string { return kindNames[k] }

// Entry is one named OID.
type Entry struct {
	OID    string // dotted, with a leading dot: ".1.3.6.1.4.1.23629.1.5.2.2.1"
	Module string
	Name   string
	Kind   Kind
	Syntax string // the syntax as written: INTEGER, OCTET STRING, Counter64, a TC name...
	// Base is the SMI base type Syntax resolves to through textual conventions
	// (DisplayString is OCTET STRING, TimeStamp is TimeTicks): one of the Base* names, ""
	// when the syntax is not known.
	Base  string
	Enums map[int64]string // named numbers of an enumerated syntax
	Units string           // the UNITS clause ("kB", "seconds"), "" without one
	// Description is the DESCRIPTION clause as written (line breaks and indentation
	// kept); "" for built-in entries.
	Description string
	// Objects are the varbinds a notification carries (MODULE::name).
	Objects []string
	// Origin says where the entry came from: "builtin" or "file:line".
	Origin string
}

// FullName is MODULE::name.
func (e *Entry) FullName() string { return e.Module + "::" + e.Name }

// Table maps OIDs to entries and names to OIDs. Build it, then share it read-only.
type Table struct {
	byOID  map[string]*Entry
	byName map[string]*Entry // "MODULE::name", and "name" when only one module defines it
	dup    map[string]bool   // bare names defined by more than one module
}

// New returns an empty table.
func New() *Table {
	return &Table{byOID: map[string]*Entry{}, byName: map[string]*Entry{}, dup: map[string]bool{}}
}

// Add puts e in the table; a later entry for the same OID replaces an earlier one (a
// loaded vendor MIB overrides the built-in names).
func (t *Table) Add(e *Entry) {
	if old := t.byOID[e.OID]; old != nil && t.byName[old.FullName()] == old {
		delete(t.byName, old.FullName())
	}
	t.byOID[e.OID] = e
	t.byName[e.FullName()] = e
	if prev, ok := t.byName[e.Name]; ok && prev.Module != e.Module && !t.dup[e.Name] {
		t.dup[e.Name] = true
		delete(t.byName, e.Name)
	} else if !t.dup[e.Name] {
		t.byName[e.Name] = e
	}
}

// Len is the number of entries.
func (t *Table) Len() int { return len(t.byOID) }

// Entries returns every entry in OID order.
func (t *Table) Entries() []*Entry {
	out := make([]*Entry, 0, len(t.byOID))
	for _, e := range t.byOID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return Less(out[i].OID, out[j].OID) })
	return out
}

// Lookup finds the entry whose OID is the longest prefix of oid, and the instance
// suffix after it (".0" for a scalar, the index of a table cell; "" for an exact match).
func (t *Table) Lookup(oid string) (e *Entry, suffix string, ok bool) {
	oid = Normalize(oid)
	for p := oid; p != ""; {
		if e := t.byOID[p]; e != nil {
			return e, oid[len(p):], true
		}
		i := strings.LastIndexByte(p, '.')
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return nil, "", false
}

// Name writes oid as MODULE::name.suffix when a known entry covers it, else the numeric
// OID unchanged.
func (t *Table) Name(oid string) string {
	e, suffix, ok := t.Lookup(oid)
	if !ok {
		return Normalize(oid)
	}
	return e.FullName() + suffix
}

// Resolve turns "MODULE::name", "name", either followed by ".instance", or a numeric OID
// into a numeric OID.
func (t *Table) Resolve(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if isNumeric(s) {
		return Normalize(s), true
	}
	name, suffix := s, ""
	start := strings.LastIndex(s, "::") + 1 // the instance dots come after the name
	if i := strings.IndexByte(s[start:], '.'); i >= 0 {
		name, suffix = s[:start+i], s[start+i:]
		if !isNumeric(suffix) {
			return "", false
		}
	}
	e, ok := t.byName[name]
	if !ok {
		return "", false
	}
	return e.OID + suffix, true
}

// Value renders an integer of an enumerated object the way net-snmp does: "up(1)".
func (e *Entry) Value(v int64) string {
	if name, ok := e.Enums[v]; ok {
		return name + "(" + strconv.FormatInt(v, 10) + ")"
	}
	return strconv.FormatInt(v, 10)
}

// Normalize writes an OID with exactly one leading dot.
func Normalize(oid string) string {
	oid = strings.TrimSpace(oid)
	if oid == "" || oid[0] == '.' {
		return oid
	}
	return "." + oid
}

func isNumeric(s string) bool {
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}

// Less orders OIDs arc by arc, numerically (".1.3.6.1.2.1.2" before ".1.3.6.1.2.1.10").
func Less(a, b string) bool {
	a, b = strings.TrimPrefix(a, "."), strings.TrimPrefix(b, ".")
	for a != "" && b != "" {
		var x, y string
		x, a, _ = strings.Cut(a, ".")
		y, b, _ = strings.Cut(b, ".")
		if len(x) != len(y) {
			return len(x) < len(y)
		}
		if x != y {
			return x < y
		}
	}
	return a == "" && b != ""
}

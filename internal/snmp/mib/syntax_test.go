package mib

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const syntaxTestMIB = `HSMWATCH-SYNTAX-MIB DEFINITIONS ::= BEGIN
IMPORTS
    OBJECT-TYPE, Counter64, Integer32, TimeTicks, enterprises FROM SNMPv2-SMI
    TEXTUAL-CONVENTION, DisplayString, TimeStamp FROM SNMPv2-TC;

BigCount ::= TEXTUAL-CONVENTION
    STATUS      current
    DESCRIPTION "A counter under another name."
    SYNTAX      Counter64

BiggerCount ::= TEXTUAL-CONVENTION
    STATUS      current
    DESCRIPTION "A convention of a convention."
    SYNTAX      BigCount

Level ::= Integer32

syntaxTest OBJECT IDENTIFIER ::= { enterprises 99998 }

chained OBJECT-TYPE
    SYNTAX      BiggerCount
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION
        "Operations done
         since the start.   A second sentence."
    ::= { syntaxTest 1 }

level OBJECT-TYPE
    SYNTAX      Level (0..9)
    UNITS       "kB"
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION "A level."
    ::= { syntaxTest 2 }

changed OBJECT-TYPE
    SYNTAX      TimeStamp
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION "When it changed."
    ::= { syntaxTest 3 }

name OBJECT-TYPE
    SYNTAX      DisplayString
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION "A name."
    ::= { syntaxTest 4 }

odd OBJECT-TYPE
    SYNTAX      NoSuchConvention
    MAX-ACCESS  read-only
    STATUS      current
    DESCRIPTION "Of a syntax nobody defines."
    ::= { syntaxTest 5 }

END
`

// An object keeps its syntax as written, the base type that syntax resolves to through
// conventions (a module's own, chained, and SNMPv2-TC's without the module), its units
// and its description (the parser drops the indentation of its lines; compared here with
// whitespace collapsed).
func TestLoadSyntaxBaseUnitsDescription(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "HSMWATCH-SYNTAX-MIB.txt"), []byte(syntaxTestMIB), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := New()
	if err := tb.Load(dir); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		oid, syntax, base, units, desc string
	}{
		{".1.3.6.1.4.1.99998.1", "BiggerCount", BaseCounter64, "", "Operations done since the start. A second sentence."},
		{".1.3.6.1.4.1.99998.2", "Level", BaseInteger, "kB", "A level."},
		{".1.3.6.1.4.1.99998.3", "TimeStamp", BaseTimeTicks, "", "When it changed."},
		{".1.3.6.1.4.1.99998.4", "DisplayString", BaseOctets, "", "A name."},
		{".1.3.6.1.4.1.99998.5", "NoSuchConvention", "", "", "Of a syntax nobody defines."},
	} {
		e, _, ok := tb.Lookup(c.oid)
		if !ok || e.Syntax != c.syntax || e.Base != c.base || e.Units != c.units || strings.Join(strings.Fields(e.Description), " ") != c.desc {
			t.Errorf("%s: got syntax %q base %q units %q description %q, want %q %q %q %q",
				c.oid, e.Syntax, e.Base, e.Units, e.Description, c.syntax, c.base, c.units, c.desc)
		}
	}
}

// The shipped MIBs: hsmUpTime is a Counter64 column of a Luna and a TimeTicks scalar of
// the Dinamo stand-in; the built-in UCD memory objects are in kB.
func TestShippedSyntax(t *testing.T) {
	tb := Builtin()
	if e, _, _ := tb.Lookup(".1.3.6.1.4.1.2021.4.6.0"); e.Name != "memAvailReal" || e.Units != "kB" || e.Base != BaseInteger {
		t.Errorf("builtin memAvailReal: %+v", e)
	}
	if e, _, _ := tb.Lookup(".1.3.6.1.2.1.1.1.0"); e.Base != BaseOctets {
		t.Errorf("builtin sysDescr: %+v", e)
	}
	if err := tb.Load("../../../mibs"); err != nil {
		t.Fatal(err)
	}
	luna, ok := tb.Resolve("SAFENET-HSM-MIB::hsmUpTime")
	dinamo, ok2 := tb.Resolve("DINAMO-STANDIN-MIB::hsmUpTime")
	if !ok || !ok2 {
		t.Fatal("hsmUpTime not resolved")
	}
	if e, _, _ := tb.Lookup(luna); e.Base != BaseCounter64 || e.Kind != KindColumn || e.Description == "" {
		t.Errorf("Luna hsmUpTime: %+v", e)
	}
	if e, _, _ := tb.Lookup(dinamo); e.Base != BaseTimeTicks || e.Kind != KindScalar || e.Description != "Time elapsed since the HSM was switched on." {
		t.Errorf("Dinamo hsmUpTime: %+v", e)
	}
}

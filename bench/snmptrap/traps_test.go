package main

import (
	"bytes"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

func benchTable(t *testing.T) *mib.Table {
	t.Helper()
	tb := mib.Builtin()
	if err := tb.Load("../../mibs"); err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestNumberedV3Traps: every copy is a valid authPriv message of its own (its MAC
// verifies, it decrypts with its own salt) carrying its number and its kind's trap OID.
func TestNumberedV3Traps(t *testing.T) {
	tb := benchTable(t)
	m, err := newMaker(true, tb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.build(5, 30)
	if err != nil {
		t.Fatal(err)
	}
	salts := map[string]bool{}
	for i := range b.len() {
		n := uint64(5 + i)
		msg := bytes.Clone(b.at(i))
		pm, err := usm.ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		if salts[string(pm.PrivParams)] {
			t.Fatalf("trap %d reuses a salt", n)
		}
		salts[string(pm.PrivParams)] = true
		if !m.key.Authentic(msg, pm.AuthParams) {
			t.Fatalf("trap %d: MAC does not verify", n)
		}
		pt, err := m.key.Decrypt(uint32(pm.Boots), uint32(pm.Time), pm.PrivParams, pm.Data.Content)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := usm.ParseScoped(pt)
		if err != nil {
			t.Fatal(err)
		}
		p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(usm.WrapPDU(sc.PDU))
		if err != nil {
			t.Fatal(err)
		}
		checkTrap(t, n, m, p)
	}
}

func TestNumberedV2cTraps(t *testing.T) {
	m, err := newMaker(false, benchTable(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.build(999999970, 20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.len() {
		p, err := (&gosnmp.GoSNMP{Version: gosnmp.Version2c}).SnmpDecodePacket(b.at(i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Community != benchCommunity {
			t.Fatalf("community %q", p.Community)
		}
		checkTrap(t, uint64(999999970+i), m, p)
	}
}

func checkTrap(t *testing.T, n uint64, m *maker, p *gosnmp.SnmpPacket) {
	t.Helper()
	if p.PDUType != gosnmp.SNMPv2Trap || len(p.Variables) != 3 {
		t.Fatalf("trap %d: %v with %d variables", n, p.PDUType, len(p.Variables))
	}
	if oid := p.Variables[1].Value; oid != m.oids[category(n)] {
		t.Errorf("trap %d: snmpTrapOID %v, want %s", n, oid, m.oids[category(n)])
	}
	ref, _ := p.Variables[2].Value.([]byte)
	got, assert, ok := parseNumber(ref)
	if !ok || got != n || assert != asserting(n) {
		t.Errorf("trap %d: reference %q reads as %d, %v, %v", n, ref, got, assert, ok)
	}
}

// TestParseNumber reads the number from each receiver's output line.
func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		line string
		n    uint64
		a    bool
	}{
		{`{"message":"fanAttentionNotify for [luna-bench-01:192.168.0.101 / messages / 2026 Nov 22 12:05:01 / ipmievd[000000123] / 0]","rule":"luna.trap.fan-clear"}`, 123, false},
		{`.1.3.6.1.2.1.1.3.0 = Timeticks: (5) 0:00:00.05	.1.3.6.1.4.1.23629.1.5.2.2.1 = STRING: "[luna-bench-01:192.168.0.101 / messages / 2026 Nov 22 12:05:01 / NTLS[000004567] / 1]"`, 4567, true},
		{`.1.3.6.1.4.1.23629.1.5.2.2.3 powerSupplyAttentionNotify Normal "Status Events" 127.0.0.1 - Notify that a power supply needs attention. luna-bench-01:192.168.0.101 / messages / 2026 Nov 22 12:05:01 / ipmievd000000089 / 1`, 89, true},
	} {
		n, a, ok := parseNumber([]byte(c.line))
		if !ok || n != c.n || a != c.a {
			t.Errorf("%s: %d %v %v", c.line, n, a, ok)
		}
	}
	for _, line := range []string{"", "NET-SNMP version 5.9.3", "2026-11-22 07:15:20 UDP: [127.0.0.1]:51350->[127.0.0.1]:19163", "12:05:01 / x"} {
		if n, _, ok := parseNumber([]byte(line)); ok {
			t.Errorf("%q read as %d", line, n)
		}
	}
	if r := expectedRule(6 + 4); r != "luna.trap.ntls-clear" {
		t.Errorf("rule of trap 10: %s", r)
	}
	if r := expectedRule(12); r != "luna.trap.fan" {
		t.Errorf("rule of trap 12: %s", r)
	}
	m := &maker{}
	if _, err := m.build(999999990, 20); err == nil {
		t.Error("numbers of 10 digits accepted")
	}
}

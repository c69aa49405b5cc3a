package agent

import (
	"math"
	"net"
	"strings"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

// encodedVarbind marshals v in a v2c response with gosnmp and returns the varbind's
// bytes as found in the message.
func encodedVarbind(t *testing.T, v Var) []byte {
	t.Helper()
	msg, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "c", PDUType: gosnmp.GetResponse,
		Variables: []Var{v}}).MarshalMsg()
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	r := usm.NewReader(msg)
	top, _ := r.Next()
	in := r.Enter(top)
	in.Next() // version
	in.Next() // community
	pdu, _ := in.Next()
	p := in.Enter(pdu)
	p.Next() // request-id
	p.Next() // error-status
	p.Next() // error-index
	vbl, _ := p.Next()
	vb, err := p.Enter(vbl).Next()
	if err != nil {
		t.Fatal(err)
	}
	return vb.Raw(msg)
}

func TestVarbindSizeMatchesGosnmp(t *testing.T) {
	vars := []Var{
		{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: strings.Repeat("x", 127)},
		{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: strings.Repeat("x", 128)},
		{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: []byte(strings.Repeat("x", 300))},
		{Name: ".1.3.6.1.2.1.1.1.0", Type: gosnmp.OctetString, Value: strings.Repeat("x", 70000)},
		{Name: ".2.999.4294967295.128.16383.16384", Type: gosnmp.Integer, Value: 0},
		{Name: ".1.3", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.4294967295"},
		{Name: ".1.3", Type: gosnmp.IPAddress, Value: net.IPv4(10, 1, 2, 3)},
		{Name: ".1.3", Type: gosnmp.Null},
		{Name: ".1.3", Type: gosnmp.EndOfMibView},
		{Name: ".1.3", Type: gosnmp.NoSuchInstance},
	}
	for _, n := range []int{0, 127, 128, -128, -129, 32767, 32768, math.MaxInt32, math.MinInt32} {
		vars = append(vars, Var{Name: ".1.3", Type: gosnmp.Integer, Value: n})
	}
	for _, n := range []uint32{0, 0x7F, 0x80, 0xFF, 0x100, 0x7FFFFFFF, 0x80000000, math.MaxUint32} {
		vars = append(vars, Var{Name: ".1.3", Type: gosnmp.Counter32, Value: n}, Var{Name: ".1.3", Type: gosnmp.TimeTicks, Value: n})
	}
	for _, n := range []uint64{0, 0x80, 1 << 40, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		vars = append(vars, Var{Name: ".1.3", Type: gosnmp.Counter64, Value: n})
	}
	for _, name := range walk(t, testTree()) {
		v, _ := testTree().Get(name)
		vars = append(vars, v)
	}
	for _, v := range vars {
		ev, ok := encodable(v)
		if !ok {
			t.Fatalf("%s %v not encodable", v.Name, v.Type)
		}
		if got, want := varbindSize(ev), len(encodedVarbind(t, ev)); got != want {
			t.Errorf("%s %v %v: size %d, gosnmp encodes %d bytes", v.Name, v.Type, v.Value, got, want)
		}
	}
}

func TestEncodableConversions(t *testing.T) {
	for _, c := range []struct {
		in   Var
		want any
		ok   bool
	}{
		{Var{Type: gosnmp.Integer, Value: int64(-5)}, -5, true},
		{Var{Type: gosnmp.Integer, Value: uint16(5)}, 5, true},
		{Var{Type: gosnmp.Integer, Value: int64(math.MaxInt32) + 1}, nil, false},
		{Var{Type: gosnmp.Gauge32, Value: 7}, uint32(7), true},
		{Var{Type: gosnmp.Gauge32, Value: -1}, nil, false},
		{Var{Type: gosnmp.Gauge32, Value: uint64(math.MaxUint32) + 1}, nil, false},
		{Var{Type: gosnmp.Counter64, Value: 3}, uint64(3), true},
		{Var{Type: gosnmp.IPAddress, Value: "10.0.0.1"}, []byte{10, 0, 0, 1}, true},
		{Var{Type: gosnmp.IPAddress, Value: "not an ip"}, nil, false},
		{Var{Type: gosnmp.IPAddress, Value: "::1"}, nil, false},
		{Var{Type: gosnmp.ObjectIdentifier, Value: ".5.1"}, nil, false},
		{Var{Type: gosnmp.OctetString, Value: nil}, []byte{}, true},
		{Var{Type: gosnmp.OctetString, Value: 42}, nil, false},
		{Var{Type: gosnmp.Boolean, Value: true}, nil, false},
	} {
		got, ok := encodable(c.in)
		if ok != c.ok || (ok && !equalValue(got.Value, c.want)) {
			t.Errorf("encodable(%v %T %v) = %T %v, %v", c.in.Type, c.in.Value, c.in.Value, got.Value, got.Value, ok)
		}
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.([]byte); ok {
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

// TestFitCutsBulkAndFallsBackToTooBig exercises fit directly: a GetBulk answer is cut
// to the most variables that fit, anything else becomes tooBig.
func TestFitCutsBulkAndFallsBackToTooBig(t *testing.T) {
	a := fuzzAgent(t)
	var vars []Var
	for i := range 50 {
		vars = append(vars, Var{Name: ".1.3.6.1.4.1.99.1." + strings.Repeat("1", 1+i%3), Type: gosnmp.OctetString, Value: strings.Repeat("v", 90)})
	}
	encode := func(r reply) ([]byte, error) {
		return (&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetResponse,
			Error: r.errStatus, Variables: r.vars}).MarshalMsg()
	}
	const maxMsg = 1000
	out := a.fit(nil, reply{vars: vars, bulk: true, keep: 1}, tooBig(nil, false), maxMsg, encode)
	p, err := decodePDU(out)
	if err != nil || len(out) > maxMsg || p.Error != gosnmp.NoError {
		t.Fatalf("cut answer: %d bytes, %v, %v", len(out), p, err)
	}
	n := len(p.Variables)
	if more, _ := encode(reply{vars: vars[:n+1]}); len(more) <= maxMsg {
		t.Fatalf("cut to %d variables though %d fit", n, n+1)
	}
	out = a.fit(nil, reply{vars: vars}, tooBig(nil, false), maxMsg, encode)
	if p, err := decodePDU(out); err != nil || p.Error != gosnmp.TooBig || len(p.Variables) != 0 {
		t.Fatalf("Get answer too big: %+v %v", p, err)
	}
}

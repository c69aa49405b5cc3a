package agent

import (
	"net"
	"testing"

	"github.com/gosnmp/gosnmp"
)

// fuzzEngineID is fixed so that the seed corpus's v3 messages stay addressed to the agent.
var fuzzEngineID = []byte("\x80\x00\x00\x00\x04fuzz-engine")

// seedRequests are well-formed requests of every kind the agent answers, for the
// fuzzer to mutate: v1, v2c Get/GetNext/GetBulk/Set, the v3 discovery probe, and v3
// requests at each security level, authenticated and encrypted with a test user's keys.
func seedRequests(t testing.TB, a *Agent) [][]byte {
	t.Helper()
	vars := []Var{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.Null}, {Name: ".1.3.6.1.2.1.2.2.1.2", Type: gosnmp.Null}}
	var out [][]byte
	add := func(p *gosnmp.SnmpPacket) {
		b, err := p.MarshalMsg()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	for _, v := range []gosnmp.SnmpVersion{gosnmp.Version1, gosnmp.Version2c} {
		for _, pt := range []gosnmp.PDUType{gosnmp.GetRequest, gosnmp.GetNextRequest, gosnmp.GetBulkRequest} {
			if v == gosnmp.Version1 && pt == gosnmp.GetBulkRequest {
				continue // not in SNMPv1: dropped
			}
			add(&gosnmp.SnmpPacket{Version: v, Community: "public", PDUType: pt, RequestID: 1, MaxRepetitions: 5, NonRepeaters: 1, Variables: vars})
		}
	}
	add(&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.SetRequest, RequestID: 2,
		Variables: []Var{{Name: ".1.3.6.1.2.1.1.5.0", Type: gosnmp.OctetString, Value: "x"}}})
	boots, now := a.bootsTime()
	for _, c := range []struct {
		u     User
		flags gosnmp.SnmpV3MsgFlags
	}{{User{}, 0}, {userNoAuth, 0}, {userAuthOnly, gosnmp.AuthNoPriv}, {userAuthPriv, gosnmp.AuthPriv}, {userMD5DES, gosnmp.AuthPriv}} {
		sp := &gosnmp.UsmSecurityParameters{UserName: c.u.Name, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
		if c.u.Name != "" {
			sp.AuthoritativeEngineID, sp.AuthoritativeEngineBoots, sp.AuthoritativeEngineTime = string(a.engineID), boots, now
		}
		if c.flags&gosnmp.AuthNoPriv != 0 {
			sp.AuthenticationProtocol, sp.AuthenticationPassphrase = c.u.AuthProto, c.u.AuthPass
		}
		if c.flags == gosnmp.AuthPriv {
			sp.PrivacyProtocol, sp.PrivacyPassphrase = c.u.PrivProto, c.u.PrivPass
			sp.PrivacyParameters = a.newSalt(c.u.PrivProto, boots)
		}
		if err := sp.InitSecurityKeys(); err != nil {
			t.Fatal(err)
		}
		p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: c.flags | gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
			MsgID: 3, SecurityParameters: sp, ContextEngineID: string(a.engineID), PDUType: gosnmp.GetBulkRequest,
			RequestID: 4, MaxRepetitions: 3, Variables: vars}
		if c.u.Name == "" {
			p.PDUType, p.Variables, p.ContextEngineID = gosnmp.GetRequest, nil, ""
		}
		add(p)
	}
	return out
}

func fuzzAgent(t testing.TB) *Agent {
	t.Helper()
	cfg := defaultConfig(testTree())
	cfg.Addr, cfg.EngineID = "127.0.0.1:0", fuzzEngineID
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestSeedRequestsAnswered keeps the seed corpus honest: every seed gets an answer, so
// the fuzzer starts from inputs that reach the deepest paths.
func TestSeedRequestsAnswered(t *testing.T) {
	a := fuzzAgent(t)
	for i, seed := range seedRequests(t, a) {
		if out := a.handle(append([]byte(nil), seed...), nil); out == nil {
			t.Errorf("seed %d got no answer", i)
		}
	}
	if s := a.Stats(); s.Malformed != 0 || s.WrongDigest != 0 || s.DecryptionErrors != 0 {
		t.Fatalf("seeds rejected: %+v", s)
	}
}

// FuzzHandlePacket feeds mutated requests to the decoding and answering path without
// handlePacket's recover, so that any panic is a finding. Answers must fit a datagram.
func FuzzHandlePacket(f *testing.F) {
	a := fuzzAgent(f)
	for _, seed := range seedRequests(f, a) {
		f.Add(seed)
	}
	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out := a.handle(append([]byte(nil), pkt...), peer)
		if len(out) > maxDatagram {
			t.Fatalf("answer of %d bytes", len(out))
		}
	})
}

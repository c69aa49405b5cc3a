package receiver

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// FuzzDecodeTrap runs the whole decoding path (header, community, USM, decryption,
// gosnmp's PDU decoder, naming, the ssLogReference) on mutated notifications of every
// kind the receiver takes. Nothing may panic, and an event must encode as valid JSON.
func FuzzDecodeTrap(f *testing.F) {
	r, err := New(Config{Addr: "127.0.0.1:0", Communities: anySource(community), MinLevel: NoAuthNoPriv,
		EngineID: []byte("\x80\x00\x00\x00\x04fuzz-receiver"),
		Users:    []User{{User: privUser, EngineIDs: [][]byte{senderEngine}}, privUser2()}})
	if err != nil {
		f.Fatal(err)
	}
	defer r.Close()
	vars := lunaVars(oidNTLS, "[myLuna:192.168.0.101 / 2012 Feb 29 12:05:01 / messages / NTLS[1234] / 1]")
	f.Add(v2cPacket(f, community, gosnmp.SNMPv2Trap, vars))
	f.Add(v2cPacket(f, community, gosnmp.InformRequest, vars))
	v1, _ := (&gosnmp.SnmpPacket{Version: gosnmp.Version1, Community: community, PDUType: gosnmp.Trap, Variables: vars[2:],
		SnmpTrap: gosnmp.SnmpTrap{Enterprise: ".1.3.6.1.4.1.23629.1.5.2.2", AgentAddress: "10.0.0.1", GenericTrap: 6, SpecificTrap: 6}}).MarshalMsg()
	f.Add(v1)
	for _, flags := range []gosnmp.SnmpV3MsgFlags{0, gosnmp.AuthNoPriv, gosnmp.AuthPriv} {
		f.Add(v3Packet(f, privUser, senderEngine, 1, 100, flags, gosnmp.SNMPv2Trap, vars))
		f.Add(v3Packet(f, privUser2().User, r.engineID, r.boots, 0, flags|gosnmp.Reportable, gosnmp.InformRequest, vars))
	}
	f.Add(v3Packet(f, privUser, nil, 0, 0, gosnmp.Reportable, gosnmp.GetRequest, nil)) // discovery
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x03})
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, pkt []byte) {
		// handle authenticates in place (the MAC field is zeroed); the fuzzer's input
		// must stay as it was given.
		res := r.handle(r.set.Load(), append([]byte(nil), pkt...), peer, now)
		if res.ev != nil {
			if b := res.ev.AppendJSON(nil); !json.Valid(b) {
				t.Fatalf("invalid JSON: %s", b)
			}
		}
	})
}

// privUser2 is an inform user (no engine IDs: informs only).
func privUser2() User {
	u := privUser
	u.Name = "informer"
	return User{User: u}
}

package receiver

import (
	"context"
	"crypto/rand"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

// Test identities. The passphrases are distinctive so that a test can prove they never
// reach a log line or an event.
const (
	community  = "c0mmunity-s3cret"
	authSecret = "auth-s3cret-phrase"
	privSecret = "priv-s3cret-phrase"
	oidLogRef  = ".1.3.6.1.4.1.23629.1.5.2.2.1"
	oidFan     = ".1.3.6.1.4.1.23629.1.5.2.2.2"
	oidNTLS    = ".1.3.6.1.4.1.23629.1.5.2.2.6"
)

var (
	senderEngine = []byte("\x80\x00\x1f\x88\x04luna-test")
	otherEngine  = []byte("\x80\x00\x1f\x88\x04stranger!")
	privUser     = usm.User{Name: "pete", AuthProto: gosnmp.SHA, AuthPass: authSecret, PrivProto: gosnmp.AES, PrivPass: privSecret}
)

// harness is a running receiver with its events and log.
type harness struct {
	r      *Receiver
	events chan *event.Event
	logs   *testutil.SyncBuffer
	conn   net.PacketConn // the test's sending socket
}

// start runs a receiver on a loopback port until the test ends.
func start(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{events: make(chan *event.Event, 100000), logs: &testutil.SyncBuffer{}}
	if cfg.Addr == "" && cfg.Conn == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func(ev *event.Event) { h.events <- ev }) }()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.conn = c
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		c.Close()
	})
	return h
}

func (h *harness) addr() string { return h.r.Addr().String() }

func (h *harness) send(t testing.TB, pkt []byte) {
	t.Helper()
	if _, err := h.conn.WriteTo(pkt, h.r.Addr()); err != nil {
		t.Fatal(err)
	}
}

// next waits for the next event.
func (h *harness) next(t testing.TB) *event.Event {
	t.Helper()
	select {
	case ev := <-h.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event within 10 s; stats %+v", h.r.Stats())
		return nil
	}
}

// rejected waits until reason has been counted n times, then checks that no event came
// out: a rejected datagram is counted when its worker is done with it, so once the
// count is reached nothing of it can still be emitted.
func (h *harness) rejected(t testing.TB, reason Reason, n uint64) {
	t.Helper()
	testutil.WaitFor(t, reason.String()+" counted", 10*time.Second, func() bool {
		return h.r.Stats().Rejected[reason.String()] >= n
	})
	if got := h.r.Stats().Rejected[reason.String()]; got != n {
		t.Errorf("%s counted %d times, want %d", reason, got, n)
	}
	select {
	case ev := <-h.events:
		t.Fatalf("a rejected notification produced an event: %s", ev.AppendJSON(nil))
	default:
	}
}

func lunaVars(trapOID, ref string) []gosnmp.SnmpPDU {
	return []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(4242)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: trapOID},
		{Name: oidLogRef, Type: gosnmp.OctetString, Value: ref},
	}
}

func v2cPacket(t testing.TB, c string, pdu gosnmp.PDUType, vars []gosnmp.SnmpPDU) []byte {
	t.Helper()
	b, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: c, PDUType: pdu, RequestID: 77, Variables: vars}).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// v3Packet builds an SNMPv3 message from user under engineID with the given boots and
// time, at flags, with gosnmp's encoder, and a random msgID, as a sender picks one per
// message. Tests that send many messages at the same boots and time use v3PacketID.
func v3Packet(t testing.TB, u usm.User, engineID []byte, boots, secs uint32, flags gosnmp.SnmpV3MsgFlags, pdu gosnmp.PDUType, vars []gosnmp.SnmpPDU) []byte {
	t.Helper()
	return v3PacketID(t, u, engineID, boots, secs, mrand.Uint32N(1<<31), flags, pdu, vars)
}

// v3PacketID is v3Packet with the given msgID.
func v3PacketID(t testing.TB, u usm.User, engineID []byte, boots, secs, msgID uint32, flags gosnmp.SnmpV3MsgFlags, pdu gosnmp.PDUType, vars []gosnmp.SnmpPDU) []byte {
	t.Helper()
	sp := &gosnmp.UsmSecurityParameters{UserName: u.Name, AuthoritativeEngineID: string(engineID),
		AuthoritativeEngineBoots: boots, AuthoritativeEngineTime: secs,
		AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
	if flags&gosnmp.AuthNoPriv != 0 {
		sp.AuthenticationProtocol, sp.AuthenticationPassphrase = u.AuthProto, u.AuthPass
	}
	if flags&gosnmp.AuthPriv == gosnmp.AuthPriv {
		sp.PrivacyProtocol, sp.PrivacyPassphrase = u.PrivProto, u.PrivPass
		sp.PrivacyParameters = make([]byte, 8)
		rand.Read(sp.PrivacyParameters)
	}
	if err := sp.InitSecurityKeys(); err != nil {
		t.Fatal(err)
	}
	p := &gosnmp.SnmpPacket{Version: gosnmp.Version3, MsgFlags: flags, SecurityModel: gosnmp.UserSecurityModel,
		MsgID: msgID, MsgMaxSize: 65507, SecurityParameters: sp, ContextEngineID: string(engineID), PDUType: pdu,
		RequestID: 10, Variables: vars}
	b, err := p.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func anySource(c ...string) []CommunityRule { return []CommunityRule{{Communities: c}} }

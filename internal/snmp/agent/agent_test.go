package agent

import (
	"github.com/hsmwatch/hsmwatch/internal/testutil"

	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// These tests drive the agent in process with gosnmp's client, for what net-snmp's
// tools cannot show: message size limits, resynchronisation after a reboot, hostile
// packets, shutdown and concurrent tree changes.

func client(t testing.TB, a *Agent, version gosnmp.SnmpVersion, u *User) *gosnmp.GoSNMP {
	t.Helper()
	addr := a.Addr().(*net.UDPAddr)
	g := &gosnmp.GoSNMP{
		Target: "127.0.0.1", Port: uint16(addr.Port), Version: version, Community: "public",
		Timeout: 2 * time.Second, Retries: 1, MaxOids: 1000, MaxRepetitions: 20,
	}
	if u != nil {
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = gosnmp.NoAuthNoPriv
		sp := &gosnmp.UsmSecurityParameters{UserName: u.Name, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}
		if u.AuthPass != "" {
			g.MsgFlags = gosnmp.AuthNoPriv
			sp.AuthenticationProtocol, sp.AuthenticationPassphrase = u.AuthProto, u.AuthPass
		}
		if u.PrivPass != "" {
			g.MsgFlags = gosnmp.AuthPriv
			sp.PrivacyProtocol, sp.PrivacyPassphrase = u.PrivProto, u.PrivPass
		}
		g.SecurityParameters = sp
	}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Conn.Close() })
	return g
}

// bigTree has n OIDs of size bytes each: answers that cannot all fit in one message.
func bigTree(n, size int) *MapTree {
	tr := NewMapTree()
	for i := 1; i <= n; i++ {
		tr.Set(Var{Name: fmt.Sprintf(".1.3.6.1.4.1.99.1.%d", i), Type: gosnmp.OctetString, Value: strings.Repeat("x", size)})
	}
	return tr
}

func TestGetBulkCutToMessageSize(t *testing.T) {
	a := startAgent(t, defaultConfig(bigTree(300, 1000)))
	g := client(t, a, gosnmp.Version2c, nil)
	res, err := g.GetBulk([]string{".1.3.6.1.4.1.99"}, 0, 300)
	if err != nil {
		t.Fatal(err)
	}
	n := len(res.Variables)
	if res.Error != gosnmp.NoError || n < 60 || n >= 66 {
		t.Fatalf("error %v, %d variables; want about 64 (64 KiB of 1 KB values)", res.Error, n)
	}
	for i, v := range res.Variables {
		if want := fmt.Sprintf(".1.3.6.1.4.1.99.1.%d", i+1); v.Name != want {
			t.Fatalf("variable %d is %s, want %s: the cut must drop trailing variables", i, v.Name, want)
		}
	}
}

// TestGetBulkHugeRepetitions asks for two billion repetitions of a 100,000-OID tree:
// the answer must stop at a full message, quickly, not walk the tree.
func TestGetBulkHugeRepetitions(t *testing.T) {
	tr := NewMapTree()
	for i := range 100000 {
		tr.Set(Var{Name: fmt.Sprintf(".1.3.6.1.4.1.99.%d.%d", i/1000, i%1000), Type: gosnmp.Integer, Value: i})
	}
	a := startAgent(t, defaultConfig(tr))
	g := client(t, a, gosnmp.Version2c, nil)
	start := time.Now()
	res, err := g.GetBulk([]string{".1.3.6.1.4.1.99"}, 0, math.MaxInt32)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := res.MarshalMsg() // the same variables, so about the same size
	if n := len(res.Variables); n < 1000 || len(msg) > maxDatagram || len(msg) < maxDatagram*9/10 {
		t.Fatalf("%d variables in %d bytes; want a message filled to near %d", n, len(msg), maxDatagram)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestGetBulkRespectsV3MaxSize sends a v3 GetBulk with a small msgMaxSize, which
// gosnmp's client cannot set, built with gosnmp's encoder.
func TestGetBulkRespectsV3MaxSize(t *testing.T) {
	a := startAgent(t, defaultConfig(bigTree(50, 300)))
	boots, now := a.bootsTime()
	req := &gosnmp.SnmpPacket{
		Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		MsgID: 7, MsgMaxSize: 1500, PDUType: gosnmp.GetBulkRequest, RequestID: 99, MaxRepetitions: 50,
		SecurityParameters: &gosnmp.UsmSecurityParameters{
			AuthoritativeEngineID: string(a.EngineID()), AuthoritativeEngineBoots: boots, AuthoritativeEngineTime: now,
			UserName: userNoAuth.Name, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv,
		},
		Variables: []Var{{Name: ".1.3.6.1.4.1.99", Type: gosnmp.Null}},
	}
	msg, err := req.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	out := a.handlePacket(msg, nil)
	if len(out) == 0 || len(out) > 1500 {
		t.Fatalf("answer of %d bytes for msgMaxSize 1500", len(out))
	}
	dec := gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: userNoAuth.Name, AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}}
	res, err := dec.SnmpDecodePacket(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.PDUType != gosnmp.GetResponse || res.RequestID != 99 || len(res.Variables) < 3 || len(res.Variables) > 4 {
		t.Fatalf("%v id %d with %d variables; want 3 or 4 that fit 1500 bytes", res.PDUType, res.RequestID, len(res.Variables))
	}
}

func TestGetTooBig(t *testing.T) {
	a := startAgent(t, defaultConfig(bigTree(100, 1000)))
	var oids []string
	for i := 1; i <= 100; i++ {
		oids = append(oids, fmt.Sprintf(".1.3.6.1.4.1.99.1.%d", i))
	}
	g := client(t, a, gosnmp.Version2c, nil)
	res, err := g.Get(oids)
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != gosnmp.TooBig || len(res.Variables) != 0 {
		t.Fatalf("error %v with %d variables, want tooBig with none", res.Error, len(res.Variables))
	}
}

// TestRebootResync checks that a manager holding the old boots is told, with an
// authenticated Report, to resynchronise, and then gets its answer.
func TestRebootResync(t *testing.T) {
	a := startAgent(t, defaultConfig(testTree()))
	g := client(t, a, gosnmp.Version3, &userAuthPriv)
	get := func() {
		t.Helper()
		res, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
		if err != nil || len(res.Variables) != 1 || string(res.Variables[0].Value.([]byte)) != "hsm01" {
			t.Fatalf("get: %v %+v", err, res)
		}
	}
	get()
	a.Reboot()
	get()
	if s := a.Stats(); s.NotInTimeWindow != 1 {
		t.Fatalf("NotInTimeWindow %d, want 1", s.NotInTimeWindow)
	}
	if sp := g.SecurityParameters.(*gosnmp.UsmSecurityParameters); sp.AuthoritativeEngineBoots != 2 {
		t.Fatalf("manager's boots %d, want 2", sp.AuthoritativeEngineBoots)
	}
}

// countingHandler counts log records.
type countingHandler struct{ n atomic.Int64 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h *countingHandler) Handle(context.Context, slog.Record) error { h.n.Add(1); return nil }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h *countingHandler) WithGroup(string) slog.Handler             { return h }

func TestMalformedPacketsSurvivedAndLoggedOnce(t *testing.T) {
	h := &countingHandler{}
	cfg := defaultConfig(testTree())
	cfg.Logger = slog.New(h)
	a := startAgent(t, cfg)
	conn, err := net.Dial("udp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	junk := [][]byte{
		{0x30},
		{0x30, 0x03, 0x02, 0x01},
		{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01},
		{0x30, 0x05, 0x02, 0x01, 0x01, 0x04, 0x10},                   // community longer than the message
		{0x30, 0x0a, 0x02, 0x01, 0x03, 0x30, 0x05, 0x02, 0x01, 0x01}, // v3 header cut short
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	}
	for _, j := range junk {
		if _, err := conn.Write(j); err != nil {
			t.Fatal(err)
		}
	}
	// Datagrams from one socket arrive in order: once a good request is answered, the
	// junk before it has been handled.
	g := client(t, a, gosnmp.Version2c, nil)
	if _, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "malformed count", 5*time.Second, func() bool { return a.Stats().Malformed == uint64(len(junk)) })
	if n := h.n.Load(); n != 1 {
		t.Fatalf("%d log records for one peer's bad packets, want 1", n)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	a, err := New(Config{Addr: "127.0.0.1:0", Communities: []string{"public"}, Tree: testTree()})
	if err != nil {
		t.Fatal(err)
	}
	addr := a.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	g := client(t, a, gosnmp.Version2c, nil)
	if _, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"}); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve still running 2 s after cancel")
	}
	c, err := net.ListenPacket("udp", addr) // the socket is closed: the port is free
	if err != nil {
		t.Fatalf("socket not closed: %v", err)
	}
	c.Close()
	if err := a.Serve(context.Background()); err == nil {
		t.Fatal("second Serve succeeded")
	}
}

// TestWalkWhileTreeChanges walks with gosnmp, which fails on a non-increasing OID,
// while rows come and go.
func TestWalkWhileTreeChanges(t *testing.T) {
	tr := testTree()
	a := startAgent(t, defaultConfig(tr))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			row := fmt.Sprintf(".1.3.6.1.2.1.2.2.1.%d.%d", 1+i%22, 1+i%8)
			if i%2 == 0 {
				tr.Delete(row)
			} else {
				tr.Set(Var{Name: row, Type: gosnmp.Integer, Value: i})
			}
		}
	})
	g := client(t, a, gosnmp.Version2c, nil)
	for range 5 {
		vars, err := g.BulkWalkAll(".1.3.6.1")
		if err != nil {
			t.Fatal(err)
		}
		if len(vars) < 100 {
			t.Fatalf("walk returned %d variables", len(vars))
		}
	}
	close(stop)
	wg.Wait()
}

func TestNewRejectsBadConfig(t *testing.T) {
	secret := "s3cret-pass"
	for name, cfg := range map[string]Config{
		"no tree":       {Addr: "127.0.0.1:0"},
		"no address":    {Tree: NewMapTree()},
		"bad address":   {Addr: "nowhere:x", Tree: NewMapTree()},
		"short engine":  {Addr: "127.0.0.1:0", Tree: NewMapTree(), EngineID: []byte{1, 2}},
		"zero engine":   {Addr: "127.0.0.1:0", Tree: NewMapTree(), EngineID: make([]byte, 12)},
		"empty comm":    {Addr: "127.0.0.1:0", Tree: NewMapTree(), Communities: []string{""}},
		"priv no auth":  {Addr: "127.0.0.1:0", Tree: NewMapTree(), Users: []User{{Name: "u", PrivProto: gosnmp.AES, PrivPass: secret}}},
		"auth no proto": {Addr: "127.0.0.1:0", Tree: NewMapTree(), Users: []User{{Name: "u", AuthPass: secret}}},
		"bad priv":      {Addr: "127.0.0.1:0", Tree: NewMapTree(), Users: []User{{Name: "u", AuthProto: gosnmp.SHA, AuthPass: secret, PrivProto: 42, PrivPass: secret}}},
		"dup user":      {Addr: "127.0.0.1:0", Tree: NewMapTree(), Users: []User{userNoAuth, userNoAuth}},
	} {
		a, err := New(cfg)
		if err == nil {
			a.Close()
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the passphrase: %v", name, err)
		}
	}
}

func TestEngineIDDerivedPerAddress(t *testing.T) {
	a := startAgent(t, Config{Tree: NewMapTree()})
	b := startAgent(t, Config{Tree: NewMapTree()})
	ida, idb := a.EngineID(), b.EngineID()
	if len(ida) < 5 || len(ida) > 32 || string(ida) == string(idb) {
		t.Fatalf("engine IDs %x and %x", ida, idb)
	}
	ida[0] = 0 // a copy: the agent's own is unchanged
	if a.EngineID()[0] != 0x80 {
		t.Fatal("EngineID returned the agent's own slice")
	}
}

func TestUnencodableTreeValueIsGenErr(t *testing.T) {
	tr := NewMapTree()
	tr.Set(Var{Name: ".1.3.6.1.4.1.99.1.0", Type: gosnmp.Counter32, Value: -5})
	a := startAgent(t, defaultConfig(tr))
	g := client(t, a, gosnmp.Version2c, nil)
	res, err := g.Get([]string{".1.3.6.1.4.1.99.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != gosnmp.GenErr || res.ErrorIndex != 1 {
		t.Fatalf("error %v index %d", res.Error, res.ErrorIndex)
	}
}

// TestV3UnknownEngineReport is the discovery step (RFC 3414 4): an empty engine ID
// gets our engine ID, boots and time.
func TestV3UnknownEngineReport(t *testing.T) {
	a := startAgent(t, Config{Tree: NewMapTree(), EngineBoots: 41, EngineID: []byte("\x80\x00\x00\x00\x04test-engine")})
	probe := &gosnmp.SnmpPacket{
		Version: gosnmp.Version3, MsgFlags: gosnmp.Reportable, SecurityModel: gosnmp.UserSecurityModel,
		MsgID: 1, PDUType: gosnmp.GetRequest, RequestID: 5,
		SecurityParameters: &gosnmp.UsmSecurityParameters{AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv},
	}
	msg, err := probe.MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	out := a.handlePacket(msg, nil)
	dec := gosnmp.GoSNMP{Version: gosnmp.Version3, SecurityModel: gosnmp.UserSecurityModel,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: "x", AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}}
	res, err := dec.SnmpDecodePacket(out)
	if err != nil {
		t.Fatal(err)
	}
	sp := res.SecurityParameters.(*gosnmp.UsmSecurityParameters)
	if res.PDUType != gosnmp.Report || len(res.Variables) != 1 || res.Variables[0].Name != oidUnknownEngineIDs ||
		sp.AuthoritativeEngineID != "\x80\x00\x00\x00\x04test-engine" || sp.AuthoritativeEngineBoots != 41 || res.RequestID != 5 {
		t.Fatalf("report %v %+v, engine %q boots %d", res.PDUType, res.Variables, sp.AuthoritativeEngineID, sp.AuthoritativeEngineBoots)
	}
	if a.Stats().UnknownEngineID != 1 {
		t.Fatal("UnknownEngineID not counted")
	}
	// Without the reportable flag nothing is sent back.
	probe.MsgFlags = 0
	msg, _ = probe.MarshalMsg()
	if out := a.handlePacket(msg, nil); out != nil {
		t.Fatal("report sent for an unreportable message")
	}
	if a.Stats().UnknownEngineID != 2 {
		t.Fatal("second probe not counted")
	}
}

// stuckTree is a broken Tree whose Next never advances.
type stuckTree struct{}

func (stuckTree) Get(string) (Var, bool) { return Var{}, false }
func (stuckTree) Next(string) (Var, bool) {
	return Var{Name: ".1.3.6.1.4.1.99.1.0", Type: gosnmp.Counter64, Value: uint64(1)}, true
}

// TestV1GetNextOverStuckTree: skipping Counter64 for v1 must not loop forever on a Tree
// that does not advance.
func TestV1GetNextOverStuckTree(t *testing.T) {
	a := startAgent(t, Config{Communities: []string{"public"}, Tree: stuckTree{}})
	g := client(t, a, gosnmp.Version1, nil)
	res, err := g.GetNext([]string{".1.3.6.1.4.1.99.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != gosnmp.NoSuchName {
		t.Fatalf("error %v, want noSuchName", res.Error)
	}
}

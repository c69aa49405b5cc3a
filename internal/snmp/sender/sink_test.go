package sender

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
	"github.com/hsmwatch/hsmwatch/internal/snmp/lunatrap"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/receiver"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
)

const (
	community  = "sink-c0mmunity"
	authSecret = "sink-auth-s3cret"
	privSecret = "sink-priv-s3cret"
	// testMIBs is the receiver's test stand-in of SAFENET-APPLIANCE-MIB, with OIDs for
	// the three categories that are not public.
	testMIBs = "../receiver/testdata/mibs"
)

var trapUser = usm.User{Name: "pete", AuthProto: gosnmp.SHA, AuthPass: authSecret, PrivProto: gosnmp.AES, PrivPass: privSecret}

// classified parses and classifies one log line, as scan does.
func classified(t testing.TB, line, input string) *event.Event {
	t.Helper()
	p, err := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{}
	parse.Into(p, line, ev)
	ev.Input = input
	if cat.Classify(ev) == nil {
		t.Fatalf("%q: no rule", line)
	}
	return ev
}

func testTable(t testing.TB) *mib.Table {
	t.Helper()
	table := mib.Builtin()
	if err := table.Load(testMIBs); err != nil {
		t.Fatal(err)
	}
	return table
}

// udpTarget is a socket that counts the datagrams it gets, for tests that need no SNMP
// peer.
func udpTarget(t testing.TB) (string, chan []byte) {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 1000)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			ch <- append([]byte(nil), buf[:n]...)
		}
	}()
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().String(), ch
}

func TestVarbindsFromClassifiedLine(t *testing.T) {
	ev := classified(t, "2012 Feb 29 12:05:01 myLuna local5 crit NTLS[1234]: error : 0xc0000002 : Unable to create a new connection.", "/var/log/messages:7")
	if ev.Notification != lunatrap.NTLS {
		t.Fatalf("notification %q", ev.Notification)
	}
	addr, _ := udpTarget(t)
	s, err := New(Config{Targets: []notify.Target{{Addr: addr, Version: gosnmp.Version2c, Community: community}}, ApplianceIP: "192.168.0.101"})
	if err != nil {
		t.Fatal(err)
	}
	vars := s.Varbinds(ev, ".1.3.6.1.4.1.23629.1.5.2.2.6", s.start.Add(1500*time.Millisecond))
	if len(vars) != 3 || vars[0].Value != uint32(150) || vars[1].Value != ".1.3.6.1.4.1.23629.1.5.2.2.6" ||
		vars[2].Name != ".1.3.6.1.4.1.23629.1.5.2.2.1" ||
		vars[2].Value != "[myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / NTLS[1234] / 1]" {
		t.Errorf("varbinds %+v", vars)
	}
	test := classified(t, "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: ***TEST : Fan sensor Fan3B . Lower Critical going low (Reading 21000 .lt Threshold 2000 RPM)", "-:1")
	if v := s.Varbinds(test, "x", s.start)[2].Value; v != "***TEST : [myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / ipmievd / 0]" {
		t.Errorf("test de-assert reference %q", v)
	}
}

// TestRoundTripThroughReceiver: what the sink sends, hsmwatch's own receiver reads back
// as the same notification, assert flag, test marker and log reference, over v2c, v3
// authPriv traps (sender-authoritative) and v3 authPriv informs (receiver-authoritative).
func TestRoundTripThroughReceiver(t *testing.T) {
	table := testTable(t)
	s0, err := New(Config{Targets: []notify.Target{{Addr: "127.0.0.1:1", Version: gosnmp.Version2c, Community: "x"}}, MIB: table})
	if err != nil {
		t.Fatal(err)
	}
	r, err := receiver.New(receiver.Config{Addr: "127.0.0.1:0", MIB: table, MinLevel: receiver.AuthPriv,
		Communities: []receiver.CommunityRule{{Communities: []string{community}}},
		Users:       []receiver.User{{User: trapUser, EngineIDs: [][]byte{s0.EngineID()}}}})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan *event.Event, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, func(ev *event.Event) { events <- ev }) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := r.Addr().String()
	u := trapUser
	for _, tc := range []struct {
		name   string
		target notify.Target
	}{
		{"v2c trap", notify.Target{Addr: addr, Version: gosnmp.Version2c, Community: community}},
		{"v3 trap", notify.Target{Addr: addr, Version: gosnmp.Version3, User: &u}},
		{"v3 inform", notify.Target{Addr: addr, Version: gosnmp.Version3, User: &u, Inform: true, Timeout: 2 * time.Second, Retries: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{Targets: []notify.Target{tc.target}, MIB: table, ApplianceIP: "10.9.8.7"})
			if err != nil {
				t.Fatal(err)
			}
			ev := classified(t, "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd[2810]: Power Supply sensor PSU2_Status . - Failure detected Asserted", "messages:3")
			if err := s.Send(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			var got *event.Event
			select {
			case got = <-events:
			case <-time.After(10 * time.Second):
				t.Fatalf("nothing received; receiver stats %+v", r.Stats())
			}
			if got.Notification != lunatrap.PowerSupply || got.Assert != event.True || got.Host != "myLuna" ||
				got.Fields.Text("log_ip") != "10.9.8.7" || got.Fields.Text("process") != "ipmievd" || got.Fields.Text("pid") != "2810" ||
				got.Fields.Text("log_time") != "2012 Feb 29 12:05:01" || got.Fields.Text("log_file") != "messages" {
				t.Errorf("received %s", got.AppendJSON(nil))
			}
			if st := s.Stats(); st.Sent != 1 || st.Failed != 0 {
				t.Errorf("sink stats %+v", st)
			}
		})
	}
}

func TestDeAssertPolicies(t *testing.T) {
	fanClear := classified(t, "2012 Feb 29 12:05:01 myLuna local4 notice ipmievd: Fan sensor Fan3B . Lower Critical going low (Reading 21000 < Threshold 2000 RPM)", "messages:1")
	if fanClear.Assert != event.False {
		t.Fatalf("fan event is not a de-assert: %s", fanClear.AppendJSON(nil))
	}
	diskClear := &event.Event{Host: "myLuna", Notification: lunatrap.DiskDrive, Assert: event.False, Process: "smartd"}
	for _, c := range []struct {
		mode           DeAsserts
		fanSent, disks bool
	}{{DeAssertsAll, true, true}, {DeAssertsLsta, true, false}, {DeAssertsNone, false, false}} {
		addr, got := udpTarget(t)
		s, err := New(Config{Targets: []notify.Target{{Addr: addr, Version: gosnmp.Version2c, Community: community}}, DeAsserts: c.mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range []*event.Event{fanClear, diskClear} {
			if err := s.Send(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		want := 0
		for _, b := range []bool{c.fanSent, c.disks} {
			if b {
				want++
			}
		}
		st := s.Stats()
		if int(st.Sent) != want || int(st.Skipped) != 2-want {
			t.Errorf("%v: stats %+v, want %d sent", c.mode, st, want)
		}
		for range want {
			select {
			case <-got:
			case <-time.After(5 * time.Second):
				t.Fatalf("%v: datagram missing", c.mode)
			}
		}
	}
}

func TestRateLimitPerCategory(t *testing.T) {
	addr, got := udpTarget(t)
	now := time.Unix(1_800_000_000, 0)
	s, err := New(Config{Targets: []notify.Target{{Addr: addr, Version: gosnmp.Version2c, Community: community}},
		Rate: 1, Burst: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	fan := &event.Event{Host: "h", Notification: lunatrap.Fan, Assert: event.True}
	ntls := &event.Event{Host: "h", Notification: lunatrap.NTLS}
	for range 10 {
		s.Send(context.Background(), fan)
	}
	s.Send(context.Background(), ntls) // its own bucket
	now = now.Add(2 * time.Second)     // two more fan tokens
	for range 5 {
		s.Send(context.Background(), fan)
	}
	st := s.Stats()
	if st.Sent != 6 || st.RateLimited[lunatrap.Fan] != 10 || st.RateLimited[lunatrap.NTLS] != 0 {
		t.Errorf("stats %+v", st)
	}
	for range 6 {
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("datagram missing")
		}
	}
	if !strings.Contains(st.Summary(), "rate-limited: fanAttentionNotify=10") {
		t.Errorf("summary %q", st.Summary())
	}
}

func TestMissingOIDIsAClearError(t *testing.T) {
	addr, _ := udpTarget(t)
	target := []notify.Target{{Addr: addr, Version: gosnmp.Version2c, Community: community}}
	s, err := New(Config{Targets: target})
	if err != nil {
		t.Fatal(err)
	}
	if m := strings.Join(s.Missing(), ","); m != "powerSupplyAttentionNotify,motherboardAttentionNotify,cryptoAttentionNotify" {
		t.Errorf("missing %s", m)
	}
	err = s.Send(context.Background(), &event.Event{Notification: lunatrap.Crypto})
	var noOID NoOIDError
	if !errors.As(err, &noOID) || noOID.Category != lunatrap.Crypto || !strings.Contains(err.Error(), "--mibs") {
		t.Errorf("error %v", err)
	}
	if err := s.Send(context.Background(), &event.Event{Notification: "ntlAttentionNotify"}); err != nil {
		t.Errorf("the guide's ntl typo: %v", err)
	}
	// Configured OIDs complete the table.
	s, err = New(Config{Targets: target, OIDs: map[string]string{lunatrap.Crypto: "1.3.6.1.4.1.23629.1.5.2.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), &event.Event{Notification: lunatrap.Crypto}); err != nil {
		t.Error(err)
	}
	for name, oids := range map[string]map[string]string{
		"unknown name": {"fooAttentionNotify": "1.2.3"},
		"not an OID":   {lunatrap.Fan: "not-an-oid"},
	} {
		if _, err := New(Config{Targets: target, OIDs: oids}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestConfigErrorsKeepSecrets(t *testing.T) {
	bad := trapUser
	bad.PrivProto = 99
	short := trapUser
	short.AuthPass = "short"
	for name, tg := range map[string]notify.Target{
		"bad priv":   {Addr: "127.0.0.1:162", Version: gosnmp.Version3, User: &bad},
		"short pass": {Addr: "127.0.0.1:162", Version: gosnmp.Version3, User: &short},
		"no port":    {Addr: "127.0.0.1", Version: gosnmp.Version2c, Community: community},
		"v1":         {Addr: "127.0.0.1:162", Version: gosnmp.Version1, Community: community},
	} {
		_, err := New(Config{Targets: []notify.Target{tg}})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, secret := range []string{authSecret, privSecret, community, "short\""} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error quotes a secret: %v", name, err)
			}
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no target accepted")
	}
}

// TestInformRetries: an inform nobody acknowledges is sent 1 + Retries times, then fails
// naming the target.
func TestInformRetries(t *testing.T) {
	addr, got := udpTarget(t)
	s, err := New(Config{Targets: []notify.Target{{Addr: addr, Version: gosnmp.Version2c, Community: community,
		Inform: true, Timeout: 100 * time.Millisecond, Retries: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &event.Event{Host: "h", Notification: lunatrap.Fan, Assert: event.True})
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), community) {
		t.Fatalf("error %v", err)
	}
	testutil.WaitFor(t, "three datagrams", 5*time.Second, func() bool { return len(got) >= 3 })
	if n := len(got); n != 3 {
		t.Errorf("%d datagrams, want 3", n)
	}
	if st := s.Stats(); st.Failed != 1 || st.Sent != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLogFile(t *testing.T) {
	for in, want := range map[string]string{
		"/var/log/messages:12": "messages", "lunalogs:3": "lunalogs", "-:1": "messages", "": "messages",
		"[::1]:162": "messages", "archive.zip/secure:9": "secure",
	} {
		if got := logFile(in); got != want {
			t.Errorf("logFile(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSeveralTargets: every target gets each notification; one that fails (an inform
// nobody answers) is named in the error and does not keep the others from theirs.
func TestSeveralTargets(t *testing.T) {
	a, gotA := udpTarget(t)
	b, gotB := udpTarget(t)
	dead, _ := udpTarget(t)
	s, err := New(Config{Targets: []notify.Target{
		{Addr: a, Version: gosnmp.Version2c, Community: community},
		{Addr: b, Version: gosnmp.Version2c, Community: community},
		{Addr: dead, Version: gosnmp.Version2c, Community: community, Inform: true, Timeout: 50 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), &event.Event{Host: "h", Notification: lunatrap.DiskDrive})
	if err == nil || !strings.Contains(err.Error(), dead) || strings.Contains(err.Error(), a) {
		t.Errorf("error %v", err)
	}
	for _, ch := range []chan []byte{gotA, gotB} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("a target got nothing")
		}
	}
	if st := s.Stats(); st.Sent != 2 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

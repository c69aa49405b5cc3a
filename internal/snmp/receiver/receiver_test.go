package receiver

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/classify"
	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/notify"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
)

func TestV2cLunaTrapBecomesEvent(t *testing.T) {
	h := start(t, Config{Communities: anySource(community)})
	ref := "[myLuna:192.168.0.101 / 2012 Feb 29 12:05:01 / messages / NTLS[1234] / 1]"
	before := time.Now()
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, lunaVars(oidNTLS, ref)))
	ev := h.next(t)
	want := map[string]string{
		"trap": "ntlsAttentionNotify", "trap_oid": oidNTLS, "version": "2c", "log_host": "myLuna",
		"log_ip": "192.168.0.101", "log_file": "messages", "log_time": "2012 Feb 29 12:05:01",
		"process": "NTLS", "pid": "1234", "log_assert": "1", "vb.ssLogReference": ref, "uptime_ticks": "4242",
	}
	for k, v := range want {
		if got := ev.Fields.Text(k); got != v {
			t.Errorf("fields.%s = %q, want %q", k, got, v)
		}
	}
	if ev.Source != event.SourceSNMPTrap || ev.Host != "myLuna" || ev.Notification != "ntlsAttentionNotify" ||
		ev.Assert != event.True || ev.Test || ev.Time.Before(before) || ev.Time.After(time.Now()) {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if peer := ev.Fields.Text("peer"); peer != h.conn.LocalAddr().String() {
		t.Errorf("peer %q, want %q", peer, h.conn.LocalAddr())
	}
	if ev.Message != "ntlsAttentionNotify for "+ref {
		t.Errorf("message %q", ev.Message)
	}
	if j := string(ev.AppendJSON(nil)); strings.Contains(j, community) {
		t.Errorf("the community leaked into the event: %s", j)
	}
	s := h.r.Stats()
	if s.Packets != 1 || s.Events != 1 || s.RejectedTotal() != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestLunaTrapTestMarkerAndDeassert(t *testing.T) {
	h := start(t, Config{Communities: anySource(community)})
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap,
		lunaVars(oidFan, "***TEST : [myLUT:10.0.0.1  /  messages / 2014 Apr  3 15:47:30 / ipmievd / 0]")))
	ev := h.next(t)
	if !ev.Test || ev.Assert != event.False || ev.Host != "myLUT" || ev.Fields.Text("log_time") != "2014 Apr 3 15:47:30" ||
		ev.Fields.Text("process") != "ipmievd" || ev.Fields.Text("pid") != "" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
}

func TestCommunityRules(t *testing.T) {
	h := start(t, Config{Communities: []CommunityRule{
		{Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Communities: []string{"ten"}},
		{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Communities: []string{community}, Versions: []gosnmp.SnmpVersion{gosnmp.Version2c}},
	}})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	h.send(t, v2cPacket(t, "ten", gosnmp.SNMPv2Trap, vars))   // allowed from 10/8 only
	h.send(t, v2cPacket(t, "wrong", gosnmp.SNMPv2Trap, vars)) // nobody's
	v1, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version1, Community: community, PDUType: gosnmp.Trap,
		SnmpTrap: gosnmp.SnmpTrap{Enterprise: ".1.3.6.1.4.1.9999", AgentAddress: "127.0.0.1", GenericTrap: 6, SpecificTrap: 1}}).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	h.send(t, v1) // this community is v2c only
	h.rejected(t, ReasonBadCommunity, 3)
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
	if ev := h.next(t); ev.Fields.Text("trap") != "fanAttentionNotify" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if logs := h.logs.String(); strings.Contains(logs, "wrong") || strings.Contains(logs, community) || strings.Contains(logs, "ten\"") {
		t.Errorf("a community reached the log:\n%s", logs)
	}
}

func TestNoCommunitiesRefusesV1AndV2c(t *testing.T) {
	h := start(t, Config{})
	h.send(t, v2cPacket(t, "public", gosnmp.SNMPv2Trap, lunaVars(oidFan, "x")))
	h.rejected(t, ReasonBadCommunity, 1)
}

func TestV1TrapNamedByMIB(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load("../mib/testdata/good"); err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Communities: anySource(community), MIB: table})
	ent, ok := table.Resolve("HSMWATCH-TEST-MIB::hsmwatchTest")
	if !ok {
		t.Fatal("test MIB has no hsmwatchTest")
	}
	b, err := (&gosnmp.SnmpPacket{Version: gosnmp.Version1, Community: community, PDUType: gosnmp.Trap,
		SnmpTrap: gosnmp.SnmpTrap{Enterprise: ent, AgentAddress: "192.0.2.7", GenericTrap: 6, SpecificTrap: 7, Timestamp: 99}}).MarshalMsg()
	if err != nil {
		t.Fatal(err)
	}
	h.send(t, b)
	ev := h.next(t)
	if ev.Fields.Text("trap") != "testTamper" || ev.Fields.Text("trap_oid") != ent+".0.7" || ev.Fields.Text("version") != "1" ||
		ev.Fields.Text("agent_addr") != "192.0.2.7" || ev.Fields.Text("uptime_ticks") != "99" || ev.Notification != "" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
}

func TestV2cInformAcknowledged(t *testing.T) {
	h := start(t, Config{Communities: anySource(community)})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	err := notify.Send(context.Background(), notify.Target{Addr: h.addr(), Version: gosnmp.Version2c, Community: community,
		Inform: true, Timeout: 2 * time.Second, Retries: 1}, notify.Engine{}, nil, vars)
	if err != nil {
		t.Fatal(err)
	}
	ev := h.next(t)
	if ev.Fields.Text("inform") != "true" || ev.Fields.Text("trap") != "fanAttentionNotify" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if s := h.r.Stats(); s.Acknowledged != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUnknownTrapKeptRaw(t *testing.T) {
	h := start(t, Config{Communities: anySource(community)})
	vars := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: ".1.3.6.1.4.1.41054.3.0.9"},
		{Name: ".1.3.6.1.4.1.41054.3.1.1", Type: gosnmp.OctetString, Value: "HSM rebooted"},
		{Name: ".1.3.6.1.4.1.41054.3.1.2", Type: gosnmp.Integer, Value: -5},
		{Name: ".1.3.6.1.4.1.41054.3.1.3", Type: gosnmp.OctetString, Value: []byte{0x80, 0x00, 0xff}},
		{Name: ".1.3.6.1.2.1.2.2.1.8.3", Type: gosnmp.Integer, Value: 2},
		{Name: ".1.3.6.1.4.1.41054.3.1.4", Type: gosnmp.Counter64, Value: uint64(1) << 40},
	}
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
	ev := h.next(t)
	want := map[string]string{
		"trap": "", "trap_oid": ".1.3.6.1.4.1.41054.3.0.9",
		"vb.1.3.6.1.4.1.41054.3.1.1": "HSM rebooted", "vb.1.3.6.1.4.1.41054.3.1.2": "-5",
		"vb.1.3.6.1.4.1.41054.3.1.3": "0x8000ff", "vb.ifOperStatus.3": "down(2)",
		"vb.1.3.6.1.4.1.41054.3.1.4": "1099511627776",
	}
	for k, v := range want {
		if got := ev.Fields.Text(k); got != v {
			t.Errorf("fields.%s = %q, want %q", k, got, v)
		}
	}
	if ev.Notification != "" || ev.Host != "127.0.0.1" || !strings.HasPrefix(ev.Raw, "v2c trap from 127.0.0.1:") {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
}

// TestDinamoNamedOnlyByMIB: a Dinamo trap is raw without a MIB, and with one carries the
// MIB's notification name, which the dinamo-traps.yaml rules classify.
func TestDinamoNamedOnlyByMIB(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load("testdata/mibs"); err != nil {
		t.Fatal(err)
	}
	oid, ok := table.Resolve("HSMWATCH-DINAMO-TEST-MIB::hsmReboot")
	if !ok {
		t.Fatal("test MIB has no hsmReboot")
	}
	vars := []gosnmp.SnmpPDU{
		{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
		{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: oid},
	}
	bare := start(t, Config{Communities: anySource(community)})
	bare.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
	if ev := bare.next(t); ev.Fields.Text("trap") != "" || ev.Notification != "" || ev.Fields.Text("trap_oid") != oid {
		t.Errorf("without a MIB: %s", ev.AppendJSON(nil))
	}
	named := start(t, Config{Communities: anySource(community), MIB: table})
	named.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
	ev := named.next(t)
	if ev.Fields.Text("trap") != "hsmReboot" || ev.Notification != "hsmReboot" {
		t.Fatalf("with the MIB: %s", ev.AppendJSON(nil))
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	if r := cat.Classify(ev); r == nil || r.ID != "dinamo.trap.hsm-reboot" || ev.Component != "dinamo" {
		t.Errorf("classified as %v: %s", r, ev.AppendJSON(nil))
	}
}

// TestLunaTrapsClassify: each of the six notifications, received with the stand-in
// OIDs a loaded MIB gives, classifies by luna-traps.yaml; the de-assert clears at info.
func TestLunaTrapsClassify(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load("testdata/mibs"); err != nil {
		t.Fatal(err)
	}
	cat, err := classify.Load()
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Communities: anySource(community), MIB: table})
	for _, c := range []struct {
		name, component, level string
	}{
		{"fanAttentionNotify", "ipmi", "major"}, {"powerSupplyAttentionNotify", "ipmi", "critical"},
		{"motherboardAttentionNotify", "ipmi", "critical"}, {"diskDriveAttentionNotify", "smart", "major"},
		{"ntlsAttentionNotify", "ntls", "critical"}, {"cryptoAttentionNotify", "hsm", "critical"},
	} {
		oid, ok := table.Resolve("SAFENET-APPLIANCE-MIB::" + c.name)
		if !ok {
			t.Fatalf("no OID for %s", c.name)
		}
		for _, flag := range []string{"1", "0"} {
			h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, lunaVars(oid, "[myLuna:10.1.1.1 / messages / 2012 Feb 29 12:05:01 / p[1] / "+flag+"]")))
			ev := h.next(t)
			r := cat.Classify(ev)
			wantLevel, wantAssert := c.level, event.True
			if flag == "0" {
				wantLevel, wantAssert = "info", event.False
			}
			if r == nil || ev.Component != c.component || ev.Level != wantLevel || ev.Assert != wantAssert || ev.Notification != c.name {
				t.Errorf("%s flag %s: rule %v: %s", c.name, flag, r, ev.AppendJSON(nil))
			}
		}
	}
}

func TestV3Trap(t *testing.T) {
	authOnly := usm.User{Name: "authonly", AuthProto: gosnmp.SHA256, AuthPass: authSecret}
	h := start(t, Config{MinLevel: AuthNoPriv, Users: []User{
		{User: privUser, EngineIDs: [][]byte{senderEngine}, MinLevel: AuthPriv},
		{User: authOnly, EngineIDs: [][]byte{senderEngine}},
	}})
	vars := lunaVars(oidNTLS, "[myLuna:192.168.0.101 / messages / 2012 Feb 29 12:05:01 / NTLS[1] / 1]")
	h.send(t, v3Packet(t, privUser, senderEngine, 3, 1000, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	ev := h.next(t)
	if ev.Fields.Text("user") != "pete" || ev.Fields.Text("version") != "3" || ev.Fields.Text("engine_id") != "80001f88046c756e612d74657374" ||
		ev.Notification != "ntlsAttentionNotify" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	h.send(t, v3Packet(t, authOnly, senderEngine, 3, 1001, gosnmp.AuthNoPriv, gosnmp.SNMPv2Trap, vars))
	if ev := h.next(t); ev.Fields.Text("user") != "authonly" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}

	bad := privUser
	bad.AuthPass = "not-the-passphrase"
	h.send(t, v3Packet(t, bad, senderEngine, 3, 1002, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.rejected(t, ReasonWrongDigest, 1)
	badPriv := privUser
	badPriv.PrivPass = "not-the-privacy-phrase"
	h.send(t, v3Packet(t, badPriv, senderEngine, 3, 1002, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.rejected(t, ReasonDecryption, 1)
	h.send(t, v3Packet(t, privUser, otherEngine, 3, 1002, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.rejected(t, ReasonUnknownEngineID, 1)
	h.send(t, v3Packet(t, privUser, senderEngine, 3, 1002, gosnmp.AuthNoPriv, gosnmp.SNMPv2Trap, vars))   // below pete's minimum
	h.send(t, v3Packet(t, usm.User{Name: "authonly"}, senderEngine, 3, 1002, 0, gosnmp.SNMPv2Trap, vars)) // below the global one
	h.rejected(t, ReasonSecLevel, 2)
	stranger := privUser
	stranger.Name = "stranger"
	h.send(t, v3Packet(t, stranger, senderEngine, 3, 1002, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.rejected(t, ReasonUnknownUser, 1)
	// An inform signed under the sender's engine: informs are authoritative here.
	h.send(t, v3Packet(t, privUser, senderEngine, 3, 1002, gosnmp.AuthPriv, gosnmp.InformRequest, vars))
	h.rejected(t, ReasonUnexpectedPDU, 1)
	if logs := h.logs.String(); strings.Contains(logs, authSecret) || strings.Contains(logs, privSecret) || strings.Contains(logs, "not-the-pass") {
		t.Errorf("a passphrase reached the log:\n%s", logs)
	}
}

// TestV3ReplayWindow: per sender engine ID, boots must not go back and, at the same
// boots, time must not fall more than 150 s behind what the engine sent before.
func TestV3ReplayWindow(t *testing.T) {
	h := start(t, Config{Users: []User{{User: privUser, EngineIDs: [][]byte{senderEngine}}}})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	send := func(boots, secs uint32) {
		h.send(t, v3Packet(t, privUser, senderEngine, boots, secs, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	}
	send(5, 1000)
	h.next(t)
	send(4, 5000) // boots went back
	h.rejected(t, ReasonNotInTimeWindow, 1)
	send(5, 849) // 151 s behind
	h.rejected(t, ReasonNotInTimeWindow, 2)
	send(5, 850) // within the window
	h.next(t)
	send(6, 1) // a reboot
	h.next(t)
	send(5, 2000) // the previous life, replayed
	h.rejected(t, ReasonNotInTimeWindow, 3)
	// Captured traffic replayed byte for byte after the window has moved on.
	old := v3Packet(t, privUser, senderEngine, 6, 2, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars)
	send(6, 400)
	h.next(t)
	h.send(t, old)
	h.rejected(t, ReasonNotInTimeWindow, 4)
}

func TestReplayWindowFollowsTheClock(t *testing.T) {
	w := newReplayWindow()
	t0 := time.Unix(1_000_000, 0)
	if w.admit("e", 1, 100, 7, t0) != replayNew {
		t.Fatal("first message refused")
	}
	if v := w.admit("e", 1, 100, 7, t0.Add(time.Second)); v != replaySeen {
		t.Errorf("the same message again: %v, want replaySeen", v)
	}
	if w.admit("e", 1, 100, 8, t0.Add(time.Second)) != replayNew {
		t.Error("another msgID at the same time refused")
	}
	// 200 s later the engine's time is about 300: 140 is 160 s behind it.
	if w.admit("e", 1, 140, 9, t0.Add(200*time.Second)) != replayStale {
		t.Error("a message 160 s behind the notion was admitted")
	}
	if w.admit("e", 1, 160, 9, t0.Add(200*time.Second)) != replayNew {
		t.Error("a message 140 s behind the notion was refused")
	}
	if w.admit("e", 2, 100, 7, t0.Add(200*time.Second)) != replayNew {
		t.Error("the same time and msgID after a reboot refused")
	}
	if w.admit("e", usm.MaxBoots, 1, 1, t0) != replayStale {
		t.Error("latched boots admitted")
	}
}

func TestNoTimelinessForLuna(t *testing.T) {
	h := start(t, Config{Users: []User{{User: privUser, EngineIDs: [][]byte{senderEngine}, NoTimeliness: true}}})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	h.send(t, v3Packet(t, privUser, senderEngine, 5, 1000, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.next(t)
	h.send(t, v3Packet(t, privUser, senderEngine, 0, 0, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	h.next(t)
}

// TestV3InformWithDiscovery: gosnmp's client discovers this engine (a Report with its
// engine ID, boots and time), then informs at authPriv and gets the Response.
func TestV3InformWithDiscovery(t *testing.T) {
	h := start(t, Config{MinLevel: AuthPriv, Users: []User{{User: privUser}}})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	u := privUser
	err := notify.Send(context.Background(), notify.Target{Addr: h.addr(), Version: gosnmp.Version3, User: &u,
		Inform: true, Timeout: 2 * time.Second, Retries: 1}, notify.Engine{}, nil, vars)
	if err != nil {
		t.Fatal(err)
	}
	ev := h.next(t)
	if ev.Fields.Text("inform") != "true" || ev.Fields.Text("user") != "pete" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	if s := h.r.Stats(); s.Acknowledged != 1 || s.Discoveries < 1 {
		t.Errorf("stats %+v", s)
	}

	// With a wrong passphrase the inform is refused (a Report, not a Response): the
	// sender gives up, and no event comes out.
	bad := privUser
	bad.AuthPass = "not-the-passphrase"
	err = notify.Send(context.Background(), notify.Target{Addr: h.addr(), Version: gosnmp.Version3, User: &bad,
		Inform: true, Timeout: 300 * time.Millisecond, Retries: 0}, notify.Engine{}, nil, vars)
	if err == nil {
		t.Fatal("an inform with a wrong passphrase was acknowledged")
	}
	h.rejected(t, ReasonWrongDigest, h.r.Stats().Rejected["wrong_digest"])
	if h.r.Stats().Rejected["wrong_digest"] == 0 {
		t.Error("wrong digest not counted")
	}
}

// TestV3InformNotInTimeWindow: an authenticated inform with stale boots gets an
// authenticated notInTimeWindow Report, so that the sender can resynchronise.
func TestV3InformNotInTimeWindow(t *testing.T) {
	h := start(t, Config{Users: []User{{User: privUser}}})
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	pkt := v3Packet(t, privUser, h.r.EngineID(), 1, 0, gosnmp.AuthPriv|gosnmp.Reportable, gosnmp.InformRequest, vars)
	h.send(t, pkt)
	h.rejected(t, ReasonNotInTimeWindow, 1)
	buf := make([]byte, 65535)
	h.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := h.conn.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := usm.ParseMessage(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	boots, _ := h.r.bootsTime()
	if m.Level() != usm.FlagAuth || string(m.EngineID) != string(h.r.EngineID()) || m.Boots != int64(boots) {
		t.Errorf("report flags %#x engine %x boots %d", m.Flags, m.EngineID, m.Boots)
	}
}

func TestMalformedCountedAndLoggedOncePerMinute(t *testing.T) {
	h := start(t, Config{Communities: anySource(community)})
	for _, pkt := range [][]byte{
		{}, {0x30}, {0x30, 0x03, 0x02, 0x01, 0x09}, // empty, truncated, version 9
		[]byte("not SNMP at all"),
		{0x30, 0x05, 0x02, 0x01, 0x01, 0x04, 0x00}, // v2c, empty community (refused)
	} {
		h.send(t, pkt)
	}
	h.rejected(t, ReasonMalformed, 3)
	h.rejected(t, ReasonBadVersion, 1)
	h.rejected(t, ReasonBadCommunity, 1)
	if n := strings.Count(h.logs.String(), "notification refused"); n != 1 {
		t.Errorf("%d log lines for one peer within a minute, want 1:\n%s", n, h.logs.String())
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no address":     {},
		"empty rule":     {Addr: "127.0.0.1:0", Communities: []CommunityRule{{}}},
		"v3 community":   {Addr: "127.0.0.1:0", Communities: []CommunityRule{{Communities: []string{"x"}, Versions: []gosnmp.SnmpVersion{gosnmp.Version3}}}},
		"short engine":   {Addr: "127.0.0.1:0", Users: []User{{User: privUser, EngineIDs: [][]byte{{1, 2}}}}},
		"duplicate user": {Addr: "127.0.0.1:0", Users: []User{{User: privUser}, {User: privUser}}},
		"short pass":     {Addr: "127.0.0.1:0", Users: []User{{User: usm.User{Name: "u", AuthProto: gosnmp.SHA, AuthPass: "short"}}}},
		"zero engine":    {Addr: "127.0.0.1:0", EngineID: make([]byte, 8)},
	} {
		r, err := New(cfg)
		if err == nil {
			r.Close()
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), authSecret) || strings.Contains(err.Error(), "short\"") {
			t.Errorf("%s: error quotes a secret: %v", name, err)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"noAuthNoPriv": NoAuthNoPriv, "authnopriv": AuthNoPriv, "priv": AuthPriv} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("%s: %v, %v", in, got, err)
		}
	}
	if _, err := ParseLevel("secret"); err == nil {
		t.Error("bad level accepted")
	}
}

// TestSelfNamingTextIsTheMessage: a trap whose only variable's text already starts with the
// trap's name (a Dinamo's dinamoTrapEventText) has that text as its message, not the name
// followed by the same text again; a text that names something else keeps the summary.
func TestSelfNamingTextIsTheMessage(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load("testdata/mibs"); err != nil {
		t.Fatal(err)
	}
	oid, ok := table.Resolve("HSMWATCH-DINAMO-TEST-MIB::hsmReboot")
	if !ok {
		t.Fatal("test MIB has no hsmReboot")
	}
	r := start(t, Config{Communities: anySource(community), MIB: table})
	for _, c := range []struct{ text, want string }{
		{"hsmReboot: the HSM restarts", "hsmReboot: the HSM restarts"},
		{"hsmReboot", "hsmReboot"},
		{"hsmRebooted twice", "hsmReboot: "},
		{"power cycle", "hsmReboot: "},
	} {
		vars := []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
			{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: oid},
			{Name: ".1.3.6.1.4.1.99999.1.1.0", Type: gosnmp.OctetString, Value: []byte(c.text)},
		}
		r.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
		ev := r.next(t)
		if strings.HasSuffix(c.want, ": ") {
			if !strings.HasPrefix(ev.Message, c.want) || !strings.Contains(ev.Message, c.text) {
				t.Errorf("text %q: message %q, want the name, then the variable", c.text, ev.Message)
			}
		} else if ev.Message != c.want {
			t.Errorf("text %q: message %q, want %q", c.text, ev.Message, c.want)
		}
	}
}

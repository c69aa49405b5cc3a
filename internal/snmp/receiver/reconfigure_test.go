package receiver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/snmp/mib"
	"github.com/hsmwatch/hsmwatch/internal/snmp/usm"
	"github.com/hsmwatch/hsmwatch/internal/testutil"
	"github.com/hsmwatch/hsmwatch/internal/testutil/sourcetest"
)

const (
	// oidSeq and oidProbe are varbinds no MIB names: they carry a streamed trap's number
	// and a probe's name whatever the MIB in force.
	oidSeq   = ".1.3.6.1.4.1.99999.1.1"
	oidProbe = ".1.3.6.1.4.1.99999.1.2"
	retired  = "retired-c0mmunity"
)

var (
	authOnlyUser = usm.User{Name: "authonly", AuthProto: gosnmp.SHA256, AuthPass: authSecret}
	newbieUser   = usm.User{Name: "newbie", AuthProto: gosnmp.SHA, AuthPass: "newbie-auth-s3cret", PrivProto: gosnmp.AES, PrivPass: "newbie-priv-s3cret"}
)

// trapPhase is what phase i of TestReconfigureWhileSending admits. Every phase keeps the
// streams' community and user; the MIB alternates (even phases name Dinamo traps, odd
// ones do not) and Prepare marks each event with its phase, so that an event shows which
// settings it was handled with, and that naming and Prepare came from the same ones.
type trapPhase struct {
	retired, newbie bool  // the retired community, the newbie user admitted
	minLevel        Level // authonly sends at authNoPriv
}

var trapPhases = []trapPhase{
	{retired: true, minLevel: NoAuthNoPriv},
	{newbie: true, minLevel: NoAuthNoPriv},
	{minLevel: AuthPriv},
	{retired: true, newbie: true, minLevel: NoAuthNoPriv},
	{minLevel: AuthNoPriv},
}

func (p trapPhase) config(i int, table *mib.Table) Config {
	cfg := Config{Addr: "127.0.0.1:0", MinLevel: p.minLevel, Communities: anySource(community),
		Users:   []User{{User: privUser, EngineIDs: [][]byte{senderEngine}}, {User: authOnlyUser, EngineIDs: [][]byte{senderEngine}}},
		Prepare: func(ev *event.Event) { ev.Fields.SetString("phase", strconv.Itoa(i)) }}
	if i%2 == 0 {
		cfg.MIB = table
	}
	if p.retired {
		cfg.Communities = anySource(community, retired)
	}
	if p.newbie {
		cfg.Users = append(cfg.Users, User{User: newbieUser, EngineIDs: [][]byte{senderEngine}})
	}
	return cfg
}

// fitsPhase tells whether ev was handled under phase i's settings, all of them.
func fitsPhase(i int, ev *event.Event) bool {
	named := ev.Fields.Text("trap") == "hsmReboot"
	return ev.Fields.Text("phase") == strconv.Itoa(i) && named == (i%2 == 0)
}

// TestReconfigureWhileSending streams numbered v2c and v3 authPriv traps while the
// receiver is reconfigured four times. Every trap arrives exactly once; every trap sent
// after a call returned is handled under its settings (its Prepare, its MIB), one set per
// datagram; and probes after each call show the rest took effect: a removed community is
// refused and counted, an added v3 user accepted, a removed one refused, a raised
// minimum level refuses authNoPriv.
func TestReconfigureWhileSending(t *testing.T) {
	table := mib.Builtin()
	if err := table.Load("testdata/mibs"); err != nil {
		t.Fatal(err)
	}
	reboot, ok := table.Resolve("HSMWATCH-DINAMO-TEST-MIB::hsmReboot")
	if !ok {
		t.Fatal("test MIB has no hsmReboot")
	}
	vars := func(oid, value string) []gosnmp.SnmpPDU {
		return []gosnmp.SnmpPDU{
			{Name: ".1.3.6.1.2.1.1.3.0", Type: gosnmp.TimeTicks, Value: uint32(1)},
			{Name: ".1.3.6.1.6.3.1.1.4.1.0", Type: gosnmp.ObjectIdentifier, Value: reboot},
			{Name: oid, Type: gosnmp.OctetString, Value: value},
		}
	}
	h := start(t, trapPhases[0].config(0, table))

	var streams []*sourcetest.Stream
	for _, name := range []string{"v2c", "v3"} {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// Numbered traps from a socket of the stream's own, at most 64 unanswered.
		streams = append(streams, sourcetest.NewStream(name, 64, 10*time.Second, func(n int) error {
			seq := vars(oidSeq, fmt.Sprint(name, " ", n))
			var pkt []byte
			if name == "v2c" {
				pkt = v2cPacket(t, community, gosnmp.SNMPv2Trap, seq)
			} else {
				pkt = v3PacketID(t, privUser, senderEngine, 3, 1000, uint32(n), gosnmp.AuthPriv, gosnmp.SNMPv2Trap, seq)
			}
			_, err := c.WriteTo(pkt, h.r.Addr())
			return err
		}))
	}

	probes := make(chan *event.Event, 100)
	var strays atomic.Int64
	collect := sourcetest.Collect(t, h.events, func(ev *event.Event) {
		if p := ev.Fields.Text("vb." + strings.TrimPrefix(oidProbe, ".")); p != "" {
			probes <- ev
			return
		}
		f := strings.Fields(ev.Fields.Text("vb." + strings.TrimPrefix(oidSeq, ".")))
		if len(f) != 2 {
			strays.Add(1)
			return
		}
		n, err := strconv.Atoi(f[1])
		for _, s := range streams {
			if s.Name == f[0] && err == nil {
				s.Add(n, ev)
				return
			}
		}
		strays.Add(1)
	})
	send := sourcetest.Send(t, streams...)

	// probe sends the three probes of phase i and checks each is admitted or refused as
	// the phase says; want counts the refusals so far by reason.
	want := map[Reason]uint64{}
	accepted := 0
	probe := func(i int) {
		t.Helper()
		p := trapPhases[i]
		for _, c := range []struct {
			name   string
			pkt    []byte
			admit  bool
			reason Reason
		}{
			{"retired community", v2cPacket(t, retired, gosnmp.SNMPv2Trap, vars(oidProbe, fmt.Sprint("retired ", i))), p.retired, ReasonBadCommunity},
			{"newbie", v3Packet(t, newbieUser, senderEngine, 3, 1000, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars(oidProbe, fmt.Sprint("newbie ", i))), p.newbie, ReasonUnknownUser},
			{"authNoPriv", v3Packet(t, authOnlyUser, senderEngine, 3, 1000, gosnmp.AuthNoPriv, gosnmp.SNMPv2Trap, vars(oidProbe, fmt.Sprint("authNoPriv ", i))), p.minLevel <= AuthNoPriv, ReasonSecLevel},
		} {
			h.send(t, c.pkt)
			if !c.admit {
				want[c.reason]++
				testutil.WaitFor(t, fmt.Sprintf("phase %d: %s refused", i, c.name), 10*time.Second, func() bool {
					return h.r.Stats().Rejected[c.reason.String()] >= want[c.reason]
				})
				continue
			}
			accepted++
			select {
			case ev := <-probes:
				if !fitsPhase(i, ev) || ev.Fields.Text("vb.1.3.6.1.4.1.99999.1.2") != fmt.Sprint(strings.Fields(c.name)[0], " ", i) {
					t.Fatalf("phase %d: %s: %s", i, c.name, ev.AppendJSON(nil))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("phase %d: %s not admitted; stats %+v", i, c.name, h.r.Stats())
			}
		}
	}

	calls := len(trapPhases) - 1
	settle := func() {
		t.Helper()
		for _, s := range streams {
			s.Settle(t, 30)
		}
	}
	probe(0)
	settle()
	for i := 1; i <= calls; i++ {
		if err := h.r.Reconfigure(trapPhases[i].config(i, table)); err != nil {
			t.Fatalf("Reconfigure %d: %v", i, err)
		}
		for _, s := range streams {
			s.NextPhase()
		}
		probe(i)
		settle()
	}
	send()
	for _, s := range streams {
		s.WaitAll(t)
	}
	collect()

	var sent uint64
	for _, s := range streams {
		sent += uint64(s.Sent())
		s.Check(t, fitsPhase)
	}
	if n := strays.Load(); n != 0 {
		t.Errorf("%d events of no stream", n)
	}
	st := h.r.Stats()
	if st.Events != sent+uint64(accepted) || st.RejectedTotal() != want[ReasonBadCommunity]+want[ReasonUnknownUser]+want[ReasonSecLevel] {
		t.Errorf("stats %+v; sent %d + %d probes admitted, refusals %v", st, sent, accepted, want)
	}
	for r, n := range want {
		if st.Rejected[r.String()] != n {
			t.Errorf("%s: %d, want %d", r, st.Rejected[r.String()], n)
		}
	}
	if logs := h.logs.String(); strings.Contains(logs, retired) || strings.Contains(logs, "s3cret") {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

// TestReconfigureRefused: a Config that New would refuse, or one that changes what is
// fixed at New (socket, pool, buffer, engine), is refused without quoting a secret, and
// the receiver keeps admitting what it admitted.
func TestReconfigureRefused(t *testing.T) {
	good := Config{Addr: "127.0.0.1:0", Communities: anySource(community), Users: []User{{User: privUser, EngineIDs: [][]byte{senderEngine}}}}
	h := start(t, good)
	other, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	change := func(f func(*Config)) Config {
		cfg := good
		cfg.Communities, cfg.Users = anySource("instead"), nil // would show if applied
		f(&cfg)
		return cfg
	}
	shortPass := privUser
	shortPass.AuthPass = "sh0rt"
	for _, tc := range []struct {
		name     string
		cfg      Config
		inPlace  bool
		mentions string
	}{
		{"addr", change(func(c *Config) { c.Addr = "127.0.0.1:1" }), true, "addr"},
		{"conn", change(func(c *Config) { c.Conn = other }), true, "conn"},
		{"workers", change(func(c *Config) { c.Workers = 8 }), true, "workers"},
		{"queue", change(func(c *Config) { c.Queue = 10 }), true, "queue"},
		{"read buffer", change(func(c *Config) { c.ReadBuffer = 1 << 20 }), true, "read buffer"},
		{"engine ID", change(func(c *Config) { c.EngineID = otherEngine }), true, "engine ID"},
		{"engine boots", change(func(c *Config) { c.EngineBoots = 7 }), true, "engine boots"},
		{"empty rule", change(func(c *Config) { c.Communities = []CommunityRule{{}} }), false, "rule 1"},
		{"long community", change(func(c *Config) {
			c.Communities = []CommunityRule{{Communities: []string{"s3cret-" + strings.Repeat("x", 300)}}}
		}), false, "rule 1"},
		{"duplicate user", change(func(c *Config) { c.Users = []User{{User: privUser}, {User: privUser}} }), false, "pete"},
		{"short passphrase", change(func(c *Config) { c.Users = []User{{User: shortPass}} }), false, "pete"},
		{"level", change(func(c *Config) { c.MinLevel = AuthPriv + 1 }), false, "level"},
	} {
		err := h.r.Reconfigure(tc.cfg)
		if sourcetest.Refused(t, tc.name, err, ErrNotReconfigurable, tc.inPlace, tc.mentions) &&
			(strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "sh0rt") || strings.Contains(err.Error(), "xxx")) {
			t.Errorf("%s: the error quotes a secret: %v", tc.name, err)
		}
	}
	vars := lunaVars(oidFan, "[h:1.2.3.4 / messages / 2012 Feb 29 12:05:01 / ipmievd / 1]")
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, vars))
	h.next(t)
	h.send(t, v3Packet(t, privUser, senderEngine, 3, 1000, gosnmp.AuthPriv, gosnmp.SNMPv2Trap, vars))
	if ev := h.next(t); ev.Fields.Text("user") != "pete" {
		t.Errorf("event %s", ev.AppendJSON(nil))
	}
	h.send(t, v2cPacket(t, "instead", gosnmp.SNMPv2Trap, vars))
	h.rejected(t, ReasonBadCommunity, 1)

	// What New filled in or derived may be written out, or left to New's defaults again.
	same := good
	same.Workers, same.Queue, same.ReadBuffer, same.EngineID = defaultWorkers, defaultQueue, defaultReadBuffer, h.r.EngineID()
	if err := h.r.Reconfigure(same); err != nil {
		t.Errorf("the running values written out: %v", err)
	}
	if err := h.r.Reconfigure(good); err != nil {
		t.Errorf("the same Config again: %v", err)
	}
}

// TestReconfigureAdoptedConn: a receiver given its socket keeps it only when
// Reconfigure is given the same one.
func TestReconfigureAdoptedConn(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Conn: c})
	if err := h.r.Reconfigure(Config{Addr: c.LocalAddr().String(), Communities: anySource(community)}); !errors.Is(err, ErrNotReconfigurable) {
		t.Errorf("the socket's address instead of the socket: %v", err)
	}
	if err := h.r.Reconfigure(Config{Conn: c, Communities: anySource(community)}); err != nil {
		t.Fatal(err)
	}
	h.send(t, v2cPacket(t, community, gosnmp.SNMPv2Trap, lunaVars(oidFan, "x")))
	h.next(t)
}

package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/parse"
)

func TestStepAddr(t *testing.T) {
	for _, c := range []struct {
		addr, step string
		i          int
		want, err  string
	}{
		{"127.0.0.1:1161", "", 0, "127.0.0.1:1161", ""},
		{"127.0.0.1:1161", "port", 5, "127.0.0.1:1166", ""},
		{"127.0.0.1:0", "port", 5, "127.0.0.1:0", ""},
		{"127.0.0.1:161", "ip", 1, "127.0.0.2:161", ""},
		{"127.0.0.250:161", "ip", 10, "127.0.1.4:161", ""},
		{"127.0.0.1:65535", "port", 1, "", "past 65535"},
		{"[::1]:161", "ip", 1, "", "IPv4"},
		{"127.0.0.1", "", 0, "", "missing port"},
		{"127.0.0.1:1", "sideways", 1, "", "use port or ip"},
	} {
		got, err := stepAddr(c.addr, c.step, c.i)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("stepAddr(%s, %s, %d): error %v, want %q", c.addr, c.step, c.i, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("stepAddr(%s, %s, %d) = %s, %v; want %s", c.addr, c.step, c.i, got, err, c.want)
		}
	}
}

func TestUserConfig(t *testing.T) {
	u, err := UserConfig{Name: "ops", AuthPass: "authpass1", PrivPass: "privpass1"}.User()
	if err != nil || u.AuthProto != gosnmp.SHA || u.PrivProto != gosnmp.AES {
		t.Errorf("default protocols: %+v %v", u, err)
	}
	if securityLevel(u) != "ops (authPriv SHA/AES)" || strings.Contains(securityLevel(u), "pass") {
		t.Errorf("securityLevel = %q", securityLevel(u))
	}
	for _, c := range []struct {
		u    UserConfig
		want string
	}{
		{UserConfig{Name: "a", AuthPass: "short"}, "shorter than 8"},
		{UserConfig{Name: "a", PrivPass: "privpass1"}, "needs an authentication"},
		{UserConfig{Name: "a", AuthPass: "authpass1", Auth: "CRC"}, "authentication protocol"},
		{UserConfig{Name: "a", AuthPass: "authpass1", PrivPass: "privpass1", Priv: "ROT13"}, "privacy protocol"},
		{UserConfig{}, "no name"},
	} {
		_, err := c.u.User()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.u, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "authpass1") || strings.Contains(err.Error(), "privpass1")) {
			t.Errorf("error shows a passphrase: %v", err)
		}
	}
}

func TestFleetConfigErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"", "empty"},
		{"hsms:\n  - vendor: dinamo\n    adress: x\n", "field adress not found"},
		{"hsms:\n  - vendor: ibm\n    addr: 127.0.0.1:0\n", "use dinamo or luna"},
		{"hsms:\n  - vendor: luna\n    addr: 127.0.0.1:0\n", "SNMPv3 only"},
		{"trap_targets: [a:1, b:1, c:1, d:1, e:1]\nhsms:\n  - vendor: dinamo\n    addr: 127.0.0.1:0\n", "at most 4"},
		{"hsms:\n  - vendor: dinamo\n    addr: 127.0.0.1:0\n    scenarios: [luna-fan-failure]\n", "for luna HSMs"},
		{"hsms:\n  - vendor: dinamo\n    addr: 127.0.0.1:0\n    users: [{name: x}]\n", "Luna settings"},
		{"hsms:\n  - {vendor: dinamo, addr: 127.0.0.1:0, name: a}\n  - {vendor: dinamo, addr: 127.0.0.1:0, name: a}\n", "two HSMs are named a"},
	} {
		cfg, err := ParseFleetConfig([]byte(c.yaml))
		if err == nil {
			var f *Fleet
			f, err = NewFleet(cfg, FleetOptions{})
			if err == nil {
				f.Close()
			}
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestExampleFleet builds the shipped example fleet (without listening: its ports may
// be taken on the test machine) and checks that no listing shows a passphrase.
func TestExampleFleet(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "examples", "sim")
	data, err := os.ReadFile(filepath.Join(dir, "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseFleetConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ResolvePaths(dir)
	for i := range cfg.HSMs { // log files into the test's folder
		h := &cfg.HSMs[i]
		if h.EventLog != "" {
			h.EventLog = filepath.Join(t.TempDir(), filepath.Base(h.EventLog))
		}
		if h.LogFile != "" {
			h.LogFile = filepath.Join(t.TempDir(), filepath.Base(h.LogFile))
		}
	}
	f, err := NewFleet(cfg, FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.Members()) < 4 {
		t.Errorf("%d HSMs", len(f.Members()))
	}
	for _, m := range f.Members() {
		d := m.Describe()
		for _, h := range cfg.HSMs {
			for _, u := range h.Users {
				if strings.Contains(d, u.AuthPass) || strings.Contains(d, u.PrivPass) && u.PrivPass != "" {
					t.Errorf("listing shows a passphrase: %s", d)
				}
			}
		}
	}
	sc, err := LoadScenario(filepath.Join(dir, "scenario-custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat := loadCatalog(t)
	dev, all := play(t, sc)
	classifyAll(t, cat, all)
	if l, ok := dev.(*Luna); ok {
		checkLunaTraps(t, l, all, classifyAll(t, cat, all))
	}
}

// TestDinamoActivity ticks a Dinamo through an hour: its session lines parse and
// classify, and sessionCount and logSize agree with what the log holds.
func TestDinamoActivity(t *testing.T) {
	clock := NewManual(t0)
	d := testDinamo(clock)
	rec := &recorder{}
	bind(d, rec)
	start := num(t, get(t, d, dinamoTable, "logSize", ""))
	bytes := start
	opened := 0
	cat := loadCatalog(t)
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC})
	for i := 0; i < 360; i++ {
		clock.Add(10 * time.Second)
		d.Tick(t.Context())
		for _, e := range rec.take() {
			if e.Log == nil {
				t.Fatal("activity sent a trap")
			}
			bytes += int64(len(e.Log.Line()) + 1)
			if strings.Contains(e.Log.Message, " auth ok, ") {
				opened++
			}
			var ev event.Event
			parse.Into(p, e.Log.Line(), &ev)
			if r := cat.Classify(&ev); ev.Source != event.SourceDinamoLog || r == nil {
				t.Fatalf("%q: %s %v", e.Log.Line(), ev.Source, r)
			}
		}
		wantNum(t, d, dinamoTable, "logSize", "", bytes)
		d.mu.Lock()
		n := len(d.sessions)
		d.mu.Unlock()
		wantNum(t, d, dinamoTable, "sessionCount", "", int64(n))
	}
	if opened < 10 {
		t.Errorf("%d sessions opened in an hour", opened)
	}
}

func TestSyslogSinks(t *testing.T) {
	ctx := t.Context()
	rec := &LogRecord{Vendor: VendorLuna, Time: t0, Host: "myLuna", Facility: "local5", Severity: "crit", Process: "NTLS",
		PID: 1234, SpacedPID: true, Message: "info : 0 : NTLS CRASH AND BURN! Stack dump saved to /var/log/ntls_bt_2026-11-22_10:00:00"}
	p, _ := parse.New(parse.Auto, parse.Options{Location: time.UTC, Reference: t0})
	check := func(line, source string) {
		t.Helper()
		var ev event.Event
		parse.Into(p, line, &ev)
		if ev.Source != source || ev.Process != "NTLS" || ev.PID != 1234 || !ev.Time.Equal(t0) || ev.Host != "myLuna" {
			t.Errorf("%q: source %s process %s pid %d time %v host %s", line, ev.Source, ev.Process, ev.PID, ev.Time, ev.Host)
		}
	}

	// UDP: one datagram per line
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, format := range []string{FormatLuna, FormatRFC5424} {
		s, err := NewSyslogSink("udp://"+pc.LocalAddr().String(), format)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteLog(ctx, rec); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{FormatLuna: event.SourceLunaSyslog, FormatRFC5424: event.SourceRFC5424}[format]
		if got := string(buf[:n]); got != FormatLine(rec, format) {
			t.Errorf("udp %s: %q", format, got)
		} else {
			check(got, want)
		}
		s.Close()
	}
	if got := FormatLine(rec, FormatRFC5424); !strings.HasPrefix(got, "<170>1 2026-11-22T10:00:00.000000Z myLuna NTLS 1234 - - info : 0 : NTLS CRASH") {
		t.Errorf("RFC 5424 line %q (local5.crit is <170>)", got)
	}

	// TCP: newline framing for the file format, octet counting for RFC 5424, and a new
	// connection after the receiver drops one
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	accept := func() net.Conn {
		t.Helper()
		select {
		case c := <-conns:
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no TCP connection")
			return nil
		}
	}
	luna, _ := NewSyslogSink("tcp://"+ln.Addr().String(), FormatLuna)
	defer luna.Close()
	for i := 0; i < 2; i++ {
		if err := luna.WriteLog(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	c := accept()
	r := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		check(strings.TrimSuffix(line, "\n"), event.SourceLunaSyslog)
	}
	c.Close()
	// the sink finds the connection gone and opens a new one (a line may be lost on
	// the dead connection, as with any plain TCP syslog)
	var c2 net.Conn
	for i := 0; i < 50 && c2 == nil; i++ {
		_ = luna.WriteLog(ctx, rec)
		select {
		case c2 = <-conns:
		case <-time.After(20 * time.Millisecond):
		}
	}
	if c2 == nil {
		t.Fatal("the sink did not reconnect")
	}
	c2.Close()

	s5, _ := NewSyslogSink("tcp://"+ln.Addr().String(), FormatRFC5424)
	defer s5.Close()
	if err := s5.WriteLog(ctx, rec); err != nil {
		t.Fatal(err)
	}
	c3 := accept()
	defer c3.Close()
	r3 := bufio.NewReader(c3)
	lenText, err := r3.ReadString(' ')
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(lenText))
	if err != nil {
		t.Fatalf("octet count %q", lenText)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r3, frame); err != nil {
		t.Fatal(err)
	}
	check(string(frame), event.SourceRFC5424)

	for _, bad := range []string{"http://x:1", "udp://nohost", "udp://h:1 x"} {
		if _, err := NewSyslogSink(bad, ""); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, err := NewSyslogSink("udp://127.0.0.1:514", "json"); err == nil {
		t.Error("format json accepted")
	}
}

// TestFleetMemory starts 1,000 simulated HSMs (500 Dinamo, 500 Luna), each with its own
// agent on its own port, checks that a sample of them answer, and that the heap stays
// under 1 GB. It prints the figures.
func TestFleetMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 500
	users := []UserConfig{{Name: "ops", AuthPass: "authpass-ops", PrivPass: "privpass-ops"}}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	gBefore := runtime.NumGoroutine()
	no := false
	cfg := &FleetConfig{Seed: 9, Activity: &no, HSMs: []HSMConfig{
		{Vendor: VendorDinamo, Addr: "127.0.0.1:0", Count: n},
		{Vendor: VendorLuna, Addr: "127.0.0.1:0", Count: n, Users: users},
	}}
	f, err := NewFleet(cfg, FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	members := f.Members()
	if len(members) != 2*n {
		t.Fatalf("%d members", len(members))
	}
	oids := 0
	serials, hosts := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		oids += m.Device.Tree().Len()
		info := m.Device.Info()
		if serials[info.Vendor+info.Serial] || hosts[info.Host] && info.Vendor == VendorLuna {
			t.Errorf("%s: serial %s or host %s used twice", info.Name, info.Serial, info.Host)
		}
		serials[info.Vendor+info.Serial], hosts[info.Host] = true, true
	}
	// a sample answers: every 50th HSM, v2c for the Dinamos, v3 authPriv for the Lunas
	for i := 0; i < len(members); i += 50 {
		m := members[i]
		host, port, _ := net.SplitHostPort(m.Addr())
		p, _ := strconv.Atoi(port)
		g := &gosnmp.GoSNMP{Target: host, Port: uint16(p), Timeout: 2 * time.Second, Retries: 1, Version: gosnmp.Version2c, Community: "public"}
		if m.Device.Info().Vendor == VendorLuna {
			g.Version, g.SecurityModel, g.MsgFlags = gosnmp.Version3, gosnmp.UserSecurityModel, gosnmp.AuthPriv
			g.SecurityParameters = &gosnmp.UsmSecurityParameters{UserName: "ops", AuthenticationProtocol: gosnmp.SHA,
				AuthenticationPassphrase: "authpass-ops", PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: "privpass-ops"}
		}
		if err := g.Connect(); err != nil {
			t.Fatal(err)
		}
		res, err := g.Get([]string{".1.3.6.1.2.1.1.5.0"})
		g.Conn.Close()
		if err != nil || len(res.Variables) != 1 || res.Variables[0].Type != gosnmp.OctetString {
			t.Fatalf("%s (%s): %v %v", m.Device.Info().Name, m.Addr(), err, res)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := after.HeapInuse
	fmt.Printf("fleet of %d HSMs (%d Dinamo, %d Luna), %d OIDs: heap in use %.1f MiB (%.1f MiB before), "+
		"memory from the OS %.1f MiB, %d goroutines\n", len(members), n, n, oids,
		float64(heap)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(after.Sys)/(1<<20), runtime.NumGoroutine()-gBefore)
	if heap >= 1<<30 {
		t.Errorf("heap in use %d bytes: 1,000 HSMs must fit in 1 GB", heap)
	}
	if after.Sys >= 1<<30 {
		t.Errorf("memory obtained from the OS %d bytes: 1,000 HSMs must fit in 1 GB", after.Sys)
	}
}

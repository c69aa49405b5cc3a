package poller

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hsmwatch/hsmwatch/internal/event"
	"github.com/hsmwatch/hsmwatch/internal/sim"
)

// TestV3Protocols: every USM authentication and privacy protocol gosnmp offers, and the
// three security levels, against users of the simulated Luna configured with them.
func TestV3Protocols(t *testing.T) {
	auths := []string{"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"}
	privs := []string{"DES", "AES", "AES192", "AES256", "AES192C", "AES256C"}
	var users []sim.UserConfig
	var targets []Target
	add := func(name, auth, authPass, priv, privPass string) {
		users = append(users, sim.UserConfig{Name: name, Auth: auth, AuthPass: authPass, Priv: priv, PrivPass: privPass})
		targets = append(targets, Target{User: name, AuthProto: auth, AuthPass: authPass, PrivProto: priv, PrivPass: privPass})
	}
	for _, a := range auths {
		for _, p := range privs {
			add("u-"+a+"-"+p, a, "auth-"+a+"-pass", p, "priv-"+p+"-pass")
		}
		add("u-"+a, a, "auth-"+a+"-only", "", "")
	}
	add("u-none", "", "", "", "")
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig(users...))
	addr := f.Members()[0].Addr()
	tb := projectMIBs(t)
	for _, tg := range targets {
		tg.Addr = addr
		p := newPoller(t, Options{Target: tg, MIB: tb, Now: clock.Now})
		r, err := p.Poll(t.Context())
		if err != nil {
			t.Errorf("%s: %v", tg, err)
			continue
		}
		if r.Profile != ProfileLunaNetwork || r.Host != "myLuna" || r.Status.String() != "OK" {
			t.Errorf("%s: profile %s host %s status %s", tg, r.Profile, r.Host, r.Status)
		}
	}
	if want := "127.0.0.1:1 v3 user u authPriv SHA512/AES256C"; (Target{Addr: "127.0.0.1:1", User: "u", AuthProto: "sha512",
		AuthPass: "12345678", PrivProto: "aes-256c", PrivPass: "12345678"}).String() != want {
		t.Errorf("String: want %s", want)
	}
}

// TestV3WrongKeys: wrong passphrases, an unknown user and a level the user does not
// have each give an error of kind auth, quickly, that says what to check and shows no
// passphrase.
func TestV3WrongKeys(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, lunaConfig())
	addr := f.Members()[0].Addr()
	zero := 0
	for _, c := range []struct {
		name string
		tg   Target
		want string
	}{
		{"wrong auth passphrase", Target{User: lunaUser, AuthPass: "wrong-auth-pass", PrivPass: lunaPriv}, "authentication protocol (SHA) and passphrase"},
		{"wrong priv passphrase", Target{User: lunaUser, AuthPass: lunaAuth, PrivPass: "wrong-priv-pass"}, "privacy protocol (AES) and passphrase"},
		{"wrong auth protocol", Target{User: lunaUser, AuthProto: "SHA256", AuthPass: lunaAuth, PrivPass: lunaPriv}, "authentication protocol (SHA256)"},
		{"unknown user", Target{User: "mallory", AuthPass: lunaAuth, PrivPass: lunaPriv}, "user name (mallory)"},
		{"lower level", Target{User: lunaUser, AuthPass: lunaAuth}, "security level (authNoPriv)"},
	} {
		c.tg.Addr, c.tg.Timeout, c.tg.Retries = addr, 2*time.Second, &zero
		var logs bytes.Buffer
		p := newPoller(t, Options{Target: c.tg, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		start := time.Now()
		r, err := p.Poll(t.Context())
		took := time.Since(start)
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != ErrAuth || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), addr+": ") {
			t.Errorf("%s: %v (%T), want kind auth and %q", c.name, err, err, c.want)
			continue
		}
		if took > time.Second {
			t.Errorf("%s: took %v: an authentication failure is no timeout", c.name, took)
		}
		js, _ := json.Marshal(r)
		for _, secret := range []string{c.tg.AuthPass, c.tg.PrivPass} {
			if secret == "" {
				continue
			}
			for what, s := range map[string]string{"error": err.Error(), "result": string(js), "log": logs.String(),
				"cause": errors.Unwrap(err).Error(), "target": c.tg.String()} {
				if strings.Contains(s, secret) {
					t.Errorf("%s: the %s shows a passphrase: %s", c.name, what, s)
				}
			}
		}
		if len(r.Events) != 1 || r.Events[0].Fields.Text("metric") != MetricResponse || r.Events[0].Fields.Text("state") != "critical" {
			t.Errorf("%s: events %v", c.name, r.Events)
		}
	}
}

// silentPort is a UDP port that is bound but never answers (no ICMP unreachable: the
// socket exists), as a host whose agent hangs.
func silentPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().String()
}

// TestTimeout: against a port where nothing answers, a poll gives up after timeout x
// (retries + 1), not later, with an error of kind no-answer that says what to check.
func TestTimeout(t *testing.T) {
	addr := silentPort(t)
	const timeout = 150 * time.Millisecond
	for _, c := range []struct {
		retries int
		tg      Target
	}{
		{0, dinamoTarget(addr)},
		{1, dinamoTarget(addr)},
		{2, dinamoTarget(addr)},
		{1, lunaTarget(addr)},
	} {
		c.tg.Timeout, c.tg.Retries = timeout, &c.retries
		p := newPoller(t, Options{Target: c.tg})
		start := time.Now()
		_, err := p.Poll(t.Context())
		took := time.Since(start)
		limit := timeout * time.Duration(c.retries+1)
		var pe *Error
		if !errors.As(err, &pe) || pe.Kind != ErrNoAnswer || !strings.Contains(err.Error(), fmt.Sprintf("x %d tries", c.retries+1)) {
			t.Errorf("%s retries %d: %v", c.tg, c.retries, err)
		}
		// A little over the limit for the scheduler, never a second request's worth.
		if took < limit-timeout/10 || took > limit+100*time.Millisecond {
			t.Errorf("%s retries %d: gave up after %v, want %v", c.tg, c.retries, took, limit)
		}
	}
}

// TestRefused: a closed port answers with ICMP port unreachable: an error at once.
func TestRefused(t *testing.T) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0") // take a port and free it
	if err != nil {
		t.Fatal(err)
	}
	closed := c.LocalAddr().String()
	c.Close()
	p := newPoller(t, Options{Target: Target{Addr: closed, Community: "public", Timeout: 2 * time.Second}})
	start := time.Now()
	_, err = p.Poll(t.Context())
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != ErrRefused || !strings.Contains(err.Error(), "nothing listens there") {
		t.Errorf("closed port: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("closed port: %v", took)
	}
}

// TestNoAnswerRaisesAndClears: an agent that stops answering raises snmp_response once;
// when it answers again a clear follows. Health items keep their alarms meanwhile.
func TestNoAnswerRaisesAndClears(t *testing.T) {
	clock := sim.NewManual(t0)
	f := testFleet(t, clock, dinamoConfig())
	m := f.Members()[0]
	zero := 0
	tg := dinamoTarget(m.Addr())
	tg.Timeout, tg.Retries = 100*time.Millisecond, &zero
	p := newPoller(t, Options{Target: tg, MIB: projectMIBs(t), Now: clock.Now})
	pl := newPipeline(t)
	poll(t, p)
	// The same agent with another community: it no longer answers us.
	p.Close()
	p.opts.Target.Community = "not-public"
	var steps []step
	for i := 0; i < 2; i++ {
		r, err := p.Poll(t.Context())
		if err == nil {
			t.Fatal("an agent with another community answered")
		}
		steps = append(steps, pl.feed(t, r.Events)...)
	}
	p.Close() // a new client with the right community
	p.opts.Target.Community = "public"
	steps = append(steps, pl.feed(t, poll(t, p).Events)...)
	want := []step{{"snmppoll.no-response", event.True, "opened"}, {"snmppoll.no-response", event.False, "cleared"}}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("events became %+v, want %+v", steps, want)
	}
}

func TestTargetValidate(t *testing.T) {
	for _, c := range []struct {
		tg   Target
		want string
	}{
		{Target{}, "no address"},
		{Target{Addr: "h:0"}, "HOST:PORT"},
		{Target{Addr: "h", Version: "3"}, "needs a user"},
		{Target{Addr: "h", User: "u", PrivPass: "12345678"}, "needs an authentication passphrase"},
		{Target{Addr: "h", User: "u", AuthPass: "short"}, "fewer than 8"},
		{Target{Addr: "h", User: "u", AuthPass: "12345678", AuthProto: "SHA3"}, "MD5, SHA"},
		{Target{Addr: "h", User: "u", AuthPass: "12345678", PrivPass: "12345678", PrivProto: "ROT13"}, "DES, AES"},
		{Target{Addr: "h", Version: "4"}, "use 2c or 3"},
	} {
		err := c.tg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.tg, err, c.want)
		}
	}
	for _, addr := range []string{"hsm1", "hsm1:1161", "10.0.0.1", "[::1]:161", "::1", "[fe80::1]"} {
		if err := (&Target{Addr: addr}).Validate(); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if s := (Target{Addr: "::1", Community: "secret-community"}).String(); s != "[::1]:161 v2c" {
		t.Errorf("String %q", s)
	}
	_, err := New(Options{Target: Target{Addr: "h", User: "u", AuthPass: "sec"}})
	if err == nil || strings.Contains(err.Error(), "sec\"") {
		t.Errorf("New: %v", err)
	}
}

// TestCommonWordCommunity: a community that is a common word ("wrong") is never hidden by
// its text: the hint that speaks of "a wrong community" reads as written, and the
// community itself appears nowhere else in the message.
func TestCommonWordCommunity(t *testing.T) {
	quiet, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	zero := 0
	p := newPoller(t, Options{Target: Target{Addr: quiet.LocalAddr().String(), Community: "wrong",
		Timeout: 100 * time.Millisecond, Retries: &zero}})
	_, err = p.Poll(t.Context())
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != ErrNoAnswer {
		t.Fatalf("silent agent: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "an agent does not answer a wrong community") || strings.Contains(msg, "***") {
		t.Fatalf("message garbled: %q", msg)
	}
	if n := strings.Count(msg, "wrong"); n != 1 {
		t.Fatalf("%q shows the word %d times", msg, n)
	}
}
